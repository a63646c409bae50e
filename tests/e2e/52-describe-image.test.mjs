// describe_image (issue 22): an image reference and an optional question → a caption or the
// answer from the Workers AI vision model (the stand-in mimics its real input and output shape:
// support/ai-standin/vision.mjs), answered in the call, through the official SDK on both
// transports. The model must receive exactly the referenced bytes (or the Images binding's
// scaled-down PNG of them) as a data URL in one user message; the call's neurons, from the
// model's own token counts, are added to the key's day (not its image count); refusals and model
// failures leave the day's spend as it was.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { callTool, uniq, keyFromWorkerUrl } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";
import { sdkSseClient } from "./support/sse.mjs";
import { pngInput, webpInput, sha256 } from "./support/input-images.mjs";
import { imageTokens, textTokens } from "./support/ai-standin/vision.mjs";

const VISION_ID = "@cf/meta/llama-4-scout-17b-16e-instruct";
// Published: $0.270 / $0.850 per M input / output tokens = 24545 / 77273 neurons.
const NEURONS_PER_INPUT_TOKEN = 24545 / 1e6;
const NEURONS_PER_OUTPUT_TOKEN = 77273 / 1e6;
const MAX_TOKENS = 300;

const visionCalls = (h) => h.recorder.calls.filter((c) => c.model === VISION_ID);
const close = (actual, expected, what) =>
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} is not ${expected}`);

describe("describe_image", () => {
  let client;
  let sse;
  const h = useHarness({ faults: true, recordOutbound: true }, { teardown: () => sse?.close().catch(() => {}) });
  before(async () => {
    client = await h.mcpClient();
    sse = await sdkSseClient(h);
  });

  it("captions a finished image: the model gets its exact bytes in one user message, the neurons are recorded", async () => {
    const made = await callTool(client, "generate_image_and_wait", { prompt: `${uniq("describe")} a teapot`, model: "dreamshaper-8-lcm" });
    assert.equal(made.data.status, "completed");
    const stored = (await h.r2Bytes(keyFromWorkerUrl(made.data.image_url))).bytes;
    const usageBefore = (await callTool(client, "get_usage")).data;
    const calls = visionCalls(h).length;
    const { result, data } = await callTool(client, "describe_image", { image: made.data.job_id });
    assert.equal(result.isError, undefined, JSON.stringify(data));
    assert.equal(data.success, true);
    assert.match(data.description, /^Stand-in description of a 512x512 PNG image\.$/);
    assert.equal(data.question, null);
    assert.equal(data.truncated, false);
    assert.equal(data.model, "llama-4-scout");
    assert.equal(data.workers_ai_id, VISION_ID);
    assert.deepEqual(data.image, { source: made.data.job_id, format: "png", width: 512, height: 512 });

    const [call] = visionCalls(h).slice(calls);
    assert.ok(call, "one call to the vision model");
    assert.equal(call.error, null);
    assert.equal(call.inputs.max_tokens, MAX_TOKENS);
    const [message] = call.inputs.messages;
    assert.equal(message.role, "user");
    assert.equal(message.content[0].type, "text");
    assert.match(message.content[0].text, /^Describe this image/);
    assert.equal(message.content[1].type, "image_url");
    assert.equal(message.content[1].urlPrefix, "data:image/png;base64,iVBORw0K");
    assert.equal(message.content[1].image.sha256, sha256(stored), "the model received the stored image's bytes");

    // The model's own token counts, at the published prices.
    const promptTokens = textTokens(message.content[0].text) + imageTokens(512, 512);
    assert.deepEqual(data.usage, { input_tokens: promptTokens, output_tokens: call.output.usage.completion_tokens });
    const neurons = promptTokens * NEURONS_PER_INPUT_TOKEN + data.usage.output_tokens * NEURONS_PER_OUTPUT_TOKEN;
    close(data.neurons, neurons, "neurons");
    close(data.usd, (neurons * 0.011) / 1000, "usd");
    const usageAfter = (await callTool(client, "get_usage")).data;
    close(usageAfter.neurons_today - usageBefore.neurons_today, data.neurons, "the day's neurons grew by the call's");
    assert.equal(usageAfter.images_today, usageBefore.images_today, "not counted against the image quota");
    assert.equal(await h.count("generation_jobs", "model = ?", "llama-4-scout"), 0, "no job: answered in the call");
    console.log(`# described: ${data.description} (${data.neurons} neurons, $${data.usd})`);
  });

  it("answers a question about a data URL over legacy SSE", async () => {
    const input = pngInput(200, 120);
    const { result, data } = await callTool(sse, "describe_image", { image: input.dataUrl, question: "Is there any text in it?" });
    assert.equal(result.isError, undefined, JSON.stringify(data));
    assert.equal(data.question, "Is there any text in it?");
    assert.match(data.description, /200x120 PNG image\. Asked: Is there any text in it\?$/);
    assert.equal(data.image.source, `data URL (${input.bytes.length} bytes)`);
    const call = visionCalls(h).at(-1);
    assert.equal(call.inputs.messages[0].content[1].image.sha256, input.sha);
    assert.match(call.inputs.messages[0].content[0].text, /question about the image.*: Is there any text in it\?$/);
  });

  it("scales a large image down and converts WebP to PNG through the Images binding", async () => {
    const big = pngInput(1600, 1200);
    const { data } = await callTool(client, "describe_image", { image: big.dataUrl });
    assert.equal(data.success, true, JSON.stringify(data));
    assert.match(data.image.note, /scaled down from 1600x1200 to fit 1024x1024/);
    const image = visionCalls(h).at(-1).inputs.messages[0].content[1].image;
    assert.deepEqual([image.format, image.width, image.height], ["png", 1024, 768]);
    const webp = await webpInput(64, 48);
    const converted = await callTool(client, "describe_image", { image: webp.dataUrl });
    assert.equal(converted.data.success, true, JSON.stringify(converted.data));
    assert.match(converted.data.image.note, /converted from WebP to PNG/);
    assert.equal(visionCalls(h).at(-1).inputs.messages[0].content[1].image.format, "png");
  });

  it("bounds a long answer to max_tokens and says it was cut", async () => {
    const { data } = await callTool(client, "describe_image", { image: pngInput(32, 32).dataUrl, question: "Describe it at length [long]" });
    assert.equal(data.success, true, JSON.stringify(data));
    assert.equal(data.truncated, true);
    assert.equal(data.usage.output_tokens, MAX_TOKENS);
    assert.ok(data.description.length <= 2001, `${data.description.length} characters`);
  });

  it("refuses bad references without asking the model or spending anything", async () => {
    const calls = visionCalls(h).length;
    const spent = (await callTool(client, "get_usage")).data.neurons_today;
    for (const [image, pattern] of [
      ["http://example.com/a.png", /is not an image of this server/],
      ["11111111-1111-4111-8111-111111111111", /image: no job 11111111-1111-4111-8111-111111111111/],
      ["data:image/png;base64,!!!", /image: /],
    ]) {
      const { result, data } = await callTool(client, "describe_image", { image });
      assert.equal(result.isError, true, JSON.stringify(data));
      assert.match(data.error, pattern);
    }
    const tooLong = await callTool(client, "describe_image", { image: pngInput(8, 8).dataUrl, question: "q".repeat(1001) });
    assert.equal(tooLong.result.isError, true);
    assert.equal(visionCalls(h).length, calls, "the model was not asked");
    assert.equal((await callTool(client, "get_usage")).data.neurons_today, spent);
    assert.deepEqual(h.outboundRequests, [], "nothing fetched");
  });

  it("a model error is a tool error and gives the reserved neurons back", async () => {
    const spent = (await callTool(client, "get_usage")).data.neurons_today;
    const { result, data } = await callTool(client, "describe_image", { image: pngInput(16, 16).dataUrl, question: "What is it? [error=3040]" });
    assert.equal(result.isError, true, JSON.stringify(data));
    assert.match(data.error, /^the vision model llama-4-scout failed: 3040: No more data centers/);
    close((await callTool(client, "get_usage")).data.neurons_today, spent, "nothing spent");
  });
});

describe("describe_image under the offline preview backend", () => {
  let client;
  const h = useHarness({ vars: { IMAGE_BACKEND: "preview" } });
  before(async () => {
    client = await h.mcpClient();
  });

  it("says no model was asked and reports what the server read", async () => {
    const { data } = await callTool(client, "describe_image", { image: pngInput(40, 30).dataUrl });
    assert.equal(data.success, true, JSON.stringify(data));
    assert.match(data.description, /no vision model was asked\. The server read a 40x30 image\/png image\./);
    assert.match(data.note, /Offline preview backend/);
    assert.equal(data.neurons, 0);
    assert.equal(h.recorder.calls.length, 0);
  });
});
