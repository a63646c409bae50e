// Issue 18 item 1, the OAuth half: a legacy SSE session opened with an OAuth access token
// belongs to that token's GRANT (`grant:<id>` in sse_sessions.owner), not to the token, which
// rotates. A POST to /sse/message?sessionId=… with another grant's token (even one of the same
// key), another key's token, or the grant's own key's static token gets the 404 an unknown
// session gets, runs nothing and writes nothing; the grant's refreshed access token still posts.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { sleep, uniq } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";
import { readSseEvents } from "./support/sse.mjs";
import { grantFor, register, tokenRequest } from "./support/oauth.mjs";

const KEYS = { alice: "alice-token-33aa11bb22cc", bob: "bob-token-33dd33ee44ff" };
const EVENT_TIMEOUT_MS = 15000;
const QUIET_MS = 1500;

async function openSse(h, token) {
  const abort = new AbortController();
  const res = await h.fetch("/sse", { headers: { Accept: "text/event-stream", Authorization: `Bearer ${token}` }, signal: abort.signal });
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
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    for (;;) {
      const found = stream.events.find(pred);
      if (found) return found;
      if (stream.ended || Date.now() > deadline) throw new Error(`no ${what} on the stream`);
      await sleep(25);
    }
  };
  const endpoint = await stream.until((e) => e.type === "endpoint", "endpoint event");
  stream.session = new URL(endpoint.data, h.origin).searchParams.get("sessionId");
  return stream;
}

const post = (h, token, session, message) =>
  h.fetch(`/sse/message?sessionId=${session}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(message),
  });
const toolCall = (id, name, args = {}) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
const lastSeq = async (h) => (await h.query("SELECT seq FROM sqlite_sequence WHERE name = 'sse_messages'"))[0]?.seq ?? 0;

describe("an SSE session opened with an OAuth token belongs to its grant", () => {
  const streams = [];
  const h = useHarness(
    { vars: { API_KEYS: Object.entries(KEYS).map(([n, t]) => `${n}:${t}`).join(","), IMAGE_BACKEND: "preview" } },
    { teardown: () => streams.forEach((s) => s.close()) },
  );
  let clientA;
  let grantA;
  let grantB;
  let grantBob;
  let stream;
  before(async () => {
    clientA = (await register(h, { name: "Client A" })).client_id;
    const clientB = (await register(h, { name: "Client B" })).client_id;
    grantA = (await grantFor(h, clientA, KEYS.alice)).tokens;
    grantB = (await grantFor(h, clientB, KEYS.alice)).tokens;
    grantBob = (await grantFor(h, clientA, KEYS.bob)).tokens;
    stream = await openSse(h, grantA.access_token);
    streams.push(stream);
  });

  it("records the owner as grant:<id>", async () => {
    const [row] = await h.query("SELECT owner FROM sse_sessions WHERE id = ?", stream.session);
    const [grant] = await h.query("SELECT id FROM oauth_grants WHERE client_name = 'Client A' AND subject = 'alice'");
    assert.equal(row.owner, `grant:${grant.id}`);
  });

  it("refuses another grant's, another key's and the own key's static token, changing nothing", async () => {
    const unknown = await (await post(h, KEYS.bob, "0".repeat(32), toolCall("probe", "list_jobs"))).text();
    const seqBefore = await lastSeq(h);
    const jobsBefore = await h.count("generation_jobs");
    for (const [who, token] of [
      ["alice's other grant", grantB.access_token],
      ["bob's grant", grantBob.access_token],
      ["bob's key", KEYS.bob],
      ["alice's own static key", KEYS.alice],
    ]) {
      const res = await post(h, token, stream.session, toolCall(`stolen-${who}`, "generate_image", { prompt: uniq("stolen") }));
      const body = await res.text();
      assert.equal(res.status, 404, `${who}: ${body}`);
      assert.equal(body, unknown, `${who}: the same answer as an unknown session`);
    }
    await sleep(QUIET_MS);
    assert.equal(await lastSeq(h), seqBefore, "nothing written to the mailbox");
    assert.equal(await h.count("generation_jobs"), jobsBefore, "no job created");
    assert.equal(stream.events.filter((e) => e.type === "message").length, 0, "nothing on the stream");
  });

  it("accepts the grant's refreshed access token (the binding survives rotation)", async () => {
    const refreshed = await tokenRequest(h, { grant_type: "refresh_token", refresh_token: grantA.refresh_token, client_id: clientA });
    assert.equal(refreshed.status, 200);
    assert.notEqual(refreshed.body.access_token, grantA.access_token);
    const res = await post(h, refreshed.body.access_token, stream.session, toolCall("own-list", "list_jobs"));
    assert.equal(res.status, 202, await res.text());
    const answer = await stream.until((e) => e.type === "message" && e.json?.id === "own-list", "the grant's answer");
    assert.ok(answer.json.result);
  });

  it("keeps a static key's session closed to that key's grants", async () => {
    const keyStream = await openSse(h, KEYS.alice);
    streams.push(keyStream);
    const res = await post(h, grantB.access_token, keyStream.session, toolCall("grant-into-key", "list_jobs"));
    assert.equal(res.status, 404);
  });
});
