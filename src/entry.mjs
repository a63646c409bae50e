// The worker's main module (wrangler.toml `main`; scripts/build.sh copies it next to
// worker-build's output as build/entry.mjs).
//
// A JSON-RPC POST on /mcp or /sse whose body declares its length crosses into Wasm once: this
// module reads the body as text (`fetch` below says why), writes the method, the URL, the headers
// it reads and the body into Rust's inbox, and hands the request over in one call (`serve_inbox`,
// src/lib.rs; `handOver` below and src/handover.mjs), which answers with one byte buffer: the
// body, then the status and headers (`Answer::encode`, src/http/answer.rs); synchronously when
// the request needed no I/O. So do the pages the original also served (`GET /`, `GET /health`)
// and every CORS preflight (`OPTIONS`), without a body. A request waiting on D1, the queue or
// the rate limiter comes back as a `Waiting` whose promises this module awaits for it
// (`drive`); one waiting on anything else, as a Promise. Everything else (the other pages,
// images, OAuth, the SSE stream, the OpenAI-compatible API, bodies without a declared length or
// over the limit) and the queue and cron events go to worker-build's entry, whose workers-rs
// handlers cross per header, per body read and per response part. Where a request waits on D1
// or R2 those crossings cost little; on the small requests that make up most MCP traffic they
// were the largest cost (bench/README.md).
import { env } from "cloudflare:workers";
import Server from "./index.js";
import { writeAndServe } from "./handover.mjs";

// worker-build puts every exported free function on its entry class's prototype; the class
// itself is behind a Proxy that only traps construction, so the prototype is the class's own.
const {
  serve_inbox: serveInbox,
  entry_inbox: inboxOf,
  entry_memory: memoryOf,
  request_body_max_bytes: bodyLimitOf,
  warm_up: warmUp,
  entry_headers: headersOf,
  entry_routes: routesOf,
} = Server.prototype;
if (![serveInbox, inboxOf, memoryOf, bodyLimitOf, warmUp, headersOf, routesOf].every((f) => typeof f === "function")) {
  throw new Error(
    "entry.mjs: worker-build's index.js does not carry serve_inbox, entry_inbox, entry_memory, request_body_max_bytes, warm_up, entry_headers and entry_routes",
  );
}
const BODY_LIMIT = bodyLimitOf();
/** The headers Rust reads (transport::ENTRY_HEADERS); only these are handed over. */
const HEADER_NAMES = headersOf().split("\n");
// While the isolate starts (during the client's TLS handshake, on Cloudflare), not in the first
// request: the configuration, the latest revision's initialize, tools/list and ping answers, and
// a run of the JSON-RPC path's Rust code so V8 compiles it now (the end of this module runs this
// module's part; transport::warm_up, src/transport/mod.rs).
warmUp(env);
/** The paths handed over, by method (transport::ENTRY_ROUTES, one `METHOD path` per line). */
const POST_PATHS = new Set();
const GET_PATHS = new Set();
for (const route of routesOf().split("\n")) {
  const [method, path] = route.split(" ");
  if (method === "POST") POST_PATHS.add(path);
  else if (method === "GET") GET_PATHS.add(path);
  else throw new Error(`entry.mjs: no hand-over for ${route}`);
}
/** worker-build's flag for a Wasm instance that trapped and must be started again. */
const initState = globalThis.__worker_init_state;
const decoder = new TextDecoder();

function pathOf(url) {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.indexOf("?", start);
  return url.slice(start, end < 0 ? undefined : end);
}

/**
 * A declared length (`text`, or null) when it is a decimal number of at most 9 digits within the
 * body limit, else -1. Checked by char code, not a regex, and with the request's `headers` read
 * once: on the smallest requests (ping, initialize) that was 2–4 % more requests per second
 * (bench/README.md, thirteenth pass). Longer ones (over the limit, or padded with zeros) go to
 * workers-rs, which applies the same limit.
 */
function declaredWithinLimit(text) {
  if (text === null || text.length === 0 || text.length > 9) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  const length = Number(text);
  return length <= BODY_LIMIT ? length : -1;
}

/**
 * The length of body a request handed over to Rust declares (0 for those without one), or -1 for
 * a request that goes to workers-rs.
 */
function handedOver(method, headers, url) {
  // After a trap, worker-build's entry starts a fresh instance; let it.
  if (initState?.criticalError) return -1;
  if (method === "POST") return POST_PATHS.has(pathOf(url)) ? declaredWithinLimit(headers.get("content-length")) : -1;
  return (method === "GET" ? GET_PATHS.has(pathOf(url)) : method === "OPTIONS") ? 0 : -1;
}

/** The Wasm instance's memory and a byte view onto it, for the instance they were read from. */
let memory = null;
let memoryBytes = null;
let memoryInstance = -1;

/**
 * Where to write a request of at most `length` bytes (`entry_inbox`, src/lib.rs): its address in
 * `memoryBytes`, which is made again when the memory grew or the instance was started again.
 * Good until the next call into Rust.
 */
function inbox(length) {
  const at = inboxOf(length);
  const instance = initState?.instanceId ?? 0;
  if (memoryInstance !== instance) {
    memory = memoryOf();
    memoryInstance = instance;
    memoryBytes = null;
  }
  // A view onto memory that has since grown reads as empty (its buffer is detached).
  if (memoryBytes === null || memoryBytes.byteLength === 0) memoryBytes = new Uint8Array(memory.buffer);
  return at;
}

/**
 * Hands a request to Rust in one call (`serve_inbox`): its method, URL, the `values` of
 * HEADER_NAMES and its `body` text, written into the inbox (src/handover.mjs) with room for
 * `bodyBytes` of UTF-8: the declared length, which the text of a UTF-8 body fills exactly. A body
 * with bytes that are not UTF-8 may not fit (each sequence became U+FFFD, three bytes): written
 * again with room for three bytes per UTF-16 unit. Returns what Rust answers.
 */
function handOver(method, url, values, headChars, body, bodyBytes, env) {
  const room = 3 * headChars + bodyBytes;
  const start = inbox(room);
  const out = writeAndServe(memoryBytes, start, start + room, method, url, HEADER_NAMES, values, body, serveInbox, env);
  if (out !== null) return out;
  // Three bytes per UTF-16 unit hold any text's UTF-8.
  if (bodyBytes >= 3 * body.length) throw new Error("entry.mjs: a body's UTF-8 did not fit three bytes per UTF-16 unit");
  return handOver(method, url, values, headChars, body, 3 * body.length, env);
}

/**
 * The heads Rust has sent, by number (`HeadTable`, src/http/answer.rs): each as its status and
 * a `Headers` built once, which a `Response` copies natively (pairs or a plain object would be
 * read through JS property by property on every answer).
 */
const heads = [];
/** The number of a head sent in full and not kept (`HeadTable::UNNUMBERED`). */
const UNNUMBERED = 0xffffffff;

function headOf(text) {
  const lines = text.split("\n");
  const headers = new Headers();
  for (let i = 1; i + 1 < lines.length; i += 2) headers.append(lines[i], lines[i + 1]);
  return { status: Number(lines[0]), headers };
}

/**
 * The answer buffer: the body, the head when sent, then the head's length and number (4 bytes
 * each, little-endian). Rust appends the head to the body instead of copying the body after it.
 */
function toResponse(out) {
  if (out instanceof Response) return out;
  const end = out.length;
  const headLength = (out[end - 8] | (out[end - 7] << 8) | (out[end - 6] << 16) | (out[end - 5] << 24)) >>> 0;
  const number = (out[end - 4] | (out[end - 3] << 8) | (out[end - 2] << 16) | (out[end - 1] << 24)) >>> 0;
  const bodyEnd = end - 8 - headLength;
  let head;
  if (headLength === 0) {
    head = heads[number];
    // Rust sends a head's text with its number first; a number alone is never new.
    if (!head) throw new Error(`entry.mjs: head ${number} was never sent`);
  } else {
    head = headOf(decoder.decode(out.subarray(bodyEnd, end - 8)));
    if (number !== UNNUMBERED) heads[number] = head;
  }
  return new Response(bodyEnd ? out.subarray(0, bodyEnd) : null, head);
}

/**
 * Runs a request that waits on promises (`Waiting`, src/lib.rs; `promise.rs`): each promise it
 * waits on is awaited here and its outcome handed back, until it answers (its Response), or goes
 * on in wasm-bindgen's executor (a Promise of the answer) when it waits on anything else.
 */
async function drive(waiting) {
  for (;;) {
    let value;
    let fulfilled = true;
    try {
      value = await waiting.promise();
    } catch (error) {
      value = error;
      fulfilled = false;
    }
    const next = waiting.resume(value, fulfilled);
    if (next !== undefined) {
      // Bytes from `resume` are a view onto Wasm memory, as `serveRead`'s are: read into the
      // Response now, before this instance runs anything else (src/lib.rs, `handed_now`).
      const answer = next instanceof Promise ? next : toResponse(next);
      // Freed here rather than by its finalizer; after a trap it is left to the finalizer.
      waiting.free();
      return answer;
    }
  }
}

// A plain object, not a WorkerEntrypoint class: workerd then constructs nothing per request.
const worker = {
  async fetch(request, env, ctx) {
    const url = request.url;
    const method = request.method;
    const requestHeaders = request.headers;
    const declared = handedOver(method, requestHeaders, url);
    if (declared < 0) return new Server(ctx, env).fetch(request);
    // The headers Rust reads, and the head's length in UTF-16 units (the inbox's bound).
    const values = new Array(HEADER_NAMES.length);
    let headChars = method.length + url.length;
    for (let i = 0; i < HEADER_NAMES.length; i++) {
      const value = requestHeaders.get(HEADER_NAMES[i]);
      values[i] = value;
      if (value !== null) headChars += HEADER_NAMES[i].length + value.length + 2;
    }
    // As text, not bytes: workerd makes a string for less than an `ArrayBuffer`, and `ping` served
    // about 8 % more than with `arrayBuffer()` (bench/README.md, twenty-sixth pass). `text()`
    // makes each sequence that is not UTF-8 U+FFFD, as Rust reads the bodies workers-rs takes
    // (`http::body`) and as the original server's `request.json()` read them; a byte order mark,
    // which it keeps at this compatibility date, is dropped by Rust on either path.
    const body = method === "POST" ? await request.text() : "";
    try {
      // Bytes at once when Rust needed no I/O; else a request waiting on a promise, or a
      // Promise of the bytes. Bytes given at once are a view onto Wasm memory, valid until the
      // next call into Rust: `toResponse` must read them before any await (src/lib.rs, `handed_now`).
      let out = handOver(method, url, values, headChars, body, Math.max(declared, body.length), env);
      if (out instanceof Promise) out = await out;
      else if (!(out instanceof Uint8Array) && !(out instanceof Response)) out = await drive(out);
      return toResponse(out);
    } catch (error) {
      // As worker-build's entry does: a trap marks the instance for a restart.
      if (error instanceof WebAssembly.RuntimeError && initState) initState.criticalError = true;
      throw error;
    }
  },

  queue(batch, env, ctx) {
    return new Server(ctx, env).queue(batch);
  },

  scheduled(event, env, ctx) {
    return new Server(ctx, env).scheduled(event);
  },
};
export default worker;

// The hand-over path's code, this module's and Rust's, run once at load for a preflight (no I/O,
// no configuration read; its promise is settled already), so V8 compiles it here and not in the
// first request. From workerd 2026-11-29 on, code compiled at load stays until then; with
// transport::warm_up's run, the first request after start went from 2.17 to 1.30–1.34 times the
// protocol floor's (bench/README.md, thirty-third pass).
worker.fetch(new Request("https://warm-up.invalid/mcp", { method: "OPTIONS" }), env);
