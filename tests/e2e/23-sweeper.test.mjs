// The cron sweeper, run through Miniflare's trigger endpoint as if time had passed
// (h.sweep(time) → GET /cdn-cgi/local/scheduled?time=<ms>): a job whose queue message was lost is
// re-queued and completes after one sweep; a job stuck in `processing` past the queue's retry
// window is failed with an error that says so (and the wait tool reports it); a job never
// delivered for a day is failed; stale SSE sessions go with their messages; retention is off by
// default and, with RETENTION_DAYS, deletes old images, thumbnails and rows, and the stored inputs
// (`input-…`) of those jobs that no other job uses (an input a live job uses stays, an earlier
// job's image used in place goes only with its own job). Every sweep is idempotent: the next one
// at the same time changes nothing.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { callTool, uniq, keyFromWorkerUrl } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";
import { pngInput } from "./support/input-images.mjs";

// The retry window with the default AI timeout (src/sweeper.rs retry_window_ms): 4 deliveries of
// (120 s + 60 s) plus 2 + 4 + 8 s of retry delays.
const WINDOW_MS = (4 * 180 + 14) * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A job row as generate_image writes it, whose queue message never went out. */
async function insertJob(h, { status = "pending", at = Date.now(), prompt = `a lost lantern ${uniq()}`, error = null } = {}) {
  const id = randomUUID();
  await h.db
    .prepare(
      "INSERT INTO generation_jobs (id, status, prompt, model, image_url, error, created_at, updated_at, seed, width, height, parameters) " +
        "VALUES (?, ?, ?, 'flux-schnell', NULL, ?, ?, ?, NULL, NULL, NULL, '{}')",
    )
    .bind(id, status, prompt, error, at, at)
    .run();
  return { id, prompt };
}

describe("the sweeper (retention off)", () => {
  let client;
  const h = useHarness();
  before(async () => {
    client = await h.mcpClient();
  });

  it("a pending job whose message was lost is re-queued once, after the window, and completes", async () => {
    const t0 = Date.now();
    const { id, prompt } = await insertJob(h, { at: t0 });
    const early = await h.sweep(t0 + WINDOW_MS - 5000);
    assert.equal(early.requeued, 0, `re-queued inside the window: ${early.line}`);
    assert.equal((await h.job(id)).status, "pending");

    const swept = await h.sweep(t0 + WINDOW_MS + 1000);
    assert.equal(swept.requeued, 1, swept.line);
    assert.equal(swept.errors, 0, swept.line);
    const row = await h.waitForJob(id, ["completed", "failed"]);
    assert.equal(row.status, "completed", `the re-queued job did not complete: ${JSON.stringify(row)}\n${h.logText()}`);
    assert.equal(h.recorder.callsFor(prompt).length, 1, "one model call");
    const ofJob = (await h.r2Objects()).filter((o) => o.customMetadata?.jobId === id);
    assert.equal(ofJob.filter((o) => !o.customMetadata?.thumbnailOf).length, 1, "one R2 image");
    assert.equal(ofJob.filter((o) => o.customMetadata?.thumbnailOf).length, 1, "one thumbnail");
    assert.equal(await h.count("generations", "job_id = ?", id), 1, "one gallery row");
    const { data } = await callTool(client, "wait_for_completion", { job_id: id });
    assert.equal(data.status, "completed");
    assert.equal((await h.fetchImage(data.image_url)).format, "jpeg");

    // Idempotent: the same sweep again finds nothing, and the job is not sent twice.
    const again = await h.sweep(t0 + WINDOW_MS + 1000);
    assert.equal(again.requeued, 0, again.line);
    assert.equal(h.recorder.callsFor(prompt).length, 1);
  });

  it("a job stuck in `processing` past the retry window is failed with an error that says so, and waits report it", async () => {
    const t0 = Date.now();
    const { id, prompt } = await insertJob(h, { status: "processing", at: t0, error: "stand-in: model unavailable" });
    // The dead attempt had stored its image (and a thumbnail) before the runtime stopped.
    const stem = `${t0}-${prompt.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${id}`;
    await h.r2.put(`${stem}.jpg`, h.images[Object.keys(h.images)[0]] ?? new Uint8Array([0xff, 0xd8, 0xff]));
    await h.r2.put(`${stem}-thumb.webp`, new Uint8Array([82, 73, 70, 70]));
    const inside = await h.sweep(t0 + WINDOW_MS - 5000);
    assert.equal(inside.stuckFailed, 0, inside.line);
    assert.ok(await h.r2.head(`${stem}.jpg`), "nothing deleted inside the window");
    assert.equal((await h.job(id)).status, "processing", "an attempt may still be running inside the window");

    const swept = await h.sweep(t0 + WINDOW_MS + 1000);
    assert.equal(swept.stuckFailed, 1, swept.line);
    const row = await h.job(id);
    assert.equal(row.status, "failed");
    assert.match(row.error, /^No result within the queue's retry window \(13 min\): the last attempt stopped without reporting back/);
    assert.match(row.error, /failed by the sweeper\. Last recorded error: stand-in: model unavailable$/);
    const { result, data } = await callTool(client, "wait_for_completion", { job_id: id });
    assert.equal(result.isError, true, JSON.stringify(data));
    assert.ok(JSON.stringify(data).includes("retry window"), `the client should see why: ${JSON.stringify(data)}`);
    assert.equal(await h.r2.head(`${stem}.jpg`), null, "the dead attempt's image is deleted with the failure");
    assert.equal(await h.r2.head(`${stem}-thumb.webp`), null);
    assert.equal((await h.sweep(t0 + WINDOW_MS + 1000)).stuckFailed, 0, "idempotent");
    assert.equal((await h.job(id)).error, row.error, "a second sweep does not rewrite the error");
  });

  it("a job the queue never delivered for a day is failed, not re-queued again", async () => {
    const now = Date.now();
    const { id, prompt } = await insertJob(h, { at: now - DAY_MS - 60_000 });
    const swept = await h.sweep(now);
    assert.equal(swept.undeliveredFailed, 1, swept.line);
    assert.equal(swept.requeued, 0, swept.line);
    const row = await h.job(id);
    assert.equal(row.status, "failed");
    assert.match(row.error, /did not deliver this job within 24 h/);
    assert.equal(h.recorder.callsFor(prompt).length, 0);
  });

  it("completed and failed jobs are never touched, and retention is off by default", async () => {
    const prompt = `a kept kite ${uniq()}`;
    const { data } = await callTool(client, "generate_image_and_wait", { prompt });
    assert.equal(data.status, "completed");
    const objects = (await h.r2Objects()).length;
    const swept = await h.sweep(Date.now() + 400 * DAY_MS);
    assert.equal(swept.retentionJobs, 0, swept.line);
    const row = await h.job(data.job_id);
    assert.equal(row.status, "completed");
    assert.equal((await h.r2Objects()).length, objects, "no object deleted");
    await h.fetchImage(data.image_url);
  });

  it("SSE sessions not seen for 5 minutes are swept with their messages; live ones stay", async () => {
    const now = Date.now();
    await h.query("DELETE FROM sse_messages");
    await h.query("DELETE FROM sse_sessions");
    await h.db.batch([
      h.db.prepare("INSERT INTO sse_sessions (id, created_at, last_seen) VALUES ('stale-1', ?, ?)").bind(now - 3_600_000, now - 3_600_000),
      h.db.prepare("INSERT INTO sse_sessions (id, created_at, last_seen) VALUES ('live-1', ?, ?)").bind(now, now),
      h.db.prepare("INSERT INTO sse_messages (session_id, payload, created_at) VALUES ('stale-1', '{}', ?), ('stale-1', '{}', ?), ('live-1', '{}', ?)").bind(now, now, now),
    ]);
    const swept = await h.sweep(now + 60_000);
    assert.equal(swept.sseSessions, 1, swept.line);
    assert.equal(swept.sseMessages, 2, swept.line);
    assert.deepEqual((await h.query("SELECT id FROM sse_sessions")).map((r) => r.id), ["live-1"]);
    assert.equal(await h.count("sse_messages", "session_id = 'live-1'"), 1);
    const again = await h.sweep(now + 60_000);
    assert.equal(again.sseSessions + again.sseMessages, 0, again.line);
  });
});

describe("the sweeper with RETENTION_DAYS=2", () => {
  let client;
  const h = useHarness({ vars: { RETENTION_DAYS: "2" } });
  before(async () => {
    client = await h.mcpClient();
  });

  it("deletes images, thumbnails and rows older than N days (R2 first), keeps newer ones, and is idempotent", async () => {
    const old = [];
    for (const model of ["flux-schnell", "sdxl-lightning"]) {
      const { data } = await callTool(client, "generate_image_and_wait", { prompt: `an old owl ${uniq()}`, model });
      assert.equal(data.status, "completed", JSON.stringify(data));
      old.push(data);
    }
    const failedPrompt = `a failed fern ${uniq()} [error=5006]`;
    const { result: failedResult } = await callTool(client, "generate_image_and_wait", { prompt: failedPrompt });
    assert.equal(failedResult.isError, true);
    const [{ id: failedId, status: failedStatus }] = await h.query("SELECT id, status FROM generation_jobs WHERE prompt = ?", failedPrompt);
    assert.equal(failedStatus, "failed");
    // The consumer stored a thumbnail beside each image.
    const firstKey = keyFromWorkerUrl(old[0].image_url);
    const thumbKey = firstKey.replace(/\.[a-z]+$/, "-thumb.webp");
    assert.ok(await h.r2.head(thumbKey), "the first image has its thumbnail");
    const sweepAt = Date.now() + 2 * DAY_MS + 60_000;
    // A job finished a day "later" than the sweep's cutoff is kept.
    const { data: recent } = await callTool(client, "generate_image_and_wait", { prompt: `a young yak ${uniq()}` });
    await h.query("UPDATE generation_jobs SET created_at = ? WHERE id = ?", sweepAt - DAY_MS, recent.job_id);
    // Besides the two old images and their thumbnails, and the recent image and its thumbnail.
    const otherObjects = (await h.r2Objects()).length - 6;

    const swept = await h.sweep(sweepAt);
    assert.equal(swept.errors, 0, swept.line);
    assert.equal(swept.retentionJobs, 3, swept.line); // two completed, one failed
    assert.equal(swept.retentionObjects, 4, swept.line); // two images, two thumbnail keys (one existed)
    for (const data of old) {
      assert.equal(await h.job(data.job_id), null);
      assert.equal(await h.count("generations", "job_id = ?", data.job_id), 0);
      assert.equal(await h.r2.head(keyFromWorkerUrl(data.image_url)), null);
      assert.equal((await h.fetch(new URL(data.image_url).pathname)).status, 404);
    }
    assert.equal(await h.r2.head(thumbKey), null, "the thumbnail went with its image");
    assert.equal(await h.job(failedId), null, "failed jobs expire too");
    assert.equal((await h.job(recent.job_id)).status, "completed", "a newer job is kept");
    await h.fetchImage(recent.image_url);
    assert.equal((await h.r2Objects()).length, otherObjects + 2, "only the recent image and its thumbnail remain");

    const again = await h.sweep(sweepAt);
    assert.equal(again.retentionJobs, 0, again.line);
    assert.equal(again.errors, 0, again.line);
  });

  it("deletes an expired job's stored input no other job uses, keeps one a live job uses, until that job expires too", async () => {
    const edit = async (args) => {
      const { result, data } = await callTool(client, "edit_image", args);
      assert.equal(result.isError, undefined, JSON.stringify(data).slice(0, 600));
      assert.equal(data.status, "completed", JSON.stringify(data).slice(0, 600));
      return data;
    };
    const keyOf = (url) => keyFromWorkerUrl(new URL(url, h.origin).href);
    // B (kept): uploads y. A (expires): uploads x and uses y in place by its URL (FLUX.2, two
    // references). C (expires): uses the image of G (kept) in place by its job id.
    const b = await edit({ prompt: `a kept edit ${uniq()}`, images: [pngInput(64, 64, { seed: 31 }).dataUrl] });
    const yKey = keyOf(b.inputs[0].url);
    const a = await edit({
      prompt: `an expired edit ${uniq()}`,
      images: [pngInput(64, 64, { seed: 32 }).dataUrl, b.inputs[0].url],
      model: "flux-2-klein-4b",
    });
    const xKey = keyOf(a.inputs[0].url);
    assert.match(xKey, /^input-/);
    assert.match(yKey, /^input-/);
    assert.equal(a.inputs[1].url, b.inputs[0].url, "y is used in place");
    const { data: g } = await callTool(client, "generate_image_and_wait", { prompt: `a kept gull ${uniq()}` });
    assert.equal(g.status, "completed", JSON.stringify(g));
    const c = await edit({ prompt: `an expired edit of a kept image ${uniq()}`, images: [g.job_id] });
    assert.equal(c.inputs[0].url, g.image_url, "G's image is used in place");
    assert.ok(await h.r2.head(xKey), "x is stored");
    assert.ok(await h.r2.head(yKey), "y is stored");

    const sweepAt = Date.now() + 2 * DAY_MS + 60_000;
    for (const kept of [b, g]) {
      await h.query("UPDATE generation_jobs SET created_at = ? WHERE id = ?", sweepAt - DAY_MS, kept.job_id);
    }
    const swept = await h.sweep(sweepAt);
    assert.equal(swept.errors, 0, swept.line);
    assert.equal(swept.retentionJobs, 2, swept.line); // A and C
    assert.equal(swept.retentionObjects, 4, swept.line); // their images and thumbnails
    assert.equal(swept.retentionInputs, 1, swept.line); // x only
    for (const gone of [a, c]) {
      assert.equal(await h.job(gone.job_id), null);
      assert.equal(await h.r2.head(keyFromWorkerUrl(gone.image_url)), null, "the expired job's image is deleted as before");
    }
    assert.equal(await h.r2.head(xKey), null, "the orphaned input is deleted");
    assert.equal((await h.fetch(`/images/${xKey}`)).status, 404);
    assert.ok(await h.r2.head(yKey), "the input a live job uses stays");
    assert.equal((await h.fetch(`/images/${yKey}`)).status, 200);
    const row = await h.job(b.job_id);
    assert.equal(row.status, "completed", "the live job is untouched");
    assert.deepEqual(JSON.parse(row.inputs).map((input) => keyOf(input.url)), [yKey], "and still lists y");
    await h.fetchImage(b.image_url);
    await h.fetchImage(g.image_url); // an earlier job's image used in place goes only with its own job
    assert.equal((await h.job(g.job_id)).status, "completed");

    const again = await h.sweep(sweepAt);
    assert.equal(again.retentionJobs + again.retentionInputs, 0, again.line);
    assert.ok(await h.r2.head(yKey));

    // Once B expires too, y has no job left and goes with it.
    const later = await h.sweep(sweepAt + 2 * DAY_MS);
    assert.equal(later.errors, 0, later.line);
    assert.equal(await h.job(b.job_id), null, later.line);
    assert.equal(later.retentionInputs, 1, later.line);
    assert.equal(await h.r2.head(yKey), null, "the input goes with the last job that used it");
  });
});
