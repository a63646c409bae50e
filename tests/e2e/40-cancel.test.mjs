// Cancellation for every client: cancel_job before processing (the model is never called),
// during processing (the slow stand-in's late image is discarded: no R2 object, no gallery row,
// no thumbnail), after completion (a tool error), another key's job (not found), the daily quota
// given back, wait_for_completion reporting the job as cancelled, list_jobs' cancelled filter,
// both transports, and the gallery's Cancel button (same-origin form POST).
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { callTool, uniq, waitFor } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import { getPage, postLogin, sessionSetCookie, COOKIE_NAME } from "./support/gallery.mjs";

const KEYS = { alice: "alice-token-40cancel-7f3a", bob: "bob-token-40cancel-4e8d" };
const QUOTA = 6;

/** Starts one job as `client`; returns its id. */
async function start(client, prompt) {
  const { result, data } = await callTool(client, "generate_image", { prompt });
  assert.ok(!result.isError, JSON.stringify(data));
  return data.job_id;
}

const modelCallsFor = (h, prompt) => h.recorder.calls.filter((call) => call.prompt === prompt);

async function keyCookie(h, token) {
  const res = await postLogin(h, { token });
  await res.arrayBuffer();
  assert.equal(res.status, 303);
  return `${COOKIE_NAME}=${sessionSetCookie(res).value}`;
}

describe("cancel_job", () => {
  let alice;
  let bob;
  const h = useHarness({
    vars: {
      API_KEYS: apiKeys(KEYS),
      DAILY_IMAGE_QUOTA: String(QUOTA),
    },
  });
  before(async () => {
    alice = await h.mcpClient({ token: KEYS.alice });
    bob = await h.mcpClient({ token: KEYS.bob });
  });

  it("is listed with its arguments and as a destructive, non-read-only tool", async () => {
    const { tools } = await alice.listTools();
    const tool = tools.find((t) => t.name === "cancel_job");
    assert.ok(tool, "cancel_job is listed");
    assert.deepEqual(Object.keys(tool.inputSchema.properties).sort(), ["job_id", "job_ids"]);
    assert.equal(tool.annotations.readOnlyHint, false);
    assert.equal(tool.annotations.destructiveHint, true);
  });

  it("cancels a processing job and a pending one: the pending one never reaches the model, the processing one's image is discarded", async () => {
    const slowPrompt = `slow lighthouse ${uniq("cancel")} [delay=4000]`;
    const queuedPrompt = `queued fox ${uniq("cancel")}`;
    const usageBefore = (await callTool(alice, "get_usage", {})).data;
    const slow = await start(alice, slowPrompt);
    const queued = await start(alice, queuedPrompt);
    const usageStarted = (await callTool(alice, "get_usage", {})).data;
    assert.equal(usageStarted.images_today, usageBefore.images_today + 2);
    assert.ok(usageStarted.neurons_today > usageBefore.neurons_today, "the two jobs' estimate is counted");
    // Miniflare's queue delivers one batch at a time: the slow job holds the queued one back.
    await h.waitForJob(slow, "processing");
    await waitFor(() => modelCallsFor(h, slowPrompt).length > 0, { message: "the slow job's model call" });
    assert.equal((await h.job(queued)).status, "pending");

    const { result, data } = await callTool(alice, "cancel_job", { job_ids: [queued, slow] });
    assert.ok(!result.isError, JSON.stringify(data));
    assert.deepEqual(data.cancelled_job_ids, [queued, slow]);
    assert.deepEqual(
      data.jobs.map((j) => [j.job_id, j.cancelled, j.status]),
      [
        [queued, true, "cancelled"],
        [slow, true, "cancelled"],
      ],
    );
    // Both messages are consumed (acknowledged); the slow job's late answer is discarded.
    const acked = () => h.queueDeliveries("image-generation-queue").reduce((n, d) => n + d.acked, 0);
    await waitFor(() => acked() >= 2, { timeout: 20000, message: "both messages acknowledged" });
    assert.match(h.logText(100000), new RegExp(`job ${slow}: cancelled while generating; its image is discarded`));
    for (const id of [slow, queued]) {
      const row = await h.job(id);
      assert.equal(row.status, "cancelled", id);
      assert.equal(row.image_url, null, id);
      assert.equal(row.thumbnail_url, null, id);
      assert.equal(await h.count("generations", "job_id = ?", id), 0, `${id} has no gallery row`);
    }
    const stored = (await h.r2Objects()).filter((o) => o.customMetadata?.jobId === slow || o.key.includes(slow));
    assert.deepEqual(stored.map((o) => o.key), [], "nothing of the cancelled job is stored in R2");
    assert.equal(modelCallsFor(h, queuedPrompt).length, 0, "a cancelled pending job is never sent to the model");
    assert.equal(modelCallsFor(h, slowPrompt).length, 1);
    // Both images were never made: the daily count and the estimated spend are back where they were.
    const usageAfter = (await callTool(alice, "get_usage", {})).data;
    assert.equal(usageAfter.images_today, usageBefore.images_today, "the quota got both images back");
    assert.ok(Math.abs(usageAfter.neurons_today - usageBefore.neurons_today) < 1e-6, JSON.stringify([usageBefore, usageAfter]));
    assert.ok(Math.abs(usageAfter.usd_today - usageBefore.usd_today) < 1e-9, JSON.stringify([usageBefore, usageAfter]));
  });

  it("wait_for_completion and get_job_status report a cancelled job as cancelled; list_jobs filters on it", async () => {
    const prompt = `waited heron ${uniq("cancel")} [delay=3000]`;
    const id = await start(alice, prompt);
    const waiting = callTool(alice, "wait_for_completion", { job_id: id });
    await h.waitForJob(id, "processing");
    const cancelled = await callTool(alice, "cancel_job", { job_id: id });
    assert.ok(!cancelled.result.isError, JSON.stringify(cancelled.data));
    const { result, data } = await waiting;
    assert.equal(result.isError, true);
    assert.equal(data.status, "cancelled", JSON.stringify(data));
    assert.equal(data.error, "Job cancelled");
    assert.equal((await callTool(alice, "get_job_status", { job_id: id })).data.status, "cancelled");
    const listed = await callTool(alice, "list_jobs", { status: "cancelled" });
    assert.ok(listed.data.jobs.some((j) => j.id === id && j.status === "cancelled"), JSON.stringify(listed.data));
    assert.ok(listed.data.jobs.every((j) => j.status === "cancelled"));
  });

  it("a finished job cannot be cancelled (tool error) and keeps its image", async () => {
    const { data: made } = await callTool(alice, "generate_image_and_wait", { prompt: `done owl ${uniq("cancel")}` });
    assert.equal(made.status, "completed");
    const { result, data } = await callTool(alice, "cancel_job", { job_id: made.job_id });
    assert.equal(result.isError, true);
    assert.equal(data.success, false);
    assert.match(data.error, /already finished \(completed\)/);
    assert.deepEqual(data.cancelled_job_ids, []);
    assert.equal((await h.job(made.job_id)).status, "completed");
    await h.fetchImage(made.image_url);
  });

  it("a key cannot cancel another key's job: it is not found, and stays as it was", async () => {
    const id = await start(bob, `bob's slow boat ${uniq("cancel")} [delay=1500]`);
    const { result, data } = await callTool(alice, "cancel_job", { job_id: id });
    assert.equal(result.isError, true);
    assert.deepEqual(data.jobs, [{ job_id: id, cancelled: false, status: null, reason: "Job not found" }]);
    const row = await h.waitForJob(id, "completed");
    assert.equal(row.status, "completed");
  });

  it("job_id and job_ids together, or neither, are argument errors", async () => {
    for (const args of [{}, { job_id: "a", job_ids: ["b"] }]) {
      const { result, data } = await callTool(alice, "cancel_job", args);
      assert.equal(result.isError, true);
      assert.match(data.error, /job_id/);
    }
  });

  it("works over the legacy SSE transport too", async () => {
    const client = new Client({ name: "e2e-cancel-sse", version: "1.0.0" });
    await client.connect(
      new SSEClientTransport(new URL("/sse", h.origin), {
        requestInit: { headers: { Authorization: `Bearer ${KEYS.alice}` } },
      }),
    );
    try {
      await client.listTools();
      const id = await start(client, `sse slow crane ${uniq("cancel")} [delay=2000]`);
      const { result, data } = await callTool(client, "cancel_job", { job_id: id });
      assert.ok(!result.isError, JSON.stringify(data));
      assert.equal((await h.job(id)).status, "cancelled");
    } finally {
      await client.close();
    }
  });

  it("the gallery's image page has a Cancel button for an unfinished job, which cancels it", async () => {
    const cookie = await keyCookie(h, KEYS.alice);
    const prompt = `gallery slow stag ${uniq("cancel")} [delay=3000]`;
    const id = await start(alice, prompt);
    const { html } = await getPage(h, `/gallery/image/${id}`, cookie);
    const action = `/gallery/image/${id}/cancel`;
    assert.ok(html.includes(`<form method="post" action="${action}" class="cancel">`), html);
    // Another site's post is refused and changes nothing; so is bob's.
    const crossSite = await h.fetch(action, {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: cookie, Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
    assert.equal(crossSite.status, 403);
    await crossSite.arrayBuffer();
    const bobCookie = await keyCookie(h, KEYS.bob);
    const asBob = await h.fetch(action, {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: bobCookie, Origin: h.origin, "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
    await asBob.arrayBuffer();
    assert.notEqual((await h.job(id)).status, "cancelled", "bob cannot cancel alice's job");
    const res = await h.fetch(action, {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: cookie, Origin: h.origin, "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
    await res.arrayBuffer();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `/gallery/image/${id}`);
    assert.equal((await h.job(id)).status, "cancelled");
    const after = await getPage(h, `/gallery/image/${id}`, cookie);
    assert.ok(after.html.includes('<span class="badge status-cancelled">cancelled</span>'));
    assert.ok(!after.html.includes(action), "a cancelled job has no Cancel button");
    const grid = await getPage(h, "/gallery?status=cancelled", cookie);
    assert.equal(grid.res.status, 200);
    assert.ok(grid.html.includes(id), "the status filter shows cancelled jobs");
  });
});
