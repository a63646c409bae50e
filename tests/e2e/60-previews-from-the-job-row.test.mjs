// Inline previews from the job row (issue 19, item 4), and the consumer's concurrent thumbnail
// and image put (item 5), end to end.
//
// The consumer keeps each thumbnail's base64 in the job row (`thumbnail_base64`, migration 0013)
// when it fits a result's inline budget, so get_job_status and wait_for_completion show the
// preview without reading R2: deleting the thumbnail object behind the server's back (straight
// through Miniflare) leaves the preview as it was, byte for byte. A row without the text (a job
// completed before the column existed) is read from R2 as before. Whatever removes a thumbnail
// removes its preview: delete_image's tombstone, a redo whose thumbnail fails, retention. And an
// attempt whose image put fails (the thumbnail is made meanwhile) leaves no thumbnail in R2
// while it waits for its retry.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { callTool, uniq, keyFromWorkerUrl, waitFor } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const DAY_MS = 24 * 60 * 60 * 1000;

function inlineImages(result) {
  return result.content.filter((block) => block.type === "image");
}

describe("previews come from the job row", () => {
  let client;
  // Retries wait 2 s, so the state between a failed attempt and its retry can be read.
  const h = useHarness({ faults: true, retryDelaySeconds: 2, vars: { RETENTION_DAYS: "1" } });
  before(async () => {
    client = await h.mcpClient();
  });

  async function finished(prompt) {
    await h.setFaults([]);
    const { data } = await callTool(client, "generate_image_and_wait", { prompt, model: "flux-schnell" });
    assert.equal(data.status, "completed", JSON.stringify(data));
    return { jobId: data.job_id, thumbKey: keyFromWorkerUrl(data.thumbnail_url), imageKey: keyFromWorkerUrl(data.image_url) };
  }

  async function statusPreviews(jobId) {
    const { result } = await callTool(client, "get_job_status", { job_id: jobId });
    return inlineImages(result);
  }

  it("the row keeps the thumbnail's base64, and get_job_status shows it after the R2 object is gone", async () => {
    const { jobId, thumbKey } = await finished(`a row-kept heron ${uniq("row")}`);
    const thumb = await h.r2Bytes(thumbKey);
    assert.ok(thumb, "the thumbnail is in R2");
    const text = Buffer.from(thumb.bytes).toString("base64");
    const [row] = await h.query("SELECT thumbnail_base64 FROM generation_jobs WHERE id = ?", jobId);
    assert.equal(row.thumbnail_base64, text, "the job row holds exactly the stored thumbnail, as base64");

    const before = await statusPreviews(jobId);
    assert.deepEqual(before, [{ type: "image", data: text, mimeType: "image/webp" }]);

    await h.r2.delete(thumbKey);
    assert.equal(await h.r2Bytes(thumbKey), null, "deleted behind the server's back");
    assert.deepEqual(await statusPreviews(jobId), before, "get_job_status still inlines the same bytes");
    const waited = await callTool(client, "wait_for_completion", { job_id: jobId });
    assert.deepEqual(inlineImages(waited.result), before, "and so does wait_for_completion");
  });

  it("a row without the text (completed before migration 0013) is previewed from R2, as before", async () => {
    const { jobId, thumbKey } = await finished(`an older kestrel ${uniq("row")}`);
    await h.query("UPDATE generation_jobs SET thumbnail_base64 = NULL WHERE id = ?", jobId);
    const thumb = await h.r2Bytes(thumbKey);
    assert.deepEqual(await statusPreviews(jobId), [
      { type: "image", data: Buffer.from(thumb.bytes).toString("base64"), mimeType: "image/webp" },
    ]);
    await h.r2.delete(thumbKey);
    assert.deepEqual(await statusPreviews(jobId), [], "read from R2: no object, no preview");
  });

  it("delete_image's tombstone drops the preview with the thumbnail", async () => {
    const { jobId } = await finished(`a deleted owl ${uniq("row")}`);
    assert.equal((await statusPreviews(jobId)).length, 1);
    const { data } = await callTool(client, "delete_image", { job_id: jobId });
    assert.deepEqual(data.deleted, [jobId], JSON.stringify(data));
    const [row] = await h.query("SELECT status, thumbnail_url, thumbnail_base64 FROM generation_jobs WHERE id = ?", jobId);
    assert.deepEqual(row, { status: "deleted", thumbnail_url: null, thumbnail_base64: null });
    assert.deepEqual(await statusPreviews(jobId), []);
  });

  it("a redo whose thumbnail fails clears the preview with thumbnail_url", async () => {
    const prompt = `a redone lantern ${uniq("row")}`;
    const { jobId } = await finished(prompt);
    assert.equal((await statusPreviews(jobId)).length, 1);
    await h.setFaults([{ binding: "IMAGES", method: "input", times: 1 }]);
    const calls = h.recorder.callsFor(prompt).length;
    await h.query("UPDATE generation_jobs SET status = 'processing' WHERE id = ?", jobId);
    await h.queue.send({ jobId, prompt, model: "flux-schnell" });
    await waitFor(async () => h.recorder.callsFor(prompt).length > calls && (await h.job(jobId)).status === "completed", {
      timeout: 20000,
      message: "the job to be redone",
    });
    await h.waitForNoJobsInFlight();
    const [row] = await h.query("SELECT thumbnail_url, thumbnail_base64 FROM generation_jobs WHERE id = ?", jobId);
    assert.deepEqual(row, { thumbnail_url: null, thumbnail_base64: null });
    assert.deepEqual(await statusPreviews(jobId), []);
  });

  it("an attempt whose image put fails leaves no thumbnail behind; the retry stores both", async () => {
    const slug = `failed-put-gull-${uniq("row").toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
    const prompt = slug.replace(/-/g, " ");
    // The image put fails; the thumbnail is made at the same time, and stored only after it.
    await h.setFaults([{ binding: "R2", method: "put", match: slug, times: 1 }]);
    const { data } = await callTool(client, "generate_image", { prompt, model: "flux-schnell" });
    const jobId = data.job_id;
    assert.ok(jobId, JSON.stringify(data));
    const retrying = await waitFor(async () => {
      const row = await h.job(jobId);
      return row?.error && row.status === "pending" ? row : null;
    }, { timeout: 20000, message: "the failed attempt to be recorded" });
    assert.match(retrying.error, /could not store the image in R2/);
    const hits = await h.faultHits();
    assert.equal(hits.length, 1, JSON.stringify(hits));
    assert.ok(!hits[0].detail.includes("-thumb.webp"), `the image put failed, not the thumbnail's: ${JSON.stringify(hits)}`);
    const objects = (await h.r2Objects()).filter((o) => o.key.includes(jobId));
    assert.deepEqual(objects.map((o) => o.key), [], "nothing of the failed attempt is left in R2");

    const done = await h.waitForJob(jobId, "completed", { timeout: 20000 });
    const keys = (await h.r2Objects()).filter((o) => o.key.includes(jobId)).map((o) => o.key).sort();
    const keyOfRowUrl = (url) => keyFromWorkerUrl(new URL(url, "http://worker.test").href);
    assert.deepEqual(keys, [keyOfRowUrl(done.image_url), keyOfRowUrl(done.thumbnail_url)].sort());
    assert.equal((await statusPreviews(jobId)).length, 1);
  });

  it("retention deletes the row, and with it the preview", async () => {
    const { jobId } = await finished(`an expiring wren ${uniq("row")}`);
    await h.waitForNoJobsInFlight();
    const swept = await h.sweep(Date.now() + 2 * DAY_MS);
    assert.ok(swept.retentionJobs >= 1, JSON.stringify(swept));
    assert.equal(await h.count("generation_jobs", "id = ?", jobId), 0);
    const { result } = await callTool(client, "get_job_status", { job_id: jobId });
    assert.deepEqual(inlineImages(result), []);
  });
});
