// 2025-11-25 tasks (core in that revision) over raw Streamable HTTP and the legacy SSE
// transport: the capability and execution.taskSupport, tools/call with params.task answered at
// once, tasks/get, the blocking tasks/result as an event stream with notifications/tasks/status,
// tasks/list (own tasks, cursor), tasks/cancel (working: cancelled, nothing stored; finished:
// -32602), another key's task, a tool error as a failed task, and expiry by the sweeper. Every
// task message is checked against the official 2025-11-25 JSON schema and the ext-tasks
// package's v1 parsers. On /sse, a task's status changes reach the stream after its creation
// (waitUntil) and while tasks/result waits.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { z } from "zod";
import { callTool, uniq, waitFor } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import { assertOfficial, assertOutputSchema, assertParses, coreRpc, v1, CORE } from "./support/tasks.mjs";

const KEYS = { alice: "alice-token-41tasks-1a2b", bob: "bob-token-41tasks-3c4d" };
const TASK_TOOLS = ["generate_image_and_wait", "edit_image", "generate_variations", "wait_for_completion"];

/** Checks a JSON-RPC result response against the official schema (message and result type) and v1. */
function checkResult(message, resultDef, v1Schema) {
  assert.ok(message.result, JSON.stringify(message));
  assertOfficial("JSONRPCResultResponse", message);
  assertOfficial(resultDef, message.result);
  if (v1Schema) assertParses(v1Schema, message.result, resultDef);
  return message.result;
}

function checkError(message, code) {
  assertOfficial("JSONRPCErrorResponse", message);
  assert.equal(message.error.code, code, JSON.stringify(message));
}

async function createTask(h, name, args, { token, ttl } = {}) {
  const task = ttl === undefined ? {} : { ttl };
  const { message } = await coreRpc(h, "tools/call", { name, arguments: args, task }, { token });
  const result = checkResult(message, "CreateTaskResult", v1.CreateTaskResultV1Schema);
  return result.task;
}

describe("2025-11-25 tasks over Streamable HTTP", () => {
  const h = useHarness({
    vars: {
      API_KEYS: apiKeys(KEYS),
    },
  });

  it("initialize declares tasks for tools/call, list and cancel; the long tools declare taskSupport optional", async () => {
    const init = await coreRpc(h, "initialize", { protocolVersion: CORE, capabilities: {}, clientInfo: { name: "t", version: "1" } });
    const result = checkResult(init.message, "InitializeResult");
    assert.deepEqual(result.capabilities.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
    assertParses(v1.ServerTaskCapabilitiesV1Schema, result.capabilities.tasks, "capability");
    const older = await coreRpc(h, "initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } });
    assert.equal(older.message.result.capabilities.tasks, undefined, "2025-06-18 has no tasks");
    const listed = checkResult((await coreRpc(h, "tools/list", {})).message, "ListToolsResult");
    for (const tool of listed.tools) {
      const expected = TASK_TOOLS.includes(tool.name) ? { taskSupport: "optional" } : undefined;
      assert.deepEqual(tool.execution, expected, tool.name);
    }
  });

  it("a task is answered at once, polled with tasks/get, and tasks/result streams its status until the plain call's result", async () => {
    const prompt = `task lighthouse ${uniq("core")} [delay=1500]`;
    const started = Date.now();
    const task = await createTask(h, "generate_image_and_wait", { prompt, model: "flux-schnell" }, { ttl: 120000 });
    assert.ok(Date.now() - started < 1500, "answered before the image was made");
    assert.equal(task.status, "working");
    assert.equal(task.ttl, 120000, "the asked ttl, within the bound");
    assert.equal(task.pollInterval, 2000, "flux-schnell's typical time (~2-5 s)");
    assert.match(task.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const got = checkResult((await coreRpc(h, "tasks/get", { taskId: task.taskId })).message, "GetTaskResult", v1.GetTaskResultV1Schema);
    assert.equal(got.taskId, task.taskId);
    assert.ok(["working", "completed"].includes(got.status));

    const streamed = await coreRpc(h, "tasks/result", { taskId: task.taskId, _meta: { progressToken: "p1" } });
    assert.match(streamed.headers.get("content-type"), /text\/event-stream/);
    const notifications = streamed.messages.slice(0, -1);
    const statuses = notifications.filter((m) => m.method === "notifications/tasks/status");
    assert.ok(statuses.length >= 1, JSON.stringify(streamed.messages).slice(0, 800));
    for (const note of statuses) {
      assertOfficial("TaskStatusNotification", note);
      assertParses(v1.TaskStatusNotificationV1Schema, note, "status notification");
      assert.equal(note.params.taskId, task.taskId);
    }
    for (const note of notifications.filter((m) => m.method === "notifications/progress")) {
      assertOfficial("ProgressNotification", note);
      assert.equal(note.params.progressToken, "p1");
    }
    const result = checkResult(streamed.message, "CallToolResult", v1.TaskResultV1Schema);
    assertOfficial("GetTaskPayloadResult", result);
    assert.equal(result._meta["io.modelcontextprotocol/related-task"].taskId, task.taskId);
    assert.equal(result.structuredContent.status, "completed");
    assert.equal(result.structuredContent.prompt, prompt);
    await h.fetchImage(result.structuredContent.image_url);
    // The same fields as the plain call.
    const { data: plain } = await callTool(await h.mcpClient(), "generate_image_and_wait", { prompt: `plain ${uniq("core")}`, model: "flux-schnell" });
    assert.deepEqual(Object.keys(result.structuredContent).sort(), Object.keys(plain).sort());
    assert.ok(result.content.some((block) => block.type === "resource_link"), "resource links as in the plain call");
    assert.ok(result.content.some((block) => block.type === "image"), "the inline preview as in the plain call");
    const tools = (await coreRpc(h, "tools/list", {})).message.result.tools;
    assertOutputSchema(tools.find((t) => t.name === "generate_image_and_wait"), result.structuredContent);

    const done = checkResult((await coreRpc(h, "tasks/get", { taskId: task.taskId })).message, "GetTaskResult", v1.GetTaskResultV1Schema);
    assert.equal(done.status, "completed");
    // Finished: tasks/cancel is invalid params.
    checkError((await coreRpc(h, "tasks/cancel", { taskId: task.taskId })).message, -32602);
    assert.equal((await coreRpc(h, "tasks/get", { taskId: task.taskId })).message.result.status, "completed");
    // Without an event-stream Accept the answer is plain JSON.
    const json = await h.rpc(
      { jsonrpc: "2.0", id: 9, method: "tasks/result", params: { taskId: task.taskId } },
      { headers: { "MCP-Protocol-Version": CORE, Accept: "application/json" } },
    );
    assert.match(json.headers.get("content-type"), /application\/json/);
    assert.equal(json.json.result.structuredContent.status, "completed");
  });

  it("a tool error is a failed task whose result is the tool's isError result", async () => {
    const task = await createTask(h, "generate_image_and_wait", { prompt: `broken ${uniq("core")} [fail-always]`, model: "flux-schnell" });
    const result = checkResult((await coreRpc(h, "tasks/result", { taskId: task.taskId })).message, "CallToolResult");
    assert.equal(result.isError, true);
    const tools = (await coreRpc(h, "tools/list", {})).message.result.tools;
    assertOutputSchema(tools.find((t) => t.name === "generate_image_and_wait"), result.structuredContent);
    const failed = checkResult((await coreRpc(h, "tasks/get", { taskId: task.taskId })).message, "GetTaskResult", v1.GetTaskResultV1Schema);
    assert.equal(failed.status, "failed");
    assert.ok(failed.statusMessage.length > 0);
    // Bad arguments end the call before any job: a task that has already failed.
    const bad = await createTask(h, "generate_image_and_wait", { prompt: "" });
    assert.equal(bad.status, "failed");
    assert.match(bad.statusMessage, /prompt/);
  });

  it("tasks/cancel on a working task cancels its jobs: no model output stored, status cancelled", async () => {
    const prompt = `cancelled task ${uniq("core")} [delay=3000]`;
    const task = await createTask(h, "generate_image_and_wait", { prompt, model: "flux-schnell" });
    const [jobId] = (await h.query("SELECT job_ids FROM tasks WHERE id = ?", task.taskId)).map((r) => JSON.parse(r.job_ids)[0]);
    await h.waitForJob(jobId, "processing");
    const cancelled = checkResult((await coreRpc(h, "tasks/cancel", { taskId: task.taskId })).message, "CancelTaskResult", v1.CancelTaskResultV1Schema);
    assert.equal(cancelled.status, "cancelled");
    assert.equal((await h.job(jobId)).status, "cancelled");
    await waitFor(() => h.logText(100000).includes(`job ${jobId}: cancelled while generating`), { timeout: 15000, message: "the late image discarded" });
    assert.equal((await h.r2Objects()).filter((o) => o.key.includes(jobId)).length, 0);
    assert.equal(await h.count("generations", "job_id = ?", jobId), 0);
    checkError((await coreRpc(h, "tasks/cancel", { taskId: task.taskId })).message, -32602);
    checkError((await coreRpc(h, "tasks/result", { taskId: task.taskId })).message, -32602);
  });

  it("a key sees only its own tasks: another key's is not found, and tasks/list pages with a cursor", async () => {
    const aliceTask = await createTask(h, "generate_image_and_wait", { prompt: `alice ${uniq("core")}` }, { token: KEYS.alice });
    const bobTask = await createTask(h, "generate_image_and_wait", { prompt: `bob ${uniq("core")}` }, { token: KEYS.bob });
    for (const method of ["tasks/get", "tasks/result", "tasks/cancel"]) {
      checkError((await coreRpc(h, method, { taskId: bobTask.taskId }, { token: KEYS.alice })).message, -32602);
    }
    const listed = checkResult((await coreRpc(h, "tasks/list", {}, { token: KEYS.alice })).message, "ListTasksResult", v1.ListTasksResultV1Schema);
    assert.deepEqual(listed.tasks.map((t) => t.taskId), [aliceTask.taskId]);
    // The administrator sees every task; 50 per page, then a cursor.
    for (let i = 0; i < 50; i += 1) await createTask(h, "wait_for_completion", { job_id: "no-such-job" });
    const first = checkResult((await coreRpc(h, "tasks/list", {})).message, "ListTasksResult", v1.ListTasksResultV1Schema);
    assert.equal(first.tasks.length, 50);
    assert.ok(first.nextCursor);
    const second = checkResult((await coreRpc(h, "tasks/list", { cursor: first.nextCursor })).message, "ListTasksResult", v1.ListTasksResultV1Schema);
    const all = [...first.tasks, ...second.tasks].map((t) => t.taskId);
    assert.equal(new Set(all).size, all.length, "no task twice");
    assert.ok(all.includes(aliceTask.taskId) && all.includes(bobTask.taskId));
    checkError((await coreRpc(h, "tasks/list", { cursor: "not a cursor" })).message, -32602);
  });

  it("tools that do not run as tasks refuse params.task; revisions before 2025-11-25 have no tasks/*", async () => {
    checkError((await coreRpc(h, "tools/call", { name: "list_jobs", arguments: {}, task: {} })).message, -32601);
    const old = await h.rpc({ jsonrpc: "2.0", id: 3, method: "tasks/list", params: {} }, { headers: { "MCP-Protocol-Version": "2025-06-18" } });
    assert.equal(old.json.error.code, -32601);
  });

  it("the sweeper deletes a task once its ttl has passed", async () => {
    const task = await createTask(h, "generate_image_and_wait", { prompt: `short-lived ${uniq("core")}` }, { ttl: 60000 });
    assert.equal(task.ttl, 60000);
    const swept = await h.sweep(Date.now() + 61000);
    assert.ok(swept.expiredTasks >= 1, swept.line);
    assert.equal(await h.count("tasks", "id = ?", task.taskId), 0);
    checkError((await coreRpc(h, "tasks/get", { taskId: task.taskId })).message, -32602);
  });
});

describe("2025-11-25 tasks over the legacy SSE transport", () => {
  let client;
  const h = useHarness({}, { teardown: () => client?.close().catch(() => {}) });
  before(async () => {
    client = new Client({ name: "e2e-tasks-sse", version: "1.0.0" });
    await client.connect(
      new SSEClientTransport(new URL("/sse", h.origin), { requestInit: { headers: { Authorization: `Bearer ${h.token}` } } }),
    );
  });

  it("creates a task, streams its status on the /sse stream while tasks/result waits, and cancels another", async () => {
    const seen = [];
    client.fallbackNotificationHandler = async (n) => seen.push(n);
    const any = z.object({}).passthrough();
    const created = await client.request(
      { method: "tools/call", params: { name: "generate_image_and_wait", arguments: { prompt: `sse task ${uniq("core")} [delay=800]` }, task: {} } },
      any,
    );
    assertOfficial("CreateTaskResult", created);
    assertParses(v1.CreateTaskResultV1Schema, created, "CreateTaskResult");
    const result = await client.request({ method: "tasks/result", params: { taskId: created.task.taskId } }, any);
    assertOfficial("CallToolResult", result);
    assertOfficial("GetTaskPayloadResult", result);
    assert.equal(result.structuredContent.status, "completed");
    const statuses = seen.filter((n) => n.method === "notifications/tasks/status");
    assert.ok(statuses.length >= 1, JSON.stringify(seen));
    for (const note of statuses) {
      assertOfficial("TaskStatusNotification", { jsonrpc: "2.0", ...note });
      assertParses(v1.TaskStatusNotificationV1Schema, { jsonrpc: "2.0", ...note }, "status notification");
    }

    // Without tasks/result: the status changes still reach the stream after the answer.
    const pushed = await client.request(
      { method: "tools/call", params: { name: "generate_image_and_wait", arguments: { prompt: `sse pushed ${uniq("core")} [delay=500]` }, task: {} } },
      any,
    );
    const finalNote = await waitFor(
      () => seen.find((n) => n.method === "notifications/tasks/status" && n.params.taskId === pushed.task.taskId && n.params.status === "completed"),
      { timeout: 20000, message: "a completed status notification on the /sse stream" },
    );
    assertOfficial("TaskStatusNotificationParams", finalNote.params);
    assert.ok(seen.some((n) => n.params?.taskId === pushed.task.taskId && n.params.status === "working"), "the working status first");

    const slow = await client.request(
      { method: "tools/call", params: { name: "generate_image_and_wait", arguments: { prompt: `sse cancel ${uniq("core")} [delay=3000]` }, task: {} } },
      any,
    );
    const cancelled = await client.request({ method: "tasks/cancel", params: { taskId: slow.task.taskId } }, any);
    assertOfficial("CancelTaskResult", cancelled);
    assertParses(v1.CancelTaskResultV1Schema, cancelled, "CancelTaskResult");
    assert.equal(cancelled.status, "cancelled");
  });
});
