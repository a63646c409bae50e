// Cost per image and the daily neuron budget (issue 22), through the official SDK.
//
// Every job records its estimated neurons and USD from the model's published price; the figures
// are checked here against the prices on the Workers AI pages for three models (FLUX.1 schnell,
// Phoenix, FLUX.2 [klein] 4B), computed independently in this file. get_usage shows each key its
// day's spend (the administrator every key's), list_models the cost of one default image, and a
// key over DAILY_NEURON_BUDGET is refused the way the image quota refuses: nothing recorded,
// stored, queued or sent to a model.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { callTool, uniq, QUEUE } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import { pngInput } from "./support/input-images.mjs";

// Published prices (developers.cloudflare.com/workers-ai/platform/pricing/, "Image model
// pricing", and each model's page), USD; Workers AI bills $0.011 per 1,000 neurons.
const USD_PER_NEURON = 0.011 / 1000;
const PUBLISHED = {
  "flux-schnell": { tile: 0.0000528, step: 0.0001056 },
  phoenix: { tile: 0.00583, step: 0.00011 },
  "flux-2-klein-4b": { inputTile: 0.000059, outputTile: 0.000287 },
};
const tiles = (w, h) => Math.ceil(w / 512) * Math.ceil(h / 512);
// USD to a ten-billionth; neurons as recorded (to a millionth).
const close = (actual, expected, what) => {
  const tolerance = /neurons/.test(what) ? 1e-5 : 1e-10;
  assert.ok(Math.abs(actual - expected) < tolerance, `${what}: ${actual} is not ${expected}`);
};

const KEYS = { alice: "alice-token-5c1e8b7d2f4a", bob: "bob-token-9a3d6f1c7e2b" };
// A default flux-schnell image is 1024x1024 with 4 steps: 4 tiles and 4 steps.
const SCHNELL_DEFAULT_USD = 4 * PUBLISHED["flux-schnell"].tile + 4 * PUBLISHED["flux-schnell"].step;
const SCHNELL_DEFAULT_NEURONS = SCHNELL_DEFAULT_USD / USD_PER_NEURON; // 57.6
// Room for two default flux-schnell images, not three.
const BUDGET = 150;

describe("cost per image and the daily neuron budget", () => {
  let admin;
  let alice;
  let bob;
  const h = useHarness({
    vars: {
      API_KEYS: apiKeys(KEYS),
      DAILY_NEURON_BUDGET: String(BUDGET),
    },
    recordOutbound: true,
  });
  before(async () => {
    admin = await h.mcpClient();
    alice = await h.mcpClient({ token: KEYS.alice });
    bob = await h.mcpClient({ token: KEYS.bob });
  });

  it("estimates match the published prices of FLUX.1 schnell, Phoenix and FLUX.2 [klein] 4B", async () => {
    const schnell = await callTool(admin, "generate_image_and_wait", { prompt: `${uniq("cost")} a kite`, model: "flux-schnell", steps: 6 });
    assert.equal(schnell.data.status, "completed", JSON.stringify(schnell.data));
    const schnellUsd = 4 * PUBLISHED["flux-schnell"].tile + 6 * PUBLISHED["flux-schnell"].step;
    close(schnell.data.estimated_usd, schnellUsd, "flux-schnell usd");
    close(schnell.data.estimated_neurons, schnellUsd / USD_PER_NEURON, "flux-schnell neurons");

    const phoenix = await callTool(admin, "generate_image_and_wait", {
      prompt: `${uniq("cost")} a lantern`,
      model: "phoenix",
      width: 768,
      height: 512,
      steps: 10,
    });
    assert.equal(phoenix.data.status, "completed", JSON.stringify(phoenix.data));
    const phoenixUsd = tiles(768, 512) * PUBLISHED.phoenix.tile + 10 * PUBLISHED.phoenix.step;
    close(phoenix.data.estimated_usd, phoenixUsd, "phoenix usd");
    close(phoenix.data.estimated_neurons, phoenixUsd / USD_PER_NEURON, "phoenix neurons");

    // Two 512x512 references and the default 1024x768 output.
    const ref = pngInput(512, 512);
    const klein = await callTool(admin, "edit_image", {
      prompt: `${uniq("cost")} combine them`,
      model: "flux-2-klein-4b",
      images: [ref.dataUrl, pngInput(512, 512, { seed: 2 }).dataUrl],
    });
    assert.equal(klein.data.status, "completed", JSON.stringify(klein.data));
    const kleinUsd = 2 * tiles(512, 512) * PUBLISHED["flux-2-klein-4b"].inputTile + tiles(1024, 768) * PUBLISHED["flux-2-klein-4b"].outputTile;
    close(klein.data.estimated_usd, kleinUsd, "klein usd");
    close(klein.data.estimated_neurons, kleinUsd / USD_PER_NEURON, "klein neurons");

    // The job rows hold the same figures, and get_job_status shows them.
    const row = await h.job(phoenix.data.job_id);
    close(row.estimated_usd, phoenixUsd, "row usd");
    const status = await callTool(admin, "get_job_status", { job_id: phoenix.data.job_id });
    close(status.data.estimated_neurons, phoenixUsd / USD_PER_NEURON, "get_job_status neurons");
    // A model without a listed price: unknown (null), counted as 0.
    const sdxl = await callTool(admin, "generate_image_and_wait", { prompt: `${uniq("cost")} a bell`, model: "sdxl-base" });
    assert.equal(sdxl.data.estimated_neurons, null);
    assert.equal(sdxl.data.estimated_usd, null);

    // The administrator's day adds them up.
    const usage = await callTool(admin, "get_usage");
    close(usage.data.usd_today, schnellUsd + phoenixUsd + kleinUsd, "admin usd today");
    assert.equal(usage.data.daily_neuron_budget, null, "the administrator has no budget");
    console.log(`# admin's day: ${usage.data.images_today} images, ${usage.data.neurons_today} neurons, $${usage.data.usd_today}`);
  });

  it("list_models gives every model's price and the cost of one default image", async () => {
    const { data } = await callTool(admin, "list_models");
    assert.equal(data.usd_per_1000_neurons, 0.011);
    const schnell = data.models.find((m) => m.name === "flux-schnell");
    assert.deepEqual(schnell.price, { form: "tile_and_step", usd_per_tile: 0.0000528, usd_per_step: 0.0001056 });
    assert.equal(schnell.per_default_image.width, 1024);
    close(schnell.per_default_image.usd, SCHNELL_DEFAULT_USD, "default image usd");
    close(schnell.per_default_image.neurons, SCHNELL_DEFAULT_NEURONS, "default image neurons");
    assert.equal(data.models.find((m) => m.name === "sdxl-base").price, null, "no price listed");
    assert.equal(data.models.find((m) => m.name === "sdxl-base").per_default_image, null);
    assert.equal(data.operations[0].name, "remove-background");
    assert.equal(data.operations[0].usd_per_image, 0.0005);
    assert.equal(data.vision_model.workers_ai_id, "@cf/meta/llama-4-scout-17b-16e-instruct");
    // generate_image gives the call's estimate before any model runs.
    const started = await callTool(admin, "generate_image", { prompt: `${uniq("cost")} two kites`, count: 2 });
    close(started.data.estimated_usd, 2 * SCHNELL_DEFAULT_USD, "generate_image usd");
    close(started.data.estimated_neurons, 2 * SCHNELL_DEFAULT_NEURONS, "generate_image neurons");
    const unpriced = await callTool(admin, "generate_image", { prompt: `${uniq("cost")} a drum`, model: "sdxl-base" });
    assert.equal(unpriced.data.estimated_usd, null);
    await h.waitForNoJobsInFlight();
  });

  it("a key over its neuron budget is refused with nothing stored; another key is not", async () => {
    for (let i = 0; i < 2; i++) {
      const { data } = await callTool(alice, "generate_image_and_wait", { prompt: `${uniq("budget")} a pear ${i}` });
      assert.equal(data.status, "completed", JSON.stringify(data));
    }
    const usage = await callTool(alice, "get_usage");
    close(usage.data.neurons_today, 2 * SCHNELL_DEFAULT_NEURONS, "alice's neurons");
    close(usage.data.neurons_remaining, BUDGET - 2 * SCHNELL_DEFAULT_NEURONS, "alice's remaining neurons");
    assert.equal(usage.data.daily_neuron_budget, BUDGET);

    await h.waitForNoJobsInFlight();
    const before = {
      jobs: await h.count("generation_jobs"),
      objects: (await h.r2Objects()).length,
      calls: h.recorder.calls.length,
      deliveries: h.queueDeliveries(QUEUE).length,
    };
    const refused = await callTool(alice, "generate_image", { prompt: `${uniq("budget")} a third pear` });
    assert.equal(refused.result.isError, true, JSON.stringify(refused.data));
    assert.match(refused.data.error, /daily neuron budget reached: key "alice" has used 115\.20 of its 150 neurons today \(UTC\) and this call is estimated at 57\.60, so nothing was started; the budget resets at \d{4}-\d\d-\d\dT00:00:00\.000Z/);
    console.log(`# refused: ${refused.data.error}`);
    const describeRefused = await callTool(alice, "describe_image", { image: pngInput(64, 64).dataUrl });
    assert.equal(describeRefused.result.isError, true, "describe_image is held to the budget too");
    assert.match(describeRefused.data.error, /daily neuron budget reached/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      {
        jobs: await h.count("generation_jobs"),
        objects: (await h.r2Objects()).length,
        calls: h.recorder.calls.length,
        deliveries: h.queueDeliveries(QUEUE).length,
      },
      before,
      "nothing recorded, stored, sent to a model or queued",
    );
    const after = await callTool(alice, "get_usage");
    close(after.data.neurons_today, 2 * SCHNELL_DEFAULT_NEURONS, "the refusal reserved nothing");
    // A model with no listed price costs 0 toward the budget and still passes.
    const free = await callTool(alice, "generate_image_and_wait", { prompt: `${uniq("budget")} a plum`, model: "sdxl-base" });
    assert.equal(free.data.status, "completed", JSON.stringify(free.data));
    // Bob's budget is his own.
    const bobs = await callTool(bob, "generate_image_and_wait", { prompt: `${uniq("budget")} a fig` });
    assert.equal(bobs.data.status, "completed", JSON.stringify(bobs.data));
    // The administrator sees every key's spend.
    const all = await callTool(admin, "get_usage");
    const byKey = Object.fromEntries(all.data.keys.map((k) => [k.key, k]));
    close(byKey.alice.neurons_today, 2 * SCHNELL_DEFAULT_NEURONS, "alice as the admin sees her");
    close(byKey.bob.usd_today, SCHNELL_DEFAULT_USD, "bob as the admin sees him");
    assert.equal(byKey.alice.images_today, 3);
    assert.deepEqual(h.outboundRequests, [], "no outbound requests");
  });
});
