// The legacy HTTP+SSE transport on /sse works with the official SDK's SSE
// client (the original's /sse did not implement a working transport).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { callTool, uniq, TOOL_NAMES, SERVER_NAME } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

describe("/sse with the official SDK SSE client", () => {
  let client;
  const h = useHarness({}, { teardown: () => client?.close().catch(() => {}) });

  it("connects with the bearer token and lists every tool", async () => {
    const transport = new SSEClientTransport(new URL("/sse", h.origin), {
      requestInit: { headers: { Authorization: `Bearer ${h.token}` } },
    });
    client = new Client({ name: "e2e-sse", version: "1.0.0" });
    await client.connect(transport);
    assert.equal(client.getServerVersion()?.name, SERVER_NAME);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name), TOOL_NAMES);
  });

  it("runs a tool over SSE: generate_image_and_wait returns the finished image", async () => {
    assert.ok(client, "no SSE client (previous test failed)");
    const prompt = `an sse kite ${uniq()}`;
    const { result, data } = await callTool(client, "generate_image_and_wait", { prompt });
    assert.ok(!result.isError, JSON.stringify(data));
    assert.equal(data.status, "completed");
    assert.equal((await h.fetchImage(data.image_url)).format, "jpeg");
  });

  it("refuses /sse without a token (401) and with a wrong one (401)", async () => {
    const none = await h.fetch("/sse", { headers: { Accept: "text/event-stream" } });
    assert.equal(none.status, 401);
    await none.body?.cancel();
    const wrong = await h.fetch("/sse", { headers: { Accept: "text/event-stream", Authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
  });
});
