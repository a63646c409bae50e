// The Workers AI stand-in: the ONLY stand-in in the e2e tests (D1, R2 and Queues
// are Miniflare's real local implementations).
//
// workers-rs `env.ai("AI")` accepts a binding only if its constructor is named
// `Ai`, so the binding must be a real JS object of a class named `Ai` living in
// the server's isolate. Miniflare 5 has no `wrappedBindings` option any more; it
// does load external plugins for `unsafe:*` bindings, and a plugin may return a
// workerd *wrapped binding*. This file is such a plugin:
//
//   main worker env.AI  = wrapped binding, module `ai-standin:binding`
//                         (class Ai { async run(model, inputs) })
//        | inner service binding `upstream`
//        v
//   worker "ai-standin" = decides the outcome from the prompt markers, waits,
//                         and answers with real JPEG/PNG bytes
//        | service binding RECORDER (a Node function)
//        v
//   Node-side recorder  = records every call {model, inputs, attempt, at}
//
// Output shapes are the real ones: FLUX (`@cf/black-forest-labs/flux-1-schnell`)
// resolves to `{ image: <base64 JPEG> }`; the SDXL models resolve to a
// ReadableStream of PNG bytes (delivered in several chunks).
//
// Controls, by markers anywhere in `inputs.prompt`:
//   [fail-once]   throw on the first call for that prompt, succeed afterwards
//   [fail-always] always throw new Error("stand-in: model unavailable")
//   [junk]        right shape, bytes that are not an image
//   [bad-base64]  FLUX: { image: "not base64!!" } (SDXL models: same as [junk])
//   [no-image]    {} (for every model: no image at all)
//   [delay=N]     wait N ms before answering (default: a small delay)
import { fileURLToPath } from "node:url";

export const PLUGIN_NAME = "ai-standin";
export const PLUGIN_TYPE = `unsafe:${PLUGIN_NAME}`;
export const STANDIN_WORKER_NAME = "ai-standin";
const MODULE_NAME = "ai-standin:binding";

export const FAIL_ALWAYS_MESSAGE = "stand-in: model unavailable";
export const FAIL_ONCE_MESSAGE = "stand-in: transient failure ([fail-once], first attempt)";

// The wrapped-binding module. Its default export receives the inner bindings and
// returns the object the server sees as env.AI.
const BINDING_MODULE = `
class Ai {
  #upstream;
  constructor(upstream) {
    this.#upstream = upstream;
  }
  async run(model, inputs, options) {
    const response = await this.#upstream.fetch("http://ai-standin/run", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, inputs: inputs ?? null }),
    });
    const kind = response.headers.get("x-standin-kind");
    if (kind === "error") {
      throw new Error(await response.text());
    }
    if (kind === "json") {
      return await response.json();
    }
    if (kind === "stream") {
      return response.body;
    }
    throw new Error("ai stand-in: unexpected answer from the stand-in worker (" + response.status + ")");
  }
}
export default function makeBinding(env) {
  return new Ai(env.upstream);
}
`;

// The stand-in worker. Images arrive base64-encoded in the IMAGES json binding.
const STANDIN_WORKER = `
const FLUX = "@cf/black-forest-labs/flux-1-schnell";
const SDXL = new Set(["@cf/bytedance/stable-diffusion-xl-lightning", "@cf/stabilityai/stable-diffusion-xl-base-1.0"]);
const FAIL_ALWAYS_MESSAGE = ${JSON.stringify(FAIL_ALWAYS_MESSAGE)};
const FAIL_ONCE_MESSAGE = ${JSON.stringify(FAIL_ONCE_MESSAGE)};
const JUNK = "this is definitely not an image, just some text pretending to be one";

function b64ToBytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
function bytesToB64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
function json(value) {
  return new Response(JSON.stringify(value), { headers: { "x-standin-kind": "json", "content-type": "application/json" } });
}
function error(message) {
  return new Response(message, { status: 500, headers: { "x-standin-kind": "error" } });
}
function stream(bytes) {
  // Several chunks, like a real byte stream.
  const CHUNK = 16 * 1024;
  let off = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (off >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(off, off + CHUNK));
      off += CHUNK;
    },
  });
  return new Response(body, { headers: { "x-standin-kind": "stream", "content-type": "image/png" } });
}

export default {
  async fetch(request, env) {
    const { model, inputs } = await request.json();
    const prompt = inputs && typeof inputs.prompt === "string" ? inputs.prompt : "";
    // Record the call in Node; the recorder answers with the attempt number
    // (1 for the first call with this prompt).
    const rec = await env.RECORDER.fetch("http://recorder/record", {
      method: "POST",
      body: JSON.stringify({ model, inputs }),
    });
    const { attempt } = await rec.json();

    const m = /\\[delay=(\\d+)\\]/.exec(prompt);
    const delay = m ? Number(m[1]) : Number(env.DEFAULT_DELAY_MS);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

    if (model !== FLUX && !SDXL.has(model)) return error("stand-in: unknown model " + model);
    if (!prompt) return error("stand-in: inputs.prompt is required");
    if (prompt.includes("[fail-always]")) return error(FAIL_ALWAYS_MESSAGE);
    if (prompt.includes("[fail-once]") && attempt === 1) return error(FAIL_ONCE_MESSAGE);

    const junk = new TextEncoder().encode(JUNK);
    if (prompt.includes("[no-image]")) return json({});
    if (model === FLUX) {
      if (prompt.includes("[bad-base64]")) return json({ image: "not base64!!" });
      if (prompt.includes("[junk]")) return json({ image: bytesToB64(junk) });
      return json({ image: env.IMAGES[model] });
    }
    if (prompt.includes("[junk]") || prompt.includes("[bad-base64]")) return stream(junk);
    return stream(b64ToBytes(env.IMAGES[model]));
  },
};
`;

/** The Miniflare external plugin providing `unsafe:ai-standin` bindings. */
export const plugins = {
  [PLUGIN_NAME]: {
    bindingTypeDescription: "Workers AI stand-in",
    getBindings(options) {
      const env = options.config.env ?? {};
      const out = [];
      for (const [name, binding] of Object.entries(env)) {
        if (binding?.type !== PLUGIN_TYPE) continue;
        out.push({
          name,
          wrapped: {
            moduleName: MODULE_NAME,
            innerBindings: [
              { name: "upstream", service: { name: `core:user:${STANDIN_WORKER_NAME}` } },
            ],
          },
        });
      }
      return out;
    },
    getNodeBindings() {
      return {};
    },
    getServices() {
      return [];
    },
    getExtensions({ options }) {
      const used = options.some((o) =>
        Object.values(o.config.env ?? {}).some((b) => b?.type === PLUGIN_TYPE),
      );
      if (!used) return [];
      return [{ modules: [{ name: MODULE_NAME, esModule: BINDING_MODULE, internal: true }] }];
    },
  },
};

/** Records every model call made through the stand-in. */
export class Recorder {
  calls = [];
  #attempts = new Map();

  handle = async (request) => {
    const { model, inputs } = await request.json();
    const prompt = inputs && typeof inputs.prompt === "string" ? inputs.prompt : "";
    const attempt = (this.#attempts.get(prompt) ?? 0) + 1;
    this.#attempts.set(prompt, attempt);
    this.calls.push({ model, inputs, attempt, at: Date.now() });
    return Response.json({ attempt });
  };

  /** Calls whose prompt is exactly `prompt` (or contains it, with {contains:true}). */
  callsFor(prompt, { contains = false } = {}) {
    return this.calls.filter((c) => {
      const p = c.inputs?.prompt;
      return typeof p === "string" && (contains ? p.includes(prompt) : p === prompt);
    });
  }
}

/**
 * The env binding for the server worker and the stand-in worker definition.
 * `images` maps model id -> Uint8Array.
 */
export function aiStandin({ images, recorder, defaultDelayMs = 10, compatibilityDate }) {
  const imagesB64 = Object.fromEntries(
    Object.entries(images).map(([model, bytes]) => [model, Buffer.from(bytes).toString("base64")]),
  );
  const binding = {
    type: PLUGIN_TYPE,
    dev: { plugin: { package: fileURLToPath(import.meta.url), name: PLUGIN_NAME } },
  };
  const worker = {
    config: {
      name: STANDIN_WORKER_NAME,
      compatibilityDate,
      manifest: {
        mainModule: "ai-standin.mjs",
        modules: { "ai-standin.mjs": { type: "esm", contents: STANDIN_WORKER } },
      },
      env: {
        IMAGES: { type: "json", value: imagesB64 },
        DEFAULT_DELAY_MS: { type: "text", value: String(defaultDelayMs) },
        RECORDER: { type: "fetcher", handler: (req) => recorder.handle(req) },
      },
    },
    dev: { unsafeRegisterWorker: false },
  };
  return { binding, worker };
}
