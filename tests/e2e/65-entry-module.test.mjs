// The main module (src/entry.mjs) in workerd, in front of a stand-in for worker-build's index.js
// that records which path each request took: JSON-RPC POSTs on /mcp and /sse whose body
// declares a length within the limit cross into Rust once (written into Rust's inbox, then
// `serve_inbox`, body already read), as
// do the routes Rust names for GET (`entry_routes`) and every preflight (OPTIONS), without a
// body; everything else, and everything after a Wasm trap, goes to the workers-rs entry. The real
// build's answers through both paths are what every other e2e file checks.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Miniflare, Log, LogLevel } from "miniflare";
import { ROOT, COMPATIBILITY_DATE } from "./harness.mjs";

/** worker-build's index.js as the entry sees it: a class with the Rust functions on its prototype. */
const INDEX = `
globalThis.__worker_init_state = { criticalError: false, instanceId: 0 };
export const seen = [];
class Server {
  constructor(ctx, env) { this.env = env; }
  async fetch(request) {
    const body = await request.text();
    seen.push({ path: "workers-rs", url: request.url, bytes: body.length });
    return new Response("from workers-rs", { status: 299 });
  }
  queue(batch) { seen.push({ path: "queue" }); }
  scheduled(event) { seen.push({ path: "scheduled" }); }
}
const encoder = new TextEncoder();
// As Rust's Answer::encode with its HeadTable: a head's text is sent with its number the first
// time and then only its number; "unnumbered" heads are sent in full every time.
const numbered = [];
let lastSentBy = null;
function encode(status, headers, body, { unnumbered = false } = {}) {
  const text = [String(status), ...headers.flat()].join("\\n");
  let number = unnumbered ? 0xffffffff : numbered.indexOf(text);
  const known = number !== -1 && number !== 0xffffffff;
  if (number === -1) number = numbered.push(text) - 1;
  const head = known ? new Uint8Array() : encoder.encode(text);
  lastSentBy = known ? "number" : "text";
  const out = new Uint8Array(body.length + head.length + 8);
  out.set(body, 0);
  out.set(head, body.length);
  new DataView(out.buffer).setUint32(body.length + head.length, head.length, true);
  new DataView(out.buffer).setUint32(body.length + head.length + 4, number, true);
  return out;
}
// As Rust's inbox (src/lib.rs): an address in the instance's memory where the entry writes the
// request, the memory grown when the request does not fit (which detaches the entry's view).
const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
const INBOX_AT = 1000;
Server.prototype.entry_memory = () => memory;
Server.prototype.entry_inbox = (len) => {
  const short = INBOX_AT + len - memory.buffer.byteLength;
  if (short > 0) memory.grow(Math.ceil(short / 65536));
  return INBOX_AT;
};
// As Rust's: the answer at once when no I/O was needed, a Promise of it otherwise ("later").
Server.prototype.serve_inbox = function (methodLen, urlLen, headersLen, bodyLen, env) {
  const written = new Uint8Array(memory.buffer, INBOX_AT, methodLen + urlLen + headersLen + bodyLen);
  const text = (from, length) => new TextDecoder("utf-8", { fatal: true }).decode(written.subarray(from, from + length));
  const method = text(0, methodLen);
  const url = text(methodLen, urlLen);
  const headers = text(methodLen + urlLen, headersLen);
  const body = written.slice(methodLen + urlLen + headersLen);
  const bodyText = new TextDecoder("utf-8", { fatal: true }).decode(body);
  seen.push({ path: "one crossing", method, url, headers, body: bodyText, bytes: body.length, hasEnv: typeof env.MARK === "string", pages: memory.buffer.byteLength / 65536 });
  if (bodyText === "trap") throw new WebAssembly.RuntimeError("unreachable");
  if (bodyText === "stream") return new Response("data: streamed\\n\\n", { headers: { "content-type": "text/event-stream" } });
  if (bodyText === "empty") return encode(202, [["X-Empty", "yes"]], new Uint8Array(), { unnumbered: true });
  const answer = encode(200, [["Content-Type", "application/json"], ["X-Echo", "echo " + body.length]], encoder.encode('{"ok":"ü"}'));
  seen[seen.length - 1].headSentBy = lastSentBy;
  return bodyText === "later" ? new Promise((resolve) => setTimeout(() => resolve(answer), 5)) : answer;
};
Server.prototype.request_body_max_bytes = () => 64;
Server.prototype.entry_headers = () => "authorization\\nmcp-protocol-version";
Server.prototype.entry_routes = () => "POST /mcp\\nPOST /sse\\nGET /\\nGET /health";
Server.prototype.warm_up = (env) => { globalThis.warmedWith = env && typeof env.MARK; };
export default Server;
`;

/** Reads what the stand-in saw, through a module both share. */
const PROBE = `
import entry from "./entry.mjs";
import { seen } from "./index.js";
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__seen") return Response.json({ seen: seen.splice(0), warmedWith: globalThis.warmedWith, critical: globalThis.__worker_init_state.criticalError });
    if (url.pathname === "/__queue") { await entry.queue({ messages: [] }, env, ctx); await entry.scheduled({}, env, ctx); return new Response("ok"); }
    return entry.fetch(request, env, ctx);
  },
};
`;

describe("the main module (src/entry.mjs)", () => {
  let mf;
  let base;
  before(async () => {
    mf = new Miniflare({
      log: new Log(LogLevel.NONE),
      workers: [
        {
          config: {
            name: "entry",
            compatibilityDate: COMPATIBILITY_DATE,
            manifest: {
              mainModule: "probe.mjs",
              modules: {
                "probe.mjs": { type: "esm", contents: PROBE },
                "entry.mjs": { type: "esm", contents: readFileSync(path.join(ROOT, "src", "entry.mjs"), "utf8") },
                "handover.mjs": { type: "esm", contents: readFileSync(path.join(ROOT, "src", "handover.mjs"), "utf8") },
                "index.js": { type: "esm", contents: INDEX },
              },
            },
            env: { MARK: { type: "text", value: "env" } },
          },
        },
      ],
    });
    base = await mf.ready;
  });
  after(() => mf?.dispose());

  const seen = async () => (await (await fetch(new URL("/__seen", base))).json());
  const post = (p, body, headers = {}) => fetch(new URL(p, base), { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

  it("warms up with the imported env once, at start, then hands over one preflight of its own", async () => {
    const { warmedWith, seen: calls } = await seen();
    assert.equal(warmedWith, "string");
    // The main module's part of the hand-over path, run at load so V8 compiles it then.
    assert.deepEqual(
      calls.map((call) => [call.path, call.method, call.url, call.bytes, call.hasEnv]),
      [["one crossing", "OPTIONS", "https://warm-up.invalid/mcp", 0, true]],
    );
  });

  it("hands a POST on /mcp or /sse with a declared length to Rust in one call, and builds the answer from its bytes", async () => {
    for (const route of ["/mcp", "/sse"]) {
      const res = await post(`${route}?q=1`, '{"jsonrpc":"2.0"}', { "MCP-Protocol-Version": "2025-11-25", Authorization: "Bearer t" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(res.headers.get("x-echo"), "echo 17");
      assert.equal(await res.text(), '{"ok":"ü"}');
      const [call] = (await seen()).seen;
      assert.equal(call.path, "one crossing");
      assert.equal(call.method, "POST");
      assert.equal(call.url, new URL(`${route}?q=1`, base).href);
      assert.equal(call.bytes, 17);
      assert.equal(call.hasEnv, true);
      // The headers Rust reads (here: the stand-in's list), as name\nvalue\n pairs; no others.
      assert.equal(call.headers, "authorization\nBearer t\nmcp-protocol-version\n2025-11-25\n");
      // The same head both times: its text the first time, then only its number.
      assert.equal(call.headSentBy, route === "/mcp" ? "text" : "number");
    }
  });

  it("hands over a body of exactly the limit, and an empty one", async () => {
    for (const body of ["x".repeat(64), ""]) {
      const res = await post("/mcp", body);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-echo"), `echo ${body.length}`);
      await res.text();
    }
    assert.deepEqual((await seen()).seen.map((s) => [s.path, s.bytes]), [["one crossing", 64], ["one crossing", 0]]);
  });

  it("writes the body's text as UTF-8, with more room when replacing what is not UTF-8 made it longer", async () => {
    // ü and € fill their declared length exactly; 0xff is one byte sent and U+FFFD (three) read,
    // so twenty of them need more room than the 22 bytes declared.
    const cases = [
      [Buffer.from('{"p":"ü€"}'), '{"p":"ü€"}'],
      [Buffer.concat([Buffer.from("{"), Buffer.alloc(20, 0xff), Buffer.from("}")]), `{${"\ufffd".repeat(20)}}`],
    ];
    for (const [body, text] of cases) {
      const res = await post("/mcp", body);
      assert.equal(res.status, 200);
      await res.text();
      const [call] = (await seen()).seen;
      assert.equal(call.body, text);
      assert.equal(call.bytes, Buffer.byteLength(text));
    }
  });

  it("writes a head beyond ASCII as UTF-8, and one larger than the instance's memory after growing it", async () => {
    // Beyond ASCII: workerd's Headers read a header's bytes as UTF-8 (fetch sends each of these
    // code points as one byte), so two and three UTF-8 bytes give ë and €, and a byte that starts
    // no UTF-8 sequence gives U+FFFD. The entry writes them as UTF-8 after the ASCII start, as
    // wasm-bindgen's glue passed strings before.
    const sent = "Bearer t\u00c3\u00abst\u00e2\u0082\u00ac\u00ff";
    const res = await post("/mcp", "{}", { Authorization: sent, "MCP-Protocol-Version": "2025-11-25" });
    assert.equal(res.status, 200);
    await res.text();
    const [call] = (await seen()).seen;
    assert.equal(call.headers, "authorization\nBearer t\u00ebst\u20ac\ufffd\nmcp-protocol-version\n2025-11-25\n");
    // A head of 100,000 bytes does not fit the stand-in's one page: the memory grows, and the
    // entry writes through a fresh view (the old one is detached), then through it again.
    const token = "x".repeat(100_000);
    for (let i = 0; i < 2; i++) {
      const big = await post("/mcp", `{"n":${i}}`, { Authorization: `Bearer ${token}` });
      assert.equal(big.status, 200);
      assert.equal(big.headers.get("x-echo"), "echo 7");
      await big.text();
    }
    const calls = (await seen()).seen;
    assert.deepEqual(calls.map((c) => c.headers), Array(2).fill(`authorization\nBearer ${token}\n`));
    assert.ok(calls[0].pages >= 5, `memory grew to ${calls[0].pages} pages`);
    // A small request after them reads as it was written.
    const small = await post("/mcp", "{}", { Authorization: "Bearer t" });
    await small.text();
    const [last] = (await seen()).seen;
    assert.equal(last.headers, "authorization\nBearer t\n");
    assert.equal(last.url, new URL("/mcp", base).href);
  });

  it("waits for an answer Rust could not give at once", async () => {
    const res = await post("/mcp", "later");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-echo"), "echo 5");
    assert.equal(await res.text(), '{"ok":"ü"}');
    assert.deepEqual((await seen()).seen.map((s) => s.path), ["one crossing"]);
  });

  it("passes an answer without a body, and a streamed Response, through", async () => {
    for (let i = 0; i < 2; i++) {
      // An unnumbered head, in full both times.
      const empty = await post("/mcp", "empty");
      assert.equal(empty.status, 202);
      assert.equal(empty.headers.get("x-empty"), "yes");
      assert.equal(await empty.text(), "");
    }
    const stream = await post("/mcp", "stream");
    assert.equal(stream.headers.get("content-type"), "text/event-stream");
    assert.equal(await stream.text(), "data: streamed\n\n");
    assert.deepEqual((await seen()).seen.map((s) => s.path), ["one crossing", "one crossing", "one crossing"]);
  });

  it("hands over the GET routes Rust names and every preflight, without reading a body", async () => {
    const requests = [
      ["GET", "/"],
      ["GET", "/health?probe=1"],
      ["OPTIONS", "/mcp"],
      ["OPTIONS", "/gallery/anything"],
    ];
    for (const [method, p] of requests) {
      const res = await fetch(new URL(p, base), { method, headers: { Authorization: "Bearer t" } });
      assert.equal(res.status, 200, `${method} ${p}`);
      await res.text();
    }
    const calls = (await seen()).seen;
    assert.deepEqual(
      calls.map((s) => [s.path, s.method, new URL(s.url).pathname + new URL(s.url).search, s.bytes]),
      requests.map(([method, p]) => ["one crossing", method, p, 0]),
    );
    assert.equal(calls[0].headers, "authorization\nBearer t\n");
  });

  it("sends everything else to the workers-rs entry", async () => {
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("{}"));
        controller.close();
      },
    });
    const cases = [
      () => fetch(new URL("/mcp", base)), // GET
      () => fetch(new URL("/gallery", base)), // a GET route Rust does not name
      () => post("/health", "{}"), // a GET route, POSTed
      () => fetch(new URL("/", base), { method: "DELETE" }),
      () => post("/mcp", "x".repeat(65)), // over the limit: workers-rs refuses it without reading it all
      () => fetch(new URL("/mcp", base), { method: "POST", body: chunked, duplex: "half" }), // no declared length
      () => post("/sse/message?sessionId=x", "{}"),
      () => post("/v1/images/generations", "{}"),
      () => post("/mcp/extra", "{}"),
    ];
    for (const make of cases) {
      const res = await make();
      assert.equal(res.status, 299);
      assert.equal(await res.text(), "from workers-rs");
    }
    // HEAD / too (the page's headers without its body): workers-rs answers it.
    const head = await fetch(new URL("/", base), { method: "HEAD" });
    assert.equal(head.status, 299);
    const paths = (await seen()).seen.map((s) => s.path);
    assert.deepEqual(paths, Array(cases.length + 1).fill("workers-rs"));
  });

  it("after a trap, marks the instance for a restart and lets the workers-rs entry start it", async () => {
    const trapped = await post("/mcp", "trap");
    assert.equal(trapped.status, 500);
    await trapped.text();
    const after = await seen();
    assert.equal(after.critical, true);
    const next = await post("/mcp", "{}");
    assert.equal(next.status, 299);
    await next.text();
    assert.deepEqual((await seen()).seen.map((s) => s.path), ["workers-rs"]);
  });

  it("forwards queue and cron events to the workers-rs entry", async () => {
    await (await fetch(new URL("/__queue", base))).text();
    assert.deepEqual((await seen()).seen.map((s) => s.path), ["queue", "scheduled"]);
  });
});
