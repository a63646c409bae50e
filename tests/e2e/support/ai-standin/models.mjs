// The Workers AI image models the stand-in knows, with their input rules and
// output shapes. Plain ESM data + one validator, loaded both by Node (tests,
// harness) and by the stand-in worker in workerd.
//
// Rules come from each model's Cloudflare page (JSON schema) and, for the
// FLUX.2 form fields, from the launch changelogs; /work/notes/models.md quotes
// them. Where the docs are silent the stand-in is deliberately STRICTER than
// the real API (marked "stand-in" below), so a server that passes here also
// passes there:
//   - unknown input keys / form fields are rejected (the real API ignores them,
//     except flux-1-schnell whose schema says additionalProperties: false);
//   - width/height must be multiples of 16 (FLUX.2) or 8 (every other model);
//   - seeds are integers 0..2^32-1; steps are at least 1;
//   - img2img needs an input image, inpainting an image and a same-size mask,
//     and input images must be real PNG/JPEG files.

export const SEED = { kind: "integer", min: 0, max: 4294967295 }; // stand-in range

const prompt = (maxLength) => ({ kind: "string", required: true, minLength: 1, ...(maxLength ? { maxLength } : {}) });

/** The schema shared by the five Stable Diffusion models (identical on all five pages). */
const SD_FIELDS = {
  prompt: prompt(),
  negative_prompt: { kind: "string" },
  height: { kind: "integer", min: 256, max: 2048, multipleOf: 8 },
  width: { kind: "integer", min: 256, max: 2048, multipleOf: 8 },
  image: { kind: "bytes" },
  image_b64: { kind: "base64" },
  mask: { kind: "bytes" },
  num_steps: { kind: "integer", min: 1, max: 20 },
  strength: { kind: "number", min: 0, max: 1 },
  guidance: { kind: "number" },
  seed: SEED,
};

/** Form fields of the FLUX.2 models (from the changelogs; the pages only say {multipart}). */
const flux2Fields = ({ steps }) => ({
  prompt: prompt(),
  width: { kind: "integer", min: 256, max: 1920, multipleOf: 16 },
  height: { kind: "integer", min: 256, max: 1920, multipleOf: 16 },
  seed: SEED,
  guidance: { kind: "number", min: 0 },
  // "All input images must be smaller than 512x512" (read as at most 512 on each side).
  input_image_0: { kind: "file", maxWidth: 512, maxHeight: 512 },
  input_image_1: { kind: "file", maxWidth: 512, maxHeight: 512 },
  input_image_2: { kind: "file", maxWidth: 512, maxHeight: 512 },
  input_image_3: { kind: "file", maxWidth: 512, maxHeight: 512 },
  // flux-2-dev: "Number of inference steps" (no range documented); klein: "fixed at 4 and cannot be adjusted".
  ...(steps ? { steps: { kind: "integer", min: 1 } } : {}),
});

const page = (slug) => `https://developers.cloudflare.com/workers-ai/models/${slug}/`;

/**
 * Workers AI id -> model description.
 *   encoding  "json" (inputs object) | "multipart" ({multipart: {body: ReadableStream, contentType}})
 *   output    "base64-jpeg" | "base64-png" ({image: base64}) | "jpeg-stream" | "png-stream" (ReadableStream)
 *   defaultWidth/defaultHeight  size of the image when the request names none
 *   sizeFromInputImage  img2img/inpainting: without width/height the output has the input image's size
 */
export const MODELS = {
  "@cf/black-forest-labs/flux-1-schnell": {
    name: "flux-schnell",
    encoding: "json",
    output: "base64-jpeg",
    defaultWidth: 1024, // not documented (the model has no size inputs)
    defaultHeight: 1024,
    page: page("flux-1-schnell"),
    fields: {
      prompt: prompt(2048),
      steps: { kind: "integer", min: 1, max: 8 },
      seed: SEED, // not in the schema, but the page's own example sends it
    },
  },
  "@cf/black-forest-labs/flux-2-dev": {
    name: "flux-2-dev",
    encoding: "multipart",
    output: "base64-jpeg", // format not documented; the server must sniff
    defaultWidth: 1024,
    defaultHeight: 768,
    page: page("flux-2-dev"),
    fields: flux2Fields({ steps: true }),
  },
  "@cf/black-forest-labs/flux-2-klein-4b": {
    name: "flux-2-klein-4b",
    encoding: "multipart",
    output: "base64-png", // format not documented; the server must sniff
    defaultWidth: 1024,
    defaultHeight: 768,
    page: page("flux-2-klein-4b"),
    fields: flux2Fields({ steps: false }),
  },
  "@cf/black-forest-labs/flux-2-klein-9b": {
    name: "flux-2-klein-9b",
    encoding: "multipart",
    output: "base64-png",
    defaultWidth: 1024,
    defaultHeight: 768,
    page: page("flux-2-klein-9b"),
    fields: flux2Fields({ steps: false }),
  },
  "@cf/leonardo/lucid-origin": {
    name: "lucid-origin",
    encoding: "json",
    output: "base64-jpeg", // format not documented
    defaultWidth: 1120,
    defaultHeight: 1120,
    page: page("lucid-origin"),
    fields: {
      prompt: prompt(),
      guidance: { kind: "number", min: 0, max: 10 },
      seed: SEED,
      // documented minimum is 0; 64 is the stand-in's floor (0 is no picture)
      height: { kind: "integer", min: 64, max: 2500, multipleOf: 8 },
      width: { kind: "integer", min: 64, max: 2500, multipleOf: 8 },
      num_steps: { kind: "integer", min: 1, max: 40 },
      steps: { kind: "integer", min: 1, max: 40 },
    },
  },
  "@cf/leonardo/phoenix-1.0": {
    name: "phoenix",
    encoding: "json",
    output: "jpeg-stream",
    defaultWidth: 1024,
    defaultHeight: 1024,
    page: page("phoenix-1.0"),
    fields: {
      prompt: prompt(),
      guidance: { kind: "number", min: 2, max: 10 },
      seed: SEED,
      height: { kind: "integer", min: 64, max: 2048, multipleOf: 8 },
      width: { kind: "integer", min: 64, max: 2048, multipleOf: 8 },
      num_steps: { kind: "integer", min: 1, max: 50 },
      negative_prompt: { kind: "string", minLength: 1 },
    },
  },
  "@cf/lykon/dreamshaper-8-lcm": {
    name: "dreamshaper-8-lcm",
    encoding: "json",
    output: "png-stream",
    defaultWidth: 512, // not documented (SD 1.5 native size)
    defaultHeight: 512,
    page: page("dreamshaper-8-lcm"),
    fields: SD_FIELDS,
  },
  "@cf/bytedance/stable-diffusion-xl-lightning": {
    name: "sdxl-lightning",
    encoding: "json",
    output: "png-stream",
    defaultWidth: 1024, // not documented ("high-quality 1024px images")
    defaultHeight: 1024,
    page: page("stable-diffusion-xl-lightning"),
    fields: SD_FIELDS,
  },
  "@cf/stabilityai/stable-diffusion-xl-base-1.0": {
    name: "sdxl-base",
    encoding: "json",
    output: "png-stream",
    defaultWidth: 1024, // not documented (SDXL native size)
    defaultHeight: 1024,
    page: page("stable-diffusion-xl-base-1.0"),
    fields: SD_FIELDS,
  },
  "@cf/runwayml/stable-diffusion-v1-5-img2img": {
    name: "sd-v1-5-img2img",
    encoding: "json",
    output: "png-stream",
    defaultWidth: 512, // used only if the input image's size cannot be read
    defaultHeight: 512,
    sizeFromInputImage: true,
    needsImage: true,
    page: page("stable-diffusion-v1-5-img2img"),
    fields: SD_FIELDS,
  },
  "@cf/runwayml/stable-diffusion-v1-5-inpainting": {
    name: "sd-v1-5-inpainting",
    encoding: "json",
    output: "png-stream",
    defaultWidth: 512,
    defaultHeight: 512,
    sizeFromInputImage: true,
    needsImage: true,
    needsMask: true,
    page: page("stable-diffusion-v1-5-inpainting"),
    fields: SD_FIELDS,
  },
};

/** id -> {name, output, defaultWidth, defaultHeight, encoding}: the short table tests use. */
export const MODEL_TABLE = Object.fromEntries(
  Object.entries(MODELS).map(([id, m]) => [
    id,
    { name: m.name, output: m.output, defaultWidth: m.defaultWidth, defaultHeight: m.defaultHeight, encoding: m.encoding },
  ]),
);

/** Client name -> Workers AI id, for every model above. */
export const MODEL_IDS = Object.fromEntries(Object.entries(MODELS).map(([id, m]) => [m.name, id]));

// Lists of models that tests use wherever they mean "every model" (of a kind): derived from
// MODELS, which a new model must extend anyway, so adding one needs no test edit. The server's
// registry is expected to hold the same models (15-models-and-controls compares list_models).

/** The client name of every model, in the order of MODELS. */
export const MODEL_NAMES = Object.values(MODELS).map((m) => m.name);
/** Models that need an input image (img2img, inpainting): offered by edit_image, not by the generate tools. */
export const EDIT_ONLY_MODEL_NAMES = Object.values(MODELS).filter((m) => m.needsImage).map((m) => m.name);
/** Every other model: text-to-image, the generate tools' model choices. */
export const TEXT_MODEL_NAMES = Object.values(MODELS).filter((m) => !m.needsImage).map((m) => m.name);
/**
 * Models that take input images, edit_image's model choices: the edit-only ones and those with
 * input_image_N file fields (FLUX.2). (The Stable Diffusion text models share a schema with an
 * `image` field, but the server runs them as text-to-image only.)
 */
export const IMAGE_INPUT_MODEL_NAMES = Object.values(MODELS)
  .filter((m) => m.needsImage || Object.values(m.fields).some((f) => f.kind === "file"))
  .map((m) => m.name);

/** The image format a model's output carries: "jpeg" | "png". */
export const outputFormat = (model) => (MODELS[model].output.includes("jpeg") ? "jpeg" : "png");
