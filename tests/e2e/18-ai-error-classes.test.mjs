// Workers AI error classes in the consumer: a permanent error (bad input, no such
// model, account refusals) fails the job after one model call with the model's
// message and no retries; the daily free allocation (3036) fails at once saying so;
// capacity and timeout errors (3040, 3007) are retried after a growing delay; an
// error without a known code keeps the plain retry.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { callTool, uniq, waitFor, sleep, ROOT, QUEUE, DLQ } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const ATTEMPTS = 4; // first delivery + max_retries 3

/** A constant from src/catalog.rs, so the test follows the one source of truth. */
function catalogNumber(name) {
  const source = readFileSync(path.join(ROOT, "src/catalog.rs"), "utf8");
  const m = new RegExp(`pub const ${name}: u32 = (\\d+);`).exec(source);
  assert.ok(m, `${name} not found in src/catalog.rs`);
  return Number(m[1]);
}
const BASE_DELAY_MS = catalogNumber("TRANSIENT_RETRY_BASE_DELAY_SECONDS") * 1000;
const MAX_DELAY_MS = catalogNumber("TRANSIENT_RETRY_MAX_DELAY_SECONDS") * 1000;
/** The wait before the delivery after `attempt` (from 1), as the consumer computes it. */
const expectedDelayMs = (attempt) => Math.min(BASE_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS);

const DAILY_LIMIT_PREFIX = "Workers AI daily free allocation used up (3036); resets at 00:00 UTC: ";

describe("Workers AI error classes", () => {
  let client;
  const h = useHarness();
  before(async () => {
    client = await h.mcpClient();
  });

  /** Starts a job and watches it to its end; returns what was seen and the model calls. */
  async function runJob(prompt, { model = "flux-schnell", timeout = 30000 } = {}) {
    const { data: started } = await callTool(client, "generate_image", { prompt, model });
    const seen = await h.watchJob(started.job_id, ["failed", "completed"], { timeout });
    return { jobId: started.job_id, seen, final: seen[seen.length - 1] };
  }

  /** Asserts the job's message was acked (not retried, not dead-lettered) and no call follows. */
  async function assertNoRetry(prompt, deliveriesBefore, deadBefore) {
    await waitFor(() => h.queueDeliveries(QUEUE).length > deliveriesBefore, { timeout: 10000, message: "the delivery to be logged" });
    // Long enough for a plain retry (redelivered at once) to have called the model again.
    await sleep(1000);
    assert.equal(h.recorder.callsFor(prompt).length, 1, "the model was called again: the message was retried");
    const deliveries = h.queueDeliveries(QUEUE).slice(deliveriesBefore);
    assert.ok(deliveries.every((d) => d.acked === d.total), `the message was not acked: ${JSON.stringify(deliveries)}\n${h.logText()}`);
    assert.equal(h.deadLettered().length, deadBefore, "the message went to the dead-letter queue");
  }

  const PERMANENT = [
    [5007, /5007: No such model @cf\/black-forest-labs\/flux-1-schnell or task/],
    [5006, /5006: Bad input: /],
    [3042, /3042: The model name is invalid/],
    [5018, /5018: The account is not allowed to access this model/],
  ];
  for (const [code, pattern] of PERMANENT) {
    it(`a permanent error (${code}) fails the job after exactly one model call, with the model's message`, async () => {
      await h.waitForNoJobsInFlight();
      const deliveriesBefore = h.queueDeliveries(QUEUE).length;
      const deadBefore = h.deadLettered().length;
      const prompt = `a doomed request ${uniq()} [error=${code}]`;
      const { jobId, seen, final } = await runJob(prompt);
      assert.equal(final.status, "failed", JSON.stringify(seen));
      assert.match(final.error, pattern);
      assert.match(final.error, /^flux-schnell failed: /, `error "${final.error}" should name the model`);
      assert.ok(!seen.some((s) => s.status === "pending" && s.error), `the job waited for a retry: ${JSON.stringify(seen)}`);
      assert.deepEqual(h.recorder.callsFor(prompt).map((c) => c.attempt), [1]);
      await assertNoRetry(prompt, deliveriesBefore, deadBefore);
      const after = await h.job(jobId);
      assert.equal(after.status, "failed");
      assert.equal(after.error, final.error);
    });
  }

  it("a job whose stored input the model refuses (the stand-in's real 5006 check) fails after one call", async () => {
    await h.waitForNoJobsInFlight();
    const deliveriesBefore = h.queueDeliveries(QUEUE).length;
    const deadBefore = h.deadLettered().length;
    // The tools never send steps 99 to FLUX.1 schnell (max 8); a row written by hand does.
    const id = crypto.randomUUID();
    const prompt = `too many steps ${uniq()}`;
    const now = Date.now();
    await h.query(
      "INSERT INTO generation_jobs (id, status, prompt, model, created_at, updated_at, seed, parameters) VALUES (?, 'pending', ?, 'flux-schnell', ?, ?, 7, ?)",
      id,
      prompt,
      now,
      now,
      JSON.stringify({ steps: 99, seed: 7 }),
    );
    await h.queue.send({ jobId: id, prompt, model: "flux-schnell" });
    const job = await h.waitForJob(id, ["failed", "completed"]);
    assert.equal(job.status, "failed");
    assert.match(job.error, /^flux-schnell failed: 5006: Bad input: /);
    const calls = h.recorder.callsFor(prompt);
    assert.equal(calls.length, 1);
    assert.match(calls[0].error, /^5006: /, "the stand-in should have refused the input");
    await assertNoRetry(prompt, deliveriesBefore, deadBefore);
  });

  it("the daily free allocation (3036) fails the job at once with a message that says so; the wait tool reports it", async () => {
    await h.waitForNoJobsInFlight();
    const deliveriesBefore = h.queueDeliveries(QUEUE).length;
    const deadBefore = h.deadLettered().length;
    const prompt = `one image too many ${uniq()} [error=3036]`;
    const { data, result } = await callTool(client, "generate_image_and_wait", { prompt });
    assert.equal(result.isError, true, JSON.stringify(data));
    assert.equal(data.status, "failed");
    assert.ok(String(data.error).startsWith(DAILY_LIMIT_PREFIX), `error "${data.error}"`);
    assert.match(data.error, /3036: You have used up your daily free allocation of 10,000 neurons/);
    assert.deepEqual(h.recorder.callsFor(prompt).map((c) => c.attempt), [1]);
    await assertNoRetry(prompt, deliveriesBefore, deadBefore);
  });

  it("out of capacity once (3040): the retry waits the base delay, the job stays pending with the error, then completes", async () => {
    const prompt = `a busy data center ${uniq()} [error=3040-once]`;
    const { seen, final } = await runJob(prompt);
    assert.equal(final.status, "completed", JSON.stringify(seen));
    assert.ok(!seen.some((s) => s.status === "failed"), `the job showed failed while a retry was pending: ${JSON.stringify(seen)}`);
    const between = seen.find((s) => s.status === "pending" && s.error?.includes("3040: No more data centers to forward the request to"));
    assert.ok(between, `between attempts the job should be pending with the 3040 error: ${JSON.stringify(seen)}`);
    const calls = h.recorder.callsFor(prompt);
    assert.deepEqual(calls.map((c) => c.attempt), [1, 2]);
    const gap = calls[1].at - calls[0].at;
    assert.ok(gap >= expectedDelayMs(1), `the retry came ${gap} ms after the first call, expected at least ${expectedDelayMs(1)} ms`);
    assert.ok(gap < expectedDelayMs(1) + 3000, `the retry came ${gap} ms after the first call`);
  });

  it("a timeout once (3007) is retried after the delay too and completes", async () => {
    const prompt = `a slow answer ${uniq()} [error=3007-once]`;
    const { seen, final } = await runJob(prompt, { model: "sdxl-lightning" });
    assert.equal(final.status, "completed", JSON.stringify(seen));
    const calls = h.recorder.callsFor(prompt);
    assert.equal(calls.length, 2);
    assert.ok(calls[1].at - calls[0].at >= expectedDelayMs(1), `retry after ${calls[1].at - calls[0].at} ms`);
  });

  it("persistent out of capacity (3040): retried with growing delays, failed only after the full retry budget; the DLQ consumer runs", async () => {
    const deadBefore = h.deadLettered().length;
    const dlqBefore = h.queueDeliveries(DLQ).length;
    const prompt = `no capacity anywhere ${uniq()} [error=3040]`;
    const { jobId, seen, final } = await runJob(prompt, { timeout: 60000 });
    assert.equal(final.status, "failed", JSON.stringify(seen));
    assert.match(final.error, /3040: No more data centers to forward the request to/);
    assert.ok(!final.error.startsWith(DAILY_LIMIT_PREFIX));
    const firstFailed = seen.find((s) => s.status === "failed");
    assert.equal(firstFailed.calls, h.recorder.calls.length, "the job failed before its last attempt");
    const calls = h.recorder.callsFor(prompt);
    assert.deepEqual(calls.map((c) => c.attempt), [1, 2, 3, 4]);
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i].at);
    gaps.forEach((gap, i) => {
      assert.ok(gap >= expectedDelayMs(i + 1), `gap ${i + 1} was ${gap} ms, expected at least ${expectedDelayMs(i + 1)} ms (all: ${gaps})`);
    });
    assert.ok(gaps[2] > gaps[0], `the delay did not grow: ${gaps}`);
    await waitFor(() => h.deadLettered().length > deadBefore, { timeout: 10000, message: "Miniflare to dead-letter the message" });
    await waitFor(() => h.queueDeliveries(DLQ).length > dlqBefore, { timeout: 10000, message: "a delivery on the DLQ" });
    const after = await h.job(jobId);
    assert.equal(after.status, "failed");
    assert.match(after.error, /3040: /);
  });

  it("an error code outside the table (9999) keeps the plain retry: four calls, redelivered at once", async () => {
    const prompt = `something new ${uniq()} [error=9999]`;
    const { seen, final } = await runJob(prompt);
    assert.equal(final.status, "failed", JSON.stringify(seen));
    assert.match(final.error, /9999: stand-in error 9999/);
    const calls = h.recorder.callsFor(prompt);
    assert.equal(calls.length, ATTEMPTS);
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i].at);
    assert.ok(gaps.every((gap) => gap < BASE_DELAY_MS), `a plain retry was delayed: ${gaps}`);
  });
});
