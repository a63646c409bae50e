// The gallery's search box, download link and Delete button in a real browser (issue 18, items 7
// and 8): headless Chromium (as tests/browser/gallery.test.mjs starts it) against the built
// worker in Miniflare with real jobs. Searches prompts (the search stays in the URL and the box),
// downloads an image (the saved file's name comes from the prompt, its bytes are R2's), and
// deletes one through the Delete button: cancelling the question changes nothing, accepting it
// removes the image from R2 and the grid and leaves a tombstone. Screenshots of each step go to
// target/artifacts/gallery-delete-*.png.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import puppeteer from "puppeteer-core";
import { startHarness, ROOT, TEST_TOKEN, keyFromWorkerUrl, sleep } from "../e2e/harness.mjs";
import { fillGallery } from "../e2e/support/gallery.mjs";

const ARTIFACTS = path.join(ROOT, "target", "artifacts");
const STEP_TIMEOUT_MS = 20000;
// The same flags as gallery.test.mjs (no sandbox, no GPU, no network chatter).
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

function chromiumPath() {
  if (process.env.CHROMIUM_BIN) return process.env.CHROMIUM_BIN;
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    } catch {}
  }
  throw new Error("no Chromium found: run tests/browser/setup.sh (installs Debian's chromium) or set CHROMIUM_BIN");
}

describe("gallery search, download and delete in headless Chromium", { timeout: 240000 }, () => {
  let h;
  let jobs;
  let fox;
  let browser;
  let page;
  let profileDir;
  let downloadDir;
  const screenshots = [];
  const problems = []; // CSP violations and page errors
  const dialogs = [];
  let acceptDialog = false;

  before(async () => {
    h = await startHarness();
    jobs = await fillGallery(h, await h.mcpClient());
    fox = jobs.completed.find((job) => job.prompt.startsWith("a red fox"));
    mkdirSync(ARTIFACTS, { recursive: true });
    profileDir = mkdtempSync(path.join(tmpdir(), "gallery-delete-chromium-"));
    downloadDir = mkdtempSync(path.join(tmpdir(), "gallery-downloads-"));
    browser = await puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      userDataDir: profileDir,
      args: CHROMIUM_FLAGS,
      timeout: 60000,
    });
    page = await browser.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    await page.setViewport({ width: 1280, height: 900 });
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("dialog", async (dialog) => {
      dialogs.push({ type: dialog.type(), message: dialog.message() });
      if (acceptDialog) await dialog.accept();
      else await dialog.dismiss();
    });
    const cdp = await browser.target().createCDPSession();
    await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloadDir });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await h?.dispose();
    for (const dir of [profileDir, downloadDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    if (screenshots.length) {
      writeFileSync(path.join(ARTIFACTS, "gallery-delete-screenshots.txt"), screenshots.join("\n") + "\n");
      console.log(`gallery delete screenshots:\n${screenshots.map((s) => `  ${s}`).join("\n")}`);
    }
  });

  async function shoot(t, name) {
    const file = path.join(ARTIFACTS, `gallery-delete-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    screenshots.push(file);
    t.diagnostic(`screenshot: ${path.relative(ROOT, file)}`);
  }

  const tilePrompts = () => page.$$eval(".grid .tile .prompt", (els) => els.map((el) => el.textContent));

  it("signs in and searches prompts: one match, the search kept in the URL and the box", async (t) => {
    await page.goto(`${h.origin}/gallery`);
    await page.locator("#token").fill(TEST_TOKEN);
    await Promise.all([page.waitForNavigation(), page.click("form[action='/gallery/login'] button[type=submit]")]);
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
