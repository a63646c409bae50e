// The plain HTTP surface: /health, the discovery page, CORS, and /images/<key>
// refusing unknown keys and path tricks.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TOOL_NAMES, SERVER_VERSION } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

describe("HTTP surface: /health, /, CORS, /images 404s", () => {
  const h = useHarness();

  it("GET /health answers {status: healthy, version 3.0.0, architecture: stateless-workers, ISO timestamp}", async () => {
    const res = await h.fetch("/health");
    assert.equal(res.status, 200, `GET /health status ${res.status}`);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const body = await res.json();
    assert.equal(body.status, "healthy");
    assert.equal(body.version, SERVER_VERSION);
    assert.equal(body.architecture, "stateless-workers");
    assert.equal(typeof body.timestamp, "string", "timestamp must be an ISO 8601 string");
    assert.match(body.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, `timestamp ${body.timestamp} is not ISO 8601`);
    const skew = Math.abs(Date.parse(body.timestamp) - Date.now());
    assert.ok(skew < 5 * 60 * 1000, `timestamp ${body.timestamp} is ${skew} ms away from now`);
  });

  it("GET / is an HTML discovery page naming every tool and the /mcp endpoint", async () => {
    const res = await h.fetch("/");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const html = await res.text();
    assert.match(html, /<html/i, "discovery page is not HTML");
    for (const tool of TOOL_NAMES) assert.ok(html.includes(tool), `discovery page does not mention ${tool}`);
    assert.ok(html.includes("/mcp"), "discovery page does not mention /mcp");
  });

  it("an unknown route is 404", async () => {
    const res = await h.fetch("/no-such-route");
    assert.equal(res.status, 404);
    await res.arrayBuffer();
  });

  it("answers CORS preflight for /mcp with any origin, methods GET/POST/OPTIONS, headers Content-Type and Authorization", async () => {
    const res = await h.fetch("/mcp", {
      method: "OPTIONS",
      headers: {
        Origin: h.origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization",
      },
    });
    await res.arrayBuffer();
    assert.ok(res.status >= 200 && res.status < 300, `preflight status ${res.status}`);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const methods = (res.headers.get("access-control-allow-methods") ?? "").toUpperCase();
    for (const m of ["GET", "POST", "OPTIONS"]) assert.ok(methods.includes(m), `Allow-Methods "${methods}" lacks ${m}`);
    const headers = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const hd of ["content-type", "authorization"]) assert.ok(headers.includes(hd), `Allow-Headers "${headers}" lacks ${hd}`);
  });

  it("puts Access-Control-Allow-Origin: * on ordinary responses (/health, /, /mcp success and auth failure)", async () => {
    for (const [path, init] of [
      ["/health", {}],
      ["/", {}],
      ["/mcp", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) }],
    ]) {
      const res = await h.fetch(path, init);
      await res.arrayBuffer();
      assert.equal(res.headers.get("access-control-allow-origin"), "*", `${init.method ?? "GET"} ${path} (status ${res.status}) lacks ACAO *`);
    }
    const ok = await h.rpc({ jsonrpc: "2.0", id: 1, method: "ping" });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), "*", "authorised POST /mcp lacks ACAO *");
  });

  it("GET /images/<unknown key> is 404", async () => {
    const res = await h.fetch("/images/no-such-image-0123456789.png");
    assert.equal(res.status, 404);
    await res.arrayBuffer();
  });

  it("GET /images/ and /images (no key) are 404", async () => {
    for (const p of ["/images/", "/images"]) {
      const res = await h.rawRequest(p);
      assert.equal(res.status, 404, `GET ${p} gave ${res.status}`);
    }
  });

  it("refuses path tricks under /images/ with 404, even when a matching odd key exists in R2", async () => {
    // Objects a naive server would hand out if it passed the (decoded or raw) path to R2.
    const SECRET = new TextEncoder().encode("secret-bytes-not-an-image");
    for (const key of ["../secret.txt", "..%2fsecret.txt", "..%2Fsecret.txt", "../../secret.txt", "%2e%2e/secret.txt"]) {
      await h.r2.put(key, SECRET, { httpMetadata: { contentType: "text/plain" } });
    }
    const tricks = [
      "/images/../secret.txt",
      "/images/%2e%2e/secret.txt",
      "/images/%2E%2E/secret.txt",
      "/images/..%2fsecret.txt",
      "/images/..%2Fsecret.txt",
      "/images/%2e%2e%2fsecret.txt",
      "/images/..%5csecret.txt",
      "/images/../../secret.txt",
      "/images/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/images/.%2e/secret.txt",
      "/images/secret.txt%00.png",
    ];
    for (const p of tricks) {
      const res = await h.rawRequest(p);
      assert.equal(res.status, 404, `GET ${p} gave ${res.status} (body ${res.body.toString().slice(0, 80)})`);
      assert.ok(!res.body.toString().includes("secret-bytes"), `GET ${p} leaked the R2 object`);
    }
  });
});
