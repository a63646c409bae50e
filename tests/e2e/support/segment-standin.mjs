// The Images binding's `segment: "foreground"` transform, stood in (e2e only; loaded into the
// fault proxy in front of the server in workerd). Miniflare's local Images binding runs only
// rotate and resize and ignores `segment`, so its PNG keeps the background. The real transform
// answers a PNG whose background is transparent; this stand-in gives that shape: an RGBA PNG
// where every pixel close to the top-left pixel's colour (the background, in the tests' images)
// has alpha 0 and the rest keep theirs. Only 8-bit non-interlaced RGB/RGBA PNGs (what Miniflare's
// sharp writes) are rewritten; anything else is returned as it came.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Largest channel difference from the background colour that still counts as background. */
const TOLERANCE = 24;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function through(bytes, stream) {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typed = new TextEncoder().encode(type);
  out.set(typed, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** The PNG's pixels as RGBA rows, or null when it is not a PNG this stand-in rewrites. */
async function decode(png) {
  if (!SIGNATURE.every((b, i) => png[i] === b)) return null;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let off = 8;
  let header = null;
  const idat = [];
  while (off + 12 <= png.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") header = { width: view.getUint32(off + 8), height: view.getUint32(off + 12), depth: data[8], colour: data[9], interlace: data[12] };
    if (type === "IDAT") idat.push(data);
    if (type === "IEND") break;
    off += 12 + len;
  }
  if (!header || header.depth !== 8 || header.interlace !== 0 || ![2, 6].includes(header.colour)) return null;
  const channels = header.colour === 6 ? 4 : 3;
  const joined = new Uint8Array(idat.reduce((n, d) => n + d.length, 0));
  let at = 0;
  for (const d of idat) {
    joined.set(d, at);
    at += d.length;
  }
  const raw = await through(joined, new DecompressionStream("deflate"));
  const { width, height } = header;
  const stride = width * channels;
  const rgba = new Uint8Array(width * height * 4);
  let previous = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? row[x - channels] : 0;
      const up = previous[x];
      const upLeft = x >= channels ? previous[x - channels] : 0;
      const predicted = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter] ?? 0;
      row[x] = (line[x] + predicted) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) rgba[(y * width + x) * 4 + c] = row[x * channels + c];
      rgba[(y * width + x) * 4 + 3] = channels === 4 ? row[x * channels + 3] : 255;
    }
    previous = row;
  }
  return { width, height, rgba };
}

async function encode({ width, height, rgba }) {
  const raw = new Uint8Array((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 6, 0, 0, 0], 8);
  const parts = [new Uint8Array(SIGNATURE), chunk("IHDR", header), chunk("IDAT", await through(raw, new CompressionStream("deflate"))), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `png` with its background (the top-left pixel's colour) made transparent. */
export async function segmentForeground(png) {
  const image = await decode(png);
  if (!image) return png;
  const { rgba } = image;
  const background = [rgba[0], rgba[1], rgba[2]];
  for (let i = 0; i < rgba.length; i += 4) {
    const near = Math.max(Math.abs(rgba[i] - background[0]), Math.abs(rgba[i + 1] - background[1]), Math.abs(rgba[i + 2] - background[2]));
    if (near <= TOLERANCE) rgba[i + 3] = 0;
  }
  return encode(image);
}
