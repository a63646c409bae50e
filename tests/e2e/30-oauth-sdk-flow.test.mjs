// OAuth 2.1 end to end with the official TypeScript SDK's client (client/auth.js and its
// OAuthClientProvider), on /mcp and on /sse: from a bare URL through 401 → protected-resource
// metadata → authorization-server metadata → Dynamic Client Registration → consent (the form
// submitted as a person would) → token → tools/call as the approving key → refresh → revoke,
// after which the token gets 401. Also the discovery documents themselves, and that static
// tokens and keys still work beside OAuth.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { UnauthorizedError, auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { TEST_TOKEN } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import { MemoryOAuthProvider, consent, callTool, grantCount } from "./support/oauth.mjs";

const KEYS = { alice: "alice-token-30aa11bb22cc", bob: "bob-token-30dd33ee44ff" };
const API_KEYS = apiKeys(KEYS);

/**
 * Connects an SDK client through the OAuth flow: the first connect gets 401 and sends the
 * provider to the authorization URL; the consent page is approved with `token`; the code is
 * exchanged by the transport (finishAuth); the second connect works.
 */
async function connectWithOAuth(h, makeTransport, provider, token) {
  const first = makeTransport(provider);
  const client = new Client({ name: "oauth-e2e", version: "1.0.0" });
  await assert.rejects(client.connect(first), (error) => error instanceof UnauthorizedError);
  assert.ok(provider.authorizationUrl, "the SDK was sent to the authorization endpoint");
  const { status, location } = await consent(h, provider.authorizationUrl, { token });
  assert.equal(status, 303);
  assert.equal(location.origin + location.pathname, provider.redirectUrl);
  assert.equal(location.searchParams.get("iss"), h.origin, "RFC 9207 iss");
  assert.equal(location.searchParams.get("state"), provider.authorizationUrl.searchParams.get("state"));
  await first.finishAuth(location.searchParams.get("code"));
  const connected = new Client({ name: "oauth-e2e", version: "1.0.0" });
  await connected.connect(makeTransport(provider));
  return connected;
}

describe("OAuth with the official SDK client", () => {
  const h = useHarness({ vars: { API_KEYS, IMAGE_BACKEND: "preview" } });

  it("serves the discovery documents and answers 401 with a pointer to them", async () => {
    const bare = await h.fetch("/mcp", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    assert.equal(bare.status, 401);
    const challenge = bare.headers.get("www-authenticate");
    assert.match(challenge, /^Bearer /);
    assert.ok(challenge.includes(`resource_metadata="${h.origin}/.well-known/oauth-protected-resource/mcp"`), challenge);
    assert.ok(challenge.includes('scope="images:read images:write"'), challenge);
    const sse = await h.fetch("/sse");
    assert.equal(sse.status, 401);
    assert.ok(sse.headers.get("www-authenticate").includes("/.well-known/oauth-protected-resource/sse"));
    const wrong = await h.fetch("/mcp", { method: "POST", headers: { Authorization: "Bearer mcpat_nope" }, body: "{}" });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get("www-authenticate"), /error="invalid_token"/);

    for (const [path, resource] of [
      ["/.well-known/oauth-protected-resource", h.origin],
      ["/.well-known/oauth-protected-resource/mcp", `${h.origin}/mcp`],
      ["/.well-known/oauth-protected-resource/sse", `${h.origin}/sse`],
    ]) {
      const doc = await (await h.fetch(path)).json();
      assert.equal(doc.resource, resource, path);
      assert.deepEqual(doc.authorization_servers, [h.origin]);
      assert.deepEqual(doc.scopes_supported, ["images:read", "images:write"]);
    }
    const server = await (await h.fetch("/.well-known/oauth-authorization-server")).json();
    assert.equal(server.issuer, h.origin);
    for (const [field, path] of [
      ["authorization_endpoint", "/oauth/authorize"],
      ["token_endpoint", "/oauth/token"],
      ["registration_endpoint", "/oauth/register"],
      ["revocation_endpoint", "/oauth/revoke"],
    ]) {
      assert.equal(server[field], h.origin + path, field);
    }
    assert.deepEqual(server.response_types_supported, ["code"]);
    assert.deepEqual(server.grant_types_supported, ["authorization_code", "refresh_token"]);
    assert.deepEqual(server.code_challenge_methods_supported, ["S256"]);
    assert.deepEqual(server.token_endpoint_auth_methods_supported, ["none", "client_secret_post", "client_secret_basic"]);
    assert.equal(server.client_id_metadata_document_supported, true);
    assert.equal(server.authorization_response_iss_parameter_supported, true);
    assert.equal((await h.fetch("/.well-known/openid-configuration")).status, 404, "no OpenID Connect");
  });

  for (const [transportName, path, makeTransport] of [
    ["Streamable HTTP /mcp", "/mcp", (h, provider) => new StreamableHTTPClientTransport(new URL("/mcp", h.origin), { authProvider: provider })],
    ["legacy SSE /sse", "/sse", (h, provider) => new SSEClientTransport(new URL("/sse", h.origin), { authProvider: provider })],
  ]) {
    it(`goes from a bare URL to tools/call, refresh and revoke on ${transportName}`, async () => {
      const provider = new MemoryOAuthProvider({ clientName: `SDK over ${path}` });
      const before = await grantCount(h);
      const client = await connectWithOAuth(h, (p) => makeTransport(h, p), provider, KEYS.alice);
      assert.ok(provider.clientInformation().client_id, "registered with DCR");
      assert.equal(provider.clientInformation().client_secret, undefined, "a public client gets no secret");
      const tokens = provider.tokens();
      assert.match(tokens.access_token, /^mcpat_[A-Za-z0-9_-]{43}$/);
      assert.equal(tokens.token_type, "Bearer");
      assert.equal(tokens.expires_in, 3600);
      assert.equal(tokens.scope, "images:read images:write");
      assert.equal(await grantCount(h), before + 1);

      // tools/call acts as alice: the job is hers, and bob's token does not see it.
      const started = await client.callTool({ name: "generate_image", arguments: { prompt: `oauth ${path} lighthouse` } });
      assert.ok(!started.isError, JSON.stringify(started));
      const jobId = started.structuredContent.job_id;
      assert.ok(jobId, JSON.stringify(started.structuredContent));
      const [row] = await h.query("SELECT owner FROM generation_jobs WHERE id = ?", jobId);
      assert.equal(row.owner, "alice");
      const usage = await client.callTool({ name: "get_usage", arguments: {} });
      assert.ok(!usage.isError);
      // Stored only as hashes: the clear token appears nowhere in D1.
      const stored = await h.query("SELECT token_hash FROM oauth_tokens");
      assert.ok(stored.every((r) => r.token_hash.length === 64 && !r.token_hash.includes(tokens.access_token)));
      assert.ok(h.logText().includes(`oauth request: key alice via SDK over ${path}`), "logs name the key and the client");
      await client.close();

      // Refresh through the SDK: new access and refresh tokens, the old access token keeps its hour,
      // the new one works.
      assert.equal(await auth(provider, { serverUrl: new URL(path, h.origin) }), "AUTHORIZED");
      const refreshed = provider.tokens();
      assert.notEqual(refreshed.access_token, tokens.access_token);
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
      const again = await callTool(h, refreshed.access_token, "list_jobs");
      assert.equal(again.status, 200);
      const listed = await again.json();
      assert.ok(JSON.stringify(listed.result).includes(jobId), "the refreshed token still acts as alice");

      // Revoke (RFC 7009): afterwards the token gets 401, and so does the grant's refresh token.
      const revoked = await h.fetch("/oauth/revoke", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: refreshed.access_token, client_id: provider.clientInformation().client_id }),
      });
      assert.equal(revoked.status, 200);
      const after = await callTool(h, refreshed.access_token, "list_jobs");
      assert.equal(after.status, 401);
      assert.match(after.headers.get("www-authenticate"), /invalid_token/);
      assert.equal(await grantCount(h), before);
    });
  }

  it("keeps static bearer tokens and API keys working exactly as before", async () => {
    for (const token of [TEST_TOKEN, KEYS.bob]) {
      const res = await callTool(h, token, "get_usage");
      assert.equal(res.status, 200);
      assert.ok(!(await res.json()).result.isError);
    }
  });
});
