// Every refusal of the authorization server, each leaving no grant behind: PKCE missing, wrong
// or `plain`; a reused code (which also revokes what its first use issued); an expired code;
// another redirect URI; another server's resource; an unknown client; a reused refresh token
// (revokes its grant). Then scopes and identity: a read-scope token calling generate_image gets
// 403 insufficient_scope naming images:write; bob's OAuth token cannot see alice's jobs; and a
// key removed from API_KEYS, or given another token, ends its grants (restart over persisted D1).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { startHarness } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";
import {
  REDIRECT_URL,
  authorizeUrl,
  callTool,
  consent,
  grantCount,
  grantFor,
  pkce,
  register,
  tokenRequest,
} from "./support/oauth.mjs";

const KEYS = { alice: "alice-token-31aa11bb22cc", bob: "bob-token-31dd33ee44ff" };
const apiKeys = (keys) => Object.entries(keys).map(([n, t]) => `${n}:${t}`).join(",");

/** Authorizes `clientId` as alice and returns the code (not yet exchanged) and its PKCE pair. */
async function codeFor(h, clientId, extra = {}) {
  const pair = pkce();
  const { location } = await consent(
    h,
    authorizeUrl(h, {
      response_type: "code",
      client_id: clientId,
      redirect_uri: REDIRECT_URL,
      code_challenge: pair.challenge,
      code_challenge_method: "S256",
      ...extra,
    }),
    { token: KEYS.alice },
  );
  const code = location.searchParams.get("code");
  assert.ok(code, String(location));
  return { code, pair };
}

const exchange = (h, clientId, code, verifier, extra = {}) =>
  tokenRequest(h, {
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT_URL,
    client_id: clientId,
    ...(verifier === undefined ? {} : { code_verifier: verifier }),
    ...extra,
  });

describe("authorization refusals leave no grant", () => {
  const h = useHarness({ vars: { API_KEYS: apiKeys(KEYS), IMAGE_BACKEND: "preview" } });
  let clientId;
  before(async () => {
    clientId = (await register(h)).client_id;
  });

  it("refuses a missing or wrong PKCE verifier, and burns the code", async () => {
    for (const verifier of [undefined, pkce().verifier]) {
      const { code } = await codeFor(h, clientId);
      const answer = await exchange(h, clientId, code, verifier);
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error, "invalid_grant", JSON.stringify(answer.body));
      assert.equal(answer.headers.get("cache-control"), "no-store");
    }
    assert.equal(await grantCount(h), 0);
  });

  it("refuses plain PKCE and a request without a challenge, by redirecting with an error", async () => {
    const { challenge } = pkce();
    for (const params of [
      { code_challenge: challenge, code_challenge_method: "plain" },
      { code_challenge_method: "S256" },
    ]) {
      const url = authorizeUrl(h, { response_type: "code", client_id: clientId, redirect_uri: REDIRECT_URL, state: "st", ...params });
      const res = await fetch(url, { redirect: "manual" });
      assert.equal(res.status, 303);
      const location = new URL(res.headers.get("location"));
      assert.equal(location.searchParams.get("error"), "invalid_request");
      assert.equal(location.searchParams.get("state"), "st");
      assert.equal(location.searchParams.get("iss"), h.origin);
      assert.equal(location.searchParams.get("code"), null);
    }
    assert.equal(await grantCount(h), 0);
  });

  it("refuses a reused code and revokes what its first use issued", async () => {
    const { code, pair } = await codeFor(h, clientId);
    const first = await exchange(h, clientId, code, pair.verifier);
    assert.equal(first.status, 200);
    assert.equal((await callTool(h, first.body.access_token, "get_usage")).status, 200);
    const second = await exchange(h, clientId, code, pair.verifier);
    assert.equal(second.body.error, "invalid_grant");
    assert.equal((await callTool(h, first.body.access_token, "get_usage")).status, 401, "first tokens revoked");
    assert.equal(await grantCount(h), 0);
  });

  it("refuses an expired code", async () => {
    const { code, pair } = await codeFor(h, clientId);
    // Codes live 60 s; make this one older than that instead of waiting.
    await h.query("UPDATE oauth_codes SET expires_at = expires_at - 61000 WHERE used_at IS NULL");
    const answer = await exchange(h, clientId, code, pair.verifier);
    assert.equal(answer.body.error, "invalid_grant");
    assert.match(answer.body.error_description, /expired/);
    assert.equal(await grantCount(h), 0);
  });

  it("refuses another redirect URI at the token endpoint and at the authorization endpoint", async () => {
    const { code, pair } = await codeFor(h, clientId);
    const answer = await exchange(h, clientId, code, pair.verifier, { redirect_uri: "http://127.0.0.1:33418/other" });
    assert.equal(answer.body.error, "invalid_grant");
    const url = authorizeUrl(h, {
      response_type: "code",
      client_id: clientId,
      redirect_uri: "https://evil.example/cb",
      code_challenge: pair.challenge,
      code_challenge_method: "S256",
    });
    const page = await fetch(url, { redirect: "manual" });
    assert.equal(page.status, 400, "shown here, never redirected to an unregistered URI");
    assert.equal(page.headers.get("location"), null);
    assert.equal(await grantCount(h), 0);
  });

  it("refuses another server's resource and an unknown client", async () => {
    const { challenge } = pkce();
    const res = await fetch(
      authorizeUrl(h, {
        response_type: "code",
        client_id: clientId,
        redirect_uri: REDIRECT_URL,
        code_challenge: challenge,
        code_challenge_method: "S256",
        resource: "https://other.example/mcp",
      }),
      { redirect: "manual" },
    );
    assert.equal(res.status, 303);
    assert.equal(new URL(res.headers.get("location")).searchParams.get("error"), "invalid_target");
    const unknown = await fetch(
      authorizeUrl(h, {
        response_type: "code",
        client_id: "0123456789abcdef0123456789abcdef",
        redirect_uri: REDIRECT_URL,
        code_challenge: challenge,
        code_challenge_method: "S256",
      }),
      { redirect: "manual" },
    );
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /unknown client/);
    const token = await tokenRequest(h, { grant_type: "refresh_token", refresh_token: "mcprt_x", client_id: "nobody" });
    assert.equal(token.status, 401);
    assert.equal(token.body.error, "invalid_client");
    assert.equal(await grantCount(h), 0);
  });

  it("denies with access_denied and issues nothing", async () => {
    const { challenge } = pkce();
    const { status, location } = await consent(
      h,
      authorizeUrl(h, { response_type: "code", client_id: clientId, redirect_uri: REDIRECT_URL, code_challenge: challenge, code_challenge_method: "S256", state: "d" }),
      { decision: "deny" },
    );
    assert.equal(status, 303);
    assert.equal(location.searchParams.get("error"), "access_denied");
    assert.equal(location.searchParams.get("state"), "d");
    assert.equal(await grantCount(h), 0);
  });

  it("revokes the whole grant when a refresh token is reused", async () => {
    const { tokens } = await grantFor(h, clientId, KEYS.alice);
    const first = await tokenRequest(h, { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: clientId });
    assert.equal(first.status, 200);
    assert.equal((await callTool(h, first.body.access_token, "get_usage")).status, 200);
    const reuse = await tokenRequest(h, { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: clientId });
    assert.equal(reuse.body.error, "invalid_grant");
    assert.equal((await callTool(h, first.body.access_token, "get_usage")).status, 401, "the grant is gone");
    const rotated = await tokenRequest(h, { grant_type: "refresh_token", refresh_token: first.body.refresh_token, client_id: clientId });
    assert.equal(rotated.body.error, "invalid_grant");
    assert.equal(await grantCount(h), 0);
  });

  it("gives a read-scope token 403 insufficient_scope on generate_image, and reads", async () => {
    const { tokens } = await grantFor(h, clientId, KEYS.alice, { scope: "images:read openid" });
    assert.equal(tokens.scope, "images:read", "unknown scopes dropped, not refused");
    const write = await callTool(h, tokens.access_token, "generate_image", { prompt: "a read-only attempt" });
    assert.equal(write.status, 403);
    const challenge = write.headers.get("www-authenticate");
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="images:read images:write"/);
    assert.match(challenge, /needs the images:write scope/);
    assert.match(challenge, /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/);
    assert.equal(await h.count("generation_jobs"), 0, "nothing started");
    const read = await callTool(h, tokens.access_token, "list_jobs");
    assert.equal(read.status, 200);
  });

  it("gives a confidential client a secret (stored hashed) and requires it at the token endpoint", async () => {
    const registered = await register(h, { extra: { token_endpoint_auth_method: "client_secret_basic" } });
    assert.match(registered.client_secret, /^mcpcs_/);
    const [row] = await h.query("SELECT secret_hash FROM oauth_clients WHERE client_id = ?", registered.client_id);
    assert.equal(row.secret_hash.length, 64);
    assert.notEqual(row.secret_hash, registered.client_secret);
    const { code, pair } = await codeFor(h, registered.client_id);
    const without = await exchange(h, registered.client_id, code, pair.verifier);
    assert.equal(without.status, 401);
    assert.equal(without.body.error, "invalid_client");
    const { code: code2, pair: pair2 } = await codeFor(h, registered.client_id);
    const basic = Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString("base64");
    const withSecret = await tokenRequest(
      h,
      { grant_type: "authorization_code", code: code2, redirect_uri: REDIRECT_URL, code_verifier: pair2.verifier },
      { Authorization: `Basic ${basic}` },
    );
    assert.equal(withSecret.status, 200, JSON.stringify(withSecret.body));
    const revoked = await h.fetch("/oauth/revoke", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${basic}` },
      body: new URLSearchParams({ token: withSecret.body.refresh_token }),
    });
    assert.equal(revoked.status, 200);
    assert.equal((await callTool(h, withSecret.body.access_token, "get_usage")).status, 401);
  });

  it("never reads a token from the query string", async () => {
    const { tokens } = await grantFor(h, clientId, KEYS.alice);
    const res = await h.fetch(`/mcp?access_token=${tokens.access_token}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(res.status, 401);
  });

  it("keeps keys apart: bob's OAuth token cannot see alice's job", async () => {
    const alice = (await grantFor(h, clientId, KEYS.alice)).tokens;
    const bob = (await grantFor(h, clientId, KEYS.bob)).tokens;
    const started = await (await callTool(h, alice.access_token, "generate_image", { prompt: "alice's own" })).json();
    const jobId = started.result.structuredContent.job_id;
    assert.ok(jobId);
    const asBob = await (await callTool(h, bob.access_token, "get_job_status", { job_id: jobId })).json();
    assert.equal(asBob.result.isError, true, JSON.stringify(asBob));
    assert.ok(!JSON.stringify(asBob).includes("alice's own"));
    const asAlice = await (await callTool(h, alice.access_token, "get_job_status", { job_id: jobId })).json();
    assert.ok(!asAlice.result.isError, JSON.stringify(asAlice));
  });
});

describe("a key removed, or its token changed, ends its grants", () => {
  let dir;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "mcp-e2e-oauth-keys-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("ends the grants of a removed key and of a changed token, and keeps the others", async () => {
    const carol = "carol-token-31gg55hh66ii";
    let tokens;
    const first = await startHarness({ persistDir: dir, vars: { API_KEYS: apiKeys({ ...KEYS, carol }) } });
    try {
      const clientId = (await register(first)).client_id;
      tokens = {
        alice: (await grantFor(first, clientId, KEYS.alice)).tokens,
        bob: (await grantFor(first, clientId, KEYS.bob)).tokens,
        carol: (await grantFor(first, clientId, carol)).tokens,
        clientId,
      };
      for (const who of ["alice", "bob", "carol"]) {
        assert.equal((await callTool(first, tokens[who].access_token, "get_usage")).status, 200, who);
      }
    } finally {
      await first.dispose();
    }
    // bob removed, alice's token changed, carol unchanged.
    const second = await startHarness({
      persistDir: dir,
      migrate: false,
      vars: { API_KEYS: apiKeys({ alice: "alice-token-31-rotated-zz", carol }) },
    });
    try {
      for (const who of ["alice", "bob"]) {
        assert.equal((await callTool(second, tokens[who].access_token, "get_usage")).status, 401, who);
        const refresh = await tokenRequest(second, { grant_type: "refresh_token", refresh_token: tokens[who].refresh_token, client_id: tokens.clientId });
        assert.equal(refresh.body.error, "invalid_grant", who);
      }
      assert.equal((await callTool(second, tokens.carol.access_token, "get_usage")).status, 200);
      const live = await second.query("SELECT subject FROM oauth_grants WHERE revoked_at IS NULL ORDER BY subject");
      assert.deepEqual(live.map((r) => r.subject), ["carol"]);
    } finally {
      await second.dispose();
    }
  });
});

describe("client registration is rate limited per client address", () => {
  const LIMIT = 3;
  const h = useHarness({ vars: { API_KEYS: apiKeys(KEYS) }, registrationLimit: { limit: LIMIT, period: 60 } });

  const registerFrom = (address, name) =>
    h.fetch("/oauth/register", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": address },
      body: JSON.stringify({ client_name: name, redirect_uris: [REDIRECT_URL], token_endpoint_auth_method: "none" }),
    });
  const rows = async (name) => (await h.query("SELECT COUNT(*) AS n FROM oauth_clients WHERE client_name = ?", name))[0].n;

  it(`registers ${LIMIT} clients a period from one address, then answers 429 with Retry-After and stores nothing; another address is counted apart`, async () => {
    for (let i = 0; i < LIMIT; i++) {
      const res = await registerFrom("203.0.113.7", "flood");
      assert.equal(res.status, 201, await res.text());
    }
    const refused = await registerFrom("203.0.113.7", "flood");
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get("retry-after"), "60");
    assert.equal(refused.headers.get("cache-control"), "no-store");
    const body = await refused.json();
    assert.equal(body.error, "temporarily_unavailable");
    assert.match(body.error_description, /too many client registrations from this address: at most \d+ every 60 s/);
    assert.equal(await rows("flood"), LIMIT, "the refused registration stored no client");

    const other = await registerFrom("198.51.100.9", "elsewhere");
    assert.equal(other.status, 201, await other.text());
    assert.equal(await rows("elsewhere"), 1);
    assert.doesNotMatch(h.logText(100000), /203\.0\.113\.7|198\.51\.100\.9/, "no address in the logs");
  });
});
