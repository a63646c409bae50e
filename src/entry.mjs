// The worker's main module (wrangler.toml `main`; scripts/build.sh copies it next to
// worker-build's output as build/entry.mjs).
//
// A JSON-RPC POST on /mcp or /sse whose body declares its length crosses into Wasm once: this
// module reads the body, and hands Rust the URL, the headers it reads as one text and the body in one
// call (`serve_read`, src/lib.rs), which answers with one byte buffer: the status and headers,
// then the body (`Answer::encode`, src/http/answer.rs); synchronously when the request needed no
// I/O, else as a Promise. Everything else (pages, images, OAuth,
// the SSE stream, the OpenAI-compatible API, bodies without a declared length or over the
// limit) and the queue and cron events go to worker-build's entry, whose workers-rs handlers
// cross per header, per body read and per response part. Where a request waits on D1 or R2
// those crossings cost little; on the small requests that make up most MCP traffic they were
// the largest cost (bench/README.md).
import { env } from "cloudflare:workers";
import Server from "./index.js";

// worker-build puts every exported free function on its entry class's prototype; the class
// itself is behind a Proxy that only traps construction, so the prototype is the class's own.
const { serve_read: serveRead, request_body_max_bytes: bodyLimitOf, warm_up: warmUp, entry_headers: headersOf } =
  Server.prototype;
if (![serveRead, bodyLimitOf, warmUp, headersOf].every((f) => typeof f === "function")) {
  throw new Error("entry.mjs: worker-build's index.js does not carry serve_read, request_body_max_bytes, warm_up and entry_headers");
}
const BODY_LIMIT = bodyLimitOf();
/** The headers Rust reads (transport::ENTRY_HEADERS); only these are handed over. */
const HEADER_NAMES = headersOf().split("\n");
// While the isolate starts (during the client's TLS handshake, on Cloudflare), not in the first
// request: the configuration, the latest revision's initialize and tools/list answers, and the
// JSON-RPC path's code.
warmUp(env);
/** The paths handed over (transport::ENTRY_ROUTES). */
const ROUTES = new Set(["/mcp", "/sse"]);
/** worker-build's flag for a Wasm instance that trapped and must be started again. */
const initState = globalThis.__worker_init_state;
const decoder = new TextDecoder();

function pathOf(url) {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.indexOf("?", start);
  return url.slice(start, end < 0 ? undefined : end);
}

function handedOver(request) {
  if (request.method !== "POST" || !ROUTES.has(pathOf(request.url))) return false;
  const declared = request.headers.get("content-length");
  // After a trap, worker-build's entry starts a fresh instance; let it.
  return declared !== null && /^\d+$/.test(declared) && Number(declared) <= BODY_LIMIT && !initState?.criticalError;
}

/** The head last decoded: most answers repeat it byte for byte (the CORS headers are most of it). */
let lastHead = { bytes: new Uint8Array(0), status: 0, headers: [] };

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The answer buffer: 4-byte little-endian head length, head (`status\nname\nvalue…`), body. */
function toResponse(out) {
  if (out instanceof Response) return out;
  const headLength = out[0] | (out[1] << 8) | (out[2] << 16) | (out[3] << 24);
  const headBytes = out.subarray(4, 4 + headLength);
  if (!sameBytes(headBytes, lastHead.bytes)) {
    const head = decoder.decode(headBytes).split("\n");
    const headers = [];
    for (let i = 1; i + 1 < head.length; i += 2) headers.push([head[i], head[i + 1]]);
    lastHead = { bytes: headBytes.slice(), status: Number(head[0]), headers };
  }
  const body = out.subarray(4 + headLength);
  // Each Response builds its own Headers from the pairs, so sharing them is safe.
  return new Response(body.length ? body : null, { status: lastHead.status, headers: lastHead.headers });
}

// A plain object, not a WorkerEntrypoint class: workerd then constructs nothing per request.
export default {
  async fetch(request, env, ctx) {
    if (!handedOver(request)) return new Server(ctx, env).fetch(request);
    let headers = "";
    for (const name of HEADER_NAMES) {
      const value = request.headers.get(name);
      if (value !== null) headers += `${name}\n${value}\n`;
    }
    const body = new Uint8Array(await request.arrayBuffer());
    try {
      // Bytes at once when Rust needed no I/O; a Promise of them when it did.
      let out = serveRead(request.url, headers, body, env);
      if (out instanceof Promise) out = await out;
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
