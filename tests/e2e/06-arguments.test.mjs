// Every argument limit and default, at the boundaries. Bad arguments are tool
// results with isError (not JSON-RPC errors) and store nothing: no job row, no
// queue message (so no model call).
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { callTool, uniq, sleep } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

describe("argument limits and defaults", () => {
  let client;
  const rejectedPrompts = [];
  let someJobId;

  const h = useHarness();
  before(async () => {
    client = await h.mcpClient();
    const { data } = await callTool(client, "generate_image", { prompt: `a reference job ${uniq()}` });
    someJobId = data.job_id;
  });

  /** Calls a tool that must refuse its arguments; checks nothing was stored. */
  async function refused(tool, args, why) {
    // Only tool calls create job rows (the consumer never does), so this count is
    // stable across the call even while earlier accepted jobs finish in the background.
    const jobsBefore = await h.count("generation_jobs");
    const { result, data } = await callTool(client, tool, args);
    assert.equal(result.isError, true, `${tool} ${why}: expected isError, got ${JSON.stringify(data).slice(0, 300)}`);
    assert.equal(data.success, false, `${tool} ${why}: success should be false`);
    assert.equal(typeof data.error, "string", `${tool} ${why}: no error message`);
    assert.ok(data.error.length > 0);
    assert.equal(await h.count("generation_jobs"), jobsBefore, `${tool} ${why}: a job row was created`);
    if (typeof args.prompt === "string") {
      rejectedPrompts.push(args.prompt);
      assert.equal((await h.query("SELECT id FROM generation_jobs WHERE prompt = ?", args.prompt)).length, 0);
    }
    return data;
  }

  async function accepted(tool, args, why) {
    const { result, data } = await callTool(client, tool, args);
    assert.ok(!result.isError, `${tool} ${why}: expected success, got ${JSON.stringify(data).slice(0, 300)}`);
    assert.equal(data.success, true);
    return data;
  }

  const pad = (prefix, len, ch = "x") => (prefix + ch.repeat(len)).slice(0, len);

  for (const tool of ["generate_image", "generate_image_and_wait"]) {
    describe(tool, () => {
      it("refuses a prompt of 2 characters and accepts 3", async () => {
        const d = await refused(tool, { prompt: "ab" }, "prompt 2 chars");
        assert.match(d.error, /prompt/i, `error should name the prompt: ${d.error}`);
        const three = Math.random().toString(36).slice(2, 5).padEnd(3, "q");
        await accepted(tool, { prompt: three }, "prompt 3 chars");
      });

      it("accepts a prompt of 1000 characters and refuses 1001", async () => {
        const base = `long prompt ${uniq()} `;
        const ok = await accepted(tool, { prompt: pad(base, 1000) }, "prompt 1000 chars");
        assert.equal(ok.prompt?.length ?? pad(base, 1000).length, 1000);
        const d = await refused(tool, { prompt: pad(base, 1001) }, "prompt 1001 chars");
        assert.match(d.error, /prompt/i);
      });

      it("counts prompt length in characters (UTF-16 units) like the original, not bytes", async () => {
        // 1000 × "é" is 1000 characters but 2000 UTF-8 bytes: allowed.
        await accepted(tool, { prompt: pad(`é ${uniq()} `, 1000, "é") }, "1000 non-ASCII chars");
        // 999 characters + one emoji (2 UTF-16 units) = 1001: refused.
        await refused(tool, { prompt: pad(`emoji ${uniq()} `, 999) + "😀" }, "999 chars + emoji");
      });

      it("refuses a missing, empty, or non-string prompt", async () => {
        await refused(tool, {}, "no prompt");
        await refused(tool, { prompt: "" }, "empty prompt");
        await refused(tool, { prompt: 12345 }, "numeric prompt");
        await refused(tool, { model: "flux-schnell" }, "model but no prompt");
      });

      it("refuses count 0 and 21, non-integers; accepts 1 and 20", async () => {
        const base = `counted ${uniq()}`;
        for (const count of [0, 21, -1, 2.5, "2"]) {
          const d = await refused(tool, { prompt: `${base} c=${count}`, count }, `count ${JSON.stringify(count)}`);
          assert.match(d.error, /count/i, `error should name count: ${d.error}`);
        }
        if (tool === "generate_image") {
          const one = await accepted(tool, { prompt: `${base} one`, count: 1 }, "count 1");
          assert.equal(typeof one.job_id, "string");
          const twenty = await accepted(tool, { prompt: `${base} twenty`, count: 20 }, "count 20");
          assert.equal(twenty.job_ids.length, 20);
          assert.equal(twenty.count, 20);
          assert.equal(await h.count("generation_jobs", "prompt = ?", `${base} twenty`), 20);
        } else {
          await accepted(tool, { prompt: `${base} one`, count: 1 }, "count 1");
        }
      });

      it("refuses an unknown model and accepts the three known ones", async () => {
        for (const model of ["dall-e", "FLUX-SCHNELL", "@cf/black-forest-labs/flux-1-schnell", "", 7]) {
          const d = await refused(tool, { prompt: `a model test ${uniq()}`, model }, `model ${JSON.stringify(model)}`);
          assert.match(d.error, /model/i, `error should name model: ${d.error}`);
        }
      });
    });
  }

  it("generate_image defaults: model flux-schnell, count 1 (answers job_id)", async () => {
    const prompt = `defaults ${uniq()}`;
    const d = await accepted("generate_image", { prompt }, "defaults");
    assert.equal(d.model, "flux-schnell");
    assert.equal(typeof d.job_id, "string");
    assert.equal(d.job_ids, undefined);
    assert.equal(await h.count("generation_jobs", "prompt = ?", prompt), 1);
    const [row] = await h.query("SELECT model FROM generation_jobs WHERE prompt = ?", prompt);
    assert.equal(row.model, "flux-schnell");
  });

  for (const tool of ["list_generations", "list_jobs"]) {
    it(`${tool}: limit 1 and 50 accepted, 0 and 51 refused; offset 0 accepted, -1 refused; defaults limit 10 offset 0`, async () => {
      const d = await accepted(tool, {}, "defaults");
      assert.equal(d.limit, 10);
      assert.equal(d.offset, 0);
      for (const limit of [1, 50]) {
        const ok = await accepted(tool, { limit }, `limit ${limit}`);
        assert.equal(ok.limit, limit);
      }
      for (const limit of [0, 51, -5, 1.5, "10"]) {
        const e = await refused(tool, { limit }, `limit ${JSON.stringify(limit)}`);
        assert.match(e.error, /limit/i);
      }
      const z = await accepted(tool, { offset: 0 }, "offset 0");
      assert.equal(z.offset, 0);
      const e = await refused(tool, { offset: -1 }, "offset -1");
      assert.match(e.error, /offset/i);
      const far = await accepted(tool, { offset: 100000 }, "offset past the end");
      assert.equal(far.returned_count, 0);
      assert.equal(far.has_more, false);
    });
  }

  it("list_jobs: each status filter is accepted, an unknown one refused; default filter is all", async () => {
    for (const status of ["all", "pending", "processing", "completed", "failed"]) {
      const d = await accepted("list_jobs", { status }, `status ${status}`);
      assert.equal(d.filter, status);
    }
    for (const status of ["done", "ALL", "", "queued"]) {
      const e = await refused("list_jobs", { status }, `status ${JSON.stringify(status)}`);
      assert.match(e.error, /status/i);
    }
    const d = await accepted("list_jobs", {}, "default status");
    assert.equal(d.filter, "all");
  });

  it("get_job_status: refuses an empty or missing job_id", async () => {
    await refused("get_job_status", { job_id: "" }, "empty job_id");
    await refused("get_job_status", {}, "missing job_id");
    await refused("get_job_status", { job_id: 5 }, "numeric job_id");
  });

  it("wait_for_completion: needs exactly one of job_id and job_ids", async () => {
    const both = await refused("wait_for_completion", { job_id: someJobId, job_ids: [someJobId] }, "both job_id and job_ids");
    assert.match(both.error, /job_id/);
    const neither = await refused("wait_for_completion", {}, "neither job_id nor job_ids");
    assert.match(neither.error, /job_id/);
  });

  it("wait_for_completion: job_ids must hold 1 to 20 non-empty ids", async () => {
    await refused("wait_for_completion", { job_ids: [] }, "0 ids");
    const e = await refused("wait_for_completion", { job_ids: Array.from({ length: 21 }, (_, i) => `id-${i}`) }, "21 ids");
    assert.match(e.error, /job_ids/);
    await refused("wait_for_completion", { job_ids: [someJobId, ""] }, "an empty id");
    await refused("wait_for_completion", { job_ids: "not-an-array" }, "a string");
    await refused("wait_for_completion", { job_id: "" }, "empty job_id");
    // 20 ids are within the limit: the answer is about the ids, not the arguments.
    const { result, data } = await callTool(client, "wait_for_completion", {
      job_ids: Array.from({ length: 20 }, (_, i) => `unknown-${i}`),
    });
    assert.equal(result.isError, true);
    assert.equal(data.error, "One or more jobs not found", `20 unknown ids: ${JSON.stringify(data)}`);
  });

  it("wait_for_completion: a repeated id in job_ids is fine (not 'not found')", async () => {
    const { data: started } = await callTool(client, "generate_image", { prompt: `twice ${uniq()}` });
    const { result, data } = await callTool(client, "wait_for_completion", { job_ids: [started.job_id, started.job_id] });
    assert.ok(!result.isError, `repeated id: ${JSON.stringify(data)}`);
    assert.equal(data.success, true);
    // Either the single-job shape (the ids are one job) or a results list of that job.
    if (data.results) {
      assert.ok(data.results.length >= 1);
      for (const r of data.results) assert.equal(r.job_id, started.job_id);
    } else {
      assert.equal(data.status, "completed", JSON.stringify(data));
      assert.ok(new URL(data.image_url));
    }
  });

  it("no refused call reached the queue: the model never saw a refused prompt", async () => {
    assert.ok(rejectedPrompts.length > 10, "the refusal tests did not run");
    await sleep(1500); // queue batch timeout is 1 s
    for (const p of rejectedPrompts) {
      assert.equal(h.recorder.callsFor(p).length, 0, `the model was called for refused prompt ${p.slice(0, 60)}…`);
    }
  });
});
