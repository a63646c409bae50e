// The MCP Apps surface of the real worker, read by the official v2 SDK client
// (@modelcontextprotocol/client) and checked with ext-apps' own host helpers and zod schemas:
// tools that show images name the viewer in `_meta.ui.resourceUri`, every tool and the server
// carry light and dark SVG `data:` icons, tools/list does not depend on who asks, and
// resources/read serves the viewer as one HTML document whose `_meta.ui.csp.resourceDomains`
// names where the images are (this origin, or PUBLIC_IMAGE_BASE_URL's). The browser test
// (tests/browser/viewer.test.mjs) runs the viewer itself.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import {
  getToolUiResourceUri,
  McpUiResourceMetaSchema,
  McpUiToolMetaSchema,
  RESOURCE_MIME_TYPE,
} from "@modelcontextprotocol/ext-apps/app-bridge";
import { ROOT, callTool, uniq } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const VIEWER_URI = "ui://mcp-image-generator/viewer.html";
/**
 * Tools whose results the viewer shows: issue 21's list plus generate_image (its jobs); a later
 * tool that makes images joins them through its declaration, so this is checked as a subset.
 */
const SHOWS_IMAGES = [
  "generate_image",
  "get_job_status",
  "list_generations",
  "wait_for_completion",
  "generate_image_and_wait",
  "edit_image",
  "generate_variations",
];
/** Tools whose results hold no images: they never name the viewer. */
const NO_IMAGES = ["list_jobs", "list_models", "get_usage"];
const MODERN = "2026-07-28";
const META_VERSION = "io.modelcontextprotocol/protocolVersion";
const META_CAPS = "io.modelcontextprotocol/clientCapabilities";
const META_SERVER_INFO = "io.modelcontextprotocol/serverInfo";

async function v2Client(h) {
  const client = new Client({ name: "e2e-apps-host", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL("/mcp", h.origin), {
      requestInit: { headers: { Authorization: `Bearer ${h.token}` } },
    }),
  );
  return client;
}

/** Light then dark SVG data: icons, each decoding to an <svg> document. */
function assertIcons(icons, what) {
  assert.ok(Array.isArray(icons), `${what}: no icons`);
  assert.deepEqual(
    icons.map((icon) => icon.theme),
    ["light", "dark"],
    what,
  );
  for (const icon of icons) {
    assert.equal(icon.mimeType, "image/svg+xml", what);
    assert.deepEqual(icon.sizes, ["any"], what);
    const prefix = "data:image/svg+xml;base64,";
    assert.ok(icon.src.startsWith(prefix), `${what}: ${icon.src.slice(0, 40)}`);
    const svg = Buffer.from(icon.src.slice(prefix.length), "base64").toString("utf8");
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>$/s, what);
  }
}

function assertViewerContents(contents, origins) {
  assert.equal(contents.length, 1);
  const [viewer] = contents;
  assert.equal(viewer.uri, VIEWER_URI);
  assert.equal(viewer.mimeType, RESOURCE_MIME_TYPE);
  assert.match(viewer.text, /^<!doctype html>/);
  assert.doesNotMatch(viewer.text, /<script[^>]+src=|<link[^>]+href=|@import/i, "the viewer loads nothing from elsewhere");
  const ui = McpUiResourceMetaSchema.parse(viewer._meta.ui);
  assert.deepEqual(ui.csp.resourceDomains, origins);
  assert.equal(ui.csp.connectDomains, undefined, "the viewer makes no requests of its own");
  return viewer;
}

describe("viewer and icons on the worker's own origin", () => {
  const h = useHarness();
  let client;
  before(async () => {
    client = await v2Client(h);
  });
  after(async () => {
    await client?.close();
  });

  it("tools/list: the tools that show images name the viewer; every tool has light and dark SVG icons", async () => {
    const { tools } = await client.listTools();
    const named = tools.filter((tool) => getToolUiResourceUri(tool) !== undefined).map((tool) => tool.name);
    for (const name of SHOWS_IMAGES) assert.ok(named.includes(name), `${name} does not name the viewer: ${named}`);
    for (const name of NO_IMAGES) assert.ok(!named.includes(name), `${name} names the viewer`);
    for (const tool of tools) {
      if (tool._meta?.ui) assert.deepEqual(McpUiToolMetaSchema.parse(tool._meta.ui), { resourceUri: VIEWER_URI });
      if (SHOWS_IMAGES.includes(tool.name)) assert.equal(getToolUiResourceUri(tool), VIEWER_URI);
      assertIcons(tool.icons, tool.name);
    }
    assertIcons(client.getServerVersion().icons, "serverInfo");
  });

  it("tools/list is the same whatever origin or revision asks (it stays cacheable)", async () => {
    const body = { jsonrpc: "2.0", id: 1, method: "tools/list" };
    const headers = { "MCP-Protocol-Version": "2025-11-25" };
    const a = await h.rpc(body, { headers: { ...headers, Origin: "http://127.0.0.1:5173" } });
    const b = await h.rpc(body, { headers: { ...headers, Origin: "http://localhost:9999" } });
    assert.equal(a.status, 200);
    assert.deepEqual(a.json.result, b.json.result);
    assert.deepEqual(a.json.result.tools, (await client.listTools()).tools);
    // 2025-06-18 has Tool._meta but no icons; 2025-03-26 neither.
    const june = await h.rpc(body, { headers: { "MCP-Protocol-Version": "2025-06-18" } });
    for (const tool of june.json.result.tools) {
      assert.equal(tool.icons, undefined, tool.name);
      if (SHOWS_IMAGES.includes(tool.name)) assert.equal(getToolUiResourceUri(tool), VIEWER_URI, tool.name);
      if (NO_IMAGES.includes(tool.name)) assert.equal(getToolUiResourceUri(tool), undefined, tool.name);
    }
    const march = await h.rpc(body, { headers: { "MCP-Protocol-Version": "2025-03-26" } });
    for (const tool of march.json.result.tools) assert.ok(!("_meta" in tool) && !("icons" in tool), tool.name);
  });

  it("resources/read serves the viewer: one HTML document whose CSP names this origin, where the images are", async () => {
    const { contents } = await client.readResource({ uri: VIEWER_URI });
    const viewer = assertViewerContents(contents, [h.origin]);
    assert.ok(viewer.text.includes(`"galleryImageUrl":"${h.origin}/gallery/image/"`), "Open links to this gallery");
    const { data } = await callTool(client, "generate_image_and_wait", { prompt: uniq("viewer csp"), preview: false });
    assert.equal(data.success, true, JSON.stringify(data));
    for (const url of [data.image_url, data.thumbnail_url].filter(Boolean)) {
      assert.ok(viewer._meta.ui.csp.resourceDomains.includes(new URL(url).origin), url);
    }
  });

  it("2026-07-28: the viewer is read with Mcp-Name, and serverInfo in _meta carries the icons", async () => {
    const params = { uri: VIEWER_URI, _meta: { [META_VERSION]: MODERN, [META_CAPS]: {} } };
    const response = await h.rpc(
      { jsonrpc: "2.0", id: 2, method: "resources/read", params },
      { headers: { "MCP-Protocol-Version": MODERN, "Mcp-Method": "resources/read", "Mcp-Name": VIEWER_URI } },
    );
    assert.equal(response.status, 200, JSON.stringify(response.json));
    const { result } = response.json;
    assert.equal(result.resultType, "complete");
    assertViewerContents(result.contents, [h.origin]);
    assertIcons(result._meta[META_SERVER_INFO].icons, "2026-07-28 serverInfo");
  });

  it("the vendored ext-apps schema the Rust wire tests use is the installed package's", () => {
    const vendored = readFileSync(path.join(ROOT, "tests/schema/ext-apps/schema.json"));
    const installed = readFileSync(
      path.join(ROOT, "node_modules/@modelcontextprotocol/ext-apps/dist/src/generated/schema.json"),
    );
    assert.ok(vendored.equals(installed), "tests/schema/ext-apps/schema.json differs from the npm package's: copy it again");
  });
});

describe("viewer with PUBLIC_IMAGE_BASE_URL", () => {
  const PUBLIC_BASE = "https://images.example.com/bucket";
  const h = useHarness({ vars: { PUBLIC_IMAGE_BASE_URL: PUBLIC_BASE } });

  it("the CSP names the public bucket's origin beside this one, and finished images are under it", async () => {
    const client = await v2Client(h);
    try {
      const { contents } = await client.readResource({ uri: VIEWER_URI });
      assertViewerContents(contents, [h.origin, "https://images.example.com"]);
      const { data } = await callTool(client, "generate_image_and_wait", { prompt: uniq("public csp"), preview: false });
      assert.equal(data.success, true, JSON.stringify(data));
      assert.equal(new URL(data.image_url).origin, "https://images.example.com");
    } finally {
      await client.close();
    }
  });
});
