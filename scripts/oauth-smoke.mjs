// A newcomer's OAuth run against a running server (e.g. `bash scripts/dev.sh`): the official
// MCP TypeScript SDK client, given only the URL, goes 401 → discovery → registration → consent
// (approved with TOKEN, as a person would on the page) → token → tools/call → refresh.
//
//   node scripts/oauth-smoke.mjs [http://localhost:8787] [token]
//
// The token defaults to AUTH_TOKEN from .dev.vars. Prints each step; exits non-zero on failure.
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError, auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { MemoryOAuthProvider, consent } from "../tests/e2e/support/oauth.mjs";

const origin = new URL(process.argv[2] ?? "http://localhost:8787").origin;
const token =
  process.argv[3] ??
  readFileSync(new URL("../.dev.vars", import.meta.url), "utf8").match(/^AUTH_TOKEN=["']?([^"'\n]+)/m)?.[1];
const server = { origin, fetch: (path, init) => fetch(new URL(path, origin), init) };
const mcpUrl = new URL("/mcp", origin);
const step = (text) => console.log(`[oauth-smoke] ${text}`);

const provider = new MemoryOAuthProvider({ clientName: "oauth-smoke (SDK)" });
const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
try {
  await new Client({ name: "oauth-smoke", version: "1.0.0" }).connect(first);
  throw new Error("expected a 401 first");
} catch (error) {
  if (!(error instanceof UnauthorizedError)) throw error;
}
step(`401 → discovery → registered client ${provider.clientInformation().client_id} → ${provider.authorizationUrl.origin}${provider.authorizationUrl.pathname}`);
const { location } = await consent(server, provider.authorizationUrl, { token });
step(`consent approved → redirected with code, iss=${location.searchParams.get("iss")}`);
await first.finishAuth(location.searchParams.get("code"));
step(`token: scope "${provider.tokens().scope}", expires_in ${provider.tokens().expires_in} s`);
const client = new Client({ name: "oauth-smoke", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
const result = await client.callTool({ name: "generate_image_and_wait", arguments: { prompt: "a lighthouse at dawn, oauth smoke test" } });
if (result.isError) throw new Error(JSON.stringify(result));
step(`tools/call generate_image_and_wait → ${result.structuredContent.status} ${result.structuredContent.image_url}`);
await client.close();
const before = provider.tokens().access_token;
if ((await auth(provider, { serverUrl: mcpUrl })) !== "AUTHORIZED" || provider.tokens().access_token === before) {
  throw new Error("refresh failed");
}
step("refresh → new access token; done");
