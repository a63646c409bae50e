// The official Python MCP client (PyPI mcp==2.3.0, in .venv-clients/) against the built
// worker: Streamable HTTP in its default probing mode (server/discover → 2026-07-28), in
// legacy mode (initialize → 2025-11-25), pinned to 2026-07-28, and its HTTP+SSE client.
// Each run lists the tools and calls generate_image_and_wait; the image_url is fetched
// and must be a real image. python/mcp_client.py prints one JSON report per run,
// including the JSON-RPC methods it POSTed (httpx2 event hooks), which shows the
// negotiation on the wire.
// With --read-resource the client also lists resources and templates and reads the image back
// through resources/read: the bytes must equal the stored R2 object.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, TOOL_NAMES, SERVER_NAME, uniq, keyFromWorkerUrl } from "../e2e/harness.mjs";
import { requireInstalled, run, lastJson, describeRun, fetchRealImage, VENV_PYTHON, PY_CLIENT } from "./lib.mjs";

const MODERN = "2026-07-28";
const LEGACY = "2025-11-25";

describe("Python mcp client (mcp==2.3.0)", { concurrency: true }, () => {
  let h;
  before(async () => {
    requireInstalled();
    h = await startHarness();
  });
  after(async () => {
    await h?.dispose();
  });

  /** Runs python/mcp_client.py; returns its JSON report after the common assertions. */
  async function pyClient(label, args, { progress = false, readResource = false } = {}) {
    // With progress, the stand-in takes a little longer so the wait has something to report.
    const prompt = `a red fox in the snow ${uniq(label)}${progress ? " [delay=400]" : ""}`;
    const extra = [...(progress ? ["--progress"] : []), ...(readResource ? ["--read-resource"] : [])];
    const r = await run(VENV_PYTHON, [PY_CLIENT, ...args, ...extra, "--arguments", JSON.stringify({ prompt }), "--timeout", "60"], {
      env: { MCP_TOKEN: h.token, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
      timeout: 150000,
    });
    const out = lastJson(label, r);
    const why = () => `${describeRun(label, r)}\n--- worker log\n${h.logText(20)}`;
    assert.equal(out.ok, true, `${label} failed: ${out.error}\n${why()}`);
    assert.equal(r.code, 0, why());
    assert.equal(out.mcp_version, "2.3.0");
    // (with a pinned modern version the client makes no discover call, so it has no serverInfo)
    if (out.mode !== MODERN) assert.equal(out.server_info?.name, SERVER_NAME, why());
    assert.deepEqual(out.tools, TOOL_NAMES, "every tool of the golden file, in order");
    const call = out.call;
    assert.equal(call?.is_error, false, why());
    assert.equal(call.data?.success, true, JSON.stringify(call));
    assert.equal(call.data.status, "completed");
    assert.equal(call.data.prompt, prompt);
    assert.deepEqual(call.structured, call.data, "structuredContent mirrors the text JSON");
    const image = await fetchRealImage(call.data.image_url);
    assert.equal(image.format, "jpeg", "flux-schnell (the default model) gives a JPEG");
    if (progress) {
      const values = call.progress.map(([value]) => value);
      assert.ok(values.length >= 1, `no notifications/progress arrived before the result: ${JSON.stringify(out)}`);
      for (const [value, total] of call.progress) assert.ok(total === 1 && value >= 0 && value <= 1, JSON.stringify(call.progress));
      assert.deepEqual([...values].sort((a, b) => a - b), values, "progress never goes backwards");
    }
    if (readResource) {
      const uri = `images://jobs/${call.data.job_id}`;
      const resources = out.resources;
      assert.ok(resources?.listed.includes(uri), `resources/list lacks ${uri}: ${JSON.stringify(resources?.listed)}`);
      assert.deepEqual(resources.templates, ["images://jobs/{job_id}", "images://jobs/{job_id}/thumbnail"]);
      assert.equal(resources.read.count, 1);
      assert.equal(resources.read.uri, uri);
      assert.equal(resources.read.mime_type, "image/jpeg");
      const stored = await h.r2Bytes(keyFromWorkerUrl(call.data.image_url));
      assert.ok(stored, "the image is in R2");
      const read = Buffer.from(resources.read.blob ?? "", "base64");
      assert.ok(read.equals(Buffer.from(stored.bytes)), `read ${read.length} bytes, stored ${stored.bytes.length}`);
    }
    const rows = await h.query("SELECT status FROM generation_jobs WHERE prompt = ?", prompt);
    assert.deepEqual(rows.map((x) => x.status), ["completed"]);
    out.ms = r.ms;
    return out;
  }

  it("streamable HTTP, default mode='auto': probes server/discover and speaks 2026-07-28", async (t) => {
    const out = await pyClient("py-auto", ["--transport", "streamable", "--mode", "auto", "--url", `${h.origin}/mcp`], { readResource: true });
    assert.equal(out.protocol_version, MODERN);
    assert.deepEqual(
      out.sent_methods,
      ["server/discover", "tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read"],
      "no initialize handshake",
    );
    for (const x of out.http) {
      assert.equal(x.method, "POST");
      assert.equal(x.path, "/mcp");
      assert.equal(x.protocol_header, MODERN, JSON.stringify(x));
      assert.equal(x.meta_protocol_version, MODERN, JSON.stringify(x));
      assert.equal(x.status, 200, JSON.stringify(x));
    }
    t.diagnostic(`protocol ${out.protocol_version}, ${out.ms} ms`);
  });

  it("streamable HTTP, mode='legacy': initialize handshake at 2025-11-25", async (t) => {
    const out = await pyClient("py-legacy", ["--transport", "streamable", "--mode", "legacy", "--url", `${h.origin}/mcp`], { readResource: true });
    assert.equal(out.protocol_version, LEGACY);
    assert.deepEqual(out.sent_methods, [
      "initialize",
      "notifications/initialized",
      "tools/list",
      "tools/call",
      "resources/list",
      "resources/templates/list",
      "resources/read",
    ]);
    assert.equal(out.http[0].protocol_header, undefined, "initialize goes without MCP-Protocol-Version");
    assert.equal(out.http[1].status, 202, "notifications/initialized → 202");
    for (const x of out.http.slice(1)) assert.equal(x.protocol_header, LEGACY, JSON.stringify(x));
    t.diagnostic(`protocol ${out.protocol_version}, ${out.ms} ms`);
  });

  it("streamable HTTP, mode='2026-07-28' (pinned, no probe)", async (t) => {
    const out = await pyClient("py-pinned", ["--transport", "streamable", "--mode", MODERN, "--url", `${h.origin}/mcp`]);
    assert.equal(out.protocol_version, MODERN);
    assert.deepEqual(out.sent_methods, ["tools/list", "tools/call"]);
    for (const x of out.http) assert.equal(x.protocol_header, MODERN, JSON.stringify(x));
    t.diagnostic(`protocol ${out.protocol_version}, ${out.ms} ms`);
  });

  it("HTTP+SSE client (sse_client, mode='legacy'): GET /sse + POST /sse/message", async (t) => {
    const out = await pyClient("py-sse", ["--transport", "sse", "--mode", "legacy", "--url", `${h.origin}/sse`], { readResource: true });
    assert.equal(out.protocol_version, LEGACY);
    assert.deepEqual(out.sent_methods, [
      "initialize",
      "notifications/initialized",
      "tools/list",
      "tools/call",
      "resources/list",
      "resources/templates/list",
      "resources/read",
    ]);
    assert.deepEqual(out.http[0], { method: "GET", path: "/sse", status: 200 });
    for (const x of out.http.slice(1)) {
      assert.equal(x.path, "/sse/message", JSON.stringify(x));
      assert.ok(x.status >= 200 && x.status < 300, JSON.stringify(x));
    }
    t.diagnostic(`protocol ${out.protocol_version}, ${out.ms} ms`);
  });

  it("HTTP+SSE client, mode='auto': probes server/discover, falls back to initialize (2026-07-28 is Streamable-HTTP-only here)", async (t) => {
    const out = await pyClient("py-sse-auto", ["--transport", "sse", "--mode", "auto", "--url", `${h.origin}/sse`]);
    assert.equal(out.sent_methods[0], "server/discover");
    if (out.protocol_version === MODERN) {
      assert.deepEqual(out.sent_methods, ["server/discover", "tools/list", "tools/call"]);
    } else {
      assert.equal(out.protocol_version, LEGACY);
      assert.deepEqual(out.sent_methods, ["server/discover", "initialize", "notifications/initialized", "tools/list", "tools/call"]);
    }
    t.diagnostic(`protocol ${out.protocol_version}, ${out.ms} ms`);
  });

  // A progress callback makes the client send _meta.progressToken; the server then answers
  // with an SSE stream (Streamable HTTP) or SSE events (HTTP+SSE): progress, then the result.
  for (const [name, args, want] of [
    ["streamable HTTP mode='auto' (2026-07-28)", ["--transport", "streamable", "--mode", "auto"], MODERN],
    ["streamable HTTP mode='legacy' (2025-11-25)", ["--transport", "streamable", "--mode", "legacy"], LEGACY],
    ["HTTP+SSE", ["--transport", "sse", "--mode", "legacy"], LEGACY],
  ]) {
    it(`${name}: generate_image_and_wait with a progress callback streams progress, then the result`, async (t) => {
      const path = args.includes("sse") ? "/sse" : "/mcp";
      const out = await pyClient(`py-progress-${want}-${path.slice(1)}`, [...args, "--url", `${h.origin}${path}`], { progress: true });
      assert.equal(out.protocol_version, want);
      t.diagnostic(`progress ${JSON.stringify(out.call.progress)}, ${out.ms} ms`);
    });
  }
});
