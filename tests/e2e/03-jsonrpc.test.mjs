// JSON-RPC 2.0 over POST /mcp: initialize/version negotiation, ping,
// notifications, and the protocol error codes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SERVER_NAME, SERVER_VERSION, uniq, sleep, TOOL_NAMES, ORIGINAL_TOOL_NAMES } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const SUPPORTED = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
const LATEST = "2025-11-25";

function initialize(protocolVersion, id = 1) {
  return {
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: { protocolVersion, capabilities: {}, clientInfo: { name: "e2e-raw", version: "0.0.1" } },
  };
}

describe("JSON-RPC over POST /mcp", () => {
  const h = useHarness();

  for (const version of SUPPORTED) {
    it(`initialize with supported protocolVersion ${version} gets that version back`, async () => {
      const r = await h.rpc(initialize(version));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json?.jsonrpc, "2.0");
      assert.equal(r.json?.id, 1);
      assert.equal(r.json?.result?.protocolVersion, version, JSON.stringify(r.json));
    });
  }

  it("initialize with an unknown protocolVersion gets the latest supported one", async () => {
    for (const v of ["1999-01-01", "2099-12-31"]) {
      const r = await h.rpc(initialize(v));
      assert.equal(r.json?.result?.protocolVersion, LATEST, `client asked ${v}: ${r.text}`);
    }
  });

  it("initialize reports serverInfo {name: mcp-image-generator, version: 3.0.0} and a tools capability", async () => {
    const r = await h.rpc(initialize(LATEST, "init-str-id"));
    assert.equal(r.json?.id, "init-str-id", "string ids must be echoed");
    const result = r.json?.result;
    assert.equal(result?.serverInfo?.name, SERVER_NAME);
    assert.equal(result?.serverInfo?.version, SERVER_VERSION);
    assert.equal(typeof result?.capabilities?.tools, "object", `capabilities: ${JSON.stringify(result?.capabilities)}`);
  });

  it("ping answers an empty result object", async () => {
    const r = await h.rpc({ jsonrpc: "2.0", id: 42, method: "ping" });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { jsonrpc: "2.0", id: 42, result: {} });
  });

  it("notifications (no id) get HTTP 202 with no body", async () => {
    for (const method of ["notifications/initialized", "notifications/cancelled", "notifications/some-unknown-thing"]) {
      const r = await h.rpc({ jsonrpc: "2.0", method, params: {} });
      assert.equal(r.status, 202, `${method}: ${r.status} ${r.text}`);
      assert.equal(r.text, "", `${method}: a notification must get no body, got ${r.text}`);
    }
  });

  it("a body that is not JSON gets HTTP 400 with error -32700", async () => {
    for (const body of ["{not json", "", "[1,2", "\u0000"]) {
      const r = await h.rpc(body);
      assert.equal(r.status, 400, `body ${JSON.stringify(body)}: ${r.status} ${r.text}`);
      assert.equal(r.json?.error?.code, -32700, r.text);
      assert.equal(r.json?.id ?? null, null);
    }
  });

  it("jsonrpc missing or not \"2.0\" gets HTTP 400 with error -32600", async () => {
    for (const req of [
      { jsonrpc: "1.0", id: 1, method: "ping" },
      { id: 1, method: "ping" },
      { jsonrpc: 2, id: 1, method: "ping" },
    ]) {
      const r = await h.rpc(req);
      assert.equal(r.status, 400, `${JSON.stringify(req)}: ${r.status} ${r.text}`);
      assert.equal(r.json?.error?.code, -32600, r.text);
    }
  });

  it("an unknown method gets error -32601 naming the method", async () => {
    const r = await h.rpc({ jsonrpc: "2.0", id: 3, method: "resources/frobnicate" });
    assert.equal(r.json?.id, 3);
    assert.equal(r.json?.error?.code, -32601, r.text);
    assert.match(r.json?.error?.message ?? "", /resources\/frobnicate/);
  });

  it("tools/call without params.name gets error -32602", async () => {
    for (const params of [{}, { arguments: { prompt: "a cat" } }, undefined]) {
      const r = await h.rpc({ jsonrpc: "2.0", id: 4, method: "tools/call", params });
      assert.equal(r.json?.error?.code, -32602, `params ${JSON.stringify(params)}: ${r.text}`);
    }
  });

  it("tools/call of an unknown tool is a tool result with isError (not a JSON-RPC error) and creates nothing", async () => {
    const before = await h.count("generation_jobs");
    const r = await h.rawCallTool("generate_video", { prompt: `a dancing cat ${uniq()}` });
    assert.equal(r.response?.error, undefined, `got a JSON-RPC error: ${JSON.stringify(r.response)}`);
    assert.equal(r.result?.isError, true);
    assert.equal(r.data.success, false);
    assert.match(r.data.error, /generate_video|unknown/i);
    await sleep(300);
    assert.equal(await h.count("generation_jobs"), before);
  });

  it("tools/list over raw JSON-RPC lists every tool of the golden file, the original six first", async () => {
    const r = await h.rpc({ jsonrpc: "2.0", id: 5, method: "tools/list" });
    const names = r.json?.result?.tools?.map((t) => t.name);
    assert.deepEqual(names, TOOL_NAMES, r.text.slice(0, 300));
    assert.deepEqual(names.slice(0, ORIGINAL_TOOL_NAMES.length), ORIGINAL_TOOL_NAMES);
  });
});
