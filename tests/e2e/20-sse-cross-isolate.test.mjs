// The legacy HTTP+SSE transport across isolates: the GET /sse stream is served
// by one workerd instance (Miniflare instance A) and the POST
// /sse/message?sessionId=… by ANOTHER (instance B). Nothing but the persisted
// D1 mailbox connects them.
//
// Setup. Two Miniflare instances, each with its own workerd process, port,
// queues (in-memory, per instance) and Workers AI stand-in, configured with the
// same temp directory as `resourcePersistencePath` (Miniflare 5's persistence
// root; D1 lives under <root>/d1, R2 under <root>/r2). Miniflare 5 would let
// both workerd processes open that one SQLite file directly, but then
// concurrent writes fail with "database is locked: SQLITE_BUSY" (workerd's
// SQLite does not wait for the other process's lock), so the test also turns on
// Miniflare's own shared-storage mode (`unsafeEnableSharedStorage`, with a
// private dev-registry directory): the instances elect one storage owner (A,
// started first) and B's D1 calls go to A's D1 object, like every isolate
// talking to the one D1 primary in production. The worker isolates that run
// the GET and the POSTs are still in different processes. Per-instance state
// (cache, Durable Objects) goes to separate `isolatedResourcePersistencePath`s.
//
// startHarness() has no way to pass these Miniflare options, so
// startInstance() below builds the same server worker config from the
// harness's exported pieces (serverWorker, applyMigrations, the AI stand-in).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { Miniflare, Log, LogLevel } from "miniflare";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import {
  applyMigrations,
  serverWorker,
  callTool,
  toolJson,
  uniq,
  sleep,
  COMPATIBILITY_DATE,
  TEST_TOKEN,
  TOOL_NAMES,
  SERVER_NAME,
} from "./harness.mjs";
import { aiStandin, Recorder } from "./support/ai-standin.mjs";
import { makeModelImages } from "./support/images.mjs";
import { readSseEvents } from "./support/sse.mjs";

const SESSION_EXPIRY_MS = 5 * 60 * 1000; // src/transport/mailbox.rs
const EVENT_TIMEOUT_MS = 15000;

class CaptureLog extends Log {
  #sink;
  constructor(sink) {
    super(LogLevel.DEBUG);
    this.#sink = sink;
  }
  logWithLevel(level, message) {
    this.#sink.push(`[miniflare ${LogLevel[level] ?? level}] ${String(message).replace(/\x1b\[[0-9;]*m/g, "")}`);
    if (process.env.E2E_VERBOSE === "1") super.logWithLevel(level, message);
  }
  error(err) {
    this.logWithLevel(LogLevel.ERROR, err?.stack ?? String(err));
  }
}

/** One server instance (own workerd process) whose D1 is shared through `root`. */
async function startInstance(label, root, images) {
  const recorder = new Recorder();
  const standin = aiStandin({ images, recorder, defaultDelayMs: 10, compatibilityDate: COMPATIBILITY_DATE });
  const logs = [];
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    telemetry: { enabled: false },
    cf: false,
    log: new CaptureLog(logs),
    handleStructuredLogs: (l) => {
      logs.push(`[${label} worker ${l.level}] ${l.message}`);
      if (process.env.E2E_VERBOSE === "1") process.stderr.write(`[${label} ${l.level}] ${l.message}\n`);
    },
    resourcePersistencePath: path.join(root, "shared"),
    isolatedResourcePersistencePath: path.join(root, `isolated-${label}`),
    unsafeEnableSharedStorage: true,
    enableDevRegistry: true, // required by shared storage; a private registry, never the global one
    unsafeDevRegistryPath: path.join(root, "registry"),
    workers: [
      serverWorker({ aiBinding: standin.binding }),
      standin.worker,
    ],
  });
  let url;
  try {
    url = await mf.ready;
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
  const db = await mf.getD1Database("DB");
  return {
    label,
    mf,
    origin: url.origin,
    db,
    recorder,
    logs,
    fetch: (p, init) => fetch(new URL(p, url.origin), init),
    async query(sql, ...params) {
      return (await db.prepare(sql).bind(...params).all()).results;
    },
    logText: (n = 30) => logs.slice(-n).join("\n"),
  };
}

/**
 * A raw reader of one GET /sse stream: parses events as they arrive
 * ({type, data, json, at}) and counts comment lines (keep-alives).
 */
async function openSse(instance, { token = TEST_TOKEN } = {}) {
  const abort = new AbortController();
  const headers = { Accept: "text/event-stream" };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await instance.fetch("/sse", { headers, signal: abort.signal });
  const stream = { res, status: res.status, events: [], comments: 0, ended: false, error: null };
  const waiters = new Set();
  const notify = () => {
    for (const w of waiters) w();
  };
  if (res.ok && res.body) {
    (async () => {
      try {
        await readSseEvents(res.body, {
          onEvent: (event) => {
            stream.events.push({ ...event, at: performance.now() });
            notify();
          },
          onComment: () => {
            stream.comments += 1;
            notify();
          },
        });
      } catch (err) {
        if (err?.name !== "AbortError") stream.error = err;
      } finally {
        stream.ended = true;
        notify();
      }
    })();
  }
  /** Wait until `pred(events)` is truthy; returns its value. */
  stream.until = async (pred, what, timeout = EVENT_TIMEOUT_MS) => {
    const deadline = Date.now() + timeout;
    for (;;) {
      const v = pred(stream.events);
      if (v) return v;
      if (stream.ended) throw new Error(`SSE stream ended (${stream.error ?? "closed"}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out after ${timeout} ms waiting for ${what} on the stream; events so far:\n` +
            stream.events.map((e) => `  ${e.type}: ${e.data.slice(0, 160)}`).join("\n"),
        );
      }
      await new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 1000));
        waiters.add(done);
      });
    }
  };
  /** The response (not a notification) with JSON-RPC id `id`. */
  stream.response = (id, timeout) =>
    stream.until(
      (evs) => evs.find((e) => e.type === "message" && e.json && "id" in e.json && e.json.id === id && !("method" in e.json)),
      `the response to id ${JSON.stringify(id)}`,
      timeout,
    );
  /** JSON-RPC messages (event: message) after the endpoint event. */
  stream.messages = () => stream.events.filter((e) => e.type === "message").map((e) => e.json);
  stream.close = () => abort.abort();
  if (res.ok) {
    const endpoint = await stream.until((evs) => evs.find((e) => e.type === "endpoint"), "the endpoint event");
    stream.endpoint = endpoint.data;
    stream.sessionId = new URL(endpoint.data, "http://x").searchParams.get("sessionId");
  } else {
    stream.text = await res.text();
  }
  return stream;
}

/** POST a JSON-RPC body to /sse/message on `instance`. Returns { status, text, json }. */
async function postMessage(instance, endpoint, body, { token = TEST_TOKEN } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await instance.fetch(endpoint, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

const rpc = (id, method, params) => ({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
const INIT_PARAMS = { protocolVersion: "2024-11-05", capabilities: {}, clientInfo: { name: "e2e-sse-cross", version: "1.0.0" } };
const randomSession = () => randomBytes(16).toString("hex");

/** Asserts that `messages` holds each response id exactly once, in the order given. */
function assertResponsesOnceInOrder(messages, ids, context) {
  const responses = messages.filter((m) => m && "id" in m && !("method" in m));
  const seen = responses.map((m) => m.id);
  for (const id of ids) {
    const n = seen.filter((s) => s === id).length;
    assert.equal(n, 1, `response id ${JSON.stringify(id)} arrived ${n} times (want exactly once); ids on stream: ${JSON.stringify(seen)}\n${context()}`);
  }
  const order = seen.filter((s) => ids.includes(s));
  assert.deepEqual(order, ids, `responses out of order; ids on stream: ${JSON.stringify(seen)}`);
}

describe("legacy SSE across two workerd instances: GET /sse on A, POST /sse/message on B, shared D1", () => {
  let root;
  let A;
  let B;
  let stream; // the raw stream on A, shared by the tests below
  let sdkClient;
  const context = () => `--- A logs ---\n${A?.logText()}\n--- B logs ---\n${B?.logText()}`;

  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), "mcp-sse-cross-"));
    const images = makeModelImages();
    A = await startInstance("A", root, images); // started first: the storage owner
    B = await startInstance("B", root, images);
    await applyMigrations(A.db); // through A only: B must see them through the shared D1
  });

  after(async () => {
    stream?.close();
    await sdkClient?.close().catch(() => {});
    // B first: it reaches D1 through A, the storage owner.
    await B?.mf.dispose().catch(() => {});
    await A?.mf.dispose().catch(() => {});
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("A and B are separate servers that share one D1", async () => {
    assert.notEqual(A.origin, B.origin);
    const tables = (await B.query("SELECT name FROM sqlite_master WHERE type = 'table'")).map((r) => r.name);
    for (const t of ["sse_sessions", "sse_messages", "generation_jobs"]) {
      assert.ok(tables.includes(t), `B does not see table ${t} migrated through A: ${tables}`);
    }
    const probe = `probe-${uniq()}`;
    await B.query("INSERT INTO sse_sessions (id, created_at, last_seen) VALUES (?, 0, 0)", probe);
    assert.equal((await A.query("SELECT id FROM sse_sessions WHERE id = ?", probe)).length, 1, "A must see B's write");
    await A.query("DELETE FROM sse_sessions WHERE id = ?", probe);
    assert.equal((await B.query("SELECT id FROM sse_sessions WHERE id = ?", probe)).length, 0, "B must see A's delete");
  });

  it("GET /sse on A announces a session endpoint, recorded in the shared D1", async () => {
    stream = await openSse(A);
    assert.equal(stream.status, 200);
    assert.match(stream.res.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.equal(stream.events[0].type, "endpoint", "the first event must be the endpoint");
    assert.match(stream.endpoint, /^\/sse\/message\?sessionId=[0-9a-f]{32}$/);
    const rows = await B.query("SELECT id, last_seen FROM sse_sessions WHERE id = ?", stream.sessionId);
    assert.equal(rows.length, 1, "B must find the session A opened");
  });

  it("requests POSTed to B are answered on A's stream as `event: message`, each once and in order", async () => {
    assert.ok(stream?.sessionId, "no stream on A (previous test failed)");
    const ep = stream.endpoint;
    const posts = [];
    const post = async (body) => {
      const r = await postMessage(B, ep, body);
      posts.push(r);
      assert.equal(r.status, 202, `POST to B answered ${r.status}: ${r.text}\n${context()}`);
      assert.equal(r.text, "", "202 has no body");
      return r;
    };

    await post(rpc(1, "initialize", INIT_PARAMS));
    const init = (await stream.response(1)).json;
    assert.equal(init.result.serverInfo.name, SERVER_NAME);
    assert.equal(init.result.protocolVersion, "2024-11-05");
    await post({ jsonrpc: "2.0", method: "notifications/initialized" }); // no answer expected
    await post(rpc(2, "tools/list", {}));
    await post(rpc(3, "tools/call", { name: "list_jobs", arguments: {} }));
    await post(rpc(4, "ping"));
    await post([rpc("batch-a", "ping"), rpc("batch-b", "tools/list", {})]); // a batch: two responses, in order

    // generate_image_and_wait runs on B: B's queue, B's AI stand-in, the shared D1.
    const prompt = `a kite crossing isolates ${uniq()} [delay=200]`;
    await post(rpc(5, "tools/call", {
      name: "generate_image_and_wait",
      arguments: { prompt },
      _meta: { progressToken: "cross-5" },
    }));
    await post(rpc(99, "ping")); // sentinel: once it is on the stream, everything before it is too

    await stream.response(99);
    const messages = stream.messages();
    assertResponsesOnceInOrder(messages, [1, 2, 3, 4, "batch-a", "batch-b", 5, 99], context);
    assert.ok(stream.events.slice(1).every((e) => e.type === "message"), "every event after the endpoint is `event: message`");
    const expected = [1, 2, 3, 4, "batch-a", "batch-b", 5, 99];
    const stray = messages.filter((m) => !m || (!("method" in m) && !expected.includes(m.id)));
    assert.deepEqual(stray, [], "no other responses (the notification POSTed by the client gets no answer)");

    const byId = (id) => messages.find((m) => m?.id === id && !m.method);
    assert.deepEqual(byId(2).result.tools.map((t) => t.name), TOOL_NAMES);
    assert.deepEqual(byId("batch-b").result.tools.map((t) => t.name), TOOL_NAMES);
    assert.ok(!byId(3).result.isError, JSON.stringify(byId(3)));
    assert.ok(Array.isArray(toolJson(byId(3).result).jobs), `list_jobs answers with jobs: ${JSON.stringify(byId(3))}`);
    assert.deepEqual(byId(4).result, {});

    const gen = byId(5).result;
    assert.ok(!gen.isError, JSON.stringify(gen));
    const data = toolJson(gen);
    assert.equal(data.status, "completed", JSON.stringify(data));
    assert.ok(data.image_url.startsWith(`${B.origin}/images/`), `image_url points at the instance that ran the call: ${data.image_url}`);
    // Progress notifications were relayed through the mailbox too, before the response.
    const idx5 = messages.indexOf(byId(5));
    const progress = messages.filter((m, i) => m?.method === "notifications/progress" && m.params?.progressToken === "cross-5" && i < idx5);
    assert.ok(progress.length >= 1, `no progress notification for token cross-5 before the response: ${JSON.stringify(messages)}`);
    assert.equal(
      messages.filter((m, i) => m?.method === "notifications/progress" && i > idx5).length,
      0,
      "no progress notification after the response",
    );
    // The model ran on B only.
    assert.equal(B.recorder.callsFor(prompt).length, 1, "B's AI stand-in must have run the model");
    assert.equal(A.recorder.callsFor(prompt).length, 0, "A's AI stand-in must not have been called");

    // Delivered messages are deleted from the mailbox (before they are written to the stream).
    assert.equal(await A.query("SELECT COUNT(*) AS n FROM sse_messages WHERE session_id = ?", stream.sessionId).then((r) => r[0].n), 0);
    assert.equal(await B.query("SELECT COUNT(*) AS n FROM sse_messages").then((r) => r[0].n), 0, "no mailbox rows left at all");
  });

  it("POSTs of one session may alternate between A and B and still arrive once each, in order", async () => {
    assert.ok(stream?.sessionId, "no stream on A");
    const ids = [];
    for (let i = 0; i < 10; i++) {
      const id = 100 + i;
      const target = i % 2 === 0 ? B : A;
      const r = await postMessage(target, stream.endpoint, i % 3 === 0 ? rpc(id, "tools/list", {}) : rpc(id, "ping"));
      assert.equal(r.status, 202, `POST #${i} to ${target.label}: ${r.status} ${r.text}`);
      ids.push(id);
    }
    await stream.response(ids.at(-1));
    assertResponsesOnceInOrder(stream.messages(), ids, context);
    assert.equal(await B.query("SELECT COUNT(*) AS n FROM sse_messages").then((r) => r[0].n), 0, "mailbox empty after delivery");
  });

  it("the official SDK SSE client works with its stream on A and every POST routed to B", async () => {
    const routed = [];
    // A stand-in for the platform's router: same URLs, but POSTs land on the other instance.
    const crossFetch = async (url, init) => {
      const u = new URL(url);
      const method = (init?.method ?? "GET").toUpperCase();
      const target = method === "POST" && u.pathname === "/sse/message" ? B : A;
      routed.push(`${method} ${u.pathname} -> ${target.label}`);
      return fetch(new URL(u.pathname + u.search, target.origin), init);
    };
    const transport = new SSEClientTransport(new URL("/sse", A.origin), {
      requestInit: { headers: { Authorization: `Bearer ${TEST_TOKEN}` } },
      fetch: crossFetch,
    });
    sdkClient = new Client({ name: "e2e-sse-cross-sdk", version: "1.0.0" });
    await sdkClient.connect(transport);
    assert.equal(sdkClient.getServerVersion()?.name, SERVER_NAME);
    const { tools } = await sdkClient.listTools();
    assert.deepEqual(tools.map((t) => t.name), TOOL_NAMES);
    const { result: listed } = await callTool(sdkClient, "list_jobs", {});
    assert.ok(!listed.isError, JSON.stringify(listed));

    const prompt = `an sdk kite over two isolates ${uniq()} [delay=100]`;
    let progressEvents = 0;
    const result = await sdkClient.callTool({ name: "generate_image_and_wait", arguments: { prompt } }, undefined, {
      timeout: 60000,
      onprogress: () => {
        progressEvents += 1;
      },
    });
    const data = toolJson(result);
    assert.ok(!result.isError, JSON.stringify(data));
    assert.equal(data.status, "completed");
    assert.ok(progressEvents >= 1, "the SDK client got progress notifications over the cross-isolate stream");
    const img = await fetch(data.image_url);
    assert.equal(img.status, 200);
    await img.arrayBuffer();
    assert.equal(B.recorder.callsFor(prompt).length, 1, "the tool ran on B");
    assert.equal(A.recorder.callsFor(prompt).length, 0);

    const gets = routed.filter((r) => r.startsWith("GET "));
    const postsToB = routed.filter((r) => r === "POST /sse/message -> B");
    assert.deepEqual(gets, ["GET /sse -> A"], `the stream is one GET on A: ${routed}`);
    assert.ok(postsToB.length >= 5, `initialize, initialized, tools/list and two calls went to B: ${routed}`);
    assert.equal(routed.length, gets.length + postsToB.length, `nothing else was sent: ${routed}`);
    await sdkClient.close();
    sdkClient = undefined;
  });

  it("a POST for an unknown or expired session is 404 with a clear message, on either instance", async () => {
    for (const target of [B, A]) {
      const unknown = randomSession();
      const r = await postMessage(target, `/sse/message?sessionId=${unknown}`, rpc(1, "ping"));
      assert.equal(r.status, 404, `${target.label}: ${r.status} ${r.text}`);
      assert.match(r.json?.error?.message ?? "", /Session not found or expired: open a new stream with GET \/sse/);
    }

    // A session whose stream has not checked in for longer than the expiry, written via A, posted to on B.
    const expired = randomSession();
    const stale = Date.now() - SESSION_EXPIRY_MS - 60_000;
    await A.query("INSERT INTO sse_sessions (id, created_at, last_seen) VALUES (?, ?, ?)", expired, stale, stale);
    const r = await postMessage(B, `/sse/message?sessionId=${expired}`, rpc(1, "ping"));
    assert.equal(r.status, 404, `expired session: ${r.status} ${r.text}`);
    assert.match(r.json?.error?.message ?? "", /Session not found or expired/);
    assert.equal(await A.query("SELECT COUNT(*) AS n FROM sse_messages WHERE session_id = ?", expired).then((x) => x[0].n), 0);

    // Opening a stream (here on B) sweeps expired sessions out of the shared D1.
    const s2 = await openSse(B);
    try {
      assert.equal(s2.status, 200);
      assert.equal((await A.query("SELECT id FROM sse_sessions WHERE id = ?", expired)).length, 0, "expired session swept");
      assert.equal((await A.query("SELECT id FROM sse_sessions WHERE id = ?", s2.sessionId)).length, 1);
    } finally {
      s2.close();
    }
  });

  it("a POST without a sessionId (or with an empty one) is 400, on either instance", async () => {
    for (const target of [B, A]) {
      for (const p of ["/sse/message", "/sse/message?sessionId=", "/sse/message?session=abc"]) {
        const r = await postMessage(target, p, rpc(1, "ping"));
        assert.equal(r.status, 400, `${target.label} ${p}: ${r.status} ${r.text}`);
        assert.match(r.json?.error?.message ?? "", /sessionId query parameter is required/);
      }
    }
  });

  it("both instances require the bearer token on GET /sse and POST /sse/message (401), before any session lookup", async () => {
    assert.ok(stream?.sessionId, "no stream on A");
    for (const target of [A, B]) {
      for (const token of [null, "wrong-token"]) {
        const s = await openSse(target, { token });
        assert.equal(s.status, 401, `${target.label} GET /sse token=${token}: ${s.status}`);
        assert.match(s.res.headers.get("www-authenticate") ?? "", /^Bearer/);
        // A live session does not help without the token...
        const live = await postMessage(target, stream.endpoint, rpc(`refused-${target.label}`, "ping"), { token });
        assert.equal(live.status, 401, `${target.label} POST (live session) token=${token}: ${live.status} ${live.text}`);
        assert.match(live.headers.get("www-authenticate") ?? "", /^Bearer/);
        // ...and an unknown session is 401, not 404: no probing for sessions without the token.
        const unknown = await postMessage(target, `/sse/message?sessionId=${randomSession()}`, rpc(1, "ping"), { token });
        assert.equal(unknown.status, 401, `${target.label} POST (unknown session) token=${token}: ${unknown.status}`);
      }
    }
    // Nothing from the refused POSTs reached the stream: the next message is the sentinel.
    const before = stream.messages().length;
    const r = await postMessage(B, stream.endpoint, rpc("after-401", "ping"));
    assert.equal(r.status, 202);
    await stream.response("after-401");
    const fresh = stream.messages().slice(before);
    assert.deepEqual(fresh.map((m) => m.id), ["after-401"], `unexpected messages: ${JSON.stringify(fresh)}`);
    assert.equal(await A.query("SELECT COUNT(*) AS n FROM sse_messages").then((x) => x[0].n), 0);
  });

  it("no message was ever delivered twice on A's stream", async () => {
    assert.ok(stream, "no stream on A");
    await sleep(200); // one more poll round of the stream: a failed delete would resend now
    const ids = stream.messages().filter((m) => m && "id" in m && !("method" in m)).map((m) => JSON.stringify(m.id));
    const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
    assert.deepEqual(dup, [], `duplicated responses: ${dup}\n${context()}`);
    assert.equal(stream.error, null, `stream error: ${stream.error}`);
    assert.ok(!stream.ended, "the stream is still open");
  });
});
