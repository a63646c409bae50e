// Reading a text/event-stream body as the legacy SSE transport writes it, for the e2e files that
// hold a raw stream open (the SDK clients parse their own), and opening and posting to a session.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { sleep } from "../harness.mjs";

/**
 * Reads `body` (a fetch Response body) to its end: `onEvent({type, data, json})` for each event
 * (`json` is null when the data is not JSON) and `onComment()` for each comment line (the
 * keep-alives). Rejects with the read's error, e.g. an AbortError when the caller aborts.
 */
export async function readSseEvents(body, { onEvent, onComment = () => {} }) {
  const decoder = new TextDecoder();
  let buf = "";
  let type = "message";
  let data = [];
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      if (line === "") {
        if (data.length > 0) {
          const text = data.join("\n");
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {}
          onEvent({ type, data: text, json });
        }
        type = "message";
        data = [];
      } else if (line.startsWith(":")) {
        onComment();
      } else {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") type = value;
        else if (field === "data") data.push(value);
      }
    }
  }
}

/**
 * Opens GET /sse on harness `h` as `token` and reads it in the background: `events` collects
 * the events as they arrive, `until(pred, what)` waits up to `timeoutMs` for a matching one,
 * `session` and `endpoint` (absolute) come from the endpoint event, `close()` ends the stream.
 */
export async function openSseSession(h, token, { timeoutMs = 15000 } = {}) {
  const abort = new AbortController();
  const res = await h.fetch("/sse", {
    headers: { Accept: "text/event-stream", Authorization: `Bearer ${token}` },
    signal: abort.signal,
  });
  assert.equal(res.status, 200);
  const stream = { events: [], ended: false, close: () => abort.abort() };
  (async () => {
    try {
      await readSseEvents(res.body, { onEvent: (event) => stream.events.push(event) });
    } catch {
      // aborted by close()
    } finally {
      stream.ended = true;
    }
  })();
  stream.until = async (pred, what) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = stream.events.find(pred);
      if (found) return found;
      if (stream.ended || Date.now() > deadline) {
        throw new Error(`no ${what} on the stream; events: ${stream.events.map((e) => e.data.slice(0, 120)).join(" | ")}`);
      }
      await sleep(25);
    }
  };
  const endpoint = new URL((await stream.until((e) => e.type === "endpoint", "endpoint event")).data, h.origin);
  stream.endpoint = endpoint.toString();
  stream.session = endpoint.searchParams.get("sessionId");
  return stream;
}

/** POSTs a JSON-RPC `message` to SSE session `session` as `token`. */
export function postSseMessage(h, token, session, message) {
  return h.fetch(`/sse/message?sessionId=${session}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(message),
  });
}

/** The last seq the SSE mailbox handed out (AUTOINCREMENT), so a message written and already delivered still shows. */
export async function lastMailboxSeq(h) {
  const rows = await h.query("SELECT seq FROM sqlite_sequence WHERE name = 'sse_messages'");
  return rows[0]?.seq ?? 0;
}

/** The official SDK client connected over the legacy SSE transport as the harness's administrator; the caller closes it. */
export async function sdkSseClient(h) {
  const client = new Client({ name: "e2e-sse", version: "1.0.0" });
  await client.connect(new SSEClientTransport(new URL("/sse", h.origin), { requestInit: { headers: { Authorization: `Bearer ${h.token}` } } }));
  return client;
}
