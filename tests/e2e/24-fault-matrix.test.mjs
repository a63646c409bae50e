// The fault matrix: each fault is injected (Workers AI through the stand-in's prompt markers; D1,
// R2 and the queue producer through the fault proxy, startHarness({faults: true})), then one
// sweep runs as if the retry window had passed, and the same invariants are checked for every
// job the fault touched:
//   - it ended `completed` or `failed` (none pending or processing after one sweep);
//   - at most one R2 object and one gallery row; a completed job has exactly one of each, a
//     failed job none, and the stored bytes are a real image (no junk);
//   - a failed job has an error that says what happened, and the client got a clear error when
//     one was due.
// The last case kills the runtime mid-job with persisted D1/R2/queue state, restarts it over the
// same directory and lets the sweeper repair what the crash left.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startHarness, callTool, uniq, sniff, waitFor, FAIL_ALWAYS_MESSAGE } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const AI_TIMEOUT_SECONDS = 2;
/** src/sweeper.rs retry_window_ms: 4 deliveries of (AI timeout + 60 s) plus 2 + 4 + 8 s. */
const windowMs = (aiTimeoutSeconds) => (4 * (aiTimeoutSeconds + 60) + 14) * 1000;

/** Sweeps as if the retry window had passed, then checks the invariants for every job of `prompt`. */
async function sweepAndCheck(h, prompt, { expect, error, sweep = true, timeout = 30000 } = {}) {
  const jobs = await h.query("SELECT id FROM generation_jobs WHERE prompt = ?", prompt);
  assert.ok(jobs.length > 0, `no job for ${prompt}`);
  // Let the queue finish what it is doing first: the sweep is for what it will never finish.
  await waitForQueueIdle(h);
  let report;
  if (sweep) {
    report = await h.sweep(Date.now() + windowMs(Number(h.vars.AI_TIMEOUT_SECONDS ?? 120)) + 1000);
    assert.equal(report.errors, 0, report.line);
  }
  const rows = [];
  for (const { id } of jobs) {
    const row = await h.waitForJob(id, ["completed", "failed"], { timeout }).catch(async () => h.job(id));
    assert.ok(["completed", "failed"].includes(row.status), `job ${id} is still ${row.status} after one sweep\n${h.logText()}`);
    const ofJob = (await h.r2Objects()).filter((o) => o.customMetadata?.jobId === id);
    // Images and thumbnails apart: a thumbnail names its image in `thumbnailOf`.
    const objects = ofJob.filter((o) => !o.customMetadata?.thumbnailOf);
    const thumbnails = ofJob.filter((o) => o.customMetadata?.thumbnailOf);
    const gallery = await h.count("generations", "job_id = ?", id);
    if (row.status === "completed") {
      assert.equal(objects.length, 1, `completed job ${id} has ${objects.length} R2 images`);
      assert.ok(thumbnails.length <= 1, `completed job ${id} has ${thumbnails.length} thumbnails`);
      if (thumbnails.length) assert.equal(thumbnails[0].customMetadata.thumbnailOf, objects[0].key);
      assert.equal(gallery, 1, `completed job ${id} has ${gallery} gallery rows`);
      const stored = await h.r2Bytes(objects[0].key);
      assert.ok(["jpeg", "png"].includes(sniff(stored.bytes)), "the stored object is a real image");
      assert.ok(row.image_url.endsWith(objects[0].key));
    } else {
      assert.equal(ofJob.length, 0, `failed job ${id} left ${ofJob.map((o) => o.key)} in R2`);
      assert.equal(gallery, 0, `failed job ${id} has a gallery row`);
      assert.ok(row.error && row.error.length > 10, `failed job ${id} has no useful error: ${row.error}`);
      if (error) assert.match(row.error, error);
    }
    if (expect) assert.equal(row.status, expect, `job ${id}: ${row.error}`);
    rows.push(row);
  }
  return { rows, report };
}

describe("fault matrix", () => {
  let client;
  const h = useHarness({ faults: true, vars: { AI_TIMEOUT_SECONDS: String(AI_TIMEOUT_SECONDS) } });
  before(async () => {
    client = await h.mcpClient();
  });
  const faults = (rules) => h.setFaults(rules);

  describe("Workers AI", () => {
    it("throws on every call: failed after every delivery with the model's error; the waiting client gets it", async () => {
      const prompt = `an unlucky urn ${uniq()} [fail-always]`;
      const { result, data } = await callTool(client, "generate_image_and_wait", { prompt });
      assert.equal(result.isError, true);
      assert.ok(JSON.stringify(data).includes(FAIL_ALWAYS_MESSAGE), JSON.stringify(data));
      await sweepAndCheck(h, prompt, { expect: "failed", error: /model unavailable/ });
      assert.equal(h.recorder.callsFor(prompt).length, 4);
    });

    it("hangs past AI_TIMEOUT_SECONDS: each attempt is abandoned, the job fails saying so", async () => {
      const prompt = `a sleepy sloth ${uniq()} [delay=600000]`;
      const started = Date.now();
      const { result, data } = await callTool(client, "generate_image_and_wait", { prompt });
      assert.equal(result.isError, true, JSON.stringify(data));
      assert.ok(JSON.stringify(data).includes(`did not answer within ${AI_TIMEOUT_SECONDS} s`), JSON.stringify(data));
      assert.ok(Date.now() - started < 40_000, "four attempts of 2 s, not a hung consumer");
      await sweepAndCheck(h, prompt, { expect: "failed", error: /flux-schnell did not answer within 2 s \(AI_TIMEOUT_SECONDS\)/ });
    });

    it("returns junk bytes: failed, nothing stored", async () => {
      const prompt = `a garbled gull ${uniq()} [junk]`;
      const { result } = await callTool(client, "generate_image_and_wait", { prompt, model: "sdxl-lightning" });
      assert.equal(result.isError, true);
      await sweepAndCheck(h, prompt, { expect: "failed", error: /not (a PNG or JPEG|an image)|image/i });
    });
  });

  describe("R2", () => {
    it("put fails once: retried, completed with one object", async () => {
      const word = uniq("r2once");
      await faults([{ binding: "R2", method: "put", match: word, times: 1 }]);
      const { data } = await callTool(client, "generate_image_and_wait", { prompt: `a steady stork ${word}` });
      assert.equal(data.status, "completed", JSON.stringify(data));
      assert.equal((await h.faultHits()).length, 1);
      await faults([]);
      await sweepAndCheck(h, `a steady stork ${word}`, { expect: "completed" });
    });

    it("put fails always: failed with the storage error after every delivery; no object, no gallery row", async () => {
      const word = uniq("r2always");
      await faults([{ binding: "R2", method: "put", match: word, times: -1 }]);
      const prompt = `a homeless heron ${word}`;
      const { result, data } = await callTool(client, "generate_image_and_wait", { prompt });
      assert.equal(result.isError, true);
      assert.ok(JSON.stringify(data).includes("could not store the image in R2"), JSON.stringify(data));
      assert.equal((await h.faultHits()).length, 4);
      await faults([]);
      await sweepAndCheck(h, prompt, { expect: "failed", error: /could not store the image in R2: .*injected R2 put failure/ });
    });
  });

  describe("D1 writes of the consumer", () => {
    const cases = [
      { write: "marking processing", match: "SET status = 'processing'", times: 1, expect: "completed" },
      { write: "marking processing", match: "SET status = 'processing'", times: -1, expect: "failed", error: /database error while marking a job processing/ },
      { write: "the completing batch", match: "SET status = 'completed'", times: 1, expect: "completed" },
      { write: "the completing batch", match: "SET status = 'completed'", times: -1, expect: "failed", error: /database error while completing a job/ },
      { write: "recording a retryable failure", match: "SET status = 'pending', error", times: -1, marker: "[fail-once]", expect: "completed" },
      // Both the last delivery's mark_failed and the dead-letter consumer's write fail: the job is
      // left `processing` with no message anywhere, which only the sweeper can end.
      { write: "every failing write", match: "SET status = 'failed'", times: -1, marker: "[fail-always]", expect: "failed", error: /retry window.*Last recorded error: .*model unavailable/, sweeps: 1 },
    ];
    for (const c of cases) {
      const label = `${c.write} fails ${c.times === 1 ? "once" : "always"}${c.marker ? ` (model ${c.marker})` : ""}: ${c.expect}`;
      it(label, async () => {
        const prompt = `a database dodo ${uniq()} ${c.marker ?? ""}`.trim();
        await faults([{ binding: "DB", match: c.match, times: c.times }]);
        const { data: started } = await callTool(client, "generate_image", { prompt });
        if (c.sweeps) {
          // Every delivery and the dead-letter consumer run and fail to record it: still stuck.
          await waitFor(async () => (await h.faultHits()).length >= 2, { message: "mark_failed and the DLQ write to fail" });
          await waitForQueueIdle(h);
          assert.equal((await h.job(started.job_id)).status, "processing", "stuck until the sweeper runs");
        } else {
          await h.watchJob(started.job_id);
        }
        const hits = await h.faultHits();
        assert.ok(hits.length >= 1, "the fault was injected");
        await faults([]);
        await sweepAndCheck(h, prompt, { expect: c.expect, error: c.error });
        const { result, data } = await callTool(client, "wait_for_completion", { job_id: started.job_id });
        assert.equal(Boolean(result.isError), c.expect === "failed", JSON.stringify(data));
      });
    }
  });

  describe("generate_image's writes and queue send", () => {
    it("D1 fails inserting the jobs: a clear tool error, nothing stored, nothing queued", async () => {
      const prompt = `an unwritten wren ${uniq()}`;
      await faults([{ binding: "DB", method: "batch", match: "INSERT INTO generation_jobs", times: 1 }]);
      const { result, data } = await callTool(client, "generate_image", { prompt, count: 3 });
      await faults([]);
      assert.equal(result.isError, true);
      assert.match(data.error, /database error while creating jobs: (Error: )?injected DB batch failure/);
      assert.equal(await h.count("generation_jobs", "prompt = ?", prompt), 0);
      assert.equal(h.recorder.callsFor(prompt).length, 0);
    });

    it("the queue send fails: a clear tool error and every job failed at once, none left pending", async () => {
      const prompt = `an unsent swan ${uniq()}`;
      await faults([{ binding: "QUEUE", method: "sendBatch", times: 1 }]);
      const { result, data } = await callTool(client, "generate_image", { prompt, count: 2 });
      await faults([]);
      assert.equal(result.isError, true);
      assert.match(data.error, /could not queue the image job: .*injected QUEUE sendBatch failure/);
      const rows = await h.query("SELECT status, error FROM generation_jobs WHERE prompt = ?", prompt);
      assert.equal(rows.length, 2);
      for (const row of rows) {
        assert.equal(row.status, "failed");
        assert.match(row.error, /could not queue the image job/);
      }
      await sweepAndCheck(h, prompt, { expect: "failed" });
      assert.equal(h.recorder.callsFor(prompt).length, 0);
    });

    it("the queue send of a single job fails (it goes by send, not sendBatch): the same clear error, the job failed", async () => {
      const prompt = `an unsent snipe ${uniq()}`;
      await faults([{ binding: "QUEUE", method: "send", times: 1 }]);
      const { result, data } = await callTool(client, "generate_image", { prompt });
      await faults([]);
      assert.equal(result.isError, true);
      assert.match(data.error, /could not queue the image job: .*injected QUEUE send failure/);
      const rows = await h.query("SELECT status, error FROM generation_jobs WHERE prompt = ?", prompt);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].status, "failed");
      assert.match(rows[0].error, /could not queue the image job/);
      assert.equal(h.recorder.callsFor(prompt).length, 0);
    });

    it("the queue send and then failing the jobs both fail: the client gets the error; the sweeper re-queues the pending jobs and they complete", async () => {
      const prompt = `a stranded stilt ${uniq()}`;
      await faults([
        { binding: "QUEUE", method: "sendBatch", times: 1 },
        { binding: "DB", method: "run", match: "SET status = 'failed'", times: -1 },
      ]);
      const { result, data } = await callTool(client, "generate_image", { prompt, count: 2 });
      await faults([]);
      assert.equal(result.isError, true);
      assert.match(data.error, /could not queue the image job/);
      const pending = await h.query("SELECT id FROM generation_jobs WHERE prompt = ? AND status = 'pending'", prompt);
      assert.equal(pending.length, 2, "left pending with no message: the case the sweeper exists for");
      const { report } = await sweepAndCheck(h, prompt, { expect: "completed" });
      assert.equal(report.requeued, 2, report.line);
      assert.equal(h.recorder.callsFor(prompt).length, 2);
    });
  });
});

/** Waits until Miniflare has delivered nothing on any queue for a second. */
async function waitForQueueIdle(h, { quietMs = 1000, timeout = 30000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const last = h.logs.filter((l) => l.source === "miniflare" && /^QUEUE /.test(l.message)).at(-1);
    if (!last || Date.now() - last.at > quietMs) return;
    if (Date.now() > deadline) throw new Error("queues never went idle");
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("the runtime killed mid-job, restarted over persisted state", () => {
  let dir;
  let h;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "mcp-e2e-persist-"));
  });
  after(async () => {
    await h?.dispose().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it("the job being generated and the one queued behind it both end completed or failed after one sweep", async () => {
    const first = await startHarness({ persistDir: dir });
    let killed = false;
    let slow;
    let queued;
    try {
      const client = await first.mcpClient();
      // Miniflare delivers one batch at a time: the second job waits behind the hung first one.
      slow = `a frozen falcon ${uniq()} [delay=600000]`;
      queued = `a patient puffin ${uniq()}`;
      const { data: a } = await callTool(client, "generate_image", { prompt: slow });
      const { data: b } = await callTool(client, "generate_image", { prompt: queued });
      await first.waitForJob(a.job_id, "processing");
      assert.equal((await first.job(b.job_id)).status, "pending");
      await first.dispose(); // the runtime dies mid-job: no ack, no status write
      killed = true;
    } finally {
      if (!killed) await first.dispose().catch(() => {});
    }

    // A short AI timeout bounds the hung job's redelivery, if the restarted queue still has it.
    h = await startHarness({ persistDir: dir, migrate: false, vars: { AI_TIMEOUT_SECONDS: "2" } });
    const jobs = await h.query("SELECT id, prompt, status FROM generation_jobs ORDER BY created_at");
    assert.equal(jobs.length, 2, "D1 survived the restart");
    // Whatever the restarted queue still delivers, one sweep past the window ends both jobs.
    const swept = await h.sweep(Date.now() + windowMs(120) + 1000);
    assert.equal(swept.errors, 0, swept.line);
    const { rows: slowRows } = await sweepAndCheck(h, slow, { sweep: false, expect: "failed", error: /retry window/ });
    await sweepAndCheck(h, queued, { sweep: false, expect: "completed" });
    assert.equal(slowRows.length, 1);
  });
});
