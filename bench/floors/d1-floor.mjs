// The D1 floor: a JS worker doing, per tool, the fewest D1 statements the tool needs and
// answering with the same JSON as this server's, field for field (bench/floors.mjs checks the
// shape of every answer against ours before it measures, so both send the same bytes).
//
//   get_job_status    one SELECT by id
//   list_jobs         one statement: the page query with its COUNT as a subquery column
//   list_generations  the same, on the gallery table (joined to its job, as ours is)
//   generate_image    one batch: the INSERT of ours's rows (owner, cost estimates), one
//                     statement for every job as ours's, and the upsert of the day's usage
//                     (images, neurons, USD) that ours makes for every call
//                     (src/services/quota.rs), then one queue send (count 1) or one sendBatch
//   queue consumer    the model call (the same Workers AI stand-in as ours), base64 decode
//                     when the model answers base64, a magic-bytes check, one R2 put (with the
//                     same HTTP and custom metadata as ours), when IMAGES is bound the 256 px
//                     WebP thumbnail through the Images binding and its R2 put (concurrently
//                     with the image's put), and one D1 batch that completes the job with its
//                     image, its size read from the image's header, its thumbnail (and the
//                     thumbnail's base64 for inline previews) and byte count and adds its
//                     gallery row (the same end state as ours: a completed job, a gallery row,
//                     two objects)
//
// It checks the bearer token and the few arguments it uses, and supports only what the
// bench sends (flux-schnell and sdxl-lightning, no optional controls): it is a floor to
// measure against, not a server. initialize and tools/list are the protocol floor's rows.

const JOB_COLUMNS =
  "id, status, prompt, model, image_url, thumbnail_url, error, created_at, updated_at, seed, width, height, parameters, " +
  "estimated_neurons, estimated_usd";
const GENERATION_COLUMNS =
  "g.id, g.job_id, g.image_url, g.thumbnail_url, g.prompt, g.model, g.created_at, j.seed, j.width, j.height, j.parameters, " +
  "j.estimated_neurons, j.estimated_usd";
/** Workers AI's rate (src/models/cost.rs): "$0.011 per 1,000 Neurons". */
const USD_PER_THOUSAND_NEURONS = 0.011;
const round = (value, digits) => Math.round(value * 10 ** digits) / 10 ** digits;
/** A cost in neurons, and its USD at the rate, rounded as ours (`Cost::of_neurons`). */
const cost = (neurons) => ({
  neurons: round(neurons, 6),
  usd: round((neurons * USD_PER_THOUSAND_NEURONS) / 1000, 8),
});
/**
 * The models the bench sends, with the neurons of one job at their default controls, as ours
 * estimates them (src/models/cost.rs, src/models/registry.rs): FLUX.1 schnell $0.0000528 per
 * 512x512 tile + $0.0001056 per step, 4 tiles and 4 steps; SDXL-Lightning a $0 beta.
 */
const MODELS = {
  "flux-schnell": {
    id: "@cf/black-forest-labs/flux-1-schnell",
    neurons: ((4 * 0.0000528 + 4 * 0.0001056) / USD_PER_THOUSAND_NEURONS) * 1000,
  },
  "sdxl-lightning": { id: "@cf/bytedance/stable-diffusion-xl-lightning", neurons: 0 },
};
/** The caller a static AUTH_TOKEN names (src/access.rs `ADMIN_NAME`): every job's owner. */
const OWNER = "admin";
const STATUSES = new Set(["all", "pending", "processing", "completed", "failed"]);

// The headers ours sends with every answer (src/transport/cors.rs), so both send the same bytes.
const ANSWER_HEADERS = {
  "content-type": "application/json",
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers":
    "Content-Type, Authorization, Accept, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Session-Id, Last-Event-ID",
  "access-control-expose-headers": "WWW-Authenticate, Mcp-Protocol-Version",
};

function reply(id, object, isError = false) {
  const result = { content: [{ type: "text", text: JSON.stringify(object, null, 2) }], structuredContent: object };
  if (isError) result.isError = true;
  return new Response(JSON.stringify({ jsonrpc: "2.0", id, result }), { headers: ANSWER_HEADERS });
}

function httpError(status, text) {
  return new Response(JSON.stringify({ error: text }), { status, headers: { "content-type": "application/json" } });
}

const absolute = (origin, url) => (typeof url === "string" && url.startsWith("/") ? origin + url : url);
const parameters = (text) => (text ? JSON.parse(text) : null);

function jobView(row, origin) {
  return {
    id: row.id,
    status: row.status,
    prompt: row.prompt,
    model: row.model,
    image_url: absolute(origin, row.image_url),
    thumbnail_url: absolute(origin, row.thumbnail_url),
    error: row.error,
    created_at: row.created_at,
    updated_at: row.updated_at,
    seed: row.seed,
    width: row.width,
    height: row.height,
    parameters: parameters(row.parameters),
    estimated_neurons: row.estimated_neurons,
    estimated_usd: row.estimated_usd,
  };
}

function page(args) {
  const limit = args.limit ?? 10;
  const offset = args.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > 50) return { error: "limit must be an integer from 1 to 50" };
  if (!Number.isInteger(offset) || offset < 0) return { error: "offset must be an integer >= 0" };
  return { limit, offset };
}

async function getJobStatus(env, id, args, origin) {
  if (typeof args.job_id !== "string" || args.job_id.length < 1 || args.job_id.length > 64) {
    return reply(id, { success: false, error: "job_id must be a string of 1 to 64 characters" }, true);
  }
  const row = await env.DB.prepare(`SELECT ${JOB_COLUMNS} FROM generation_jobs WHERE id = ?`).bind(args.job_id).first();
  if (!row) return reply(id, { success: false, error: `Job not found: ${args.job_id}` }, true);
  // Ours's order: the outcome (status, image, error) before the request (prompt, model, …).
  const { id: jobId, status, image_url, thumbnail_url, error, ...request } = jobView(row, origin);
  return reply(id, { success: true, job_id: jobId, status, image_url, thumbnail_url, error, ...request });
}

/**
 * A page (`SELECT <list> …`) and its total in one statement, the count as a subquery column in
 * front (`SELECT (<count>) AS total, <list> …`, as ours: `Statement::page_with_total`), and the
 * count alone only when the page is empty.
 */
async function pageWithTotal(env, count, countParams, page, pageParams) {
  const sql = `SELECT (${count}) AS total, ${page.slice("SELECT ".length)}`;
  const { results } = await env.DB.prepare(sql).bind(...countParams, ...pageParams).all();
  if (results.length) return { total: results[0].total, rows: results };
  const alone = await env.DB.prepare(count).bind(...countParams).first();
  return { total: alone?.total ?? 0, rows: results };
}

async function listJobs(env, id, args, origin) {
  const p = page(args);
  if (p.error) return reply(id, { success: false, error: p.error }, true);
  const filter = args.status ?? "all";
  if (!STATUSES.has(filter)) return reply(id, { success: false, error: "bad status" }, true);
  const where = filter === "all" ? "" : " WHERE status = ?";
  const params = filter === "all" ? [] : [filter];
  const count = `SELECT COUNT(*) AS total FROM generation_jobs${where}`;
  const { total, rows } = await pageWithTotal(
    env,
    count,
    params,
    `SELECT ${JOB_COLUMNS} FROM generation_jobs${where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
    [...params, p.limit, p.offset],
  );
  const jobs = rows.map((row) => jobView(row, origin));
  return reply(id, {
    success: true,
    filter,
    total_count: total,
    returned_count: jobs.length,
    has_more: p.offset + jobs.length < total,
    limit: p.limit,
    offset: p.offset,
    jobs,
  });
}

async function listGenerations(env, id, args, origin) {
  const p = page(args);
  if (p.error) return reply(id, { success: false, error: p.error }, true);
  const count = "SELECT COUNT(*) AS total FROM generations";
  const { total, rows } = await pageWithTotal(
    env,
    count,
    [],
    `SELECT ${GENERATION_COLUMNS} FROM generations g LEFT JOIN generation_jobs j ON j.id = g.job_id ` +
      "ORDER BY g.created_at DESC, g.id DESC LIMIT ? OFFSET ?",
    [p.limit, p.offset],
  );
  const generations = rows.map((row) => ({
    id: row.id,
    job_id: row.job_id,
    image_url: absolute(origin, row.image_url),
    thumbnail_url: absolute(origin, row.thumbnail_url),
    prompt: row.prompt,
    model: row.model,
    created_at: row.created_at,
    seed: row.seed,
    width: row.width,
    height: row.height,
    parameters: parameters(row.parameters),
    estimated_neurons: row.estimated_neurons,
    estimated_usd: row.estimated_usd,
  }));
  return reply(id, {
    success: true,
    total_count: total,
    returned_count: generations.length,
    has_more: p.offset + generations.length < total,
    limit: p.limit,
    offset: p.offset,
    generations,
  });
}

async function generateImage(env, id, args) {
  const prompt = args.prompt;
  if (typeof prompt !== "string" || prompt.length < 3 || prompt.length > 1000) {
    return reply(id, { success: false, error: "prompt must be 3 to 1000 characters" }, true);
  }
  const model = args.model ?? "flux-schnell";
  const spec = MODELS[model];
  if (!spec) return reply(id, { success: false, error: `unsupported model ${model}` }, true);
  const count = args.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 20) {
    return reply(id, { success: false, error: "count must be an integer from 1 to 20" }, true);
  }
  const now = Date.now();
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  const each = cost(spec.neurons);
  const total = cost(spec.neurons * count);
  // The rows ours writes for a request with no optional controls, in its one statement
  // (src/jobs/sql.rs `insert_jobs`: each job's own values as a row of one JSON array).
  const insert = env.DB.prepare(
    "INSERT INTO generation_jobs (id, status, prompt, model, image_url, error, created_at, updated_at, seed, width, height, " +
      "parameters, owner, inputs, estimated_neurons, estimated_usd) " +
      "SELECT job.value ->> 0, 'pending', ?, ?, NULL, NULL, ?, ?, job.value ->> 1, job.value ->> 2, job.value ->> 3, " +
      "job.value ->> 4, ?, job.value ->> 5, job.value ->> 6, job.value ->> 7 FROM json_each(?) AS job",
  ).bind(prompt, model, now, now, OWNER, JSON.stringify(ids.map((jobId) => [jobId, null, null, null, "{}", null, each.neurons, each.usd])));
  // The day's usage, as ours counts it for a caller without a quota or budget (src/jobs/sql.rs
  // `count_usage`, the same statement).
  const usage = env.DB.prepare(
    "INSERT INTO daily_usage (owner, day, images, neurons, usd) VALUES (?, ?, ?, ?, ?) " +
      "ON CONFLICT (owner, day) DO UPDATE SET images = images + excluded.images, " +
      "neurons = neurons + excluded.neurons, usd = usd + excluded.usd",
  ).bind(OWNER, new Date(now).toISOString().slice(0, 10), count, total.neurons, total.usd);
  await env.DB.batch([insert, usage]);
  if (count === 1) {
    await env.IMAGE_QUEUE.send({ job_id: ids[0], prompt, model });
    return reply(id, {
      success: true,
      job_id: ids[0],
      status: "pending",
      message: "Image generation started. Call wait_for_completion with this job_id to get the image URL (or poll get_job_status).",
      prompt,
      model,
      estimated_time_seconds: 30,
      estimated_neurons: total.neurons,
      estimated_usd: total.usd,
    });
  }
  await env.IMAGE_QUEUE.sendBatch(ids.map((jobId) => ({ body: { job_id: jobId, prompt, model } })));
  return reply(id, {
    success: true,
    job_ids: ids,
    count,
    status: "pending",
    message: `Started ${count} image generation jobs. Call wait_for_completion with these job_ids to get the image URLs.`,
    prompt,
    model,
    estimated_time_seconds: 30,
    estimated_neurons: total.neurons,
    estimated_usd: total.usd,
  });
}

function base64ToBytes(text) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The pixel size in a PNG's IHDR or a JPEG's start-of-frame, as ours reads it (src/media.rs `dimensions`). */
function dimensions(bytes, format) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === "png") return bytes.length >= 24 ? [view.getUint32(16), view.getUint32(20)] : [null, null];
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    if (marker === 0xff) at += 1;
    else if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) at += 2;
    else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return at + 9 <= bytes.length ? [view.getUint16(at + 7), view.getUint16(at + 5)] : [null, null];
    } else at += 2 + view.getUint16(at + 2);
  }
  return [null, null];
}

/** The largest thumbnail kept inline in its job row, as base64 text (src/catalog.rs). */
const INLINE_PREVIEW_MAX_BASE64_BYTES = 100_000;

function bytesToBase64(bytes) {
  if (typeof bytes.toBase64 === "function") return bytes.toBase64();
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function sniff(bytes) {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  return null;
}

async function runJob(env, { job_id: jobId, prompt, model }) {
  const spec = MODELS[model];
  if (!spec) throw new Error(`unsupported model ${model}`);
  const output = await env.AI.run(spec.id, { prompt });
  const bytes =
    output && typeof output.image === "string"
      ? base64ToBytes(output.image)
      : new Uint8Array(await new Response(output).arrayBuffer());
  const format = sniff(bytes);
  if (!format) throw new Error("the model did not return a PNG or JPEG");
  const now = Date.now();
  const slug = prompt.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 50);
  const key = `${now}-${slug}-${jobId}.${format === "png" ? "png" : "jpg"}`;
  const url = `/images/${key}`;
  const generatedAt = new Date(now).toISOString();
  // The image and (when IMAGES is bound) its thumbnail, concurrently: the floor is the best a
  // JS worker does with the same work as ours (src/pipeline/consumer.rs, src/images_binding.rs).
  const putImage = env.R2_BUCKET.put(key, bytes, {
    httpMetadata: { contentType: `image/${format}`, cacheControl: IMMUTABLE },
    customMetadata: { prompt: prompt.slice(0, 1024), model, jobId, generatedAt },
  });
  const thumbnail = env.IMAGES ? storeThumbnail(env, bytes, key, jobId, generatedAt) : Promise.resolve(null);
  const [, thumb] = await Promise.all([putImage, thumbnail]);
  const thumbUrl = thumb ? `/images/${thumb.key}` : null;
  const [width, height] = dimensions(bytes, format);
  // One D1 batch: the job completed with its image, its size as stored, its thumbnail (inline
  // too when small enough) and byte count, and its gallery row (src/jobs/sql.rs `mark_completed`).
  await env.DB.batch([
    env.DB.prepare(
      "UPDATE generation_jobs SET status = 'completed', image_url = ?, error = NULL, updated_at = ?, " +
        "width = COALESCE(?, width), height = COALESCE(?, height), thumbnail_url = ?, image_size = ?, thumbnail_base64 = ? " +
        "WHERE id = ? AND status NOT IN ('failed', 'cancelled', 'deleted')",
    ).bind(url, now, width, height, thumbUrl, bytes.length, thumb?.base64 ?? null, jobId),
    env.DB.prepare(
      "INSERT INTO generations (id, job_id, image_url, prompt, model, created_at, thumbnail_url, image_size) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
    ).bind(crypto.randomUUID(), jobId, url, prompt, model, now, thumbUrl, bytes.length),
  ]);
}

const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * The 256 px WebP thumbnail (scale-down, quality 75: src/catalog.rs) made through the Images
 * binding and stored beside the image with the same key and metadata as ours
 * (`<stem>-thumb.webp`, thumbnailOf/jobId/generatedAt); its key and its base64 (null past the
 * inline limit), or null when the binding failed.
 */
async function storeThumbnail(env, bytes, imageKey, jobId, generatedAt) {
  let webp;
  try {
    const result = await env.IMAGES.input(new Response(bytes).body)
      .transform({ width: 256, height: 256, fit: "scale-down" })
      .output({ format: "image/webp", quality: 75 });
    webp = new Uint8Array(await result.response().arrayBuffer());
  } catch (error) {
    console.warn(`d1 floor: job ${jobId}: no thumbnail: ${error}`);
    return null;
  }
  const key = `${imageKey.replace(/\.[^.]*$/, "")}-thumb.webp`;
  await env.R2_BUCKET.put(key, webp, {
    httpMetadata: { contentType: "image/webp", cacheControl: IMMUTABLE },
    customMetadata: { thumbnailOf: imageKey, jobId, generatedAt },
  });
  const base64 = bytesToBase64(webp);
  return { key, base64: base64.length <= INLINE_PREVIEW_MAX_BASE64_BYTES ? base64 : null };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/mcp" || request.method !== "POST") return httpError(404, "not found");
    if (request.headers.get("authorization") !== `Bearer ${env.AUTH_TOKEN}`) return httpError(401, "unauthorized");
    let message;
    try {
      message = JSON.parse(await request.text());
    } catch {
      return httpError(400, "parse error");
    }
    if (message.method !== "tools/call") return httpError(400, `the D1 floor answers tools/call only, not ${message.method}`);
    const args = message.params?.arguments ?? {};
    const id = message.id ?? null;
    switch (message.params?.name) {
      case "get_job_status":
        return getJobStatus(env, id, args, url.origin);
      case "list_jobs":
        return listJobs(env, id, args, url.origin);
      case "list_generations":
        return listGenerations(env, id, args, url.origin);
      case "generate_image":
        return generateImage(env, id, args);
      default:
        return httpError(400, `the D1 floor has no tool ${message.params?.name}`);
    }
  },

  async queue(batch, env) {
    for (const message of batch.messages) {
      try {
        await runJob(env, message.body);
        message.ack();
      } catch (error) {
        console.error(`d1 floor: job ${message.body?.job_id}: ${error?.stack ?? error}`);
        message.retry();
      }
    }
  },
};
