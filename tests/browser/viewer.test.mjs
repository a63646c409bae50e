// The image viewer (an MCP App) in headless Chromium, hosted the way the MCP Apps spec asks of a
// web host: a host page on one loopback origin (http://127.0.0.1:<port>) runs the official
// host bridge (`AppBridge` + `PostMessageTransport` from @modelcontextprotocol/ext-apps, bundled
// by esbuild), and shows the View in a sandbox proxy iframe served from a second origin
// (http://localhost:<port>) under the Content-Security-Policy built from the resource's
// `_meta.ui.csp`; the View's HTML (read from the real worker with resources/read) runs in an
// inner iframe sandboxed to scripts only. Tool calls the View asks for go through the bridge to
// the host's MCP client (the official v2 SDK client) and the worker in Miniflare.
//
// Checks: every image of real tool results loads (naturalWidth > 0), one and a grid; a running
// job turns into its image (get_job_status through the host); Variations and Edit call their
// tools through the bridge and show the new images; Open asks the host to open the gallery page;
// Use this image sends the model-context update with the job id; an image from an origin the
// CSP does not name is blocked (the browser never requests it); the layout holds at 360 px and
// 1280 px, light and dark; the icons of tools/list render. Screenshots go to
// target/artifacts/viewer-*.png.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { buildSync } from "esbuild";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { startHarness, ROOT, sleep, uniq, waitFor } from "../e2e/harness.mjs";
import { launchChromium, screenshots } from "./support.mjs";

const HOST_DIR = path.join(ROOT, "tests", "browser", "viewer-host");
const VIEWER_URI = "ui://mcp-image-generator/viewer.html";
const STEP_TIMEOUT_MS = 30000;
const LOADED = ".card:not(.running):not(.failed) .picture img";

/**
 * The sandbox page's policy, built from the resource's `_meta.ui.csp` as the spec's reference
 * host does: inline script and style (the View is one document), images, fonts and media only
 * from `resourceDomains` (and data:), no requests, frames, plugins or base URL otherwise.
 */
function sandboxCsp(csp = {}) {
  const clean = (list) => (Array.isArray(list) ? list : []).filter((d) => typeof d === "string" && !/[;\s'"]/.test(d));
  const resources = clean(csp.resourceDomains).join(" ");
  const connect = clean(csp.connectDomains).join(" ");
  return [
    "default-src 'none'",
    `script-src 'self' 'unsafe-inline' ${resources}`.trim(),
    `style-src 'unsafe-inline' ${resources}`.trim(),
    `img-src data: ${resources}`.trim(),
    `font-src data: ${resources}`.trim(),
    `media-src data: ${resources}`.trim(),
    `connect-src ${connect || "'none'"}`,
    "object-src 'none'",
    "base-uri 'none'",
  ].join("; ");
}

/** A loopback HTTP server answering `routes[pathname](url) → {type, body, headers}`; records hits. */
async function serve(routes) {
  const hits = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    hits.push(url.pathname);
    const route = routes[url.pathname];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const { type, body, headers = {} } = route(url);
    res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-store", ...headers }).end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: server.address().port, hits };
}

describe("image viewer (MCP App) in headless Chromium", { timeout: 300000 }, () => {
  let h;
  let client;
  let page;
  let closeBrowser;
  let hostServer;
  let sandboxServer;
  let hostOrigin;
  let sandboxUrl;
  let viewer; // { html, csp }
  let results; // real tool results: single, grid, running
  const toolCalls = [];
  const toolFailures = [];
  const hostEvents = [];
  const shots = screenshots("viewer");
  const problems = [];

  before(async () => {
    h = await startHarness();
    client = new Client({ name: "viewer-test-host", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL("/mcp", h.origin), {
        requestInit: { headers: { Authorization: `Bearer ${h.token}` } },
      }),
    );
    await client.listTools(); // so the client checks structuredContent against outputSchema
    const call = (name, args) => client.callTool({ name, arguments: args }, { timeout: 90000 });
    results = {
      single: await call("generate_image_and_wait", {
        prompt: uniq("a lighthouse at dusk"),
        model: "sdxl-lightning",
        seed: 42,
        width: 768,
        height: 512,
        preview: false,
      }),
      grid: await call("generate_image_and_wait", { prompt: uniq("four red foxes"), count: 4, preview: false }),
    };
    assert.equal(results.single.structuredContent.success, true, JSON.stringify(results.single.structuredContent));
    assert.equal(results.grid.structuredContent.results.length, 4);
    const { contents } = await client.readResource({ uri: VIEWER_URI });
    viewer = { html: contents[0].text, csp: contents[0]._meta.ui.csp };
    assert.deepEqual(viewer.csp.resourceDomains, [h.origin]);

    const bundle = buildSync({
      entryPoints: [path.join(HOST_DIR, "host.mjs")],
      bundle: true,
      format: "iife",
      platform: "browser",
      target: "chrome120",
      write: false,
      logLevel: "silent",
    }).outputFiles[0].text;
    const strayPng = Buffer.from(await (await fetch(results.single.structuredContent.image_url)).arrayBuffer());
    hostServer = await serve({
      "/": () => ({ type: "text/html; charset=utf-8", body: readFileSync(path.join(HOST_DIR, "host.html")) }),
      "/host.js": () => ({ type: "text/javascript", body: bundle }),
      // An image on the host's origin, which the viewer's CSP does not name.
      "/stray.png": () => ({ type: "image/png", body: strayPng }),
    });
    sandboxServer = await serve({
      "/sandbox.html": (url) => ({
        type: "text/html; charset=utf-8",
        body: readFileSync(path.join(HOST_DIR, "sandbox.html")),
        headers: { "Content-Security-Policy": sandboxCsp(JSON.parse(url.searchParams.get("csp") || "{}")) },
      }),
      "/sandbox.js": () => ({ type: "text/javascript", body: readFileSync(path.join(HOST_DIR, "sandbox.js")) }),
    });
    hostOrigin = `http://127.0.0.1:${hostServer.port}`;
    sandboxUrl = `http://localhost:${sandboxServer.port}/sandbox.html`;

    // No CSP listener: the stray image's block is expected (its test checks it never loads).
    ({ page, close: closeBrowser } = await launchChromium("viewer", {
      problems,
      stepTimeoutMs: STEP_TIMEOUT_MS,
      reportCsp: false,
    }));
    page.on("dialog", async (dialog) => {
      problems.push(`dialog opened: ${dialog.message()}`);
      await dialog.dismiss();
    });
    await page.exposeFunction("hostCallTool", async (params) => {
      toolCalls.push(params);
      try {
        return await client.callTool(params, { timeout: 90000 });
      } catch (error) {
        toolFailures.push(`${params.name}: ${error.message}`);
        throw error;
      }
    });
    await page.exposeFunction("hostRecord", (method, params) => {
      hostEvents.push({ method, params });
    });
    await page.goto(`${hostOrigin}/`);
    await page.waitForFunction(() => typeof window.viewerHost === "object");
  });

  after(async () => {
    await closeBrowser?.();
    await client?.close().catch(() => {});
    hostServer?.server.close();
    sandboxServer?.server.close();
    await h?.dispose();
    shots.save();
  });

  /** A screenshot of the whole host page: the viewport is made as tall as the page first (a
   *  fullPage capture may not repaint the cross-origin frames beyond the viewport). */
  async function shoot(t, name) {
    const file = shots.file(name);
    const viewport = page.viewport();
    const height = await page.evaluate(() => Math.ceil(document.documentElement.scrollHeight));
    await page.setViewport({ ...viewport, height: Math.min(Math.max(height, viewport.height), 4000) });
    await sleep(300);
    await page.screenshot({ path: file });
    await page.setViewport(viewport);
    shots.record(t, file);
  }

  /** Opens the viewer with a tool result; returns the View's frame once it has initialized. */
  async function open(toolResult, { toolInput, theme = "light", displayMode = "inline" } = {}) {
    const info = await page.evaluate(
      (options) => window.viewerHost.open(options),
      {
        html: viewer.html,
        csp: viewer.csp,
        sandboxUrl,
        toolInput,
        toolResult,
        hostContext: { theme, displayMode, availableDisplayModes: ["inline", "fullscreen"], platform: "web" },
      },
    );
    assert.equal(info.appInfo.name, "mcp-image-generator-viewer");
    const frame = await waitFor(
      () => page.frames().find((f) => !f.detached && f.url() === "about:srcdoc"),
      { message: "the View's frame", timeout: STEP_TIMEOUT_MS },
    );
    await frame.waitForFunction(() => document.documentElement.dataset.ready === "true");
    return frame;
  }

  /** Waits until `count` finished images show and all have decoded pixels; returns their sources. */
  async function loadedImages(frame, count) {
    await frame.waitForFunction(
      (selector, expected) => {
        const images = [...document.querySelectorAll(selector)];
        return images.length === expected && images.every((img) => img.complete && img.naturalWidth > 0);
      },
      { timeout: STEP_TIMEOUT_MS },
      LOADED,
      count,
    );
    return frame.$$eval(LOADED, (images) => images.map((img) => ({ src: img.src, width: img.naturalWidth })));
  }

  /** Waits for the View to show `count` sets of results (each tool call's result is one). */
  async function waitForSets(frame, count) {
    try {
      await frame.waitForFunction((n) => document.querySelectorAll(".set").length === n, { timeout: 90000 }, count);
    } catch (error) {
      const status = await frame.$eval("#status", (el) => el.textContent).catch(() => "?");
      throw new Error(
        `${count} result sets not shown: status ${JSON.stringify(status)}, tool calls ${JSON.stringify(toolCalls.slice(-3))}, failures ${JSON.stringify(toolFailures)}: ${error.message}`,
      );
    }
  }

  /** What breaks the layout: horizontal overflow, cards or buttons outside the viewport, a host
   *  frame shorter than the content (the View reports its height with size-changed). */
  async function layoutProblems(frame) {
    const contentHeight = await frame.evaluate(() => document.documentElement.scrollHeight);
    await waitFor(
      () => page.evaluate((h) => document.querySelector("#frame iframe").clientHeight >= h, contentHeight),
      { message: `the host frame to grow to the content's ${contentHeight} px` },
    ).catch(() => {});
    const frameHeight = await page.evaluate(() => document.querySelector("#frame iframe").clientHeight);
    const sized = frameHeight >= contentHeight ? [] : [`host frame ${frameHeight} px < content ${contentHeight} px`];
    return sized.concat(await frame.evaluate(() => {
      const found = [];
      const width = document.documentElement.clientWidth;
      if (document.documentElement.scrollWidth > width + 1) {
        found.push(`scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
      }
      for (const element of document.querySelectorAll(".card, .card .actions button, .card .picture img")) {
        const box = element.getBoundingClientRect();
        if (box.width === 0 && element.closest(".card:not(.running)")) found.push(`${element.className || element.tagName} has no width`);
        if (box.left < -1 || box.right > width + 1) found.push(`${element.className || element.tagName} outside [0, ${width}]: ${box.left}..${box.right}`);
      }
      return found;
    }));
  }

  /** Relative luminance (0 dark … 1 light) of the View's background. */
  function backgroundLuminance(frame) {
    return frame.evaluate(() => {
      const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    });
  }

  it("one image: it loads, with its prompt, model, seed and size", async (t) => {
    const single = results.single.structuredContent;
    const frame = await open(results.single, { toolInput: { prompt: single.prompt } });
    const [image] = await loadedImages(frame, 1);
    assert.equal(image.src, single.image_url, "the single image is shown at full size");
    assert.equal(await frame.$eval(".card .prompt", (el) => el.textContent), single.prompt);
    const facts = await frame.$eval(".card .facts", (el) => el.textContent);
    assert.equal(facts, `sdxl-lightning · seed 42 · ${single.width} × ${single.height}`);
    assert.deepEqual(await layoutProblems(frame), []);
    await shoot(t, "1-one-image-1280-light");
  });

  it("a grid: every image of a four-image result loads", async (t) => {
    const frame = await open(results.grid);
    const images = await loadedImages(frame, 4);
    const expected = results.grid.structuredContent.results.map((r) => r.thumbnail_url ?? r.image_url);
    assert.deepEqual(images.map((i) => i.src).sort(), expected.sort());
    assert.ok(await frame.$(".grid:not(.single)"), "several images are a grid");
    await shoot(t, "2-grid-1280-light");
  });

  it("a running job shows its status, then becomes its image (get_job_status through the host)", async (t) => {
    const started = await client.callTool({ name: "generate_image", arguments: { prompt: uniq("[delay=4000] a slow comet") } });
    const jobId = started.structuredContent.job_id;
    assert.equal(started.structuredContent.status, "pending");
    const frame = await open(started);
    await frame.waitForSelector(`.card.running[data-job-id="${jobId}"]`);
    assert.match(await frame.$eval(".card .state", (el) => el.textContent), /Queued|Generating/);
    await shoot(t, "3-running-job");
    const [image] = await loadedImages(frame, 1);
    assert.match(image.src, /\/images\//);
    const polls = toolCalls.filter((c) => c.name === "get_job_status" && c.arguments.job_id === jobId);
    assert.ok(polls.length >= 1, "the View asked the host for the job's status");
    const row = await h.job(jobId);
    assert.equal(row.status, "completed");
    await shoot(t, "4-running-job-done");
  });

  it("full size on click, closed with Escape", async (t) => {
    const frame = await open(results.grid);
    await loadedImages(frame, 4);
    await frame.click(".card .picture");
    await frame.waitForFunction(() => {
      const img = document.querySelector("#lightbox img");
      return !document.getElementById("lightbox").hidden && img.complete && img.naturalWidth > 0;
    });
    const full = await frame.$eval("#lightbox img", (img) => img.src);
    assert.ok(results.grid.structuredContent.results.some((r) => r.image_url === full), full);
    await shoot(t, "5-full-size");
    await frame.focus("#lightbox .close");
    await page.keyboard.press("Escape");
    await frame.waitForFunction(() => document.getElementById("lightbox").hidden);
  });

  it("Variations calls generate_variations through the bridge and shows the new images", async (t) => {
    const single = results.single.structuredContent;
    const frame = await open(results.single);
    await loadedImages(frame, 1);
    const before = toolCalls.length;
    await frame.click('.card button[data-action="variations"]');
    await waitForSets(frame, 2);
    const call = toolCalls.slice(before).find((c) => c.name === "generate_variations");
    assert.deepEqual(call?.arguments, { job_id: single.job_id, count: 4, preview: false });
    await loadedImages(frame, 5);
    const newest = await frame.$eval(".set", (set) => ({
      title: set.querySelector("h2").textContent,
      jobs: [...set.querySelectorAll(".card")].map((card) => card.dataset.jobId),
    }));
    assert.equal(newest.title, `Variations of ${single.job_id}`);
    assert.equal(newest.jobs.length, 4);
    assert.ok(!newest.jobs.includes(single.job_id));
    await shoot(t, "6-variations");
  });

  it("Edit sends the prompt box to edit_image with this image and shows the result", async (t) => {
    const single = results.single.structuredContent;
    const frame = await open(results.single);
    await loadedImages(frame, 1);
    await frame.click('.card button[data-action="edit"]');
    await frame.waitForSelector(".card .edit:not([hidden]) input");
    await frame.type(".card .edit input", "make it snow");
    const before = toolCalls.length;
    await frame.click(".card .edit button.apply");
    await waitForSets(frame, 2);
    const call = toolCalls.slice(before).find((c) => c.name === "edit_image");
    assert.deepEqual(call?.arguments, { prompt: "make it snow", images: [single.job_id], preview: false });
    await loadedImages(frame, 2);
    assert.match(await frame.$eval(".set h2", (h2) => h2.textContent), /^Edit of .*: make it snow$/);
    await shoot(t, "6b-edit");
  });

  it("Use this image sends ui/update-model-context with the job id; Open asks for the gallery page", async (t) => {
    const chosen = results.grid.structuredContent.results[2];
    const frame = await open(results.grid);
    await loadedImages(frame, 4);
    const card = `.card[data-job-id="${chosen.job_id}"]`;
    await frame.click(`${card} button[data-action="use"]`);
    await frame.waitForFunction((selector) => document.querySelector(selector).classList.contains("selected"), {}, card);
    const update = hostEvents.findLast((e) => e.method === "ui/update-model-context");
    assert.equal(update.params.structuredContent.job_id, chosen.job_id);
    assert.equal(update.params.structuredContent.image_url, chosen.image_url);
    assert.ok(update.params.content[0].text.includes(chosen.job_id), update.params.content[0].text);
    assert.equal(await frame.$eval(`${card} button[data-action="use"]`, (b) => b.getAttribute("aria-pressed")), "true");
    await frame.click(`${card} button[data-action="open"]`);
    await waitFor(() => hostEvents.some((e) => e.method === "ui/open-link"), { message: "ui/open-link" });
    const link = hostEvents.findLast((e) => e.method === "ui/open-link");
    assert.equal(link.params.url, `${h.origin}/gallery/image/${chosen.job_id}`);
    await shoot(t, "7-selected");
  });

  it("an image from an origin the CSP does not name is blocked; the same URL loads outside the sandbox", async (t) => {
    const real = results.single.structuredContent;
    const strayUrl = `${hostOrigin}/stray.png`;
    const crafted = {
      content: [{ type: "text", text: "{}" }],
      structuredContent: {
        success: true,
        count: 2,
        results: [
          { job_id: real.job_id, image_url: real.image_url, thumbnail_url: null, prompt: real.prompt, model: real.model },
          { job_id: "00000000-0000-4000-8000-0000000000aa", image_url: strayUrl, thumbnail_url: null, prompt: "stray", model: "x" },
        ],
      },
    };
    const frame = await open(crafted);
    const stray = '.card[data-job-id="00000000-0000-4000-8000-0000000000aa"] img';
    await frame.waitForFunction(
      (selector) => {
        const img = document.querySelector(selector);
        return img.getAttribute("src") && img.complete;
      },
      {},
      stray,
    );
    assert.equal(await frame.$eval(stray, (img) => img.naturalWidth), 0, "the stray image loaded despite the CSP");
    await frame.waitForFunction(
      (selector) => document.querySelector(selector).closest(".card").querySelector(".error").textContent !== "",
      {},
      stray,
    );
    const allowed = await frame.$eval(`.card[data-job-id="${real.job_id}"] img`, (img) => img.naturalWidth);
    assert.ok(allowed > 0, "the image on a named origin did not load");
    assert.ok(!hostServer.hits.includes("/stray.png"), "the browser requested the blocked image");
    await shoot(t, "8-csp-blocked");
    // The control: the host page has no such policy, and the same image loads there.
    const width = await page.evaluate(
      (src) => new Promise((resolve) => Object.assign(new Image(), { onload() { resolve(this.naturalWidth); }, onerror() { resolve(0); }, src })),
      strayUrl,
    );
    assert.ok(width > 0 && hostServer.hits.includes("/stray.png"));
  });

  it("the layout holds at 360 px and 1280 px, light and dark, following the host's theme and display mode", async (t) => {
    for (const width of [360, 1280]) {
      await page.setViewport({ width, height: 900 });
      const frame = await open(results.grid, { theme: "light" });
      await loadedImages(frame, 4);
      assert.deepEqual(await layoutProblems(frame), [], `${width} px light`);
      assert.ok((await backgroundLuminance(frame)) > 0.8, `${width} px light background`);
      await shoot(t, `9-grid-${width}-light`);
      await page.evaluate(() => window.viewerHost.setContext({ theme: "dark" }));
      await frame.waitForFunction(() => document.documentElement.dataset.theme === "dark");
      assert.deepEqual(await layoutProblems(frame), [], `${width} px dark`);
      assert.ok((await backgroundLuminance(frame)) < 0.2, `${width} px dark background`);
      await shoot(t, `9-grid-${width}-dark`);
      if (width === 1280) {
        // The host's display mode: fullscreen gives the grid wider columns.
        const columns = () => frame.$eval(".grid", (grid) => getComputedStyle(grid).gridTemplateColumns.split(" ").length);
        const inline = await columns();
        await page.evaluate(() => window.viewerHost.setContext({ displayMode: "fullscreen" }));
        await frame.waitForFunction(() => document.documentElement.dataset.displayMode === "fullscreen");
        assert.ok((await columns()) < inline, `fullscreen columns ${await columns()} vs inline ${inline}`);
        assert.deepEqual(await layoutProblems(frame), [], "fullscreen");
      }
      if (width === 360) {
        const single = await open(results.single, { theme: "dark" });
        await loadedImages(single, 1);
        assert.deepEqual(await layoutProblems(single), [], "one image at 360 px");
        await shoot(t, "9-one-image-360-dark");
      }
    }
    await page.setViewport({ width: 1280, height: 900 });
  });

  it("the icons of tools/list and of the server render", async () => {
    const { tools } = await client.listTools();
    const sources = [...tools.flatMap((tool) => tool.icons.map((icon) => icon.src)), ...client.getServerVersion().icons.map((i) => i.src)];
    const widths = await page.evaluate((srcs) => window.viewerHost.showIcons(srcs), sources);
    assert.equal(widths.length, tools.length * 2 + 2);
    assert.ok(widths.every((w) => w > 0), `widths: ${widths}`);
  });

  it("no script error or dialog happened, and every tool call the View made succeeded", () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(toolFailures, []);
  });
});
