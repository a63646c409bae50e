// The consumer under failure: a transient error is retried and never shows as
// `failed`; retry exhaustion fails the job with the model's error (and the
// dead-letter consumer runs); malformed model output fails cleanly with nothing
// stored; redelivered messages are idempotent (one object, one gallery row).
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import {
  callTool,
  uniq,
  waitFor,
  sleep,
  keyFromWorkerUrl,
  FAIL_ALWAYS_MESSAGE,
  FAIL_ONCE_MESSAGE,
  MODEL_IDS,
  QUEUE,
  DLQ,
} from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const ATTEMPTS = 4; // first delivery + max_retries 3

describe("retries, failures and redelivery", () => {
  let client;
  const h = useHarness();
  before(async () => {
    client = await h.mcpClient();
  });

  const watchJob = (jobId, until) => h.watchJob(jobId, until);

  async function objectsForPrompt(prompt) {
    return (await h.r2Objects()).filter((o) => o.customMetadata?.prompt === prompt);
  }

  it("[fail-once]: the job is retried and completes; it never shows `failed`, and the retry keeps the last error", async () => {
    const prompt = `a flaky lighthouse ${uniq()} [fail-once] [delay=700]`;
    const { data: started } = await callTool(client, "generate_image", { prompt });
    // A client waiting on the job from the start must see success, not the transient failure.
    const waiting = callTool(client, "wait_for_completion", { job_id: started.job_id });
    const seen = await watchJob(started.job_id);
    const statuses = seen.map((s) => s.status);
    assert.ok(!statuses.includes("failed"), `the job showed failed during a retry: ${JSON.stringify(seen)}`);
    assert.equal(statuses[statuses.length - 1], "completed");
    assert.ok(statuses.includes("processing"), `never saw processing: ${JSON.stringify(seen)}`);
    const retrying = seen.find((s) => s.status !== "completed" && s.error && s.error.includes(FAIL_ONCE_MESSAGE));
    assert.ok(retrying, `while retrying, error should record the first attempt's error; seen ${JSON.stringify(seen)}`);

    const { result, data } = await waiting;
    assert.ok(!result.isError, `wait_for_completion reported the transient failure: ${JSON.stringify(data)}`);
    assert.equal(data.status, "completed");

    assert.deepEqual(h.recorder.callsFor(prompt).map((c) => c.attempt), [1, 2], "expected exactly two model calls");
    assert.equal((await objectsForPrompt(prompt)).length, 1, "expected exactly one R2 object");
    assert.equal(await h.count("generations", "job_id = ?", started.job_id), 1, "expected exactly one gallery row");
    const { data: status } = await callTool(client, "get_job_status", { job_id: started.job_id });
    assert.equal(status.status, "completed");
    assert.equal(status.image_url, data.image_url);
    assert.equal((await h.fetchImage(data.image_url)).format, "jpeg");
  });

  it("[fail-always]: the job fails only after 4 attempts, with the model's error; the wait tool reports it; the DLQ consumer runs", async () => {
    const prompt = `a doomed zeppelin ${uniq()} [fail-always] [delay=150]`;
    const dlqBefore = h.queueDeliveries(DLQ).length;
    const deadBefore = h.deadLettered().length;
    const { data: started } = await callTool(client, "generate_image", { prompt, model: "sdxl-base" });
    const waiting = callTool(client, "wait_for_completion", { job_id: started.job_id });
    const seen = await watchJob(started.job_id, ["failed", "completed"]);
    const firstFailed = seen.find((s) => s.status === "failed");
    assert.ok(firstFailed, `job never failed: ${JSON.stringify(seen)}`);
    const callsAtFailure = h.recorder.callsFor(prompt).length;
    assert.equal(callsAtFailure, ATTEMPTS, `the job was marked failed after ${callsAtFailure} model calls, expected ${ATTEMPTS}; seen ${JSON.stringify(seen)}`);
    assert.ok(firstFailed.error.includes(FAIL_ALWAYS_MESSAGE), `failed job error "${firstFailed.error}" should carry the model's error`);

    const { result, data } = await waiting;
    assert.equal(result.isError, true, `wait_for_completion should report the failure: ${JSON.stringify(data)}`);
    assert.equal(data.success, false);
    assert.equal(data.status, "failed");
    assert.ok(String(data.error).includes(FAIL_ALWAYS_MESSAGE), `wait error "${data.error}"`);

    const calls = h.recorder.callsFor(prompt);
    assert.deepEqual(calls.map((c) => c.attempt), [1, 2, 3, 4]);
    for (const c of calls) assert.equal(c.model, MODEL_IDS["sdxl-base"]);

    await waitFor(() => h.deadLettered().length > deadBefore, { timeout: 10000, message: "Miniflare to dead-letter the message" });
    await waitFor(() => h.queueDeliveries(DLQ).length > dlqBefore, { timeout: 10000, message: "a delivery on the DLQ" });
    const dlq = h.queueDeliveries(DLQ).slice(dlqBefore);
    assert.ok(dlq.every((d) => d.acked === d.total), `the DLQ consumer did not ack: ${JSON.stringify(dlq)}\n${h.logText()}`);
    const after = await h.job(started.job_id);
    assert.equal(after.status, "failed", "after the DLQ consumer the job must still be failed");
    assert.ok(after.error.includes(FAIL_ALWAYS_MESSAGE), `after the DLQ consumer the error is "${after.error}"`);
    assert.equal((await objectsForPrompt(prompt)).length, 0);
    assert.equal(await h.count("generations", "job_id = ?", started.job_id), 0);
  });

  it("generate_image_and_wait with a failing model reports {success: false, status: failed, error}", async () => {
    const prompt = `another doomed thing ${uniq()} [fail-always]`;
    const { result, data } = await callTool(client, "generate_image_and_wait", { prompt });
    assert.equal(result.isError, true, JSON.stringify(data));
    assert.equal(data.success, false);
    assert.equal(data.status, "failed");
    assert.ok(String(data.error).includes(FAIL_ALWAYS_MESSAGE), `error "${data.error}"`);
  });

  it("wait_for_completion over several jobs with one failure reports '1 job(s) failed' with failed and completed lists", async () => {
    const good = `a good one ${uniq()}`;
    const bad = `a bad one ${uniq()} [fail-always]`;
    const { data: g } = await callTool(client, "generate_image", { prompt: good });
    const { data: b } = await callTool(client, "generate_image", { prompt: bad });
    const { result, data } = await callTool(client, "wait_for_completion", { job_ids: [g.job_id, b.job_id] });
    assert.equal(result.isError, true, JSON.stringify(data));
    assert.equal(data.success, false);
    assert.equal(data.error, "1 job(s) failed");
    assert.deepEqual(data.failed.map((f) => f.job_id), [b.job_id]);
    assert.ok(String(data.failed[0].error).includes(FAIL_ALWAYS_MESSAGE));
    assert.deepEqual(data.completed.map((c) => c.job_id), [g.job_id]);
    assert.equal((await h.fetchImage(data.completed[0].image_url)).format, "jpeg");
  });

  const MALFORMED = [
    ["flux-schnell", "[junk]", "FLUX base64 of bytes that are not an image"],
    ["sdxl-lightning", "[junk]", "an SDXL stream of bytes that are not an image"],
    ["flux-schnell", "[bad-base64]", "FLUX image field that is not base64"],
    ["flux-schnell", "[no-image]", "FLUX output without an image"],
    ["sdxl-base", "[no-image]", "SDXL answering an object instead of a byte stream"],
  ];
  for (const [model, marker, what] of MALFORMED) {
    it(`malformed output (${model} ${marker}: ${what}) fails the job with a clear error and stores nothing`, async () => {
      const prompt = `malformed ${uniq()} ${marker}`;
      const { data: started } = await callTool(client, "generate_image", { prompt, model });
      const seen = await watchJob(started.job_id, ["failed", "completed"]);
      const final = seen[seen.length - 1];
      assert.equal(final.status, "failed", `a malformed output was accepted: ${JSON.stringify(seen)}`);
      assert.equal(typeof final.error, "string");
      assert.ok(final.error.length >= 10, `error "${final.error}" is not a clear message`);
      assert.doesNotMatch(final.error, /undefined|\[object Object\]|unreachable|RuntimeError/i, `error "${final.error}" is not a clear message`);
      assert.ok(h.recorder.callsFor(prompt).length >= 1, "the model was never called");
      await sleep(200);
      assert.equal((await objectsForPrompt(prompt)).length, 0, "something was stored in R2 for a malformed output");
      assert.equal(await h.count("generations", "job_id = ?", started.job_id), 0, "a gallery row was written");
      const job = await h.job(started.job_id);
      assert.equal(job.image_url, null);
    });
  }

  it("redelivering a completed job's message changes nothing: one R2 object, one gallery row, same image_url", async () => {
    const prompt = `a redelivered parcel ${uniq()}`;
    const { data } = await callTool(client, "generate_image_and_wait", { prompt, model: "sdxl-lightning" });
    assert.equal(data.success, true, JSON.stringify(data));
    const [job] = await h.query("SELECT * FROM generation_jobs WHERE prompt = ?", prompt);
    // So that the deliveries logged after the send are this message's.
    await h.waitForNoJobsInFlight();
    const deliveriesBefore = h.queueDeliveries(QUEUE).length;
    await h.queue.send({ jobId: job.id, prompt, model: "sdxl-lightning" });
    await waitFor(() => h.queueDeliveries(QUEUE).length > deliveriesBefore, { timeout: 10000, message: "the redelivery to be consumed" });
    await sleep(300);
    const last = h.queueDeliveries(QUEUE).slice(deliveriesBefore);
    assert.ok(last.every((d) => d.acked === d.total), `the redelivered message was not acked: ${JSON.stringify(last)}\n${h.logText()}`);
    const after = await h.job(job.id);
    assert.equal(after.status, "completed");
    assert.equal(after.image_url, job.image_url, "redelivery changed the job's image_url");
    assert.equal(await h.count("generations", "job_id = ?", job.id), 1, "redelivery added a gallery row");
    assert.equal((await objectsForPrompt(prompt)).length, 1, "redelivery stored a second R2 object");
    assert.equal((await h.fetchImage(data.image_url)).format, "png");
  });

  it("the same message delivered twice at once (at-least-once) still yields one object and one gallery row", async () => {
    const prompt = `a doubled letter ${uniq()} [delay=600]`;
    const { data: started } = await callTool(client, "generate_image", { prompt });
    await h.queue.send({ jobId: started.job_id, prompt, model: "flux-schnell" });
    await h.waitForJob(started.job_id, ["completed", "failed"]);
    await waitFor(() => h.recorder.callsFor(prompt).length >= 1, { message: "model call" });
    await sleep(1500); // let the second delivery finish too
    const job = await h.job(started.job_id);
    assert.equal(job.status, "completed", `job ${job.status}: ${job.error}`);
    assert.equal(await h.count("generations", "job_id = ?", started.job_id), 1, "two gallery rows for one job");
    const objects = await objectsForPrompt(prompt);
    assert.equal(objects.length, 1, `R2 objects for one job: ${objects.map((o) => o.key).join(", ")}`);
    const { data } = await callTool(client, "get_job_status", { job_id: started.job_id });
    assert.equal(keyFromWorkerUrl(data.image_url), objects[0].key, "image_url does not point at the stored object");
  });

  it("a dead-letter message for a job that already completed leaves it completed", async () => {
    const prompt = `a survivor ${uniq()}`;
    const { data } = await callTool(client, "generate_image_and_wait", { prompt });
    assert.equal(data.success, true);
    const [job] = await h.query("SELECT * FROM generation_jobs WHERE prompt = ?", prompt);
    await h.waitForNoJobsInFlight();
    const before = h.queueDeliveries(DLQ).length;
    await h.deadLetterQueue.send({ jobId: job.id, prompt, model: "flux-schnell" });
    await waitFor(() => h.queueDeliveries(DLQ).length > before, { timeout: 10000, message: "the DLQ delivery" });
    await sleep(200);
    const after = await h.job(job.id);
    assert.equal(after.status, "completed", `the DLQ consumer failed a completed job: ${after.error}`);
    assert.equal(after.image_url, job.image_url);
  });

  it("a dead-letter message for a job still in flight marks it failed with an error", async () => {
    const prompt = `stuck in the pipe ${uniq()} [delay=60000]`;
    const { data: started } = await callTool(client, "generate_image", { prompt });
    await h.waitForJob(started.job_id, "processing");
    await h.deadLetterQueue.send({ jobId: started.job_id, prompt, model: "flux-schnell" });
    const failed = await h.waitForJob(started.job_id, "failed", { timeout: 10000 });
    assert.equal(typeof failed.error, "string");
    assert.ok(failed.error.length > 0, "the DLQ consumer failed the job without an error message");
  });
});

// Miniflare redelivers a retried message at once, so the moment between two
// attempts is very short. With a 1 s retry delay, a job wrongly marked `failed`
// after an attempt that will be retried stays visible long enough to be seen.
describe("retries with a 1 s retry delay (the state between attempts is observable)", () => {
  let client;
  const h = useHarness({ retryDelaySeconds: 1 });
  before(async () => {
    client = await h.mcpClient();
  });

  it("[fail-once]: between the failed attempt and the retry the job is not `failed`, and records the error", async () => {
    const prompt = `a flaky bridge ${uniq()} [fail-once]`;
    const { data: started } = await callTool(client, "generate_image", { prompt });
    const waiting = callTool(client, "wait_for_completion", { job_id: started.job_id });
    const seen = await h.watchJob(started.job_id);
    const statuses = seen.map((s) => s.status);
    assert.ok(!statuses.includes("failed"), `the job showed failed while a retry was pending: ${JSON.stringify(seen)}`);
    assert.equal(statuses[statuses.length - 1], "completed");
    const between = seen.find((s) => s.status !== "completed" && s.error && s.error.includes(FAIL_ONCE_MESSAGE));
    assert.ok(between, `between attempts the job should record the first attempt's error: ${JSON.stringify(seen)}`);
    const { result, data } = await waiting;
    assert.ok(!result.isError, `wait_for_completion reported the transient failure: ${JSON.stringify(data)}`);
    assert.equal(data.status, "completed");
  });

  it("[fail-always]: the job stays un-failed through attempts 1-3 and fails only after the 4th", async () => {
    const prompt = `a sinking stone ${uniq()} [fail-always]`;
    const { data: started } = await callTool(client, "generate_image", { prompt });
    const seen = await h.watchJob(started.job_id, ["failed", "completed"]);
    const firstFailed = seen.find((s) => s.status === "failed");
    assert.ok(firstFailed, `never failed: ${JSON.stringify(seen)}`);
    const callsAtFailure = h.recorder.callsFor(prompt).length;
    assert.equal(callsAtFailure, ATTEMPTS, `failed after ${callsAtFailure} model calls; seen ${JSON.stringify(seen)}`);
    assert.ok(seen.some((s) => s.status !== "failed" && s.error?.includes(FAIL_ALWAYS_MESSAGE)), `retry states should carry the last error: ${JSON.stringify(seen)}`);
    assert.ok(firstFailed.error.includes(FAIL_ALWAYS_MESSAGE));
  });
});
