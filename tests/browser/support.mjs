// What every browser test shares: finding Debian's Chromium (tests/browser/setup.sh installs it),
// launching it headless through puppeteer-core with a throw-away profile, collecting CSP
// violations and page errors, and recording screenshots to target/artifacts/<name>-*.png.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import puppeteer from "puppeteer-core";
import { ROOT } from "../e2e/harness.mjs";

export const ARTIFACTS = path.join(ROOT, "target", "artifacts");

// Flags known to work in this project's containers (no sandbox, no GPU, no network chatter).
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

/**
 * Launches headless Chromium with a fresh profile and opens one page. Page errors (and, unless
 * `reportCsp` is false, CSP violations the console reports) are pushed onto `problems`.
 * Returns `{ browser, page, close }`; `close()` ends the browser and removes the profile.
 */
export async function launchChromium(name, { problems, stepTimeoutMs, viewport = { width: 1280, height: 900 }, reportCsp = true }) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const profileDir = mkdtempSync(path.join(tmpdir(), `${name}-chromium-`));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    userDataDir: profileDir,
    args: CHROMIUM_FLAGS,
    timeout: 60000,
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(stepTimeoutMs);
  await page.setViewport(viewport);
  if (reportCsp) {
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
    });
  }
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  const close = async () => {
    await browser.close().catch(() => {});
    rmSync(profileDir, { recursive: true, force: true });
  };
  return { browser, page, close };
}

/**
 * Screenshots named `<name>-<step>.png` in target/artifacts; `save()` writes their list to
 * `<name>-screenshots.txt` (and prints it unless `quiet`).
 */
export function screenshots(name) {
  const files = [];
  return {
    file: (step) => path.join(ARTIFACTS, `${name}-${step}.png`),
    /** Records a screenshot already written to `file` and names it in the test's output. */
    record(t, file) {
      files.push(file);
      t.diagnostic(`screenshot: ${path.relative(ROOT, file)}`);
    },
    /** A full-page screenshot of `page`. */
    async shoot(t, page, step) {
      const file = this.file(step);
      await page.screenshot({ path: file, fullPage: true });
      this.record(t, file);
    },
    save({ quiet = false } = {}) {
      if (!files.length) return;
      writeFileSync(path.join(ARTIFACTS, `${name}-screenshots.txt`), files.join("\n") + "\n");
      if (!quiet) console.log(`${name.replace(/-/g, " ")} screenshots:\n${files.map((s) => `  ${s}`).join("\n")}`);
    },
  };
}

/** Signs in to the gallery on its sign-in form with `token` (the page must show the form). */
export async function signInToGallery(page, token) {
  await page.locator("#token").fill(token);
  await Promise.all([page.waitForNavigation(), page.click("form[action='/gallery/login'] button[type=submit]")]);
}
