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
//                         (ai-standin/binding.mjs: class Ai { async run(model, inputs) },
//                         sending inputs the way the real binding does)
//        | inner service binding `upstream`
//        v
//   worker "ai-standin" = ai-standin/worker.mjs: knows the Workers AI image
//                         models (ai-standin/models.mjs), rejects unknown ids (5007)
//                         and bad inputs (5006) as the real models would
//                         (ai-standin/validate.mjs), applies the prompt markers,
//                         waits, and answers in each model's real output shape
//        | service binding RECORDER (a Node function, class Recorder below)
//        v
//   Node-side recorder  = records every call (inputs as received, multipart fields
//                         with file digests, the error if refused) and renders the
//                         real JPEG/PNG bytes of the requested size (images.mjs)
//
// Output shapes (MODEL_TABLE): {image: base64 JPEG|PNG} for flux-1-schnell, the
// FLUX.2 models and lucid-origin; a ReadableStream of JPEG (phoenix) or PNG bytes
// (the Stable Diffusion models), delivered in 16 KiB chunks.
//
// Controls, by markers anywhere in the prompt (checked after the input checks):
//   [fail-once]   throw on the first call for that prompt, succeed afterwards
//   [fail-always] always throw new Error("stand-in: model unavailable")
//   [junk]        right shape, bytes that are not an image
//   [bad-base64]  base64 models: { image: "not base64!!" } (stream models: same as [junk])
//   [no-image]    {} (for every model: no image at all)
//   [delay=N]     wait N ms before answering (default: a small delay)
//   [error=CODE]  throw InferenceUpstreamError("CODE: <its Workers AI description>"),
//                 e.g. [error=3040] "3040: No more data centers to forward the request to"
//   [error=CODE-once] the same, on the first call for that prompt only
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { renderModelImage } from "./images.mjs";

export {
  MODELS,
  MODEL_TABLE,
  MODEL_IDS,
  MODEL_NAMES,
  TEXT_MODEL_NAMES,
  EDIT_ONLY_MODEL_NAMES,
  IMAGE_INPUT_MODEL_NAMES,
} from "./ai-standin/models.mjs";

export const PLUGIN_NAME = "ai-standin";
export const PLUGIN_TYPE = `unsafe:${PLUGIN_NAME}`;
export const STANDIN_WORKER_NAME = "ai-standin";
const MODULE_NAME = "ai-standin:binding";

export const FAIL_ALWAYS_MESSAGE = "stand-in: model unavailable";
export const FAIL_ONCE_MESSAGE = "stand-in: transient failure ([fail-once], first attempt)";

const STANDIN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "ai-standin");
const source = (file) => readFileSync(path.join(STANDIN_DIR, file), "utf8");

// The wrapped-binding module. Its default export receives the inner bindings and
// returns the object the server sees as env.AI.
const BINDING_MODULE = source("binding.mjs");

// The stand-in worker's modules (worker.mjs imports the other three).
const STANDIN_MODULES = ["worker.mjs", "models.mjs", "validate.mjs", "formats.mjs", "vision.mjs"];

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

/**
 * Records every model call made through the stand-in, and renders its images.
 *
 * Each call is {model, encoding, prompt, inputs, fields?, images?, output, error, attempt, at}:
 *   inputs   JSON calls: the inputs object exactly as the model received it;
 *            multipart calls: {multipart: {contentType, fields}}
 *   fields   multipart calls: the parsed form fields; text fields as strings, files as
 *            {filename, type, size, sha256, format, width, height}
 *   images   JSON calls with input images (image, image_b64, mask): {size, sha256, format, width, height}
 *   output   {format, width, height} of the image the stand-in answers with (null if refused)
 *   error    "<code>: <description>" when the stand-in refused the call as Workers AI would
 *   attempt  1 for the first call with this prompt, 2 for the next, ...
 */
export class Recorder {
  calls = [];
  #attempts = new Map();

  handle = async (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/image") {
      const { model, width, height, seed } = await request.json();
      try {
        return new Response(renderModelImage(model, { width, height, seed }));
      } catch (err) {
        return new Response(String(err?.stack ?? err), { status: 500 });
      }
    }
    const { model, encoding, prompt, inputs, fields, images, output, error } = await request.json();
    const key = typeof prompt === "string" ? prompt : "";
    const attempt = (this.#attempts.get(key) ?? 0) + 1;
    this.#attempts.set(key, attempt);
    const call = { model, encoding, prompt: typeof prompt === "string" && prompt !== "" ? prompt : null, inputs };
    if (fields) call.fields = fields;
    if (images) call.images = images;
    Object.assign(call, { output, error, attempt, at: Date.now() });
    this.calls.push(call);
    return Response.json({ attempt });
  };

  /** Calls whose prompt is exactly `prompt` (or contains it, with {contains:true}). */
  callsFor(prompt, { contains = false } = {}) {
    return this.calls.filter((c) => typeof c.prompt === "string" && (contains ? c.prompt.includes(prompt) : c.prompt === prompt));
  }
}

/** The env binding for the server worker and the stand-in worker definition. */
export function aiStandin({ recorder, defaultDelayMs = 10, compatibilityDate }) {
  const binding = {
    type: PLUGIN_TYPE,
    dev: { plugin: { package: fileURLToPath(import.meta.url), name: PLUGIN_NAME } },
  };
  const modules = Object.fromEntries(
    STANDIN_MODULES.map((file) => [`ai-standin/${file}`, { type: "esm", contents: source(file) }]),
  );
  const worker = {
    config: {
      name: STANDIN_WORKER_NAME,
      compatibilityDate,
      manifest: { mainModule: "ai-standin/worker.mjs", modules },
      env: {
        DEFAULT_DELAY_MS: { type: "text", value: String(defaultDelayMs) },
        FAIL_ALWAYS_MESSAGE: { type: "text", value: FAIL_ALWAYS_MESSAGE },
        FAIL_ONCE_MESSAGE: { type: "text", value: FAIL_ONCE_MESSAGE },
        RECORDER: { type: "fetcher", handler: (req) => recorder.handle(req) },
      },
    },
    dev: { unsafeRegisterWorker: false },
  };
  return { binding, worker };
}
