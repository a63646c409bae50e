// Client ID Metadata Documents: the test serves the documents on a loopback http server, which
// the server may fetch only under OAUTH_ALLOW_HTTP_LOOPBACK_CLIENT_IDS (a test setting, off by
// default). The worker's fetch goes through Miniflare's outboundService (harness `outbound`),
// which records it and forwards it to that server. The official SDK client, given the document's
// URL as its client_id, goes from consent to tools/call; documents are fetched at authorization
// time only and cached for their max-age. Refused, with no grant and no code: a document whose
// client_id differs from its URL, an oversized one, one that is not JSON, one that does not
// arrive within the 5 s timeout, a non-https client_id
// of a non-loopback host, and a loopback http one while the setting is off.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { useHarness } from "./support/setup.mjs";
import { MemoryOAuthProvider, REDIRECT_URL, authorizeUrl, consent, grantCount, pkce } from "./support/oauth.mjs";

const ALICE = "alice-token-32aa11bb22cc";

/** A loopback server for the documents; `docs` maps a path to (baseUrl) => {body, headers}. */
async function documentServer(docs) {
  const server = http.createServer((req, res) => {
    if (req.url === "/slow.json") return; // never answers: the server's 5 s timeout must give up
    const doc = docs[req.url];
    if (!doc) {
      res.writeHead(404).end();
      return;
    }
    const { body, headers = {} } = doc(base);
    res.writeHead(200, { "Content-Type": "application/json", ...headers }).end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const document = (path, extra = {}) => (base) => ({
  body: JSON.stringify({ client_id: `${base}${path}`, client_name: "Loopback CIMD app", redirect_uris: [REDIRECT_URL], ...extra }),
  headers: { "Cache-Control": "public, max-age=300" },
});

const DOCS = {
  "/client.json": document("/client.json"),
  "/other.json": document("/client.json"),
  "/big.json": (base) => ({ body: JSON.stringify({ client_id: `${base}/big.json`, redirect_uris: [REDIRECT_URL], pad: "x".repeat(70 * 1024) }) }),
  "/html.json": () => ({ body: "<html>not json</html>", headers: { "Content-Type": "text/html" } }),
};

let docs;
const forward = (request) => fetch(request.url, { method: request.method, headers: { accept: request.headers.get("accept") ?? "*/*" } });

async function authorizePage(h, clientId) {
  const { challenge } = pkce();
  return fetch(
    authorizeUrl(h, { response_type: "code", client_id: clientId, redirect_uri: REDIRECT_URL, code_challenge: challenge, code_challenge_method: "S256" }),
    { redirect: "manual" },
  );
}

describe("Client ID Metadata Documents", () => {
  before(async () => {
    docs = await documentServer(DOCS);
  });
  after(async () => docs?.close());

  describe("with loopback http documents allowed (test setting)", () => {
    const h = useHarness({
      vars: { API_KEYS: `alice:${ALICE}`, OAUTH_ALLOW_HTTP_LOOPBACK_CLIENT_IDS: "true", IMAGE_BACKEND: "preview" },
      outbound: (request) => forward(request),
    });

    it("lets the SDK client named by its document's URL reach tools/call, fetching the document once", async () => {
      const clientId = `${docs.base}/client.json`;
      const provider = new MemoryOAuthProvider({ clientInformation: { client_id: clientId } });
      const transport = new StreamableHTTPClientTransport(new URL("/mcp", h.origin), { authProvider: provider });
      const client = new Client({ name: "cimd-e2e", version: "1.0.0" });
      await assert.rejects(client.connect(transport), (e) => e instanceof UnauthorizedError);
      assert.equal(provider.authorizationUrl.searchParams.get("client_id"), clientId);
      const { location, html } = await consent(h, provider.authorizationUrl, { token: ALICE });
      assert.match(html, /Loopback CIMD app/, "the consent page names the document's client");
      await transport.finishAuth(location.searchParams.get("code"));
      const connected = new Client({ name: "cimd-e2e", version: "1.0.0" });
      await connected.connect(new StreamableHTTPClientTransport(new URL("/mcp", h.origin), { authProvider: provider }));
      const usage = await connected.callTool({ name: "get_usage", arguments: {} });
      assert.ok(!usage.isError, JSON.stringify(usage));
      await connected.close();
      const fetched = h.outboundRequests.filter((r) => r.url === clientId);
      assert.equal(fetched.length, 1, "fetched at authorization time only");
      // Cached for its max-age: another authorization does not fetch it again.
      const again = await authorizePage(h, clientId);
      assert.equal(again.status, 303);
      assert.equal(new URL(again.headers.get("location"), h.origin).pathname, "/gallery/authorize");
      assert.equal(h.outboundRequests.filter((r) => r.url === clientId).length, 1);
      const [row] = await h.query("SELECT kind, client_name FROM oauth_clients WHERE client_id = ?", clientId);
      assert.deepEqual({ ...row }, { kind: "cimd", client_name: "Loopback CIMD app" });
    });

    for (const [what, path, message] of [
      ["a document whose client_id differs from its URL", "/other.json", /another client_id/],
      ["an oversized document", "/big.json", /larger than 65536 bytes/],
      ["a document that is not JSON", "/html.json", /not JSON/],
    ]) {
      it(`refuses ${what}`, async () => {
        const before = await grantCount(h);
        const res = await authorizePage(h, `${docs.base}${path}`);
        assert.equal(res.status, 400);
        assert.equal(res.headers.get("location"), null);
        assert.match(await res.text(), message);
        assert.equal(await grantCount(h), before);
        assert.equal((await h.query("SELECT COUNT(*) AS n FROM oauth_codes WHERE client_id = ?", `${docs.base}${path}`))[0].n, 0);
      });
    }

    it("gives up on a document that does not arrive within 5 s", async () => {
      const started = Date.now();
      const res = await authorizePage(h, `${docs.base}/slow.json`);
      assert.equal(res.status, 400);
      assert.match(await res.text(), /did not arrive within 5 s/);
      const took = Date.now() - started;
      assert.ok(took >= 4500 && took < 15000, `${took} ms`);
    });

    it("refuses a non-https client_id of a non-loopback host without fetching it", async () => {
      const before = h.outboundRequests.length;
      const res = await authorizePage(h, "http://app.example/client.json");
      assert.equal(res.status, 400);
      assert.match(await res.text(), /must use https/);
      assert.equal(h.outboundRequests.length, before);
    });
  });

  describe("with the setting off (the default)", () => {
    const h = useHarness({ vars: { API_KEYS: `alice:${ALICE}` }, outbound: (request) => forward(request) });

    it("refuses a loopback http client_id without fetching it", async () => {
      const res = await authorizePage(h, `${docs.base}/client.json`);
      assert.equal(res.status, 400);
      assert.match(await res.text(), /must use https/);
      assert.equal(h.outboundRequests.length, 0);
    });
  });
});
