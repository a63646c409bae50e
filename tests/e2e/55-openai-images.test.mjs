// The OpenAI-compatible images API (issue 23), driven by the official `openai` npm package
// pointed at the worker (baseURL <origin>/v1, apiKey = a bearer token of this server):
// generations (url and b64_json, several models and sizes), edits (multipart, with a mask in
// this server's convention and one in OpenAI's, and several images), variations, models; refusals in OpenAI's error shape (bad size for the model,
// unknown model, missing prompt, bad key, over quota, n over the limit, a wait past its bound)
// that leave no job behind; keys isolated; every job visible to the MCP tools and the gallery
// with its inputs; CORS for the headers the SDK sends.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import OpenAI, { toFile } from "openai";
import sharp from "sharp";
import { callTool, uniq, keyFromWorkerUrl, MODEL_IDS, MODEL_NAMES, QUEUE, TEST_TOKEN } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import { sha256, dimensions, pngInput, maskInput } from "./support/input-images.mjs";
import { postLogin, sessionSetCookie, getPage, tileIds, COOKIE_NAME } from "./support/gallery.mjs";

const KEYS = { alice: "alice-token-5c1e7a9d3b2f", bob: "bob-token-0d4f8b2e6a1c" };
const QUOTA = 3;
const OPENAI_NAMES = { "dall-e-2": "sdxl-lightning", "dall-e-3": "flux-2-dev", "gpt-image-1": "flux-2-klein-9b" };

/** An OpenAI client for this worker; `seen` collects the headers of every request it sends. */
function openai(h, apiKey, seen = []) {
  return new OpenAI({
    baseURL: new URL("/v1", h.origin).href,
    apiKey,
    maxRetries: 2,
    fetch: (url, init) => {
      seen.push(new Headers(init?.headers));
      return fetch(url, init);
    },
  });
}

/** The refusal an SDK call ends in (asserting it is one), with OpenAI's error fields. */
async function refusal(promise) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, `an APIError, got ${error}`);
    return error;
  }
  assert.fail("the call should have been refused");
}

async function png(name, image) {
  return toFile(Buffer.from(image.bytes), name, { type: "image/png" });
}

describe("OpenAI images API with the official openai npm client", () => {
  const h = useHarness({
    vars: {
      API_KEYS: apiKeys(KEYS),
      DAILY_IMAGE_QUOTA: String(QUOTA),
    },
  });
  let admin;
  let alice;
  let bob;
  const adminHeaders = [];
  before(() => {
    admin = openai(h, TEST_TOKEN, adminHeaders);
    alice = openai(h, KEYS.alice);
    bob = openai(h, KEYS.bob);
  });

  /** The job rows whose prompt is exactly `prompt`. */
  const jobsFor = (prompt) => h.query("SELECT * FROM generation_jobs WHERE prompt = ? ORDER BY created_at", prompt);

  it("lists every model and the OpenAI names, and fetches one; an unknown id is a 404", async () => {
    const ids = [];
    for await (const model of admin.models.list()) {
      assert.equal(model.object, "model");
      ids.push(model.id);
    }
    assert.deepEqual([...ids].sort(), [...MODEL_NAMES, ...Object.keys(OPENAI_NAMES)].sort());
    const flux = await admin.models.retrieve("flux-2-dev");
    assert.deepEqual(flux, { id: "flux-2-dev", object: "model", created: 0, owned_by: "black-forest-labs" });
    const missing = await refusal(admin.models.retrieve("gpt-5"));
    assert.equal(missing.status, 404);
    assert.equal(missing.code, "model_not_found");
    assert.equal(missing.type, "invalid_request_error");
  });

  it("generations as URLs: two sdxl-lightning images of 512x768, fetched back", async () => {
    const prompt = `a red fox in the snow ${uniq("oa-url")}`;
    const result = await admin.images.generate({ prompt, model: "sdxl-lightning", n: 2, size: "512x768" });
    assert.equal(typeof result.created, "number");
    assert.equal(result.data.length, 2);
    const jobs = await jobsFor(prompt);
    assert.equal(jobs.length, 2);
    const stored = jobs.map((j) => new URL(j.image_url, h.origin).pathname).sort();
    assert.deepEqual(result.data.map((entry) => new URL(entry.url).pathname).sort(), stored, "one URL per job");
    for (const entry of result.data) {
      assert.equal(entry.b64_json, undefined);
      assert.ok(entry.url.startsWith(`${h.origin}/images/`), entry.url);
      const res = await h.fetch(entry.url);
      assert.equal(res.status, 200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      assert.deepEqual(await dimensions(bytes), { format: "png", width: 512, height: 768 });
    }
    const calls = h.recorder.callsFor(prompt);
    assert.equal(calls.length, 2);
    for (const call of calls) {
      assert.equal(call.model, MODEL_IDS["sdxl-lightning"]);
      assert.equal(call.inputs.width, 512);
      assert.equal(call.inputs.height, 768);
    }
    assert.notEqual(calls[0].inputs.seed, calls[1].inputs.seed, "each image its own seed");
  });

  it("generations as b64_json: dall-e-3 at 1792x1024 (flux-2-dev), the stored bytes exactly", async () => {
    const prompt = `a lighthouse at dusk ${uniq("oa-b64")}`;
    const result = await admin.images.generate({
      prompt,
      model: "dall-e-3",
      size: "1792x1024",
      response_format: "b64_json",
      quality: "hd",
      style: "natural",
      user: "someone",
    });
    assert.equal(result.data.length, 1);
    const bytes = Buffer.from(result.data[0].b64_json, "base64");
    const [job] = await jobsFor(prompt);
    assert.equal(job.model, "flux-2-dev");
    const stored = await h.r2Bytes(keyFromWorkerUrl(new URL(job.image_url, h.origin).href));
    assert.equal(sha256(bytes), sha256(stored.bytes), "the R2 object, byte for byte");
    const info = await dimensions(bytes);
    assert.deepEqual([info.width, info.height], [1792, 1024]);
    const [call] = h.recorder.callsFor(prompt);
    assert.equal(call.model, MODEL_IDS["flux-2-dev"]);
    assert.equal(call.fields.width, "1792");
  });

  it("gpt-image-1 answers in base64 by default; a bare prompt is dall-e-2 (sdxl-lightning); flux-schnell takes size auto", async () => {
    const gpt = `a paper boat ${uniq("oa-gpt")}`;
    const result = await admin.images.generate({ prompt: gpt, model: "gpt-image-1", size: "1536x1024" });
    assert.ok(result.data[0].b64_json && !result.data[0].url);
    assert.equal((await jobsFor(gpt))[0].model, OPENAI_NAMES["gpt-image-1"]);
    assert.deepEqual((await dimensions(Buffer.from(result.data[0].b64_json, "base64"))).width, 1536);

    const bare = `a teapot ${uniq("oa-bare")}`;
    const plain = await admin.images.generate({ prompt: bare });
    assert.ok(plain.data[0].url);
    assert.equal((await jobsFor(bare))[0].model, "sdxl-lightning");

    const schnell = `a comet ${uniq("oa-schnell")}`;
    const fixed = await admin.images.generate({ prompt: schnell, model: "flux-schnell", size: "auto" });
    const res = await h.fetch(fixed.data[0].url);
    assert.equal((await dimensions(new Uint8Array(await res.arrayBuffer()))).format, "jpeg");
  });

  it("edits: a multipart image and mask go to inpainting unchanged, stored as inputs and listed on the job", async () => {
    const image = pngInput(512, 512, { seed: 23 });
    const mask = maskInput(512, 512);
    const prompt = `a boat in the harbour ${uniq("oa-edit")}`;
    const result = await admin.images.edit({
      image: await png("harbour.png", image),
      mask: await png("mask.png", mask),
      prompt,
      n: 1,
      size: "512x512",
    });
    assert.equal(result.data.length, 1);
    const [call] = h.recorder.callsFor(prompt);
    assert.equal(call.model, MODEL_IDS["sd-v1-5-inpainting"]);
    assert.equal(call.images.image_b64.sha256, image.sha, "the uploaded image, byte for byte");
    assert.equal(call.images.mask.sha256, mask.sha, "the uploaded mask, byte for byte");
    const [job] = await jobsFor(prompt);
    assert.equal(job.model, "sd-v1-5-inpainting");
    const inputs = JSON.parse(job.inputs);
    assert.deepEqual(
      inputs.map((i) => [i.role, i.source, i.format, i.width, i.height]),
      [
        ["image", `upload (${image.bytes.length} bytes)`, "png", 512, 512],
        ["mask", `upload (${mask.bytes.length} bytes)`, "png", 512, 512],
      ],
    );
    for (const [input, sent] of [
      [inputs[0], image],
      [inputs[1], mask],
    ]) {
      const key = input.url.split("/").pop();
      assert.match(key, /^input-[0-9a-f-]{36}\.png$/);
      assert.equal(sha256((await h.r2Bytes(key)).bytes), sent.sha, "stored like a data-URL upload");
    }
  });

  it("edits: an OpenAI mask (transparent = edit) reaches the model as white = repaint, black = keep", async () => {
    const image = pngInput(64, 64, { seed: 24 });
    // Opaque everywhere (the picture itself, as OpenAI's examples make masks) except a
    // transparent square at x, y in 16..47.
    const rgba = Buffer.alloc(64 * 64 * 4);
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        const at = (y * 64 + x) * 4;
        const hole = x >= 16 && x < 48 && y >= 16 && y < 48;
        rgba.set([200, 120, 40, hole ? 0 : 255], at);
      }
    }
    const openaiMask = await sharp(rgba, { raw: { width: 64, height: 64, channels: 4 } }).png().toBuffer();
    const prompt = `a hole in the wall ${uniq("oa-alpha")}`;
    await admin.images.edit({
      image: await png("wall.png", image),
      mask: await toFile(openaiMask, "mask.png", { type: "image/png" }),
      prompt,
    });
    const [call] = h.recorder.callsFor(prompt);
    assert.equal(call.model, MODEL_IDS["sd-v1-5-inpainting"]);
    const [job] = await jobsFor(prompt);
    const maskInput = JSON.parse(job.inputs).find((i) => i.role === "mask");
    const stored = (await h.r2Bytes(maskInput.url.split("/").pop())).bytes;
    assert.equal(call.images.mask.sha256, sha256(stored), "the model got the converted mask");
    assert.notEqual(sha256(stored), sha256(openaiMask));
    const meta = await sharp(Buffer.from(stored)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels, meta.depth], ["png", 64, 64, 1, "uchar"], "8-bit grayscale, the image's size");
    const { data, info } = await sharp(Buffer.from(stored)).raw().toBuffer({ resolveWithObject: true });
    const at = (x, y) => data[(y * 64 + x) * info.channels];
    assert.deepEqual([at(20, 20), at(47, 47), at(32, 32)], [255, 255, 255], "transparent → white (repaint)");
    assert.deepEqual([at(0, 0), at(15, 16), at(48, 30), at(63, 63)], [0, 0, 0, 0], "opaque → black (keep)");
  });

  it("edits with several images (image[]) use FLUX.2 references; a job id works as a text reference", async () => {
    const first = pngInput(256, 256, { seed: 31 });
    const second = pngInput(256, 256, { seed: 32 });
    const prompt = `both pictures together ${uniq("oa-refs")}`;
    const result = await admin.images.edit({
      image: [await png("a.png", first), await png("b.png", second)],
      prompt,
      response_format: "b64_json",
    });
    assert.ok(result.data[0].b64_json);
    const [call] = h.recorder.callsFor(prompt);
    assert.equal(call.model, MODEL_IDS["flux-2-klein-4b"]);
    assert.equal(call.fields.input_image_0.sha256, first.sha);
    assert.equal(call.fields.input_image_1.sha256, second.sha);

    // A form text field named image is a reference, as edit_image takes it.
    const [job] = await jobsFor(prompt);
    const body = new FormData();
    body.append("image", job.id);
    body.append("prompt", `${prompt} again`);
    const res = await h.fetch("/v1/images/edits", { method: "POST", headers: { Authorization: `Bearer ${TEST_TOKEN}` }, body });
    assert.equal(res.status, 200, await res.clone().text());
    const [again] = h.recorder.callsFor(`${prompt} again`);
    assert.equal(again.model, MODEL_IDS["sd-v1-5-img2img"]);
    const source = await h.r2Bytes(keyFromWorkerUrl(new URL(job.image_url, h.origin).href));
    assert.equal(again.images.image_b64.sha256, sha256(source.bytes));
  });

  it("variations: img2img on the upload at strength 0.35, each its own seed; n above 8 is a 400", async () => {
    const image = pngInput(512, 512, { seed: 41 });
    const before = h.recorder.calls.length;
    const result = await admin.images.createVariation({ image: await png("v.png", image), n: 2 });
    assert.equal(result.data.length, 2);
    const calls = h.recorder.calls.slice(before);
    assert.equal(calls.length, 2);
    for (const call of calls) {
      assert.equal(call.model, MODEL_IDS["sd-v1-5-img2img"]);
      assert.equal(call.inputs.strength, 0.35);
      assert.equal(call.images.image_b64.sha256, image.sha);
    }
    assert.notEqual(calls[0].inputs.seed, calls[1].inputs.seed);

    const jobsBefore = await h.count("generation_jobs");
    const tooMany = await refusal(admin.images.createVariation({ image: await png("v.png", image), n: 9 }));
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.param, "n");
    assert.equal(tooMany.code, "integer_above_max_value");
    assert.equal(await h.count("generation_jobs"), jobsBefore, "nothing started");
  });

  it("refusals are OpenAI-shaped, with the field they are about, and start nothing", async () => {
    await h.waitForNoJobsInFlight();
    const jobsBefore = await h.count("generation_jobs");
    const deliveriesBefore = h.queueDeliveries(QUEUE).length;
    const cases = [
      [() => admin.images.generate({ prompt: "a red fox", model: "sdxl-lightning", size: "100x100" }), 400, "size", "invalid_value", /width must be between 256 and 2048/],
      [() => admin.images.generate({ prompt: "a red fox", model: "flux-schnell", size: "1024x1024" }), 400, "size", "invalid_value", /fixed size/],
      [() => admin.images.generate({ prompt: "a red fox", model: "dall-e-4" }), 400, "model", "model_not_found", /does not exist/],
      [() => admin.images.generate({ model: "dall-e-2" }), 400, "prompt", "missing_required_parameter", /Missing required parameter: 'prompt'/],
      [() => admin.images.generate({ prompt: "a red fox", n: 11 }), 400, "n", "integer_above_max_value", /<= 10/],
      [() => admin.images.generate({ prompt: "a red fox", stream: true }), 400, "stream", "unsupported_value", /Streaming/],
      [() => openai(h, "not-a-key-of-this-server").images.generate({ prompt: "a red fox" }), 401, null, "invalid_api_key", /invalid bearer token/],
      [async () => admin.images.edit({ image: await toFile(Buffer.from("plain text"), "x.png"), prompt: "a red fox" }), 400, null, null, /not a PNG, JPEG or WebP/],
    ];
    for (const [call, status, param, code, message] of cases) {
      const error = await refusal(call());
      assert.equal(error.status, status, error.message);
      assert.equal(error.param ?? null, param, error.message);
      assert.equal(error.code ?? null, code, error.message);
      assert.match(error.error.message, message);
      assert.equal(error.headers.get("x-should-retry"), "false");
    }
    // Raw: the body is exactly OpenAI's four fields.
    const res = await h.fetch("/v1/images/generations", {
      method: "POST",
      headers: { Authorization: `Bearer ${TEST_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: "a red fox", colour: "red" }),
    });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      error: { message: "Unrecognized request argument supplied: colour", type: "invalid_request_error", param: "colour", code: "unknown_parameter" },
    });
    const missingKey = await h.fetch("/v1/models");
    assert.equal(missingKey.status, 401);
    assert.match(missingKey.headers.get("www-authenticate"), /^Bearer realm=/);
    // The images API is not /mcp: its challenge names the origin's own protected-resource document.
    assert.match(missingKey.headers.get("www-authenticate"), /resource_metadata="http:\/\/[^"]+\/\.well-known\/oauth-protected-resource"/);
    assert.equal((await missingKey.json()).error.code, "invalid_api_key");
    const wrongMethod = await h.fetch("/v1/images/generations", { headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "POST");
    const unknown = await h.fetch("/v1/chat/completions", { method: "POST", headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).error.message, "Invalid URL (POST /v1/chat/completions)");
    const tooLarge = await h.rawRequest("/v1/images/edits", {
      method: "POST",
      headers: { Authorization: `Bearer ${TEST_TOKEN}`, "Content-Type": "multipart/form-data; boundary=x", "Content-Length": String(16 * 1024 * 1024 + 1) },
    });
    assert.equal(tooLarge.status, 413);
    assert.equal(JSON.parse(tooLarge.body).error.code, "request_too_large");
    assert.equal(await h.count("generation_jobs"), jobsBefore, "no refusal created a job");
    assert.equal(h.queueDeliveries(QUEUE).length, deliveriesBefore, "nor queued anything");
  });

  it("a job that fails makes the request a 500 naming the job and its error, not retried by the SDK", async () => {
    const prompt = `a broken camera [fail-always] ${uniq("oa-fail")}`;
    const error = await refusal(admin.images.generate({ prompt }));
    assert.equal(error.status, 500);
    assert.equal(error.type, "server_error");
    assert.equal(error.code, "image_generation_failed");
    const jobs = await jobsFor(prompt);
    assert.equal(jobs.length, 1, "the SDK did not retry it into another job");
    assert.equal(jobs[0].status, "failed");
    assert.equal(error.error.message, `1 of 1 image(s) failed (${jobs[0].id}: ${jobs[0].error})`);
    assert.match(jobs[0].error, /model unavailable/);
  });

  it("keys are isolated, count toward their quota (429 insufficient_quota over it), and their jobs show in MCP and the gallery", async () => {
    const prompt = `alice's lighthouse ${uniq("oa-alice")}`;
    const made = await alice.images.generate({ prompt, n: 2 });
    assert.equal(made.data.length, 2);
    const jobs = await jobsFor(prompt);
    assert.deepEqual(
      jobs.map((j) => j.owner),
      ["alice", "alice"],
    );

    // Over the quota (3 a day): refused before anything is stored, with OpenAI's quota error.
    const before = await h.count("generation_jobs");
    const over = await refusal(alice.images.generate({ prompt: `${prompt} more`, n: 2 }));
    assert.equal(over.status, 429);
    assert.equal(over.type, "insufficient_quota");
    assert.equal(over.code, "insufficient_quota");
    assert.match(over.error.message, /key "alice" has used 2 of its 3 images today/);
    assert.equal(over.headers.get("x-should-retry"), "false");
    assert.equal(await h.count("generation_jobs"), before, "the SDK did not retry it into a job");

    // The MCP tools see alice's jobs with her key and not with bob's.
    const aliceMcp = await h.mcpClient({ token: KEYS.alice });
    const { data: usage } = await callTool(aliceMcp, "get_usage");
    assert.equal(usage.images_remaining, 1);
    const { data: status } = await callTool(aliceMcp, "get_job_status", { job_id: jobs[0].id });
    assert.equal(status.status, "completed");
    assert.equal(status.prompt, prompt);
    const bobMcp = await h.mcpClient({ token: KEYS.bob });
    const { result: hidden } = await callTool(bobMcp, "get_job_status", { job_id: jobs[0].id });
    assert.equal(hidden.isError, true, "bob cannot see alice's job");

    // Bob cannot use alice's image as an edit input either.
    const body = new FormData();
    body.append("image", jobs[0].id);
    body.append("prompt", "a copy of alice's image");
    const res = await h.fetch("/v1/images/edits", { method: "POST", headers: { Authorization: `Bearer ${KEYS.bob}` }, body });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /no job/);

    // An edit's job lists its inputs in the MCP tools too.
    const image = pngInput(256, 256, { seed: 51 });
    const editPrompt = `bob's edit ${uniq("oa-bob")}`;
    await bob.images.edit({ image: await png("b.png", image), prompt: editPrompt });
    const [bobJob] = await jobsFor(editPrompt);
    const { data: bobStatus } = await callTool(bobMcp, "get_job_status", { job_id: bobJob.id });
    assert.equal(bobStatus.inputs.length, 1);
    assert.equal(bobStatus.inputs[0].source, `upload (${image.bytes.length} bytes)`);

    // The gallery shows alice her jobs.
    const login = await postLogin(h, { token: KEYS.alice });
    await login.arrayBuffer();
    const cookie = `${COOKIE_NAME}=${sessionSetCookie(login).value}`;
    const { html } = await getPage(h, "/gallery", cookie);
    const tiles = tileIds(html);
    for (const job of jobs) assert.ok(tiles.includes(job.id), `gallery tile for ${job.id}`);
    assert.ok(!tiles.includes(bobJob.id), "not bob's");
  });

  it("CORS: a browser's preflight allows every header the SDK sends", async () => {
    const sent = new Set();
    for (const headers of adminHeaders) for (const [name] of headers) sent.add(name.toLowerCase());
    assert.ok(sent.has("x-stainless-lang") && sent.has("authorization"), [...sent].join(", "));
    const preflight = await h.fetch("/v1/images/generations", {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": [...sent].join(",") },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
    const allowed = preflight.headers.get("access-control-allow-headers").toLowerCase().split(/,\s*/);
    // Simple headers need no permission.
    const simple = new Set(["accept", "accept-language", "content-language", "content-type", "user-agent", "content-length", "accept-encoding", "connection", "host"]);
    for (const name of sent) if (!simple.has(name)) assert.ok(allowed.includes(name), `${name} is allowed`);
    const models = await h.fetch("/v1/models", { headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
    assert.equal(models.headers.get("access-control-allow-origin"), "*");
  });
});

describe("OpenAI images API: a wait past its bound is a 504 naming the jobs, which go on", () => {
  const h = useHarness({ vars: { WAIT_RESPONSE_LIMIT_SECONDS: "1" } });

  it("504 server_error naming every job id, not retried by the SDK; the jobs complete afterwards", async () => {
    const client = openai(h, TEST_TOKEN);
    const prompt = `a slow sunrise [delay=2500] ${uniq("oa-504")}`;
    const error = await refusal(client.images.generate({ prompt, n: 2 }));
    assert.equal(error.status, 504);
    assert.equal(error.type, "server_error");
    assert.equal(error.code, "timeout");
    const jobs = await h.query("SELECT id FROM generation_jobs WHERE prompt = ?", prompt);
    assert.equal(jobs.length, 2, "the SDK did not retry into more jobs");
    for (const { id } of jobs) {
      assert.ok(error.error.message.includes(id), `${id} named in: ${error.error.message}`);
      await h.waitForJob(id, ["completed"]);
    }
  });
});

describe("OpenAI images API: the per-key rate limit", () => {
  const h = useHarness({ rateLimit: { limit: 4, period: 60 } });

  it("429 requests/rate_limit_exceeded with Retry-After, the one error the SDK may retry", async () => {
    // maxRetries 0: the SDK would otherwise wait out Retry-After (60 s) and try again.
    const client = new OpenAI({ baseURL: new URL("/v1", h.origin).href, apiKey: TEST_TOKEN, maxRetries: 0 });
    let limited;
    for (let i = 0; i < 20 && !limited; i++) {
      try {
        await client.models.list();
      } catch (error) {
        limited = error;
      }
    }
    assert.ok(limited instanceof OpenAI.RateLimitError, `a RateLimitError, got ${limited}`);
    assert.equal(limited.type, "requests");
    assert.equal(limited.code, "rate_limit_exceeded");
    assert.equal(limited.headers.get("retry-after"), "60");
    assert.equal(limited.headers.get("x-should-retry"), "true");
    assert.match(limited.error.message, /Too many requests for key "admin"/);
  });
});
