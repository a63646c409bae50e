// The read tools select each D1 row as one JSON text (`json_array(…)`, src/jobs/sql.rs) and
// decode it with serde. This checks, in workerd's own SQLite, that every value comes back as
// it was stored: text with quotes, backslashes, control characters and astral-plane
// characters, integers up to 2^53 - 1, REALs that need all 17 digits, and every nullable
// column NULL (the unit tests prove the same against rusqlite's SQLite).
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { callTool } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const AWKWARD = `quote " ' backslash \\ newline \n tab \t \u0001 é 漢字 🦊 </script> \u2028`;
const FULL = {
  id: "json-rows-full",
  status: "completed",
  prompt: AWKWARD,
  model: "flux-schnell",
  image_url: "/images/1767000000123-fox-json-rows-full.png",
  error: AWKWARD,
  created_at: 1_767_000_000_123,
  updated_at: Number.MAX_SAFE_INTEGER,
  seed: 4_294_967_295,
  width: 1024,
  height: 768,
  parameters: JSON.stringify({ seed: 4_294_967_295, guidance: 7.5, negative_prompt: 'a "b" \\ c' }),
  thumbnail_url: "/images/1767000000123-fox-json-rows-full-thumb.webp",
  image_size: 3_456_789_012,
  estimated_neurons: 0.1 + 0.2,
  estimated_usd: (57.6 * 3 * 0.011) / 1000,
};
const COLUMNS = Object.keys(FULL);

describe("D1 rows read as JSON text", () => {
  let client;
  const h = useHarness();
  before(async () => {
    client = await h.mcpClient();
    const insert = (row) =>
      h.db
        .prepare(
          `INSERT INTO generation_jobs (${COLUMNS.join(", ")}, owner) VALUES (${COLUMNS.map(() => "?").join(", ")}, 'admin')`,
        )
        .bind(...COLUMNS.map((column) => row[column] ?? null));
    await h.db.batch([
      insert(FULL),
      // Every nullable column NULL; a whole number stored in a REAL column.
      insert({ id: "json-rows-bare", status: "pending", prompt: "", model: "sdxl-base", created_at: 0, updated_at: 0 }),
      h.db.prepare(
        "INSERT INTO generation_jobs (id, status, prompt, model, created_at, updated_at, estimated_neurons, estimated_usd, owner) " +
          "VALUES ('json-rows-whole', 'failed', 'p', 'sdxl-base', 1, 2, 100, 0, 'admin')",
      ),
      h.db
        .prepare(
          "INSERT INTO generations (id, job_id, image_url, prompt, model, created_at, thumbnail_url, image_size) " +
            "VALUES ('g-json-rows-full', ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(FULL.id, FULL.image_url, FULL.prompt, FULL.model, FULL.created_at, FULL.thumbnail_url, FULL.image_size),
    ]);
  });

  const absolute = (url) => (url === null ? null : new URL(url, h.origin).href);

  function assertFull(job) {
    assert.equal(job.prompt, AWKWARD);
    assert.equal(job.error, AWKWARD);
    assert.equal(job.status, "completed");
    assert.equal(job.image_url, absolute(FULL.image_url));
    assert.equal(job.thumbnail_url, absolute(FULL.thumbnail_url));
    assert.equal(job.created_at, FULL.created_at);
    assert.equal(job.updated_at, Number.MAX_SAFE_INTEGER);
    assert.deepEqual([job.seed, job.width, job.height], [4_294_967_295, 1024, 768]);
    assert.deepEqual(job.parameters, JSON.parse(FULL.parameters));
    assert.equal(job.estimated_neurons, 0.1 + 0.2, "all 17 digits of the REAL");
    assert.equal(job.estimated_usd, FULL.estimated_usd);
  }

  function assertBare(job) {
    assert.equal(job.status, "pending");
    assert.equal(job.prompt, "");
    assert.deepEqual(
      [job.image_url, job.thumbnail_url, job.error, job.seed, job.width, job.height, job.estimated_neurons, job.estimated_usd],
      [null, null, null, null, null, null, null, null],
    );
    assert.deepEqual(job.parameters, {});
    assert.equal(job.inputs, undefined);
    assert.deepEqual([job.created_at, job.updated_at], [0, 0]);
  }

  it("get_job_status reads every column exactly, and NULLs as null", async () => {
    const full = await callTool(client, "get_job_status", { job_id: FULL.id, preview: false });
    assert.equal(full.data.success, true, JSON.stringify(full.data));
    assert.equal(full.data.job_id, FULL.id);
    assertFull(full.data);
    const bare = await callTool(client, "get_job_status", { job_id: "json-rows-bare" });
    assert.equal(bare.data.job_id, "json-rows-bare");
    assertBare(bare.data);
    const whole = await callTool(client, "get_job_status", { job_id: "json-rows-whole" });
    assert.deepEqual([whole.data.estimated_neurons, whole.data.estimated_usd], [100, 0]);
    const missing = await callTool(client, "get_job_status", { job_id: "json-rows-missing" });
    assert.equal(missing.data.success, false);
  });

  it("list_jobs and list_generations read the same values, with their totals", async () => {
    const { data } = await callTool(client, "list_jobs", { limit: 50 });
    assert.equal(data.success, true);
    assert.equal(data.total_count, 3);
    assert.deepEqual(
      data.jobs.map((job) => job.id),
      [FULL.id, "json-rows-whole", "json-rows-bare"],
    );
    assertFull(data.jobs[0]);
    assertBare(data.jobs[2]);
    const pending = await callTool(client, "list_jobs", { status: "pending" });
    assert.deepEqual([pending.data.total_count, pending.data.jobs.map((job) => job.id)], [1, ["json-rows-bare"]]);
    const past = await callTool(client, "list_jobs", { limit: 1, offset: 5 });
    assert.deepEqual([past.data.total_count, past.data.jobs], [3, []], "the total even past the last page");
    const gallery = await callTool(client, "list_generations", {});
    assert.equal(gallery.data.total_count, 1);
    const [row] = gallery.data.generations;
    assert.equal(row.id, "g-json-rows-full");
    assert.equal(row.job_id, FULL.id);
    assert.equal(row.prompt, AWKWARD);
    assert.equal(row.image_url, absolute(FULL.image_url));
    assert.equal(row.thumbnail_url, absolute(FULL.thumbnail_url));
    assert.deepEqual([row.seed, row.width, row.height], [4_294_967_295, 1024, 768]);
    assert.deepEqual(row.parameters, JSON.parse(FULL.parameters));
    assert.equal(row.estimated_neurons, 0.1 + 0.2);
    assert.equal(row.estimated_usd, FULL.estimated_usd);
  });
});
