// Large resources/read answers over the legacy SSE transport (issue 18, item 5). A POST's
// answer reaches its stream through a D1 mailbox row, and D1 refuses a row over about 2 MB (a
// 1.5 MB image is about 2 MB as base64). The mailbox stores an answer that large in pieces of
// at most MAILBOX_PIECE_MAX_BYTES, written in one batch, and the stream writes the pieces one
// after another into one SSE event (src/transport/mailbox.rs, src/transport/sse.rs). Checked with
// images of 1 MB, 1.5 MB and 5 MB read over a raw /sse stream: each arrives as one event, byte
// for byte, nothing is left in the mailbox, and a small request answered after it still arrives.
// Miniflare's local D1 stores rows of any size, so the fault proxy emulates D1's limit: any
// statement binding a value over 2,000,000 bytes fails as D1 fails it (SQLITE_TOOBIG).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { callTool, keyFromWorkerUrl, uniq } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";
import { openSseSession } from "./support/sse.mjs";
import { oversizePngInput } from "./support/input-images.mjs";

const EVENT_TIMEOUT_MS = 30000;
const MB = 1024 * 1024;
/** D1's limit on a string, BLOB or row: https://developers.cloudflare.com/d1/platform/limits/ */
const D1_ROW_MAX_BYTES = 2_000_000;

describe("resources/read of multi-MB images over legacy SSE", () => {
  const h = useHarness({ faults: true });
  let stream;
  let jobId;
  let key;
  let nextId = 1;

  before(async () => {
    await h.setFaults([
      { binding: "DB", maxValueBytes: D1_ROW_MAX_BYTES, times: -1, error: "D1_ERROR: string or blob too big: SQLITE_TOOBIG" },
    ]);
    const client = await h.mcpClient();
    const { result, data } = await callTool(client, "generate_image_and_wait", { prompt: `a large read ${uniq("sse")}` });
    assert.equal(result.isError, undefined, JSON.stringify(data));
    jobId = data.job_id;
    key = keyFromWorkerUrl(data.image_url);

    stream = await openSseSession(h, h.token, { timeoutMs: EVENT_TIMEOUT_MS });
  });
  after(() => stream?.close());

  async function request(method, params) {
    const id = nextId++;
    const res = await h.fetch(stream.endpoint, {
      method: "POST",
      headers: { Authorization: `Bearer ${h.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
    });
    assert.equal(res.status, 202, await res.text());
    return (await stream.until((e) => e.type === "message" && e.json?.id === id, `the answer to request ${id}`)).json;
  }

  for (const [label, bytes] of [
    ["1 MB", 1 * MB],
    ["1.5 MB", 1.5 * MB],
    ["5 MB", 5 * MB],
  ]) {
    it(`a ${label} image arrives whole, as one event, and leaves nothing in the mailbox`, async () => {
      const image = oversizePngInput(bytes);
      await h.r2.put(key, image.bytes, { httpMetadata: { contentType: "image/png" } });
      const started = Date.now();
      const answer = await request("resources/read", { uri: `images://jobs/${jobId}` });
      assert.equal(answer.error, undefined, JSON.stringify(answer.error));
      const [content] = answer.result.contents;
      assert.equal(content.mimeType, "image/png");
      const received = Buffer.from(content.blob, "base64");
      assert.equal(received.length, image.bytes.length);
      assert.ok(received.equals(image.bytes), "the bytes read are the stored bytes");
      assert.ok(content.blob.length > bytes, `the base64 text is ${content.blob.length} characters`);
      assert.equal(await h.count("sse_messages", "session_id = ?", stream.session), 0, "every piece was delivered and deleted");
      assert.deepEqual(await h.faultHits(), [], "no statement bound more than D1 takes");
      // A small request right after still gets its own, whole answer.
      const ping = await request("ping", {});
      assert.deepEqual(ping.result, {});
      assert.ok(Date.now() - started < EVENT_TIMEOUT_MS);
    });
  }
});
