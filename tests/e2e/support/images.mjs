// Real image bytes for the Workers AI stand-in, made in Node, plus helpers that
// recognise and decode image formats.
//
// Every model has its own base colour, so a test can tell from stored bytes which
// model ran; the pixels also depend on the size and on the seed (same seed, same
// bytes), and images are cached per (model, size, seed). They are small to make:
// 4x4 blocks of one colour (a gradient plus seeded noise), which PNG compresses
// well and JPEG encodes quickly.
import { createRequire } from "node:module";
import zlib from "node:zlib";
import { MODELS, MODEL_IDS, outputFormat } from "./ai-standin/models.mjs";
import { sniff, imageInfo } from "./ai-standin/formats.mjs";

export { sniff, imageInfo, MODEL_IDS };

const require = createRequire(import.meta.url);
const jpeg = require("jpeg-js");

function xorshift(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** RGBA pixels: 4x4 blocks, a diagonal gradient in the `base` colour plus noise from `seed`. */
function pixels(width, height, base, seed) {
  const data = Buffer.alloc(width * height * 4);
  const rnd = xorshift(seed);
  const bw = Math.ceil(width / 4);
  const bh = Math.ceil(height / 4);
  const noise = new Uint8Array(bw * bh * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = rnd() & 63;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const b = ((y >> 2) * bw + (x >> 2)) * 3;
      const i = (y * width + x) * 4;
      const g = (((x >> 2) + (y >> 2)) * 1020) / (bw + bh);
      data[i] = Math.min(255, (base[0] * 3 + g + noise[b]) / 4 + 24);
      data[i + 1] = Math.min(255, (base[1] * 3 + g + noise[b + 1]) / 4 + 24);
      data[i + 2] = Math.min(255, (base[2] * 3 + g + noise[b + 2]) / 4 + 24);
      data[i + 3] = 255;
    }
  }
  return data;
}

export function makeJpeg(width, height, base, seed = 1) {
  const encoded = jpeg.encode({ data: pixels(width, height, base, seed), width, height }, 85);
  return new Uint8Array(encoded.data);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/**
 * An 8-bit RGB PNG from its filtered scanlines (`raw`: per row a filter byte, then 3 bytes a
 * pixel), deflated at zlib `level`.
 */
export function encodeRgbPng(width, height, raw, level = zlib.constants.Z_DEFAULT_COMPRESSION) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(raw, { level })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
  return new Uint8Array(png);
}

/** A valid 8-bit RGB PNG (zlib-compressed IDAT, filter type 0 on every row). */
export function makePng(width, height, base, seed = 1) {
  const rgba = pixels(width, height, base, seed);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 4;
      const dst = y * (width * 3 + 1) + 1 + x * 3;
      raw[dst] = rgba[src];
      raw[dst + 1] = rgba[src + 1];
      raw[dst + 2] = rgba[src + 2];
    }
  }
  return encodeRgbPng(width, height, raw);
}

const PNG_CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Decodes the whole image (JPEG through jpeg-js; PNG: every chunk CRC checked and
 * the IDAT stream inflated to exactly the size the header promises) and returns
 * {format, width, height}. Throws if the bytes are not a complete PNG/JPEG.
 */
export function decodeImage(bytes) {
  const b = Buffer.from(bytes);
  const format = sniff(b);
  if (format === "jpeg") {
    const img = jpeg.decode(b, { useTArray: true, maxMemoryUsageInMB: 1024 });
    if (!(img.width > 0 && img.height > 0)) throw new Error("JPEG without pixels");
    return { format, width: img.width, height: img.height };
  }
  if (format === "png") {
    let off = 8;
    const idat = [];
    let ihdr = null;
    let sawEnd = false;
    while (off + 12 <= b.length) {
      const len = b.readUInt32BE(off);
      const type = b.toString("ascii", off + 4, off + 8);
      if (off + 12 + len > b.length) throw new Error(`PNG chunk ${type} runs past the end`);
      const data = b.subarray(off + 8, off + 8 + len);
      const crc = b.readUInt32BE(off + 8 + len);
      if (crc32(b.subarray(off + 4, off + 8 + len)) !== crc) throw new Error(`PNG chunk ${type}: bad CRC`);
      if (type === "IHDR") ihdr = data;
      if (type === "IDAT") idat.push(data);
      if (type === "IEND") {
        sawEnd = true;
        break;
      }
      off += 12 + len;
    }
    if (!ihdr || !sawEnd) throw new Error("PNG without IHDR or IEND");
    const width = ihdr.readUInt32BE(0);
    const height = ihdr.readUInt32BE(4);
    const [depth, colour, , , interlace] = [ihdr[8], ihdr[9], ihdr[10], ihdr[11], ihdr[12]];
    const raw = zlib.inflateSync(Buffer.concat(idat));
    const channels = PNG_CHANNELS[colour];
    if (!channels) throw new Error(`PNG colour type ${colour}`);
    if (interlace === 0) {
      const expected = (Math.ceil((width * channels * depth) / 8) + 1) * height;
      if (raw.length !== expected) throw new Error(`PNG pixel data is ${raw.length} bytes, expected ${expected}`);
    }
    return { format, width, height };
  }
  throw new Error("not a PNG or JPEG");
}

/** Whether the bytes decode as a whole image (not just a right-looking header). */
export function decodes(bytes) {
  try {
    decodeImage(bytes);
    return true;
  } catch {
    return false;
  }
}

// One base colour per model (the first three as before: red FLUX, green and blue SDXL). A model
// not listed here gets a colour from its name (colourOf), so a new model needs no entry.
const BASE_COLOURS = {
  "flux-schnell": [220, 40, 40],
  "sdxl-lightning": [40, 200, 60],
  "sdxl-base": [40, 70, 220],
  "flux-2-dev": [230, 140, 30],
  "flux-2-klein-4b": [200, 60, 200],
  "flux-2-klein-9b": [120, 40, 160],
  "lucid-origin": [30, 200, 200],
  phoenix: [240, 220, 60],
  "dreamshaper-8-lcm": [150, 110, 70],
  "sd-v1-5-img2img": [90, 160, 250],
  "sd-v1-5-inpainting": [250, 120, 150],
};

/** The base colour of a model (by client name): its own, or one derived from the name. */
function colourOf(name) {
  if (BASE_COLOURS[name]) return BASE_COLOURS[name];
  const h = hash32(`colour/${name}`);
  return [40 + (h & 0xff) % 200, 40 + ((h >>> 8) & 0xff) % 200, 40 + ((h >>> 16) & 0xff) % 200];
}

/** FNV-1a over the text, as a 32-bit seed. */
function hash32(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const cache = new Map();
const CACHE_LIMIT = 48;

/**
 * The picture the stand-in returns for `model` (a Workers AI id) at width x height,
 * in the model's real output format. `seed` undefined gives the model's fixed
 * picture; any seed gives a picture of its own, identical for the same seed.
 */
export function renderModelImage(model, { width, height, seed } = {}) {
  const spec = MODELS[model];
  if (!spec) throw new Error(`renderModelImage: unknown model ${model}`);
  const w = width ?? spec.defaultWidth;
  const h = height ?? spec.defaultHeight;
  const key = `${model}|${w}x${h}|${seed ?? "-"}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const pixelSeed = hash32(seed === undefined ? `${model}/fixed` : `${model}/seed/${seed}`);
  const base = colourOf(spec.name);
  const bytes = outputFormat(model) === "jpeg" ? makeJpeg(w, h, base, pixelSeed) : makePng(w, h, base, pixelSeed);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value);
  cache.set(key, bytes);
  return bytes;
}

/**
 * The stand-in's output per model when a request names no size and no seed: the
 * model's default size (FLUX.1 schnell 1024x1024 JPEG, the SDXL models 1024x1024
 * PNG, ...). Made on first access, so a test file pays only for the models it uses;
 * the PNGs are large enough (> 64 KiB) to arrive in several stream chunks.
 */
export function makeModelImages() {
  const images = {};
  // The three original models first: older tests look at the first three values.
  const names = ["flux-schnell", "sdxl-lightning", "sdxl-base"];
  const ordered = [...names.map((n) => MODEL_IDS[n]), ...Object.values(MODEL_IDS).filter((id) => !names.includes(MODELS[id].name))];
  for (const model of ordered) {
    Object.defineProperty(images, model, { enumerable: true, get: () => renderModelImage(model) });
  }
  return images;
}
