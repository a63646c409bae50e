// Self-test of the Workers AI stand-in for every image model in its table
// (support/ai-standin/models.mjs: a new model is one entry there), independent of
// the server build: a probe worker takes the server's place and calls env.AI.run
// the way a Worker would (JSON inputs, or a FormData serialized into a multipart
// stream), so every check below goes through the real wrapped binding, the
// stand-in worker and the Node recorder.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  MODELS,
  MODEL_TABLE,
  MODEL_IDS,
  decodeImage,
  renderModelImage,
  sniff,
  uniq,
  FAIL_ONCE_MESSAGE,
  FAIL_ALWAYS_MESSAGE,
} from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";
import { makeJpeg, makePng } from "./support/images.mjs";

const PROBE = `
function toBytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
function toB64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
// {fields: {name: text}, files: {name: {b64, type, filename}}} -> FormData, in the order given
function buildForm({ fields = {}, files = {} }) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const [name, f] of Object.entries(files)) form.append(name, new Blob([toBytes(f.b64)], { type: f.type }), f.filename);
  return form;
}
async function multipartInputs(form, mode, extra) {
  const serialized = new Response(form);
  const contentType = serialized.headers.get("content-type");
  switch (mode) {
    case "stream": return { multipart: { body: serialized.body, contentType }, ...extra };
    case "formdata": return { multipart: { body: form, contentType: "multipart/form-data" }, ...extra };
    case "no-boundary": return { multipart: { body: serialized.body, contentType: "multipart/form-data" }, ...extra };
    case "no-content-type": return { multipart: { body: serialized.body }, ...extra };
    case "bytes": return { multipart: { body: new Uint8Array(await serialized.arrayBuffer()), contentType }, ...extra };
    case "wrong-key": return { form: { body: serialized.body, contentType }, ...extra };
    default: throw new Error("probe: unknown mode " + mode);
  }
}
export default {
  async fetch(request, env) {
    const { model, inputs, form, mode = "stream", extra = {} } = await request.json();
    try {
      const actual = form ? await multipartInputs(buildForm(form), mode, extra) : inputs;
      const out = await env.AI.run(model, actual);
      if (out instanceof ReadableStream) {
        const bytes = new Uint8Array(await new Response(out).arrayBuffer());
        return Response.json({ kind: "stream", b64: toB64(bytes) });
      }
      return Response.json({ kind: "object", value: out });
    } catch (err) {
      return Response.json({ kind: "error", message: String(err && err.message), name: err && err.name });
    }
  },
};
`;

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const b64 = (bytes) => Buffer.from(bytes).toString("base64");
const file = (bytes, type, filename) => ({ b64: b64(bytes), type, filename });

const MULTIPART = Object.keys(MODELS).filter((id) => MODELS[id].encoding === "multipart");
const JSON_MODELS = Object.keys(MODELS).filter((id) => MODELS[id].encoding === "json");
const EDIT_MODELS = [MODEL_IDS["sd-v1-5-img2img"], MODEL_IDS["sd-v1-5-inpainting"]];
const SD_MODELS = Object.keys(MODELS).filter((id) => MODELS[id].fields.num_steps?.max === 20);

/**
 * A size a model accepts that is not its default (nor the 320x256 input image's size), derived
 * from its width/height rules so a new model needs no entry here: about half the default
 * width and three quarters of the default height, on the model's grid and within its range.
 */
function otherSize(model) {
  const { fields, defaultWidth, defaultHeight } = MODELS[model];
  const fit = (rule, target) => {
    const step = rule.multipleOf ?? 8;
    const low = Math.ceil((rule.min ?? step) / step) * step;
    const high = rule.max === undefined ? Infinity : Math.floor(rule.max / step) * step;
    return Math.min(Math.max(Math.floor(target / step) * step, low), high);
  };
  return [fit(fields.width, defaultWidth / 2), fit(fields.height, (defaultHeight * 3) / 4)];
}

const OUTPUT_SHAPES = ["base64-jpeg", "base64-png", "jpeg-stream", "png-stream"];

describe("Workers AI stand-in: every image model through the real binding path", () => {
  // Input images for the editing models: a 320x256 PNG source, a same-size mask, a JPEG reference.
  const source = makePng(320, 256, [10, 120, 200], 5);
  const mask = makePng(320, 256, [255, 255, 255], 6);
  const reference = makeJpeg(200, 160, [200, 200, 20], 7);

  const h = useHarness({
    serverWorker: { mainModule: "probe.mjs", modules: { "probe.mjs": { type: "esm", contents: PROBE } } },
  });

  async function call(body) {
    const res = await h.fetch("/", { method: "POST", body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    return res.json();
  }
  const run = (model, inputs) => call({ model, inputs });
  const runForm = (model, fields, { files = {}, mode = "stream", extra } = {}) =>
    call({ model, form: { fields, files }, mode, extra });

  /** Minimal valid inputs for a model: {inputs} for JSON models, {fields, files} for multipart ones. */
  function minimal(model, prompt, more = {}) {
    if (MODELS[model].encoding === "multipart") return runForm(model, { prompt, ...more });
    const base = { prompt, ...more };
    if (MODELS[model].needsImage) base.image = [...source];
    if (MODELS[model].needsMask) base.mask = [...mask];
    return run(model, base);
  }

  /** The image bytes of a successful answer, after checking its shape against the model's table entry. */
  function imageOf(model, out) {
    const kind = MODEL_TABLE[model].output;
    assert.notEqual(out.kind, "error", `${model}: ${out.message}`);
    if (kind.startsWith("base64")) {
      assert.equal(out.kind, "object", `${model} should answer a JSON object`);
      assert.deepEqual(Object.keys(out.value), ["image"]);
      return new Uint8Array(Buffer.from(out.value.image, "base64"));
    }
    assert.equal(out.kind, "stream", `${model} should answer a ReadableStream`);
    return new Uint8Array(Buffer.from(out.b64, "base64"));
  }

  function assertRefused(out, pattern, code = 5006) {
    assert.equal(out.kind, "error", `expected a refusal, got ${JSON.stringify(out).slice(0, 200)}`);
    assert.match(out.message, new RegExp(`^${code}: `), out.message);
    assert.match(out.message, pattern);
    assert.equal(out.name, "AiError");
  }

  it("exports a table of every model with encoding, output shape and default size", () => {
    // Every entry is well formed, and names are unique (MODEL_IDS maps each back to its id).
    for (const [id, m] of Object.entries(MODELS)) {
      assert.match(id, /^@cf\/[a-z0-9-]+\/[a-z0-9.-]+$/, id);
      assert.equal(MODEL_IDS[m.name], id, `${m.name} names one model`);
      assert.ok(["json", "multipart"].includes(m.encoding), `${m.name} encoding ${m.encoding}`);
      assert.ok(OUTPUT_SHAPES.includes(m.output), `${m.name} output ${m.output}`);
      assert.ok(Number.isInteger(m.defaultWidth) && m.defaultWidth > 0 && Number.isInteger(m.defaultHeight) && m.defaultHeight > 0, m.name);
      assert.ok(m.page.startsWith("https://developers.cloudflare.com/workers-ai/models/"), m.name);
      assert.equal(m.fields.prompt?.required, true, `${m.name} requires a prompt`);
      if (m.needsMask) assert.equal(m.needsImage, true, `${m.name}: a mask needs an image`);
      assert.deepEqual(MODEL_TABLE[id], { name: m.name, output: m.output, defaultWidth: m.defaultWidth, defaultHeight: m.defaultHeight, encoding: m.encoding });
    }
    assert.equal(Object.keys(MODEL_IDS).length, Object.keys(MODELS).length);
    // A few models by name.
    assert.deepEqual(MODEL_TABLE["@cf/black-forest-labs/flux-1-schnell"], {
      name: "flux-schnell",
      output: "base64-jpeg",
      defaultWidth: 1024,
      defaultHeight: 1024,
      encoding: "json",
    });
    assert.equal(MODEL_TABLE["@cf/leonardo/phoenix-1.0"].output, "jpeg-stream");
    assert.equal(MODEL_TABLE["@cf/lykon/dreamshaper-8-lcm"].output, "png-stream");
    for (const name of ["flux-2-dev", "flux-2-klein-4b", "flux-2-klein-9b"]) {
      const id = MODEL_IDS[name];
      assert.ok(MULTIPART.includes(id), `${name} takes a multipart form`);
      assert.deepEqual([MODEL_TABLE[id].defaultWidth, MODEL_TABLE[id].defaultHeight], [1024, 768]);
    }
  });

  for (const model of Object.keys(MODELS)) {
    const { name, output } = MODEL_TABLE[model];
    it(`${name}: a valid call answers ${output} with a decodable image of the default size, and is recorded`, async () => {
      const prompt = `a lighthouse ${uniq(name)}`;
      const bytes = imageOf(model, await minimal(model, prompt));
      const decoded = decodeImage(bytes);
      assert.equal(decoded.format, output.includes("jpeg") ? "jpeg" : "png");
      const expected = MODELS[model].sizeFromInputImage
        ? { width: 320, height: 256 } // the input image's size
        : { width: MODEL_TABLE[model].defaultWidth, height: MODEL_TABLE[model].defaultHeight };
      assert.deepEqual({ width: decoded.width, height: decoded.height }, expected);
      if (!MODELS[model].sizeFromInputImage) assert.deepEqual(bytes, h.images[model], "unseeded default output should be h.images[model]");

      const [rec] = h.recorder.callsFor(prompt);
      assert.equal(rec.model, model);
      assert.equal(rec.encoding, MODEL_TABLE[model].encoding);
      assert.equal(rec.error, null);
      assert.deepEqual(rec.output, { format: decoded.format, ...expected });
      if (rec.encoding === "multipart") {
        assert.deepEqual(rec.fields, { prompt });
        assert.match(rec.inputs.multipart.contentType, /^multipart\/form-data; boundary=/);
      } else {
        assert.equal(rec.inputs.prompt, prompt);
      }
    });
  }

  for (const model of Object.keys(MODELS).filter((id) => MODELS[id].fields.width)) {
    const { name } = MODEL_TABLE[model];
    const [width, height] = otherSize(model);
    it(`${name}: width ${width} x height ${height} gives an image of exactly that size`, async () => {
      assert.notDeepEqual([width, height], [MODELS[model].defaultWidth, MODELS[model].defaultHeight], "a size other than the default");
      const prompt = `sized ${uniq(name)}`;
      const more = MODELS[model].encoding === "multipart" ? { width: String(width), height: String(height) } : { width, height };
      const bytes = imageOf(model, await minimal(model, prompt, more));
      const decoded = decodeImage(bytes);
      assert.deepEqual([decoded.width, decoded.height], [width, height]);
      assert.deepEqual(bytes, renderModelImage(model, { width, height }));
    });
  }

  for (const name of ["flux-schnell", "sdxl-lightning", "flux-2-klein-4b", "phoenix"]) {
    it(`${name}: the same seed gives the same bytes, another seed other bytes`, async () => {
      const model = MODEL_IDS[name];
      const multipart = MODELS[model].encoding === "multipart";
      const size = MODELS[model].fields.width ? (multipart ? { width: "256", height: "256" } : { width: 256, height: 256 }) : {};
      const seeded = async (seed) =>
        imageOf(model, await minimal(model, `seeded ${uniq(name)}`, { ...size, seed: multipart ? String(seed) : seed }));
      const a = await seeded(42);
      const b = await seeded(42);
      const c = await seeded(43);
      const unseeded = imageOf(model, await minimal(model, `unseeded ${uniq(name)}`, size));
      assert.deepEqual(a, b);
      assert.notDeepEqual(a, c);
      assert.notDeepEqual(a, unseeded);
      assert.equal(sniff(c), sniff(a));
    });
  }

  it("records multipart fields as received, and each file's size and SHA-256", async () => {
    const model = MODEL_IDS["flux-2-klein-9b"];
    const prompt = `put the sun from image 1 into image 0 ${uniq()}`;
    const small = makePng(64, 48, [0, 0, 0], 9);
    const out = await runForm(
      model,
      { prompt, width: "512", height: "256", seed: "7", guidance: "2.5" },
      { files: { input_image_0: file(reference, "image/jpeg", "ref.jpg"), input_image_1: file(small, "image/png", "sun.png") } },
    );
    assert.deepEqual(decodeImage(imageOf(model, out)), { format: "png", width: 512, height: 256 });
    const [rec] = h.recorder.callsFor(prompt);
    assert.equal(rec.fields.prompt, prompt);
    assert.equal(rec.fields.width, "512");
    assert.equal(rec.fields.guidance, "2.5");
    assert.deepEqual(rec.fields.input_image_0, {
      filename: "ref.jpg",
      type: "image/jpeg",
      size: reference.length,
      sha256: sha256(reference),
      format: "jpeg",
      width: 200,
      height: 160,
    });
    assert.equal(rec.fields.input_image_1.sha256, sha256(small));
    assert.equal(rec.fields.input_image_1.size, small.length);
    assert.deepEqual(rec.inputs.multipart.fields, rec.fields);
  });

  it("records JSON input images (image array, image_b64, mask) with size and SHA-256", async () => {
    const prompt = `inpaint the sky ${uniq()}`;
    const out = await run(MODEL_IDS["sd-v1-5-inpainting"], { prompt, image_b64: b64(source), mask: [...mask], strength: 0.6, seed: 1 });
    assert.equal(sniff(imageOf(MODEL_IDS["sd-v1-5-inpainting"], out)), "png");
    const [rec] = h.recorder.callsFor(prompt);
    assert.equal(rec.images.image_b64.sha256, sha256(source));
    assert.equal(rec.images.image_b64.encoding, "base64");
    assert.equal(rec.images.mask.sha256, sha256(mask));
    assert.equal(rec.images.mask.size, mask.length);
    assert.equal(rec.inputs.strength, 0.6);
    assert.equal(rec.inputs.mask.length, mask.length, "the recorder keeps the inputs exactly as sent");
  });

  it("refuses an unknown model id with 5007, as Workers AI does", async () => {
    const out = await run("@cf/black-forest-labs/flux-3-imaginary", { prompt: "x" });
    assertRefused(out, /No such model @cf\/black-forest-labs\/flux-3-imaginary or task/, 5007);
    const rec = h.recorder.calls.at(-1);
    assert.equal(rec.model, "@cf/black-forest-labs/flux-3-imaginary");
    assert.match(rec.error, /^5007: /);
    assert.equal(rec.output, null);
  });

  for (const model of JSON_MODELS) {
    it(`${MODELS[model].name}: a call without a prompt is refused (5006)`, async () => {
      const inputs = MODELS[model].needsImage ? { image: [...source], ...(MODELS[model].needsMask ? { mask: [...mask] } : {}) } : {};
      assertRefused(await run(model, inputs), /required properties at '\/' are 'prompt'/);
    });
  }

  for (const model of MULTIPART) {
    it(`${MODELS[model].name}: a form without a prompt is refused, and so are inputs that are not a multipart form`, async () => {
      assertRefused(await runForm(model, { width: "512" }), /required form field 'prompt' is missing/);
      assertRefused(await run(model, { prompt: "a plain JSON prompt" }), /required properties at '\/' are 'multipart'.*multipart form data even for a prompt alone/);
      assertRefused(await runForm(model, { prompt: "sent as FormData" }, { mode: "formdata" }), /did not arrive as a multipart stream.*JSON-encoded it: \{\}/);
      assertRefused(await runForm(model, { prompt: "sent as bytes" }, { mode: "bytes" }), /did not arrive as a multipart stream/);
      assertRefused(await runForm(model, { prompt: "no boundary" }, { mode: "no-boundary" }), /boundary/);
      const noType = await runForm(model, { prompt: "no type" }, { mode: "no-content-type" });
      assert.equal(noType.kind, "error");
      assert.equal(noType.name, "AiInternalError");
      assert.equal(noType.message, "Content-Type is required with ReadableStream inputs");
    });
  }

  it("checks types and ranges of JSON inputs", async () => {
    const cases = [
      ["flux-schnell", { prompt: "x", steps: 9 }, /'\/steps' must be <= 8/],
      ["flux-schnell", { prompt: "x".repeat(2049) }, /'\/prompt' must NOT have more than 2048 characters/],
      ["flux-schnell", { prompt: "x", width: 512 }, /'\/width' is not an input of flux-schnell/],
      ["sdxl-base", { prompt: "x", width: "512" }, /'\/width' must be integer/],
      ["sdxl-base", { prompt: "x", width: 4096 }, /'\/width' must be <= 2048/],
      ["sdxl-base", { prompt: "x", height: 200 }, /'\/height' must be >= 256/],
      ["sdxl-base", { prompt: "x", width: 500 }, /'\/width' must be a multiple of 8/],
      ["sdxl-base", { prompt: "x", steps: 4 }, /'\/steps' is not an input of sdxl-base/],
      ["sdxl-lightning", { prompt: "x", num_steps: 21 }, /'\/num_steps' must be <= 20/],
      ["dreamshaper-8-lcm", { prompt: "x", guidance: "high" }, /'\/guidance' must be number/],
      ["sdxl-base", { prompt: "x", seed: 1.5 }, /'\/seed' must be integer/],
      ["sdxl-base", { prompt: 42 }, /'\/prompt' must be string/],
      ["phoenix", { prompt: "x", guidance: 1 }, /'\/guidance' must be >= 2/],
      ["phoenix", { prompt: "x", num_steps: 51 }, /'\/num_steps' must be <= 50/],
      ["phoenix", { prompt: "x", negative_prompt: "" }, /'\/negative_prompt' must NOT have fewer than 1 characters/],
      ["lucid-origin", { prompt: "x", width: 2504 }, /'\/width' must be <= 2500/],
      ["lucid-origin", { prompt: "x", guidance: 10.5 }, /'\/guidance' must be <= 10/],
      ["lucid-origin", { prompt: "x", seed: -1 }, /'\/seed' must be >= 0/],
      ["lucid-origin", { prompt: "" }, /'\/prompt' must NOT have fewer than 1 characters/],
      ["sd-v1-5-img2img", { prompt: "x", image: [...source], strength: 1.5 }, /'\/strength' must be <= 1/],
    ];
    for (const [name, inputs, pattern] of cases) {
      const out = await run(MODEL_IDS[name], inputs);
      assertRefused(out, pattern);
    }
  });

  it("checks FLUX.2 form fields: numbers as text, ranges, multiples of 16, steps only on dev, files only as input_image_0..3", async () => {
    const klein = MODEL_IDS["flux-2-klein-4b"];
    const dev = MODEL_IDS["flux-2-dev"];
    const png = makePng(300, 200, [1, 2, 3], 1);
    const cases = [
      [klein, { prompt: "x", width: "wide" }, {}, /'\/multipart\/width' must be integer \(got "wide"\)/],
      [klein, { prompt: "x", width: "2048" }, {}, /'\/multipart\/width' must be <= 1920/],
      [klein, { prompt: "x", height: "128" }, {}, /'\/multipart\/height' must be >= 256/],
      [klein, { prompt: "x", width: "1000" }, {}, /must be a multiple of 16/],
      [klein, { prompt: "x", steps: "4" }, {}, /form field 'steps' is not an input of flux-2-klein-4b/],
      [klein, { prompt: "x", guidance: "lots" }, {}, /'\/multipart\/guidance' must be number/],
      [klein, { prompt: "x", seed: "-3" }, {}, /'\/multipart\/seed' must be >= 0/],
      [klein, { prompt: "x", input_image_0: "not a file" }, {}, /must be a file part/],
      [klein, { prompt: "x" }, { input_image_4: file(png, "image/png", "a.png") }, /form field 'input_image_4' is not an input/],
      [klein, { prompt: "x" }, { input_image_0: file(makePng(600, 400, [0, 0, 0], 2), "image/png", "big.png") }, /is 600x400; input images must be at most 512x512/],
      [klein, { prompt: "x" }, { input_image_0: file(new TextEncoder().encode("hello"), "image/png", "fake.png") }, /is not a PNG or JPEG image/],
      [klein, { prompt: "x" }, { prompt: file(png, "image/png", "p.png") }, /form field 'prompt' is given more than once/],
      [dev, { prompt: "x", steps: "0" }, {}, /'\/multipart\/steps' must be >= 1/],
    ];
    for (const [model, fields, files, pattern] of cases) assertRefused(await runForm(model, fields, { files }), pattern);

    // The form must travel as `multipart`, with nothing beside it.
    assertRefused(await runForm(klein, { prompt: "x" }, { mode: "wrong-key" }), /the form must be passed as '\/multipart'/);
    assertRefused(await runForm(klein, { prompt: "x" }, { extra: { seed: 3 } }), /'\/seed' is not an input of flux-2-klein-4b; every parameter goes in the multipart form/);
    // flux-2-dev takes steps; a JSON model refuses a stream.
    const ok = await runForm(dev, { prompt: "x", steps: "20", width: "256", height: "256" }, { files: { input_image_0: file(png, "image/png", "a.png") } });
    assert.deepEqual(decodeImage(imageOf(dev, ok)), { format: "jpeg", width: 256, height: 256 });
    assertRefused(await runForm(MODEL_IDS["sdxl-base"], { prompt: "x" }), /sdxl-base takes JSON inputs, not a ReadableStream/);
  });

  it("checks the editing models' images: required image, required same-size mask, bytes 0-255, real PNG/JPEG, valid base64", async () => {
    const img2img = MODEL_IDS["sd-v1-5-img2img"];
    const inpaint = MODEL_IDS["sd-v1-5-inpainting"];
    const cases = [
      [img2img, { prompt: "x" }, /sd-v1-5-img2img needs an input image/],
      [img2img, { prompt: "x", image: [...source], image_b64: b64(source) }, /not both/],
      [img2img, { prompt: "x", image: [0, 256, 1] }, /'\/image\/1' must be an integer between 0 and 255/],
      [img2img, { prompt: "x", image: "abc" }, /'\/image' must be array/],
      [img2img, { prompt: "x", image: [...new TextEncoder().encode("not an image at all")] }, /'\/image' is not a PNG or JPEG image/],
      [img2img, { prompt: "x", image_b64: "%%%not base64%%%" }, /'\/image_b64' is not valid base64/],
      [inpaint, { prompt: "x", image: [...source] }, /sd-v1-5-inpainting needs a 'mask'/],
      [inpaint, { prompt: "x", image: [...source], mask: [...makePng(64, 64, [255, 255, 255], 3)] }, /'mask' is 64x64 but the image is 320x256/],
      [MODEL_IDS["sdxl-base"], { prompt: "x", mask: [...mask] }, /'mask' is given without an input image/],
    ];
    for (const [model, inputs, pattern] of cases) assertRefused(await run(model, inputs), pattern);
    // width/height win over the input image's size.
    const out = await run(img2img, { prompt: "x", image: [...reference], width: 256, height: 384 });
    assert.deepEqual(decodeImage(imageOf(img2img, out)), { format: "png", width: 256, height: 384 });
  });

  it("refused calls are recorded with their error and no output; input checks come before prompt markers", async () => {
    const prompt = `broken but invalid ${uniq()} [fail-always]`;
    const out = await run(MODEL_IDS["sdxl-base"], { prompt, num_steps: 30 });
    assertRefused(out, /'\/num_steps' must be <= 20/);
    const [rec] = h.recorder.callsFor(prompt);
    assert.match(rec.error, /^5006: Bad input: /);
    assert.equal(rec.output, null);
    assert.equal(rec.inputs.num_steps, 30);
  });

  it("keeps the prompt markers for the new models: [fail-once], [fail-always], [junk], [bad-base64], [no-image]", async () => {
    const phoenix = MODEL_IDS.phoenix;
    const once = `flaky phoenix ${uniq()} [fail-once]`;
    assert.deepEqual(await run(phoenix, { prompt: once, width: 256, height: 256 }), { kind: "error", message: FAIL_ONCE_MESSAGE, name: "Error" });
    assert.equal(sniff(imageOf(phoenix, await run(phoenix, { prompt: once, width: 256, height: 256 }))), "jpeg");
    const always = await runForm(MODEL_IDS["flux-2-dev"], { prompt: `down ${uniq()} [fail-always]` });
    assert.equal(always.message, FAIL_ALWAYS_MESSAGE);
    const junk = await run(phoenix, { prompt: `junk ${uniq()} [junk]` });
    assert.equal(junk.kind, "stream");
    assert.equal(sniff(Buffer.from(junk.b64, "base64")), null);
    const bad = await runForm(MODEL_IDS["flux-2-klein-4b"], { prompt: `bad ${uniq()} [bad-base64]` });
    assert.deepEqual(bad.value, { image: "not base64!!" });
    const none = await run(MODEL_IDS["lucid-origin"], { prompt: `none ${uniq()} [no-image]` });
    assert.deepEqual(none.value, {});
    const junkB64 = await run(MODEL_IDS["lucid-origin"], { prompt: `junk ${uniq()} [junk]` });
    assert.equal(sniff(Buffer.from(junkB64.value.image, "base64")), null);
  });

  it("every Stable Diffusion model takes the shared schema (negative_prompt, guidance, strength, seed, num_steps)", async () => {
    for (const model of SD_MODELS) {
      const prompt = `shared schema ${uniq(MODELS[model].name)}`;
      const inputs = { prompt, negative_prompt: "blur", guidance: 9, strength: 0.5, seed: 3, num_steps: 20, width: 256, height: 256 };
      if (MODELS[model].needsImage) inputs.image = [...source];
      if (MODELS[model].needsMask) inputs.mask = [...mask];
      const bytes = imageOf(model, await run(model, inputs));
      assert.deepEqual(decodeImage(bytes), { format: "png", width: 256, height: 256 });
    }
  });
});
