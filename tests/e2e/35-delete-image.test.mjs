// delete_image (issue 18, item 7), end to end through the official SDK: a key deletes its own
// finished jobs; R2 loses the image, the thumbnail and the stored inputs no other job uses (a
// shared input stays until its last job goes); the job row stays as a tombstone (status
// `deleted`, prompt and parameters cleared) and its gallery row goes; get_job_status,
// wait_for_completion, list_jobs and resources/read answer "deleted"; a repeat is harmless;
// another key's job is "not found" and stays whole; the administrator deletes any; a job still
// running is refused, and so is an image a running job takes as its input; the tool is annotated
// destructive and idempotent.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { callTool, keyFromWorkerUrl, sleep, uniq } from "./harness.mjs";
import { apiKeys, useHarness } from "./support/setup.mjs";
import { pngInput } from "./support/input-images.mjs";

const KEYS = {
  alice: "alice-token-7f3a9c2e5b1d",
  bob: "bob-token-4e8d2a6c9f0b",
};
const DELETED_MESSAGE = "This image was deleted: its file, thumbnail, prompt and parameters are gone.";

/** The R2 keys a completed job's row names: its image and its thumbnail. */
function objectKeys(row) {
  const image = row.image_url.split("/").pop();
  const thumbnail = row.thumbnail_url?.split("/").pop();
  return thumbnail ? [image, thumbnail] : [image];
}

/** The key of a stored input, from a result's `inputs[i].url`. */
const inputKey = (input) => keyFromWorkerUrl(input.url);

describe("delete_image: tombstones, R2 cleanup, ownership, idempotence", () => {
  const h = useHarness({
    vars: {
      API_KEYS: apiKeys(KEYS),
    },
  });
  let admin;
  let alice;
  let bob;

  before(async () => {
    admin = await h.mcpClient();
    alice = await h.mcpClient({ token: KEYS.alice });
    bob = await h.mcpClient({ token: KEYS.bob });
  });

  async function generate(client, prompt) {
    const { result, data } = await callTool(client, "generate_image_and_wait", { prompt });
    assert.equal(result.isError, undefined, JSON.stringify(data));
    const row = await h.job(data.job_id);
    assert.equal(row.status, "completed");
    return row;
  }

  async function present(keys) {
    const found = [];
    for (const key of keys) if (await h.r2Bytes(key)) found.push(key);
    return found;
  }

  it("is listed as destructive, idempotent, not read-only, not open-world", async () => {
    const { tools } = await alice.listTools();
    const tool = tools.find((t) => t.name === "delete_image");
    assert.ok(tool, "delete_image is listed");
    assert.deepEqual(
      [tool.annotations.destructiveHint, tool.annotations.idempotentHint, tool.annotations.readOnlyHint, tool.annotations.openWorldHint],
      [true, true, false, false],
    );
    assert.deepEqual(Object.keys(tool.inputSchema.properties).sort(), ["job_id", "job_ids"]);
  });

  it("the owner deletes: R2 objects gone, a tombstone without prompt or parameters, no gallery row", async () => {
    const row = await generate(alice, `a secret lighthouse ${uniq("del")}`);
    const keys = objectKeys(row);
    assert.equal(keys.length, 2, "the job has an image and a thumbnail");
    assert.deepEqual(await present(keys), keys);
    assert.equal(await h.count("generations", "job_id = ?", row.id), 1);

    const { result, data } = await callTool(alice, "delete_image", { job_id: row.id });
    assert.equal(result.isError, undefined, JSON.stringify(data));
    assert.deepEqual(data, { success: true, status: "deleted", count: 1, deleted: [row.id], already_deleted: [], inputs_removed: 0 });

    assert.deepEqual(await present(keys), [], "the image and its thumbnail are gone from R2");
    assert.equal((await h.r2Objects()).filter((o) => o.key.includes(row.id)).length, 0, "nothing under the job id is left");
    const tombstone = await h.job(row.id);
    assert.equal(tombstone.status, "deleted");
    assert.equal(tombstone.prompt, "");
    for (const column of ["parameters", "seed", "width", "height", "image_url", "thumbnail_url", "image_size", "inputs"]) {
      assert.equal(tombstone[column], null, `${column} is cleared`);
    }
    assert.equal(tombstone.error, DELETED_MESSAGE);
    assert.equal(tombstone.owner, "alice", "the tombstone keeps its owner");
    assert.equal(await h.count("generations", "job_id = ?", row.id), 0, "the gallery row is gone");
  });

  it("a tombstone answers deleted: get_job_status, wait_for_completion, list_jobs, resources/read", async () => {
    const row = await generate(alice, `a tombstone test ${uniq("del")}`);
    await callTool(alice, "delete_image", { job_id: row.id });

    const { result: statusResult, data: status } = await callTool(alice, "get_job_status", { job_id: row.id });
    assert.equal(statusResult.isError, undefined);
    assert.equal(status.status, "deleted");
    assert.equal(status.image_url, null);
    assert.equal(status.prompt, "");
    assert.equal(status.error, DELETED_MESSAGE);

    const { result: waitResult, data: waited } = await callTool(alice, "wait_for_completion", { job_id: row.id });
    assert.equal(waitResult.isError, true);
    assert.deepEqual(waited, { success: false, status: "deleted", error: DELETED_MESSAGE });

    const other = await generate(alice, `still here ${uniq("del")}`);
    const { data: both } = await callTool(alice, "wait_for_completion", { job_ids: [row.id, other.id] });
    assert.equal(both.success, false);
    assert.deepEqual(both.failed, [{ job_id: row.id, error: DELETED_MESSAGE, status: "deleted" }]);
    assert.equal(both.completed[0].job_id, other.id);

    const { data: listed } = await callTool(alice, "list_jobs", { status: "deleted", limit: 50 });
    assert.ok(listed.jobs.some((job) => job.id === row.id && job.status === "deleted"), JSON.stringify(listed));

    await assert.rejects(alice.readResource({ uri: `images://jobs/${row.id}` }), (error) => {
      assert.equal(error.code, -32002);
      assert.match(error.message, /Resource deleted: images:\/\/jobs\//);
      assert.deepEqual(error.data, { uri: `images://jobs/${row.id}`, status: "deleted" });
      return true;
    });
    await assert.rejects(alice.readResource({ uri: `images://jobs/${row.id}/thumbnail` }), /Resource deleted/);
    const { resources } = await alice.listResources();
    assert.ok(!resources.some((r) => r.uri.includes(row.id)), "resources/list no longer lists it");
  });

  it("a repeat is harmless: success, already_deleted, nothing changes", async () => {
    const row = await generate(alice, `twice ${uniq("del")}`);
    await callTool(alice, "delete_image", { job_id: row.id });
    const before = await h.job(row.id);
    const { result, data } = await callTool(alice, "delete_image", { job_ids: [row.id, row.id] });
    assert.equal(result.isError, undefined, JSON.stringify(data));
    assert.deepEqual(data, { success: true, status: "deleted", count: 1, deleted: [], already_deleted: [row.id], inputs_removed: 0 });
    assert.deepEqual(await h.job(row.id), before, "the tombstone is untouched (updated_at included)");
  });

  it("another key's job is not found and stays whole; the administrator deletes any key's job", async () => {
    const row = await generate(alice, `alice's own fox ${uniq("del")}`);
    const keys = objectKeys(row);
    const { result, data } = await callTool(bob, "delete_image", { job_id: row.id });
    assert.equal(result.isError, true);
    assert.deepEqual(data.not_found, [row.id]);
    assert.match(data.error, /Job not found: .*Nothing was deleted/);
    assert.deepEqual(await h.job(row.id), row, "the row is unchanged");
    assert.deepEqual(await present(keys), keys, "its objects are still in R2");
    assert.equal(await h.count("generations", "job_id = ?", row.id), 1);

    // All or nothing: bob's own job in the same call is not deleted either.
    const bobs = await generate(bob, `bob's own owl ${uniq("del")}`);
    const { result: mixed } = await callTool(bob, "delete_image", { job_ids: [bobs.id, row.id] });
    assert.equal(mixed.isError, true);
    assert.equal((await h.job(bobs.id)).status, "completed");

    const { result: byAdmin, data: adminData } = await callTool(admin, "delete_image", { job_ids: [row.id, bobs.id] });
    assert.equal(byAdmin.isError, undefined, JSON.stringify(adminData));
    assert.deepEqual(adminData.deleted, [row.id, bobs.id]);
    assert.deepEqual(await present(keys), []);
    assert.equal((await h.job(row.id)).status, "deleted");
  });

  it("a stored input goes with the last job that uses it, not before", async () => {
    const input = pngInput(320, 240, { seed: 35 });
    const { result: r1, data: first } = await callTool(alice, "edit_image", { prompt: `first edit ${uniq("del")}`, images: [input.dataUrl] });
    assert.equal(r1.isError, undefined, JSON.stringify(first).slice(0, 500));
    const key = inputKey(first.inputs[0]);
    assert.match(key, /^input-[0-9a-f-]+\.png$/);
    // A second edit of the stored input by its URL uses the same object in place.
    const { result: r2, data: second } = await callTool(alice, "edit_image", {
      prompt: `second edit ${uniq("del")}`,
      images: [`${h.origin}/images/${key}`],
    });
    assert.equal(r2.isError, undefined, JSON.stringify(second).slice(0, 500));
    assert.equal(inputKey(second.inputs[0]), key, "both jobs use one stored input");

    const { data: d1 } = await callTool(alice, "delete_image", { job_id: first.job_id });
    assert.equal(d1.inputs_removed, 0);
    assert.ok(await h.r2Bytes(key), "the input stays while the second job uses it");
    assert.equal((await h.job(first.job_id)).inputs, null, "the tombstone no longer lists it");

    const secondRow = await h.job(second.job_id);
    const { data: d2 } = await callTool(alice, "delete_image", { job_id: second.job_id });
    assert.equal(d2.inputs_removed, 1);
    assert.equal(await h.r2Bytes(key), null, "the last user's delete removes it");
    assert.deepEqual(await present(objectKeys(secondRow)), []);
  });

  it("a job still running is refused with its status, and finishes normally", async () => {
    const prompt = `a slow one [delay=3000] ${uniq("del")}`;
    const { data: started } = await callTool(alice, "generate_image", { prompt });
    const { result, data } = await callTool(alice, "delete_image", { job_id: started.job_id });
    assert.equal(result.isError, true);
    assert.equal(data.running.length, 1);
    assert.equal(data.running[0].job_id, started.job_id);
    assert.match(data.running[0].status, /^(pending|processing)$/);
    assert.match(data.error, /Still running.*Nothing was deleted/);
    const row = await h.waitForJob(started.job_id, "completed");
    assert.equal(row.prompt, prompt);
  });

  it("an image a running job takes as its input is refused until that job is done", async () => {
    const source = await generate(alice, `a source picture ${uniq("del")}`);
    const prompt = `an edit of it [delay=3000] ${uniq("del")}`;
    const editing = callTool(alice, "edit_image", { prompt, images: [source.id] });
    const [edit] = await (async () => {
      for (let i = 0; i < 100; i++) {
        const rows = await h.query("SELECT id, inputs FROM generation_jobs WHERE prompt = ?", prompt);
        if (rows.length) return rows;
        await sleep(50);
      }
      throw new Error("the edit job was never created");
    })();
    assert.ok(edit.inputs.includes(source.image_url.split("/").pop()), "the edit reads the source in place");
    const { result, data } = await callTool(alice, "delete_image", { job_id: source.id });
    assert.equal(result.isError, true, JSON.stringify(data));
    assert.match(data.error, /1 job\(s\) still running take this image as an input.*Nothing was deleted/);
    assert.equal((await h.job(source.id)).status, "completed");
    const { result: edited, data: editData } = await editing;
    assert.equal(edited.isError, undefined, JSON.stringify(editData).slice(0, 400));
    assert.equal(editData.status, "completed", "the edit got its input");
    const { result: later } = await callTool(alice, "delete_image", { job_id: source.id });
    assert.equal(later.isError, undefined, "once the edit is done the source can go");
    assert.equal((await h.job(source.id)).status, "deleted");
  });

  it("bad arguments: both or neither of job_id and job_ids", async () => {
    const { result: both, data } = await callTool(alice, "delete_image", { job_id: "a", job_ids: ["b"] });
    assert.equal(both.isError, true);
    assert.match(data.error, /either job_id or job_ids/);
    const { result: none } = await callTool(alice, "delete_image", {});
    assert.equal(none.isError, true);
  });
});
