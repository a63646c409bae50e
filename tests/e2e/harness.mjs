// The one shared e2e harness: every *.test.mjs file imports it.
//
// startHarness() boots a Miniflare 5 instance running the built worker
// (build/index.js + build/*.wasm, worker-build's output) with Miniflare's REAL
// local D1, R2 and Queues, the Workers AI stand-in (support/ai-standin.mjs)
// as env.AI, and Miniflare's local Images binding (run with the npm package sharp) as
// env.IMAGES. It applies migrations/*.sql to D1, and returns helpers: the base
// URL, an official-SDK MCP client, a raw JSON-RPC helper, D1/R2/queue access,
// the model-call recorder, and polling utilities.
//
// Each test file starts its own instance (fresh, non-persistent storage) in a
// `before` hook and disposes it in `after`, so `node --test` exits: `const h =
// useHarness(options)` from support/setup.mjs registers both on the describe block
// it is called in (startHarness itself is for files that start instances in a test).
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { Miniflare, Log, LogLevel } from "miniflare";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { aiStandin, Recorder } from "./support/ai-standin.mjs";
import { makeModelImages, sniff } from "./support/images.mjs";

export { MODEL_IDS } from "./support/images.mjs";
export { sniff, decodes, decodeImage, imageInfo, renderModelImage } from "./support/images.mjs";
export {
  FAIL_ALWAYS_MESSAGE,
  FAIL_ONCE_MESSAGE,
  MODELS,
  MODEL_TABLE,
  MODEL_NAMES,
  TEXT_MODEL_NAMES,
  EDIT_ONLY_MODEL_NAMES,
  IMAGE_INPUT_MODEL_NAMES,
} from "./support/ai-standin.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BUILD_DIR = path.join(ROOT, "build");
/**
 * The workerd every Miniflare started here runs (Miniflare's MINIFLARE_WORKERD_PATH, unless it is
 * set): the newer release in the optional npm package workerd-runtime when it is installed (Linux
 * x64), else the one Miniflare brings. scripts/setup.sh says why and points wrangler at it too.
 */
const RUNTIME_BINARY = path.join(ROOT, "node_modules", "workerd-runtime", "bin", "workerd");
if (!process.env.MINIFLARE_WORKERD_PATH && existsSync(RUNTIME_BINARY)) process.env.MINIFLARE_WORKERD_PATH = RUNTIME_BINARY;
export const MIGRATIONS_DIR = path.join(ROOT, "migrations");
export const COMPATIBILITY_DATE = "2025-09-01";
export const TEST_TOKEN = "e2e-test-token-4f1c9a7d2b";
export const SERVER_NAME = "mcp-image-generator";
export const SERVER_VERSION = "3.0.0";
/** The committed tools/list golden file of the latest revision (`UPDATE_GOLDEN=1 cargo test golden` rewrites it). */
export const TOOLS_GOLDEN = path.join(ROOT, "tests", "golden", "tools-list-2025-11-25.json");
/** The tool names, in order, of a golden tools/list file ({"tools": [{"name", ...}, ...]}). */
export function goldenToolNames(file = TOOLS_GOLDEN) {
  const golden = JSON.parse(readFileSync(file, "utf8"));
  const tools = golden?.tools ?? golden?.result?.tools;
  if (!Array.isArray(tools) || tools.length === 0) throw new Error(`${file}: no tools array`);
  return tools.map((t) => {
    if (typeof t?.name !== "string" || !t.name) throw new Error(`${file}: a tool without a name`);
    return t.name;
  });
}
/**
 * Every tool, in tools/list order: read from the golden file, so adding a tool (one module,
 * one table line, regenerated golden files) needs no edit here.
 */
export const TOOL_NAMES = goldenToolNames();
/**
 * The original's six tools, which keep their names, arguments and result fields: a fixed
 * contract, never derived. Tests assert they are listed first, in this order.
 */
export const ORIGINAL_TOOL_NAMES = [
  "generate_image",
  "get_job_status",
  "list_generations",
  "list_jobs",
  "wait_for_completion",
  "generate_image_and_wait",
];
export const QUEUE = "image-generation-queue";
export const DLQ = "image-generation-dlq";

const DEFAULT_VARS = {
  AUTH_TOKEN: TEST_TOKEN,
  IMAGE_BACKEND: "workers-ai",
  WAIT_RESPONSE_LIMIT_SECONDS: "50",
  PUBLIC_IMAGE_BASE_URL: "",
  ALLOWED_ORIGINS: "",
};

const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Keeps Miniflare's own log lines (queue deliveries, retries, dead-lettering,
 * uncaught errors) for assertions and failure messages; prints them only with
 * E2E_VERBOSE=1.
 */
class CaptureLog extends Log {
  #sink;
  #verbose;
  constructor(sink, verbose) {
    super(LogLevel.DEBUG);
    this.#sink = sink;
    this.#verbose = verbose;
  }
  logWithLevel(level, message) {
    this.#sink.push({ source: "miniflare", level: LogLevel[level] ?? String(level), message: String(message).replace(ANSI, ""), at: Date.now() });
    if (this.#verbose) super.logWithLevel(level, message);
  }
  error(err) {
    this.logWithLevel(LogLevel.ERROR, err?.stack ?? String(err));
  }
}

/**
 * The worker-build output as a Miniflare manifest: every .js/.mjs as ESM, every .wasm as compiled
 * Wasm; its main module `mainModule` (this server's: `entry.mjs`, which scripts/build.sh copies
 * there; worker-build's own is `index.js`).
 */
export function buildManifest(
  buildDir = process.env.E2E_BUILD_DIR ? path.resolve(process.env.E2E_BUILD_DIR) : BUILD_DIR,
  { mainModule = "entry.mjs" } = {},
) {
  const main = path.join(buildDir, mainModule);
  if (!existsSync(main)) {
    throw new Error(
      `e2e harness: ${path.relative(ROOT, main)} does not exist. Build the worker first: bash scripts/build.sh`,
    );
  }
  const modules = {};
  const walk = (dir) => {
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith(".")) continue; // worker-build's scratch dir (.tmp) and dotfiles
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) {
        walk(full);
        continue;
      }
      const name = path.relative(buildDir, full).split(path.sep).join("/");
      if (/\.(m?js)$/.test(entry)) modules[name] = { type: "esm", contents: readFileSync(full, "utf8") };
      else if (entry.endsWith(".cjs")) modules[name] = { type: "cjs", contents: readFileSync(full, "utf8") };
      else if (entry.endsWith(".wasm")) modules[name] = { type: "wasm", contents: new Uint8Array(readFileSync(full)) };
    }
  };
  walk(buildDir);
  return { mainModule, modulesRoot: buildDir, modules };
}

/** Statements of one migration file, comments dropped. */
export function splitSql(sql) {
  return sql
    .split("\n")
    .map((line) => line.replace(/--.*$/, ""))
    .join("\n")
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function applyMigrations(db, dir = MIGRATIONS_DIR) {
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();
  for (const file of files) {
    for (const stmt of splitSql(readFileSync(path.join(dir, file), "utf8"))) {
      try {
        await db.prepare(stmt).run();
      } catch (err) {
        throw new Error(`e2e harness: migration ${file} failed on statement:\n${stmt}\n${err}`);
      }
    }
  }
  return files;
}

/** Parse a tool result's content[0].text as JSON (asserting the result shape on the way). */
export function toolJson(result) {
  if (!result || !Array.isArray(result.content) || result.content.length === 0) {
    throw new Error(`tool result has no content: ${JSON.stringify(result)}`);
  }
  const first = result.content[0];
  if (first.type !== "text" || typeof first.text !== "string") {
    throw new Error(`tool result content[0] is not text: ${JSON.stringify(first)}`);
  }
  try {
    return JSON.parse(first.text);
  } catch (err) {
    throw new Error(`tool result text is not JSON (${err.message}): ${first.text.slice(0, 500)}`);
  }
}

/**
 * tools/call through an SDK client; returns { result, data } where data is the
 * parsed content[0].text JSON. The SDK itself validates structuredContent
 * against the tool's outputSchema on success.
 */
export async function callTool(client, name, args = {}, { timeout = 90000 } = {}) {
  let result;
  try {
    result = await client.callTool({ name, arguments: args }, undefined, { timeout });
  } catch (err) {
    if (/output schema|structured content/i.test(String(err?.message))) {
      throw new Error(
        `${name}(${JSON.stringify(args).slice(0, 200)}): the official SDK client rejected the result because ` +
          `structuredContent does not match the tool's outputSchema (the SDK validates error results too): ${err.message}`,
      );
    }
    throw err;
  }
  return { result, data: toolJson(result) };
}

/** The R2 key an image_url served by the worker points at (<origin>/images/<key>). */
export function keyFromWorkerUrl(imageUrl) {
  const u = new URL(imageUrl);
  const m = /^\/images\/(.+)$/.exec(u.pathname);
  if (!m) throw new Error(`image_url ${imageUrl} is not of the form <origin>/images/<key>`);
  return m[1].split("/").map(decodeURIComponent).join("/");
}

/** A unique marker to keep prompts of different tests apart. */
let uniqueCounter = 0;
export function uniq(label = "t") {
  uniqueCounter += 1;
  return `${label}-${process.pid.toString(36)}${Date.now().toString(36)}${uniqueCounter}`;
}

/** Poll `fn` until it returns a truthy value; throw `message` (with the last value) after `timeout` ms. */
export async function waitFor(fn, { timeout = 20000, interval = 100, message = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message}; last value: ${JSON.stringify(last)}`);
    }
    await sleep(interval);
  }
}

/**
 * Start a Miniflare instance running the built server.
 * options:
 *   vars          overrides of the string vars; a value of `undefined` removes that var
 *   defaultDelayMs the stand-in's delay when a prompt has no [delay=N] (default 10)
 *   extraWorkers  extra Miniflare worker definitions (v5 format), appended after the stand-in
 *   aiBinding     false to leave env.AI out
 *   imagesBinding false to leave env.IMAGES out, or a Miniflare binding definition to use
 *                 instead of the local Images binding (e.g. one that fails)
 *   serverWorker  a manifest to use instead of build/ (harness self-test)
 *   retryDelaySeconds  delay before Miniflare redelivers a retried message (default 0, as
 *                 in production); a delay makes the state between attempts observable
 *   rateLimit     { limit, period } to bind RATE_LIMITER (off by default)
 *   registrationLimit { limit, period } to bind REGISTRATION_LIMITER (off by default)
 *   inspectorPort opens the V8 inspector of the server's isolate on this port (0: any free
 *                 port; read it with h.inspectorUrl()), for bench/memory.mjs
 *   recordOutbound true to catch every outbound fetch() of the server worker (its global
 *                 outbound: anything but its bindings): each is recorded in h.outboundRequests
 *                 as {method, url, at} and answered 599 without touching the network
 *   outbound      (request) => Response: like recordOutbound, but answered by this function
 */
/**
 * The Miniflare worker entry for the built server: bindings and queue consumers as in
 * wrangler.toml. Shared by startHarness and by files that need their own Miniflare options
 * (the cross-isolate SSE test, the SSE benchmark).
 */
export function serverWorker({ vars = {}, aiBinding, imagesBinding, manifest, retryDelaySeconds, compatibilityFlags, rateLimit, registrationLimit, faults, outbound, inspector } = {}) {
  const env = {};
  for (const [name, value] of Object.entries({ ...DEFAULT_VARS, ...vars })) {
    if (value !== undefined) env[name] = { type: "text", value: String(value) };
  }
  env.DB = { type: "d1", id: "mcp-image-generator-db" };
  env.R2_BUCKET = { type: "r2", name: "mcp-image-generator-images" };
  env.IMAGE_QUEUE = { type: "queue", name: QUEUE };
  if (aiBinding) env.AI = aiBinding;
  // wrangler.toml's RATE_LIMITER (Miniflare's real local rate limiter). Off unless a test asks:
  // most files make far more requests a minute than a deployment's limit allows.
  if (rateLimit) env.RATE_LIMITER = { type: "rate-limit", namespace: "1001", simple: { limit: rateLimit.limit, period: rateLimit.period ?? 60 } };
  // wrangler.toml's REGISTRATION_LIMITER (client registrations per address), likewise off unless asked.
  if (registrationLimit) {
    env.REGISTRATION_LIMITER = { type: "rate-limit", namespace: "1002", simple: { limit: registrationLimit.limit, period: registrationLimit.period ?? 60 } };
  }
  // As wrangler.toml's [images]: Miniflare runs it locally with sharp.
  if (imagesBinding !== false) env.IMAGES = imagesBinding ?? { type: "images" };
  return {
    config: {
      name: "mcp-image-generator",
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags,
      manifest: faults ? withFaultProxy(manifest ?? buildManifest()) : manifest ?? buildManifest(),
      env,
      triggers: [
        {
          type: "queue",
          name: QUEUE,
          maxBatchSize: 1,
          maxBatchTimeout: 1,
          maxRetries: 3,
          // As in wrangler.toml; Miniflare accepts it but delivers one batch at a time anyway.
          maxConcurrency: 10,
          ...(retryDelaySeconds ? { retryDelay: retryDelaySeconds } : {}),
          deadLetterQueue: DLQ,
        },
        { type: "queue", name: DLQ, maxBatchSize: 1, maxBatchTimeout: 1 },
      ],
    },
    // `outbound` (request) => Response takes the worker's global outbound: every fetch() it
    // makes to anything but a binding reaches this Node function instead of the network.
    dev: {
      unsafeRegisterWorker: false,
      ...(outbound ? { outboundService: { type: "fetcher", handler: outbound } } : {}),
      ...(inspector ? { unsafeInspectorProxy: true } : {}),
    },
  };
}

/**
 * The manifest with support/fault-proxy.mjs as its main module in front of the server's: it
 * wraps env.DB, env.R2_BUCKET and env.IMAGE_QUEUE so tests can make their calls fail.
 */
function withFaultProxy(manifest) {
  const contents = readFileSync(path.join(ROOT, "tests/e2e/support/fault-proxy.mjs"), "utf8");
  const segment = readFileSync(path.join(ROOT, "tests/e2e/support/segment-standin.mjs"), "utf8");
  return {
    ...manifest,
    mainModule: "e2e-fault-proxy.mjs",
    modules: {
      ...manifest.modules,
      "e2e-fault-proxy.mjs": { type: "esm", contents },
      "e2e-segment-standin.mjs": { type: "esm", contents: segment },
    },
  };
}

/**
 * GET an image URL and check the bytes are a JPEG or PNG served with the matching
 * content-type. Returns { bytes, format, contentType }.
 */
export async function fetchCheckedImage(imageUrl) {
  const res = await fetch(new URL(imageUrl));
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET ${imageUrl} → ${res.status}: ${Buffer.from(bytes).toString().slice(0, 200)}`);
  const format = sniff(bytes);
  const contentType = res.headers.get("content-type");
  const want = { jpeg: "image/jpeg", png: "image/png" }[format];
  if (!want) throw new Error(`GET ${imageUrl}: the bytes are not a JPEG or PNG (content-type ${contentType})`);
  if (contentType !== want) throw new Error(`GET ${imageUrl}: ${format} bytes served as ${contentType}`);
  return { bytes, format, contentType };
}

export async function startHarness(options = {}) {
  const recorder = new Recorder();
  const images = makeModelImages();
  const standin = aiStandin({
    recorder,
    defaultDelayMs: options.defaultDelayMs ?? 10,
    compatibilityDate: COMPATIBILITY_DATE,
  });

  const vars = { ...DEFAULT_VARS, ...(options.vars ?? {}) };

  const logs = [];
  const verbose = process.env.E2E_VERBOSE === "1";
  // recordOutbound: the server's outbound fetches, recorded and refused (never sent anywhere).
  const outboundRequests = [];
  // `outbound: (request) => Response` serves them instead (still recorded), e.g. from a
  // loopback server the test runs (30-oauth's Client ID Metadata Documents).
  const recordOutbound = options.recordOutbound || options.outbound
    ? async (request) => {
        outboundRequests.push({ method: request.method, url: request.url, at: Date.now() });
        if (options.outbound) return options.outbound(request);
        return new Response("e2e harness: outbound requests are recorded, not sent", { status: 599 });
      }
    : undefined;
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    // GET /cdn-cgi/local/scheduled?time=<ms> runs the cron handler (h.sweep).
    unsafeTriggerHandlers: true,
    // A directory keeps D1, R2 and queue state across instances (a restart); else a fresh temp dir.
    ...(options.persistDir ? { resourcePersistencePath: options.persistDir } : {}),
    // The V8 inspector of the server's isolate (bench/memory.mjs reads its heap through it).
    ...(options.inspectorPort !== undefined ? { inspectorPort: options.inspectorPort } : {}),
    enableDevRegistry: false,
    telemetry: { enabled: false },
    cf: false, // placeholder Request.cf; never fetch the real one (no network here)
    log: new CaptureLog(logs, verbose),
    handleStructuredLogs: (log) => {
      logs.push({ source: "worker", level: log.level, message: log.message, at: Date.now() });
      if (verbose) process.stderr.write(`[worker ${log.level}] ${log.message}\n`);
    },
    workers: [
      serverWorker({
        vars,
        aiBinding: options.aiBinding === false ? undefined : standin.binding,
        imagesBinding: options.imagesBinding,
        manifest: options.serverWorker,
        retryDelaySeconds: options.retryDelaySeconds,
        compatibilityFlags: options.compatibilityFlags,
        rateLimit: options.rateLimit,
        registrationLimit: options.registrationLimit,
        faults: options.faults,
        outbound: recordOutbound,
        inspector: options.inspectorPort !== undefined,
      }),
      standin.worker,
      // Test-side producers: lets a test put a message straight on the dead-letter
      // queue (real Miniflare queue; the server's DLQ consumer handles it).
      {
        config: {
          name: "e2e-producers",
          compatibilityDate: COMPATIBILITY_DATE,
          manifest: {
            mainModule: "producers.mjs",
            modules: { "producers.mjs": { type: "esm", contents: "export default { fetch() { return new Response(null, { status: 404 }); } };" } },
          },
          env: { DEAD_LETTERS: { type: "queue", name: DLQ } },
        },
        dev: { unsafeRegisterWorker: false },
      },
      ...(options.extraWorkers ?? []),
    ],
  });

  let url;
  try {
    url = await mf.ready;
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
  const db = await mf.getD1Database("DB");
  const r2 = await mf.getR2Bucket("R2_BUCKET");
  const queue = await mf.getQueueProducer("IMAGE_QUEUE");
  const deadLetterQueue = await mf.getQueueProducer("DEAD_LETTERS", "e2e-producers");
  // A restart over persisted state already has the schema (0003 cannot run twice).
  const migrations = options.migrate === false ? [] : await applyMigrations(db);
  const origin = url.origin;
  const token = vars.AUTH_TOKEN;
  const clients = [];

  const h = {
    mf,
    url,
    origin,
    mcpUrl: new URL("/mcp", origin),
    token,
    recorder,
    images,
    logs,
    db,
    r2,
    queue,
    deadLetterQueue,
    migrations,
    vars,
    /** With recordOutbound: every outbound fetch of the server worker, [{method, url, at}]. */
    outboundRequests,

    /** fetch against the worker over real HTTP. */
    fetch(pathOrUrl, init) {
      return fetch(new URL(pathOrUrl, origin), init);
    },

    /**
     * An HTTP request with the path sent byte for byte (fetch/URL would
     * normalise "..", "%2e%2e" and the like). Returns { status, headers, body: Buffer }.
     */
    rawRequest(rawPath, { method = "GET", headers = {} } = {}) {
      return new Promise((resolve, reject) => {
        const req = http.request(
          { host: url.hostname, port: url.port, method, path: rawPath, headers },
          (res) => {
            const chunks = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on("error", reject);
          },
        );
        req.on("error", reject);
        req.end();
      });
    },

    /**
     * An official-SDK MCP client over Streamable HTTP, connected (initialize done).
     * By default it also lists the tools, as real clients do first; from
     * then on the SDK checks every structuredContent against the tool's outputSchema
     * (error results included) and throws if it does not match.
     */
    async mcpClient({ token: tok = token, name = "e2e-tests", version = "1.0.0", listTools = true } = {}) {
      const transport = new StreamableHTTPClientTransport(new URL("/mcp", origin), {
        requestInit: { headers: { Authorization: `Bearer ${tok}` } },
      });
      const client = new Client({ name, version });
      await client.connect(transport);
      clients.push(client);
      if (listTools) await client.listTools();
      return client;
    },

    /**
     * POST one raw JSON-RPC body (object → JSON; string sent as is) to /mcp.
     * Returns { status, headers, text, json } (json null if the body is not JSON).
     */
    async rpc(body, { token: tok = token, headers = {}, auth } = {}) {
      const hdrs = {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        ...headers,
      };
      if (auth !== undefined) {
        if (auth !== null) hdrs.Authorization = auth;
      } else if (tok !== null) {
        hdrs.Authorization = `Bearer ${tok}`;
      }
      const res = await fetch(new URL("/mcp", origin), {
        method: "POST",
        headers: hdrs,
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json = null;
      const ctype = res.headers.get("content-type") ?? "";
      if (ctype.includes("text/event-stream")) {
        // A server may answer a POST with an SSE stream: take the first data event.
        const data = text
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trim())
          .join("\n");
        try {
          json = JSON.parse(data);
        } catch {}
      } else {
        try {
          json = JSON.parse(text);
        } catch {}
      }
      return { status: res.status, headers: res.headers, text, json };
    },

    /** tools/call over raw JSON-RPC; returns { status, response, result, data } (data = parsed text JSON). */
    async rawCallTool(name, args, opts) {
      const r = await h.rpc(
        { jsonrpc: "2.0", id: Math.floor(Math.random() * 1e9), method: "tools/call", params: { name, arguments: args } },
        opts,
      );
      const result = r.json?.result;
      return { status: r.status, response: r.json, result, data: result ? toolJson(result) : undefined };
    },

    /**
     * GET an image_url over HTTP (must be served by this worker, i.e. no
     * PUBLIC_IMAGE_BASE_URL) and check it is a real image whose content-type
     * matches its bytes. Returns { bytes, format, contentType }.
     */
    async fetchImage(imageUrl) {
      if (new URL(imageUrl).origin !== origin) throw new Error(`image_url ${imageUrl} is not served by this worker (${origin})`);
      return fetchCheckedImage(imageUrl);
    },

    /** SQL against the server's D1 database; returns the rows. */
    async query(sql, ...params) {
      const { results } = await db.prepare(sql).bind(...params).all();
      return results;
    },
    async count(table, where = "1=1", ...params) {
      const rows = await h.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, ...params);
      return rows[0].n;
    },
    async job(id) {
      const rows = await h.query("SELECT * FROM generation_jobs WHERE id = ?", id);
      return rows[0] ?? null;
    },

    /** All R2 objects (key, size, httpMetadata, customMetadata). */
    async r2Objects(prefix) {
      const out = [];
      let cursor;
      do {
        const page = await r2.list({ prefix, cursor, include: ["httpMetadata", "customMetadata"] });
        out.push(...page.objects);
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      return out;
    },
    async r2Bytes(key) {
      const obj = await r2.get(key);
      if (!obj) return null;
      return { bytes: new Uint8Array(await obj.arrayBuffer()), httpMetadata: obj.httpMetadata, customMetadata: obj.customMetadata };
    },

    /** Poll D1 until the job reaches one of `statuses` (array or string); returns the row. Records every status seen. */
    async waitForJob(id, statuses, { timeout = 30000, seen } = {}) {
      const want = Array.isArray(statuses) ? statuses : [statuses];
      return waitFor(
        async () => {
          const row = await h.job(id);
          if (row && seen && seen[seen.length - 1] !== row.status) seen.push(row.status);
          return row && want.includes(row.status) ? row : null;
        },
        { timeout, interval: 50, message: `job ${id} to reach status ${want.join("|")}` },
      );
    },

    /**
     * Polls the job row every 25 ms until it reaches one of `until`; returns every
     * distinct {status, error, calls} seen, in order (calls = model calls so far).
     */
    async watchJob(jobId, until = ["completed", "failed"], { timeout = 30000 } = {}) {
      const seen = [];
      const deadline = Date.now() + timeout;
      for (;;) {
        const row = await h.job(jobId);
        if (row) {
          const last = seen[seen.length - 1];
          if (!last || last.status !== row.status || last.error !== row.error) {
            seen.push({ status: row.status, error: row.error, calls: recorder.calls.length });
          }
          if (until.includes(row.status)) return seen;
        }
        if (Date.now() > deadline) throw new Error(`job ${jobId} did not reach ${until}; seen ${JSON.stringify(seen)}\n${h.logText()}`);
        await sleep(25);
      }
    },

    /** Waits until no job is pending or processing (nothing left in flight on the queue). */
    async waitForNoJobsInFlight({ timeout = 30000 } = {}) {
      await waitFor(async () => (await h.count("generation_jobs", "status IN ('pending', 'processing')")) === 0, {
        timeout,
        message: "no pending/processing jobs",
      });
    },

    /**
     * Sets the fault rules of the fault proxy (startHarness({faults: true}); see
     * support/fault-proxy.mjs) and clears its record of injected faults.
     */
    async setFaults(rules) {
      const res = await fetch(new URL("/__e2e_faults", origin), { method: "POST", body: JSON.stringify({ rules }) });
      if (res.status !== 200) throw new Error(`setting faults: ${res.status} ${await res.text()}`);
      return res.json();
    },
    /** The faults injected since the rules were set: [{binding, method, detail, at}]. */
    async faultHits() {
      return (await (await fetch(new URL("/__e2e_faults", origin))).json()).hits;
    },

    /**
     * With faults: every IMAGES chain the server ran, [{transforms: [options], output, at}]
     * (the recording wrapper of support/fault-proxy.mjs).
     */
    async imageCalls() {
      return (await (await fetch(new URL("/__e2e_faults", origin))).json()).imageCalls;
    },

    /**
     * Runs the cron handler once as if it were `timeMs` (default now) and returns the counts
     * of its "sweep: …" log line ({requeued, stuckFailed, undeliveredFailed, sseSessions,
     * sseMessages, retentionJobs, retentionObjects, retentionInputs, errors}).
     */
    async sweep(timeMs = Date.now()) {
      const before = logs.length;
      const res = await fetch(new URL(`/cdn-cgi/local/scheduled?time=${Math.round(timeMs)}`, origin));
      const text = await res.text();
      if (res.status !== 200) throw new Error(`scheduled handler: ${res.status} ${text}\n${h.logText()}`);
      const line = await waitFor(() => logs.slice(before).find((l) => l.source === "worker" && /^sweep: re-queued/.test(l.message)), {
        timeout: 5000,
        message: "the sweep's log line",
      });
      const n = (re) => Number(re.exec(line.message)?.[1]);
      return {
        line: line.message,
        requeued: n(/re-queued (\d+)/),
        stuckFailed: n(/failed (\d+) stuck/),
        undeliveredFailed: n(/and (\d+) never delivered/),
        sseSessions: n(/deleted (\d+) SSE sessions/),
        sseMessages: n(/and (\d+) messages/),
        retentionJobs: n(/retention deleted (\d+) jobs/),
        retentionObjects: n(/jobs, (\d+) objects/),
        retentionInputs: n(/objects and (\d+) inputs/),
        expiredTasks: n(/(\d+) expired tasks/),
        errors: n(/(\d+) errors/),
      };
    },

    /** The last log lines (server console output and Miniflare's queue/runtime lines), for failure messages. */
    logText(last = 40) {
      return logs.slice(-last).map((l) => `[${l.source} ${l.level}] ${l.message}`).join("\n");
    },

    /**
     * Batches Miniflare delivered on `queueName` so far, from its log lines
     * "QUEUE <name> <acked>/<total> (<ms>ms)": [{acked, total, at}].
     */
    queueDeliveries(queueName) {
      const re = new RegExp(`^QUEUE ${queueName.replace(/[-]/g, "\\-")} (\\d+)/(\\d+)`);
      return logs
        .filter((l) => l.source === "miniflare")
        .map((l) => ({ m: re.exec(l.message), at: l.at }))
        .filter((x) => x.m)
        .map((x) => ({ acked: Number(x.m[1]), total: Number(x.m[2]), at: x.at }));
    },

    /** Messages Miniflare moved to the dead-letter queue (their log lines). */
    deadLettered() {
      return logs.filter((l) => l.source === "miniflare" && /to dead letter queue/.test(l.message));
    },

    /** The inspector's base URL (with the `inspectorPort` option). */
    async inspectorUrl() {
      return mf.getInspectorURL();
    },

    async dispose() {
      for (const c of clients) await c.close().catch(() => {});
      await mf.dispose();
    },
  };
  return h;
}

export { sleep };
