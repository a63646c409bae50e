// Over each transport (Streamable HTTP and legacy SSE), the official TypeScript SDK client
// lists every tool and calls each of them but list_models (15-models-and-controls calls that),
// including generate_image_and_wait with count > 1.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { callTool, uniq, TOOL_NAMES } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const TRANSPORTS = {
  "Streamable HTTP": (h) =>
    new StreamableHTTPClientTransport(new URL("/mcp", h.origin), {
      requestInit: { headers: { Authorization: `Bearer ${h.token}` } },
    }),
  "legacy SSE": (h) =>
    new SSEClientTransport(new URL("/sse", h.origin), {
      requestInit: { headers: { Authorization: `Bearer ${h.token}` } },
    }),
};

for (const [label, makeTransport] of Object.entries(TRANSPORTS)) {
  describe(`every tool over ${label}`, () => {
    let client;
    const h = useHarness({}, { teardown: () => client?.close().catch(() => {}) });
    before(async () => {
      client = new Client({ name: `e2e-${label}`, version: "1.0.0" });
      await client.connect(makeTransport(h));
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name), TOOL_NAMES);
    });

    it("generate_image, get_job_status and wait_for_completion", async () => {
      const { result, data } = await callTool(client, "generate_image", { prompt: `${uniq("async")} a barn owl`, model: "sdxl-base" });
      assert.ok(!result.isError, JSON.stringify(data));
      const status = await callTool(client, "get_job_status", { job_id: data.job_id });
      assert.equal(status.data.job_id, data.job_id);
      const waited = await callTool(client, "wait_for_completion", { job_id: data.job_id });
      assert.equal(waited.data.status, "completed", JSON.stringify(waited.data));
      assert.equal((await h.fetchImage(waited.data.image_url)).format, "png", "SDXL images are PNG");
    });

    it("generate_image_and_wait with count 3 returns three distinct images", async () => {
      const { result, data } = await callTool(client, "generate_image_and_wait", {
        prompt: `${uniq("three")} a paper boat`,
        count: 3,
      });
      assert.ok(!result.isError, JSON.stringify(data));
      assert.equal(data.count, 3);
      const urls = data.results.map((r) => r.image_url);
      assert.equal(new Set(urls).size, 3, `three different images expected: ${urls}`);
      for (const url of urls) assert.equal((await h.fetchImage(url)).format, "jpeg");
    });

    it("list_generations and list_jobs see the finished images", async () => {
      const gallery = await callTool(client, "list_generations", { limit: 50 });
      assert.equal(gallery.data.total_count, 4, JSON.stringify(gallery.data));
      const jobs = await callTool(client, "list_jobs", { status: "completed" });
      assert.equal(jobs.data.total_count, 4);
      assert.ok(jobs.data.jobs.every((j) => j.status === "completed"));
    });

    it("get_usage counts the administrator's images today, without a quota", async () => {
      const usage = await callTool(client, "get_usage");
      assert.equal(usage.data.key, "admin");
      assert.ok(usage.data.images_today >= 4, JSON.stringify(usage.data));
      assert.equal(usage.data.daily_image_quota, null);
      assert.deepEqual(usage.data.keys, [
        { key: "admin", images_today: usage.data.images_today, neurons_today: usage.data.neurons_today, usd_today: usage.data.usd_today },
      ]);
      // Four default flux-schnell images (1024x1024, 4 steps: $0.0006336 = 57.6 neurons each)
      // and one sdxl-base image (no listed price: 0).
      assert.ok(Math.abs(usage.data.neurons_today - 3 * 57.6) < 1e-6, JSON.stringify(usage.data));
      assert.equal(usage.data.daily_neuron_budget, null);
    });

    it("remove_background and describe_image on a finished image", async () => {
      const source = await callTool(client, "generate_image_and_wait", { prompt: `${uniq("cutout")} a green bottle`, model: "sdxl-lightning", preview: false });
      const cut = await callTool(client, "remove_background", { image: source.data.job_id, preview: false });
      assert.equal(cut.data.status, "completed", JSON.stringify(cut.data));
      assert.equal(cut.data.model, "remove-background");
      assert.equal((await h.fetchImage(cut.data.image_url)).format, "png");
      const described = await callTool(client, "describe_image", { image: cut.data.job_id, question: "What is in the picture?" });
      assert.equal(described.data.success, true, JSON.stringify(described.data));
      assert.match(described.data.description, /Asked: What is in the picture\?/);
    });

    it("edit_image on a finished image by job id, then generate_variations of the edit", async () => {
      const source = await callTool(client, "generate_image_and_wait", { prompt: `${uniq("edit")} a red kite`, model: "sdxl-base", preview: false });
      const edited = await callTool(client, "edit_image", { prompt: "the red kite at night", images: [source.data.job_id], preview: false });
      assert.equal(edited.data.status, "completed", JSON.stringify(edited.data));
      assert.equal(edited.data.model, "sd-v1-5-img2img");
      assert.equal(edited.data.inputs[0].source, source.data.job_id);
      assert.equal(edited.data.inputs[0].url, source.data.image_url, "the job's image is used in place");
      assert.equal((await h.fetchImage(edited.data.image_url)).format, "png");
      const varied = await callTool(client, "generate_variations", { job_id: edited.data.job_id, count: 2, preview: false });
      assert.equal(varied.data.count, 2, JSON.stringify(varied.data));
      assert.equal(new Set(varied.data.results.map((r) => r.seed)).size, 2, "two new seeds");
      for (const r of varied.data.results) assert.equal(r.inputs[0].source, edited.data.job_id);
    });
  });
}
