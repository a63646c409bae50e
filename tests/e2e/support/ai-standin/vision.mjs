// The Workers AI vision model describe_image asks, in the stand-in: its input rules and answer
// shape from its page (developers.cloudflare.com/workers-ai/models/llama-4-scout-17b-16e-instruct/):
//   input   {messages: [{role, content: string | [{type: "text", text} | {type: "image_url",
//           image_url: {url: "data:image/...;base64,..."}}]}], max_tokens?: integer (default 256), ...}
//           ("HTTP URL will not be accepted"); or {prompt} (text only).
//   output  {response: string, usage: {prompt_tokens, completion_tokens, total_tokens}}
// Stricter than the real API (marked "stand-in"): unknown top-level keys are refused, an image
// must be a real PNG or JPEG, and at most one image per call.
// Tokens are counted the stand-in's way (text: a token per 4 characters; an image: 144 tokens per
// 336x336 tile plus 6), so tests can check the server records the model's own counts.
import { base64ToBytes, imageInfo, sha256Hex } from "./formats.mjs";

export const VISION_MODELS = {
  "@cf/meta/llama-4-scout-17b-16e-instruct": {
    name: "llama-4-scout",
    page: "https://developers.cloudflare.com/workers-ai/models/llama-4-scout-17b-16e-instruct/",
    defaultMaxTokens: 256,
  },
};

const TOP_LEVEL = new Set(["messages", "prompt", "max_tokens", "temperature", "top_p", "top_k", "seed"]); // stand-in subset

export const textTokens = (text) => Math.ceil(text.length / 4);
export const imageTokens = (width, height) => Math.ceil(width / 336) * Math.ceil(height / 336) * 144 + 6;

/**
 * Checks a call's inputs. Returns {ok: true, text, image: {bytes, format, width, height}|null,
 * maxTokens} or {ok: false, description} (a 5006 bad input, as Workers AI answers).
 */
export function validateVisionCall(spec, inputs) {
  const bad = (description) => ({ ok: false, description: `Bad input: ${description}` });
  if (!inputs || typeof inputs !== "object" || Array.isArray(inputs)) return bad("inputs must be an object");
  for (const key of Object.keys(inputs)) if (!TOP_LEVEL.has(key)) return bad(`unknown input ${key}`);
  const maxTokens = inputs.max_tokens ?? spec.defaultMaxTokens;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) return bad("max_tokens must be a positive integer");
  if (inputs.prompt !== undefined) {
    if (typeof inputs.prompt !== "string" || inputs.prompt.length < 1) return bad("prompt must be a non-empty string");
    return { ok: true, text: inputs.prompt, image: null, maxTokens };
  }
  if (!Array.isArray(inputs.messages) || inputs.messages.length === 0) return bad("messages must be a non-empty array");
  const texts = [];
  let image = null;
  for (const message of inputs.messages) {
    if (!message || typeof message.role !== "string") return bad("each message needs a role");
    const parts = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
    if (!Array.isArray(parts)) return bad("content must be a string or an array of parts");
    for (const part of parts) {
      if (part?.type === "text" && typeof part.text === "string") {
        texts.push(part.text);
      } else if (part?.type === "image_url" && typeof part.image_url?.url === "string") {
        const url = part.image_url.url;
        const m = /^data:(image\/[a-z]+);base64,(.*)$/s.exec(url);
        if (!m) return bad("image_url.url must be a data: URL (HTTP URL will not be accepted)");
        if (image) return bad("stand-in: one image per call");
        let bytes;
        try {
          bytes = base64ToBytes(m[2]);
        } catch {
          return bad("image_url.url is not valid base64");
        }
        const info = imageInfo(bytes);
        if (!info) return bad("stand-in: the image is not a readable PNG or JPEG");
        if (`image/${info.format}` !== m[1]) return bad(`stand-in: the data URL says ${m[1]} but the bytes are ${info.format}`);
        image = { bytes, ...info };
      } else {
        return bad("each content part is {type: \"text\", text} or {type: \"image_url\", image_url: {url}}");
      }
    }
  }
  return { ok: true, text: texts.join("\n"), image, maxTokens };
}

/** The answer: what the stand-in can tell from the image, cut to max_tokens. */
export function visionAnswer(checked) {
  const { text, image, maxTokens } = checked;
  const seen = image ? `a ${image.width}x${image.height} ${image.format.toUpperCase()} image` : "no image";
  let response = text.includes("[long]")
    ? `Stand-in description of ${seen}. ${"The picture is described at great length. ".repeat(200)}`
    : `Stand-in description of ${seen}.`;
  const question = /question about the image[^:]*: (.*)$/s.exec(text);
  if (question) response += ` Asked: ${question[1].trim()}`;
  let completion = textTokens(response);
  if (completion > maxTokens) {
    response = response.slice(0, maxTokens * 4);
    completion = maxTokens;
  }
  const prompt = textTokens(text) + (image ? imageTokens(image.width, image.height) : 0);
  return { response, usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } };
}

/** What the recorder keeps of the call (the image by digest and size, never its bytes). */
export async function recordedVisionInputs(inputs, image) {
  const digest = image ? { sha256: await sha256Hex(image.bytes), format: image.format, width: image.width, height: image.height, size: image.bytes.length } : null;
  const messages = (inputs?.messages ?? []).map((message) => ({
    role: message.role,
    content: Array.isArray(message.content)
      ? message.content.map((part) => (part?.type === "image_url" ? { type: "image_url", image: digest, urlPrefix: String(part.image_url?.url).slice(0, 30) } : part))
      : message.content,
  }));
  return { inputs: { ...inputs, ...(inputs?.messages ? { messages } : {}) }, images: digest ? [digest] : undefined };
}
