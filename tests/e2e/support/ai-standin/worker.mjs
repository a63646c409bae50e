// The Workers AI stand-in worker (runs in workerd, behind the `Ai` wrapped binding
// in binding.mjs). For each call it:
//   1. reads the model id and the inputs the binding forwarded (JSON inputs, or the
//      ReadableStream of a multipart form with its content type);
//   2. checks them against the model's rules (validate.mjs), as the real model would;
//   3. records the call in Node (RECORDER /record) and gets its attempt number;
//   4. waits ([delay=N] or the default delay);
//   5. answers: a Workers AI error (5007 unknown model, 5006 bad input), a prompt
//      marker's outcome (including [error=CODE] / [error=CODE-once]: that Workers AI
//      error), or a real image from Node (RECORDER /image) of the requested size in
//      the model's real output shape.
import { MODELS } from "./models.mjs";
import { validateCall } from "./validate.mjs";
import { bytesToBase64 } from "./formats.mjs";
import { VISION_MODELS, validateVisionCall, visionAnswer, recordedVisionInputs } from "./vision.mjs";

const JUNK = "this is definitely not an image, just some text pretending to be one";
const NO_SUCH_MODEL = 5007;

// [error=CODE]: the description and HTTP status Workers AI answers with for that code
// (developers.cloudflare.com/workers-ai/platform/errors/); other codes get a generic
// description, status 500.
const ERROR_CODES = {
  3003: [400, "Request is missing headers or body: body"],
  3006: [413, "Request is too large"],
  3007: [408, "Request timeout"],
  3008: [408, "Request was aborted"],
  3023: [403, "Service unavailable for account"],
  3036: [429, "You have used up your daily free allocation of 10,000 neurons. Please upgrade to Cloudflare's Workers Paid plan if you would like to continue usage."],
  3040: [429, "No more data centers to forward the request to"],
  3041: [403, "The account is not allowed to access this model"],
  3042: [404, "The model name is invalid"],
  5004: [400, "Invalid data type for base64 input: number"],
  5006: [400, "Bad input: Error: oneOf at '/' not met, 0 matches"],
  5007: [400, "No such model <model> or task"],
  5016: [403, "User has not agreed to Llama3.2 model terms"],
  5018: [403, "The account is not allowed to access this model"],
  5035: [403, "This model requires the Workers Paid plan"],
};

/** The [error=CODE] / [error=CODE-once] marker of a prompt, or null. */
function errorMarker(prompt) {
  const m = /\[error=(\d+)(-once)?\]/.exec(prompt);
  return m ? { code: Number(m[1]), once: m[2] !== undefined } : null;
}

function json(value) {
  return new Response(JSON.stringify(value), { headers: { "x-standin-kind": "json", "content-type": "application/json" } });
}

/** A marker's failure: the binding throws `new Error(message)`. */
function markerError(message) {
  return new Response(message, { status: 500, headers: { "x-standin-kind": "error" } });
}

/** A Workers AI error body; the binding throws InferenceUpstreamError("<code>: <description>"). */
function upstreamError(internalCode, description, status = 400) {
  return new Response(JSON.stringify({ internalCode, name: "AiError", description, message: `AiError: ${description}` }), {
    status,
    headers: { "x-standin-kind": "upstream-error", "content-type": "application/json" },
  });
}

function stream(bytes, contentType) {
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
  return new Response(body, { headers: { "x-standin-kind": "stream", "content-type": contentType } });
}

/** The call as the binding sent it: JSON inputs, or one streamed input (a multipart form). */
async function readCall(request) {
  const url = new URL(request.url);
  const streamKey = url.searchParams.get("streamKey");
  if (streamKey === null) {
    const { inputs } = await request.json();
    return { encoding: "json", inputs: inputs ?? null };
  }
  const contentType = request.headers.get("content-type");
  const call = {
    encoding: "multipart",
    streamKey,
    userInputs: JSON.parse(url.searchParams.get("userInputs") ?? "{}"),
    contentType,
    form: null,
    formError: null,
  };
  if (/^multipart\/form-data\s*;.*\bboundary=/i.test(contentType ?? "")) {
    try {
      call.form = [...(await request.formData()).entries()];
    } catch (err) {
      call.formError = String(err?.message ?? err);
    }
  }
  return call;
}

/** A call to the vision model (vision.mjs): checked, recorded, answered {response, usage}. */
async function visionCall(model, spec, call, env) {
  const checked = call.encoding === "json" ? validateVisionCall(spec, call.inputs) : { ok: false, description: "Bad input: the model takes JSON inputs" };
  const recorded = await recordedVisionInputs(call.inputs, checked.ok ? checked.image : null);
  const answer = checked.ok ? visionAnswer(checked) : null;
  const prompt = checked.ok ? checked.text : "";
  const rec = await env.RECORDER.fetch("http://recorder/record", {
    method: "POST",
    body: JSON.stringify({
      model,
      encoding: call.encoding,
      prompt,
      ...recorded,
      output: answer ? { kind: "text", usage: answer.usage, response: answer.response.slice(0, 200) } : null,
      error: checked.ok ? null : `5006: ${checked.description}`,
    }),
  });
  const { attempt } = await rec.json();
  if (!checked.ok) return upstreamError(5006, checked.description);
  const forced = errorMarker(prompt);
  if (forced && (!forced.once || attempt === 1)) {
    const [status, description] = ERROR_CODES[forced.code] ?? [500, `stand-in error ${forced.code}`];
    return upstreamError(forced.code, description.replace("<model>", model), status);
  }
  return json(answer);
}

export default {
  async fetch(request, env) {
    const model = request.headers.get("x-standin-model") ?? "";
    const call = await readCall(request);
    if (VISION_MODELS[model]) return visionCall(model, VISION_MODELS[model], call, env);
    const spec = MODELS[model];
    const checked = spec
      ? await validateCall(spec, call)
      : {
          ok: false,
          code: NO_SUCH_MODEL,
          description: `No such model ${model} or task`,
          prompt: typeof call.inputs?.prompt === "string" ? call.inputs.prompt : "",
          recorded: call.encoding === "json" ? { inputs: call.inputs } : { inputs: { [call.streamKey]: { contentType: call.contentType } } },
        };
    const prompt = checked.prompt ?? "";

    // Record in Node; the recorder answers with the attempt number (1 for the first call with this prompt).
    const rec = await env.RECORDER.fetch("http://recorder/record", {
      method: "POST",
      body: JSON.stringify({
        model,
        encoding: call.encoding,
        prompt,
        ...checked.recorded,
        output: checked.ok ? checked.output : null,
        error: checked.ok ? null : `${checked.code}: ${checked.description}`,
      }),
    });
    const { attempt } = await rec.json();

    const m = /\[delay=(\d+)\]/.exec(prompt);
    const delay = m ? Number(m[1]) : Number(env.DEFAULT_DELAY_MS);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

    if (!checked.ok) return upstreamError(checked.code, checked.description);
    if (prompt.includes("[fail-always]")) return markerError(env.FAIL_ALWAYS_MESSAGE);
    if (prompt.includes("[fail-once]") && attempt === 1) return markerError(env.FAIL_ONCE_MESSAGE);
    const forced = errorMarker(prompt);
    if (forced && (!forced.once || attempt === 1)) {
      const [status, description] = ERROR_CODES[forced.code] ?? [500, `stand-in error ${forced.code}`];
      return upstreamError(forced.code, description.replace("<model>", model), status);
    }

    const base64Output = spec.output.startsWith("base64");
    const junk = new TextEncoder().encode(JUNK);
    if (prompt.includes("[no-image]")) return json({});
    if (base64Output) {
      if (prompt.includes("[bad-base64]")) return json({ image: "not base64!!" });
      if (prompt.includes("[junk]")) return json({ image: bytesToBase64(junk) });
    } else if (prompt.includes("[junk]") || prompt.includes("[bad-base64]")) {
      return stream(junk, spec.output === "jpeg-stream" ? "image/jpeg" : "image/png");
    }

    const { format, width, height } = checked.output;
    const image = await env.RECORDER.fetch("http://recorder/image", {
      method: "POST",
      body: JSON.stringify({ model, width, height, seed: checked.params.seed }),
    });
    if (!image.ok) return markerError(`stand-in: could not render the image: ${await image.text()}`);
    const bytes = new Uint8Array(await image.arrayBuffer());
    if (base64Output) return json({ image: bytesToBase64(bytes) });
    return stream(bytes, `image/${format}`);
  },
};
