// MCP Inspector 2.12.0 CLI (`mcp-inspector --cli`, TS SDK v2 client) against the built
// worker: tools/list and tools/call generate_image_and_wait over Streamable HTTP (default
// era = legacy initialize, --protocol-era auto = server/discover probe, --protocol-era
// modern = 2026-07-28 only) and over HTTP+SSE. The Inspector sends the bearer token itself
// (--header); each run goes through its own transparent recording proxy (./proxy.mjs,
// nothing injected) so the test can see which protocol era was spoken on the wire.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, TOOL_NAMES, uniq } from "../e2e/harness.mjs";
import { startProxy } from "./proxy.mjs";
import { requireInstalled, run, lastJson, describeRun, fetchRealImage, tempHome, INSPECTOR_BIN } from "./lib.mjs";

const MODERN = "2026-07-28";
const LEGACY = "2025-11-25";

const MODES = [
  { name: "http (default era: legacy)", transport: "http", path: "/mcp", era: null, expect: "legacy" },
  { name: "http --protocol-era auto", transport: "http", path: "/mcp", era: "auto", expect: "modern" },
  { name: "http --protocol-era modern", transport: "http", path: "/mcp", era: "modern", expect: "modern" },
  { name: "sse (default era: legacy)", transport: "sse", path: "/sse", era: null, expect: "sse" },
];

describe("MCP Inspector CLI (@modelcontextprotocol/inspector@2.12.0)", { concurrency: true }, () => {
  let h;
  before(async () => {
    requireInstalled();
    h = await startHarness();
  });
  after(async () => {
    await h?.dispose();
  });

  /** One Inspector run through a fresh recording proxy; calls `inspect(out, wire, proxy)` before the proxy closes. */
  async function inspector(label, mode, methodArgs, inspect) {
    const proxy = await startProxy({ target: h.origin });
    const home = tempHome();
    try {
      const args = [
        INSPECTOR_BIN,
        "--cli",
        "--server-url",
        proxy.url(mode.path),
        "--transport",
        mode.transport,
        "--header",
        `Authorization: Bearer ${h.token}`,
        ...(mode.era ? ["--protocol-era", mode.era] : []),
        "--format",
        "json",
        "--connect-timeout",
        "30000",
        ...methodArgs,
      ];
      const r = await run(process.execPath, args, { env: { HOME: home.dir }, timeout: 120000 });
      const why = () => `${describeRun(label, r)}\n--- wire\n${JSON.stringify(proxy.log, null, 1)}\n--- worker log\n${h.logText(20)}`;
      assert.equal(r.code, 0, why());
      const out = lastJson(label, r);
      assert.ok(out.result, why());
      checkWire(mode, proxy.log, why);
      await inspect(out.result, proxy.log, proxy);
      return r;
    } finally {
      await proxy.close();
      home.cleanup();
    }
  }

  function checkWire(mode, wire, why) {
    const rpcs = wire.filter((x) => x.rpc).map((x) => x.rpc);
    for (const x of wire) assert.ok(x.status < 300 || (x.method === "GET" && x.status === 405), `HTTP error on the wire: ${JSON.stringify(x)}\n${why()}`);
    if (mode.expect === "modern") {
      assert.equal(rpcs[0], "server/discover", `first request is the discover probe\n${why()}`);
      assert.ok(!rpcs.includes("initialize"), `no initialize in the modern era\n${why()}`);
      for (const x of wire) {
        assert.equal(x.method, "POST", JSON.stringify(x));
        assert.equal(x.protocolHeader, MODERN, JSON.stringify(x));
        assert.equal(x.metaProtocolVersion, MODERN, JSON.stringify(x));
        assert.equal(x.mcpMethod, x.rpc, `Mcp-Method header matches the body: ${JSON.stringify(x)}`);
      }
    } else if (mode.expect === "legacy") {
      assert.equal(rpcs[0], "initialize", why());
      assert.ok(!rpcs.includes("server/discover"), why());
      for (const x of wire.filter((w) => w.rpc && w.rpc !== "initialize")) assert.equal(x.protocolHeader, LEGACY, JSON.stringify(x));
    } else {
      assert.equal(wire[0].method, "GET", why());
      assert.equal(wire[0].path, "/sse", why());
      assert.equal(rpcs[0], "initialize", why());
      for (const x of wire.slice(1)) assert.match(x.path, /^\/sse\/message\?sessionId=/, JSON.stringify(x));
    }
  }

  for (const mode of MODES) {
    it(`${mode.name}: tools/list`, async (t) => {
      const r = await inspector(`inspector ${mode.name} tools/list`, mode, ["--method", "tools/list"], (result) => {
        assert.deepEqual(result.tools.map((x) => x.name), TOOL_NAMES);
        for (const tool of result.tools) {
          assert.ok(tool.description, `${tool.name} has a description`);
          assert.equal(tool.inputSchema?.type, "object");
        }
      });
      t.diagnostic(`${r.ms} ms`);
    });

    it(`${mode.name}: tools/call generate_image_and_wait`, async (t) => {
      const prompt = `a red fox in the snow ${uniq("insp")}`;
      const args = ["--method", "tools/call", "--tool-name", "generate_image_and_wait", "--tool-args-json", JSON.stringify({ prompt })];
      const r = await inspector(`inspector ${mode.name} tools/call`, mode, args, async (result, wire, proxy) => {
        assert.ok(!result.isError, JSON.stringify(result));
        const data = JSON.parse(result.content[0].text);
        assert.equal(data.success, true, JSON.stringify(data));
        assert.equal(data.status, "completed");
        assert.equal(data.prompt, prompt);
        assert.deepEqual(result.structuredContent, data);
        assert.ok(wire.some((x) => x.rpc === "tools/call"));
        // The worker builds image URLs from the request's Host, here the proxy's.
        assert.equal(new URL(data.image_url).origin, proxy.origin);
        assert.equal((await fetchRealImage(data.image_url)).format, "jpeg");
        if (mode.expect === "modern") {
          assert.equal(result._meta?.["io.modelcontextprotocol/serverInfo"]?.name, "mcp-image-generator", "2026 results carry serverInfo");
        }
      });
      t.diagnostic(`${r.ms} ms`);
    });
  }
});
