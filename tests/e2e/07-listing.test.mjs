// list_generations and list_jobs: pagination (limit/offset/has_more/total_count),
// newest-first order, and status filters, against a known set of jobs:
// 12 completed, 2 failed, 1 still processing.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { callTool, uniq, waitFor } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const COMPLETED = 12;
const FAILED = 2;
const PROCESSING = 1;

describe("listing tools: pagination and filters", () => {
  let client;
  let completedIds;
  let failedIds;
  let processingIds;

  const h = useHarness();
  before(async () => {
    client = await h.mcpClient();
    const tag = uniq("list");
    const c1 = await callTool(client, "generate_image", { prompt: `gallery A ${tag}`, count: 7 });
    const c2 = await callTool(client, "generate_image", { prompt: `gallery B ${tag}`, count: 5, model: "sdxl-lightning" });
    const f = await callTool(client, "generate_image", { prompt: `broken ${tag} [no-image]`, count: FAILED });
    completedIds = [...c1.data.job_ids, ...c2.data.job_ids];
    failedIds = f.data.job_ids;
    const settle = async (want) => {
      await waitFor(
        async () => {
          for (const [status, n] of Object.entries(want)) {
            if ((await h.count("generation_jobs", "status = ?", status)) !== n) return false;
          }
          return true;
        },
        { timeout: 60000, interval: 200, message: JSON.stringify(want) },
      ).catch(async (err) => {
        const rows = await h.query("SELECT status, COUNT(*) AS n FROM generation_jobs GROUP BY status");
        throw new Error(`${err.message}; statuses now ${JSON.stringify(rows)}\n${h.logText()}`);
      });
    };
    await settle({ completed: COMPLETED, failed: FAILED });
    // Started last, after everything else settled: Miniflare's local queue delivers one
    // batch at a time, so this job (long enough to stay "processing" for the whole file;
    // the instance is disposed after) would hold up any later message.
    const p = await callTool(client, "generate_image", { prompt: `very slow ${tag} [delay=120000]` });
    processingIds = [p.data.job_id];
    await settle({ completed: COMPLETED, failed: FAILED, processing: PROCESSING });
  });

  async function list(tool, args) {
    const { result, data } = await callTool(client, tool, args);
    assert.ok(!result.isError, `${tool} ${JSON.stringify(args)}: ${JSON.stringify(data)}`);
    assert.equal(data.success, true);
    const items = tool === "list_jobs" ? data.jobs : data.generations;
    assert.equal(data.returned_count, items.length, "returned_count differs from the list length");
    assert.equal(data.has_more, data.offset + data.returned_count < data.total_count, "has_more formula");
    for (let i = 1; i < items.length; i++) {
      assert.ok(items[i - 1].created_at >= items[i].created_at, `${tool} is not newest first`);
    }
    return { data, items };
  }

  it("list_generations counts only completed images and pages with limit/offset/has_more", async () => {
    const first = await list("list_generations", {});
    assert.equal(first.data.total_count, COMPLETED);
    assert.equal(first.data.returned_count, 10);
    assert.equal(first.data.has_more, true);
    const second = await list("list_generations", { offset: 10 });
    assert.equal(second.data.returned_count, COMPLETED - 10);
    assert.equal(second.data.has_more, false);
    const ids = [...first.items, ...second.items].map((g) => g.job_id);
    assert.equal(new Set(ids).size, COMPLETED, "pages overlap or miss items");
    assert.deepEqual([...ids].sort(), [...completedIds].sort());
    for (const g of [...first.items, ...second.items]) {
      assert.ok(new URL(g.image_url), "relative image_url");
      assert.equal(typeof g.id, "string");
    }
  });

  it("list_generations: limit 5 walks the gallery in 3 pages; offset == total gives an empty last page", async () => {
    const seen = [];
    for (const offset of [0, 5, 10]) {
      const { data, items } = await list("list_generations", { limit: 5, offset });
      assert.equal(data.limit, 5);
      assert.equal(data.offset, offset);
      assert.equal(data.total_count, COMPLETED);
      assert.equal(data.returned_count, Math.min(5, COMPLETED - offset));
      assert.equal(data.has_more, offset + 5 < COMPLETED);
      seen.push(...items.map((g) => g.job_id));
    }
    assert.equal(new Set(seen).size, COMPLETED);
    const end = await list("list_generations", { limit: 5, offset: COMPLETED });
    assert.equal(end.data.returned_count, 0);
    assert.equal(end.data.has_more, false);
    assert.equal(end.data.total_count, COMPLETED);
    const one = await list("list_generations", { limit: 1, offset: COMPLETED - 1 });
    assert.equal(one.data.returned_count, 1);
    assert.equal(one.data.has_more, false);
  });

  it("list_jobs status=completed / failed / processing return exactly those jobs", async () => {
    const completed = await list("list_jobs", { status: "completed", limit: 50 });
    assert.equal(completed.data.filter, "completed");
    assert.equal(completed.data.total_count, COMPLETED);
    assert.deepEqual(completed.items.map((j) => j.id).sort(), [...completedIds].sort());
    for (const j of completed.items) {
      assert.equal(j.status, "completed");
      assert.ok(new URL(j.image_url));
    }
    const failed = await list("list_jobs", { status: "failed" });
    assert.equal(failed.data.total_count, FAILED);
    assert.deepEqual(failed.items.map((j) => j.id).sort(), [...failedIds].sort());
    for (const j of failed.items) {
      assert.equal(j.status, "failed");
      assert.equal(typeof j.error, "string", "a failed job should carry its error");
      assert.equal(j.image_url, null);
    }
    const processing = await list("list_jobs", { status: "processing" });
    assert.equal(processing.data.total_count, PROCESSING);
    assert.deepEqual(processing.items.map((j) => j.id), processingIds);
    assert.equal(processing.items[0].image_url, null);
  });

  it("list_jobs status=pending agrees with the database", async () => {
    const pending = await list("list_jobs", { status: "pending" });
    assert.equal(pending.data.total_count, await h.count("generation_jobs", "status = 'pending'"));
    for (const j of pending.items) assert.equal(j.status, "pending");
  });

  it("list_jobs status=all (and by default) covers every job, paged", async () => {
    const total = COMPLETED + FAILED + PROCESSING;
    const all = await list("list_jobs", { status: "all", limit: 50 });
    assert.equal(all.data.total_count, total);
    assert.equal(all.data.returned_count, total);
    assert.equal(all.data.has_more, false);
    const byDefault = await list("list_jobs", {});
    assert.equal(byDefault.data.total_count, total);
    assert.equal(byDefault.data.returned_count, 10);
    assert.equal(byDefault.data.has_more, true);
    const pageTwo = await list("list_jobs", { offset: 10 });
    assert.equal(pageTwo.data.returned_count, total - 10);
    assert.equal(pageTwo.data.has_more, false);
    const ids = [...byDefault.items, ...pageTwo.items].map((j) => j.id);
    assert.equal(new Set(ids).size, total, "pages overlap or miss jobs");
    const f = await list("list_jobs", { status: "failed", limit: 1 });
    assert.equal(f.data.returned_count, 1);
    assert.equal(f.data.has_more, true);
    const f2 = await list("list_jobs", { status: "failed", limit: 1, offset: 1 });
    assert.equal(f2.data.has_more, false);
    assert.notEqual(f.items[0].id, f2.items[0].id);
  });
});
