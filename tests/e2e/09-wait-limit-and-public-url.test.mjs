// With a small WAIT_RESPONSE_LIMIT_SECONDS the wait tools answer before the
// limit with a NON-error "in_progress" result (finished images + ids still
// running); calling wait_for_completion again with those ids finishes the job.
// With PUBLIC_IMAGE_BASE_URL set, image_url = base + "/" + key.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { callTool, uniq, sniff } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const LIMIT_SECONDS = 2;
const PUBLIC_BASE = "https://images.example.test/gallery";

function assertInProgress(result, data, { pending, completed }) {
  assert.ok(!result.isError, `an in-progress answer must not be an error: ${JSON.stringify(data)}`);
  assert.equal(data.success, true, JSON.stringify(data));
  assert.equal(data.status, "in_progress", JSON.stringify(data));
  assert.deepEqual([...data.pending_job_ids].sort(), [...pending].sort(), "pending_job_ids");
  assert.ok(Array.isArray(data.completed), "completed must be a list");
  assert.deepEqual(data.completed.map((c) => c.job_id).sort(), [...completed].sort(), "completed job ids");
  for (const c of data.completed) {
    for (const k of ["job_id", "image_url", "prompt", "model"]) assert.ok(k in c, `completed entry lacks ${k}`);
  }
  assert.equal(typeof data.message, "string");
  assert.match(data.message, /wait_for_completion/, `message should tell the client to call wait_for_completion again: ${data.message}`);
}

describe(`wait tools with WAIT_RESPONSE_LIMIT_SECONDS=${LIMIT_SECONDS}, and PUBLIC_IMAGE_BASE_URL`, () => {
  let client;
  const h = useHarness({
    vars: { WAIT_RESPONSE_LIMIT_SECONDS: String(LIMIT_SECONDS), PUBLIC_IMAGE_BASE_URL: PUBLIC_BASE },
  });
  before(async () => {
    client = await h.mcpClient();
  });

  /** Calls wait_for_completion until it stops answering in_progress (at most `rounds` times). */
  async function waitUntilDone(args, rounds = 10) {
    for (let i = 0; i < rounds; i++) {
      const { result, data } = await callTool(client, "wait_for_completion", args);
      if (data.status !== "in_progress") return { result, data, rounds: i + 1 };
      const ids = data.pending_job_ids;
      args = ids.length === 1 && args.job_id ? { job_id: ids[0] } : { job_ids: ids };
    }
    throw new Error(`still in_progress after ${rounds} calls`);
  }

  it("generate_image_and_wait on a slow healthy job answers in_progress with the pending id, before the limit", async () => {
    const prompt = `a slow sunrise ${uniq()} [delay=5000]`;
    const { result, data } = await callTool(client, "generate_image_and_wait", { prompt });
    const [job] = await h.query("SELECT id FROM generation_jobs WHERE prompt = ?", prompt);
    assertInProgress(result, data, { pending: [job.id], completed: [] });

    const done = await waitUntilDone({ job_ids: data.pending_job_ids });
    assert.ok(!done.result.isError, JSON.stringify(done.data));
    assert.equal(done.data.success, true);
    const results = done.data.results ?? [done.data];
    assert.ok(results.every((r) => r.image_url.startsWith(`${PUBLIC_BASE}/`)), JSON.stringify(done.data));
  });

  it("wait_for_completion over a fast and a slow job lists the finished one under completed and the slow one as pending", async () => {
    const fastPrompt = `quick sketch ${uniq()}`;
    const slowPrompt = `oil painting ${uniq()} [delay=5000]`;
    const { data: fast } = await callTool(client, "generate_image", { prompt: fastPrompt, model: "sdxl-lightning" });
    await h.waitForJob(fast.job_id, "completed");
    const { data: slow } = await callTool(client, "generate_image", { prompt: slowPrompt });
    const { result, data } = await callTool(client, "wait_for_completion", { job_ids: [fast.job_id, slow.job_id] });
    assertInProgress(result, data, { pending: [slow.job_id], completed: [fast.job_id] });
    const c = data.completed[0];
    assert.equal(c.prompt, fastPrompt);
    assert.equal(c.model, "sdxl-lightning");
    assert.ok(c.image_url.startsWith(`${PUBLIC_BASE}/`), c.image_url);

    const done = await waitUntilDone({ job_ids: data.pending_job_ids });
    assert.equal(done.data.success, true, JSON.stringify(done.data));
    const results = done.data.results ?? [done.data];
    assert.equal(results.length, 1);
    assert.equal((await h.job(slow.job_id)).status, "completed");
  });

  it("wait_for_completion with a single slow job_id answers in_progress, then completed", async () => {
    const prompt = `a patient heron ${uniq()} [delay=4500]`;
    const { data: started } = await callTool(client, "generate_image", { prompt });
    const { result, data } = await callTool(client, "wait_for_completion", { job_id: started.job_id });
    assertInProgress(result, data, { pending: [started.job_id], completed: [] });
    const done = await waitUntilDone({ job_id: started.job_id });
    assert.equal(done.data.success, true, JSON.stringify(done.data));
    assert.equal(done.data.status, "completed");
    assert.ok(done.data.image_url.startsWith(`${PUBLIC_BASE}/`));
  });

  it("with PUBLIC_IMAGE_BASE_URL, image_url is base + '/' + the R2 key everywhere", async () => {
    const prompt = `a public postcard ${uniq()}`;
    const { data } = await callTool(client, "generate_image_and_wait", { prompt, model: "sdxl-base" });
    assert.equal(data.success, true, JSON.stringify(data));
    assert.ok(data.image_url.startsWith(`${PUBLIC_BASE}/`), `image_url ${data.image_url} does not start with ${PUBLIC_BASE}/`);
    const key = decodeURIComponent(data.image_url.slice(PUBLIC_BASE.length + 1));
    const obj = await h.r2Bytes(key);
    assert.ok(obj, `no R2 object at key "${key}" (from image_url ${data.image_url})`);
    assert.equal(sniff(obj.bytes), "png");

    const [job] = await h.query("SELECT id FROM generation_jobs WHERE prompt = ?", prompt);
    const { data: status } = await callTool(client, "get_job_status", { job_id: job.id });
    assert.equal(status.image_url, data.image_url);
    const { data: gens } = await callTool(client, "list_generations", { limit: 50 });
    assert.equal(gens.generations.find((g) => g.job_id === job.id)?.image_url, data.image_url);
    const { data: jobs } = await callTool(client, "list_jobs", { status: "completed", limit: 50 });
    assert.equal(jobs.jobs.find((j) => j.id === job.id)?.image_url, data.image_url);
  });
});
