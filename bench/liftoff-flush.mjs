// Does workerd keep the Wasm code compiled at module load until the first request?
//
//   node bench/liftoff-flush.mjs [--flags "<v8 flags>"] [--calls N] [--trigger] [--hint]
//
// A worker of a few lines imports a Wasm module of one function (i32.add), calls it at module
// load and again in its first fetch. workerd runs with V8's --trace-wasm-compilation-times,
// which logs every function compiled. If the function is compiled again in the first fetch, V8
// dropped the code compiled at module load before the first request, and a warm-up at module
// load buys the first request no compiled code (bench/README.md, issue 19 sixth pass). Run it
// again after a workerd update: workerd 2026-11-23 and earlier print "dropped", 2026-11-29 and
// 2026-12-01 "kept", which is when warm_up's run of the request path started to pay
// (thirty-third pass; it runs the workerd the e2e harness picks, MINIFLARE_WORKERD_PATH).
// --flags="<v8 flags>" adds V8 flags (e.g. --flags=--no-flush-liftoff-code, which keeps the code).
// --calls N calls the function N times at module load (default 1). Enough calls tier it up to
// TurboFan there, and TurboFan code is kept: `--calls 2000000` prints "kept" (twelfth pass).
// --trigger runs workerd under gdb (Debian's `gdb`) and prints, in order, each isolate workerd
// builds, this worker's Wasm compile and each Liftoff flush, with the flush's caller: what drops
// the code (nineteenth pass: each isolate built after ours, Miniflare's own six included).
// --hint appends a `metadata.code.compilation_priority` section (the WebAssembly compilation-hints
// proposal) asking for the function to be compiled at load with TurboFan (both priorities 0), and
// says whether V8 honored it (the tier it compiled at load). V8 reads it only with
// --flags=--wasm-compilation-hints (thirty-second pass); "honored" with --hint alone after a
// workerd update means hints work by default, and bench/compile-hints.mjs's hinted build would
// then start the first request's functions in TurboFan without flags.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { compilationPrioritySection } from "./common.mjs";

const { values: opts } = parseArgs({
  options: {
    flags: { type: "string", default: "" },
    calls: { type: "string", default: "1" },
    trigger: { type: "boolean", default: false },
    hint: { type: "boolean", default: false },
  },
});
const calls = Number(opts.calls);
if (!Number.isInteger(calls) || calls < 1) throw new Error("liftoff-flush: --calls takes a whole number of at least 1");
// Miniflare hands this variable's flags to workerd's V8 (its config's v8Flags).
process.env.MINIFLARE_WORKERD_V8_FLAGS = ["--trace-wasm-compilation-times", opts.flags].filter(Boolean).join(" ");

// (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
const ADD_WASM = Buffer.from("0061736d0100000001070160027f7f017f030201000707010361646400000a09010700200020016a0b", "hex");
// With --hint: function 0 at compilation and optimization priority 0 (TurboFan at load).
const MODULE_WASM = opts.hint ? Buffer.concat([ADD_WASM, compilationPrioritySection([0], 0, 0)]) : ADD_WASM;
const MAIN = `
import module from "./add.wasm";
const instance = new WebAssembly.Instance(module, {});
let sum = 0;
for (let i = 0; i < ${calls}; i++) sum = instance.exports.add(sum, 1);
console.log("mark: module load", sum);
export default {
  fetch() {
    console.log("mark: first fetch");
    return new Response(String(instance.exports.add(2, 3)));
  },
};`;

/**
 * With --trigger: points Miniflare at a wrapper that runs workerd under gdb, whose breakpoints
 * (never stopping) append one line per event to a log; returns that log's path.
 */
function traceUnderGdb(dir) {
  try {
    execFileSync("gdb", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("liftoff-flush --trigger: needs gdb on PATH (Debian package `gdb`)");
  }
  const workerd = process.env.MINIFLARE_WORKERD_PATH ?? workerdBinary;
  const log = path.join(dir, "events.log");
  // Python breakpoints return False from stop(), so workerd runs on. The isolate's name is its
  // constructor's `kj::StringPtr id`, which this build passes by reference in rcx (x86-64); on
  // another build the name may read as "?", and the order of events still holds.
  const script = `
set pagination off
set confirm off
handle SIGPIPE SIGUSR1 SIGUSR2 SIG34 SIGSEGV nostop noprint pass
python
import gdb
LOG = ${JSON.stringify(log)}
def note(text):
    with open(LOG, "a") as f:
        f.write(text + "\\n")
class Mark(gdb.Breakpoint):
    def __init__(self, spec, label):
        super().__init__(spec, internal=True)
        self.label = label
    def stop(self):
        text = self.label
        if self.label == "isolate":
            try:
                ptr = int(gdb.parse_and_eval("*(unsigned long*)$rcx"))
                size = int(gdb.parse_and_eval("*(unsigned long*)($rcx+8)"))
                name = bytes(gdb.selected_inferior().read_memory(ptr, size)).decode().rstrip(chr(0)) if 0 < size < 200 else "?"
            except Exception:
                name = "?"
            text += " " + name
        if self.label == "flush":
            try:
                frame = gdb.newest_frame().older()
                text += " from " + (frame.name() or "?").split("(")[0]
                for _ in range(12):
                    frame = frame.older()
                    if frame is None:
                        break
                    if (frame.name() or "").startswith("workerd::"):
                        text += " in " + frame.name().split("(")[0]
                        break
            except Exception:
                pass
        note(text)
        return False
Mark("workerd::Worker::Isolate::Isolate", "isolate")
Mark("workerd::jsg::compileWasmModule", "wasm-compile")
Mark("v8::internal::wasm::WasmEngine::FlushLiftoffCode", "flush")
end
run
`;
  const commands = path.join(dir, "trace.gdb");
  writeFileSync(commands, script);
  const wrapper = path.join(dir, "workerd.sh");
  writeFileSync(wrapper, `#!/bin/sh\nexec gdb -q -batch -x ${JSON.stringify(commands)} --args ${JSON.stringify(workerd)} "$@"\n`, {
    mode: 0o755,
  });
  process.env.MINIFLARE_WORKERD_PATH = wrapper;
  return log;
}

const workerdBinary = (await import("workerd")).default.default;
const traceDir = opts.trigger ? mkdtempSync(path.join(tmpdir(), "liftoff-flush-")) : null;
if (traceDir) process.on("exit", () => rmSync(traceDir, { recursive: true, force: true }));
const eventLog = traceDir ? traceUnderGdb(traceDir) : null;

const lines = [];
const mf = new Miniflare({
  workers: [
    {
      config: {
        name: "liftoff-flush",
        compatibilityDate: "2026-11-17",
        manifest: {
          mainModule: "main.mjs",
          modules: { "main.mjs": { type: "esm", contents: MAIN }, "add.wasm": { type: "wasm", contents: new Uint8Array(MODULE_WASM) } },
        },
      },
      dev: { unsafeRegisterWorker: false },
    },
  ],
  handleStructuredLogs: (l) => lines.push(l.message),
});
try {
  await mf.ready;
  const res = await mf.dispatchFetch("http://localhost/");
  if ((await res.text()) !== "5") throw new Error("liftoff-flush: the worker answered wrongly");
} finally {
  await mf.dispose();
}

// Compiles of the one function, counted before and after the first fetch's mark.
let phase = null;
const compiles = { "module load": 0, "first fetch": 0 };
const tiers = { "module load": new Set(), "first fetch": new Set() };
for (const line of lines) {
  const mark = /^mark: (module load|first fetch)/.exec(line);
  const compiled = /^Compiled function .*#0 using (\w+)/.exec(line);
  if (mark) phase = mark[1];
  else if (compiled) {
    const when = phase === "first fetch" ? "first fetch" : "module load";
    compiles[when]++;
    tiers[when].add(compiled[1]);
  }
}
console.log(`V8 flags: ${process.env.MINIFLARE_WORKERD_V8_FLAGS}`);
console.log(`calls at module load: ${calls}${opts.hint ? "; compilation hint: TurboFan at load" : ""}`);
const named = (when) => (tiers[when].size ? ` (${[...tiers[when]].join(", ")})` : "");
console.log(
  `compiles of the function: at module load ${compiles["module load"]}${named("module load")}, ` +
    `in the first fetch ${compiles["first fetch"]}${named("first fetch")}`,
);
if (compiles["module load"] === 0) throw new Error("liftoff-flush: no compile logged at module load (did the trace flag reach V8?)");
console.log(
  compiles["first fetch"] === 0
    ? "kept: the code compiled at module load served the first request"
    : "dropped: the first request compiled the function again",
);
if (opts.hint) {
  console.log(
    tiers["module load"].has("TurboFan")
      ? "hint honored: V8 compiled the function with TurboFan at load"
      : `hint ignored: V8 compiled the function at load with ${[...tiers["module load"]].join(", ")}, not TurboFan`,
  );
}

if (eventLog) {
  if (!existsSync(eventLog)) throw new Error("liftoff-flush --trigger: gdb logged nothing (did workerd run under it?)");
  const events = readFileSync(eventLog, "utf8").trim().split("\n");
  console.log("\nworkerd's start, in order (gdb):");
  for (const event of events) console.log(`  ${event}`);
  const compiled = events.indexOf("wasm-compile");
  if (compiled < 0) throw new Error("liftoff-flush --trigger: gdb saw no Wasm compile (did the breakpoints resolve?)");
  // Each flush follows the construction of the isolate named last before it.
  const after = [];
  let building = "?";
  events.forEach((event, i) => {
    if (event.startsWith("isolate ")) building = event.slice("isolate ".length);
    else if (i > compiled && event.startsWith("flush")) after.push(building);
  });
  console.log(
    after.length
      ? `${after.length} flush(es) after this worker's Wasm compile, each as an isolate was built: ${after.join(", ")}`
      : "no flush after this worker's Wasm compile",
  );
}
