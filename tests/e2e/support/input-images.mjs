// Image inputs for the edit/variation tests (26-image-inputs): data URLs of real PNG, JPEG and
// WebP images of any size, a black/white mask, a data URL whose bytes are not an image, and one
// just over the 10 MB limit. Each helper returns { dataUrl, bytes, sha256, format, width, height }
// so a test can compare what the model received (the stand-in records sha256 of input images)
// with what it sent.
import { createHash } from "node:crypto";
import zlib from "node:zlib";
import sharp from "sharp";
import { makeJpeg, makePng, encodeRgbPng } from "./images.mjs";

/** The limit on an image input, decoded (10 MB, as /work/notes/inputs-interface.md states). */
export const INPUT_MAX_BYTES = 10 * 1024 * 1024;

const MIME = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };

export function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

export function dataUrl(mime, bytes) {
  return `data:${mime};base64,${Buffer.from(bytes).toString("base64")}`;
}

function described(format, bytes, width, height, mime = MIME[format]) {
  const b = new Uint8Array(bytes);
  return { dataUrl: dataUrl(mime, b), bytes: b, sha: sha256(b), format, width, height };
}

/** A PNG of width x height (base colour and seed pick the pixels, so two calls can differ). */
export function pngInput(width, height, { base = [60, 120, 200], seed = 1 } = {}) {
  return described("png", makePng(width, height, base, seed), width, height);
}

export function jpegInput(width, height, { base = [200, 150, 60], seed = 1 } = {}) {
  return described("jpeg", makeJpeg(width, height, base, seed), width, height);
}

/** A real WebP (encoded by sharp from a PNG of the same pixels). */
export async function webpInput(width, height, { base = [90, 200, 120], seed = 1 } = {}) {
  const webp = await sharp(Buffer.from(makePng(width, height, base, seed))).webp({ quality: 80 }).toBuffer();
  return described("webp", webp, width, height);
}

/** A black PNG with a white rectangle in the middle (white = repaint), 8-bit RGB. */
export function maskInput(width, height) {
  const row = width * 3 + 1;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    raw[y * row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const white = x >= width / 4 && x < (width * 3) / 4 && y >= height / 4 && y < (height * 3) / 4;
      raw.fill(white ? 255 : 0, y * row + 1 + x * 3, y * row + 4 + x * 3);
    }
  }
  return described("png", encodeRgbPng(width, height, raw), width, height);
}

/** A data URL that claims image/png but carries text. */
export function notAnImageInput() {
  return described(null, Buffer.from("this is plain text, not the bytes of any image format ".repeat(8)), null, null, "image/png");
}

/**
 * A valid PNG of exactly `totalBytes` (default INPUT_MAX_BYTES + 1): a small image with a private
 * ancillary chunk ("juNk", which decoders skip) of filler bytes before IEND.
 */
export function oversizePngInput(totalBytes = INPUT_MAX_BYTES + 1, width = 64, height = 64) {
  const png = Buffer.from(makePng(width, height, [10, 10, 10], 3));
  const iend = png.length - 12;
  const junkLength = totalBytes - png.length - 12;
  if (junkLength < 0) throw new Error(`oversizePngInput: ${totalBytes} bytes is smaller than the image`);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(junkLength, 0);
  head.write("juNk", 4, "ascii");
  const data = Buffer.alloc(junkLength, 0x5a);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0);
  const bytes = Buffer.concat([png.subarray(0, iend), head, data, crc, png.subarray(iend)]);
  if (bytes.length !== totalBytes) throw new Error(`oversizePngInput: built ${bytes.length} bytes, wanted ${totalBytes}`);
  return described("png", bytes, width, height);
}

/**
 * A PNG of `totalBytes` (default 40 KB) whose IHDR declares width x height (default 30000 x
 * 30000) pixels: the signature, a valid IHDR chunk (8-bit RGB, correct CRC), then zero bytes.
 * No decoder can make a picture of it; a server must refuse it from the header alone, before
 * decoding or converting anything.
 */
export function declaredHugePngInput(width = 30000, height = 30000, totalBytes = 40 * 1024) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour (compression, filter, interlace stay 0)
  const head = Buffer.alloc(8);
  head.writeUInt32BE(ihdr.length, 0);
  head.write("IHDR", 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), ihdr])) >>> 0);
  const header = Buffer.concat([signature, head, ihdr, crc]);
  const bytes = Buffer.concat([header, Buffer.alloc(totalBytes - header.length, 0)]);
  return described("png", bytes, width, height);
}

/** Width and height of PNG/JPEG/WebP bytes, as sharp reads them (a full decode of the header). */
export async function dimensions(bytes) {
  const meta = await sharp(Buffer.from(bytes)).metadata();
  return { format: meta.format === "jpg" ? "jpeg" : meta.format, width: meta.width, height: meta.height };
}
