// The gallery over plain HTTP (no browser): sign-in form, cookie attributes, refused and
// forged cookies, CSRF checks, the grid with real jobs (escaped prompts, failed jobs with their
// error), filters, pagination, the image page, sign-out, security headers, and that the token
// never shows up in a Location header, a page or a log line.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { TEST_TOKEN } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";
import {
  COOKIE_NAME,
  SESSION_SECONDS,
  EXPECTED_CSP,
  postLogin,
  sessionSetCookie,
  signIn,
  forgeCookieValue,
  getPage,
  isSignInForm,
  tileIds,
  fillGallery,
} from "./support/gallery.mjs";

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * POSTs `bytes` of a form body with chunked encoding and never ends it; resolves with the
 * response status (the server must answer without waiting for the end), or rejects after 10 s.
 */
function postUnfinishedChunkedForm(h, bytes) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: h.url.hostname,
        port: h.url.port,
        method: "POST",
        path: "/gallery/login",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: h.origin, "Transfer-Encoding": "chunked" },
      },
      (res) => {
        clearTimeout(timer);
        res.resume();
        resolve(res.statusCode);
        req.destroy();
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error("no answer while the body was still open: the server waits for the whole body"));
    }, 10000);
    req.on("error", () => {}); // the socket is torn down on purpose once the answer arrives
    req.write(`token=${TEST_TOKEN}&padding=`);
    for (let sent = 0; sent < bytes; sent += 1024) req.write("y".repeat(1024));
  });
}

describe("gallery over HTTP: sign-in, cookie, pages, security headers", () => {
  let cookie;
  let jobs;
  const h = useHarness();
  before(async () => {
    const client = await h.mcpClient();
    jobs = await fillGallery(h, client);
  });

  it("GET /gallery without a session shows the sign-in form, with the CSP and no-store", async () => {
    const { res, html } = await getPage(h, "/gallery");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.ok(isSignInForm(html), html.slice(0, 2000));
    assert.equal(res.headers.get("content-security-policy"), EXPECTED_CSP);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.deepEqual(res.headers.getSetCookie(), []);
    for (const job of [...jobs.completed, jobs.failed]) {
      assert.ok(!html.includes(job.jobId), "the sign-in page must not reveal jobs");
    }
  });

  it("a wrong token gets the form again with an error, and no cookie", async () => {
    for (const token of ["wrong-token", "", `${TEST_TOKEN}x`, TEST_TOKEN.slice(0, -1)]) {
      const res = await postLogin(h, { token });
      const html = await res.text();
      assert.equal(res.status, 403, `token ${JSON.stringify(token)}`);
      assert.ok(isSignInForm(html));
      assert.match(html, /role="alert">That token is not right/);
      assert.deepEqual(res.headers.getSetCookie(), [], `token ${JSON.stringify(token)} set a cookie`);
      assert.equal(res.headers.get("location"), null);
      if (token) assert.ok(!html.includes(token), "the page echoes the submitted token");
    }
  });

  it("the right token sets a signed HttpOnly, SameSite=Strict, 12-hour cookie (not Secure on 127.0.0.1) and 303s to /gallery", async () => {
    const res = await postLogin(h, { token: TEST_TOKEN });
    await res.arrayBuffer();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/gallery");
    const set = sessionSetCookie(res);
    assert.ok(set, `Set-Cookie: ${res.headers.getSetCookie()}`);
    assert.equal(set.attributes.httponly, true, set.raw);
    assert.equal(set.attributes.samesite, "Strict", set.raw);
    assert.equal(set.attributes.path, "/gallery", set.raw);
    assert.equal(set.attributes["max-age"], String(SESSION_SECONDS), set.raw);
    assert.equal(set.attributes.secure, undefined, `Secure on a loopback http origin would stop the cookie: ${set.raw}`);
    assert.ok(!set.raw.includes(TEST_TOKEN), "the token is in the cookie");
    const [version, subject, expires, signature] = set.value.split(".");
    assert.equal(version, "v1");
    assert.equal(subject, "admin");
    assert.ok(Math.abs(Number(expires) - (nowSeconds() + SESSION_SECONDS)) < 60, `expiry ${expires}`);
    assert.equal(set.value, forgeCookieValue(TEST_TOKEN, { expiresAt: Number(expires) }), "signature is HMAC-SHA256 over the documented input");
    assert.match(signature, /^[0-9a-f]{64}$/);
    cookie = `${COOKIE_NAME}=${set.value}`;
  });

  it("sign-in returns to a gallery page named in `next`, and never redirects elsewhere or with the token", async () => {
    const image = `/gallery/image/${jobs.completed[0].jobId}`;
    const cases = [
      [image, image],
      ["/gallery?status=failed&page=1", "/gallery?status=failed"],
      ["https://evil.example/gallery", "/gallery"],
      ["//evil.example", "/gallery"],
      ["/gallery/logout", "/gallery"],
      [`/gallery?token=${TEST_TOKEN}`, "/gallery"],
      [`/gallery/image/${TEST_TOKEN}?x=${TEST_TOKEN}`, "/gallery"],
    ];
    for (const [next, location] of cases) {
      const res = await postLogin(h, { token: TEST_TOKEN, next });
      await res.arrayBuffer();
      assert.equal(res.status, 303, next);
      assert.equal(res.headers.get("location"), location, `next=${next}`);
      assert.ok(!res.headers.get("location").includes(TEST_TOKEN), "token in Location");
    }
  });

  it("with the cookie, /gallery is the grid: every job newest first, escaped prompts, failed jobs with their error", async () => {
    const { res, html } = await getPage(h, "/gallery", cookie);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-security-policy"), EXPECTED_CSP);
    assert.ok(!isSignInForm(html));
    assert.match(html, /Signed in as admin/);
    assert.match(html, /<form method="post" action="\/gallery\/logout"/);
    const ids = tileIds(html);
    const all = [...jobs.completed, jobs.failed];
    assert.equal(ids.length, all.length, `tiles: ${ids}`);
    const rows = await h.query("SELECT id FROM generation_jobs ORDER BY created_at DESC, id DESC");
    assert.deepEqual(ids, rows.map((r) => r.id), "tiles are newest first");
    assert.ok(!html.includes('<script>alert("xss")'), "a prompt's <script> reached the page unescaped");
    assert.ok(html.includes("&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;"), "escaped prompt missing");
    assert.ok(html.includes("cherries &amp; &quot;quotes&quot;"));
    assert.ok(html.includes(`<p class="error">${jobs.failed.error}</p>`), "failed tile without its error");
    assert.equal((html.match(/<img /g) ?? []).length, jobs.completed.length, "one image per completed job");
    for (const job of jobs.completed) {
      const [row] = await h.query("SELECT image_url, thumbnail_url FROM generation_jobs WHERE id = ?", job.jobId);
      // Tiles show the thumbnail (the harness runs the Images binding), the image page the full image.
      assert.ok(row.thumbnail_url, `job ${job.jobId} has no thumbnail`);
      assert.ok(html.includes(`src="${row.thumbnail_url}"`), `tile image for ${job.jobId}`);
      const thumb = await h.fetch(row.thumbnail_url);
      assert.equal(thumb.headers.get("content-type"), "image/webp");
      assert.ok((await thumb.arrayBuffer()).byteLength > 0);
      await h.fetchImage(new URL(row.image_url, h.origin).href);
    }
    assert.ok(!/<script>/.test(html), "no inline scripts");
    assert.ok(!/ style="/.test(html), "no inline styles");
  });

  it("filters by status and model; bad filter values get a 400 page", async () => {
    const failed = await getPage(h, "/gallery?status=failed", cookie);
    assert.deepEqual(tileIds(failed.html), [jobs.failed.jobId]);
    assert.match(failed.html, /<option value="failed" selected>/);
    const sdxl = await getPage(h, "/gallery?model=sdxl-base&status=", cookie);
    assert.deepEqual(tileIds(sdxl.html), [jobs.completed.find((j) => j.model === "sdxl-base").jobId]);
    const both = await getPage(h, "/gallery?model=sdxl-base&status=failed", cookie);
    assert.deepEqual(tileIds(both.html), []);
    assert.match(both.html, /No job matches these filters/);
    for (const query of ["page=0", "page=x", "page=10001", "model=dall-e", "status=done"]) {
      const bad = await getPage(h, `/gallery?${query}`, cookie);
      assert.equal(bad.res.status, 400, query);
      assert.match(bad.html, /Invalid filter/);
    }
    const hostile = await getPage(h, `/gallery?model=${encodeURIComponent("<script>x</script>")}`, cookie);
    assert.equal(hostile.res.status, 400);
    assert.ok(!hostile.html.includes("<script>x"), "a filter value reached the page unescaped");
  });

  it("the image page shows the full image, prompt, model, times, the copy button and the raw file link", async () => {
    const job = jobs.completed[0];
    const [row] = await h.query("SELECT * FROM generation_jobs WHERE id = ?", job.jobId);
    const { res, html } = await getPage(h, `/gallery/image/${job.jobId}`, cookie);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-security-policy"), EXPECTED_CSP);
    assert.ok(html.includes(`<figure class="full"><img src="${row.image_url}"`));
    assert.ok(html.includes("&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;"));
    assert.ok(!html.includes('<script>alert("xss")'));
    assert.match(html, /<dt>Model<\/dt><dd>flux-schnell<\/dd>/);
    // Seed, size and parameters as the job row has them ("—" where it has none).
    assert.ok(html.includes(`<dt>Seed</dt><dd>${row.seed ?? "—"}</dd>`), `seed ${row.seed}`);
    const size = row.width && row.height ? `${row.width} × ${row.height} px` : "—";
    assert.ok(html.includes(`<dt>Size</dt><dd>${size}</dd>`), `size ${size}`);
    const parameters = JSON.parse(row.parameters ?? "{}");
    for (const [name, value] of Object.entries(parameters)) {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      assert.ok(html.includes(`<li><code>${name}</code>: ${text}</li>`), `parameter ${name}`);
    }
    assert.match(html, /<dt>Created<\/dt><dd><time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">/);
    assert.match(html, /data-copy="prompt" hidden>Copy prompt<\/button>/);
    assert.ok(html.includes(`<a href="${row.image_url}">Open the original file</a>`));
    assert.match(html, /<script src="\/gallery\/app.js" defer><\/script>/);
  });

  it("a failed job's page shows its error; unknown and malformed ids are 404 pages", async () => {
    const failed = await getPage(h, `/gallery/image/${jobs.failed.jobId}`, cookie);
    assert.equal(failed.res.status, 200);
    assert.ok(failed.html.includes(`<dt>Error</dt><dd><span class="error">${jobs.failed.error}</span></dd>`));
    assert.ok(!failed.html.includes("Open the original file"));
    for (const path of ["/gallery/image/00000000-0000-4000-8000-000000000000", "/gallery/image/a%2Fb", "/gallery/nope"]) {
      const { res, html } = await getPage(h, path, cookie);
      assert.equal(res.status, 404, path);
      assert.match(html, /Not found/);
      assert.equal(res.headers.get("content-security-policy"), EXPECTED_CSP);
    }
  });

  it("an image page without a session shows the form, which returns to that page", async () => {
    const path = `/gallery/image/${jobs.completed[1].jobId}`;
    const { res, html } = await getPage(h, path);
    assert.equal(res.status, 200);
    assert.ok(isSignInForm(html));
    assert.ok(html.includes(`<input type="hidden" name="next" value="${path}">`));
    assert.ok(!html.includes(jobs.completed[1].prompt.split(" ").slice(0, 4).join(" ")), "prompt shown before sign-in");
  });

  it("tampered, expired, over-long, wrongly keyed or malformed cookies are refused", async () => {
    const value = cookie.slice(COOKIE_NAME.length + 1);
    const [version, subject, expires, signature] = value.split(".");
    const now = nowSeconds();
    const flip = (s) => s.slice(0, -2) + (s.at(-2) === "0" ? "1" : "0") + s.at(-1);
    const refused = {
      "expiry changed": `${version}.${subject}.${Number(expires) + 1}.${signature}`,
      "subject changed": `${version}.root.${expires}.${signature}`,
      "signature changed": `${version}.${subject}.${expires}.${flip(signature)}`,
      "expired, correctly signed": forgeCookieValue(TEST_TOKEN, { expiresAt: now - 5 }),
      "a week long, correctly signed": forgeCookieValue(TEST_TOKEN, { expiresAt: now + 7 * 86400 }),
      "signed with another key": forgeCookieValue("some-other-token", { expiresAt: now + 3600 }),
      "no signature": `${version}.${subject}.${expires}`,
      "upper-case signature": `${version}.${subject}.${expires}.${signature.toUpperCase()}`,
      garbage: "<script>",
    };
    for (const [what, bad] of Object.entries(refused)) {
      const { res, html } = await getPage(h, "/gallery", `${COOKIE_NAME}=${bad}`);
      assert.equal(res.status, 200, what);
      assert.ok(isSignInForm(html), `${what}: the grid was shown`);
    }
    // The same format signed independently in Node is accepted: the server's HMAC is the documented one.
    const forged = forgeCookieValue(TEST_TOKEN, { expiresAt: now + 600 });
    assert.ok(!isSignInForm((await getPage(h, "/gallery", `${COOKIE_NAME}=${forged}`)).html));
    // One bad cookie beside a good one does not lock the person out.
    const mixed = await getPage(h, "/gallery", `other=1; ${COOKIE_NAME}=garbage; ${cookie}`);
    assert.ok(!isSignInForm(mixed.html));
  });

  it("sign-in and sign-out POSTs from another site are refused (Origin, Sec-Fetch-Site)", async () => {
    const crossSite = [
      { Origin: "https://evil.example" },
      { Origin: "null" },
      { Origin: h.origin, "Sec-Fetch-Site": "cross-site" },
      { Origin: h.origin, "Sec-Fetch-Site": "same-site" },
    ];
    for (const headers of crossSite) {
      const res = await postLogin(h, { token: TEST_TOKEN }, { headers });
      const html = await res.text();
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.match(html, /Request refused/);
      assert.deepEqual(res.headers.getSetCookie(), []);
      const out = await h.fetch("/gallery/logout", { method: "POST", redirect: "manual", headers: { Cookie: cookie, ...headers } });
      await out.arrayBuffer();
      assert.equal(out.status, 403, `logout ${JSON.stringify(headers)}`);
      assert.deepEqual(out.headers.getSetCookie(), []);
    }
    const sameOrigin = await postLogin(h, { token: TEST_TOKEN }, { headers: { "Sec-Fetch-Site": "same-origin" } });
    await sameOrigin.arrayBuffer();
    assert.equal(sameOrigin.status, 303);
  });

  it("the sign-in form must be urlencoded and small; other methods get 405", async () => {
    const json = await h.fetch("/gallery/login", {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/json", Origin: h.origin },
      body: JSON.stringify({ token: TEST_TOKEN }),
    });
    await json.arrayBuffer();
    assert.equal(json.status, 415);
    assert.deepEqual(json.headers.getSetCookie(), []);
    const big = await postLogin(h, { token: TEST_TOKEN, padding: "x".repeat(5000) });
    await big.arrayBuffer();
    assert.equal(big.status, 413);
    assert.deepEqual(big.headers.getSetCookie(), []);
    // Chunked (no Content-Length): the limit holds while reading. The body is never finished,
    // so a 413 proves the server stopped reading at the limit instead of buffering it all.
    assert.equal(await postUnfinishedChunkedForm(h, 6 * 1024), 413);
    for (const [method, path] of [["GET", "/gallery/login"], ["GET", "/gallery/logout"], ["POST", "/gallery"], ["DELETE", "/gallery/style.css"]]) {
      const res = await h.fetch(path, { method, redirect: "manual", headers: { Origin: h.origin } });
      await res.arrayBuffer();
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.ok(res.headers.get("allow"), `${method} ${path} lacks Allow`);
    }
  });

  it("serves the stylesheet and the script as files (the CSP allows no inline code)", async () => {
    const css = await h.fetch("/gallery/style.css");
    assert.equal(css.status, 200);
    assert.match(css.headers.get("content-type"), /^text\/css/);
    assert.match(await css.text(), /\.grid\{/);
    const js = await h.fetch("/gallery/app.js");
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type"), /^text\/javascript/);
    assert.match(await js.text(), /navigator\.clipboard\.writeText/);
    const slash = await h.fetch("/gallery/", { redirect: "manual" });
    await slash.arrayBuffer();
    assert.equal(slash.status, 308);
    assert.equal(slash.headers.get("location"), "/gallery");
  });

  it("the discovery page links to the gallery", async () => {
    const html = await (await h.fetch("/")).text();
    assert.match(html, /<a href="\/gallery">Open the image gallery<\/a>/);
  });

  it("sign-out clears the cookie and shows the form again", async () => {
    const res = await h.fetch("/gallery/logout", { method: "POST", redirect: "manual", headers: { Cookie: cookie, Origin: h.origin } });
    await res.arrayBuffer();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/gallery");
    const cleared = sessionSetCookie(res);
    assert.ok(cleared, "no Set-Cookie on sign-out");
    assert.equal(cleared.value, "");
    assert.equal(cleared.attributes["max-age"], "0");
    assert.equal(cleared.attributes.path, "/gallery");
    assert.equal(cleared.attributes.httponly, true);
  });

  it("the token never appears in a log line", () => {
    const leaked = h.logs.filter((l) => l.message.includes(TEST_TOKEN));
    assert.deepEqual(leaked, [], "log lines containing the token");
  });
});

describe("gallery pagination (24 per page, newest first, no overlap)", () => {
  let cookie;
  const TOTAL = 53;
  const h = useHarness();
  before(async () => {
    // Rows written straight to D1: pagination is about the query, not the pipeline (which
    // the suite above exercises). Timestamps repeat so the id tie-break matters.
    const base = Date.now() - 1_000_000;
    for (let i = 0; i < TOTAL; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
      const model = ["flux-schnell", "sdxl-lightning", "sdxl-base"][i % 3];
      await h.db
        .prepare("INSERT INTO generation_jobs (id, status, prompt, model, created_at, updated_at) VALUES (?, 'pending', ?, ?, ?, ?)")
        .bind(id, `queued prompt number ${i}`, model, base + Math.floor(i / 2) * 1000, base)
        .run();
    }
    cookie = await signIn(h);
  });

  it("pages 1-3 hold 24, 24 and 5 jobs, together every job once, newest first", async () => {
    const expected = (await h.query("SELECT id FROM generation_jobs ORDER BY created_at DESC, id DESC")).map((r) => r.id);
    const seen = [];
    for (const [page, size] of [[1, 24], [2, 24], [3, 5]]) {
      const { res, html } = await getPage(h, page === 1 ? "/gallery" : `/gallery?page=${page}`, cookie);
      assert.equal(res.status, 200);
      const ids = tileIds(html);
      assert.equal(ids.length, size, `page ${page}`);
      assert.match(html, new RegExp(`${TOTAL} jobs · page ${page} of 3`));
      seen.push(...ids);
    }
    assert.deepEqual(seen, expected);
    const page2 = (await getPage(h, "/gallery?page=2", cookie)).html;
    assert.match(page2, /rel="prev" href="\/gallery"/);
    assert.match(page2, /rel="next" href="\/gallery\?page=3"/);
    const past = await getPage(h, "/gallery?page=9", cookie);
    assert.equal(tileIds(past.html).length, 0);
    assert.match(past.html, /past the last one/);
  });

  it("pagination keeps the model filter", async () => {
    const { html } = await getPage(h, "/gallery?model=sdxl-lightning", cookie);
    const ids = tileIds(html);
    assert.equal(ids.length, 18);
    assert.match(html, /18 matching jobs · page 1 of 1/);
    assert.match(html, /Waiting to start…/);
  });
});

describe("gallery without AUTH_TOKEN", () => {
  const h = useHarness({ vars: { AUTH_TOKEN: undefined } });

  it("refuses to show anything or sign anyone in, and says why", async () => {
    const { res, html } = await getPage(h, "/gallery");
    assert.equal(res.status, 500);
    assert.match(html, /no access token configured/);
    const login = await postLogin(h, { token: "" });
    await login.arrayBuffer();
    assert.equal(login.status, 500);
    assert.deepEqual(login.headers.getSetCookie(), []);
  });
});
