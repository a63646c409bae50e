// Image inputs (issue 9): edit_image, generate_variations, and the three kinds of image
// reference (a completed job's id, this server's image URL, a data URL), end to end.
//
// Every accepted call is followed to the model: the stand-in records the sha256 of each image
// it received, which must equal the bytes of the referenced R2 object, or of the stored
// `input-…` object the result's inputs[].url points at (after a conversion through the Images
// binding). The inputs are listed the same way in the tool result, get_job_status, list_jobs and
// the D1 row. Every refused call must leave no trace: no job row, no R2 object, no queue
// delivery, no model call, and no outbound request (the harness records the server's outbound
// fetches; the server never fetches a reference).
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { callTool, uniq, keyFromWorkerUrl, waitFor, sleep, MODEL_IDS, IMAGE_INPUT_MODEL_NAMES, QUEUE } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import {
  INPUT_MAX_BYTES,
  sha256,
  dimensions,
  pngInput,
  jpegInput,
  webpInput,
  maskInput,
  notAnImageInput,
  oversizePngInput,
  declaredHugePngInput,
} from "./support/input-images.mjs";

// From /work/notes/inputs-interface.md (catalog EDIT_STRENGTH_DEFAULT, VARIATION_STRENGTH_DEFAULT).
const EDIT_STRENGTH_DEFAULT = 0.6;
const VARIATION_STRENGTH_DEFAULT = 0.35;
const FLUX2_INPUT_MAX_SIDE = 512;
const SD_INPUT_MAX_SIDE = 2048;
const VARIATIONS_DEFAULT_COUNT = 4;
const INPUT_KEY = /^input-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(png|jpg|webp)$/;

const IMG2IMG = MODEL_IDS["sd-v1-5-img2img"];
const INPAINTING = MODEL_IDS["sd-v1-5-inpainting"];
const KLEIN_4B = MODEL_IDS["flux-2-klein-4b"];

const withoutSeed = ({ seed, ...rest }) => rest;

/** Prints a block's refusal messages (in its teardown, before the harness goes). */
function printRefusals(messages) {
  for (const m of messages) console.log(`# refused: ${m}`);
}

/**
 * Shared checks over one harness: `h` (from useHarness) and an SDK `client` (set in `before`).
 * Returned as an object so the two describe blocks below can each bind their own.
 */
function checks(get) {
  /** Every refusal's message, printed after each block (for reading them, not asserted). */
  const refusalMessages = [];
  const keyOf = (url) => keyFromWorkerUrl(new URL(url, get().h.origin).href);

  /** Everything a refused call must leave as it was. */
  async function state() {
    const { h } = get();
    return {
      jobs: await h.count("generation_jobs"),
      r2Keys: (await h.r2Objects()).map((o) => o.key).sort(),
      modelCalls: h.recorder.calls.length,
      queueDeliveries: h.queueDeliveries(QUEUE).length,
      outbound: h.outboundRequests.map((r) => `${r.method} ${r.url}`),
    };
  }

  /**
   * Calls `tool` and expects a tool error matching `pattern`, with nothing recorded, stored,
   * queued, sent to the model or fetched. `client` defaults to the block's client.
   */
  async function assertRefused(tool, args, pattern, { client = get().client, inFlightOk = false } = {}) {
    const { h } = get();
    if (!inFlightOk) await h.waitForNoJobsInFlight();
    const before = await state();
    const { result, data } = await callTool(client, tool, args);
    assert.equal(result.isError, true, `${tool} should refuse: ${JSON.stringify(data).slice(0, 400)}`);
    assert.equal(data.success, false, JSON.stringify(data).slice(0, 400));
    assert.equal(typeof data.error, "string");
    assert.match(data.error, pattern);
    assert.ok(data.error.length <= 1000, `the error repeats too much of the input (${data.error.length} chars): ${data.error.slice(0, 200)}…`);
    // Give a wrongly queued message time to reach the consumer and the model.
    await sleep(400);
    assert.deepEqual(await state(), before, `${tool} refused (${data.error}) but left a trace`);
    refusalMessages.push(`${tool}: ${data.error}`);
    return data.error;
  }

  /**
   * One entry of a result's `inputs`: its fields, and the bytes behind its url (fetched from the
   * worker and read from R2) have the sha256 `sha` the model received. Returns the R2 key.
   */
  async function assertInput(entry, { role, source, format, width, height, sha, note = null }) {
    const { h } = get();
    assert.ok(entry, `no inputs entry for ${role} ${source}`);
    const expected = { role, source, url: entry.url, format, width, height };
    if (note) expected.note = entry.note;
    assert.deepEqual(entry, expected, `inputs entry for ${role} ${String(source).slice(0, 60)}`);
    if (note) assert.match(entry.note, note);
    assert.equal(typeof entry.url, "string");
    assert.ok(entry.url.startsWith(`${h.origin}/images/`), `inputs[].url is an absolute URL of this server: ${entry.url}`);
    const key = keyOf(entry.url);
    const stored = await h.r2Bytes(key);
    assert.ok(stored, `R2 holds ${key}`);
    assert.equal(sha256(stored.bytes), sha, `R2 ${key} holds the exact bytes the model received`);
    const served = await h.fetch(entry.url);
    assert.equal(served.status, 200, `GET ${entry.url}`);
    assert.equal(sha256(new Uint8Array(await served.arrayBuffer())), sha, `GET ${entry.url} serves the bytes the model received`);
    const info = await dimensions(stored.bytes);
    assert.deepEqual(info, { format, width, height }, `${key} really is a ${format} of ${width}x${height}`);
    return key;
  }

  /** The job's inputs as get_job_status, list_jobs and the D1 row show them equal `inputs`. */
  async function assertInputsEverywhere(jobId, inputs, { client = get().client } = {}) {
    const { h } = get();
    const status = await callTool(client, "get_job_status", { job_id: jobId });
    assert.equal(status.data.status, "completed", JSON.stringify(status.data));
    assert.deepEqual(status.data.inputs, inputs, "get_job_status lists the same inputs");
    const listed = await callTool(client, "list_jobs", { limit: 50 });
    const item = listed.data.jobs.find((j) => j.id === jobId);
    assert.ok(item, `list_jobs shows ${jobId}`);
    assert.deepEqual(item.inputs, inputs, "list_jobs lists the same inputs");
    const row = await h.job(jobId);
    assert.equal(typeof row.inputs, "string", "generation_jobs.inputs is JSON text");
    const stored = JSON.parse(row.inputs);
    assert.equal(stored.length, inputs.length, row.inputs);
    stored.forEach((entry, i) => {
      const { url, ...rest } = entry;
      const { url: shownUrl, ...shownRest } = inputs[i];
      assert.deepEqual(rest, shownRest, `D1 inputs[${i}]`);
      assert.equal(keyOf(url), keyOf(shownUrl), `D1 inputs[${i}].url names the same object`);
      assert.ok(!/^data:/.test(url) && !/base64/.test(row.inputs), "no inline data in the row");
    });
  }

  return { keyOf, state, assertRefused, assertInput, assertInputsEverywhere, refusalMessages };
}

/** generate_image_and_wait, asserting it completed; returns { data, key, bytes, sha }. */
async function makeImage(h, client, args) {
  const { result, data } = await callTool(client, "generate_image_and_wait", args);
  assert.equal(result.isError, undefined, JSON.stringify(data));
  assert.equal(data.status, "completed", JSON.stringify(data));
  return { data, ...(await storedImage(h, data.image_url)) };
}

/** The R2 object behind a result's image_url (this server's /images/<key>). */
async function storedImage(h, imageUrl) {
  const key = keyFromWorkerUrl(imageUrl);
  const obj = await h.r2Bytes(key);
  assert.ok(obj, `R2 holds ${key}`);
  return { key, bytes: obj.bytes, sha: sha256(obj.bytes), info: await dimensions(obj.bytes) };
}

/** The one model call made for `prompt` (asserting there is exactly one and it was accepted). */
function onlyCall(h, prompt) {
  const calls = h.recorder.callsFor(prompt);
  assert.equal(calls.length, 1, `model calls for "${prompt}": ${calls.length}`);
  assert.equal(calls[0].error ?? null, null, `the model refused the call: ${calls[0].error}`);
  return calls[0];
}

/** The completed single-image answer of edit_image. */
async function edit(client, args) {
  const { result, data } = await callTool(client, "edit_image", args);
  assert.equal(result.isError, undefined, `edit_image(${JSON.stringify(args).slice(0, 300)}): ${JSON.stringify(data).slice(0, 600)}`);
  assert.equal(data.success, true, JSON.stringify(data).slice(0, 600));
  return { result, data };
}

describe("image inputs: edit_image, generate_variations and image references", () => {
  let client;
  const { keyOf, state, assertRefused, assertInput, assertInputsEverywhere, refusalMessages } = checks(() => ({ h, client }));
  let source; // a completed flux-schnell image (1024x1024 JPEG): { data, key, bytes, sha, info }
  let edited; // the img2img result made from `source` in the first test
  let inpainted; // the inpainting result: { data, key, bytes, sha, info }
  let flux2Edited; // the FLUX.2 two-reference result

  const h = useHarness({ recordOutbound: true }, { teardown: () => printRefusals(refusalMessages) });
  before(async () => {
    client = await h.mcpClient();
    source = await makeImage(h, client, { prompt: `a lighthouse on a cliff ${uniq("src")}`, model: "flux-schnell" });
    assert.deepEqual(source.info, { format: "jpeg", width: 1024, height: 1024 });
  });

  it("both tools are listed with their arguments", async () => {
    const { tools } = await client.listTools();
    const editTool = tools.find((t) => t.name === "edit_image");
    const variations = tools.find((t) => t.name === "generate_variations");
    assert.ok(editTool && variations, `tools: ${tools.map((t) => t.name)}`);
    for (const arg of ["prompt", "images", "mask", "strength", "model", "count", "seed", "preview"]) {
      assert.ok(editTool.inputSchema.properties[arg], `edit_image takes ${arg}`);
    }
    assert.deepEqual([...editTool.inputSchema.required].sort(), ["images", "prompt"]);
    // Every model of the stand-in's table that takes input images (FLUX.2, img2img, inpainting).
    assert.deepEqual([...editTool.inputSchema.properties.model.enum].sort(), [...IMAGE_INPUT_MODEL_NAMES].sort());
    for (const arg of ["job_id", "count", "strength", "preview"]) assert.ok(variations.inputSchema.properties[arg], `generate_variations takes ${arg}`);
    assert.deepEqual(variations.inputSchema.required, ["job_id"]);
  });

  it("edit_image with a job id: sd-v1-5-img2img gets that job's exact image and strength 0.6; the job lists the input everywhere", async () => {
    const inputObjectsBefore = (await h.r2Objects("input-")).length;
    const prompt = `the lighthouse at night ${uniq("e1")}`;
    const { result, data } = await edit(client, { prompt, images: [source.data.job_id] });
    assert.equal(data.status, "completed");
    assert.equal(data.model, "sd-v1-5-img2img", "one image and no mask: img2img by default");
    assert.equal(data.prompt, prompt);
    const call = onlyCall(h, prompt);
    assert.equal(call.model, IMG2IMG);
    assert.equal(call.encoding, "json");
    assert.equal(call.images.image_b64.sha256, source.sha, "image_b64 is the referenced R2 object, byte for byte");
    assert.equal(call.inputs.strength, EDIT_STRENGTH_DEFAULT);
    assert.equal(call.inputs.prompt, prompt);
    assert.ok(!("image" in call.inputs) && !("mask" in call.inputs), `img2img gets image_b64 only: ${Object.keys(call.inputs)}`);
    assert.ok(Number.isInteger(data.seed), `a seed is chosen: ${data.seed}`);
    assert.equal(call.inputs.seed, data.seed, "the model got the recorded seed");
    // The output: the stand-in answers with the input's size.
    const out = await storedImage(h, data.image_url);
    assert.deepEqual(out.info, { format: "png", width: 1024, height: 1024 });
    assert.deepEqual([data.width, data.height], [1024, 1024]);
    assert.equal((await h.job(data.job_id)).model, "sd-v1-5-img2img");
    // The input, used in place: no copy in R2.
    assert.equal(data.inputs.length, 1, JSON.stringify(data.inputs));
    const key = await assertInput(data.inputs[0], {
      role: "image",
      source: source.data.job_id,
      format: "jpeg",
      width: 1024,
      height: 1024,
      sha: source.sha,
    });
    assert.equal(key, source.key, "a job reference points at the job's own image");
    assert.equal(data.inputs[0].url, source.data.image_url);
    assert.equal((await h.r2Objects("input-")).length, inputObjectsBefore, "no input- object for a job reference used as it is");
    await assertInputsEverywhere(data.job_id, data.inputs);
    // Shown like generate_image_and_wait: the text, the link, the inline thumbnail.
    assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);
    assert.equal(result.content[1].type, "resource_link");
    assert.equal(result.content[1].uri, `images://jobs/${data.job_id}`);
    edited = { data, ...out };
  });

  it("edit_image with an explicit strength sends that strength", async () => {
    for (const strength of [0.25, 1]) {
      const prompt = `the lighthouse in fog ${uniq("s")}`;
      const { data } = await edit(client, { prompt, images: [source.data.job_id], strength });
      const call = onlyCall(h, prompt);
      assert.equal(call.inputs.strength, strength);
      assert.equal(call.images.image_b64.sha256, source.sha);
      assert.equal(data.inputs[0].source, source.data.job_id);
    }
  });

  it("edit_image with this server's image URL, absolute and relative: read from R2, never fetched", async () => {
    const relative = `/images/${source.key}`;
    for (const reference of [source.data.image_url, relative]) {
      const prompt = `the lighthouse in snow ${uniq("url")}`;
      const { data } = await edit(client, { prompt, images: [reference] });
      const call = onlyCall(h, prompt);
      assert.equal(call.images.image_b64.sha256, source.sha, `${reference}: the model got the object's bytes`);
      assert.equal(call.inputs.strength, EDIT_STRENGTH_DEFAULT);
      const key = await assertInput(data.inputs[0], { role: "image", source: reference, format: "jpeg", width: 1024, height: 1024, sha: source.sha });
      assert.equal(key, source.key);
      await assertInputsEverywhere(data.job_id, data.inputs);
    }
    assert.deepEqual(h.outboundRequests, [], "the server fetched nothing, not even its own URL");
  });

  for (const [format, make, ext] of [
    ["png", () => pngInput(520, 400, { seed: 11 }), "png"],
    ["jpeg", () => jpegInput(480, 360, { seed: 12 }), "jpg"],
  ]) {
    it(`edit_image with a ${format} data URL: stored as input-<uuid>.${ext}, the model gets its exact bytes`, async () => {
      const input = make();
      const prompt = `a painted ${format} harbour ${uniq("d")}`;
      const { data } = await edit(client, { prompt, images: [input.dataUrl] });
      const call = onlyCall(h, prompt);
      assert.equal(call.model, IMG2IMG);
      assert.equal(call.images.image_b64.sha256, input.sha, "the model got the uploaded bytes unchanged");
      assert.equal(call.inputs.strength, EDIT_STRENGTH_DEFAULT);
      const key = await assertInput(data.inputs[0], {
        role: "image",
        source: `data URL (${input.bytes.length} bytes)`,
        format,
        width: input.width,
        height: input.height,
        sha: input.sha,
      });
      assert.match(key, INPUT_KEY);
      assert.ok(key.endsWith(`.${ext}`), key);
      const obj = await h.r2Bytes(key);
      assert.equal(obj.httpMetadata.contentType, `image/${format}`);
      assert.deepEqual([data.width, data.height], [input.width, input.height], "img2img keeps the input's size");
      await assertInputsEverywhere(data.job_id, data.inputs);
    });
  }

  it("edit_image with a WebP data URL: converted to PNG through the Images binding; the model gets the stored PNG", async () => {
    const input = await webpInput(480, 320, { seed: 13 });
    const prompt = `a webp meadow ${uniq("webp")}`;
    const { data } = await edit(client, { prompt, images: [input.dataUrl] });
    const call = onlyCall(h, prompt);
    assert.equal(call.model, IMG2IMG);
    const received = call.images.image_b64;
    assert.deepEqual([received.format, received.width, received.height], ["png", 480, 320], "the model got a PNG of the same size");
    assert.notEqual(received.sha256, input.sha);
    const key = await assertInput(data.inputs[0], {
      role: "image",
      source: `data URL (${input.bytes.length} bytes)`,
      format: "png",
      width: 480,
      height: 320,
      sha: received.sha256,
      note: /conver/i,
    });
    assert.match(key, INPUT_KEY);
    assert.ok(key.endsWith(".png"), key);
    await assertInputsEverywhere(data.job_id, data.inputs);
    assert.deepEqual(h.outboundRequests, [], "the Images binding is not an outbound fetch");
  });

  it("an SD input larger than 2048 on a side is scaled to fit 2048 (a stored PNG), the model gets that copy", async () => {
    const input = pngInput(2400, 600, { seed: 14 });
    const prompt = `a wide panorama ${uniq("wide")}`;
    const { data } = await edit(client, { prompt, images: [input.dataUrl] });
    const received = onlyCall(h, prompt).images.image_b64;
    assert.equal(received.format, "png");
    assert.equal(Math.max(received.width, received.height), SD_INPUT_MAX_SIDE, JSON.stringify(received));
    assert.ok(Math.abs(received.width / received.height - 4) < 0.02, `aspect ratio kept: ${received.width}x${received.height}`);
    await assertInput(data.inputs[0], {
      role: "image",
      source: `data URL (${input.bytes.length} bytes)`,
      format: "png",
      width: received.width,
      height: received.height,
      sha: received.sha256,
      note: /scal/i,
    });
  });

  it("inpainting with a data-URL image and mask of the same size: image_b64 and mask reach the model unchanged", async () => {
    const image = pngInput(512, 512, { seed: 15 });
    const mask = maskInput(512, 512);
    const prompt = `a boat in the harbour ${uniq("inp")}`;
    const { data } = await edit(client, { prompt, images: [image.dataUrl], mask: mask.dataUrl });
    assert.equal(data.model, "sd-v1-5-inpainting", "a mask: inpainting by default");
    const call = onlyCall(h, prompt);
    assert.equal(call.model, INPAINTING);
    assert.equal(call.images.image_b64.sha256, image.sha);
    assert.equal(call.images.mask.sha256, mask.sha, "the mask bytes, as numbers 0-255");
    assert.equal(call.images.mask.encoding, "array");
    assert.ok(!("strength" in call.inputs), "no strength without one given (the model's default)");
    assert.equal(data.inputs.length, 2, JSON.stringify(data.inputs));
    const byRole = Object.fromEntries(data.inputs.map((e) => [e.role, e]));
    await assertInput(byRole.image, { role: "image", source: `data URL (${image.bytes.length} bytes)`, format: "png", width: 512, height: 512, sha: image.sha });
    await assertInput(byRole.mask, { role: "mask", source: `data URL (${mask.bytes.length} bytes)`, format: "png", width: 512, height: 512, sha: mask.sha });
    await assertInputsEverywhere(data.job_id, data.inputs);
    inpainted = { data, ...(await storedImage(h, data.image_url)) };

    // With a strength, it is sent.
    const again = `${prompt} strong`;
    await edit(client, { prompt: again, images: [image.dataUrl], mask: mask.dataUrl, strength: 0.8 });
    assert.equal(onlyCall(h, again).inputs.strength, 0.8);
  });

  it("inpainting with a mask of another size is refused naming both sizes; nothing stored", async () => {
    const image = pngInput(512, 512, { seed: 16 });
    const mask = maskInput(256, 256);
    await assertRefused(
      "edit_image",
      { prompt: `a mismatched mask ${uniq("mm")}`, images: [image.dataUrl], mask: mask.dataUrl },
      /mask is 256x256 but the image is 512x512/,
    );
    // The same with the image given by job id (1024x1024).
    await assertRefused(
      "edit_image",
      { prompt: `a mismatched mask ${uniq("mm")}`, images: [source.data.job_id], mask: mask.dataUrl },
      /mask is 256x256 but the image is 1024x1024/,
    );
  });

  it("FLUX.2 with two references (default flux-2-klein-4b): input_image_0 and _1; a 1024x1024 one is scaled to 512x512", async () => {
    const small = pngInput(320, 240, { seed: 17 });
    const prompt = `the lighthouse and the boat together ${uniq("f2")}`;
    const { data } = await edit(client, { prompt, images: [source.data.job_id, small.dataUrl] });
    assert.equal(data.model, "flux-2-klein-4b", "two images: flux-2-klein-4b by default");
    const call = onlyCall(h, prompt);
    assert.equal(call.model, KLEIN_4B);
    assert.equal(call.encoding, "multipart");
    const { input_image_0: first, input_image_1: second } = call.fields;
    assert.ok(first && second, `form fields: ${Object.keys(call.fields)}`);
    assert.ok(!("input_image_2" in call.fields));
    assert.ok(first.width <= FLUX2_INPUT_MAX_SIDE && first.height <= FLUX2_INPUT_MAX_SIDE, JSON.stringify(first));
    assert.deepEqual([first.format, first.width, first.height], ["png", 512, 512], "1024x1024 scaled to fit 512x512, as PNG");
    assert.equal(second.sha256, small.sha, "the small one is sent as it is");
    assert.equal(data.inputs.length, 2);
    const scaledKey = await assertInput(data.inputs[0], {
      role: "image",
      source: source.data.job_id,
      format: "png",
      width: 512,
      height: 512,
      sha: first.sha256,
      note: /scal/i,
    });
    assert.match(scaledKey, INPUT_KEY, "the scaled copy is a stored input- object");
    assert.notEqual(scaledKey, source.key);
    await assertInput(data.inputs[1], { role: "image", source: `data URL (${small.bytes.length} bytes)`, format: "png", width: 320, height: 240, sha: small.sha });
    await assertInputsEverywhere(data.job_id, data.inputs);
    assert.ok(!("strength" in call.fields) && !("steps" in call.fields));
    flux2Edited = { data, ...(await storedImage(h, data.image_url)) };
  });

  it("edit_image count: 2 makes two jobs over the same inputs, each with its own seed", async () => {
    const input = pngInput(256, 256, { seed: 18 });
    const prompt = `two takes on a tree ${uniq("c2")}`;
    const { data } = await edit(client, { prompt, images: [input.dataUrl], count: 2 });
    assert.equal(data.count, 2, JSON.stringify(data).slice(0, 400));
    assert.equal(data.results.length, 2);
    const calls = h.recorder.callsFor(prompt);
    assert.equal(calls.length, 2);
    for (const call of calls) assert.equal(call.images.image_b64.sha256, input.sha);
    assert.notEqual(data.results[0].seed, data.results[1].seed);
    assert.deepEqual(data.results[0].inputs, data.results[1].inputs);
    for (const r of data.results) await assertInputsEverywhere(r.job_id, r.inputs);
  });

  it("generate_variations of a text-only job: its own model, same prompt and parameters, new and distinct seeds (default 4)", async () => {
    const prompt = `a foggy forest path ${uniq("var")}`;
    const origin = await makeImage(h, client, {
      prompt,
      model: "sdxl-base",
      width: 768,
      height: 512,
      seed: 5,
      negative_prompt: "blurry",
      steps: 8,
      guidance: 6,
    });
    const [sourceCall] = h.recorder.callsFor(prompt);
    const { result, data } = await callTool(client, "generate_variations", { job_id: origin.data.job_id });
    assert.equal(result.isError, undefined, JSON.stringify(data).slice(0, 600));
    assert.equal(data.success, true);
    assert.equal(data.count, VARIATIONS_DEFAULT_COUNT);
    assert.equal(data.results.length, VARIATIONS_DEFAULT_COUNT);
    const seeds = data.results.map((r) => r.seed);
    assert.ok(seeds.every(Number.isInteger), JSON.stringify(seeds));
    assert.equal(new Set([...seeds, 5]).size, VARIATIONS_DEFAULT_COUNT + 1, `seeds all different and new: ${seeds}`);
    for (const r of data.results) {
      assert.equal(r.prompt, prompt);
      assert.equal(r.model, "sdxl-base");
      assert.deepEqual(withoutSeed(r.parameters), withoutSeed(origin.data.parameters), "same parameters except the seed");
      assert.equal(r.parameters.seed, r.seed);
      assert.equal(r.inputs, undefined, "a text-to-image variation has no inputs");
      const row = await h.job(r.job_id);
      assert.equal(row.status, "completed");
      assert.equal(row.inputs ?? null, null);
      const out = await storedImage(h, r.image_url);
      assert.deepEqual([out.info.width, out.info.height], [768, 512]);
    }
    const calls = h.recorder.callsFor(prompt);
    assert.equal(calls.length, 1 + VARIATIONS_DEFAULT_COUNT);
    for (const call of calls.slice(1)) {
      assert.equal(call.model, MODEL_IDS["sdxl-base"]);
      assert.deepEqual(withoutSeed(call.inputs), withoutSeed(sourceCall.inputs), "the model got the same inputs except the seed");
    }
    assert.deepEqual(calls.slice(1).map((c) => c.inputs.seed).sort(), [...seeds].sort());
  });

  it("generate_variations with strength on a text-only job: sd-v1-5-img2img on the source image", async () => {
    const { data } = await callTool(client, "generate_variations", { job_id: source.data.job_id, count: 2, strength: 0.5 });
    assert.equal(data.success, true, JSON.stringify(data).slice(0, 600));
    assert.equal(data.results.length, 2);
    const calls = h.recorder.callsFor(source.data.prompt).filter((c) => c.model === IMG2IMG);
    assert.equal(calls.length, 2);
    for (const call of calls) {
      assert.equal(call.images.image_b64.sha256, source.sha, "img2img on the source's stored image");
      assert.equal(call.inputs.strength, 0.5);
    }
    assert.notEqual(calls[0].inputs.seed, calls[1].inputs.seed);
    for (const r of data.results) {
      assert.equal(r.model, "sd-v1-5-img2img");
      assert.equal(r.prompt, source.data.prompt);
      assert.equal((await h.job(r.job_id)).status, "completed");
      await assertInput(r.inputs[0], { role: "image", source: source.data.job_id, format: "jpeg", width: 1024, height: 1024, sha: source.sha });
      await assertInputsEverywhere(r.job_id, r.inputs);
    }
  });

  it("generate_variations of a flux-schnell job (a model without a seed): sd-v1-5-img2img on the image, strength 0.35, distinct seeds", async () => {
    const prompt = `a windmill at dawn ${uniq("seedless")}`;
    const origin = await makeImage(h, client, { prompt, model: "flux-schnell" });
    const { result, data } = await callTool(client, "generate_variations", { job_id: origin.data.job_id, count: 3 });
    assert.equal(result.isError, undefined, JSON.stringify(data).slice(0, 600));
    assert.equal(data.results.length, 3);
    const calls = h.recorder.callsFor(prompt).filter((c) => c.model === IMG2IMG);
    assert.equal(calls.length, 3, "three img2img calls, none to flux-schnell again");
    for (const call of calls) {
      assert.equal(call.images.image_b64.sha256, origin.sha, "img2img on the source's stored image");
      assert.equal(call.inputs.strength, 0.35);
    }
    assert.equal(new Set(calls.map((c) => c.inputs.seed)).size, 3, "each variation has its own seed");
    for (const r of data.results) {
      assert.equal(r.model, "sd-v1-5-img2img");
      assert.ok(Number.isInteger(r.seed));
      assert.equal(r.inputs[0].source, origin.data.job_id);
    }
  });

  it("generate_variations of an img2img job: img2img on that job's image with strength 0.35", async () => {
    assert.ok(edited, "needs the first edit_image test's result");
    const { data } = await callTool(client, "generate_variations", { job_id: edited.data.job_id, count: 2 });
    assert.equal(data.success, true, JSON.stringify(data).slice(0, 600));
    assert.equal(data.results.length, 2);
    const calls = h.recorder.callsFor(edited.data.prompt);
    assert.equal(calls.length, 3, "the edit and its two variations");
    for (const call of calls.slice(1)) {
      assert.equal(call.model, IMG2IMG);
      assert.equal(call.images.image_b64.sha256, edited.sha, "the source job's own image");
      assert.equal(call.inputs.strength, VARIATION_STRENGTH_DEFAULT);
    }
    const seeds = data.results.map((r) => r.seed);
    assert.equal(new Set([...seeds, edited.data.seed]).size, 3, `new, distinct seeds: ${seeds} (source ${edited.data.seed})`);
    for (const r of data.results) {
      assert.equal(r.model, "sd-v1-5-img2img");
      await assertInput(r.inputs[0], { role: "image", source: edited.data.job_id, format: "png", width: 1024, height: 1024, sha: edited.sha });
    }
  });

  it("generate_variations of an inpainting job: sd-v1-5-img2img on that job's image (strength 0.35, no mask)", async () => {
    assert.ok(inpainted, "needs the inpainting test's result");
    const { data } = await callTool(client, "generate_variations", { job_id: inpainted.data.job_id, count: 2 });
    assert.equal(data.success, true, JSON.stringify(data).slice(0, 600));
    const calls = h.recorder.callsFor(inpainted.data.prompt).filter((c) => c.model === IMG2IMG);
    assert.equal(calls.length, 2);
    for (const call of calls) {
      assert.equal(call.images.image_b64.sha256, inpainted.sha);
      assert.equal(call.inputs.strength, VARIATION_STRENGTH_DEFAULT);
      assert.ok(!("mask" in call.inputs));
    }
    for (const r of data.results) {
      assert.equal(r.model, "sd-v1-5-img2img");
      assert.equal(r.inputs.length, 1);
      await assertInput(r.inputs[0], { role: "image", source: inpainted.data.job_id, format: "png", width: 512, height: 512, sha: inpainted.sha });
    }
  });

  it("generate_variations of a FLUX.2 job: the same FLUX.2 model on that job's image, scaled to fit 512x512", async () => {
    assert.ok(flux2Edited, "needs the FLUX.2 test's result");
    assert.deepEqual(flux2Edited.info, { format: "png", width: 1024, height: 768 });
    const { data } = await callTool(client, "generate_variations", { job_id: flux2Edited.data.job_id, count: 2 });
    assert.equal(data.success, true, JSON.stringify(data).slice(0, 600));
    const calls = h.recorder.callsFor(flux2Edited.data.prompt).slice(1);
    assert.equal(calls.length, 2);
    for (const call of calls) {
      assert.equal(call.model, KLEIN_4B);
      assert.equal(call.error ?? null, null, call.error);
      const image = call.fields.input_image_0;
      assert.deepEqual([image.format, image.width, image.height], ["png", 512, 384], JSON.stringify(image));
      assert.ok(!("strength" in call.fields));
    }
    assert.notEqual(calls[0].fields.seed, calls[1].fields.seed);
    for (const r of data.results) {
      assert.equal(r.model, "flux-2-klein-4b");
      await assertInput(r.inputs[0], {
        role: "image",
        source: flux2Edited.data.job_id,
        format: "png",
        width: 512,
        height: 384,
        sha: calls[0].fields.input_image_0.sha256,
        note: /scal/i,
      });
    }
  });

  // ---- refusals: each a tool error, and nothing stored, queued, run or fetched ----

  const refusals = [
    ["a URL of another site (example.com)", () => ({ images: ["https://example.com/x.png"] }), /images\[0\]/],
    ["another host's /images/ URL", () => ({ images: [`http://other-host.example:8787/images/${source.key}`] }), /images\[0\]/],
    ["an ftp: URL", () => ({ images: ["ftp://example.com/x.png"] }), /images\[0\]/],
    ["a file: URL", () => ({ images: ["file:///etc/passwd"] }), /images\[0\]/],
    ["plain text", () => ({ images: ["a picture of a cat"] }), /images\[0\]/],
    ["this server's URL that is not an image (/mcp)", () => ({ images: [`${h.origin}/mcp`] }), /images\[0\]/],
    // The message is about the caller's data URL, not about a model's output.
    ["a data URL that is not valid base64", () => ({ images: ["data:image/png;base64,!!not-base64!!"] }), /images\[0\]/, /model output/],
    ["a data URL whose bytes are not an image", () => ({ images: [notAnImageInput().dataUrl] }), /images\[0\].*(PNG|JPEG|WebP|not an image)/is],
    ["a data URL of another type (image/gif)", () => ({ images: [pngInput(64, 64).dataUrl.replace("image/png", "image/gif")] }), /images\[0\]/],
    ["a data URL over 10 MB decoded", () => ({ images: [oversizePngInput().dataUrl] }), /images\[0\].*(10 ?MB|10485760|too large|at most)/is],
    // A 40 KB PNG whose IHDR declares 30000x30000 pixels: refused from the header, before any
    // decoding or conversion (no R2 input-… object; the Images binding has no call recorder here).
    [
      "a 40 KB PNG whose header declares 30000x30000 pixels, before any conversion",
      () => ({ images: [declaredHugePngInput(30000, 30000, 40 * 1024).dataUrl] }),
      /^(?=.*images\[0\])(?=.*declares 30000x30000 pixels)(?=.*at most 12000 pixels a side)/s,
    ],
    ["an unknown job id", () => ({ images: [randomUUID()] }), /images\[0\].*(not found|no job)/is],
    ["an image URL of this server with no object behind it", () => ({ images: [`/images/input-${randomUUID()}.png`] }), /images\[0\]/],
    ["a second image that is bad (images[1] named)", () => ({ images: [source.data.job_id, "https://example.com/y.png"] }), /images\[1\]/],
    ["a bad mask (mask named)", () => ({ images: [source.data.job_id], mask: "https://example.com/mask.png" }), /mask/],
    // The model argument offers the edit models only, so the schema check refuses a text-only one.
    ["a text-only model", () => ({ images: [source.data.job_id], model: "flux-schnell" }), /model must be one of: flux-2-dev.*sd-v1-5-inpainting/],
    ["a text-only model (sdxl-base)", () => ({ images: [source.data.job_id], model: "sdxl-base" }), /model must be one of: flux-2-dev.*sd-v1-5-inpainting/],
    ["img2img with two images", () => ({ images: [source.data.job_id, source.data.job_id], model: "sd-v1-5-img2img" }), /sd-v1-5-img2img/],
    ["img2img with a mask (names inpainting)", () => ({ images: [source.data.job_id], mask: maskInput(1024, 1024).dataUrl, model: "sd-v1-5-img2img" }), /sd-v1-5-inpainting/],
    ["inpainting without a mask", () => ({ images: [source.data.job_id], model: "sd-v1-5-inpainting" }), /needs a mask/],
    ["FLUX.2 with a strength", () => ({ images: [source.data.job_id], model: "flux-2-klein-4b", strength: 0.5 }), /strength/],
    ["FLUX.2 with a mask", () => ({ images: [source.data.job_id], model: "flux-2-dev", mask: maskInput(1024, 1024).dataUrl }), /mask/],
    ["five images", () => ({ images: Array(5).fill(source.data.job_id), model: "flux-2-klein-4b" }), /images/],
    ["no images", () => ({ images: [] }), /images/],
    ["a strength above 1", () => ({ images: [source.data.job_id], strength: 1.5 }), /strength/],
  ];
  for (const [name, args, pattern, notPattern] of refusals) {
    it(`edit_image refuses ${name}: tool error, nothing stored, queued, run or fetched`, async () => {
      const message = await assertRefused("edit_image", { prompt: `a refused edit ${uniq("r")}`, ...args() }, pattern);
      if (notPattern) assert.doesNotMatch(message, notPattern);
    });
  }

  for (const [name, args, pattern] of [
    ["count 9 (at most 8)", () => ({ job_id: source.data.job_id, count: 9 }), /count/],
    ["a strength below 0", () => ({ job_id: source.data.job_id, strength: -0.1 }), /strength/],
    ["a job id that is not a job's", () => ({ job_id: "not-a-job" }), /job/],
  ]) {
    it(`generate_variations refuses ${name}: tool error, nothing stored, queued, run or fetched`, async () => {
      await assertRefused("generate_variations", args(), pattern);
    });
  }

  it("nothing was requested from example.com or any other host", () => {
    assert.deepEqual(h.outboundRequests, []);
  });

  it("a pending, a processing and a failed job cannot be referenced; generate_variations refuses them and unknown ids", async () => {
    const failedPrompt = `a broken vase ${uniq("fail")} [fail-always]`;
    const failed = await callTool(client, "generate_image", { prompt: failedPrompt });
    await h.waitForJob(failed.data.job_id, "failed", { timeout: 60000 });
    await assertRefused("edit_image", { prompt: `ref failed ${uniq()}`, images: [failed.data.job_id] }, /images\[0\]/);
    await assertRefused("generate_variations", { job_id: failed.data.job_id }, /(not completed|failed)/i);
    await assertRefused("generate_variations", { job_id: randomUUID() }, /(not found|no job)/i);

    // One slow job holds the queue (Miniflare delivers one batch at a time): it is processing,
    // and the next one stays pending behind it.
    const slowPrompt = `a slow kettle ${uniq("slow")} [delay=10000]`;
    const slow = await callTool(client, "generate_image", { prompt: slowPrompt });
    await waitFor(() => h.recorder.callsFor(slowPrompt).length === 1, { message: "the slow job to reach the model" });
    const pending = await callTool(client, "generate_image", { prompt: `a waiting kettle ${uniq("pend")}` });
    assert.equal((await h.job(pending.data.job_id)).status, "pending");
    assert.equal((await h.job(slow.data.job_id)).status, "processing");
    for (const id of [pending.data.job_id, slow.data.job_id]) {
      await assertRefused("edit_image", { prompt: `ref unfinished ${uniq()}`, images: [id] }, /images\[0\]/, { inFlightOk: true });
      await assertRefused("generate_variations", { job_id: id }, /(not completed|pending|processing)/i, { inFlightOk: true });
    }
    assert.equal((await h.job(pending.data.job_id)).status, "pending", "the checks ran while the job was still pending");
    await h.waitForNoJobsInFlight({ timeout: 30000 });
  });

  it("a failed edit keeps its inputs for reuse; every job's inputs are stored objects", async () => {
    const input = pngInput(256, 256, { seed: 19 });
    const prompt = `an edit that fails ${uniq("ef")} [fail-always]`;
    const { result, data } = await callTool(client, "edit_image", { prompt, images: [input.dataUrl] });
    assert.equal(data.success, false, JSON.stringify(data).slice(0, 400));
    assert.equal(result.isError, true);
    const [row] = await h.query("SELECT id, status, inputs FROM generation_jobs WHERE prompt = ?", prompt);
    assert.equal(row.status, "failed");
    const [entry] = JSON.parse(row.inputs);
    const key = keyOf(entry.url);
    assert.match(key, INPUT_KEY);
    const stored = await h.r2Bytes(key);
    assert.ok(stored, "the failed job's input is still stored");
    assert.equal(sha256(stored.bytes), input.sha);
    // ... and can be used again by its URL.
    const again = `the same input again ${uniq("re")}`;
    const { data: ok } = await edit(client, { prompt: again, images: [new URL(entry.url, h.origin).href] });
    assert.equal(onlyCall(h, again).images.image_b64.sha256, input.sha);
    assert.equal(ok.inputs[0].url, new URL(entry.url, h.origin).href, "the stored input is used in place");
  });

  it("after all of the above the server made no outbound request", () => {
    assert.deepEqual(h.outboundRequests, []);
  });

  it("the 10 MB limit is on the decoded bytes: exactly 10 MB is accepted", async () => {
    const input = oversizePngInput(INPUT_MAX_BYTES);
    const prompt = `a heavy but allowed image ${uniq("10mb")}`;
    const { data } = await edit(client, { prompt, images: [input.dataUrl] });
    assert.equal(onlyCall(h, prompt).images.image_b64.sha256, input.sha);
    await assertInput(data.inputs[0], { role: "image", source: `data URL (${input.bytes.length} bytes)`, format: "png", width: 64, height: 64, sha: input.sha });
  });
});

describe("image references with API keys and PUBLIC_IMAGE_BASE_URL", () => {
  const KEYS = { alice: "alice-token-inputs-5c1e9a", bob: "bob-token-inputs-8d2f4b7" };
  const PUBLIC_BASE = "https://images.example.test";
  let client; // the administrator
  let alice;
  let bob;
  let aliceImage;
  const { state, assertRefused, refusalMessages } = checks(() => ({ h, client }));

  const h = useHarness(
    {
      recordOutbound: true,
      vars: {
        API_KEYS: apiKeys(KEYS),
        PUBLIC_IMAGE_BASE_URL: PUBLIC_BASE,
      },
    },
    { teardown: () => printRefusals(refusalMessages) },
  );
  before(async () => {
    client = await h.mcpClient();
    alice = await h.mcpClient({ token: KEYS.alice });
    bob = await h.mcpClient({ token: KEYS.bob });
    const { data } = await callTool(alice, "generate_image_and_wait", { prompt: `alice's lighthouse ${uniq("a")}`, model: "flux-schnell" });
    assert.equal(data.status, "completed", JSON.stringify(data));
    assert.ok(data.image_url.startsWith(`${PUBLIC_BASE}/`), data.image_url);
    const key = decodeURIComponent(data.image_url.slice(PUBLIC_BASE.length + 1));
    const obj = await h.r2Bytes(key);
    aliceImage = { data, key, sha: sha256(obj.bytes) };
  });

  it("a key cannot reference another key's job id: edit_image and generate_variations say there is no such job; nothing stored", async () => {
    const message = await assertRefused(
      "edit_image",
      { prompt: `bob borrows ${uniq("b")}`, images: [aliceImage.data.job_id] },
      /images\[0\].*(not found|no job)/is,
      { client: bob },
    );
    assert.ok(!message.includes("alice"), `the error does not reveal the owner: ${message}`);
    await assertRefused("generate_variations", { job_id: aliceImage.data.job_id }, /(not found|no job)/i, { client: bob });
  });

  it("a key may reference its own job, the administrator any key's job", async () => {
    for (const [who, c] of [["alice", alice], ["admin", client]]) {
      const prompt = `${who} edits alice's image ${uniq("own")}`;
      const { data } = await edit(c, { prompt, images: [aliceImage.data.job_id] });
      assert.equal(onlyCall(h, prompt).images.image_b64.sha256, aliceImage.sha, who);
      assert.equal(data.inputs[0].source, aliceImage.data.job_id);
    }
    const [row] = await h.query("SELECT owner FROM generation_jobs WHERE prompt LIKE ?", "alice edits alice's image %");
    assert.equal(row.owner, "alice");
  });

  it("an image URL under PUBLIC_IMAGE_BASE_URL is read from R2, never fetched", async () => {
    const before = (await state()).outbound;
    const prompt = `alice edits by public URL ${uniq("pub")}`;
    const { data } = await edit(alice, { prompt, images: [aliceImage.data.image_url] });
    assert.equal(onlyCall(h, prompt).images.image_b64.sha256, aliceImage.sha);
    assert.equal(data.inputs[0].source, aliceImage.data.image_url);
    assert.equal(data.inputs[0].url, aliceImage.data.image_url, "the input is the object the public URL names");
    assert.deepEqual((await state()).outbound, before);
    assert.deepEqual(h.outboundRequests, [], "nothing was fetched from the public base either");
  });
});

describe("image inputs without the IMAGES binding: inputs that need converting are refused with the limit", () => {
  let client;
  let source;
  const { assertRefused, assertInput, refusalMessages } = checks(() => ({ h, client }));
  const h = useHarness({ recordOutbound: true, imagesBinding: false }, { teardown: () => printRefusals(refusalMessages) });
  before(async () => {
    client = await h.mcpClient();
    source = await makeImage(h, client, { prompt: `a lighthouse without thumbnails ${uniq("nb")}`, model: "flux-schnell" });
  });

  it("an input the model takes as it is still works (img2img on a 1024x1024 job image)", async () => {
    const prompt = `an edit without the binding ${uniq("ok")}`;
    const { data } = await edit(client, { prompt, images: [source.data.job_id] });
    assert.equal(onlyCall(h, prompt).images.image_b64.sha256, source.sha);
    await assertInput(data.inputs[0], { role: "image", source: source.data.job_id, format: "jpeg", width: 1024, height: 1024, sha: source.sha });
  });

  it("FLUX.2 with a 1024x1024 reference is refused naming 512", async () => {
    await assertRefused("edit_image", { prompt: `flux2 no binding ${uniq()}`, images: [source.data.job_id], model: "flux-2-klein-4b" }, /512/);
  });

  it("a WebP input for an SD model is refused naming WebP", async () => {
    const webp = await webpInput(256, 256);
    await assertRefused("edit_image", { prompt: `webp no binding ${uniq()}`, images: [webp.dataUrl] }, /webp/i);
  });

  it("an SD input wider than 2048 is refused naming 2048", async () => {
    await assertRefused("edit_image", { prompt: `wide no binding ${uniq()}`, images: [pngInput(2400, 600).dataUrl] }, /2048/);
  });

  it("generate_variations of a FLUX.2 job (1024x768 output) is refused naming 512", async () => {
    const flux2 = await makeImage(h, client, { prompt: `a flux2 source ${uniq("f2s")}`, model: "flux-2-klein-4b" });
    await assertRefused("generate_variations", { job_id: flux2.data.job_id, count: 1 }, /512/);
  });

  it("no outbound request", () => {
    assert.deepEqual(h.outboundRequests, []);
  });
});
