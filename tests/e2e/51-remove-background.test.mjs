// remove_background (issue 22): an image reference → a PNG whose background the Images binding's
// `segment: "foreground"` transform made transparent, as a queued job like the others (row,
// image, thumbnail, gallery entry, inputs listed), through the official SDK on both transports.
//
// Miniflare runs only rotate and resize locally and ignores `segment`, so the transform the
// server asked for is read from the recording wrapper around env.IMAGES (support/fault-proxy.mjs,
// h.imageCalls()). Refusals (a reference that is not this server's, an unknown job, no IMAGES
// binding) leave nothing: no row, no object, no queue message, no Images call.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { callTool, uniq, keyFromWorkerUrl, QUEUE } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";
import { sdkSseClient } from "./support/sse.mjs";
import sharp from "sharp";
import { pngInput, dataUrl } from "./support/input-images.mjs";
import { encodeRgbPng } from "./support/images.mjs";

/** A 96x64 PNG: a white background with a red 32x32 square in the middle. */
function subjectOnWhite() {
  const [width, height] = [96, 64];
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = x >= 32 && x < 64 && y >= 16 && y < 48;
      raw.set(inside ? [220, 30, 30] : [255, 255, 255], y * (width * 3 + 1) + 1 + x * 3);
    }
  }
  const bytes = encodeRgbPng(width, height, raw);
  return { bytes, dataUrl: dataUrl("image/png", bytes) };
}

/** The alpha of pixel (x, y) of a PNG, and its channel count. */
async function alphaAt(bytes, x, y) {
  const { data, info } = await sharp(Buffer.from(bytes)).raw().toBuffer({ resolveWithObject: true });
  return { channels: info.channels, alpha: info.channels === 4 ? data[(y * info.width + x) * 4 + 3] : 255 };
}

const SEGMENT = { segment: "foreground" };

/** Everything a refused call must leave as it was. */
async function state(h) {
  await h.waitForNoJobsInFlight();
  return {
    jobs: await h.count("generation_jobs"),
    objects: (await h.r2Objects()).map((o) => o.key).sort(),
    deliveries: h.queueDeliveries(QUEUE).length,
  };
}

async function assertCutOut(h, data, { source }) {
  assert.equal(data.success, true, JSON.stringify(data));
  assert.equal(data.status, "completed", JSON.stringify(data));
  assert.equal(data.model, "remove-background");
  assert.deepEqual(data.parameters, { segment: "foreground", format: "png" });
  assert.equal(data.estimated_usd, 0.0005, "an Images transformation: $0.50 per 1,000");
  assert.equal(data.estimated_neurons, 0);
  assert.equal(data.inputs.length, 1);
  assert.equal(data.inputs[0].role, "image");
  assert.equal(data.inputs[0].source, source);
  const image = await h.fetchImage(data.image_url);
  assert.equal(image.format, "png", "the cut-out is a PNG (the format that keeps transparency)");
  assert.ok(data.thumbnail_url, "a thumbnail like every image");
  const row = await h.job(data.job_id);
  assert.equal(row.model, "remove-background");
  assert.equal(row.status, "completed");
  assert.equal(await h.count("generations", "job_id = ?", data.job_id), 1, "a gallery entry");
  assert.ok(await h.r2Bytes(keyFromWorkerUrl(data.image_url)));
}

describe("remove_background with the Images binding", () => {
  let client;
  let sse;
  const h = useHarness({ faults: true, recordOutbound: true }, { teardown: () => sse?.close().catch(() => {}) });
  before(async () => {
    client = await h.mcpClient();
    sse = await sdkSseClient(h);
  });

  it("cuts out a finished image given by job_id, asking the binding for segment: foreground as PNG", async () => {
    const made = await callTool(client, "generate_image_and_wait", { prompt: `${uniq("cut")} a red apple`, model: "sdxl-lightning" });
    assert.equal(made.data.status, "completed");
    const before = (await h.imageCalls()).length;
    const modelCalls = h.recorder.calls.length;
    const { result, data } = await callTool(client, "remove_background", { image: made.data.job_id });
    assert.equal(result.isError, undefined, JSON.stringify(data));
    await assertCutOut(h, data, { source: made.data.job_id });
    assert.equal(h.recorder.calls.length, modelCalls, "no Workers AI call: the Images binding does it");
    const calls = (await h.imageCalls()).slice(before);
    const segments = calls.filter((c) => c.transforms.some((t) => t.segment === "foreground"));
    assert.equal(segments.length, 1, JSON.stringify(calls));
    assert.deepEqual(segments[0].transforms, [SEGMENT]);
    assert.equal(segments[0].output.format, "image/png");
    // The thumbnail is the other chain (a resize to WebP).
    assert.ok(calls.some((c) => c.output?.format === "image/webp"), JSON.stringify(calls));
    // The input is the earlier job's image, used in place.
    assert.equal(data.inputs[0].url, made.data.image_url);
    assert.ok(result.content.some((b) => b.type === "image"), "the thumbnail comes inline like the other image tools");
  });

  it("takes a data URL over legacy SSE, lists the stored input, and stores a transparent background", async () => {
    const input = subjectOnWhite();
    const { result, data } = await callTool(sse, "remove_background", { image: input.dataUrl, preview: false });
    assert.equal(result.isError, undefined, JSON.stringify(data));
    await assertCutOut(h, data, { source: `data URL (${input.bytes.length} bytes)` });
    assert.match(keyFromWorkerUrl(data.inputs[0].url), /^input-[0-9a-f-]{36}\.png$/);
    // The segment stand-in answers as the real transform does: RGBA, background transparent.
    const stored = (await h.r2Bytes(keyFromWorkerUrl(data.image_url))).bytes;
    assert.deepEqual(await alphaAt(stored, 2, 2), { channels: 4, alpha: 0 }, "the background is transparent");
    assert.deepEqual(await alphaAt(stored, 48, 32), { channels: 4, alpha: 255 }, "the subject is kept");
    assert.equal(data.width, 96);
    assert.equal(data.height, 64);
    assert.ok(!result.content.some((b) => b.type === "image"), "preview: false leaves the thumbnail out");
    // get_job_status and list_jobs show the same job.
    const status = await callTool(sse, "get_job_status", { job_id: data.job_id });
    assert.equal(status.data.model, "remove-background");
    // generate_variations refuses it: an operation has no prompt or model to vary.
    const varied = await callTool(sse, "generate_variations", { job_id: data.job_id });
    assert.equal(varied.result.isError, true);
    assert.match(varied.data.error, /remove-background, an image operation, not a model/);
  });

  it("refuses references that are not this server's images, with nothing stored", async () => {
    const before = await state(h);
    const imagesBefore = (await h.imageCalls()).length;
    for (const [image, pattern] of [
      ["https://example.com/cat.png", /is not an image of this server.*never fetches other URLs/],
      ["00000000-0000-4000-8000-000000000000", /image: no job 00000000-0000-4000-8000-000000000000/],
      ["data:image/gif;base64,R0lGODlh", /a data URL must start data:image\/png;base64/],
      [`data:image/png;base64,${Buffer.from("not an image at all, just text").toString("base64")}`, /not a PNG, JPEG or WebP image/],
    ]) {
      const { result, data } = await callTool(client, "remove_background", { image });
      assert.equal(result.isError, true, JSON.stringify(data));
      assert.match(data.error, pattern);
      console.log(`# refused: ${data.error.slice(0, 200)}`);
    }
    assert.deepEqual(await state(h), before);
    assert.equal((await h.imageCalls()).length, imagesBefore, "no Images call");
    assert.deepEqual(h.outboundRequests, [], "the server fetched nothing");
  });
});

describe("remove_background without the Images binding", () => {
  let client;
  const h = useHarness({ imagesBinding: false });
  before(async () => {
    client = await h.mcpClient();
  });

  it("is refused, naming the binding, with nothing stored", async () => {
    const before = await state(h);
    const { result, data } = await callTool(client, "remove_background", { image: pngInput(32, 32).dataUrl });
    assert.equal(result.isError, true, JSON.stringify(data));
    assert.match(data.error, /remove_background needs the IMAGES binding \(Cloudflare Images, .*\), which is not configured, so nothing was started/);
    console.log(`# refused: ${data.error}`);
    assert.deepEqual(await state(h), before);
  });
});
