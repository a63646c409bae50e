// Byte-level helpers shared by Node (harness, tests) and the stand-in worker
// (workerd): image format sniffing, width/height from the file header, base64,
// SHA-256. Plain ESM with no Node or Workers imports, so both runtimes load it.

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

const u32 = (b, o) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const u16 = (b, o) => (b[o] << 8) | b[o + 1];

/**
 * {format, width, height} read from the header (PNG IHDR, JPEG SOFn marker),
 * or null when the bytes are not a PNG/JPEG with a readable header. This does
 * not prove the rest of the file decodes (see images.mjs `decodes`).
 */
export function imageInfo(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const format = sniff(b);
  if (format === "png") {
    if (b.length < 24 || String.fromCharCode(b[12], b[13], b[14], b[15]) !== "IHDR") return null;
    const width = u32(b, 16);
    const height = u32(b, 20);
    return width > 0 && height > 0 ? { format, width, height } : null;
  }
  if (format === "jpeg") {
    let off = 2;
    while (off + 4 <= b.length) {
      if (b[off] !== 0xff) return null;
      const marker = b[off + 1];
      if (marker === 0xff) {
        off += 1; // fill byte
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        off += 2; // markers without a length
        continue;
      }
      const len = u16(b, off + 2);
      if (len < 2) return null;
      // SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        if (off + 9 > b.length) return null;
        const height = u16(b, off + 5);
        const width = u16(b, off + 7);
        return width > 0 && height > 0 ? { format, width, height } : null;
      }
      if (marker === 0xda || marker === 0xd9) return null; // scan/end before any frame header
      off += 2 + len;
    }
    return null;
  }
  return null;
}

export function bytesToBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Strict base64 (standard alphabet, padding optional): Uint8Array, or null if malformed. */
export function base64ToBytes(text) {
  if (typeof text !== "string") return null;
  const clean = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return null;
  let bin;
  try {
    bin = atob(clean);
  } catch {
    return null;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (x) => x.toString(16).padStart(2, "0")).join("");
}
