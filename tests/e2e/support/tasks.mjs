// Helpers for the tasks tests (41–43): raw JSON-RPC in either protocol form, the official
// 2025-11-25 JSON schema (tests/schema/mcp, through Ajv's draft 2020-12 validator), the
// ext-tasks package's own v1/v2 parsers, and SSE bodies split into messages.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import * as v1 from "@modelcontextprotocol/ext-tasks/core/v1";
import * as v2 from "@modelcontextprotocol/ext-tasks/core/v2";
import { ROOT } from "../harness.mjs";

export { v1, v2 };
export const CORE = "2025-11-25";
export const MODERN = "2026-07-28";
export const EXTENSION_ID = "io.modelcontextprotocol/tasks";

const SCHEMA_ID = "https://modelcontextprotocol.io/schema/2025-11-25.json";
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema({ ...JSON.parse(fs.readFileSync(path.join(ROOT, "tests/schema/mcp/2025-11-25.json"), "utf8")), $id: SCHEMA_ID });

/** Checks `value` against the official 2025-11-25 definition `name`. */
export function assertOfficial(name, value) {
  const validate = ajv.getSchema(`${SCHEMA_ID}#/$defs/${name}`);
  assert.ok(validate, `no definition ${name}`);
  assert.ok(validate(value), `${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 1500)}`);
}

/** Checks a tool result's structuredContent against the tool's own outputSchema (draft 2020-12). */
export function assertOutputSchema(tool, structuredContent) {
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(tool.outputSchema);
  assert.ok(validate(structuredContent), `${tool.name} outputSchema: ${JSON.stringify(validate.errors)}`);
}

/** Checks `value` with an ext-tasks zod schema (`v1.XSchema` or `v2.XSchema`). */
export function assertParses(schema, value, label) {
  const parsed = schema.safeParse(value);
  assert.ok(parsed.success, `${label}: ${parsed.error}\n${JSON.stringify(value).slice(0, 1500)}`);
  return parsed.data;
}

/** Every JSON-RPC message of an SSE body. */
export function sseMessages(text) {
  return text
    .split("\n\n")
    .map((event) =>
      event
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("\n"),
    )
    .filter(Boolean)
    .map((data) => JSON.parse(data));
}

let nextId = 1;

/** A 2025-11-25 request (no session: the server is stateless). Returns {status, message, messages}. */
export async function coreRpc(h, method, params, { token } = {}) {
  const r = await h.rpc({ jsonrpc: "2.0", id: nextId++, method, params }, { token, headers: { "MCP-Protocol-Version": CORE } });
  const messages = r.headers.get("content-type")?.includes("text/event-stream") ? sseMessages(r.text) : [r.json];
  return { status: r.status, message: messages.at(-1), messages, headers: r.headers };
}

/** A 2026-07-28 request, with the tasks extension declared unless `tasks: false`. */
export async function modernRpc(h, method, params = {}, { token, tasks = true, name } = {}) {
  const capabilities = tasks ? { extensions: { [EXTENSION_ID]: {} } } : {};
  const body = {
    jsonrpc: "2.0",
    id: nextId++,
    method,
    params: {
      ...params,
      _meta: { "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": capabilities },
    },
  };
  const headers = { "MCP-Protocol-Version": MODERN, "Mcp-Method": method };
  const mcpName = name ?? params.name ?? params.taskId;
  if (mcpName !== undefined) headers["Mcp-Name"] = mcpName;
  const r = await h.rpc(body, { token, headers });
  return { status: r.status, message: r.json, headers: r.headers };
}
