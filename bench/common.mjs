// What the benchmarks that compare sides share: one local Miniflare's base options, the median,
// and when a comparison counts (its floor, or the original, against a second instance of itself);
// the workerd process Miniflare started, and its CPU time; our build as a worker on a socket of
// its own; a Wasm compilation-hints section.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { buildManifest, serverWorker, ROOT } from "../tests/e2e/harness.mjs";

/** One workerd on 127.0.0.1, nothing registered or reported beyond it, no `cf` object fetched. */
export const LOCAL_MINIFLARE = {
  host: "127.0.0.1",
  port: 0,
  enableDevRegistry: false,
  telemetry: { enabled: false },
  cf: false,
};

/**
 * Our `build` (a directory, relative to the repository) as the e2e tests configure it, named
 * `name`, without its queue triggers, on a direct socket of its own
 * (`mf.unsafeGetDirectURL(name)`).
 */
export function directServer(name, build) {
  const worker = serverWorker({ manifest: buildManifest(path.resolve(ROOT, build)) });
  worker.config.name = name;
  worker.config.triggers = [];
  worker.dev.unsafeDirectSockets = [{ host: "127.0.0.1", port: 0 }];
  return worker;
}

/** A comparison counts when the median of a side against its own second instance lies within this band. */
export const COUNTS_BAND = [0.95, 1.05];

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Whether a row counts: the median of its side-against-itself ratios (`noise`) within COUNTS_BAND. */
export function counts(noise) {
  if (!noise?.length) return { noiseMedian: null, counts: null };
  const m = median(noise);
  return { noiseMedian: m, counts: m >= COUNTS_BAND[0] && m <= COUNTS_BAND[1] };
}

/** The one workerd process this process started (Miniflare's). */
export function workerdPid() {
  const mine = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const m = /^\d+ \((.*)\) \S (\d+)/.exec(stat);
      if (m && m[1].startsWith("workerd") && Number(m[2]) === process.pid) mine.push(Number(entry));
    } catch {}
  }
  if (mine.length !== 1) throw new Error(`bench: expected one workerd child of this process, found ${mine.length}`);
  return mine[0];
}

/**
 * workerd's CPU time so far, in µs: every thread (the isolates, the D1 and R2 simulators, the
 * HTTP stack), from /proc/<pid>/task/<tid>/schedstat (ns); null where /proc has none.
 */
export function workerdCpuMicros(pid) {
  if (!pid) return null;
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
  } catch {
    return null;
  }
  return ns / 1000;
}

/** `n` as an unsigned LEB128, as Wasm writes its integers. */
const uleb = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};

/**
 * A `metadata.code.compilation_priority` custom section (the WebAssembly compilation-hints
 * proposal), in V8's layout: per function its index, byte offset 0, the hint's length, then the
 * compilation priority and, unless `optimization` is null, the optimization priority (0 is the
 * highest of each). Appended to a module's bytes, last, as V8's own module builder places it.
 */
export function compilationPrioritySection(functions, compilation, optimization) {
  const hint = [...uleb(compilation), ...(optimization === null ? [] : uleb(optimization))];
  const entries = [...functions].sort((a, b) => a - b).flatMap((index) => [...uleb(index), 0, ...uleb(hint.length), ...hint]);
  const name = [...Buffer.from("metadata.code.compilation_priority")];
  const payload = [...uleb(name.length), ...name, ...uleb(functions.length), ...entries];
  return Buffer.from([0, ...uleb(payload.length), ...payload]);
}
