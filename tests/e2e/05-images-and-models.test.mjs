// Each model end to end: the stand-in receives the prompt, the image lands in
// R2 in its REAL format (FLUX → JPEG/.jpg, SDXL → PNG/.png) with metadata, a
// gallery row is written, and the absolute image_url serves the same bytes.
// Also count > 1.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import {
  callTool,
  uniq,
  keyFromWorkerUrl,
  sniff,
  decodes,
  MODEL_IDS,
  renderModelImage,
} from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

/** The exact bytes the stand-in answered `call` with (its size and seed as the model received them). */
function producedBy(call) {
  const sent = call.fields ?? call.inputs;
  const number = (v) => (v === undefined ? undefined : Number(v));
  return renderModelImage(call.model, { width: number(sent.width), height: number(sent.height), seed: number(sent.seed) });
}

/** Byte equality without a multi-megabyte diff in the failure message. */
function assertSameBytes(actual, expected, message) {
  assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), `${message} (${actual.length} vs ${expected.length} bytes)`);
}

const EXPECT = {
  "flux-schnell": { format: "jpeg", ext: ".jpg", type: "image/jpeg" },
  "sdxl-lightning": { format: "png", ext: ".png", type: "image/png" },
  "sdxl-base": { format: "png", ext: ".png", type: "image/png" },
};

function slug(prompt) {
  return prompt.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 50);
}

describe("images: every model, real formats in R2, served back over HTTP", () => {
  let client;
  const h = useHarness();
  before(async () => {
    client = await h.mcpClient();
  });

  /** Checks everything about one completed job's image; returns the R2 key. */
  async function checkImage({ jobId, prompt, model, imageUrl }) {
    const exp = EXPECT[model];
    const modelId = MODEL_IDS[model];

    // The model received the prompt, once.
    const calls = h.recorder.callsFor(prompt);
    assert.equal(calls.length, 1, `model calls for this prompt: ${JSON.stringify(calls)}`);
    assert.equal(calls[0].model, modelId, `the server ran ${calls[0].model}, expected ${modelId}`);
    assert.equal(calls[0].inputs.prompt, prompt, "the model did not receive the prompt as inputs.prompt");

    // The image URL is absolute and served by this worker.
    const u = new URL(imageUrl);
    assert.equal(u.origin, h.origin, `image_url ${imageUrl} should point at the worker (no PUBLIC_IMAGE_BASE_URL)`);
    const key = keyFromWorkerUrl(imageUrl);

    // R2 holds exactly the model's bytes, in the real format.
    const obj = await h.r2Bytes(key);
    assert.ok(obj, `no R2 object at key ${key}`);
    assert.equal(sniff(obj.bytes), exp.format, `stored bytes are ${sniff(obj.bytes)}, expected ${exp.format}`);
    assert.ok(decodes(obj.bytes), "stored bytes do not decode as an image");
    assertSameBytes(obj.bytes, producedBy(calls[0]), "stored bytes differ from what the model produced");
    assert.ok(key.endsWith(exp.ext), `key ${key} should end with ${exp.ext}`);
    assert.equal(obj.httpMetadata?.contentType, exp.type, `R2 content-type ${obj.httpMetadata?.contentType}`);
    assert.equal(obj.customMetadata?.prompt, prompt, "R2 customMetadata.prompt");
    assert.ok(
      [model, modelId].includes(obj.customMetadata?.model),
      `R2 customMetadata.model is ${obj.customMetadata?.model}, expected ${model} or ${modelId}`,
    );
    const at = obj.customMetadata?.generatedAt;
    assert.ok(at && !Number.isNaN(Date.parse(at)) && /T/.test(at), `customMetadata.generatedAt "${at}" is not an ISO date`);

    // Keys are not derivable from the prompt alone.
    const rest = key.replace(slug(prompt), "");
    assert.ok(
      key.includes(jobId) || /[0-9a-f]{16,}|[A-Za-z0-9_-]{20,}/i.test(rest.replace(/\d{13}/, "")),
      `key ${key} looks derivable from the prompt (no job id or randomness)`,
    );

    // Job row and exactly one gallery row.
    const job = await h.job(jobId);
    assert.equal(job.status, "completed");
    const gens = await h.query("SELECT * FROM generations WHERE job_id = ?", jobId);
    assert.equal(gens.length, 1, `generations rows for the job: ${gens.length}`);
    assert.equal(gens[0].prompt, prompt);
    assert.equal(gens[0].model, model);

    // Fetching image_url returns the same bytes with the right headers.
    const res = await fetch(imageUrl);
    assert.equal(res.status, 200, `GET ${imageUrl} → ${res.status}`);
    assert.equal(res.headers.get("content-type"), exp.type);
    const body = new Uint8Array(await res.arrayBuffer());
    assert.equal(sniff(body), exp.format);
    assertSameBytes(body, obj.bytes, "served bytes differ from the stored image");
    assert.ok(res.headers.get("etag"), "no ETag on the image response");
    assert.match(res.headers.get("cache-control") ?? "", /immutable/, `Cache-Control: ${res.headers.get("cache-control")}`);
    const again = await fetch(imageUrl, { headers: { "If-None-Match": res.headers.get("etag") } });
    await again.arrayBuffer();
    assert.ok([200, 304].includes(again.status), `conditional GET gave ${again.status}`);
    return key;
  }

  for (const model of Object.keys(EXPECT)) {
    it(`${model}: stores a real ${EXPECT[model].format.toUpperCase()} (${EXPECT[model].ext}, ${EXPECT[model].type}) and serves it at image_url`, async () => {
      const prompt = `A Cat, on a ${model} mat! ${uniq()}`;
      const { result, data } = await callTool(client, "generate_image_and_wait", { prompt, model });
      assert.ok(!result.isError, `generate_image_and_wait failed: ${JSON.stringify(data)}\n${h.logText()}`);
      assert.equal(data.status, "completed");
      const [job] = await h.query("SELECT id FROM generation_jobs WHERE prompt = ?", prompt);
      await checkImage({ jobId: job.id, prompt, model, imageUrl: data.image_url });
    });
  }

  it("defaults to flux-schnell when no model is given (and stores a JPEG)", async () => {
    const prompt = `default model ${uniq()}`;
    const { data } = await callTool(client, "generate_image_and_wait", { prompt });
    assert.equal(data.success, true, JSON.stringify(data));
    assert.equal(data.model, "flux-schnell");
    const [job] = await h.query("SELECT id FROM generation_jobs WHERE prompt = ?", prompt);
    await checkImage({ jobId: job.id, prompt, model: "flux-schnell", imageUrl: data.image_url });
  });

  it("count 3 makes 3 jobs, 3 R2 objects, 3 gallery rows, 3 distinct image URLs", async () => {
    const prompt = `three little pigs ${uniq()}`;
    const { result, data } = await callTool(client, "generate_image", { prompt, count: 3, model: "sdxl-lightning" });
    assert.ok(!result.isError, JSON.stringify(data));
    assert.equal(data.success, true);
    assert.equal(data.count, 3);
    assert.equal(data.status, "pending");
    assert.equal(data.prompt, prompt);
    assert.equal(data.model, "sdxl-lightning");
    assert.equal(data.estimated_time_seconds, 30);
    assert.equal(data.job_ids.length, 3);
    assert.equal(new Set(data.job_ids).size, 3, "job ids are not distinct");
    assert.equal(data.job_id, undefined, "count > 1 must answer job_ids, not job_id");

    const rows = await h.query("SELECT id FROM generation_jobs WHERE prompt = ?", prompt);
    assert.deepEqual(rows.map((r) => r.id).sort(), [...data.job_ids].sort());

    const { data: waited } = await callTool(client, "wait_for_completion", { job_ids: data.job_ids });
    assert.equal(waited.success, true, JSON.stringify(waited));
    assert.equal(waited.count, 3);
    assert.deepEqual(waited.results.map((r) => r.job_id).sort(), [...data.job_ids].sort());
    const urls = waited.results.map((r) => r.image_url);
    assert.equal(new Set(urls).size, 3, "image URLs are not distinct");

    const calls = h.recorder.callsFor(prompt);
    assert.equal(calls.length, 3, `model calls: ${calls.length}`);
    const keys = waited.results.map((r) => keyFromWorkerUrl(r.image_url));
    assert.equal(new Set(keys).size, 3, "two jobs with the same prompt share an R2 key");
    const objects = (await h.r2Objects()).filter((o) => o.customMetadata?.prompt === prompt);
    assert.equal(objects.length, 3, `R2 objects for the prompt: ${objects.map((o) => o.key)}`);
    const gens = await h.query(
      `SELECT job_id FROM generations WHERE job_id IN (${data.job_ids.map(() => "?").join(",")})`,
      ...data.job_ids,
    );
    assert.equal(gens.length, 3);
    for (const r of waited.results) {
      const res = await fetch(r.image_url);
      assert.equal(res.status, 200);
      assert.equal(sniff(new Uint8Array(await res.arrayBuffer())), "png");
    }
  });

  it("generate_image_and_wait with count 2 returns {success, count: 2, results} with two served images", async () => {
    const prompt = `twin peaks ${uniq()}`;
    const { result, data } = await callTool(client, "generate_image_and_wait", { prompt, count: 2, model: "sdxl-base" });
    assert.ok(!result.isError, JSON.stringify(data));
    assert.equal(data.success, true);
    assert.equal(data.count, 2);
    assert.equal(data.results.length, 2);
    const rows = await h.query("SELECT id FROM generation_jobs WHERE prompt = ?", prompt);
    assert.deepEqual(data.results.map((r) => r.job_id).sort(), rows.map((r) => r.id).sort());
    for (const r of data.results) {
      assert.equal(r.prompt, prompt);
      assert.equal(r.model, "sdxl-base");
      const img = await h.fetchImage(r.image_url);
      const call = h.recorder.callsFor(prompt).find((c) => Number(c.inputs.seed) === r.seed);
      assert.ok(call, `the model was called with the seed job ${r.job_id} records (${r.seed})`);
      assertSameBytes(img.bytes, producedBy(call), "served bytes differ from what the model produced");
    }
  });

  it("count 20 (the maximum) makes 20 jobs that all complete", async () => {
    const prompt = `a swarm of bees ${uniq()}`;
    const { data } = await callTool(client, "generate_image", { prompt, count: 20 });
    assert.equal(data.success, true, JSON.stringify(data));
    assert.equal(data.job_ids.length, 20);
    const { data: waited } = await callTool(client, "wait_for_completion", { job_ids: data.job_ids });
    assert.equal(waited.success, true, JSON.stringify(waited).slice(0, 500));
    assert.equal(waited.results.length, 20);
    assert.equal(await h.count("generations", "job_id IN (SELECT id FROM generation_jobs WHERE prompt = ?)", prompt), 20);
  });
});
