// OAuth helpers for the e2e files 30–33: an in-memory OAuthClientProvider for the official
// SDK (client/auth.js), and the person at the consent page, played with fetch: read the form
// the server rendered, fill the token field, press Approve or Deny, follow nothing.
import { createHash, randomBytes } from "node:crypto";
import assert from "node:assert/strict";

export const REDIRECT_URL = "http://127.0.0.1:33418/callback";

/** An OAuthClientProvider that keeps everything in memory and records the redirect. */
export class MemoryOAuthProvider {
  constructor({ redirectUrl = REDIRECT_URL, clientName = "e2e SDK client", clientInformation, clientMetadataUrl, scope } = {}) {
    this._redirectUrl = redirectUrl;
    this._clientInformation = clientInformation;
    this._tokens = undefined;
    this._verifier = undefined;
    this.clientMetadataUrl = clientMetadataUrl;
    this.authorizationUrl = undefined;
    this.metadata = {
      client_name: clientName,
      redirect_uris: [redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      ...(scope ? { scope } : {}),
    };
  }
  get redirectUrl() {
    return this._redirectUrl;
  }
  get clientMetadata() {
    return this.metadata;
  }
  state() {
    return randomBytes(12).toString("hex");
  }
  clientInformation() {
    return this._clientInformation;
  }
  saveClientInformation(info) {
    this._clientInformation = info;
  }
  tokens() {
    return this._tokens;
  }
  saveTokens(tokens) {
    this._tokens = tokens;
  }
  redirectToAuthorization(url) {
    this.authorizationUrl = new URL(url);
  }
  saveCodeVerifier(verifier) {
    this._verifier = verifier;
  }
  codeVerifier() {
    return this._verifier;
  }
}

/** The hidden and named fields of the consent page's form, as a browser would submit them. */
export function consentFields(html) {
  const fields = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1]] = decodeEntities(match[2]);
  }
  return fields;
}

function decodeEntities(text) {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/**
 * Opens the authorization URL and answers the consent page: `decision` "approve" (signing in
 * with `token`) or "deny". Returns the redirect's URL (code or error, state, iss) and the page.
 */
export async function consent(h, authorizationUrl, { token, decision = "approve" } = {}) {
  // /oauth/authorize checks the request and sends the browser to the consent page (/gallery/authorize).
  const first = await fetch(authorizationUrl, { redirect: "manual" });
  assert.equal(first.status, 303, `authorize: ${first.status} ${(await first.text()).slice(0, 300)}`);
  const consentUrl = new URL(first.headers.get("location"), authorizationUrl);
  assert.equal(consentUrl.pathname, "/gallery/authorize");
  const page = await fetch(consentUrl, { redirect: "manual" });
  const html = await page.text();
  assert.equal(page.status, 200, `consent page: ${page.status} ${html.slice(0, 300)}`);
  const fields = consentFields(html);
  const body = new URLSearchParams({ ...fields, decision, ...(token ? { token } : {}) });
  const answer = await h.fetch("/gallery/authorize", {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: h.origin, "Sec-Fetch-Site": "same-origin" },
    body,
  });
  const location = answer.headers.get("location");
  return { status: answer.status, location: location ? new URL(location) : undefined, html, fields, answerText: location ? "" : await answer.text() };
}

/** A PKCE pair (RFC 7636 S256). */
export function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

/** Registers a public client with DCR; returns its client_id. */
export async function register(h, { redirectUris = [REDIRECT_URL], name = "raw e2e client", extra = {} } = {}) {
  const res = await h.fetch("/oauth/register", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ client_name: name, redirect_uris: redirectUris, token_endpoint_auth_method: "none", ...extra }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

/** The authorization URL of a raw (non-SDK) request. */
export function authorizeUrl(h, params) {
  const url = new URL("/oauth/authorize", h.origin);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url;
}

/** POST /oauth/token with form fields; returns {status, body}. */
export async function tokenRequest(h, fields, headers = {}) {
  const res = await h.fetch("/oauth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/**
 * A whole raw flow for `clientId`: authorize (approved with `token`), then exchange the code.
 * Returns {tokens, code, pkce, redirect}.
 */
export async function grantFor(h, clientId, token, { scope, resource, redirectUri = REDIRECT_URL } = {}) {
  const pair = pkce();
  const url = authorizeUrl(h, {
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: pair.challenge,
    code_challenge_method: "S256",
    state: "s-1",
    scope,
    resource,
  });
  const { location } = await consent(h, url, { token });
  const code = location.searchParams.get("code");
  assert.ok(code, `no code in ${location}`);
  const { status, body } = await tokenRequest(h, {
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    code_verifier: pair.verifier,
    client_id: clientId,
  });
  assert.equal(status, 200, JSON.stringify(body));
  return { tokens: body, code, pkce: pair };
}

/** A raw JSON-RPC tools/call on /mcp with a bearer token; returns the Response. */
export function callTool(h, token, name, args = {}) {
  return h.fetch("/mcp", {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token}`,
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2025-06-18",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } }),
  });
}

export async function grantCount(h) {
  const rows = await h.query("SELECT COUNT(*) AS n FROM oauth_grants WHERE revoked_at IS NULL");
  return rows[0].n;
}
