// The official Python `openai` package (PyPI openai==3.51.0, in .venv-clients/) against the
// built worker's OpenAI-compatible images API: python/openai_client.py lists and fetches models,
// generates (URLs and base64; sdxl-lightning at 512x512, dall-e-3 → flux-2-dev at 1024x1792),
// edits an uploaded image with a mask, makes variations, and provokes the documented refusals.
// It prints one JSON report; this test checks it against the worker's D1, R2 and the Workers AI
// stand-in's record.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { startHarness, uniq, keyFromWorkerUrl, MODEL_IDS, MODEL_NAMES } from "../e2e/harness.mjs";
import { pngInput, maskInput } from "../e2e/support/input-images.mjs";
import { requireInstalled, run, lastJson, describeRun, fetchRealImage, VENV_PYTHON, CLIENTS_DIR } from "./lib.mjs";

const ALICE = "alice-token-3e9b1c7d5a0f";
const PY_OPENAI = path.join(CLIENTS_DIR, "python", "openai_client.py");

describe("Python openai client (openai==3.51.0)", () => {
  let h;
  let dir;
  before(async () => {
    requireInstalled();
    h = await startHarness({ vars: { API_KEYS: `alice:${ALICE}`, DAILY_IMAGE_QUOTA: "1" } });
    dir = mkdtempSync(path.join(tmpdir(), "openai-python-"));
  });
  after(async () => {
    await h?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("generations, an edit with a mask, variations and models; refusals in OpenAI's shape", async () => {
    const image = pngInput(512, 512, { seed: 61 });
    const mask = maskInput(512, 512);
    writeFileSync(path.join(dir, "image.png"), image.bytes);
    writeFileSync(path.join(dir, "mask.png"), mask.bytes);
    const tag = uniq("py-openai");
    const r = await run(
      VENV_PYTHON,
      [PY_OPENAI, "--base-url", `${h.origin}/v1`, "--key", h.token, "--other-key", ALICE, "--image", path.join(dir, "image.png"), "--mask", path.join(dir, "mask.png"), "--tag", tag],
      { env: { PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" }, timeout: 240000 },
    );
    const out = lastJson("openai_client.py", r);
    const why = () => `${describeRun("openai_client.py", r)}\n--- worker log\n${h.logText(20)}`;
    assert.equal(out.ok, true, `${out.error}\n${out.traceback}\n${why()}`);
    assert.equal(r.code, 0, why());
    assert.equal(out.openai_version, "3.51.0");

    assert.deepEqual([...out.models].sort(), [...MODEL_NAMES, "dall-e-2", "dall-e-3", "gpt-image-1"].sort());
    assert.deepEqual(out.model, { id: "dall-e-3", object: "model", created: 0, owned_by: "mcp-image-generator" });

    // Generations: two 512x512 sdxl-lightning PNGs by URL; one flux-2-dev image in base64 that is
    // the stored object byte for byte.
    assert.equal(out.generate_url.urls.length, 2);
    for (const url of out.generate_url.urls) assert.equal((await fetchRealImage(url)).format, "png");
    const urlCalls = h.recorder.callsFor(`a red fox in the snow ${tag} url`);
    assert.deepEqual(
      urlCalls.map((c) => [c.model, c.inputs.width, c.inputs.height]),
      [
        [MODEL_IDS["sdxl-lightning"], 512, 512],
        [MODEL_IDS["sdxl-lightning"], 512, 512],
      ],
    );
    const [b64Job] = await h.query("SELECT model, image_url, width, height FROM generation_jobs WHERE prompt = ?", `a lighthouse at dusk ${tag} b64`);
    assert.equal(b64Job.model, "flux-2-dev");
    assert.deepEqual([b64Job.width, b64Job.height], [1024, 1792]);
    const stored = await h.r2Bytes(keyFromWorkerUrl(new URL(b64Job.image_url, h.origin).href));
    assert.equal(out.generate_b64.sha256, createHash("sha256").update(stored.bytes).digest("hex"));

    // The edit: the uploaded image and mask reached the inpainting model unchanged.
    assert.equal(out.edit.urls.length, 1);
    await fetchRealImage(out.edit.urls[0]);
    const [editCall] = h.recorder.callsFor(`a boat in the harbour ${tag} edit`);
    assert.equal(editCall.model, MODEL_IDS["sd-v1-5-inpainting"]);
    assert.equal(editCall.images.image_b64.sha256, image.sha);
    assert.equal(editCall.images.mask.sha256, mask.sha);

    // Variations: two, img2img on the upload.
    assert.equal(out.variations.urls.length, 2);
    const variationJobs = await h.query("SELECT model, inputs FROM generation_jobs WHERE prompt LIKE 'a variation of this image%'");
    assert.equal(variationJobs.length, 2);
    for (const job of variationJobs) {
      assert.equal(job.model, "sd-v1-5-img2img");
      assert.equal(JSON.parse(job.inputs)[0].source, `upload (${image.bytes.length} bytes)`);
    }

    const refused = out.refusals;
    const expect = {
      bad_size: ["BadRequestError", 400, "invalid_request_error", "size", "invalid_value"],
      unknown_model: ["BadRequestError", 400, "invalid_request_error", "model", "model_not_found"],
      missing_prompt: ["BadRequestError", 400, "invalid_request_error", "prompt", "missing_required_parameter"],
      bad_key: ["AuthenticationError", 401, "invalid_request_error", null, "invalid_api_key"],
      too_many_variations: ["BadRequestError", 400, "invalid_request_error", "n", "integer_above_max_value"],
      over_quota: ["RateLimitError", 429, "insufficient_quota", null, "insufficient_quota"],
    };
    for (const [name, [cls, status, type, param, code]] of Object.entries(expect)) {
      const got = refused[name];
      assert.deepEqual([got.class, got.status, got.type, got.param, got.code], [cls, status, type, param, code], `${name}: ${JSON.stringify(got)}`);
      assert.equal(got.should_retry, "false", name);
    }
    assert.match(refused.bad_size.message, /phoenix: width must be between 256 and 2048/);
    assert.match(refused.over_quota.message, /key "alice" has used 1 of its 1 images today/);
    // The quota key's one image is its own; the refused one left no job.
    const owners = await h.query("SELECT owner, prompt FROM generation_jobs WHERE prompt LIKE ?", `%${tag}%`);
    assert.deepEqual(
      owners.filter((j) => j.owner === "alice").map((j) => j.prompt),
      [`the only image today ${tag}`],
    );
    assert.ok(owners.filter((j) => j.owner !== "alice").every((j) => j.owner === "admin"));
    console.log(`# python openai client run: ${r.ms} ms`);
  });
});
