// The 2026-07-28 tasks extension io.modelcontextprotocol/tasks (SEP-2663) over raw Streamable
// HTTP: advertised by server/discover (whose supportedVersions match the version error's
// data.supported), a task only when the request's client capabilities declare the extension and
// only for the long tools, resultType "task", tasks/get with the result inline, a tool error as a
// completed task, tasks/cancel (working: cancelled; finished: acknowledged, state kept),
// tasks/update acknowledged, the Mcp-Name header carrying the task id, another key's task not
// found, expiry by the sweeper. Every message is checked with the ext-tasks v2 parsers.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { uniq, waitFor } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import { assertParses, modernRpc, v2, EXTENSION_ID, MODERN } from "./support/tasks.mjs";

const KEYS = { alice: "alice-token-42ext-5e6f", bob: "bob-token-42ext-7a8b" };

async function createTask(h, name, args, options = {}) {
  const { status, message } = await modernRpc(h, "tools/call", { name, arguments: args }, options);
  assert.equal(status, 200, JSON.stringify(message));
  const created = assertParses(v2.CreateTaskResultV2Schema, message.result, "CreateTaskResult");
  assert.equal(created.resultType, "task");
  return created;
}

async function getTask(h, taskId, options) {
  const { message } = await modernRpc(h, "tasks/get", { taskId }, options);
  assert.ok(message.result, JSON.stringify(message));
  return assertParses(v2.GetTaskResultV2Schema, message.result, "GetTaskResult");
}

async function settle(h, taskId, options) {
  return waitFor(
    async () => {
      const task = await getTask(h, taskId, options);
      return task.status === "working" ? null : task;
    },
    { timeout: 30000, message: `task ${taskId} to settle` },
  );
}

describe("2026-07-28 tasks extension", () => {
  const h = useHarness({
    vars: {
      API_KEYS: apiKeys(KEYS),
    },
  });

  it("server/discover advertises the extension and lists every revision the version error lists", async () => {
    const { message } = await modernRpc(h, "server/discover", {}, { tasks: false });
    assert.deepEqual(message.result.capabilities.extensions, { [EXTENSION_ID]: {} });
    assert.ok(v2.hasTaskServerCapabilityV2(message.result.capabilities));
    const unsupported = await h.rpc(
      {
        jsonrpc: "2.0",
        id: 1,
        method: "server/discover",
        params: { _meta: { "io.modelcontextprotocol/protocolVersion": "2099-01-01", "io.modelcontextprotocol/clientCapabilities": {} } },
      },
      { headers: { "MCP-Protocol-Version": "2099-01-01", "Mcp-Method": "server/discover" } },
    );
    assert.equal(unsupported.json.error.code, -32022);
    assert.deepEqual(message.result.supportedVersions, unsupported.json.error.data.supported);
    assert.deepEqual(message.result.supportedVersions, ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]);
  });

  it("a task only for a client declaring the extension, and only for the long tools", async () => {
    const plain = await modernRpc(h, "tools/call", { name: "generate_image_and_wait", arguments: { prompt: `plain ${uniq("ext")}` } }, { tasks: false });
    assert.equal(plain.message.result.resultType, "complete");
    assert.equal(plain.message.result.structuredContent.status, "completed");
    const listed = await modernRpc(h, "tools/call", { name: "list_jobs", arguments: {} });
    assert.equal(listed.message.result.resultType, "complete", "list_jobs never runs as a task");
  });

  it("a task is stored before its answer, polled with tasks/get (Mcp-Name = task id), and completes with the plain call's result", async () => {
    const prompt = `ext heron ${uniq("ext")} [delay=1000]`;
    const created = await createTask(h, "generate_image_and_wait", { prompt, model: "flux-schnell" });
    assert.equal(created.status, "working");
    assert.equal(created.pollIntervalMs, 2000);
    assert.equal(created.ttlMs, 3600000);
    assert.equal(await h.count("tasks", "id = ?", created.taskId), 1, "durably stored when answered");
    // Mcp-Name must carry the task id.
    const mismatch = await modernRpc(h, "tasks/get", { taskId: created.taskId }, { name: "other" });
    assert.equal(mismatch.message.error.code, -32020);
    const done = await settle(h, created.taskId);
    assert.equal(done.status, "completed");
    assert.equal(done.resultType, "complete");
    assert.equal(done.result.structuredContent.prompt, prompt);
    assert.equal(done.result.structuredContent.status, "completed");
    assert.ok(done.result.content.some((b) => b.type === "resource_link"));
    await h.fetchImage(done.result.structuredContent.image_url);
    const plain = await modernRpc(h, "tools/call", { name: "generate_image_and_wait", arguments: { prompt: `plain ${uniq("ext")}` } }, { tasks: false });
    assert.deepEqual(Object.keys(done.result.structuredContent).sort(), Object.keys(plain.message.result.structuredContent).sort());
    // Finished: cancel is acknowledged and the task keeps its state.
    const cancel = await modernRpc(h, "tasks/cancel", { taskId: created.taskId });
    assertParses(v2.CancelTaskResultV2Schema, cancel.message.result, "CancelTaskResult");
    assert.equal((await getTask(h, created.taskId)).status, "completed");
    // Nothing here asks for input: tasks/update is acknowledged with an empty result.
    const update = await modernRpc(h, "tasks/update", { taskId: created.taskId, inputResponses: {} });
    assertParses(v2.UpdateTaskResultV2Schema, update.message.result, "UpdateTaskResult");
    assert.deepEqual(Object.keys(update.message.result).filter((k) => k !== "_meta"), ["resultType"]);
    const unknown = await modernRpc(h, "tasks/update", { taskId: "no-such-task", inputResponses: {} });
    assert.equal(assertParses(v2.ErrorV2Schema, unknown.message.error, "error").code, -32602);
  });

  it("a tool error is a completed task whose result has isError", async () => {
    const created = await createTask(h, "generate_image_and_wait", { prompt: `ext broken ${uniq("ext")} [fail-always]` });
    const done = await settle(h, created.taskId);
    assert.equal(done.status, "completed");
    assert.equal(done.result.isError, true);
  });

  it("tasks/cancel on a working task cancels its jobs; nothing is stored", async () => {
    const created = await createTask(h, "generate_image_and_wait", { prompt: `ext cancel ${uniq("ext")} [delay=3000]` });
    const [row] = await h.query("SELECT job_ids FROM tasks WHERE id = ?", created.taskId);
    const [jobId] = JSON.parse(row.job_ids);
    await h.waitForJob(jobId, "processing");
    const cancel = await modernRpc(h, "tasks/cancel", { taskId: created.taskId });
    assertParses(v2.CancelTaskResultV2Schema, cancel.message.result, "CancelTaskResult");
    const task = await getTask(h, created.taskId);
    assert.equal(task.status, "cancelled");
    await waitFor(() => h.logText(100000).includes(`job ${jobId}: cancelled while generating`), { timeout: 15000, message: "the late image discarded" });
    assert.equal((await h.r2Objects()).filter((o) => o.key.includes(jobId)).length, 0);
    assert.equal((await h.job(jobId)).status, "cancelled");
  });

  it("another key's task is not found for every tasks method", async () => {
    const created = await createTask(h, "generate_image_and_wait", { prompt: `bob ext ${uniq("ext")}` }, { token: KEYS.bob });
    for (const [method, extra] of [["tasks/get", {}], ["tasks/cancel", {}], ["tasks/update", { inputResponses: {} }]]) {
      const r = await modernRpc(h, method, { taskId: created.taskId, ...extra }, { token: KEYS.alice });
      assert.equal(r.message.error?.code, -32602, `${method}: ${JSON.stringify(r.message)}`);
      assertParses(v2.ErrorV2Schema, r.message.error, `${method} error`);
    }
    assert.equal((await getTask(h, created.taskId, { token: KEYS.bob })).taskId, created.taskId);
  });

  it("the sweeper removes expired tasks", async () => {
    const created = await createTask(h, "wait_for_completion", { job_id: "no-such-job" });
    const swept = await h.sweep(Date.now() + 3600000 + 1000);
    assert.ok(swept.expiredTasks >= 1, swept.line);
    const gone = await modernRpc(h, "tasks/get", { taskId: created.taskId });
    assert.equal(gone.message.error.code, -32602);
    assert.equal(MODERN, "2026-07-28");
  });
});
