// Does workerd keep the Wasm code compiled at module load until the first request?
//
//   node bench/liftoff-flush.mjs
//
// A worker of a few lines imports a Wasm module of one function (i32.add), calls it at module
// load and again in its first fetch. workerd runs with V8's --trace-wasm-compilation-times,
// which logs every function compiled. If the function is compiled again in the first fetch, V8
// dropped the code compiled at module load before the first request, and a warm-up at module
// load buys the first request no compiled code (bench/README.md, issue 19 sixth pass). Run it
// again after a workerd update: a "kept" here means warm_up's code warming starts to pay.
// --flags="<v8 flags>" adds V8 flags (e.g. --flags=--no-flush-liftoff-code, which keeps the code).
// --calls N calls the function N times at module load (default 1). Enough calls tier it up to
// TurboFan there, and TurboFan code is kept: `--calls 2000000` prints "kept" (twelfth pass).
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";

const { values: opts } = parseArgs({
  options: { flags: { type: "string", default: "" }, calls: { type: "string", default: "1" } },
});
const calls = Number(opts.calls);
if (!Number.isInteger(calls) || calls < 1) throw new Error("liftoff-flush: --calls takes a whole number of at least 1");
// Miniflare hands this variable's flags to workerd's V8 (its config's v8Flags).
process.env.MINIFLARE_WORKERD_V8_FLAGS = ["--trace-wasm-compilation-times", opts.flags].filter(Boolean).join(" ");

// (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
const ADD_WASM = Buffer.from("0061736d0100000001070160027f7f017f030201000707010361646400000a09010700200020016a0b", "hex");
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

const lines = [];
const mf = new Miniflare({
  workers: [
    {
      config: {
        name: "liftoff-flush",
        compatibilityDate: "2026-11-17",
        manifest: {
          mainModule: "main.mjs",
          modules: { "main.mjs": { type: "esm", contents: MAIN }, "add.wasm": { type: "wasm", contents: new Uint8Array(ADD_WASM) } },
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
console.log(`calls at module load: ${calls}`);
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
