// How a request is written into Rust's inbox and handed over in one call (`entry_inbox` and
// `serve_inbox`, src/lib.rs): a module of its own, imported by the main module (src/entry.mjs,
// which scripts/build.sh copies next to it as build/handover.mjs) and by bench/serve-read.mjs,
// so the bench times exactly what the entry does.

const encoder = new TextEncoder();

/**
 * Writes `text` as UTF-8 at `at` in `bytes`, never past `end`, and returns where it ends, or -1
 * when it does not fit: by char code while it is ASCII (the caller makes sure `text.length` bytes
 * fit), the rest, if any, by `encodeInto` (at most 3 bytes for each UTF-16 unit; heads have room
 * for that, a body for its declared length: see src/entry.mjs, `handOver`).
 */
export function put(bytes, text, at, end) {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) {
      const { read, written } = encoder.encodeInto(text.slice(i), bytes.subarray(at + i, end));
      return read === n - i ? at + i + written : -1;
    }
    bytes[at + i] = c;
  }
  return at + n;
}

/**
 * Writes a request into the inbox from `start` to `end` in `bytes` (room for 3 bytes per UTF-16
 * unit of the head, and for the body): its method, URL, the `values` of `names` (null for a
 * header the request does not have) as `name\nvalue\n` lines, and its `body` text as UTF-8. Then
 * hands it over: `serve` is `serve_inbox`, called with the four lengths and `env`. Returns what
 * it answers, or null when the body did not fit (nothing is handed over).
 */
export function writeAndServe(bytes, start, end, method, url, names, values, body, serve, env) {
  const urlStart = put(bytes, method, start, end);
  const headersStart = put(bytes, url, urlStart, end);
  let headersEnd = headersStart;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null) continue;
    headersEnd = put(bytes, names[i], headersEnd, end);
    bytes[headersEnd++] = 10;
    headersEnd = put(bytes, value, headersEnd, end);
    bytes[headersEnd++] = 10;
  }
  const bodyEnd = put(bytes, body, headersEnd, end);
  if (bodyEnd < 0) return null;
  return serve(urlStart - start, headersStart - urlStart, headersEnd - headersStart, bodyEnd - headersEnd, env);
}
