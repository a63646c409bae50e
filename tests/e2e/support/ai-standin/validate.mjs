// Input checks of the Workers AI stand-in: what the real model would refuse (plus
// the stricter stand-in rules listed in models.mjs). Runs in the stand-in worker.
//
// validateCall(spec, call) where call is either
//   { encoding: "json", inputs }                             (the JSON inputs object)
//   { encoding: "multipart", streamKey, userInputs, contentType, form, formError }
// returns
//   { ok: true,  prompt, params, output: {format, width, height}, recorded }
//   { ok: false, prompt, code: 5006, description, recorded }
// `recorded` is what the recorder keeps: JSON inputs as received plus digests of
// every image they carry, or the parsed form fields with files as {size, sha256, ...}.
import { base64ToBytes, imageInfo, sha256Hex } from "./formats.mjs";

export const BAD_INPUT = 5006;

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const FORM_FIX =
  "serialize the FormData first: const r = new Response(form); " +
  "env.AI.run(model, { multipart: { body: r.body, contentType: r.headers.get('content-type') } })";

function checkRange(path, value, rule, problems) {
  if (rule.min !== undefined && value < rule.min) problems.push(`'${path}' must be >= ${rule.min} (got ${value})`);
  if (rule.max !== undefined && value > rule.max) problems.push(`'${path}' must be <= ${rule.max} (got ${value})`);
  if (rule.multipleOf !== undefined && value % rule.multipleOf !== 0) {
    problems.push(`'${path}' must be a multiple of ${rule.multipleOf} (got ${value})`);
  }
}

function checkString(path, value, rule, problems) {
  if (rule.minLength !== undefined && value.length < rule.minLength) {
    problems.push(`'${path}' must NOT have fewer than ${rule.minLength} characters`);
  }
  if (rule.maxLength !== undefined && value.length > rule.maxLength) {
    problems.push(`'${path}' must NOT have more than ${rule.maxLength} characters (got ${value.length})`);
  }
}

/** Digest of an input image; problems if it is not a PNG/JPEG file (or too large for `rule`). */
async function checkImageBytes(path, bytes, rule, problems, extra = {}) {
  const info = imageInfo(bytes);
  const digest = { ...extra, size: bytes.length, sha256: await sha256Hex(bytes), ...(info ?? { format: null }) };
  if (!info) {
    problems.push(`'${path}' is not a PNG or JPEG image (${bytes.length} bytes)`);
  } else if (
    (rule.maxWidth !== undefined && info.width > rule.maxWidth) ||
    (rule.maxHeight !== undefined && info.height > rule.maxHeight)
  ) {
    problems.push(`'${path}' is ${info.width}x${info.height}; input images must be at most ${rule.maxWidth}x${rule.maxHeight}`);
  }
  return digest;
}

/** One JSON value against its rule; returns the typed value (or undefined after a problem). */
async function checkJsonValue(path, value, rule, problems, digests, name) {
  switch (rule.kind) {
    case "string":
      if (typeof value !== "string") return void problems.push(`'${path}' must be string`);
      checkString(path, value, rule, problems);
      return value;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return void problems.push(`'${path}' must be integer`);
      checkRange(path, value, rule, problems);
      return value;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return void problems.push(`'${path}' must be number`);
      checkRange(path, value, rule, problems);
      return value;
    case "bytes": {
      if (!Array.isArray(value)) return void problems.push(`'${path}' must be array`);
      const bad = value.findIndex((x) => typeof x !== "number" || !Number.isInteger(x) || x < 0 || x > 255);
      if (bad !== -1) return void problems.push(`'${path}/${bad}' must be an integer between 0 and 255`);
      const bytes = Uint8Array.from(value);
      digests[name] = await checkImageBytes(path, bytes, rule, problems, { encoding: "array" });
      return bytes;
    }
    case "base64": {
      if (typeof value !== "string") return void problems.push(`'${path}' must be string`);
      const bytes = base64ToBytes(value);
      if (!bytes) return void problems.push(`'${path}' is not valid base64`);
      digests[name] = await checkImageBytes(path, bytes, rule, problems, { encoding: "base64" });
      return bytes;
    }
    default:
      throw new Error(`stand-in: no JSON check for kind ${rule.kind}`);
  }
}

/** One form field (string or File) against its rule. */
async function checkFormValue(path, value, rule, problems) {
  const isFile = typeof value !== "string";
  if (rule.kind === "file") {
    if (!isFile) {
      problems.push(`'${path}' must be a file part (binary image), not a text field`);
      return { recorded: value };
    }
    const bytes = new Uint8Array(await value.arrayBuffer());
    const digest = await checkImageBytes(path, bytes, rule, problems, { filename: value.name ?? null, type: value.type || null });
    return { value: bytes, recorded: digest };
  }
  if (isFile) {
    problems.push(`'${path}' must be a text field, not a file part`);
    return { recorded: { file: true, filename: value.name ?? null, size: value.size } };
  }
  if (rule.kind === "string") {
    checkString(path, value, rule, problems);
    return { value, recorded: value };
  }
  const pattern = rule.kind === "integer" ? INTEGER_TEXT : NUMBER_TEXT;
  if (!pattern.test(value.trim())) {
    problems.push(`'${path}' must be ${rule.kind} (got ${JSON.stringify(value)})`);
    return { recorded: value };
  }
  const number = Number(value);
  checkRange(path, number, rule, problems);
  return { value: number, recorded: value };
}

/** Cross-field rules and the output size, once every field is checked. */
function finish(spec, given, params, digests, problems) {
  const hasImage = given.has("image") || given.has("image_b64");
  if (given.has("image") && given.has("image_b64")) {
    problems.push("give the input image as 'image' or as 'image_b64', not both");
  }
  if (spec.needsImage && !hasImage) {
    problems.push(`${spec.name} needs an input image: 'image' (array of bytes 0-255) or 'image_b64' (base64)`);
  }
  if (given.has("mask") && !hasImage) problems.push("'mask' is given without an input image");
  if (spec.needsMask && !given.has("mask")) problems.push(`${spec.name} needs a 'mask' (array of bytes 0-255)`);
  const source = digests.image ?? digests.image_b64;
  if (params.mask !== undefined && source?.width && digests.mask?.width) {
    if (source.width !== digests.mask.width || source.height !== digests.mask.height) {
      problems.push(
        `'mask' is ${digests.mask.width}x${digests.mask.height} but the image is ${source.width}x${source.height}; they must be the same size`,
      );
    }
  }
  const fromImage = spec.sizeFromInputImage && source?.width ? source : null;
  return {
    width: params.width ?? fromImage?.width ?? spec.defaultWidth,
    height: params.height ?? fromImage?.height ?? spec.defaultHeight,
  };
}

function result(spec, problems, prompt, params, size, recorded) {
  if (problems.length > 0) {
    return { ok: false, prompt, code: BAD_INPUT, description: `Bad input: ${problems.join("; ")}`, recorded };
  }
  const format = spec.output.includes("jpeg") ? "jpeg" : "png";
  return { ok: true, prompt, params, output: { format, ...size }, recorded };
}

async function validateJson(spec, inputs) {
  const problems = [];
  const params = {};
  const digests = {};
  const recorded = { inputs };
  if (inputs === null || typeof inputs !== "object" || Array.isArray(inputs)) {
    return result(spec, ["'/' must be object"], "", params, null, recorded);
  }
  const prompt = typeof inputs.prompt === "string" ? inputs.prompt : "";
  if (spec.encoding === "multipart") {
    const m = inputs.multipart;
    if (m === undefined) {
      problems.push(
        `required properties at '/' are 'multipart'; ${spec.name} takes multipart form data even for a prompt alone: ` +
          "{ multipart: { body: <ReadableStream of the form>, contentType: 'multipart/form-data; boundary=...' } }",
      );
    } else {
      // A ReadableStream body never reaches here (the binding streams it); anything
      // else was JSON-encoded by the binding: a FormData arrives as {}.
      problems.push(
        `'/multipart/body' did not arrive as a multipart stream (it is not a ReadableStream, so the binding ` +
          `JSON-encoded it: ${JSON.stringify(m?.body ?? null).slice(0, 60)}); ${FORM_FIX}`,
      );
    }
    return result(spec, problems, prompt, params, null, recorded);
  }
  for (const [name, rule] of Object.entries(spec.fields)) {
    if (rule.required && inputs[name] === undefined) problems.push(`required properties at '/' are '${name}'`);
  }
  for (const [name, value] of Object.entries(inputs)) {
    const rule = spec.fields[name];
    if (!rule) {
      problems.push(`'/${name}' is not an input of ${spec.name} (known: ${Object.keys(spec.fields).join(", ")})`);
      continue;
    }
    const typed = await checkJsonValue(`/${name}`, value, rule, problems, digests, name);
    if (typed !== undefined) params[name] = typed;
  }
  if (Object.keys(digests).length > 0) recorded.images = digests;
  const size = finish(spec, new Set(Object.keys(inputs)), params, digests, problems);
  return result(spec, problems, prompt, params, size, recorded);
}

async function validateMultipart(spec, call) {
  const problems = [];
  const params = {};
  const digests = {};
  const fields = {};
  const recorded = { inputs: { ...call.userInputs, [call.streamKey]: { contentType: call.contentType, fields } }, fields };
  if (spec.encoding !== "multipart") {
    problems.push(`${spec.name} takes JSON inputs, not a ReadableStream in '/${call.streamKey}'`);
    return result(spec, problems, "", params, null, recorded);
  }
  if (call.streamKey !== "multipart") problems.push(`the form must be passed as '/multipart', not '/${call.streamKey}'`);
  for (const key of Object.keys(call.userInputs)) {
    problems.push(`'/${key}' is not an input of ${spec.name}; every parameter goes in the multipart form`);
  }
  if (!/^multipart\/form-data\s*;.*\bboundary=/i.test(call.contentType ?? "")) {
    problems.push(
      `'/multipart/contentType' must be 'multipart/form-data; boundary=...' (got ${JSON.stringify(call.contentType)}): ` +
        `without the boundary the form cannot be parsed; ${FORM_FIX}`,
    );
    return result(spec, problems, "", params, null, recorded);
  }
  if (call.formError || !call.form) {
    problems.push(`the multipart body could not be parsed as multipart/form-data (${call.formError ?? "no form"})`);
    return result(spec, problems, "", params, null, recorded);
  }
  const seen = new Set();
  for (const [name, value] of call.form) {
    const rule = spec.fields[name];
    const path = `/multipart/${name}`;
    if (seen.has(name)) {
      problems.push(`form field '${name}' is given more than once`);
      continue;
    }
    seen.add(name);
    if (!rule) {
      const text = typeof value === "string" ? value : { file: true, filename: value.name ?? null, size: value.size };
      fields[name] = text;
      problems.push(`form field '${name}' is not an input of ${spec.name} (known: ${Object.keys(spec.fields).join(", ")})`);
      continue;
    }
    const checked = await checkFormValue(path, value, rule, problems);
    fields[name] = checked.recorded;
    if (checked.value !== undefined) params[name] = checked.value;
    if (rule.kind === "file" && typeof checked.recorded === "object") digests[name] = checked.recorded;
  }
  for (const [name, rule] of Object.entries(spec.fields)) {
    if (rule.required && !seen.has(name)) problems.push(`required form field '${name}' is missing`);
  }
  const prompt = typeof fields.prompt === "string" ? fields.prompt : "";
  const size = finish(spec, seen, params, digests, problems);
  return result(spec, problems, prompt, params, size, recorded);
}

export function validateCall(spec, call) {
  return call.encoding === "multipart" ? validateMultipart(spec, call) : validateJson(spec, call.inputs);
}
