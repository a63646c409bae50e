// The gallery in a real browser: headless Chromium (Debian's `chromium`, found by
// tests/browser/setup.sh) driven over CDP by puppeteer-core, against the built worker in
// Miniflare with real jobs. Signs in (a wrong token first), checks every tile image really
// loaded, filters, opens an image page (copy-prompt button included), signs out, and saves a
// screenshot of each step to target/artifacts/gallery-*.png. It also cancels a running job with
// the image page's Cancel button.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, callTool, uniq, TEST_TOKEN } from "../e2e/harness.mjs";
import { COOKIE_NAME, fillGallery } from "../e2e/support/gallery.mjs";
import { launchChromium, screenshots, signInToGallery } from "./support.mjs";

const STEP_TIMEOUT_MS = 20000;

describe("gallery in headless Chromium", { timeout: 240000 }, () => {
  let h;
  let jobs;
  let browser;
  let page;
  let closeBrowser;
  const shots = screenshots("gallery");
  const problems = []; // CSP violations, page errors, dialogs (an executed prompt would open one)

  before(async () => {
    h = await startHarness();
    jobs = await fillGallery(h, await h.mcpClient());
    ({ browser, page, close: closeBrowser } = await launchChromium("gallery", { problems, stepTimeoutMs: STEP_TIMEOUT_MS }));
    await browser
      .defaultBrowserContext()
      .overridePermissions(h.origin, ["clipboard-read", "clipboard-write", "clipboard-sanitized-write"]);
    page.on("dialog", async (dialog) => {
      problems.push(`dialog opened: ${dialog.message()}`);
      await dialog.dismiss();
    });
  });

  after(async () => {
    await closeBrowser?.();
    await h?.dispose();
    shots.save();
  });

  const shoot = (t, name) => shots.shoot(t, page, name);

  async function sessionCookies() {
    return (await browser.defaultBrowserContext().cookies()).filter((c) => c.name === COOKIE_NAME);
  }

  const submitToken = (token) => signInToGallery(page, token);

  /** Scrolls every tile image into view (later tiles load lazily) and waits until all have decoded pixels. */
  async function waitForTileImages() {
    const count = await page.$$eval(".grid img", (imgs) => imgs.length);
    for (let i = 0; i < count; i++) {
      await page.$$eval(".grid img", (imgs, index) => imgs[index].scrollIntoView({ block: "center" }), i);
    }
    await page.waitForFunction(
      () => [...document.querySelectorAll(".grid img")].every((img) => img.complete && img.naturalWidth > 0),
      { timeout: STEP_TIMEOUT_MS },
    );
    await page.evaluate(() => window.scrollTo(0, 0));
    return page.$$eval(".grid img", (imgs) => imgs.map((img) => ({ src: img.getAttribute("src"), width: img.naturalWidth })));
  }

  it("GET /gallery shows the sign-in form", async (t) => {
    const response = await page.goto(`${h.origin}/gallery`);
    assert.equal(response.status(), 200);
    assert.ok(response.headers()["content-security-policy"], "no CSP header");
    assert.ok(await page.$("form[action='/gallery/login'] input[name=token][type=password]"), "no token field");
    assert.equal(await page.$(".grid"), null, "grid shown before sign-in");
    await shoot(t, "1-sign-in");
  });

  it("a wrong token shows an error and sets no cookie", async (t) => {
    await submitToken("not-the-token");
    assert.match(await page.$eval(".alert", (el) => el.textContent), /That token is not right/);
    assert.deepEqual(await sessionCookies(), []);
    assert.ok(!page.url().includes("not-the-token"), "token in the URL");
    await shoot(t, "2-wrong-token");
  });

  it("the right token opens the grid; every tile image has loaded (naturalWidth > 0)", async (t) => {
    await submitToken(TEST_TOKEN);
    assert.equal(page.url(), `${h.origin}/gallery`, "redirected elsewhere");
    assert.ok(!page.url().includes(TEST_TOKEN), "token in the URL");
    const [cookie] = await sessionCookies();
    assert.ok(cookie, "no session cookie after signing in");
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Strict");
    assert.equal(cookie.path, "/gallery");
    assert.ok(!(await page.evaluate(() => document.cookie)).includes(COOKIE_NAME), "script can read the cookie");
    const tiles = await page.$$eval(".grid .tile", (els) => els.length);
    assert.equal(tiles, jobs.completed.length + 1);
    const images = await waitForTileImages();
    assert.equal(images.length, jobs.completed.length);
    for (const image of images) assert.ok(image.width > 0, `${image.src} did not load`);
    const failedText = await page.$eval(".tile.status-failed .error", (el) => el.textContent);
    assert.equal(failedText, jobs.failed.error);
    // The prompt with markup shows as text.
    const prompts = await page.$$eval(".tile .prompt", (els) => els.map((el) => el.textContent));
    assert.ok(prompts.includes(jobs.completed[0].prompt), `prompts: ${JSON.stringify(prompts)}`);
    await shoot(t, "3-grid");
  });

  it("filters by status and by model", async (t) => {
    await page.select("select[name=status]", "failed");
    await Promise.all([page.waitForNavigation(), page.click(".filters button[type=submit]")]);
    assert.match(page.url(), /status=failed/);
    assert.equal(await page.$$eval(".grid .tile", (els) => els.length), 1);
    assert.equal(await page.$eval(".tile .error", (el) => el.textContent), jobs.failed.error);
    await shoot(t, "4-filter-failed");

    await page.select("select[name=status]", "");
    await page.select("select[name=model]", "sdxl-lightning");
    await Promise.all([page.waitForNavigation(), page.click(".filters button[type=submit]")]);
    const shown = await page.$$eval(".tile .prompt", (els) => els.map((el) => el.textContent));
    assert.deepEqual(shown, [jobs.completed.find((j) => j.model === "sdxl-lightning").prompt]);
    assert.equal((await waitForTileImages()).length, 1);
  });

  it("opens an image page: full image loaded, prompt shown, copy button copies it", async (t) => {
    await Promise.all([page.waitForNavigation(), page.click(".brand")]);
    const target = jobs.completed[0];
    await Promise.all([page.waitForNavigation(), page.click(`a.thumb[href='/gallery/image/${target.jobId}']`)]);
    assert.equal(page.url(), `${h.origin}/gallery/image/${target.jobId}`);
    await page.waitForFunction(() => {
      const img = document.querySelector("figure.full img");
      return img && img.complete && img.naturalWidth > 0;
    });
    assert.equal(await page.$eval("#prompt", (el) => el.textContent), target.prompt);
    const facts = await page.$$eval("dl.facts dt", (dts) =>
      Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])),
    );
    assert.equal(facts.Model, target.model);
    assert.equal(facts.Status, "completed");
    const [row] = await h.query("SELECT seed, width, height FROM generation_jobs WHERE id = ?", target.jobId);
    assert.equal(facts.Seed, row.seed === null ? "—" : String(row.seed));
    assert.equal(facts.Size, row.width && row.height ? `${row.width} × ${row.height} px` : "—");
    assert.match(facts.Created, /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    const raw = await page.$eval("p.raw a", (a) => a.href);
    assert.match(raw, /\/images\//);
    // The script file ran (the CSP allows it): the button is visible and copies the prompt.
    const copy = await page.$("button.copy");
    assert.equal(await copy.evaluate((el) => el.hidden), false, "copy button still hidden: app.js did not run");
    await copy.click();
    await page.waitForFunction(() => document.querySelector("button.copy").textContent !== "Copy prompt");
    assert.equal(await copy.evaluate((el) => el.textContent), "Copied");
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), target.prompt);
    await shoot(t, "5-image");
  });

  it("cancels a running job with the image page's Cancel button (a plain form post)", async (t) => {
    const { data } = await callTool(await h.mcpClient(), "generate_image", { prompt: `slow browser stag ${uniq("browser")} [delay=5000]` });
    await Promise.all([page.waitForNavigation(), page.goto(`${h.origin}/gallery/image/${data.job_id}`)]);
    assert.match(await page.$eval(".badge", (el) => el.textContent), /^(pending|processing)$/);
    await Promise.all([page.waitForNavigation(), page.click("form.cancel button[type=submit]")]);
    assert.equal(page.url(), `${h.origin}/gallery/image/${data.job_id}`);
    assert.equal(await page.$eval(".badge", (el) => el.textContent), "cancelled");
    assert.equal(await page.$("form.cancel"), null, "no Cancel button once cancelled");
    assert.equal((await h.job(data.job_id)).status, "cancelled");
    await shoot(t, "5b-cancelled");
  });

  it("signs out: the form is back and the cookie is gone", async (t) => {
    await Promise.all([page.waitForNavigation(), page.click("form.signout button")]);
    assert.equal(page.url(), `${h.origin}/gallery`);
    assert.ok(await page.$("input[name=token]"), "no sign-in form after signing out");
    assert.deepEqual(await sessionCookies(), []);
    await shoot(t, "6-signed-out");
  });

  it("no CSP violation, script error or dialog happened on any page", () => {
    assert.deepEqual(problems, []);
  });
});
