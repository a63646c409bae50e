// A legacy SSE session belongs to the caller that opened it (src/transport/sse.rs,
// post_message): a POST to /sse/message?sessionId=… from another key, or from the
// administrator, gets the same 404 as an unknown session, runs nothing, writes nothing to the
// mailbox and puts nothing on the owner's stream; the owner's own POSTs still work. Sessions
// from before owners were recorded (NULL owner, migration 0007) belong to nobody.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { TEST_TOKEN, sleep, uniq } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import { lastMailboxSeq, openSseSession, postSseMessage } from "./support/sse.mjs";

const KEYS = {
  alice: "alice-token-7f3a9c2e5b1d",
  bob: "bob-token-4e8d2a6c9f0b",
};
/** Long enough for a misdelivered message to reach a busy stream (polled every 50 ms). */
const QUIET_MS = 1500;

function toolCall(id, name, args = {}) {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } };
}

describe("an SSE session belongs to the key that opened it", () => {
  const h = useHarness({
    vars: {
      API_KEYS: apiKeys(KEYS),
    },
  });
  let alice;
  before(async () => {
    alice = await openSseSession(h, KEYS.alice);
  });
  after(() => alice?.close());

  it("the session row records its opener as `key:<name>`", async () => {
    const rows = await h.query("SELECT owner FROM sse_sessions WHERE id = ?", alice.session);
    assert.deepEqual(rows, [{ owner: "key:alice" }]);
  });

  it("another key's POST to a stolen session id is refused like an unknown session, and changes nothing", async () => {
    const unknown = await postSseMessage(h, KEYS.bob, "0".repeat(32), toolCall("probe", "list_jobs"));
    const unknownBody = await unknown.text();
    assert.equal(unknown.status, 404);

    const seqBefore = await lastMailboxSeq(h);
    const jobsBefore = await h.count("generation_jobs");
    const list = await postSseMessage(h, KEYS.bob, alice.session, toolCall("bob-list", "list_jobs"));
    const listBody = await list.text();
    assert.equal(list.status, 404, listBody);
    assert.match(listBody, /Session not found/);
    assert.equal(listBody, unknownBody, "the same answer as a session that does not exist");
    const generate = await postSseMessage(h, KEYS.bob, alice.session, toolCall("bob-gen", "generate_image", { prompt: uniq("stolen") }));
    assert.equal(generate.status, 404, await generate.text());

    await sleep(QUIET_MS);
    assert.equal(await lastMailboxSeq(h), seqBefore, "nothing was written to the mailbox");
    assert.equal(await h.count("generation_jobs"), jobsBefore, "no job was created");
    const leaked = alice.events.filter((e) => e.type === "message" && ["bob-list", "bob-gen"].includes(e.json?.id));
    assert.deepEqual(leaked, [], "alice's stream received nothing for bob's POSTs");
    assert.equal(alice.events.filter((e) => e.type === "message").length, 0, "nothing at all on alice's stream");
  });

  it("the administrator's POST into alice's session is refused the same way", async () => {
    const seqBefore = await lastMailboxSeq(h);
    const res = await postSseMessage(h, TEST_TOKEN, alice.session, toolCall("admin-list", "list_jobs"));
    const body = await res.text();
    assert.equal(res.status, 404, body);
    assert.match(body, /Session not found/);
    await sleep(QUIET_MS);
    assert.equal(await lastMailboxSeq(h), seqBefore);
    assert.equal(alice.events.filter((e) => e.type === "message").length, 0);
  });

  it("alice's own POST still works and its answer reaches her stream", async () => {
    const seqBefore = await lastMailboxSeq(h);
    const res = await postSseMessage(h, KEYS.alice, alice.session, toolCall("alice-list", "list_jobs"));
    assert.equal(res.status, 202, await res.text());
    const answer = await alice.until((e) => e.type === "message" && e.json?.id === "alice-list", "alice's answer");
    assert.ok(answer.json.result, answer.data);
    assert.ok((await lastMailboxSeq(h)) > seqBefore, "the mailbox's sequence moves when a message is written (so its standing still above means something)");
    assert.deepEqual(
      alice.events.filter((e) => e.type === "message").map((e) => e.json?.id),
      ["alice-list"],
      "only alice's own answer was ever on the stream",
    );
  });

  it("a session from before owners were recorded (no owner) belongs to nobody", async () => {
    const old = "f".repeat(32);
    const now = Date.now();
    await h.query("INSERT INTO sse_sessions (id, created_at, last_seen) VALUES (?, ?, ?)", old, now, now);
    for (const token of [TEST_TOKEN, KEYS.alice]) {
      const res = await postSseMessage(h, token, old, toolCall("old", "list_jobs"));
      assert.equal(res.status, 404, await res.text());
    }
    assert.equal(await h.count("sse_messages", "session_id = ?", old), 0);
  });
});

describe("an SSE session the administrator opened", () => {
  const h = useHarness({ vars: { API_KEYS: `alice:${KEYS.alice}` } });
  let admin;
  before(async () => {
    admin = await openSseSession(h, TEST_TOKEN);
  });
  after(() => admin?.close());

  it("is recorded as `admin`, refuses a key's POST and takes the administrator's", async () => {
    assert.deepEqual(await h.query("SELECT owner FROM sse_sessions WHERE id = ?", admin.session), [{ owner: "admin" }]);
    const refused = await postSseMessage(h, KEYS.alice, admin.session, toolCall("alice-in-admin", "list_jobs"));
    assert.equal(refused.status, 404, await refused.text());
    const own = await postSseMessage(h, TEST_TOKEN, admin.session, toolCall("admin-own", "list_jobs"));
    assert.equal(own.status, 202, await own.text());
    await admin.until((e) => e.type === "message" && e.json?.id === "admin-own", "the administrator's answer");
    assert.deepEqual(
      admin.events.filter((e) => e.type === "message").map((e) => e.json?.id),
      ["admin-own"],
    );
  });
});
