// The protocol floor: a JS worker that answers each MCP request with canned JSON.
//
// It does what any MCP server must do before its own work (read the body, check the
// bearer token, parse the JSON-RPC message, echo the request id) and then returns the
// bytes this server answered to the same request (captured by bench/floors.mjs at the
// start of the run and loaded through POST /__load). So its answers have the same size
// as ours (and the same headers), and their cost is the runtime's: HTTP in, JSON.parse,
// HTTP out.

/** key → [text before the id, text after the id, headers] of the captured answer. */
let canned = null;

/** The key the bench captured an answer under: the method, and for tools/call the tool and count. */
function keyOf(message) {
  if (message.method !== "tools/call") return message.method;
  const args = message.params?.arguments ?? {};
  return `tools/call:${message.params?.name}:${args.count ?? 1}`;
}

function jsonError(status, text) {
  return new Response(JSON.stringify({ error: text }), { status, headers: { "content-type": "application/json" } });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/__load" && request.method === "POST") {
      canned = await request.json();
      return new Response("loaded");
    }
    if (url.pathname !== "/mcp" || request.method !== "POST") return jsonError(404, "not found");
    if (request.headers.get("authorization") !== `Bearer ${env.AUTH_TOKEN}`) return jsonError(401, "unauthorized");
    let message;
    try {
      message = JSON.parse(await request.text());
    } catch {
      return jsonError(400, "parse error");
    }
    const answer = canned?.[keyOf(message)];
    // The bench checks every status: a missing canned answer fails the run loudly.
    if (!answer) return jsonError(500, `protocol floor: nothing canned for ${keyOf(message)}`);
    return new Response(answer[0] + JSON.stringify(message.id ?? null) + answer[1], { headers: answer[2] });
  },
};
