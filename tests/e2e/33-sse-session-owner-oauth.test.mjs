// Issue 18 item 1, the OAuth half: a legacy SSE session opened with an OAuth access token
// belongs to that token's GRANT (`grant:<id>` in sse_sessions.owner), not to the token, which
// rotates. A POST to /sse/message?sessionId=… with another grant's token (even one of the same
// key), another key's token, or the grant's own key's static token gets the 404 an unknown
// session gets, runs nothing and writes nothing; the grant's refreshed access token still posts.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { sleep, uniq } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import { lastMailboxSeq, openSseSession, postSseMessage } from "./support/sse.mjs";
import { grantFor, register, tokenRequest } from "./support/oauth.mjs";

const KEYS = { alice: "alice-token-33aa11bb22cc", bob: "bob-token-33dd33ee44ff" };
const QUIET_MS = 1500;

const toolCall = (id, name, args = {}) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

describe("an SSE session opened with an OAuth token belongs to its grant", () => {
  const streams = [];
  const h = useHarness(
    { vars: { API_KEYS: apiKeys(KEYS), IMAGE_BACKEND: "preview" } },
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
    stream = await openSseSession(h, grantA.access_token);
    streams.push(stream);
  });

  it("records the owner as grant:<id>", async () => {
    const [row] = await h.query("SELECT owner FROM sse_sessions WHERE id = ?", stream.session);
    const [grant] = await h.query("SELECT id FROM oauth_grants WHERE client_name = 'Client A' AND subject = 'alice'");
    assert.equal(row.owner, `grant:${grant.id}`);
  });

  it("refuses another grant's, another key's and the own key's static token, changing nothing", async () => {
    const unknown = await (await postSseMessage(h, KEYS.bob, "0".repeat(32), toolCall("probe", "list_jobs"))).text();
    const seqBefore = await lastMailboxSeq(h);
    const jobsBefore = await h.count("generation_jobs");
    for (const [who, token] of [
      ["alice's other grant", grantB.access_token],
      ["bob's grant", grantBob.access_token],
      ["bob's key", KEYS.bob],
      ["alice's own static key", KEYS.alice],
    ]) {
      const res = await postSseMessage(h, token, stream.session, toolCall(`stolen-${who}`, "generate_image", { prompt: uniq("stolen") }));
      const body = await res.text();
      assert.equal(res.status, 404, `${who}: ${body}`);
      assert.equal(body, unknown, `${who}: the same answer as an unknown session`);
    }
    await sleep(QUIET_MS);
    assert.equal(await lastMailboxSeq(h), seqBefore, "nothing written to the mailbox");
    assert.equal(await h.count("generation_jobs"), jobsBefore, "no job created");
    assert.equal(stream.events.filter((e) => e.type === "message").length, 0, "nothing on the stream");
  });

  it("accepts the grant's refreshed access token (the binding survives rotation)", async () => {
    const refreshed = await tokenRequest(h, { grant_type: "refresh_token", refresh_token: grantA.refresh_token, client_id: clientA });
    assert.equal(refreshed.status, 200);
    assert.notEqual(refreshed.body.access_token, grantA.access_token);
    const res = await postSseMessage(h, refreshed.body.access_token, stream.session, toolCall("own-list", "list_jobs"));
    assert.equal(res.status, 202, await res.text());
    const answer = await stream.until((e) => e.type === "message" && e.json?.id === "own-list", "the grant's answer");
    assert.ok(answer.json.result);
  });

  it("keeps a static key's session closed to that key's grants", async () => {
    const keyStream = await openSseSession(h, KEYS.alice);
    streams.push(keyStream);
    const res = await postSseMessage(h, grantB.access_token, keyStream.session, toolCall("grant-into-key", "list_jobs"));
    assert.equal(res.status, 404);
  });
});
