// The gallery's search box, download link and Delete button in a real browser (issue 18, items 7
// and 8): headless Chromium (as tests/browser/gallery.test.mjs starts it) against the built
// worker in Miniflare with real jobs. Searches prompts (the search stays in the URL and the box),
// downloads an image (the saved file's name comes from the prompt, its bytes are R2's), and
// deletes one through the Delete button: cancelling the question changes nothing, accepting it
// removes the image from R2 and the grid and leaves a tombstone. Screenshots of each step go to
// target/artifacts/gallery-delete-*.png.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startHarness, TEST_TOKEN, keyFromWorkerUrl, sleep } from "../e2e/harness.mjs";
import { fillGallery } from "../e2e/support/gallery.mjs";
import { launchChromium, screenshots, signInToGallery } from "./support.mjs";

const STEP_TIMEOUT_MS = 20000;

describe("gallery search, download and delete in headless Chromium", { timeout: 240000 }, () => {
  let h;
  let jobs;
  let fox;
  let browser;
  let page;
  let closeBrowser;
  let downloadDir;
  const shots = screenshots("gallery-delete");
  const problems = []; // CSP violations and page errors
  const dialogs = [];
  let acceptDialog = false;

  before(async () => {
    h = await startHarness();
    jobs = await fillGallery(h, await h.mcpClient());
    fox = jobs.completed.find((job) => job.prompt.startsWith("a red fox"));
    downloadDir = mkdtempSync(path.join(tmpdir(), "gallery-downloads-"));
    ({ browser, page, close: closeBrowser } = await launchChromium("gallery-delete", { problems, stepTimeoutMs: STEP_TIMEOUT_MS }));
    page.on("dialog", async (dialog) => {
      dialogs.push({ type: dialog.type(), message: dialog.message() });
      if (acceptDialog) await dialog.accept();
      else await dialog.dismiss();
    });
    const cdp = await browser.target().createCDPSession();
    await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloadDir });
  });

  after(async () => {
    await closeBrowser?.();
    await h?.dispose();
    if (downloadDir) rmSync(downloadDir, { recursive: true, force: true });
    shots.save();
  });

  const shoot = (t, name) => shots.shoot(t, page, name);

  const tilePrompts = () => page.$$eval(".grid .tile .prompt", (els) => els.map((el) => el.textContent));

  it("signs in and searches prompts: one match, the search kept in the URL and the box", async (t) => {
    await page.goto(`${h.origin}/gallery`);
    await signInToGallery(page, TEST_TOKEN);
    assert.equal((await tilePrompts()).length, jobs.completed.length + 1);

    await page.locator("input[name=q]").fill("RED FOX in fresh");
    await Promise.all([page.waitForNavigation(), page.click(".filters button[type=submit]")]);
    const url = new URL(page.url());
    assert.equal(url.pathname, "/gallery");
    assert.equal(url.searchParams.get("q"), "RED FOX in fresh", "the search is in the page's URL");
    assert.deepEqual(await tilePrompts(), [fox.prompt], "only the fox (case-insensitive)");
    assert.equal(await page.$eval("input[name=q]", (el) => el.value), "RED FOX in fresh", "the box keeps the search");
    assert.match(await page.$eval(".summary", (el) => el.textContent), /^1 matching job/);
    await shoot(t, "1-search");

    // Reloading the URL gives the same page (the search lives in the URL, not in a session).
    await page.reload();
    assert.deepEqual(await tilePrompts(), [fox.prompt]);

    await page.locator("input[name=q]").fill("100%_no such prompt");
    await Promise.all([page.waitForNavigation(), page.click(".filters button[type=submit]")]);
    assert.deepEqual(await tilePrompts(), []);
    assert.match(await page.$eval(".empty", (el) => el.textContent), /No job matches these filters/);
    await shoot(t, "2-search-none");
  });

  it("downloads the image: saved under a name from the prompt, the stored bytes", async (t) => {
    await page.goto(`${h.origin}/gallery/image/${fox.jobId}`);
    const link = await page.$("a.download");
    assert.ok(link, "the image page has a Download link");
    await shoot(t, "3-image-page");
    await link.click();
    const key = keyFromWorkerUrl(fox.imageUrl);
    const extension = key.split(".").pop();
    let saved;
    for (let waited = 0; waited < STEP_TIMEOUT_MS && !saved; waited += 100) {
      saved = readdirSync(downloadDir).find((name) => !name.endsWith(".crdownload"));
      if (!saved) await sleep(100);
    }
    assert.ok(saved, `nothing was downloaded into ${downloadDir}`);
    assert.match(saved, new RegExp(`^a-red-fox-in-fresh-snow-gallery-[a-z0-9-]+\\.${extension}$`), saved);
    const bytes = readFileSync(path.join(downloadDir, saved));
    assert.deepEqual(new Uint8Array(bytes), (await h.r2Bytes(key)).bytes, "the file is the stored image");
    assert.equal(page.url(), `${h.origin}/gallery/image/${fox.jobId}`, "the page stays where it was");
  });

  it("Delete asks first: cancelling changes nothing", async (t) => {
    acceptDialog = false;
    await page.click("form.delete button[type=submit]");
    await sleep(500);
    assert.equal(dialogs.length, 1, "one question was asked");
    assert.equal(dialogs[0].type, "confirm");
    assert.match(dialogs[0].message, /Delete this image for good\?/);
    assert.equal(page.url(), `${h.origin}/gallery/image/${fox.jobId}`);
    assert.equal((await h.job(fox.jobId)).status, "completed");
    await shoot(t, "4-cancelled");
  });

  it("Delete, accepted: back on the grid without it; R2 emptied; the image page says deleted", async (t) => {
    acceptDialog = true;
    const row = await h.job(fox.jobId);
    const keys = [row.image_url, row.thumbnail_url].map((url) => url.split("/").pop());
    await Promise.all([page.waitForNavigation(), page.click("form.delete button[type=submit]")]);
    assert.equal(page.url(), `${h.origin}/gallery`);
    const prompts = await tilePrompts();
    assert.ok(!prompts.includes(fox.prompt), "the deleted image left the grid");
    assert.equal(prompts.length, jobs.completed.length, "the others are still there");
    await shoot(t, "5-after-delete");
    for (const key of keys) assert.equal(await h.r2Bytes(key), null, `${key} is gone from R2`);
    const tombstone = await h.job(fox.jobId);
    assert.equal(tombstone.status, "deleted");
    assert.equal(tombstone.prompt, "");

    await page.goto(`${h.origin}/gallery/image/${fox.jobId}`);
    assert.equal(await page.$eval(".badge", (el) => el.textContent), "deleted");
    assert.equal(await page.$("form.delete"), null, "no Delete button on a tombstone");
    assert.equal(await page.$("a.download"), null, "no Download link on a tombstone");
    await shoot(t, "6-tombstone");
    assert.deepEqual(problems, [], "no CSP violation or page error");
  });
});
