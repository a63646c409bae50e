// The original six tools through the official MCP SDK client (Streamable HTTP), with the
// result shape every tool shares: content[0] text = 2-space pretty JSON,
// structuredContent equal to it, isError on failure.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import {
  callTool,
  toolJson,
  uniq,
  SERVER_NAME,
  SERVER_VERSION,
  TOOL_NAMES,
  ORIGINAL_TOOL_NAMES,
  MODEL_IDS,
} from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

function assertSharedShape(result, label) {
  assert.ok(Array.isArray(result.content) && result.content.length >= 1, `${label}: no content`);
  assert.equal(result.content[0].type, "text", `${label}: content[0] is not text`);
  const text = result.content[0].text;
  const parsed = JSON.parse(text);
  assert.equal(text, JSON.stringify(parsed, null, 2), `${label}: text is not 2-space pretty-printed JSON`);
  assert.deepEqual(result.structuredContent, parsed, `${label}: structuredContent differs from the text JSON`);
  return parsed;
}

function assertAbsoluteUrl(u, label) {
  assert.equal(typeof u, "string", `${label}: image_url missing`);
  const parsed = new URL(u); // throws if relative
  assert.match(parsed.protocol, /^https?:$/, `${label}: image_url ${u} is not http(s)`);
}

describe("the original six tools through the official SDK client", () => {
  let client;
  const h = useHarness();
  before(async () => {
    // mcpClient lists the tools first, like real clients: the SDK then validates every
    // structuredContent (error results included) against the tool's outputSchema.
    client = await h.mcpClient();
  });

  it("connects: serverInfo mcp-image-generator 3.0.0, tools capability, latest protocol version", async () => {
    assert.deepEqual(
      { name: client.getServerVersion()?.name, version: client.getServerVersion()?.version },
      { name: SERVER_NAME, version: SERVER_VERSION },
    );
    assert.ok(client.getServerCapabilities()?.tools, "no tools capability");
    // The SDK sends its latest version (2025-11-25) and keeps what the server answered.
    assert.equal(client.transport?.protocolVersion ?? client._transport?.protocolVersion, "2025-11-25");
  });

  it("tools/list gives every tool in order, the original six first, and those six keep the original's input schemas", async () => {
    const { tools } = await client.listTools();
    // TOOL_NAMES comes from the golden file; the original six are a fixed list that must lead it.
    assert.deepEqual(tools.map((t) => t.name), TOOL_NAMES);
    assert.deepEqual(tools.slice(0, ORIGINAL_TOOL_NAMES.length).map((t) => t.name), ORIGINAL_TOOL_NAMES);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const t of tools) {
      assert.equal(t.inputSchema?.type, "object", `${t.name} inputSchema.type`);
      assert.ok(t.description && t.description.length > 10, `${t.name} has no useful description`);
    }
    for (const name of ["generate_image", "generate_image_and_wait"]) {
      const s = byName[name].inputSchema;
      assert.deepEqual(s.required, ["prompt"], `${name} required`);
      assert.equal(s.properties.prompt.type, "string");
      assert.equal(s.properties.prompt.minLength, 3);
      assert.equal(s.properties.prompt.maxLength, 1000);
      for (const original of ["flux-schnell", "sdxl-base", "sdxl-lightning"]) {
        assert.ok(s.properties.model.enum.includes(original), `${name} model enum keeps ${original}`);
      }
      assert.equal(s.properties.model.default, "flux-schnell");
      assert.equal(s.properties.count.type, "integer");
      assert.equal(s.properties.count.minimum, 1);
      assert.equal(s.properties.count.maximum, 20);
      assert.equal(s.properties.count.default, 1);
    }
    const st = byName.get_job_status.inputSchema;
    assert.deepEqual(st.required, ["job_id"]);
    assert.equal(st.properties.job_id.type, "string");
    for (const name of ["list_generations", "list_jobs"]) {
      const p = byName[name].inputSchema.properties;
      assert.equal(p.limit.minimum, 1, `${name} limit.minimum`);
      assert.equal(p.limit.maximum, 50, `${name} limit.maximum`);
      assert.equal(p.limit.default, 10, `${name} limit.default`);
      assert.equal(p.offset.minimum, 0, `${name} offset.minimum`);
      assert.equal(p.offset.default, 0, `${name} offset.default`);
      assert.ok(!byName[name].inputSchema.required?.length, `${name} has no required args`);
    }
    const lj = byName.list_jobs.inputSchema.properties.status;
    // The original's five values, then (additive) the statuses added since: cancelled, deleted.
    assert.deepEqual(lj.enum.slice(0, 5), ["all", "pending", "processing", "completed", "failed"]);
    assert.deepEqual(lj.enum.slice(5), ["cancelled", "deleted"]);
    assert.equal(lj.default, "all");
    const w = byName.wait_for_completion.inputSchema.properties;
    assert.equal(w.job_id.type, "string");
    assert.equal(w.job_ids.type, "array");
    assert.equal(w.job_ids.minItems, 1);
    assert.equal(w.job_ids.maxItems, 20);
  });

  it("generate_image starts a pending job, queues it, and the consumer completes it", async () => {
    const prompt = `a lighthouse at dusk ${uniq()}`;
    const { result, data } = await callTool(client, "generate_image", { prompt });
    assertSharedShape(result, "generate_image");
    assert.ok(!result.isError, `generate_image failed: ${JSON.stringify(data)}`);
    assert.equal(data.success, true);
    assert.equal(typeof data.job_id, "string");
    assert.equal(data.status, "pending");
    assert.equal(data.prompt, prompt);
    assert.equal(data.model, "flux-schnell");
    assert.equal(data.estimated_time_seconds, 30);
    assert.equal(typeof data.message, "string");
    assert.equal(data.job_ids, undefined, "count 1 must answer job_id, not job_ids");
    const row = await h.job(data.job_id);
    assert.ok(row, "no generation_jobs row for the new job");
    assert.equal(row.prompt, prompt);
    assert.equal(row.model, "flux-schnell");
    const done = await h.waitForJob(data.job_id, ["completed", "failed"]);
    assert.equal(done.status, "completed", `job ended ${done.status}: ${done.error}\n${h.logText()}`);
    const calls = h.recorder.callsFor(prompt);
    assert.equal(calls.length, 1, "the model should be called once");
    assert.equal(calls[0].model, MODEL_IDS["flux-schnell"]);
  });

  it("get_job_status reports a job's fields, and image_url once completed", async () => {
    const prompt = `a snowy owl ${uniq()}`;
    const { data: started } = await callTool(client, "generate_image", { prompt, model: "sdxl-lightning" });
    await h.waitForJob(started.job_id, ["completed", "failed"]);
    const { result, data } = await callTool(client, "get_job_status", { job_id: started.job_id });
    assertSharedShape(result, "get_job_status");
    assert.ok(!result.isError);
    assert.equal(data.success, true);
    assert.equal(data.job_id, started.job_id);
    assert.equal(data.status, "completed", `status ${data.status}, error ${data.error}`);
    assertAbsoluteUrl(data.image_url, "get_job_status");
    assert.equal((await h.fetchImage(data.image_url)).format, "png");
    assert.equal(data.error ?? null, null);
    assert.equal(data.prompt, prompt);
    assert.equal(data.model, "sdxl-lightning");
    assert.ok(Number.isInteger(data.created_at) && Number.isInteger(data.updated_at), "timestamps must be integer ms");
    assert.ok(Math.abs(data.created_at - Date.now()) < 120000, `created_at ${data.created_at} is not ms since the epoch`);
    assert.ok(data.updated_at >= data.created_at);
  });

  it("get_job_status of a pending job shows image_url and error as null", async () => {
    const { data: started } = await callTool(client, "generate_image", { prompt: `a slow snail ${uniq()} [delay=1500]` });
    const { data } = await callTool(client, "get_job_status", { job_id: started.job_id });
    assert.ok(["pending", "processing"].includes(data.status), `status ${data.status}`);
    assert.ok("image_url" in data && data.image_url === null, `image_url should be null: ${JSON.stringify(data)}`);
    assert.ok("error" in data && data.error === null, `error should be null: ${JSON.stringify(data)}`);
    await h.waitForJob(started.job_id, ["completed", "failed"]);
  });

  it("get_job_status of an unknown id is isError {success: false, error: 'Job not found', job_id}", async () => {
    const { result, data } = await callTool(client, "get_job_status", { job_id: "no-such-job" });
    assertSharedShape(result, "get_job_status not found");
    assert.equal(result.isError, true);
    assert.deepEqual(data, { success: false, error: "Job not found", job_id: "no-such-job" });
  });

  it("wait_for_completion with job_id returns {success, status: completed, image_url, prompt, model}", async () => {
    const prompt = `a paper boat ${uniq()} [delay=300]`;
    const { data: started } = await callTool(client, "generate_image", { prompt, model: "sdxl-base" });
    const { result, data } = await callTool(client, "wait_for_completion", { job_id: started.job_id });
    assertSharedShape(result, "wait_for_completion");
    assert.ok(!result.isError, JSON.stringify(data));
    assert.equal(data.success, true);
    assert.equal(data.status, "completed");
    assertAbsoluteUrl(data.image_url, "wait_for_completion");
    assert.equal(data.prompt, prompt);
    assert.equal(data.model, "sdxl-base");
    assert.equal((await h.fetchImage(data.image_url)).format, "png");
    const row = await h.job(started.job_id);
    assert.equal(row.status, "completed", "wait reported completion before the job row says completed");
  });

  it("wait_for_completion with job_ids returns {success, count, results[{job_id, image_url, prompt, model}]}", async () => {
    const p1 = `a red kite ${uniq()}`;
    const p2 = `a blue kite ${uniq()}`;
    const { data: a } = await callTool(client, "generate_image", { prompt: p1 });
    const { data: b } = await callTool(client, "generate_image", { prompt: p2, model: "sdxl-lightning" });
    const { result, data } = await callTool(client, "wait_for_completion", { job_ids: [a.job_id, b.job_id] });
    assertSharedShape(result, "wait_for_completion job_ids");
    assert.ok(!result.isError, JSON.stringify(data));
    assert.equal(data.success, true);
    assert.equal(data.count, 2);
    assert.equal(data.results.length, 2);
    const byId = Object.fromEntries(data.results.map((r) => [r.job_id, r]));
    assert.equal(byId[a.job_id]?.prompt, p1);
    assert.equal(byId[a.job_id]?.model, "flux-schnell");
    assert.equal(byId[b.job_id]?.prompt, p2);
    assert.equal(byId[b.job_id]?.model, "sdxl-lightning");
    for (const r of data.results) assertAbsoluteUrl(r.image_url, `result ${r.job_id}`);
    assert.notEqual(byId[a.job_id].image_url, byId[b.job_id].image_url);
    assert.equal((await h.fetchImage(byId[a.job_id].image_url)).format, "jpeg");
    assert.equal((await h.fetchImage(byId[b.job_id].image_url)).format, "png");
  });

  it("wait_for_completion with an unknown id is isError {success: false, error: 'One or more jobs not found'}", async () => {
    const { data: ok } = await callTool(client, "generate_image", { prompt: `a real job ${uniq()}` });
    for (const args of [{ job_id: "nope-1" }, { job_ids: [ok.job_id, "nope-2"] }]) {
      const { result, data } = await callTool(client, "wait_for_completion", args);
      assertSharedShape(result, "wait not found");
      assert.equal(result.isError, true, JSON.stringify(data));
      assert.equal(data.success, false);
      assert.equal(data.error, "One or more jobs not found");
    }
  });

  it("generate_image_and_wait returns the finished image in one call", async () => {
    const prompt = `a golden sunset over the ocean ${uniq()}`;
    const { result, data } = await callTool(client, "generate_image_and_wait", { prompt, model: "flux-schnell" });
    assertSharedShape(result, "generate_image_and_wait");
    assert.ok(!result.isError, JSON.stringify(data));
    assert.equal(data.success, true);
    assert.equal(data.status, "completed");
    assertAbsoluteUrl(data.image_url, "generate_image_and_wait");
    assert.equal((await h.fetchImage(data.image_url)).format, "jpeg");
    assert.equal(data.prompt, prompt);
    assert.equal(data.model, "flux-schnell");
    const rows = await h.query("SELECT * FROM generation_jobs WHERE prompt = ?", prompt);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, "completed");
  });

  it("list_generations shows completed images newest first with absolute image_urls", async () => {
    const prompt = `a gallery piece ${uniq()}`;
    const { data: done } = await callTool(client, "generate_image_and_wait", { prompt });
    assert.equal(done.success, true, JSON.stringify(done));
    const { result, data } = await callTool(client, "list_generations", {});
    assertSharedShape(result, "list_generations");
    assert.ok(!result.isError);
    assert.equal(data.success, true);
    assert.equal(data.limit, 10);
    assert.equal(data.offset, 0);
    assert.equal(data.total_count, await h.count("generations"));
    assert.equal(data.returned_count, data.generations.length);
    assert.equal(data.has_more, data.offset + data.returned_count < data.total_count);
    const g = data.generations.find((x) => x.prompt === prompt);
    assert.ok(g, "the new image is not in list_generations");
    for (const k of ["id", "job_id", "image_url", "prompt", "model", "created_at"]) assert.ok(k in g, `generation lacks ${k}`);
    assert.equal(g.image_url, done.image_url);
    assertAbsoluteUrl(g.image_url, "list_generations");
    await h.fetchImage(g.image_url);
    for (let i = 1; i < data.generations.length; i++) {
      assert.ok(data.generations[i - 1].created_at >= data.generations[i].created_at, "generations are not newest first");
    }
  });

  it("list_jobs lists jobs of every status with the original's fields", async () => {
    const { result, data } = await callTool(client, "list_jobs", {});
    assertSharedShape(result, "list_jobs");
    assert.ok(!result.isError);
    assert.equal(data.success, true);
    assert.equal(data.filter, "all");
    assert.equal(data.limit, 10);
    assert.equal(data.offset, 0);
    assert.equal(data.total_count, await h.count("generation_jobs"));
    assert.equal(data.returned_count, data.jobs.length);
    assert.equal(data.has_more, data.offset + data.returned_count < data.total_count);
    for (const j of data.jobs) {
      for (const k of ["id", "status", "prompt", "model", "image_url", "error", "created_at", "updated_at"]) {
        assert.ok(k in j, `job lacks ${k}: ${JSON.stringify(j)}`);
      }
      if (j.status === "completed") {
        assertAbsoluteUrl(j.image_url, "list_jobs");
        await h.fetchImage(j.image_url);
      }
    }
  });

  it("an unknown tool name is an isError tool result, not a protocol error", async () => {
    const { result, data } = await callTool(client, "delete_all_images", {});
    assertSharedShape(result, "unknown tool");
    assert.equal(result.isError, true);
    assert.equal(data.success, false);
  });

  it("error results of the original six tools pass the SDK's outputSchema check (bad arguments to each)", async () => {
    const bad = {
      generate_image: { prompt: "ab" },
      get_job_status: { job_id: "" },
      list_generations: { limit: 0 },
      list_jobs: { status: "bogus" },
      wait_for_completion: {},
      generate_image_and_wait: { prompt: "ab" },
    };
    const problems = [];
    for (const [tool, args] of Object.entries(bad)) {
      try {
        const { result, data } = await callTool(client, tool, args);
        if (result.isError !== true || data.success !== false) problems.push(`${tool}: not an error result`);
      } catch (err) {
        problems.push(err.message);
      }
    }
    assert.deepEqual(problems, [], problems.join("\n"));
  });

  it("every failure result carries isError and {success: false, error}", async () => {
    const { result } = await callTool(client, "generate_image", { prompt: "ab" });
    const data = assertSharedShape(result, "bad prompt");
    assert.equal(result.isError, true);
    assert.equal(data.success, false);
    assert.equal(typeof data.error, "string");
    assert.ok(data.error.length > 0);
    assert.deepEqual(toolJson(result), data);
  });
});
