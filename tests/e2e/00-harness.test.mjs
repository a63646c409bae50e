// Self-test of the e2e harness, independent of the server build: a small probe
// worker takes the server's place and exercises the Workers AI stand-in, the
// recorder and Miniflare's D1/R2/Queues bindings. If these fail, the harness is
// broken (not the server).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  MODEL_IDS,
  sniff,
  decodes,
  FAIL_ALWAYS_MESSAGE,
  FAIL_ONCE_MESSAGE,
  uniq,
  waitFor,
} from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const PROBE = `
function b64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/ai-constructor") {
      return Response.json({ name: env.AI.constructor.name, hasRun: typeof env.AI.run === "function" });
    }
    if (url.pathname === "/run") {
      const { model, prompt } = await request.json();
      try {
        const out = await env.AI.run(model, { prompt });
        if (out instanceof ReadableStream) {
          const bytes = new Uint8Array(await new Response(out).arrayBuffer());
          return Response.json({ kind: "stream", b64: b64(bytes) });
        }
        return Response.json({ kind: "object", value: out });
      } catch (err) {
        return Response.json({ kind: "error", message: String(err && err.message), ctor: err && err.constructor && err.constructor.name });
      }
    }
    if (url.pathname === "/outbound") {
      const res = await fetch(url.searchParams.get("to"), { method: url.searchParams.get("method") ?? "GET" });
      return Response.json({ status: res.status, text: await res.text() });
    }
    if (url.pathname === "/enqueue") {
      await env.IMAGE_QUEUE.send(await request.json());
      return new Response("ok");
    }
    return new Response("probe", { status: 404 });
  },
  async queue(batch, env) {
    for (const msg of batch.messages) {
      if (batch.queue === "image-generation-queue" && msg.body.fail) {
        msg.retry();
        continue;
      }
      await env.DB.prepare("INSERT INTO generation_jobs (id, status, prompt, model, created_at, updated_at) VALUES (?, 'completed', ?, 'flux-schnell', 0, 0)")
        .bind(msg.body.jobId, batch.queue).run();
      msg.ack();
    }
  },
};
`;

describe("e2e harness self-test (probe worker in place of the server)", () => {
  const h = useHarness({
    serverWorker: { mainModule: "probe.mjs", modules: { "probe.mjs": { type: "esm", contents: PROBE } } },
  });

  async function run(model, prompt) {
    const res = await h.fetch("/run", { method: "POST", body: JSON.stringify({ model, prompt }) });
    assert.equal(res.status, 200);
    return res.json();
  }

  it("applies every migration, creating the job and gallery tables", async () => {
    assert.ok(h.migrations.length >= 1, "no migration files were applied");
    const tables = (await h.query("SELECT name FROM sqlite_master WHERE type = 'table'")).map((r) => r.name);
    for (const t of ["generation_jobs", "generations"]) assert.ok(tables.includes(t), `table ${t} missing; have ${tables}`);
  });

  it("gives the worker an env.AI whose constructor is named Ai (what workers-rs env.ai() checks)", async () => {
    const res = await h.fetch("/ai-constructor");
    assert.deepEqual(await res.json(), { name: "Ai", hasRun: true });
  });

  it("answers FLUX with {image: base64 of a real JPEG} and records the prompt", async () => {
    const prompt = `a red fox ${uniq()}`;
    const out = await run(MODEL_IDS["flux-schnell"], prompt);
    assert.equal(out.kind, "object");
    const bytes = Buffer.from(out.value.image, "base64");
    assert.equal(sniff(bytes), "jpeg");
    assert.ok(decodes(bytes), "FLUX stand-in JPEG does not decode");
    assert.deepEqual(new Uint8Array(bytes), h.images[MODEL_IDS["flux-schnell"]]);
    const calls = h.recorder.callsFor(prompt);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].model, MODEL_IDS["flux-schnell"]);
    assert.equal(calls[0].inputs.prompt, prompt);
    assert.equal(calls[0].attempt, 1);
  });

  for (const key of ["sdxl-lightning", "sdxl-base"]) {
    it(`answers ${key} with a ReadableStream of real PNG bytes, distinct per model`, async () => {
      const out = await run(MODEL_IDS[key], `a green hill ${uniq()}`);
      assert.equal(out.kind, "stream");
      const bytes = Buffer.from(out.b64, "base64");
      assert.equal(sniff(bytes), "png");
      assert.ok(decodes(bytes), `${key} stand-in PNG does not decode`);
      assert.deepEqual(new Uint8Array(bytes), h.images[MODEL_IDS[key]]);
      assert.ok(bytes.length > 64 * 1024, "SDXL PNG should be big enough to arrive in several chunks");
    });
  }

  it("makes the three models' images distinct", () => {
    const [a, b, c] = Object.values(h.images).map((x) => Buffer.from(x).toString("base64"));
    assert.notEqual(a, b);
    assert.notEqual(b, c);
    assert.notEqual(a, c);
  });

  it("[fail-once] throws on the first call only; [fail-always] always throws the stand-in error", async () => {
    const once = `flaky ${uniq()} [fail-once]`;
    const first = await run(MODEL_IDS["flux-schnell"], once);
    assert.deepEqual(first.kind, "error");
    assert.equal(first.message, FAIL_ONCE_MESSAGE);
    const second = await run(MODEL_IDS["flux-schnell"], once);
    assert.equal(second.kind, "object");
    assert.deepEqual(h.recorder.callsFor(once).map((c) => c.attempt), [1, 2]);

    const always = `broken ${uniq()} [fail-always]`;
    for (let i = 0; i < 2; i++) {
      const r = await run(MODEL_IDS["sdxl-base"], always);
      assert.equal(r.kind, "error");
      assert.equal(r.message, FAIL_ALWAYS_MESSAGE);
    }
  });

  it("[junk], [bad-base64] and [no-image] give right-shaped outputs without an image", async () => {
    const junk = await run(MODEL_IDS["flux-schnell"], `x ${uniq()} [junk]`);
    assert.equal(sniff(Buffer.from(junk.value.image, "base64")), null);
    const junkStream = await run(MODEL_IDS["sdxl-lightning"], `x ${uniq()} [junk]`);
    assert.equal(junkStream.kind, "stream");
    assert.equal(sniff(Buffer.from(junkStream.b64, "base64")), null);
    const bad = await run(MODEL_IDS["flux-schnell"], `x ${uniq()} [bad-base64]`);
    assert.deepEqual(bad.value, { image: "not base64!!" });
    const none = await run(MODEL_IDS["flux-schnell"], `x ${uniq()} [no-image]`);
    assert.deepEqual(none.value, {});
  });

  it("[delay=N] holds the answer for about N ms", async () => {
    const t0 = Date.now();
    await run(MODEL_IDS["flux-schnell"], `slow ${uniq()} [delay=600]`);
    assert.ok(Date.now() - t0 >= 550, `answered after ${Date.now() - t0} ms`);
  });

  it("delivers queue messages to the worker's consumer through Miniflare's real queue", async () => {
    const jobId = uniq("job");
    await h.queue.send({ jobId });
    const row = await waitFor(() => h.job(jobId), { timeout: 10000, message: "probe consumer to write the row" });
    assert.equal(row.prompt, "image-generation-queue");
  });

  it("retries a message 3 times, then dead-letters it to the DLQ consumer, and reports each batch in the log", async () => {
    const jobId = uniq("dead");
    await h.queue.send({ jobId, fail: true });
    const row = await waitFor(() => h.job(jobId), { timeout: 15000, message: "DLQ consumer to write the row" });
    assert.equal(row.prompt, "image-generation-dlq");
    const main = h.queueDeliveries("image-generation-queue").filter((d) => d.acked === 0);
    assert.ok(main.length >= 4, `expected 4 failed deliveries, log:\n${h.logText()}`);
    await waitFor(() => h.queueDeliveries("image-generation-dlq").length >= 1, { message: "DLQ delivery log line" });
    assert.equal(h.deadLettered().length, 1);
  });

  it("reads and writes Miniflare's real R2 bucket", async () => {
    await h.r2.put("probe/x.bin", new Uint8Array([1, 2, 3]), { httpMetadata: { contentType: "application/x-probe" } });
    const got = await h.r2Bytes("probe/x.bin");
    assert.deepEqual([...got.bytes], [1, 2, 3]);
    assert.equal(got.httpMetadata.contentType, "application/x-probe");
    await h.r2.delete("probe/x.bin");
  });
});

describe("e2e harness self-test: recordOutbound catches the server's outbound fetches", () => {
  const h = useHarness({
    recordOutbound: true,
    serverWorker: { mainModule: "probe.mjs", modules: { "probe.mjs": { type: "esm", contents: PROBE } } },
  });

  it("records method and URL of each fetch() and answers 599 without reaching the network", async () => {
    assert.deepEqual(h.outboundRequests, [], "nothing recorded before the probe fetches");
    const targets = [
      ["GET", "https://example.com/x.png"],
      ["HEAD", "http://192.0.2.1:8080/private?a=1"],
    ];
    for (const [method, to] of targets) {
      const res = await h.fetch(`/outbound?method=${method}&to=${encodeURIComponent(to)}`);
      const body = await res.json();
      assert.equal(body.status, 599, JSON.stringify(body));
      if (method === "GET") assert.match(body.text, /recorded, not sent/); // a HEAD answer has no body
    }
    assert.deepEqual(
      h.outboundRequests.map(({ method, url }) => [method, url]),
      targets,
    );
    assert.ok(h.outboundRequests.every((r) => Number.isFinite(r.at)));
  });

  it("bindings do not go through it: AI, D1 and R2 calls leave outboundRequests as it was", async () => {
    const before = h.outboundRequests.length;
    const res = await h.fetch("/run", { method: "POST", body: JSON.stringify({ model: MODEL_IDS["flux-schnell"], prompt: `a cat ${uniq()}` }) });
    assert.equal((await res.json()).kind, "object");
    await h.queue.send({ jobId: uniq("job") });
    await waitFor(() => h.queueDeliveries("image-generation-queue").length >= 1, { message: "a queue delivery" });
    assert.equal(h.outboundRequests.length, before);
  });
});
