// Streamable HTTP to spec across revisions: version headers, batches, GET/DELETE, Origin,
// progress over an SSE-framed response, and the 2026-07-28 stateless revision.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { callTool, uniq, TOOL_NAMES } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const MODERN = "2026-07-28";
const META_VERSION = "io.modelcontextprotocol/protocolVersion";
const META_CAPS = "io.modelcontextprotocol/clientCapabilities";

/** A 2026-07-28 request: version and capabilities in _meta, plus the MCP headers. */
function modern(method, params = {}, { version = MODERN, headers = {} } = {}) {
  const body = {
    jsonrpc: "2.0",
    id: Math.floor(Math.random() * 1e9),
    method,
    params: { ...params, _meta: { [META_VERSION]: version, [META_CAPS]: {} } },
  };
  const hdrs = { "MCP-Protocol-Version": version, "Mcp-Method": method, ...headers };
  if (method === "tools/call" && !("Mcp-Name" in headers)) hdrs["Mcp-Name"] = params.name;
  return { body, headers: hdrs };
}

describe("transport and protocol revisions", () => {
  const h = useHarness();

  it("an unsupported MCP-Protocol-Version header gets 400; a supported one or none is served", async () => {
    const ping = { jsonrpc: "2.0", id: 1, method: "ping" };
    const bad = await h.rpc(ping, { headers: { "MCP-Protocol-Version": "1999-01-01" } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /1999-01-01/);
    for (const version of ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]) {
      const ok = await h.rpc(ping, { headers: { "MCP-Protocol-Version": version } });
      assert.equal(ok.status, 200, `${version}: ${ok.text}`);
      assert.deepEqual(ok.json.result, {}, `${version}: ping must answer {}`);
    }
    const none = await h.rpc(ping);
    assert.equal(none.status, 200);
  });

  it("requests are served without a prior initialize (another isolate may have seen it)", async () => {
    const r = await h.rpc({ jsonrpc: "2.0", id: 5, method: "tools/list" }, { headers: { "MCP-Protocol-Version": "2025-11-25" } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.result.tools.map((t) => t.name), TOOL_NAMES);
  });

  it("batches are answered for 2025-03-26 (and with no header) and refused with -32600 for later revisions", async () => {
    const batch = [
      { jsonrpc: "2.0", id: "a", method: "ping" },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: "b", method: "tools/list" },
    ];
    for (const headers of [{}, { "MCP-Protocol-Version": "2025-03-26" }]) {
      const r = await h.rpc(batch, { headers });
      assert.equal(r.status, 200, r.text);
      assert.ok(Array.isArray(r.json), `a batch gets an array of responses: ${r.text}`);
      assert.deepEqual(r.json.map((x) => x.id), ["a", "b"], "one response per request, none for the notification");
    }
    const onlyNotes = await h.rpc([{ jsonrpc: "2.0", method: "notifications/initialized" }]);
    assert.equal(onlyNotes.status, 202);
    for (const version of ["2025-06-18", "2025-11-25"]) {
      const r = await h.rpc(batch, { headers: { "MCP-Protocol-Version": version } });
      assert.equal(r.status, 400, `${version}: ${r.text}`);
      assert.equal(r.json.error.code, -32600);
      assert.equal(r.json.id, null);
    }
    // An unknown version is refused before its batch is read, even one that sorts before 2025-03-26.
    for (const version of ["1999-01-01", "0"]) {
      const r = await h.rpc(batch, { headers: { "MCP-Protocol-Version": version } });
      assert.equal(r.status, 400, `${version}: ${r.text}`);
      assert.match(r.json.error.message, /unsupported MCP-Protocol-Version/);
    }
  });

  it("a JSON-RPC POST to /sse itself is served as Streamable HTTP (the original's route)", async () => {
    const res = await fetch(new URL("/sse", h.url), {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${h.token}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/list" }),
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.result.tools.map((t) => t.name), TOOL_NAMES);
  });

  it("GET and DELETE /mcp are 405 with Allow: POST, and no session id is ever minted", async () => {
    for (const method of ["GET", "DELETE"]) {
      const res = await fetch(new URL("/mcp", h.url), {
        method,
        headers: { Authorization: `Bearer ${h.token}`, Accept: "text/event-stream" },
      });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get("allow"), "POST");
    }
    const init = await h.rpc({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    assert.equal(init.headers.get("mcp-session-id"), null);
  });

  it("a disallowed browser Origin gets 403; loopback origins and requests without Origin pass", async () => {
    const ping = { jsonrpc: "2.0", id: 1, method: "ping" };
    const evil = await h.rpc(ping, { headers: { Origin: "http://evil.example.com" } });
    assert.equal(evil.status, 403, evil.text);
    const local = await h.rpc(ping, { headers: { Origin: "http://localhost:6274" } });
    assert.equal(local.status, 200, local.text);
    const none = await h.rpc(ping);
    assert.equal(none.status, 200);
    const sse = await fetch(new URL("/sse", h.url), {
      headers: { Authorization: `Bearer ${h.token}`, Origin: "https://attacker.example" },
    });
    assert.equal(sse.status, 403, "the SSE stream checks Origin too");
  });

  it("auth failures carry WWW-Authenticate: Bearer naming the endpoint's protected-resource document", async () => {
    const r = await h.rpc({ jsonrpc: "2.0", id: 1, method: "ping" }, { token: null });
    assert.equal(r.status, 401);
    const challenge = r.headers.get("www-authenticate") ?? "";
    assert.match(challenge, /^Bearer /);
    const metadataUrl = new URL("/.well-known/oauth-protected-resource/mcp", h.url).href;
    assert.ok(challenge.includes(`resource_metadata="${metadataUrl}"`), challenge);
    const document = await fetch(metadataUrl);
    assert.equal(document.status, 200);
    assert.equal((await document.json()).resource, new URL("/mcp", h.url).href);
  });

  it("with a progressToken and Accept: text/event-stream, a wait streams progress notifications then the result", async () => {
    const client = await h.mcpClient();
    const progress = [];
    const result = await client.callTool(
      { name: "generate_image_and_wait", arguments: { prompt: `${uniq("progress")} [delay=200] three foxes`, count: 3 } },
      undefined,
      { onprogress: (p) => progress.push(p), timeout: 60000 },
    );
    assert.ok(!result.isError, JSON.stringify(result));
    assert.equal(result.structuredContent.count, 3);
    assert.ok(progress.length >= 1, "at least one progress notification must arrive before the result");
    for (const p of progress) assert.equal(p.total, 3, JSON.stringify(p));
    const values = progress.map((p) => p.progress);
    assert.deepEqual([...values].sort((a, b) => a - b), values, `progress must not go backwards: ${values}`);
  });

  it("the SSE-framed response has event: message frames and no id: fields", async () => {
    const r = await h.rpc(
      {
        jsonrpc: "2.0",
        id: 77,
        method: "tools/call",
        params: { name: "generate_image_and_wait", arguments: { prompt: `${uniq("frames")} [delay=100] a kite` }, _meta: { progressToken: "tok-1" } },
      },
      { headers: { Accept: "application/json, text/event-stream" } },
    );
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /text\/event-stream/);
    const events = r.text.split("\n\n").filter((e) => e.trim());
    assert.ok(events.length >= 2, `expected progress then result, got: ${r.text}`);
    for (const event of events) {
      assert.match(event, /^event: message\ndata: /, event);
      assert.doesNotMatch(event, /^id:/m, "no resumability ids in a stateless server");
    }
    const messages = events.map((e) => JSON.parse(e.slice(e.indexOf("data: ") + 6)));
    assert.equal(messages.at(-1).id, 77, "the last event is the response");
    assert.ok(messages.slice(0, -1).every((m) => m.method === "notifications/progress" && m.params.progressToken === "tok-1"));
  });

  it("without an event-stream Accept the same call is a plain JSON response", async () => {
    const r = await h.rpc(
      {
        jsonrpc: "2.0",
        id: 78,
        method: "tools/call",
        params: { name: "list_jobs", arguments: {}, _meta: { progressToken: "tok-2" } },
      },
      { headers: { Accept: "application/json" } },
    );
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /application\/json/);
    assert.equal(r.json.id, 78);
  });

  describe("2026-07-28 (stateless revision)", () => {
    it("server/discover answers supported versions, capabilities and cache hints", async () => {
      const { body, headers } = modern("server/discover");
      const r = await h.rpc(body, { headers });
      assert.equal(r.status, 200, r.text);
      const result = r.json.result;
      assert.equal(result.resultType, "complete");
      assert.ok(result.supportedVersions.includes(MODERN));
      assert.deepEqual(result.capabilities, {
        tools: {},
        resources: {},
        prompts: {},
        extensions: { "io.modelcontextprotocol/tasks": {} },
      });
      assert.equal(typeof result.ttlMs, "number");
      assert.ok(["public", "private"].includes(result.cacheScope));
      assert.equal(result._meta["io.modelcontextprotocol/serverInfo"].name, "mcp-image-generator");
    });

    it("tools/list and tools/call work without initialize and carry resultType", async () => {
      const list = modern("tools/list");
      const listed = await h.rpc(list.body, { headers: list.headers });
      assert.equal(listed.status, 200, listed.text);
      assert.equal(listed.json.result.resultType, "complete");
      assert.equal(typeof listed.json.result.ttlMs, "number");
      assert.deepEqual(listed.json.result.tools.map((t) => t.name), TOOL_NAMES);
      const call = modern("tools/call", { name: "generate_image_and_wait", arguments: { prompt: `${uniq("modern")} a heron` } });
      const called = await h.rpc(call.body, { headers: call.headers });
      assert.equal(called.status, 200, called.text);
      assert.equal(called.json.result.resultType, "complete");
      assert.equal(called.json.result.structuredContent.status, "completed", called.text);
    });

    it("header disagreements are 400 with -32020; missing _meta capabilities is 400 with -32602", async () => {
      const mismatch = modern("tools/list", {}, { headers: { "Mcp-Method": "tools/call" } });
      let r = await h.rpc(mismatch.body, { headers: mismatch.headers });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.code, -32020);
      const call = modern("tools/call", { name: "list_jobs", arguments: {} }, { headers: { "Mcp-Name": "get_job_status" } });
      r = await h.rpc(call.body, { headers: call.headers });
      assert.equal(r.json.error.code, -32020, r.text);
      const encoded = modern("tools/call", { name: "list_jobs", arguments: {} }, {
        headers: { "Mcp-Name": `=?base64?${Buffer.from("list_jobs").toString("base64")}?=` },
      });
      r = await h.rpc(encoded.body, { headers: encoded.headers });
      assert.equal(r.status, 200, `a base64-encoded Mcp-Name is decoded: ${r.text}`);
      const noCaps = modern("tools/list");
      delete noCaps.body.params._meta[META_CAPS];
      r = await h.rpc(noCaps.body, { headers: noCaps.headers });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, -32602);
    });

    it("an unsupported modern version is 400 with -32022 listing what is supported", async () => {
      const { body, headers } = modern("server/discover", {}, { version: "2099-01-01" });
      const r = await h.rpc(body, { headers });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.code, -32022);
      assert.equal(r.json.error.data.requested, "2099-01-01");
      assert.ok(r.json.error.data.supported.includes(MODERN));
      assert.ok(r.json.error.data.supported.includes("2025-11-25"));
    });

    it("methods the revision removed (initialize, ping) are 404 with -32601; unknown tools are -32602", async () => {
      for (const method of ["initialize", "ping"]) {
        const { body, headers } = modern(method);
        const r = await h.rpc(body, { headers });
        assert.equal(r.status, 404, `${method}: ${r.text}`);
        assert.equal(r.json.error.code, -32601);
      }
      const { body, headers } = modern("tools/call", { name: "no_such_tool", arguments: {} });
      const r = await h.rpc(body, { headers });
      assert.equal(r.json.error.code, -32602, r.text);
    });

    it("a legacy server/discover without modern _meta gets -32601, so dual-era clients fall back", async () => {
      const r = await h.rpc({ jsonrpc: "2.0", id: 9, method: "server/discover", params: {} });
      assert.equal(r.json.error.code, -32601);
    });
  });

  it("the wait tools still work through the official client after all of the above", async () => {
    const client = await h.mcpClient();
    const { result, data } = await callTool(client, "generate_image_and_wait", { prompt: `${uniq("after")} a lighthouse` });
    assert.ok(!result.isError, JSON.stringify(data));
  });
});
