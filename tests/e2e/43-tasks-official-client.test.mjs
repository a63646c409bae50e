// The official tasks client, npm @modelcontextprotocol/ext-tasks (createTaskSessionFromClient
// over the SDK's v2 client package @modelcontextprotocol/client), runs generate_image_and_wait
// and edit_image as tasks against 2025-11-25 (core tasks) and 2026-07-28 (the tasks extension,
// with rawDispatch and v2RequestFraming), and settles each to a result with the plain call's
// fields; it also cancels a running task through the session.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createTaskSessionFromClient, resultFromTaskOutcome, toolDeclarationFromMcpTool } from "@modelcontextprotocol/ext-tasks/client";
import { uniq } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";
import { CORE, MODERN } from "./support/tasks.mjs";

const CLIENT_INFO = { name: "e2e-ext-tasks", version: "1.0.0" };

/** The host's raw request path for 2026-07-28 task traffic: one POST per framed request. */
function rawDispatchFor(h) {
  let id = 1000;
  return async (request, options) => {
    const headers = {
      "MCP-Protocol-Version": MODERN,
      "Mcp-Method": request.method,
      ...(options?.context?.headers ?? {}),
    };
    if (request.method === "tools/call") headers["Mcp-Name"] = request.params.name;
    const r = await h.rpc({ jsonrpc: "2.0", id: id++, ...request }, { headers });
    if (!r.json) throw new Error(`no JSON answer (${r.status}): ${r.text.slice(0, 300)}`);
    return r.json.error ? { kind: "error", error: r.json.error } : { kind: "result", result: r.json.result };
  };
}

const FORMS = {
  [CORE]: { clientOptions: {}, session: () => ({}) },
  [MODERN]: {
    clientOptions: { versionNegotiation: { mode: { pin: MODERN } } },
    session: (h) => ({ rawDispatch: rawDispatchFor(h), v2RequestFraming: { protocolVersion: MODERN, clientInfo: CLIENT_INFO, clientCapabilities: {} } }),
  },
};

for (const [revision, form] of Object.entries(FORMS)) {
  describe(`ext-tasks client against ${revision}`, () => {
    let client;
    let session;
    let tools;
    const h = useHarness({}, { teardown: async () => { await session?.close().catch(() => {}); await client?.close().catch(() => {}); } });
    before(async () => {
      client = new Client(CLIENT_INFO, form.clientOptions);
      await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", h.origin), { requestInit: { headers: { Authorization: `Bearer ${h.token}` } } }));
      tools = (await client.listTools()).tools;
      session = createTaskSessionFromClient(client, { endpointId: `e2e-${revision}`, ...form.session(h) });
    });

    const declaration = (name) => toolDeclarationFromMcpTool(tools.find((t) => t.name === name));

    async function runAsTask(name, args) {
      const execution = await session.callTool(name, args, { declaration: declaration(name), task: { preference: "require" } });
      const { outcome, lastTask } = await execution.settle();
      assert.equal(outcome.status, "completed", `${outcome.error?.message} ${outcome.error?.cause?.message ?? ""} ${outcome.error?.cause?.cause?.message ?? ""}`);
      assert.ok(lastTask?.taskId, "it ran as a task");
      return { result: resultFromTaskOutcome(outcome), taskId: lastTask.taskId };
    }

    it("settles generate_image_and_wait to the plain call's fields, then edit_image on its image", async () => {
      const prompt = `ext-tasks ${revision} fox ${uniq("client")} [delay=600]`;
      const { result, taskId } = await runAsTask("generate_image_and_wait", { prompt, model: "flux-schnell" });
      assert.equal(await h.count("tasks", "id = ?", taskId), 1);
      const data = result.structuredContent;
      assert.equal(data.status, "completed");
      assert.equal(data.prompt, prompt);
      await h.fetchImage(data.image_url);
      const plain = await client.callTool({ name: "generate_image_and_wait", arguments: { prompt: `plain ${uniq("client")}`, model: "flux-schnell" } });
      assert.deepEqual(Object.keys(data).sort(), Object.keys(plain.structuredContent).sort());

      const edit = await runAsTask("edit_image", { prompt: `ext-tasks ${revision} edit ${uniq("client")}`, images: [data.job_id] });
      assert.equal(edit.result.structuredContent.status, "completed", JSON.stringify(edit.result.structuredContent));
      assert.equal(edit.result.structuredContent.inputs?.[0]?.source, data.job_id);
      await h.fetchImage(edit.result.structuredContent.image_url);
    });

    it("cancels a running task through the session", async () => {
      const name = "generate_image_and_wait";
      const execution = await session.callTool(name, { prompt: `ext-tasks cancel ${uniq("client")} [delay=3000]` }, { declaration: declaration(name), task: { preference: "require" } });
      let taskId;
      for await (const event of execution.updates()) {
        if (event.type === "task") {
          taskId = event.task.taskId;
          break;
        }
      }
      assert.ok(taskId);
      await session.cancelTask(taskId);
      const { outcome } = await execution.settle();
      assert.equal(outcome.status, "cancelled", JSON.stringify(outcome).slice(0, 500));
      const [row] = await h.query("SELECT job_ids FROM tasks WHERE id = ?", taskId);
      assert.equal((await h.job(JSON.parse(row.job_ids)[0])).status, "cancelled");
    });
  });
}
