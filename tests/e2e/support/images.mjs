// Real image bytes for the Workers AI stand-in, made in Node at harness start,
// plus helpers that recognise image formats by their magic numbers.
//
// Each model gets a distinct picture (its own colour and size) so a test can tell
// from the stored bytes which model ran: the server must store exactly the bytes
// the model produced.
import { createRequire } from "node:module";
import zlib from "node:zlib";

const require = createRequire(import.meta.url);
const jpeg = require("jpeg-js");

/** RGBA pixels: a diagonal gradient in `base` colour with deterministic noise. */
function pixels(width, height, base, seed) {
  const data = Buffer.alloc(width * height * 4);
  let s = seed >>> 0;
  const rnd = () => {
    // xorshift32: deterministic, so the images are identical on every run.
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s & 0xff;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const g = ((x + y) * 255) / (width + height);
      data[i] = Math.min(255, (base[0] * 3 + g + (rnd() & 31)) / 4 + 32);
      data[i + 1] = Math.min(255, (base[1] * 3 + g + (rnd() & 31)) / 4 + 32);
      data[i + 2] = Math.min(255, (base[2] * 3 + g + (rnd() & 31)) / 4 + 32);
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
    chunk("IDAT", zlib.deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
  return new Uint8Array(png);
}

/** "jpeg" | "png" | null, from the magic numbers. */
export function sniff(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (
    b.length >= 8 &&
    b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 &&
    b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a
  ) {
    return "png";
  }
  return null;
}

/** Check that the bytes decode as a whole image (not just a right-looking header). */
export function decodes(bytes) {
  const b = Buffer.from(bytes);
  const kind = sniff(b);
  if (kind === "jpeg") {
    const img = jpeg.decode(b, { useTArray: true });
    return img.width > 0 && img.height > 0;
  }
  if (kind === "png") {
    // Walk the chunks, verify CRCs, inflate the IDAT stream.
    let off = 8;
    const idat = [];
    let sawEnd = false;
    while (off + 12 <= b.length) {
      const len = b.readUInt32BE(off);
      const type = b.toString("ascii", off + 4, off + 8);
      const data = b.subarray(off + 8, off + 8 + len);
      const crc = b.readUInt32BE(off + 8 + len);
      if (crc32(b.subarray(off + 4, off + 8 + len)) !== crc) return false;
      if (type === "IDAT") idat.push(data);
      if (type === "IEND") {
        sawEnd = true;
        break;
      }
      off += 12 + len;
    }
    if (!sawEnd) return false;
    zlib.inflateSync(Buffer.concat(idat));
    return true;
  }
  return false;
}

export const MODEL_IDS = {
  "flux-schnell": "@cf/black-forest-labs/flux-1-schnell",
  "sdxl-lightning": "@cf/bytedance/stable-diffusion-xl-lightning",
  "sdxl-base": "@cf/stabilityai/stable-diffusion-xl-base-1.0",
};

/**
 * The stand-in's outputs, one distinct picture per model. FLUX gives a JPEG
 * (the real model returns base64 JPEG); the SDXL models give PNG bytes. The
 * PNGs are large enough (> 64 KiB) that the stand-in streams them in several
 * chunks, as a real byte stream would arrive.
 */
export function makeModelImages() {
  return {
    [MODEL_IDS["flux-schnell"]]: makeJpeg(160, 120, [220, 40, 40], 11),
    [MODEL_IDS["sdxl-lightning"]]: makePng(200, 160, [40, 200, 60], 22),
    [MODEL_IDS["sdxl-base"]]: makePng(180, 180, [40, 70, 220], 33),
  };
}
