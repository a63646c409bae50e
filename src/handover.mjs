// How a request is written into Rust's inbox and handed over in one call (`entry_inbox` and
// `serve_inbox`, src/lib.rs): a module of its own, imported by the main module (src/entry.mjs,
// which scripts/build.sh copies next to it as build/handover.mjs) and by bench/serve-read.mjs,
// so the bench times exactly what the entry does.

const encoder = new TextEncoder();

/**
 * Writes `text` as UTF-8 at `at` in `bytes` and returns where it ends: by char code while it is
 * ASCII, as heads are; the rest, if any, by `encodeInto` (which writes at most 3 bytes for each
 * UTF-16 unit, what the inbox allows for).
 */
export function put(bytes, text, at) {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return at + i + encoder.encodeInto(text.slice(i), bytes.subarray(at + i)).written;
    bytes[at + i] = c;
  }
  return at + n;
}

/**
 * Writes a request into the inbox at `start` in `bytes` (room for 3 bytes per UTF-16 unit of the
 * head, and the body): its method, URL, the `values` of `names` (null for a header the request
 * does not have) as `name\nvalue\n` lines, and its body. Then hands it over: `serve` is
 * `serve_inbox`, called with the four lengths and `env`. Returns what it answers.
 */
export function writeAndServe(bytes, start, method, url, names, values, body, serve, env) {
  const urlStart = put(bytes, method, start);
  const headersStart = put(bytes, url, urlStart);
  let end = headersStart;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null) continue;
    end = put(bytes, names[i], end);
    bytes[end++] = 10;
    end = put(bytes, value, end);
    bytes[end++] = 10;
  }
  bytes.set(body, end);
  return serve(urlStart - start, headersStart - urlStart, end - headersStart, body.length, env);
}
