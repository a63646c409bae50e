// OAuth consent and Connected apps in headless Chromium (puppeteer-core, as gallery.test.mjs):
// a client registered with a loopback redirect URI (a small server of this test) sends the
// browser to /oauth/authorize; the person signs in with a key's token and approves, and the
// browser lands on the client's callback with a code (so the consent page's CSP lets the form's
// redirect reach the client); a second request is denied (error=access_denied); signed in to the
// gallery, the consent page asks only for approval; Connected apps lists the grant and Revoke
// ends it (its token then gets 401). No CSP violations, no page errors. Screenshots go to
// target/artifacts/oauth-*.png.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startHarness } from "../e2e/harness.mjs";
import { authorizeUrl, callTool, pkce, register, tokenRequest } from "../e2e/support/oauth.mjs";
import { launchChromium, screenshots } from "./support.mjs";

const STEP_TIMEOUT_MS = 20000;
const ALICE = "alice-token-browser-oauth1";

describe("OAuth consent and Connected apps in headless Chromium", { timeout: 240000 }, () => {
  let h;
  let page;
  let closeBrowser;
  let callback; // the client's redirect target: a loopback page that shows what it received
  let redirectUri;
  let clientId;
  let accessToken;
  const shots = screenshots("oauth");
  const problems = [];

  before(async () => {
    h = await startHarness({ vars: { API_KEYS: `alice:${ALICE}`, IMAGE_BACKEND: "preview" } });
    callback = http.createServer((req, res) => {
      // /start?to=<url>: a page of another site (localhost, where the worker is 127.0.0.1) with a
      // link to the authorization request, as an app's page such as claude.ai starts it.
      const start = new URL(req.url, "http://localhost");
      if (start.pathname === "/start") {
        const to = start.searchParams.get("to").replaceAll("&", "&amp;").replaceAll('"', "&quot;");
        return res.writeHead(200, { "Content-Type": "text/html" }).end(`<!doctype html><title>App</title><a id="go" href="${to}">Connect</a>`);
      }
      res.writeHead(200, { "Content-Type": "text/html" }).end("<!doctype html><title>Client callback</title><h1>Client callback</h1>");
    });
    await new Promise((resolve) => callback.listen(0, "127.0.0.1", resolve));
    redirectUri = `http://127.0.0.1:${callback.address().port}/callback`;
    clientId = (await register(h, { redirectUris: [redirectUri], name: "Browser Test App" })).client_id;
    ({ page, close: closeBrowser } = await launchChromium("oauth", {
      problems,
      stepTimeoutMs: STEP_TIMEOUT_MS,
      viewport: { width: 1100, height: 800 },
    }));
  });

  after(async () => {
    await closeBrowser?.();
    await h?.dispose();
    await new Promise((resolve) => (callback ? callback.close(resolve) : resolve()));
    shots.save({ quiet: true });
  });

  const shoot = (t, name) => shots.shoot(t, page, name);

  function newRequest(state) {
    const pair = pkce();
    const url = authorizeUrl(h, {
      response_type: "code",
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: pair.challenge,
      code_challenge_method: "S256",
      state,
      scope: "images:read images:write",
    });
    return { url, pair };
  }

  it("signs in on the consent page and approves; the browser reaches the client with a code", async (t) => {
    const { url, pair } = newRequest("browser-approve");
    const response = await page.goto(url.href);
    assert.equal(response.status(), 200);
    const csp = response.headers()["content-security-policy"];
    assert.match(csp, /script-src 'self'/);
    assert.ok(csp.includes(`form-action 'self' http://127.0.0.1:${callback.address().port}`), csp);
    assert.match(await page.$eval("h1", (el) => el.textContent), /Connect Browser Test App/);
    assert.match(await page.content(), /images:write/);
    assert.equal((await page.$$("input[name=token]")).length, 1);
    await shoot(t, "1-consent");
    await page.locator("#token").fill(ALICE);
    await Promise.all([page.waitForNavigation(), page.click("button[value=approve]")]);
    const landed = new URL(page.url());
    assert.equal(landed.origin + landed.pathname, redirectUri);
    assert.equal(landed.searchParams.get("state"), "browser-approve");
    assert.equal(landed.searchParams.get("iss"), h.origin);
    await shoot(t, "2-client-callback");
    const exchanged = await tokenRequest(h, {
      grant_type: "authorization_code",
      code: landed.searchParams.get("code"),
      redirect_uri: redirectUri,
      code_verifier: pair.verifier,
      client_id: clientId,
    });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    accessToken = exchanged.body.access_token;
    assert.equal((await callTool(h, accessToken, "get_usage")).status, 200);
  });

  it("denies: the browser reaches the client with error=access_denied", async (t) => {
    const { url } = newRequest("browser-deny");
    await page.goto(url.href);
    await Promise.all([page.waitForNavigation(), page.click("button[value=deny]")]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get("error"), "access_denied");
    assert.equal(landed.searchParams.get("state"), "browser-deny");
    assert.equal(landed.searchParams.get("code"), null);
    await shoot(t, "3-denied");
  });

  it("someone signed in to the gallery only approves", async (t) => {
    await page.goto(`${h.origin}/gallery`);
    await page.locator("#token").fill(ALICE);
    await Promise.all([page.waitForNavigation(), page.click("form[action='/gallery/login'] button[type=submit]")]);
    const { url } = newRequest("signed-in");
    await page.goto(url.href);
    assert.equal(await page.$("input[name=token]"), null, "no token field when signed in");
    assert.match(await page.content(), /signed in as <strong>alice<\/strong>/);
    await shoot(t, "4-consent-signed-in");
  });

  it("someone signed in who arrives from another site (the app's page) also only approves", async (t) => {
    // Still signed in from the test above. A cross-site navigation does not carry the gallery's
    // SameSite=Strict cookie; the consent page reloads itself once so that it does.
    const { url } = newRequest("cross-site");
    const start = `http://localhost:${callback.address().port}/start?to=${encodeURIComponent(url.href)}`;
    await page.goto(start);
    assert.notEqual(new URL(start).hostname, new URL(h.origin).hostname, "the start page is another site");
    await Promise.all([
      page.waitForFunction(() => location.pathname === "/gallery/authorize" && document.querySelector("form button[value=approve]")),
      page.click("#go"),
    ]);
    assert.equal(await page.$("input[name=token]"), null, "no token field when signed in");
    assert.match(await page.content(), /signed in as <strong>alice<\/strong>/);
    await shoot(t, "4b-consent-signed-in-cross-site");
    await Promise.all([page.waitForNavigation(), page.click("button[value=approve]")]);
    const back = new URL(page.url());
    assert.equal(back.origin + back.pathname, redirectUri);
    assert.ok(back.searchParams.get("code"), page.url());
    assert.equal(back.searchParams.get("state"), "cross-site");
  });

  it("Connected apps lists the grant; Revoke ends it", async (t) => {
    await page.goto(`${h.origin}/gallery/apps`);
    const rows = await page.$$eval(".apps tbody tr", (trs) => trs.map((tr) => tr.textContent));
    assert.equal(rows.length, 1, rows.join(" | "));
    assert.match(rows[0], /Browser Test App/);
    assert.match(rows[0], /images:read images:write/);
    await shoot(t, "5-connected-apps");
    await Promise.all([page.waitForNavigation(), page.click(".apps button[type=submit]")]);
    assert.equal(new URL(page.url()).pathname, "/gallery/apps");
    assert.match(await page.$eval(".empty", (el) => el.textContent), /No connected apps/);
    await shoot(t, "6-revoked");
    assert.equal((await callTool(h, accessToken, "get_usage")).status, 401, "the revoked grant's token is refused");
  });

  it("had no CSP violations or page errors", () => {
    assert.deepEqual(problems, []);
  });
});
