// The object the server sees as env.AI: a workerd wrapped-binding module. Its
// `run` follows the real binding (workerd src/cloudflare/internal/ai-api.ts):
//   - inputs holding a ReadableStream (directly, or as `.body` of an object such as
//     {multipart: {body, contentType}}) are sent as that stream with the given
//     content type, the other keys JSON-encoded in `userInputs`; no content type ->
//     AiInternalError; two streams -> AiInternalError;
//   - any other inputs are JSON-encoded (so a FormData or Uint8Array body arrives as
//     a plain object, as it would upstream);
//   - a JSON answer is parsed, any other answer is returned as its ReadableStream;
//   - a Workers AI error becomes InferenceUpstreamError("<code>: <description>").
// The stand-in's prompt-marker failures throw a plain Error with the marker message.
class InferenceUpstreamError extends Error {
  constructor(message, name = "InferenceUpstreamError") {
    super(message);
    this.name = name;
  }
}

class AiInternalError extends Error {
  constructor(message, name = "AiInternalError") {
    super(message);
    this.name = name;
  }
}

function isReadableStream(value) {
  return !!(value && typeof value === "object" && typeof value.getReader === "function");
}

function findReadableStreamKeys(inputs) {
  const keys = [];
  for (const [key, value] of Object.entries(inputs)) {
    const bodyIsStream = value && typeof value === "object" && "body" in value && isReadableStream(value.body);
    if (bodyIsStream || isReadableStream(value)) keys.push(key);
  }
  return keys;
}

class Ai {
  #upstream;
  constructor(upstream) {
    this.#upstream = upstream;
  }

  async run(model, inputs, options) {
    const streamKeys = inputs && typeof inputs === "object" ? findReadableStreamKeys(inputs) : [];
    let response;
    if (streamKeys.length === 0) {
      response = await this.#upstream.fetch("http://ai-standin/run", {
        method: "POST",
        headers: { "content-type": "application/json", "x-standin-model": String(model) },
        body: JSON.stringify({ inputs: inputs ?? null, options: options ?? {} }),
      });
    } else if (streamKeys.length > 1) {
      throw new AiInternalError(`Multiple ReadableStreams are not supported. Found streams in keys: [${streamKeys.join(", ")}]`);
    } else {
      const [key] = streamKeys;
      const input = inputs[key];
      const body = isReadableStream(input) ? input : input.body;
      const contentType = isReadableStream(input) ? undefined : input.contentType;
      if (!contentType) throw new AiInternalError("Content-Type is required with ReadableStream inputs");
      const { [key]: _streamed, ...userInputs } = inputs;
      const url = new URL("http://ai-standin/run");
      url.searchParams.set("streamKey", key);
      url.searchParams.set("userInputs", JSON.stringify(userInputs));
      response = await this.#upstream.fetch(url, {
        method: "POST",
        headers: { "content-type": contentType, "x-standin-model": String(model) },
        body,
      });
    }

    const kind = response.headers.get("x-standin-kind");
    if (kind === "error") throw new Error(await response.text());
    if (kind === "upstream-error") {
      const content = await response.text();
      try {
        const parsed = JSON.parse(content);
        throw new InferenceUpstreamError(`${parsed.internalCode}: ${parsed.description}`, parsed.name);
      } catch (err) {
        if (err instanceof InferenceUpstreamError) throw err;
        throw new InferenceUpstreamError(content);
      }
    }
    if (kind === "json") return await response.json();
    if (kind === "stream") return response.body;
    throw new Error("ai stand-in: unexpected answer from the stand-in worker (" + response.status + ")");
  }
}

export default function makeBinding(env) {
  return new Ai(env.upstream);
}
