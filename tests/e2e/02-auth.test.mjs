// Bearer authentication on /mcp, and the refusal to run open when AUTH_TOKEN is
// unset or empty.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { uniq, sleep } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const PING = { jsonrpc: "2.0", id: 1, method: "ping" };

function generateCall(prompt) {
  return { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "generate_image", arguments: { prompt } } };
}

describe("bearer auth on /mcp", () => {
  const h = useHarness();

  it("the right token is accepted", async () => {
    const r = await h.rpc(PING);
    assert.equal(r.status, 200, `ping with the right token: ${r.status} ${r.text}`);
    assert.deepEqual(r.json?.result, {});
  });

  it("no Authorization header gives 401 with a WWW-Authenticate: Bearer challenge", async () => {
    const r = await h.rpc(PING, { auth: null });
    assert.equal(r.status, 401, `no header: ${r.status} ${r.text}`);
    const challenge = r.headers.get("www-authenticate");
    assert.ok(challenge, "401 without WWW-Authenticate");
    assert.match(challenge, /^Bearer\b/i, `WWW-Authenticate is "${challenge}"`);
  });

  it("an Authorization header not of the form 'Bearer <token>' gives 400", async () => {
    for (const auth of [`Basic ${Buffer.from("user:pass").toString("base64")}`, `Token ${h.token}`, h.token, "Bearer", "Bearer    "]) {
      const r = await h.rpc(PING, { auth });
      assert.equal(r.status, 400, `Authorization "${auth}" gave ${r.status} ${r.text}`);
    }
  });

  it("a wrong bearer token gives 401", async () => {
    for (const tok of ["wrong-token", h.token.toUpperCase(), h.token.slice(0, -1), `${h.token}x`]) {
      const r = await h.rpc(PING, { token: tok });
      assert.equal(r.status, 401, `token "${tok}" gave ${r.status} ${r.text}`);
    }
  });

  it("rejected requests run nothing: a tools/call generate_image with a bad token creates no job and calls no model", async () => {
    const prompt = `unauthorised fox ${uniq()}`;
    const before = await h.count("generation_jobs");
    for (const opts of [{ auth: null }, { token: "wrong-token" }, { auth: "Basic abc" }]) {
      const r = await h.rpc(generateCall(prompt), opts);
      assert.ok(r.status === 400 || r.status === 401, `unexpected status ${r.status}`);
    }
    await sleep(1500);
    assert.equal(await h.count("generation_jobs"), before, "a job row was created by an unauthorised call");
    assert.equal(h.recorder.callsFor(prompt).length, 0, "the model was called for an unauthorised request");
  });

  it("the official SDK client cannot connect with a wrong token", async () => {
    const transport = new StreamableHTTPClientTransport(h.mcpUrl, {
      requestInit: { headers: { Authorization: "Bearer wrong-token" } },
    });
    const client = new Client({ name: "e2e-bad-token", version: "1.0.0" });
    await assert.rejects(client.connect(transport), "connect() with a wrong token should fail");
    await client.close().catch(() => {});
  });

  it("the official SDK client connects with the right token", async () => {
    const client = await h.mcpClient();
    assert.equal(client.getServerVersion()?.name, "mcp-image-generator");
  });
});

for (const [label, value] of [
  ["unset", undefined],
  ["empty", ""],
]) {
  describe(`AUTH_TOKEN ${label}: the server refuses every /mcp request (never open)`, () => {
    const h = useHarness({ vars: { AUTH_TOKEN: value } });

    it("answers /mcp with a 5xx error that says why, whatever the Authorization header", async () => {
      for (const opts of [{ auth: null }, { token: "anything" }, { token: "" }, { auth: "Bearer undefined" }]) {
        const r = await h.rpc(PING, opts);
        assert.ok(r.status >= 500 && r.status < 600, `AUTH_TOKEN ${label}, ${JSON.stringify(opts)}: got ${r.status} ${r.text}`);
        assert.match(r.text, /AUTH_TOKEN/i, `the error should name AUTH_TOKEN; body: ${r.text}`);
      }
    });

    it("runs no tool: generate_image creates no job and calls no model", async () => {
      const prompt = `open door ${uniq()}`;
      const r = await h.rpc(generateCall(prompt), { token: "anything" });
      assert.ok(r.status >= 500, `got ${r.status}`);
      await sleep(1000);
      assert.equal(await h.count("generation_jobs"), 0);
      assert.equal(h.recorder.callsFor(prompt).length, 0);
    });
  });
}
