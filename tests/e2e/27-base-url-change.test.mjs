// Images outlive a PUBLIC_IMAGE_BASE_URL change (issue 18, item 3). An image is generated with
// PUBLIC_IMAGE_BASE_URL set to an old base, so its job row records `<old base>/<key>`; the
// runtime is then restarted over the same persisted D1/R2 with another base, and again with
// none. Every lookup that starts from the row still finds the object by its key:
// resources/list lists it, resources/read returns the stored bytes (image and thumbnail), and
// an edit by job id reads it. The old URL given by a caller as a reference is a foreign host's
// and stays refused. The gallery shows the image under today's base (or /images/<key>), which its
// Content-Security-Policy allows; get_job_status shows the URL as recorded (rows are never
// rewritten).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startHarness, callTool, uniq, sniff } from "./harness.mjs";
import { signIn, getPage } from "./support/gallery.mjs";

const OLD_BASE = "https://old-cdn.example/images-a";
const imageUri = (jobId) => `images://jobs/${jobId}`;
const thumbnailUri = (jobId) => `images://jobs/${jobId}/thumbnail`;

describe("images recorded under an earlier PUBLIC_IMAGE_BASE_URL", () => {
  let dir;
  /** The image made under OLD_BASE: { jobId, imageUrl, key, thumbnailKey }. */
  let made;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "mcp-e2e-base-url-"));
    const first = await startHarness({ persistDir: dir, vars: { PUBLIC_IMAGE_BASE_URL: OLD_BASE } });
    try {
      const client = await first.mcpClient();
      const { result, data } = await callTool(client, "generate_image_and_wait", {
        prompt: `${uniq("base")} a lighthouse at dusk`,
        model: "sdxl-base",
        preview: false,
      });
      assert.ok(!result.isError, JSON.stringify(data));
      assert.ok(data.image_url.startsWith(`${OLD_BASE}/`), data.image_url);
      const key = data.image_url.slice(OLD_BASE.length + 1);
      const row = await first.job(data.job_id);
      assert.equal(row.image_url, `${OLD_BASE}/${key}`, "the row records the old base");
      assert.ok(await first.r2Bytes(key), `no R2 object ${key}`);
      const thumbnailKey = row.thumbnail_url?.startsWith(`${OLD_BASE}/`) ? row.thumbnail_url.slice(OLD_BASE.length + 1) : null;
      made = { jobId: data.job_id, imageUrl: data.image_url, key, thumbnailKey };
    } finally {
      await first.dispose();
    }
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [label, base] of [
    ["restarted with another base", "https://new.example/b"],
    ["restarted with no base", ""],
  ]) {
    describe(label, () => {
      let h;
      let client;
      before(async () => {
        h = await startHarness({ persistDir: dir, migrate: false, vars: { PUBLIC_IMAGE_BASE_URL: base } });
        client = await h.mcpClient();
      });
      after(async () => {
        await h?.dispose();
      });

      it("the row still records the old base", async () => {
        assert.equal((await h.job(made.jobId)).image_url, made.imageUrl);
      });

      it("resources/list lists the image under its key", async () => {
        const { resources } = await client.listResources();
        const entry = resources.find((r) => r.uri === imageUri(made.jobId));
        assert.ok(entry, `not listed: ${JSON.stringify(resources.map((r) => r.uri))}`);
        assert.equal(entry.name, made.key);
        assert.equal(entry.mimeType, "image/png");
      });

      it("resources/read returns the stored bytes, the same the worker serves at /images/<key>", async () => {
        const { contents } = await client.readResource({ uri: imageUri(made.jobId) });
        assert.equal(contents.length, 1);
        assert.equal(contents[0].mimeType, "image/png");
        const read = Buffer.from(contents[0].blob, "base64");
        const stored = await h.r2Bytes(made.key);
        assert.ok(read.equals(Buffer.from(stored.bytes)), `read ${read.length} bytes, stored ${stored.bytes.length}`);
        const served = await h.fetch(`/images/${made.key}`);
        assert.equal(served.status, 200);
        assert.ok(read.equals(Buffer.from(await served.arrayBuffer())), "GET /images/<key> serves the same bytes");
        assert.equal(sniff(read), "png");
      });

      it("resources/read of the thumbnail returns its stored bytes", async (t) => {
        if (!made.thumbnailKey) return t.skip("no thumbnail was made");
        const { contents } = await client.readResource({ uri: thumbnailUri(made.jobId) });
        assert.equal(contents[0].mimeType, "image/webp");
        const stored = await h.r2Bytes(made.thumbnailKey);
        assert.ok(Buffer.from(contents[0].blob, "base64").equals(Buffer.from(stored.bytes)));
      });

      it("get_job_status shows the image_url as recorded", async () => {
        const { data } = await callTool(client, "get_job_status", { job_id: made.jobId });
        assert.equal(data.status, "completed", JSON.stringify(data));
        assert.equal(data.image_url, made.imageUrl);
      });

      it("the gallery shows the image under today's configuration, which its CSP allows", async () => {
        const cookie = await signIn(h);
        const shown = base ? `${base}/${made.key}` : `/images/${made.key}`;
        const { res, html } = await getPage(h, `/gallery/image/${made.jobId}`, cookie);
        assert.equal(res.status, 200);
        assert.ok(html.includes(`<figure class="full"><img src="${shown}"`), html.slice(0, 2000));
        assert.ok(!html.includes(OLD_BASE), "no URL of the old base is rendered");
        const imgSrc = /img-src ([^;]*)/.exec(res.headers.get("content-security-policy"))[1];
        assert.ok(imgSrc.includes(base ? new URL(base).origin : "'self'"), imgSrc);
        const grid = await getPage(h, "/gallery", cookie);
        assert.ok(!grid.html.includes(OLD_BASE), "no tile uses the old base");
        assert.ok(grid.html.includes(`${base ? base : "/images"}/`), "tiles use today's configuration");
      });

      it("an edit by job id reads the image; the old URL given as a reference is refused", async () => {
        const byId = await callTool(client, "edit_image", { prompt: `${uniq("edit")} at night`, images: [made.jobId] });
        assert.equal(byId.result.isError, undefined, JSON.stringify(byId.data).slice(0, 600));
        assert.equal(byId.data.status, "completed", JSON.stringify(byId.data).slice(0, 600));
        const byOldUrl = await callTool(client, "edit_image", { prompt: `${uniq("edit")} at night`, images: [made.imageUrl] });
        assert.equal(byOldUrl.result.isError, true, JSON.stringify(byOldUrl.data).slice(0, 600));
        assert.match(byOldUrl.data.error, /never fetches other URLs/);
      });
    });
  }
});
