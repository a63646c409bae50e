// Prompt templates (issue 22): prompts/list and prompts/get in every revision, through the
// official SDK's listPrompts/getPrompt on both transports and on the raw 2026-07-28 wire: the
// prompts capability is advertised (initialize and server/discover), the list is paged with an
// opaque cursor and carries ttlMs/cacheScope at 2026-07-28, prompts/get needs Mcp-Name there, and
// each template leads the assistant to a tool, a model the server has and controls it takes —
// which this file proves by following one template's message to a finished image.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { callTool, uniq, TOOL_NAMES } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";
import { sdkSseClient } from "./support/sse.mjs";

const MODERN = "2026-07-28";
const META_VERSION = "io.modelcontextprotocol/protocolVersion";
const META_CAPS = "io.modelcontextprotocol/clientCapabilities";
const NAMES = ["product_shot", "logo", "app_icon", "portrait", "isometric_illustration", "sticker", "wallpaper"];

function modern(method, params = {}, headers = {}) {
  const body = { jsonrpc: "2.0", id: 7, method, params: { ...params, _meta: { [META_VERSION]: MODERN, [META_CAPS]: {} } } };
  const hdrs = { "MCP-Protocol-Version": MODERN, "Mcp-Method": method, ...headers };
  if (method === "prompts/get" && !("Mcp-Name" in headers)) hdrs["Mcp-Name"] = params.name;
  return { body, headers: hdrs };
}

/** Every prompt, page by page, through an SDK client: [{ prompts, nextCursor }]. */
async function allPages(client) {
  const pages = [];
  let cursor;
  do {
    const page = await client.listPrompts(cursor === undefined ? {} : { cursor });
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return pages;
}

describe("prompts", () => {
  let client;
  let sse;
  let models;
  const h = useHarness({}, { teardown: () => sse?.close().catch(() => {}) });
  before(async () => {
    client = await h.mcpClient();
    sse = await sdkSseClient(h);
    models = (await callTool(client, "list_models")).data.models;
  });

  it("advertises the prompts capability and lists seven templates on two pages, on both transports", async () => {
    assert.deepEqual(client.getServerCapabilities().prompts, { listChanged: false });
    assert.deepEqual(sse.getServerCapabilities().prompts, { listChanged: false });
    for (const c of [client, sse]) {
      const pages = await allPages(c);
      assert.equal(pages.length, 2, "five a page");
      const prompts = pages.flatMap((p) => p.prompts);
      assert.deepEqual(prompts.map((p) => p.name), NAMES);
      for (const prompt of prompts) {
        assert.ok(prompt.description && prompt.arguments.some((a) => a.required), prompt.name);
      }
    }
    const logo = (await client.listPrompts()).prompts.find((p) => p.name === "logo");
    assert.equal(logo.title, "Logo");
    assert.deepEqual(logo.arguments.map((a) => [a.name, a.required]), [["brand", true], ["style", false]]);
    await assert.rejects(client.listPrompts({ cursor: "not-a-cursor" }), (err) => err instanceof McpError && err.code === -32602);
  });

  it("getPrompt renders a message naming a tool, a model and controls the server has", async () => {
    const toolNames = new Set(TOOL_NAMES);
    const modelNames = new Set(models.map((m) => m.name));
    for (const [c, name, args] of [
      [client, "product_shot", { product: "a matte black ceramic mug" }],
      [sse, "logo", { brand: "Northwind", style: "hand-drawn ink" }],
      [client, "wallpaper", { scene: "misty pine forest", device: "phone" }],
      [sse, "sticker", { subject: "a happy avocado", text: "Hola" }],
    ]) {
      const result = await c.getPrompt({ name, arguments: args });
      assert.equal(result.messages.length, 1);
      const [message] = result.messages;
      assert.equal(message.role, "user");
      assert.equal(message.content.type, "text");
      const text = message.content.text;
      for (const value of Object.values(args)) assert.ok(text.includes(value), `${name}: ${value} in ${text}`);
      const tool = /the (\w+) tool/.exec(text)[1];
      assert.ok(toolNames.has(tool), `${name}: ${tool} is a tool`);
      const model = /model "([^"]+)"/.exec(text)[1];
      assert.ok(modelNames.has(model), `${name}: ${model} is a model`);
      const ratio = /aspect_ratio "([^"]+)"/.exec(text)[1];
      assert.ok(models.find((m) => m.name === model).aspect_ratios.includes(ratio), `${model} takes ${ratio}`);
    }
    const phone = await client.getPrompt({ name: "wallpaper", arguments: { scene: "dunes", device: "phone" } });
    assert.match(phone.messages[0].content.text, /aspect_ratio "9:16"/);
  });

  it("a template's message leads to a finished image with those controls", async () => {
    const { messages } = await client.getPrompt({ name: "logo", arguments: { brand: uniq("Acme") } });
    const text = messages[0].content.text;
    const model = /model "([^"]+)"/.exec(text)[1];
    const aspect = /aspect_ratio "([^"]+)"/.exec(text)[1];
    const prompt = /with this prompt:\n\n([^\n]+)\n/.exec(text)[1];
    const { data } = await callTool(client, /the (\w+) tool/.exec(text)[1], { model, aspect_ratio: aspect, prompt: prompt.slice(0, 1000) });
    assert.equal(data.status, "completed", JSON.stringify(data));
    assert.equal(data.model, model);
    assert.equal(data.width, data.height, "1:1");
  });

  it("refuses unknown templates, missing or unknown arguments with -32602", async () => {
    for (const request of [
      { name: "nope" },
      { name: "logo" },
      { name: "logo", arguments: { brand: "" } },
      { name: "logo", arguments: { brand: "A", colour: "red" } },
      { name: "logo", arguments: { brand: "x".repeat(501) } },
    ]) {
      await assert.rejects(
        client.getPrompt(request),
        (err) => err instanceof McpError && err.code === -32602 && err.message.length < 400,
        JSON.stringify(request).slice(0, 100),
      );
    }
  });

  it("2026-07-28: discover lists the capability, the list carries cache hints, prompts/get needs Mcp-Name", async () => {
    const discover = modern("server/discover");
    const found = await h.rpc(discover.body, { headers: discover.headers });
    assert.deepEqual(found.json.result.capabilities.prompts, {});
    const list = modern("prompts/list");
    const first = await h.rpc(list.body, { headers: list.headers });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.result.resultType, "complete");
    assert.equal(first.json.result.cacheScope, "public");
    assert.equal(typeof first.json.result.ttlMs, "number");
    assert.equal(first.json.result.prompts.length, 5);
    assert.equal(first.json.result.prompts[0].title, "Product shot");
    const next = modern("prompts/list", { cursor: first.json.result.nextCursor });
    const second = await h.rpc(next.body, { headers: next.headers });
    assert.deepEqual(second.json.result.prompts.map((p) => p.name), NAMES.slice(5));
    assert.equal(second.json.result.nextCursor, undefined);

    const get = modern("prompts/get", { name: "portrait", arguments: { subject: "a lighthouse keeper" } });
    const got = await h.rpc(get.body, { headers: get.headers });
    assert.equal(got.status, 200, got.text);
    assert.equal(got.json.result.resultType, "complete");
    assert.match(got.json.result.messages[0].content.text, /a lighthouse keeper/);
    const mismatch = modern("prompts/get", { name: "portrait", arguments: { subject: "x" } }, { "Mcp-Name": "logo" });
    const refused = await h.rpc(mismatch.body, { headers: mismatch.headers });
    assert.equal(refused.json.error.code, -32020, refused.text);
  });

  it("the discovery page lists every template", async () => {
    const html = await (await h.fetch("/")).text();
    assert.match(html, /<h2>Prompts<\/h2>/);
    for (const name of NAMES) assert.ok(html.includes(`<code>${name}</code>`), name);
  });
});
