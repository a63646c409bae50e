// Every Workers AI image model with its controls (size, aspect ratio, seed, negative prompt,
// steps, guidance), end to end: the tool call, the job row, what the stand-in model received,
// and the stored image's real size. Also the 0003 migration over rows of the old schema.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import {
  callTool,
  uniq,
  fetchCheckedImage,
  splitSql,
  MIGRATIONS_DIR,
  MODEL_TABLE,
  MODEL_NAMES,
  TEXT_MODEL_NAMES,
  EDIT_ONLY_MODEL_NAMES,
} from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";
import { imageInfo } from "./support/images.mjs";

// Which models exist comes from the AI stand-in's table (support/ai-standin/models.mjs), which a
// new model must extend anyway: TEXT_MODEL_NAMES are the generate tools' models; the edit-only
// ones (they need an input image) are listed by list_models, offered by edit_image, not by the
// generate tools. Order is the registry's business, so lists are compared sorted.
const sorted = (names) => [...names].sort();

describe("models and generation controls", () => {
  let client;
  let models;
  const h = useHarness();
  before(async () => {
    client = await h.mcpClient();
    const { data } = await callTool(client, "list_models");
    models = Object.fromEntries(data.models.map((m) => [m.name, m]));
  });

  it("list_models shows every model with ids, parameters, sizes, inputs and prices from the registry", async () => {
    const { data } = await callTool(client, "list_models");
    assert.equal(data.success, true);
    assert.equal(data.count, MODEL_NAMES.length);
    assert.equal(data.models.length, MODEL_NAMES.length);
    assert.deepEqual(sorted(data.models.map((m) => m.name)), sorted(MODEL_NAMES), "list_models names the stand-in's models");
    for (const name of EDIT_ONLY_MODEL_NAMES) {
      assert.equal(models[name].image_inputs.image_required, true, name);
      assert.ok(models[name].parameters.some((p) => p.name === "strength"), `${name} takes strength`);
    }
    assert.equal(models["sd-v1-5-inpainting"].image_inputs.mask, true);
    assert.equal(models["flux-2-dev"].image_inputs.max_side, 512);
    assert.equal(models["flux-schnell"].image_inputs, null);
    assert.equal(data.default_model, "flux-schnell");
    for (const m of data.models) {
      assert.ok(MODEL_TABLE[m.workers_ai_id], `${m.name}: ${m.workers_ai_id} is a real Workers AI id`);
      assert.ok(m.docs.startsWith("https://developers.cloudflare.com/workers-ai/models/"), m.name);
      assert.ok(m.price_hint && m.typical_time && m.description, m.name);
    }
    assert.deepEqual(models["flux-schnell"].parameters.map((p) => p.name), ["steps"]);
    assert.deepEqual(models["flux-schnell"].aspect_ratios, []);
    assert.equal(models["flux-2-dev"].input, "multipart");
    assert.deepEqual(models["flux-2-dev"].aspect_ratios, ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9"]);
    // The generate tools' schema names the same models.
    const { tools } = await client.listTools();
    const schema = tools.find((t) => t.name === "generate_image").inputSchema;
    assert.deepEqual(sorted(schema.properties.model.enum), sorted(TEXT_MODEL_NAMES));
    for (const control of ["aspect_ratio", "width", "height", "seed", "negative_prompt", "steps", "guidance"]) {
      assert.ok(schema.properties[control], `generate_image takes ${control}`);
    }
  });

  it("flux-2-dev with aspect_ratio 16:9 and seed 42: a multipart form reaches the model, the job records seed and size", async () => {
    const prompt = `a harbour at dawn ${uniq("f2")}`;
    const { result, data } = await callTool(client, "generate_image_and_wait", {
      prompt,
      model: "flux-2-dev",
      aspect_ratio: "16:9",
      seed: 42,
    });
    assert.equal(result.isError, undefined, JSON.stringify(data));
    assert.equal(data.status, "completed");
    assert.equal(data.seed, 42);
    assert.deepEqual([data.width, data.height], [1152, 640]);
    assert.deepEqual(data.parameters, { width: 1152, height: 640, seed: 42 });
    const [call] = h.recorder.callsFor(prompt);
    assert.equal(call.model, "@cf/black-forest-labs/flux-2-dev");
    assert.equal(call.encoding, "multipart", "FLUX.2 gets a multipart form");
    assert.equal(call.error ?? null, null, call.error);
    assert.deepEqual(
      { prompt: call.fields.prompt, width: call.fields.width, height: call.fields.height, seed: call.fields.seed },
      { prompt, width: "1152", height: "640", seed: "42" },
    );
    const job = await h.job(data.job_id);
    assert.equal(job.seed, 42);
    assert.deepEqual([job.width, job.height], [1152, 640]);
    assert.deepEqual(JSON.parse(job.parameters), { width: 1152, height: 640, seed: 42 });
    const { bytes } = await fetchCheckedImage(data.image_url);
    const info = imageInfo(bytes);
    assert.deepEqual([info.width, info.height], [1152, 640], "the stored image has the 16:9 size");
  });

  it("a parameter the model does not take is refused naming the model's parameters; nothing stored or queued", async () => {
    const before = await h.count("generation_jobs");
    const calls = h.recorder.calls.length;
    const prompt = `a quiet lake ${uniq("neg")}`;
    const { result, data } = await callTool(client, "generate_image", { prompt, negative_prompt: "people" });
    assert.equal(result.isError, true);
    assert.match(data.error, /flux-schnell does not take negative_prompt/);
    assert.match(data.error, /steps \(1-8, default 4\)/);
    for (const [args, pattern] of [
      [{ model: "sdxl-base", aspect_ratio: "1:1", width: 512, height: 512 }, /aspect_ratio cannot be combined/],
      [{ model: "flux-2-dev", width: 1000, height: 768 }, /multiple of 16/],
      [{ model: "phoenix", guidance: 1 }, /guidance must be between 2 and 10/],
      [{ model: "flux-2-klein-4b", steps: 4 }, /does not take steps/],
      [{ model: "sdxl-base", width: 512 }, /together/],
      [{ model: "flux-schnell", aspect_ratio: "16:9" }, /fixed size/],
    ]) {
      const refused = await callTool(client, "generate_image_and_wait", { prompt, ...args });
      assert.equal(refused.result.isError, true, JSON.stringify(args));
      assert.match(refused.data.error, pattern, JSON.stringify(args));
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await h.count("generation_jobs"), before, "no job row was written");
    assert.equal(h.recorder.calls.length, calls, "no queue message reached the model");
  });

  it("every model runs end to end with its own encoding, output shape and default size", async () => {
    for (const name of TEXT_MODEL_NAMES) {
      const prompt = `a lighthouse ${uniq(name)}`;
      const { result, data } = await callTool(client, "generate_image_and_wait", { prompt, model: name });
      assert.equal(result.isError, undefined, `${name}: ${JSON.stringify(data)}`);
      const [call] = h.recorder.callsFor(prompt);
      const table = MODEL_TABLE[models[name].workers_ai_id];
      assert.equal(call.error ?? null, null, `${name}: ${call.error}`);
      assert.equal(call.encoding, table.encoding, `${name} encoding`);
      const { bytes } = await fetchCheckedImage(data.image_url);
      const info = imageInfo(bytes);
      assert.deepEqual([info.width, info.height], [table.defaultWidth, table.defaultHeight], `${name} default size`);
      assert.deepEqual([data.width, data.height], [table.defaultWidth, table.defaultHeight], `${name}: the job records the stored size`);
      const takesSeed = models[name].parameters.some((p) => p.name === "seed");
      assert.equal(Number.isInteger(data.seed), takesSeed, `${name}: a seed is chosen exactly when the model takes one`);
      if (takesSeed) assert.equal(String(call.fields?.seed ?? call.inputs?.seed), String(data.seed), `${name} got the recorded seed`);
    }
  });

  it("aspect ratios map to each model's size rules and reach the model", async () => {
    for (const [name, ratio] of [["phoenix", "9:16"], ["sdxl-lightning", "21:9"], ["lucid-origin", "3:2"], ["flux-2-klein-9b", "4:3"], ["dreamshaper-8-lcm", "2:3"]]) {
      const prompt = `a tall tower ${uniq(name)}`;
      const { data } = await callTool(client, "generate_image_and_wait", { prompt, model: name, aspect_ratio: ratio });
      assert.equal(data.status, "completed", `${name}: ${JSON.stringify(data)}`);
      const [w, h2] = ratio.split(":").map(Number);
      assert.ok(Math.abs(data.width / data.height / (w / h2) - 1) < 0.12, `${name} ${ratio}: ${data.width}x${data.height}`);
      assert.equal(data.width % 64, 0);
      const [call] = h.recorder.callsFor(prompt);
      const sent = call.fields ?? call.inputs;
      assert.deepEqual([Number(sent.width), Number(sent.height)], [data.width, data.height], `${name} received the size`);
      const { bytes } = await fetchCheckedImage(data.image_url);
      assert.deepEqual([imageInfo(bytes).width, imageInfo(bytes).height], [data.width, data.height]);
    }
  });

  it("every control reaches the model under the model's own input names", async () => {
    const prompt = `a foggy forest ${uniq("sd")}`;
    const { data } = await callTool(client, "generate_image_and_wait", {
      prompt,
      model: "sdxl-base",
      width: 768,
      height: 512,
      seed: 7,
      negative_prompt: "text, watermark",
      steps: 12,
      guidance: 6.5,
    });
    assert.equal(data.status, "completed", JSON.stringify(data));
    const [call] = h.recorder.callsFor(prompt);
    assert.equal(call.encoding, "json");
    assert.deepEqual(call.inputs, {
      prompt,
      width: 768,
      height: 512,
      seed: 7,
      negative_prompt: "text, watermark",
      num_steps: 12,
      guidance: 6.5,
    });
    assert.deepEqual(data.parameters, { width: 768, height: 512, seed: 7, negative_prompt: "text, watermark", num_steps: 12, guidance: 6.5 });
    const lucid = `a neon sign ${uniq("lucid")}`;
    await callTool(client, "generate_image_and_wait", { prompt: lucid, model: "lucid-origin", steps: 20, guidance: 3 });
    const [lucidCall] = h.recorder.callsFor(lucid);
    assert.equal(lucidCall.inputs.num_steps, 20);
    assert.equal(lucidCall.inputs.guidance, 3);
  });

  it("a seed is recorded and repeatable: the same seed and prompt give the same bytes; count > 1 uses seed + i", async () => {
    const prompt = `a red kite ${uniq("seed")}`;
    const first = await callTool(client, "generate_image_and_wait", { prompt, model: "phoenix", seed: 1234 });
    const second = await callTool(client, "generate_image_and_wait", { prompt, model: "phoenix", seed: 1234 });
    assert.equal(first.data.seed, 1234);
    assert.equal(second.data.seed, 1234);
    const a = await fetchCheckedImage(first.data.image_url);
    const b = await fetchCheckedImage(second.data.image_url);
    assert.deepEqual(Buffer.from(a.bytes), Buffer.from(b.bytes), "same seed and prompt, same image");
    const many = await callTool(client, "generate_image_and_wait", { prompt: `${prompt} again`, model: "phoenix", seed: 10, count: 3 });
    assert.deepEqual(many.data.results.map((r) => r.seed), [10, 11, 12]);
    const chosen = await callTool(client, "generate_image_and_wait", { prompt: `${prompt} free`, model: "phoenix", count: 2 });
    const seeds = chosen.data.results.map((r) => r.seed);
    assert.ok(seeds.every(Number.isInteger) && seeds[0] !== seeds[1], `chosen seeds differ: ${seeds}`);
    const status = await callTool(client, "get_job_status", { job_id: chosen.data.results[0].job_id });
    assert.equal(status.data.seed, seeds[0], "get_job_status reports the chosen seed");
    const listed = await callTool(client, "list_jobs", { limit: 50 });
    const row = listed.data.jobs.find((j) => j.id === chosen.data.results[0].job_id);
    assert.equal(row.seed, seeds[0], "list_jobs reports the seed");
    const gallery = await callTool(client, "list_generations", { limit: 50 });
    const item = gallery.data.generations.find((g) => g.job_id === chosen.data.results[0].job_id);
    assert.equal(item.seed, seeds[0], "list_generations reports the seed");
    assert.equal(item.width, 1024);
  });
});

describe("migration 0003 over a database written by the previous schema", () => {
  const h = useHarness();

  it("keeps every row and index, and every tool reads the old rows", async () => {
    // Rebuild the database as the previous release left it: migrations before 0003, then its rows.
    // Every table the migrations made (children before parents: D1 enforces foreign keys).
    const tables = await h.query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
    );
    const children = (name) => (name === "generations" ? 0 : 1);
    for (const { name } of tables.sort((a, b) => children(a.name) - children(b.name))) {
      await h.db.prepare(`DROP TABLE IF EXISTS "${name}"`).run();
    }
    const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith(".sql")).sort();
    const run = async (file) => {
      for (const stmt of splitSql(readFileSync(path.join(MIGRATIONS_DIR, file), "utf8"))) await h.db.prepare(stmt).run();
    };
    for (const file of files.filter((f) => f < "0003")) await run(file);
    await h.db.batch([
      h.db.prepare("INSERT INTO generation_jobs VALUES ('old-done', 'completed', 'an old fox', 'sdxl-base', '/images/1-an-old-fox-old-done.png', NULL, 1000, 2000)"),
      h.db.prepare("INSERT INTO generation_jobs VALUES ('old-failed', 'failed', 'an old cat', 'flux-schnell', NULL, 'boom', 3000, 4000)"),
      h.db.prepare("INSERT INTO generations VALUES ('g-old', 'old-done', '/images/1-an-old-fox-old-done.png', 'an old fox', 'sdxl-base', 2000)"),
    ]);
    await assert.rejects(
      h.db.prepare("INSERT INTO generation_jobs VALUES ('x', 'pending', 'p', 'phoenix', NULL, NULL, 1, 1)").run(),
      "the old schema refuses the new model names",
    );
    for (const file of files.filter((f) => f >= "0003")) await run(file);

    assert.equal(await h.count("generation_jobs"), 2);
    assert.equal(await h.count("generations"), 1);
    const indexes = await h.query("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_generation%' ORDER BY name");
    assert.deepEqual(indexes.map((r) => r.name), [
      "idx_generation_jobs_created_at",
      // 0005: keys list their own jobs newest first.
      "idx_generation_jobs_owner_created_at",
      "idx_generation_jobs_status",
      "idx_generations_created_at",
      "idx_generations_job_id",
    ]);
    const client = await h.mcpClient();
    const status = await callTool(client, "get_job_status", { job_id: "old-done" });
    assert.equal(status.data.status, "completed");
    assert.equal(status.data.model, "sdxl-base");
    assert.equal(status.data.seed, null);
    assert.deepEqual(status.data.parameters, {});
    const failed = await callTool(client, "wait_for_completion", { job_id: "old-failed" });
    assert.equal(failed.data.error, "boom");
    const jobs = await callTool(client, "list_jobs");
    assert.deepEqual(jobs.data.jobs.map((j) => j.id), ["old-failed", "old-done"]);
    const gallery = await callTool(client, "list_generations");
    assert.deepEqual(gallery.data.generations.map((g) => g.job_id), ["old-done"]);
    // New models now fit, and generate end to end on the migrated tables.
    const fresh = await callTool(client, "generate_image_and_wait", { prompt: `after the migration ${uniq("m")}`, model: "phoenix" });
    assert.equal(fresh.data.status, "completed", JSON.stringify(fresh.data));
  });
});
