// The original TypeScript server, built (by default ../shared/seed-build: its index.js,
// wrangler.jsonc and migrations/, read from there and never copied), as a Miniflare worker:
// the side bench/floors.mjs and bench/pages.mjs measure ours against.
import path from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { TEST_TOKEN } from "../tests/e2e/harness.mjs";

/** The original server's wrangler.jsonc (JSON with comments), or an error naming what is missing. */
export function originalConfig(dir) {
  const file = path.join(dir, "wrangler.jsonc");
  if (!existsSync(path.join(dir, "index.js")) || !existsSync(file)) {
    throw new Error(`the original server, built, is not at ${dir} (index.js, wrangler.jsonc, migrations/); pass --original <dir>`);
  }
  const text = readFileSync(file, "utf8")
    .replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (m, str) => str ?? "")
    .replace(/,(\s*[}\]])/g, "$1");
  return JSON.parse(text);
}

/**
 * The original as wrangler would run it: its bundle, its compatibility date and flags,
 * AUTH_TOKEN (it checks `Authorization: Bearer <AUTH_TOKEN>` on /mcp and /sse, Hono's
 * bearerAuth), its own D1, R2 and queue (named after `name` unless given), any further `env`
 * (e.g. the AI stand-in), on a direct socket; with `consumer`, its queue consumer settings from
 * its wrangler.jsonc.
 */
export function originalWorker(dir, { name, queue = `${name}-queue`, consumer = false, env = {} }) {
  const config = originalConfig(dir);
  const consumerConfig = config.queues?.consumers?.[0] ?? {};
  return {
    config: {
      name,
      compatibilityDate: config.compatibility_date,
      compatibilityFlags: config.compatibility_flags ?? [],
      manifest: {
        mainModule: "index.js",
        modules: { "index.js": { type: "esm", contents: readFileSync(path.join(dir, "index.js"), "utf8") } },
      },
      env: {
        AUTH_TOKEN: { type: "text", value: TEST_TOKEN },
        DB: { type: "d1", id: `bench-${name}-db` },
        R2_BUCKET: { type: "r2", name: `bench-${name}-images` },
        IMAGE_QUEUE: { type: "queue", name: queue },
        ...env,
      },
      triggers: consumer
        ? [
            {
              type: "queue",
              name: queue,
              maxBatchSize: consumerConfig.max_batch_size ?? 1,
              maxBatchTimeout: consumerConfig.max_batch_timeout ?? 1,
              maxRetries: consumerConfig.max_retries ?? 3,
              maxConcurrency: 10, // as ours (wrangler.toml); Miniflare delivers one batch at a time anyway
            },
          ]
        : [],
    },
    dev: { unsafeRegisterWorker: false, unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] },
  };
}
