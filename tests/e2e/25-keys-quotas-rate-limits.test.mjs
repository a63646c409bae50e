// Named API keys (API_KEYS), their daily image quota (DAILY_IMAGE_QUOTA) and the per-key request
// rate limit (Miniflare's real RATE_LIMITER binding): each key sees, waits on and lists only its
// own jobs (tools and gallery), the administrator sees all, over-quota calls queue nothing and
// say when the quota resets, concurrent calls cannot overrun the quota, and over-rate requests
// get 429 with Retry-After. Logs name keys, never tokens.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { callTool, uniq, TEST_TOKEN } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import { getPage, postLogin, sessionSetCookie, tileIds, COOKIE_NAME, isSignInForm } from "./support/gallery.mjs";

const KEYS = {
  alice: "alice-token-7f3a9c2e5b1d",
  bob: "bob-token-4e8d2a6c9f0b",
  carol: "carol-token-1b5e9d3a7c2f",
  dave: "dave-token-8c2f6a0e4d9b",
};
const QUOTA = 4;
const RATE_LIMIT = 25;

async function keySignIn(h, token) {
  const res = await postLogin(h, { token });
  await res.arrayBuffer();
  assert.equal(res.status, 303, "sign-in with a key's token redirects");
  const cookie = sessionSetCookie(res);
  assert.ok(cookie, "a session cookie is set");
  return `${COOKIE_NAME}=${cookie.value}`;
}

/** Starts one image as `key` and waits for it; returns its job id. */
async function makeImage(h, client, label) {
  const { result, data } = await callTool(client, "generate_image_and_wait", { prompt: `${label} ${uniq("keys")}` });
  assert.equal(result.isError, undefined, JSON.stringify(data));
  assert.equal(data.status, "completed", JSON.stringify(data));
  return data.job_id;
}

describe("named keys: each key sees only its own jobs; the administrator sees all", () => {
  let alice;
  let bob;
  let admin;
  let aliceJob;
  let bobJob;
  const h = useHarness({
    vars: {
      API_KEYS: apiKeys(KEYS),
      DAILY_IMAGE_QUOTA: String(QUOTA),
    },
    rateLimit: { limit: RATE_LIMIT, period: 60 },
  });
  before(async () => {
    alice = await h.mcpClient({ token: KEYS.alice });
    bob = await h.mcpClient({ token: KEYS.bob });
    admin = await h.mcpClient();
    aliceJob = await makeImage(h, alice, "alice's lighthouse");
    bobJob = await makeImage(h, bob, "bob's fox");
  });

  it("jobs record their owner's name", async () => {
    assert.equal((await h.job(aliceJob)).owner, "alice");
    assert.equal((await h.job(bobJob)).owner, "bob");
  });

  it("a key cannot read, wait on or list another key's job", async () => {
    const status = await callTool(bob, "get_job_status", { job_id: aliceJob });
    assert.equal(status.result.isError, true);
    assert.match(status.data.error, /not found/i);
    const own = await callTool(bob, "get_job_status", { job_id: bobJob });
    assert.equal(own.data.status, "completed");

    const wait = await callTool(bob, "wait_for_completion", { job_ids: [aliceJob, bobJob] });
    assert.equal(wait.result.isError, true, JSON.stringify(wait.data));
    assert.match(wait.data.error, /not found/i);

    const jobs = await callTool(bob, "list_jobs", { limit: 50 });
    assert.deepEqual(
      jobs.data.jobs.map((j) => j.id),
      [bobJob],
    );
    assert.equal(jobs.data.total_count, 1);
    const gens = await callTool(bob, "list_generations", { limit: 50 });
    assert.equal(gens.data.total_count, 1);
    assert.deepEqual(
      gens.data.generations.map((g) => g.job_id),
      [bobJob],
    );
  });

  it("the administrator sees every key's jobs", async () => {
    const jobs = await callTool(admin, "list_jobs", { limit: 50 });
    const ids = jobs.data.jobs.map((j) => j.id);
    assert.ok(ids.includes(aliceJob) && ids.includes(bobJob), JSON.stringify(ids));
    const status = await callTool(admin, "get_job_status", { job_id: aliceJob });
    assert.equal(status.data.status, "completed");
  });

  it("the gallery signs a key in under its own name and shows only its images", async () => {
    const bobCookie = await keySignIn(h, KEYS.bob);
    const grid = await getPage(h, "/gallery", bobCookie);
    assert.equal(grid.res.status, 200);
    assert.deepEqual(tileIds(grid.html), [bobJob]);
    const foreign = await getPage(h, `/gallery/image/${aliceJob}`, bobCookie);
    assert.equal(foreign.res.status, 404, "another key's image page is not found");
    const adminCookie = await keySignIn(h, TEST_TOKEN);
    const all = tileIds((await getPage(h, "/gallery", adminCookie)).html);
    assert.ok(all.includes(aliceJob) && all.includes(bobJob), JSON.stringify(all));
  });

  it("a wrong token is refused everywhere", async () => {
    const r = await h.rpc({ jsonrpc: "2.0", id: 1, method: "tools/list" }, { token: "alice-token-wrong-000000" });
    assert.equal(r.status, 401);
    const res = await postLogin(h, { token: "alice-token-wrong-000000" });
    assert.equal(res.status, 403);
    assert.ok(isSignInForm(await res.text()));
    assert.equal(sessionSetCookie(res), null);
  });

  it("over the daily quota a generate call queues nothing and says when the quota resets", async () => {
    // carol has used nothing yet: 3 of 4, then 2 more is refused whole, then 1 fits exactly.
    const carol = await h.mcpClient({ token: KEYS.carol });
    const first = await callTool(carol, "generate_image", { prompt: `carol three ${uniq()}`, count: 3 });
    assert.equal(first.data.success, true, JSON.stringify(first.data));
    const before = await h.count("generation_jobs", "owner = 'carol'");
    const refused = await callTool(carol, "generate_image", { prompt: `carol two more ${uniq()}`, count: 2 });
    assert.equal(refused.result.isError, true);
    assert.equal(refused.data.success, false);
    const tomorrow = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1));
    assert.match(refused.data.error, /daily image quota reached/);
    assert.match(refused.data.error, /used 3 of its 4 images today/);
    assert.ok(refused.data.error.includes(tomorrow.toISOString()), refused.data.error);
    assert.equal(await h.count("generation_jobs", "owner = 'carol'"), before, "nothing stored");
    const waitRefused = await callTool(carol, "generate_image_and_wait", { prompt: `carol two ${uniq()}`, count: 2 });
    assert.equal(waitRefused.result.isError, true);
    const last = await callTool(carol, "generate_image", { prompt: `carol last ${uniq()}` });
    assert.equal(last.data.success, true, JSON.stringify(last.data));
    const usage = await callTool(carol, "get_usage");
    assert.equal(usage.data.key, "carol");
    assert.equal(usage.data.images_today, 4);
    assert.equal(usage.data.daily_image_quota, 4);
    assert.equal(usage.data.images_remaining, 0);
    assert.equal(usage.data.resets_at, tomorrow.toISOString());
    assert.deepEqual(usage.data.rate_limit, { requests: 120, period_seconds: 60 });
    assert.equal(usage.data.keys, undefined, "a key does not see other keys' usage");
    await h.waitForNoJobsInFlight();
  });

  it("concurrent calls cannot pass the quota together", async () => {
    const dave = await h.mcpClient({ token: KEYS.dave });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => callTool(dave, "generate_image", { prompt: `dave race ${i} ${uniq()}` })),
    );
    const started = results.filter((r) => r.data.success === true).length;
    assert.equal(started, QUOTA, JSON.stringify(results.map((r) => r.data.error ?? "ok")));
    assert.equal(await h.count("generation_jobs", "owner = 'dave'"), QUOTA);
    const [{ images }] = await h.query("SELECT images FROM daily_usage WHERE owner = 'dave'");
    assert.equal(images, QUOTA);
    await h.waitForNoJobsInFlight();
  });

  it("the administrator has no quota and sees every key's usage", async () => {
    const many = await callTool(admin, "generate_image", { prompt: `admin batch ${uniq()}`, count: QUOTA + 2 });
    assert.equal(many.data.success, true, JSON.stringify(many.data));
    const usage = await callTool(admin, "get_usage");
    assert.equal(usage.data.key, "admin");
    assert.equal(usage.data.daily_image_quota, null);
    const byKey = Object.fromEntries(usage.data.keys.map((k) => [k.key, k.images_today]));
    assert.equal(byKey.alice, 1);
    assert.equal(byKey.bob, 1);
    assert.equal(byKey.carol, 4);
    assert.equal(byKey.dave, QUOTA);
    assert.ok(byKey.admin >= QUOTA + 2, JSON.stringify(byKey));
    await h.waitForNoJobsInFlight();
  });

  it("each key has its own request rate limit, answered with 429 and Retry-After", async () => {
    const list = { jsonrpc: "2.0", id: 1, method: "tools/list" };
    let limited = null;
    let allowed = 0;
    for (let i = 0; i < RATE_LIMIT + 5 && !limited; i++) {
      const r = await h.rpc(list, { token: KEYS.bob });
      if (r.status === 429) limited = r;
      else {
        assert.equal(r.status, 200);
        allowed++;
      }
    }
    assert.ok(limited, `no 429 after ${allowed} requests`);
    assert.ok(allowed <= RATE_LIMIT, `${allowed} requests passed a limit of ${RATE_LIMIT}`);
    assert.equal(limited.headers.get("retry-after"), "60");
    assert.equal(limited.json.jsonrpc, "2.0");
    assert.match(limited.json.error.message, /Too many requests for key "bob"/);
    // Another key is counted separately.
    const other = await h.rpc(list, { token: KEYS.alice });
    assert.equal(other.status, 200);
  });

  it("logs name the key and never print a token", async () => {
    const text = h.logs.map((l) => l.message).join("\n");
    assert.match(text, /key alice started 1 job/);
    assert.match(text, /rate limited: key bob/);
    for (const token of [...Object.values(KEYS), TEST_TOKEN]) assert.ok(!text.includes(token), "a token reached the log");
  });
});

describe("API_KEYS misconfigured", () => {
  const h = useHarness({ vars: { API_KEYS: "alice:short" } });

  it("refuses every request with a message that names the entry, not the token", async () => {
    const r = await h.rpc({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    assert.equal(r.status, 500);
    assert.match(r.json.error.message, /API_KEYS key "alice": its token must have at least 16 characters/);
    assert.ok(!r.text.includes("short"));
  });
});
