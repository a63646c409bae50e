// MCP resources: the stored images as resources/list (newest first, cursor pages),
// resources/templates/list (an image and its thumbnail by job id) and resources/read (the R2
// object's bytes as a base64 blob), over both transports with the official SDK client, plus the
// raw wire: revisions (titles, the 2026-07-28 stateless rules and error code), bad cursors,
// unknown and malformed URIs, missing objects, and authentication.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { callTool, uniq, keyFromWorkerUrl } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

/** Must equal RESOURCE_PAGE_SIZE in src/catalog.rs (checked below against the first page). */
const PAGE_SIZE = 50;
const SEEDED = PAGE_SIZE + 5;
const MODERN = "2026-07-28";
const META_VERSION = "io.modelcontextprotocol/protocolVersion";
const META_CAPS = "io.modelcontextprotocol/clientCapabilities";
const NOT_FOUND_LEGACY = -32002;
/** A named key (API_KEYS): it sees only its own jobs, the administrator's token sees all. */
const ALICE_TOKEN = "alice-resources-token-7f3e9c";
const INVALID_PARAMS = -32602;

const imageUri = (jobId) => `images://jobs/${jobId}`;
const thumbnailUri = (jobId) => `images://jobs/${jobId}/thumbnail`;
/** As urls::thumbnail_key: `<image stem>-thumb.webp` beside the image. */
const thumbnailKey = (imageKey) => `${imageKey.replace(/\.[^.]+$/, "")}-thumb.webp`;

const TRANSPORTS = {
  "Streamable HTTP": (h) =>
    new StreamableHTTPClientTransport(new URL("/mcp", h.origin), {
      requestInit: { headers: { Authorization: `Bearer ${h.token}` } },
    }),
  "legacy SSE": (h) =>
    new SSEClientTransport(new URL("/sse", h.origin), {
      requestInit: { headers: { Authorization: `Bearer ${h.token}` } },
    }),
};

/** A raw JSON-RPC request body. */
const rpcBody = (method, params) => ({ jsonrpc: "2.0", id: Math.floor(Math.random() * 1e9), method, ...(params ? { params } : {}) });

/** A 2026-07-28 request: version and capabilities in _meta, plus the MCP headers. */
function modern(method, params = {}, headers = {}) {
  const body = rpcBody(method, { ...params, _meta: { [META_VERSION]: MODERN, [META_CAPS]: {} } });
  const hdrs = { "MCP-Protocol-Version": MODERN, "Mcp-Method": method, ...headers };
  if (method === "resources/read" && !("Mcp-Name" in headers)) hdrs["Mcp-Name"] = params.uri;
  return { body, headers: hdrs };
}

/** Every page of resources/list through an SDK client: [{ resources, nextCursor }]. */
async function allPages(client) {
  const pages = [];
  let cursor;
  do {
    const page = await client.listResources(cursor === undefined ? {} : { cursor });
    pages.push(page);
    cursor = page.nextCursor;
    assert.ok(pages.length <= 10, "the listing never ends");
  } while (cursor !== undefined);
  return pages;
}

/** The rejection of an SDK call: its JSON-RPC code and data. */
async function rejection(promise, what = "the call") {
  try {
    await promise;
  } catch (err) {
    return { code: err.code, data: err.data, message: err.message };
  }
  assert.fail(`${what} was expected to fail`);
}

describe("MCP resources", () => {
  /** The two generated images: { jobId, key, contentType }. */
  let generated;
  /** Every finished image's job id, newest first (created_at DESC, id DESC), from D1. */
  let expectedOrder;
  let pendingId;
  let failedId;

  const h = useHarness({ vars: { API_KEYS: `alice:${ALICE_TOKEN}` } });
  before(async () => {
    const client = await h.mcpClient();
    generated = [];
    for (const model of ["flux-schnell", "sdxl-base"]) {
      const { result, data } = await callTool(client, "generate_image_and_wait", { prompt: `${uniq("res")} a lighthouse at dusk`, model });
      assert.ok(!result.isError, JSON.stringify(data));
      const key = keyFromWorkerUrl(data.image_url);
      generated.push({ jobId: data.job_id, key, contentType: model === "sdxl-base" ? "image/png" : "image/jpeg" });
    }
    // Older finished images straight into D1, enough for more than one page; they have no R2 object.
    const base = Date.now() - 60_000;
    const statements = [];
    for (let i = 0; i < SEEDED; i++) {
      const id = randomUUID();
      // Pairs share a millisecond, so the id must break ties across page boundaries.
      const created = base - Math.floor(i / 2);
      statements.push(
        h.db
          .prepare(
            "INSERT INTO generation_jobs (id, status, prompt, model, image_url, error, created_at, updated_at) VALUES (?, 'completed', ?, 'flux-schnell', ?, NULL, ?, ?)",
          )
          .bind(id, `seeded picture ${i}`, `/images/${created}-seeded-picture-${id}.jpg`, created, created),
      );
    }
    pendingId = randomUUID();
    failedId = randomUUID();
    statements.push(
      h.db
        .prepare("INSERT INTO generation_jobs (id, status, prompt, model, created_at, updated_at) VALUES (?, 'pending', 'waiting', 'flux-schnell', ?, ?)")
        .bind(pendingId, Date.now(), Date.now()),
      h.db
        .prepare("INSERT INTO generation_jobs (id, status, prompt, model, error, created_at, updated_at) VALUES (?, 'failed', 'broken', 'flux-schnell', 'boom', ?, ?)")
        .bind(failedId, Date.now(), Date.now()),
    );
    await h.db.batch(statements);
    expectedOrder = (
      await h.query("SELECT id FROM generation_jobs WHERE status = 'completed' ORDER BY created_at DESC, id DESC")
    ).map((r) => r.id);
    assert.equal(expectedOrder.length, SEEDED + 2);
  });

  for (const [label, makeTransport] of Object.entries(TRANSPORTS)) {
    describe(`over ${label}`, () => {
      let client;
      before(async () => {
        client = new Client({ name: `e2e-resources-${label}`, version: "1.0.0" });
        await client.connect(makeTransport(h));
      });
      after(async () => {
        await client?.close().catch(() => {});
      });

      it("initialize advertises resources without subscriptions or list changes", () => {
        assert.deepEqual(client.getServerCapabilities().resources, { subscribe: false, listChanged: false });
      });

      it("resources/list pages through every finished image once, newest first", async () => {
        const pages = await allPages(client);
        assert.deepEqual(
          pages.map((p) => p.resources.length),
          [PAGE_SIZE, SEEDED + 2 - PAGE_SIZE],
          "a full first page, the rest on the second",
        );
        const resources = pages.flatMap((p) => p.resources);
        assert.deepEqual(
          resources.map((r) => r.uri),
          expectedOrder.map(imageUri),
          "newest first, ties broken by id, nothing repeated or skipped across the page boundary",
        );
        assert.ok(!resources.some((r) => r.uri.includes(pendingId) || r.uri.includes(failedId)), "only finished images");
        const [newest, second] = resources;
        assert.equal(newest.uri, imageUri(generated[1].jobId));
        assert.equal(second.uri, imageUri(generated[0].jobId));
        assert.equal(newest.name, generated[1].key);
        assert.equal(newest.mimeType, "image/png");
        assert.equal(second.mimeType, "image/jpeg");
        // Images the consumer stored carry their byte size (seeded rows without one omit it).
        for (const [entry, made] of [[newest, generated[1]], [second, generated[0]]]) {
          const stored = await h.r2Bytes(made.key);
          assert.equal(entry.size, stored.bytes.length, `${entry.uri} size`);
        }
        assert.match(newest.description, /a lighthouse at dusk/);
        assert.match(newest.description, /sdxl-base/);
        assert.equal(typeof pages[0].nextCursor, "string");
        assert.equal(pages[1].nextCursor, undefined, "the last page has no cursor");
      });

      it("a cursor that is not one of ours is invalid params", async () => {
        // Not hex; hex of "v1:1" (no job id); empty; far too long.
        for (const cursor of ["garbage!", "76313a31", "", "A".repeat(10_000)]) {
          const { code } = await rejection(client.listResources({ cursor }), `cursor ${JSON.stringify(cursor.slice(0, 20))}`);
          assert.equal(code, INVALID_PARAMS, `cursor ${cursor.slice(0, 20)}`);
        }
      });

      it("resources/templates/list offers the image and its thumbnail by job id", async () => {
        const { resourceTemplates } = await client.listResourceTemplates();
        assert.deepEqual(
          resourceTemplates.map((t) => t.uriTemplate),
          ["images://jobs/{job_id}", "images://jobs/{job_id}/thumbnail"],
        );
        assert.equal(resourceTemplates[1].mimeType, "image/webp");
        for (const t of resourceTemplates) assert.ok(t.name && t.description, JSON.stringify(t));
      });

      it("resources/read returns exactly the stored bytes with their type", async () => {
        for (const image of generated) {
          const { contents } = await client.readResource({ uri: imageUri(image.jobId) });
          assert.equal(contents.length, 1);
          assert.equal(contents[0].uri, imageUri(image.jobId));
          assert.equal(contents[0].mimeType, image.contentType);
          const stored = await h.r2Bytes(image.key);
          assert.ok(stored, `no R2 object ${image.key}`);
          const read = Buffer.from(contents[0].blob, "base64");
          assert.ok(read.equals(Buffer.from(stored.bytes)), `read ${read.length} bytes, stored ${stored.bytes.length}`);
        }
      });

      it("a thumbnail is read when an object sits under the thumbnail key, and is not found otherwise", async () => {
        const [withThumb, withoutThumb] = generated;
        const thumbBytes = Buffer.from(`RIFF....WEBPVP8 thumbnail of ${withThumb.jobId} ${uniq()}`);
        await h.r2.put(thumbnailKey(withThumb.key), thumbBytes, { httpMetadata: { contentType: "image/webp" } });
        await h.r2.delete(thumbnailKey(withoutThumb.key));
        const { contents } = await client.readResource({ uri: thumbnailUri(withThumb.jobId) });
        assert.equal(contents[0].uri, thumbnailUri(withThumb.jobId));
        assert.equal(contents[0].mimeType, "image/webp");
        assert.ok(Buffer.from(contents[0].blob, "base64").equals(thumbBytes));
        const missing = await rejection(client.readResource({ uri: thumbnailUri(withoutThumb.jobId) }));
        assert.equal(missing.code, NOT_FOUND_LEGACY);
        assert.deepEqual(missing.data, { uri: thumbnailUri(withoutThumb.jobId) });
      });

      it("unknown, unfinished, objectless and malformed URIs are resource-not-found with the uri", async () => {
        const seededWithoutObject = expectedOrder[expectedOrder.length - 1];
        const uris = [
          imageUri(randomUUID()),
          imageUri(pendingId),
          imageUri(failedId),
          thumbnailUri(pendingId),
          imageUri(seededWithoutObject),
          "images://jobs/",
          "images://jobs/a/b",
          "images://jobs/a%2Fb",
          "images://jobs/../../etc/passwd",
          `images://jobs/${generated[0].jobId}/thumbnail/extra`,
          `https://example.com/images/${generated[0].key}`,
          "not a uri",
        ];
        for (const uri of uris) {
          const { code, data } = await rejection(client.readResource({ uri }));
          assert.equal(code, NOT_FOUND_LEGACY, uri);
          assert.deepEqual(data, { uri }, uri);
        }
      });
    });
  }

  describe("on the raw wire", () => {
    it("titles appear from 2025-06-18 on; 2025-03-26 (no header) lists name and description only", async () => {
      const old = await h.rpc(rpcBody("resources/list"));
      assert.equal(old.status, 200, old.text);
      assert.ok(old.json.result.resources.every((r) => r.title === undefined && r.description), old.text.slice(0, 300));
      const current = await h.rpc(rpcBody("resources/list"), { headers: { "MCP-Protocol-Version": "2025-06-18" } });
      assert.match(current.json.result.resources[0].title, /a lighthouse at dusk/);
      const templates = await h.rpc(rpcBody("resources/templates/list"), { headers: { "MCP-Protocol-Version": "2025-11-25" } });
      assert.ok(templates.json.result.resourceTemplates.every((t) => t.title), templates.text);
    });

    it("a very long uri is answered with a short message and a cut uri", async () => {
      const uri = `images://jobs/${"x".repeat(100_000)}`;
      const r = await h.rpc(rpcBody("resources/read", { uri }));
      assert.equal(r.json.error.code, NOT_FOUND_LEGACY);
      assert.ok(r.text.length < 1000, `${r.text.length} bytes`);
      assert.match(r.json.error.data.uri, /\(100014 characters\)$/);
    });

    it("resources/read without a string uri is invalid params", async () => {
      for (const params of [undefined, {}, { uri: 7 }, { uri: null }]) {
        const r = await h.rpc(rpcBody("resources/read", params));
        assert.equal(r.json.error.code, INVALID_PARAMS, JSON.stringify(params));
      }
      const badCursor = await h.rpc(rpcBody("resources/list", { cursor: 5 }));
      assert.equal(badCursor.json.error.code, INVALID_PARAMS);
    });

    it("2026-07-28: complete results with cache hints, Mcp-Name checked, not found is -32602", async () => {
      const discover = modern("server/discover");
      const found = await h.rpc(discover.body, { headers: discover.headers });
      assert.deepEqual(found.json.result.capabilities.resources, {});

      const list = modern("resources/list");
      const first = await h.rpc(list.body, { headers: list.headers });
      assert.equal(first.status, 200, first.text);
      const page = first.json.result;
      assert.equal(page.resultType, "complete");
      assert.equal(page.cacheScope, "private");
      assert.equal(page.ttlMs, 0);
      assert.equal(page.resources.length, PAGE_SIZE);
      assert.ok(page.resources[0].title);
      const next = modern("resources/list", { cursor: page.nextCursor });
      const second = await h.rpc(next.body, { headers: next.headers });
      assert.deepEqual(
        [...page.resources, ...second.json.result.resources].map((r) => r.uri),
        expectedOrder.map(imageUri),
      );

      const templates = modern("resources/templates/list");
      const listed = await h.rpc(templates.body, { headers: templates.headers });
      assert.equal(listed.json.result.cacheScope, "public");
      assert.equal(listed.json.result.resourceTemplates.length, 2);

      const uri = imageUri(generated[0].jobId);
      const read = modern("resources/read", { uri });
      const r = await h.rpc(read.body, { headers: read.headers });
      assert.equal(r.status, 200, r.text.slice(0, 300));
      assert.equal(r.json.result.resultType, "complete");
      assert.ok(r.json.result.ttlMs > 0);
      const stored = await h.r2Bytes(generated[0].key);
      assert.ok(Buffer.from(r.json.result.contents[0].blob, "base64").equals(Buffer.from(stored.bytes)));

      const noName = modern("resources/read", { uri }, { "Mcp-Name": undefined });
      delete noName.headers["Mcp-Name"];
      const refused = await h.rpc(noName.body, { headers: noName.headers });
      assert.equal(refused.status, 400);
      assert.equal(refused.json.error.code, -32020);
      const otherName = modern("resources/read", { uri }, { "Mcp-Name": imageUri(generated[1].jobId) });
      assert.equal((await h.rpc(otherName.body, { headers: otherName.headers })).json.error.code, -32020);

      const unknown = imageUri(randomUUID());
      const missing = modern("resources/read", { uri: unknown });
      const notFound = await h.rpc(missing.body, { headers: missing.headers });
      assert.equal(notFound.status, 200);
      assert.equal(notFound.json.error.code, INVALID_PARAMS, "SEP-2164: Invalid Params in 2026-07-28");
      assert.deepEqual(notFound.json.error.data, { uri: unknown });

      const garbage = modern("resources/list", { cursor: "garbage!" });
      assert.equal((await h.rpc(garbage.body, { headers: garbage.headers })).json.error.code, INVALID_PARAMS);
    });

    it("a named key lists and reads only its own images; the administrator sees every key's", async () => {
      const made = await h.rawCallTool("generate_image_and_wait", { prompt: `${uniq("alice")} a tin robot` }, { token: ALICE_TOKEN });
      assert.equal(made.data?.status, "completed", JSON.stringify(made.response).slice(0, 400));
      const mine = imageUri(made.data.job_id);
      const listed = await h.rpc(rpcBody("resources/list"), { token: ALICE_TOKEN });
      assert.deepEqual(listed.json.result.resources.map((r) => r.uri), [mine], "only alice's own image");
      const own = await h.rpc(rpcBody("resources/read", { uri: mine }), { token: ALICE_TOKEN });
      const stored = await h.r2Bytes(keyFromWorkerUrl(made.data.image_url));
      assert.ok(Buffer.from(own.json.result.contents[0].blob, "base64").equals(Buffer.from(stored.bytes)));
      for (const uri of [imageUri(generated[0].jobId), thumbnailUri(generated[0].jobId)]) {
        const other = await h.rpc(rpcBody("resources/read", { uri }), { token: ALICE_TOKEN });
        assert.equal(other.json.error?.code, NOT_FOUND_LEGACY, `${uri}: ${other.text.slice(0, 200)}`);
        assert.equal(other.json.result, undefined, "another key's image is not readable");
      }
      const admin = await h.rpc(rpcBody("resources/list"));
      assert.equal(admin.json.result.resources[0].uri, mine, "the administrator lists every key's images, newest first");
    });

    it("without the bearer token every resources method is refused, on /mcp and on /sse/message", async () => {
      const uri = imageUri(generated[0].jobId);
      for (const body of [rpcBody("resources/list"), rpcBody("resources/templates/list"), rpcBody("resources/read", { uri })]) {
        for (const opts of [{ token: null }, { token: "wrong-token" }]) {
          const r = await h.rpc(body, opts);
          assert.equal(r.status, 401, `${body.method} ${JSON.stringify(opts)}: ${r.text}`);
          assert.equal(r.json?.result, undefined);
          assert.doesNotMatch(r.text, /blob/);
        }
        const sse = await h.fetch(`/sse/message?sessionId=${"a".repeat(32)}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        assert.equal(sse.status, 401, `${body.method} over /sse/message`);
        await sse.body?.cancel();
      }
    });
  });
});
