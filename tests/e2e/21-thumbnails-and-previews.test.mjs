// Thumbnails and the result blocks that show finished images.
//
// The consumer makes each image's thumbnail through the Images binding (Miniflare's local
// binding, run by the npm package sharp, as wrangler dev does) and stores it in R2 beside
// the image; the job row and gallery row record its URL and the image's byte size. Tool
// results keep content[0] and structuredContent and add, per finished image, a
// resource_link (revisions from 2025-06-18) and, unless `preview: false`, the thumbnail
// inline (at most 4 images and 100,000 bytes of base64 per result). Without the binding,
// or with one that fails, jobs still complete, without a thumbnail, and the log says why.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { callTool, uniq, keyFromWorkerUrl, waitFor, sleep, imageInfo, QUEUE } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const THUMBNAIL_MAX_SIDE = 256;
const THUMBNAIL_AIM_BYTES = 24 * 1024;
const MAX_INLINE_IMAGES = 4;
const MAX_INLINE_BASE64 = 100_000;

/** Decodes WebP bytes fully (not just the header); returns { format, width, height }. */
async function decodeWebp(bytes) {
  const { info } = await sharp(Buffer.from(bytes)).raw().toBuffer({ resolveWithObject: true });
  const meta = await sharp(Buffer.from(bytes)).metadata();
  return { format: meta.format, width: info.width, height: info.height };
}

function blocksOf(result, type) {
  return result.content.filter((block) => block.type === type);
}

describe("thumbnails through the Images binding, and results that show images", () => {
  let client;
  const measured = [];
  const h = useHarness(
    {},
    {
      teardown: () => {
        if (measured.length) console.log(`# thumbnail sizes: ${measured.map((m) => `${m.model} ${m.source} → ${m.thumb} (${m.bytes} B)`).join("; ")}`);
      },
    },
  );
  before(async () => {
    client = await h.mcpClient();
  });

  /** Everything about one finished image: R2 objects, D1 rows, and the blocks of `result`. */
  async function checkFinished({ result, data, model }) {
    const jobId = data.job_id;
    const imageKey = keyFromWorkerUrl(data.image_url);
    const thumbKey = keyFromWorkerUrl(data.thumbnail_url);
    assert.equal(thumbKey, imageKey.replace(/\.(png|jpg)$/, "-thumb.webp"), "the thumbnail sits beside its image");

    const image = await h.r2Bytes(imageKey);
    const thumb = await h.r2Bytes(thumbKey);
    assert.ok(image && thumb, `R2 holds ${imageKey}: ${!!image}, ${thumbKey}: ${!!thumb}`);
    assert.equal(thumb.httpMetadata.contentType, "image/webp");
    assert.equal(thumb.customMetadata.thumbnailOf, imageKey);
    const source = imageInfo(image.bytes);
    const decoded = await decodeWebp(thumb.bytes);
    assert.equal(decoded.format, "webp");
    assert.equal(Math.max(decoded.width, decoded.height), Math.min(THUMBNAIL_MAX_SIDE, Math.max(source.width, source.height)));
    // The aspect ratio survives (within a pixel of rounding).
    assert.ok(Math.abs(decoded.width / decoded.height - source.width / source.height) < 0.02, `${JSON.stringify(decoded)} vs ${JSON.stringify(source)}`);
    assert.ok(thumb.bytes.length <= THUMBNAIL_AIM_BYTES, `thumbnail of ${thumb.bytes.length} bytes`);
    measured.push({ model, source: `${source.width}x${source.height}`, thumb: `${decoded.width}x${decoded.height}`, bytes: thumb.bytes.length });

    // Recorded in D1: the stored URL forms and the full image's byte size, in both tables.
    const row = await h.job(jobId);
    assert.equal(row.thumbnail_url, `/images/${thumbKey}`);
    assert.equal(row.image_size, image.bytes.length);
    const [gallery] = await h.query("SELECT thumbnail_url, image_size FROM generations WHERE job_id = ?", jobId);
    assert.deepEqual(gallery, { thumbnail_url: row.thumbnail_url, image_size: image.bytes.length });

    // The worker serves it as WebP.
    const served = await h.fetch(data.thumbnail_url);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get("content-type"), "image/webp");
    assert.ok(Buffer.from(await served.arrayBuffer()).equals(Buffer.from(thumb.bytes)));

    // content[0] and structuredContent as before, then the link and the inline thumbnail.
    assert.equal(result.content[0].type, "text");
    assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);
    assert.equal(result.structuredContent.thumbnail_url, data.thumbnail_url);
    assert.deepEqual(result.content[1], {
      type: "resource_link",
      uri: `images://jobs/${jobId}`,
      name: imageKey,
      mimeType: imageKey.endsWith(".png") ? "image/png" : "image/jpeg",
      size: image.bytes.length,
    });
    assert.equal(result.content[2].type, "image");
    assert.equal(result.content[2].mimeType, "image/webp");
    const inline = Buffer.from(result.content[2].data, "base64");
    assert.ok(inline.equals(Buffer.from(thumb.bytes)), "the inline image is the stored thumbnail");
    assert.equal((await decodeWebp(inline)).format, "webp");
    assert.equal(result.content.length, 3);
    return { imageKey, thumbKey, thumbBytes: thumb.bytes.length };
  }

  for (const [model, controls] of [
    ["flux-schnell", {}],
    ["sdxl-lightning", {}],
    ["phoenix", {}],
    ["flux-2-dev", { aspect_ratio: "16:9" }],
    ["lucid-origin", { width: 640, height: 1280 }],
  ]) {
    it(`${model} ${JSON.stringify(controls)}: generate_image_and_wait stores a 256 px WebP thumbnail and shows it`, async () => {
      const prompt = `a thumbnail of a harbour ${uniq()}`;
      const { result, data } = await callTool(client, "generate_image_and_wait", { prompt, model, ...controls });
      assert.equal(data.success, true, JSON.stringify(data));
      await checkFinished({ result, data, model });
    });
  }

  it("a result's resource_link reads back through resources/read as exactly the stored bytes", async () => {
    const { result, data } = await callTool(client, "generate_image_and_wait", { prompt: `a linked fox ${uniq()}` });
    assert.equal(data.status, "completed", JSON.stringify(data));
    const [link] = blocksOf(result, "resource_link");
    assert.ok(link, "the result carries a resource_link");
    const read = await client.readResource({ uri: link.uri });
    assert.equal(read.contents.length, 1);
    const [content] = read.contents;
    assert.equal(content.uri, link.uri);
    assert.equal(content.mimeType, link.mimeType);
    const bytes = Buffer.from(content.blob, "base64");
    const stored = await h.r2Bytes(keyFromWorkerUrl(data.image_url));
    assert.ok(bytes.equals(Buffer.from(stored.bytes)), "resources/read returned the stored object's bytes");
    assert.equal(bytes.length, link.size);
    // The thumbnail of the same job, by the template the server lists.
    const thumb = await client.readResource({ uri: `${link.uri}/thumbnail` });
    const thumbStored = await h.r2Bytes(keyFromWorkerUrl(data.thumbnail_url));
    assert.ok(Buffer.from(thumb.contents[0].blob, "base64").equals(Buffer.from(thumbStored.bytes)));
    assert.equal(thumb.contents[0].mimeType, "image/webp");
  });

  it("get_job_status shows the image; preview: false leaves the inline image out but keeps the link", async () => {
    const prompt = `a status lighthouse ${uniq()}`;
    const { data: done } = await callTool(client, "generate_image_and_wait", { prompt, model: "sdxl-lightning" });
    const status = await callTool(client, "get_job_status", { job_id: done.job_id });
    assert.equal(status.data.status, "completed");
    await checkFinished({ result: status.result, data: status.data, model: "sdxl-lightning" });
    for (const [tool, args] of [
      ["get_job_status", { job_id: done.job_id, preview: false }],
      ["wait_for_completion", { job_id: done.job_id, preview: false }],
      ["generate_image_and_wait", { prompt: `${prompt} again`, model: "sdxl-lightning", preview: false }],
    ]) {
      const { result, data } = await callTool(client, tool, args);
      assert.equal(data.success, true, `${tool}: ${JSON.stringify(data)}`);
      assert.equal(blocksOf(result, "image").length, 0, `${tool} with preview: false sent an image block`);
      assert.equal(blocksOf(result, "resource_link").length, 1, tool);
      assert.equal(result.content.length, 2, tool);
      assert.match(data.thumbnail_url, /-thumb\.webp$/, tool);
    }
    const refused = await callTool(client, "get_job_status", { job_id: done.job_id, preview: "no" });
    assert.equal(refused.result.isError, true);
    assert.match(refused.data.error, /preview must be true or false/);
  });

  it("a job still pending, or failed, carries no image blocks", async () => {
    const { result, data } = await callTool(client, "generate_image", { prompt: `a slow kettle ${uniq()} [delay=3000]` });
    const pending = await callTool(client, "get_job_status", { job_id: data.job_id });
    assert.notEqual(pending.data.status, "completed");
    assert.equal(pending.data.thumbnail_url, null);
    assert.equal(pending.result.content.length, 1);
    assert.equal(result.content.length, 1, "generate_image answers with the text alone");
    const failed = await callTool(client, "generate_image_and_wait", { prompt: `a broken vase ${uniq()} [fail-always]` });
    assert.equal(failed.data.success, false);
    assert.equal(failed.result.content.length, 1);
  });

  it("a count > 4 wait links every image and inlines at most 4 thumbnails within 100 KB of base64", async () => {
    const prompt = `a flock of six ${uniq()}`;
    const { data: started } = await callTool(client, "generate_image", { prompt, model: "sdxl-lightning", count: 6 });
    assert.equal(started.job_ids.length, 6);
    const { result, data } = await callTool(client, "wait_for_completion", { job_ids: started.job_ids });
    assert.equal(data.success, true, JSON.stringify(data));
    assert.equal(data.results.length, 6);
    const links = blocksOf(result, "resource_link");
    assert.deepEqual(links.map((l) => l.uri), started.job_ids.map((id) => `images://jobs/${id}`), "one link per image, in order");
    const images = blocksOf(result, "image");
    const base64 = images.reduce((sum, block) => sum + block.data.length, 0);
    assert.ok(images.length >= 1 && images.length <= MAX_INLINE_IMAGES, `${images.length} inline images`);
    assert.ok(base64 <= MAX_INLINE_BASE64, `${base64} bytes of base64`);
    // The inline ones are the first images' thumbnails, each right after its link.
    for (let i = 0; i < images.length; i++) {
      const at = result.content.indexOf(links[i]);
      assert.equal(result.content[at + 1].type, "image", `image ${i} follows its link`);
      const thumb = await h.r2Bytes(keyFromWorkerUrl(data.results[i].thumbnail_url));
      assert.ok(Buffer.from(result.content[at + 1].data, "base64").equals(Buffer.from(thumb.bytes)), `image ${i}`);
    }
    // Six thumbnails of this size fit in 100 KB, so the image cap is what limits here.
    assert.equal(images.length, MAX_INLINE_IMAGES);

    // The list tools carry thumbnail_url next to image_url.
    const { data: jobs } = await callTool(client, "list_jobs", { status: "completed", limit: 6 });
    for (const job of jobs.jobs) assert.equal(job.thumbnail_url, job.image_url.replace(/\.(png|jpg)$/, "-thumb.webp"));
    const { data: generations } = await callTool(client, "list_generations", { limit: 6 });
    for (const generation of generations.generations) {
      assert.equal(generation.thumbnail_url, generation.image_url.replace(/\.(png|jpg)$/, "-thumb.webp"));
    }
  });

  it("revisions before 2025-06-18 get the inline thumbnail but no resource_link; later ones get both", async () => {
    const { data } = await callTool(client, "generate_image_and_wait", { prompt: `a revision test ${uniq()}`, model: "sdxl-lightning" });
    for (const [version, links] of [[null, 0], ["2024-11-05", 0], ["2025-03-26", 0], ["2025-06-18", 1], ["2025-11-25", 1]]) {
      const headers = version ? { "MCP-Protocol-Version": version } : {};
      const r = await h.rawCallTool("get_job_status", { job_id: data.job_id }, { headers });
      assert.equal(r.status, 200);
      const types = r.result.content.map((block) => block.type);
      assert.deepEqual(types, links ? ["text", "resource_link", "image"] : ["text", "image"], `${version}: ${types}`);
    }
  });

  it("redelivery keeps one thumbnail per image, under the same key", async () => {
    const prompt = `a redelivered postcard ${uniq()}`;
    const { data } = await callTool(client, "generate_image_and_wait", { prompt, model: "flux-schnell" });
    const before = await h.job(data.job_id);
    const objects = async () => (await h.r2Objects()).filter((o) => o.customMetadata?.jobId === data.job_id).map((o) => o.key).sort();
    const stored = await objects();
    assert.equal(stored.length, 2, `R2 objects: ${stored}`);

    // A redelivery of the finished job changes nothing.
    await h.waitForNoJobsInFlight();
    const deliveries = h.queueDeliveries(QUEUE).length;
    await h.queue.send({ jobId: data.job_id, prompt, model: "flux-schnell" });
    await waitFor(() => h.queueDeliveries(QUEUE).length > deliveries, { timeout: 10000, message: "the redelivery" });
    await sleep(300);
    assert.deepEqual(await objects(), stored);

    // A redelivery that redoes the job (as after a lost acknowledgement) overwrites the same keys.
    await h.query("UPDATE generation_jobs SET status = 'processing' WHERE id = ?", data.job_id);
    await h.queue.send({ jobId: data.job_id, prompt, model: "flux-schnell" });
    await waitFor(async () => h.recorder.callsFor(prompt).length === 2 && (await h.job(data.job_id)).status === "completed", {
      timeout: 15000,
      message: "the job to be redone",
    });
    await h.waitForNoJobsInFlight();
    assert.deepEqual(await objects(), stored, "one image and one thumbnail, same keys");
    const after = await h.job(data.job_id);
    assert.equal(after.thumbnail_url, before.thumbnail_url);
    assert.equal(after.image_size, before.image_size);
    assert.equal(await h.count("generations", "job_id = ?", data.job_id), 1);
  });
});

for (const [label, imagesBinding, reason] of [
  ["without the Images binding", false, /completing without a thumbnail: the IMAGES binding \(Cloudflare Images\) is not configured/],
  // A binding of the wrong kind: env.IMAGES.input is not a function, so the call throws.
  ["with an Images binding that fails", { type: "json", value: { broken: true } }, /completing without a thumbnail: the Images binding failed: \S/],
]) {
  describe(`jobs complete ${label}`, () => {
    let client;
    const h = useHarness({ imagesBinding });
    before(async () => {
      client = await h.mcpClient();
    });

    it("completes without a thumbnail, the log says why, and results show the link alone", async () => {
      const prompt = `no thumbnail today ${uniq()}`;
      const { result, data } = await callTool(client, "generate_image_and_wait", { prompt, model: "sdxl-lightning" });
      assert.equal(data.success, true, `${JSON.stringify(data)}\n${h.logText()}`);
      assert.equal(data.thumbnail_url, null);
      const row = await h.job(data.job_id);
      assert.equal(row.status, "completed");
      assert.equal(row.thumbnail_url, null);
      const image = await h.r2Bytes(keyFromWorkerUrl(data.image_url));
      assert.equal(row.image_size, image.bytes.length);
      const objects = (await h.r2Objects()).filter((o) => o.customMetadata?.jobId === data.job_id);
      assert.equal(objects.length, 1, "only the image is stored");
      assert.deepEqual(result.content.map((b) => b.type), ["text", "resource_link"]);
      assert.equal(result.content[1].size, image.bytes.length);
      const line = h.logs.find((l) => l.source === "worker" && l.message.includes(data.job_id) && /without a thumbnail/.test(l.message));
      assert.ok(line, `no log line says why:\n${h.logText()}`);
      assert.match(line.message, reason);
      console.log(`# ${label}: ${line.message}`);
      assert.doesNotMatch(line.message, new RegExp(h.token), "the log leaks the token");
    });
  });
}

describe("the offline preview backend (what scripts/dev.sh runs) gets thumbnails too", () => {
  let client;
  const h = useHarness({ vars: { IMAGE_BACKEND: "preview" } });
  before(async () => {
    client = await h.mcpClient();
  });

  it("a preview picture's thumbnail is a 256 px WebP under 24 KB, shown inline", async () => {
    const sizes = [];
    for (const [model, controls] of [["flux-schnell", {}], ["flux-2-dev", { aspect_ratio: "16:9" }]]) {
      const { result, data } = await callTool(client, "generate_image_and_wait", { prompt: `an offline fjord ${uniq()}`, model, ...controls });
      assert.equal(data.success, true, JSON.stringify(data));
      const thumb = await h.r2Bytes(keyFromWorkerUrl(data.thumbnail_url));
      const decoded = await decodeWebp(thumb.bytes);
      assert.equal(Math.max(decoded.width, decoded.height), THUMBNAIL_MAX_SIDE);
      assert.ok(thumb.bytes.length <= THUMBNAIL_AIM_BYTES, `${thumb.bytes.length} bytes`);
      assert.deepEqual(result.content.map((b) => b.type), ["text", "resource_link", "image"]);
      sizes.push(`${model} → ${decoded.width}x${decoded.height} (${thumb.bytes.length} B)`);
    }
    console.log(`# preview-backend thumbnail sizes: ${sizes.join("; ")}`);
  });
});

// Issue 18, item 4. A job is redone when its message is delivered again after an attempt stored
// the image and thumbnail (a lost acknowledgement, a completing batch that failed, the sweeper).
// When the redo's thumbnail fails, the consumer deletes the thumbnail an earlier attempt stored
// under the same key before completing with thumbnail_url NULL; a redo whose thumbnail works
// records it in the job and its gallery row. The Images binding is failed through the fault
// proxy (IMAGES.input throws).
describe("a redo with a failing thumbnail", () => {
  let client;
  const h = useHarness({ faults: true });
  before(async () => {
    client = await h.mcpClient();
  });
  const model = "flux-schnell";
  // Rows record URLs without the origin (/images/<key>) when PUBLIC_IMAGE_BASE_URL is empty.
  const keyOfRowUrl = (url) => keyFromWorkerUrl(new URL(url, "http://worker.test").href);

  /** The job's and gallery row's thumbnail_url, and the thumbnail objects R2 holds for the job. */
  async function thumbnailState(jobId) {
    const job = await h.job(jobId);
    const [gallery] = await h.query("SELECT thumbnail_url FROM generations WHERE job_id = ?", jobId);
    const objects = (await h.r2Objects()).filter((o) => o.customMetadata?.jobId === jobId);
    return {
      status: job.status,
      image: job.image_url,
      job: job.thumbnail_url,
      gallery: gallery?.thumbnail_url,
      thumbs: objects.filter((o) => o.key.endsWith("-thumb.webp")).map((o) => o.key),
      images: objects.filter((o) => !o.key.endsWith("-thumb.webp")).map((o) => o.key),
    };
  }

  /** Consistent: NULL and no thumbnail object, or a URL naming the one thumbnail object. */
  function assertConsistent(state) {
    assert.equal(state.status, "completed", JSON.stringify(state));
    assert.equal(state.gallery, state.job, `gallery row and job disagree: ${JSON.stringify(state)}`);
    assert.deepEqual(state.images, [keyOfRowUrl(state.image)], JSON.stringify(state));
    if (state.job === null) assert.deepEqual(state.thumbs, [], `thumbnail_url NULL beside ${state.thumbs}`);
    else assert.deepEqual(state.thumbs, [keyOfRowUrl(state.job)], JSON.stringify(state));
  }

  /** Redoes a completed job as a redelivery after a lost acknowledgement would. */
  async function redo(jobId, prompt) {
    await h.waitForNoJobsInFlight();
    const calls = h.recorder.callsFor(prompt).length;
    await h.query("UPDATE generation_jobs SET status = 'processing' WHERE id = ?", jobId);
    await h.queue.send({ jobId, prompt, model });
    await waitFor(async () => h.recorder.callsFor(prompt).length > calls && (await h.job(jobId)).status === "completed", {
      timeout: 20000,
      message: "the job to be redone",
    });
    await h.waitForNoJobsInFlight();
  }

  const storedThumbnailLog = (jobId) =>
    h.logs.filter((l) => l.source === "worker" && l.message.includes(`job ${jobId}: thumbnail `));

  it("a redelivered job whose thumbnail now fails completes with NULL and its earlier thumbnail deleted", async () => {
    await h.setFaults([]);
    const prompt = `a twice-made lantern ${uniq()}`;
    const { data } = await callTool(client, "generate_image_and_wait", { prompt, model });
    assert.equal(data.success, true, JSON.stringify(data));
    const first = await thumbnailState(data.job_id);
    assert.notEqual(first.job, null, "the first attempt made a thumbnail");
    assertConsistent(first);

    await h.setFaults([{ binding: "IMAGES", method: "input", times: 1 }]);
    await redo(data.job_id, prompt);
    assert.equal((await h.faultHits()).length, 1, "the redo's thumbnail call failed");
    const after = await thumbnailState(data.job_id);
    assert.equal(after.job, null);
    assertConsistent(after);
    assert.equal(await h.count("generations", "job_id = ?", data.job_id), 1);
  });

  it("an attempt that stored both objects and then failed to complete, redone with a failing thumbnail, leaves no thumbnail", async () => {
    await h.setFaults([
      { binding: "DB", method: "batch", match: "SET status = 'completed'", times: 1 },
      { binding: "IMAGES", method: "input", skip: 1, times: 1 },
    ]);
    const prompt = `a lantern retried ${uniq()}`;
    const { data } = await callTool(client, "generate_image_and_wait", { prompt, model });
    assert.ok(data.job_id, JSON.stringify(data));
    await h.waitForJob(data.job_id, "completed", { timeout: 20000 });
    await h.waitForNoJobsInFlight();
    const hits = await h.faultHits();
    assert.deepEqual(hits.map((hit) => hit.binding).sort(), ["DB", "IMAGES"], JSON.stringify(hits));
    assert.equal(storedThumbnailLog(data.job_id).length, 1, `the first attempt stored a thumbnail:\n${h.logText()}`);
    assert.equal(h.recorder.callsFor(prompt).length, 2);
    const after = await thumbnailState(data.job_id);
    assert.equal(after.job, null);
    assertConsistent(after);
  });

  it("when deleting the earlier thumbnail fails the attempt is retried, not completed beside it", async () => {
    await h.setFaults([]);
    const prompt = `a lantern kept late ${uniq()}`;
    const { data } = await callTool(client, "generate_image_and_wait", { prompt, model });
    assert.notEqual((await thumbnailState(data.job_id)).job, null);

    await h.setFaults([
      { binding: "IMAGES", method: "input", times: 2 },
      { binding: "R2", method: "delete", match: "-thumb.webp", times: 1 },
    ]);
    await redo(data.job_id, prompt);
    const hits = await h.faultHits();
    assert.deepEqual(hits.map((hit) => `${hit.binding} ${hit.method}`), ["IMAGES input", "R2 delete", "IMAGES input"]);
    assert.ok(
      h.logs.some((l) => l.message.includes(`job ${data.job_id}: could not delete the earlier thumbnail`)),
      `no log line:\n${h.logText()}`,
    );
    const after = await thumbnailState(data.job_id);
    assert.equal(after.job, null);
    assertConsistent(after);
  });

  it("a redo whose thumbnail works records it in the job and its gallery row", async () => {
    await h.setFaults([{ binding: "IMAGES", method: "input", times: 1 }]);
    const prompt = `a lantern lit at last ${uniq()}`;
    const { data } = await callTool(client, "generate_image_and_wait", { prompt, model });
    assert.equal(data.thumbnail_url, null);
    assertConsistent(await thumbnailState(data.job_id));

    await h.setFaults([]);
    await redo(data.job_id, prompt);
    const after = await thumbnailState(data.job_id);
    assert.notEqual(after.job, null);
    assertConsistent(after);
    assert.equal(await h.count("generations", "job_id = ?", data.job_id), 1);
    const thumb = await h.r2Bytes(after.thumbs[0]);
    const decoded = await decodeWebp(thumb.bytes);
    assert.equal(Math.max(decoded.width, decoded.height), THUMBNAIL_MAX_SIDE);
  });
});
