// The gallery's download link, search box and Delete button over plain HTTP (issue 18, items 7
// and 8; tests/browser/gallery-delete.test.mjs clicks them in Chromium): the download is the R2
// object's exact bytes as an attachment named after the prompt; the search takes its text
// literally (`%` and `_` are characters), is bounded, kept in the page's URL and pager links,
// and sees only the viewer's own jobs; Delete is a same-site POST of a signed-in person that
// removes what delete_image removes, refuses another key's job as not found, refuses other
// sites, and leaves a tombstone the image page shows as deleted.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { callTool, keyFromWorkerUrl, uniq } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import { postLogin, sessionSetCookie, COOKIE_NAME, getPage, tileIds, isSignInForm } from "./support/gallery.mjs";

const KEYS = {
  alice: "alice-token-7f3a9c2e5b1d",
  bob: "bob-token-4e8d2a6c9f0b",
};

async function signInAs(h, token) {
  const res = await postLogin(h, { token });
  await res.arrayBuffer();
  assert.equal(res.status, 303);
  return `${COOKIE_NAME}=${sessionSetCookie(res).value}`;
}

function postDelete(h, jobId, cookie, headers = {}) {
  return h.fetch(`/gallery/image/${jobId}/delete`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: h.origin, Cookie: cookie, ...headers },
    body: "",
  });
}

describe("gallery: download, search and delete over HTTP", () => {
  const h = useHarness({
    vars: {
      API_KEYS: apiKeys(KEYS),
    },
  });
  const tag = uniq("gds");
  let alice;
  let bob;
  let aliceCookie;
  let bobCookie;
  const made = {};

  before(async () => {
    alice = await h.mcpClient({ token: KEYS.alice });
    bob = await h.mcpClient({ token: KEYS.bob });
    for (const [name, client, prompt] of [
      ["percent", alice, `A 100% Red Fox, at dusk ${tag}`],
      ["wildcard", alice, `a 100x red fox in snow ${tag}`],
      ["underscore", alice, `snake_case lettering ${tag}`],
      ["nonascii", alice, `日本の風景 ${tag}`],
      ["bobs", bob, `bob's red fox ${tag}`],
    ]) {
      const { result, data } = await callTool(client, "generate_image_and_wait", { prompt });
      assert.equal(result.isError, undefined, JSON.stringify(data));
      made[name] = { jobId: data.job_id, prompt, key: keyFromWorkerUrl(data.image_url) };
    }
    aliceCookie = await signInAs(h, KEYS.alice);
    bobCookie = await signInAs(h, KEYS.bob);
  });

  it("the image page links the download; it is the stored file, as an attachment named after the prompt", async () => {
    const { jobId, key } = made.percent;
    const { html } = await getPage(h, `/gallery/image/${jobId}`, aliceCookie);
    assert.ok(html.includes(`href="/gallery/image/${jobId}/download" download>Download</a>`), html.slice(0, 3000));
    const res = await h.fetch(`/gallery/image/${jobId}/download`, { headers: { Cookie: aliceCookie } });
    assert.equal(res.status, 200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const stored = await h.r2Bytes(key);
    assert.deepEqual(bytes, stored.bytes, "exactly the R2 object's bytes");
    assert.equal(res.headers.get("content-type"), stored.httpMetadata.contentType);
    assert.equal(Number(res.headers.get("content-length")), stored.bytes.length);
    const extension = key.split(".").pop();
    assert.equal(res.headers.get("content-disposition"), `attachment; filename="a-100-red-fox-at-dusk-${tag}.${extension}"`);
    assert.equal(res.headers.get("cache-control"), "private, no-store");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  });

  it("a prompt without ASCII letters gets an ASCII fallback name and a UTF-8 filename*", async () => {
    const { jobId, key } = made.nonascii;
    const res = await h.fetch(`/gallery/image/${jobId}/download`, { headers: { Cookie: aliceCookie } });
    await res.arrayBuffer();
    const extension = key.split(".").pop();
    const disposition = res.headers.get("content-disposition");
    assert.equal(
      disposition,
      `attachment; filename="${tag}.${extension}"; filename*=UTF-8''${encodeURIComponent(`日本の風景-${tag}`)}.${extension}`,
    );
  });

  it("downloads need a session and the viewer's own job", async () => {
    const { jobId } = made.percent;
    const anonymous = await getPage(h, `/gallery/image/${jobId}/download`);
    assert.equal(anonymous.res.status, 200);
    assert.ok(isSignInForm(anonymous.html), "without a session: the sign-in form");
    assert.equal(anonymous.res.headers.get("content-disposition"), null);
    const other = await getPage(h, `/gallery/image/${jobId}/download`, bobCookie);
    assert.equal(other.res.status, 404, "another key's job is not found");
    assert.equal(other.res.headers.get("content-disposition"), null);
  });

  it("search matches prompts literally: % and _ are characters; ASCII case is ignored; only the viewer's jobs", async () => {
    const search = async (q, cookie = aliceCookie) => {
      const { res, html } = await getPage(h, `/gallery?q=${encodeURIComponent(q)}`, cookie);
      assert.equal(res.status, 200);
      return { ids: tileIds(html), html };
    };
    assert.deepEqual((await search(`100% ${"red"}`)).ids, [made.percent.jobId], "% is not a wildcard");
    assert.deepEqual((await search("e_c")).ids, [made.underscore.jobId], "_ is not a wildcard");
    const fox = await search("RED FOX");
    assert.deepEqual(fox.ids.sort(), [made.percent.jobId, made.wildcard.jobId].sort(), "case-insensitive; bob's fox not shown");
    assert.ok(fox.html.includes('name="q" value="RED FOX"'), "the search box keeps the search");
    assert.ok(fox.html.includes("2 matching jobs"), fox.html.slice(0, 3000));
    assert.deepEqual((await search("red fox", bobCookie)).ids, [made.bobs.jobId]);
    assert.deepEqual((await search("風景")).ids, [made.nonascii.jobId]);
    const none = await search("no such prompt anywhere");
    assert.deepEqual(none.ids, []);
    assert.match(none.html, /No job matches these filters/);
  });

  it("the search is bounded by D1's 50-byte LIKE pattern (48 bytes of text), and an HTML-looking search is shown escaped", async () => {
    const long = await getPage(h, `/gallery?q=${"x".repeat(49)}`, aliceCookie);
    assert.equal(long.res.status, 400);
    assert.match(long.html, /at most 48 bytes of text/);
    const ok = await getPage(h, `/gallery?q=${"x".repeat(48)}`, aliceCookie);
    assert.equal(ok.res.status, 200, "the longest search D1 takes runs");
    const escapes = await getPage(h, `/gallery?q=${encodeURIComponent("%".repeat(24))}`, aliceCookie);
    assert.equal(escapes.res.status, 200, "24 escaped % fill the pattern exactly");
    const accents = await getPage(h, `/gallery?q=${encodeURIComponent("é".repeat(25))}`, aliceCookie);
    assert.equal(accents.res.status, 400, "50 bytes of é are too long");
    const tricky = await getPage(h, `/gallery?q=${encodeURIComponent('"><script>alert(1)</script>')}`, aliceCookie);
    assert.equal(tricky.res.status, 200);
    assert.ok(!tricky.html.includes("<script>alert(1)"), "never inserted as markup");
    assert.ok(tricky.html.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'));
  });

  it("Delete refuses other sites, signed-out posts and another key's job, changing nothing", async () => {
    const { jobId, key } = made.wildcard;
    const crossSite = await postDelete(h, jobId, aliceCookie, { Origin: "https://evil.example" });
    assert.equal(crossSite.status, 403);
    assert.match(await crossSite.text(), /sent from another site/);
    const signedOut = await postDelete(h, jobId, `${COOKIE_NAME}=v1.alice.1.bad`);
    assert.equal(signedOut.status, 403);
    assert.ok(isSignInForm(await signedOut.text()));
    const others = await postDelete(h, jobId, bobCookie);
    assert.equal(others.status, 404);
    await others.arrayBuffer();
    const wrongMethod = await h.fetch(`/gallery/image/${jobId}/delete`, { headers: { Cookie: aliceCookie } });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "POST");
    await wrongMethod.arrayBuffer();
    assert.equal((await h.job(jobId)).status, "completed");
    assert.ok(await h.r2Bytes(key), "the image is still stored");
  });

  it("Delete by the owner: 303 to the grid, R2 emptied, tombstone shown as deleted, gone from grid and search", async () => {
    const { jobId, key } = made.wildcard;
    const row = await h.job(jobId);
    const thumbnail = row.thumbnail_url.split("/").pop();
    const res = await postDelete(h, jobId, aliceCookie);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/gallery");
    assert.equal(await h.r2Bytes(key), null);
    assert.equal(await h.r2Bytes(thumbnail), null);
    const tombstone = await h.job(jobId);
    assert.equal(tombstone.status, "deleted");
    assert.equal(tombstone.prompt, "");
    assert.equal(await h.count("generations", "job_id = ?", jobId), 0);

    const grid = await getPage(h, "/gallery", aliceCookie);
    assert.ok(!tileIds(grid.html).includes(jobId), "the grid no longer shows it");
    const filtered = await getPage(h, "/gallery?status=deleted", aliceCookie);
    assert.deepEqual(tileIds(filtered.html), [jobId], "shown only when deleted jobs are asked for");
    const page = await getPage(h, `/gallery/image/${jobId}`, aliceCookie);
    assert.equal(page.res.status, 200);
    assert.match(page.html, /<span class="badge status-deleted">deleted<\/span>/);
    assert.ok(!page.html.includes("/delete\""), "no Delete button on a tombstone");
    assert.ok(!page.html.includes("Download"), "nothing to download");
    const download = await getPage(h, `/gallery/image/${jobId}/download`, aliceCookie);
    assert.equal(download.res.status, 404);
    // A second Delete (another tab) is harmless.
    const again = await postDelete(h, jobId, aliceCookie);
    assert.equal(again.status, 303);
  });

  it("a running job's Delete is refused with the reason (409)", async () => {
    const { data } = await callTool(alice, "generate_image", { prompt: `slow [delay=3000] ${tag}` });
    const res = await postDelete(h, data.job_id, aliceCookie);
    assert.equal(res.status, 409);
    assert.match(await res.text(), /Still running/);
    await h.waitForJob(data.job_id, "completed");
  });
});
