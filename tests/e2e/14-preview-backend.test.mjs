// IMAGE_BACKEND=preview end to end: the worker draws the picture itself (no model call),
// stores it, and /images/<key> serves a PNG that decodes, in Node, to a 512x512 picture
// that is not blank and carries the "not AI generated" marks. The decoder below is
// independent of the Rust encoder: Node's zlib inflates, and this file parses and
// un-filters.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { callTool, uniq, keyFromWorkerUrl, fetchCheckedImage } from "./harness.mjs";
import { useHarness } from "./support/setup.mjs";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Decodes an 8-bit truecolour, non-interlaced PNG (all five row filters) and returns
 * { width, height, rgb, text }. Throws on anything it cannot vouch for: bad signature,
 * bad CRC, other formats, a wrong amount of image data (zlib checks the Adler-32).
 */
function decodePng(bytes) {
  const b = Buffer.from(bytes);
  assert.deepEqual([...b.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
  let off = 8;
  let header = null;
  const idat = [];
  const text = {};
  for (;;) {
    assert.ok(off + 12 <= b.length, "PNG ends before IEND");
    const len = b.readUInt32BE(off);
    const type = b.toString("latin1", off + 4, off + 8);
    const data = b.subarray(off + 8, off + 8 + len);
    assert.equal(b.readUInt32BE(off + 8 + len), crc32(b.subarray(off + 4, off + 8 + len)), `${type} CRC`);
    off += 12 + len;
    if (type === "IHDR") {
      header = {
        width: data.readUInt32BE(0),
        height: data.readUInt32BE(4),
        depth: data[8],
        colourType: data[9],
        compression: data[10],
        filter: data[11],
        interlace: data[12],
      };
    } else if (type === "IDAT") {
      idat.push(data);
    } else if (type === "tEXt") {
      const nul = data.indexOf(0);
      text[data.toString("latin1", 0, nul)] = data.toString("latin1", nul + 1);
    } else if (type === "IEND") {
      break;
    }
  }
  assert.equal(off, b.length, "bytes after IEND");
  assert.ok(header, "no IHDR");
  const { width, height } = header;
  assert.deepEqual(
    [header.depth, header.colourType, header.compression, header.filter, header.interlace],
    [8, 2, 0, 0, 0],
    "expected 8-bit RGB, deflate, adaptive filtering, no interlace",
  );
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  assert.equal(raw.length, height * (stride + 1), "image data length");
  const rgb = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= 3 ? rgb[out + i - 3] : 0;
      const up = y > 0 ? rgb[out - stride + i] : 0;
      const c = i >= 3 && y > 0 ? rgb[out - stride + i - 3] : 0;
      let predictor;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = up; break;
        case 3: predictor = (a + up) >> 1; break;
        case 4: {
          const p = a + up - c;
          const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - up), Math.abs(p - c)];
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? up : c;
          break;
        }
        default: throw new Error(`row ${y}: unknown filter type ${filter}`);
      }
      rgb[out + i] = (line[i] + predictor) & 0xff;
    }
  }
  return { width, height, rgb, text };
}

function pixelsIn(img, y0, y1) {
  const out = [];
  for (let i = y0 * img.width * 3; i < y1 * img.width * 3; i += 3) out.push((img.rgb[i] << 16) | (img.rgb[i + 1] << 8) | img.rgb[i + 2]);
  return out;
}
const WHITE = 0xffffff;

describe("IMAGE_BACKEND=preview: the worker draws, stores and serves a real PNG", () => {
  let client;
  const h = useHarness({ vars: { IMAGE_BACKEND: "preview" } });
  before(async () => {
    client = await h.mcpClient();
  });

  async function generate(prompt, model, controls = {}) {
    const { result, data } = await callTool(client, "generate_image_and_wait", { prompt, model, ...controls });
    assert.ok(!result.isError, JSON.stringify(data));
    assert.equal(data.success, true, JSON.stringify(data));
    assert.equal(data.status, "completed");
    return data;
  }

  it("generate_image_and_wait serves a 512x512 PNG that decodes to a labelled, non-blank picture", async () => {
    const prompt = `a lighthouse on a cliff at dusk ${uniq()}`;
    const data = await generate(prompt, "sdxl-base", { width: 512, height: 512 });
    assert.deepEqual([data.width, data.height], [512, 512], "the job records the preview's size");

    // The result says, in itself, that this is not a model output.
    assert.match(data.note ?? "", /IMAGE_BACKEND=preview/, `note: ${data.note}`);
    assert.match(data.note, /not generated by an AI model/);
    assert.equal(h.recorder.callsFor(prompt).length, 0, "the preview backend must not call the model");

    const served = await fetchCheckedImage(data.image_url);
    assert.equal(served.format, "png");
    assert.equal(served.contentType, "image/png");
    const stored = await h.r2Bytes(keyFromWorkerUrl(data.image_url));
    assert.deepEqual(Buffer.from(served.bytes), Buffer.from(stored.bytes), "served bytes differ from R2");

    const img = decodePng(served.bytes);
    assert.equal(img.width, 512);
    assert.equal(img.height, 512);
    assert.equal(img.rgb.length, 512 * 512 * 3);
    assert.equal(img.text.Comment, "Offline preview - not AI generated");

    const colours = new Set(pixelsIn(img, 0, 512));
    assert.ok(colours.size > 500, `only ${colours.size} distinct colours: a blank or flat picture`);
    // The banner at the top: white text on red, and no white in its empty rows above the text.
    const textRows = pixelsIn(img, 12, 26);
    assert.ok(textRows.filter((p) => p === WHITE).length > 500, "no banner text");
    assert.equal(pixelsIn(img, 0, 10).filter((p) => p === WHITE).length, 0, "white above the banner text");
    const banner = pixelsIn(img, 0, 10);
    const reddish = banner.filter((p) => (p >> 16) > 2 * ((p >> 8) & 0xff) && (p >> 16) > 2 * (p & 0xff)).length;
    assert.ok(reddish > banner.length * 0.9, "the banner is not red");
    // The prompt panel at the bottom holds white text too.
    assert.ok(pixelsIn(img, 400, 500).filter((p) => p === WHITE).length > 500, "no prompt text in the panel");
  });

  it("the same prompt gives the same picture; another prompt another one", async () => {
    const prompt = `a red fox in the snow ${uniq()}`;
    const first = await fetchCheckedImage((await generate(prompt, "flux-schnell")).image_url);
    const again = await fetchCheckedImage((await generate(prompt, "flux-schnell")).image_url);
    const other = await fetchCheckedImage((await generate(`${prompt} at night`, "flux-schnell")).image_url);
    assert.deepEqual(Buffer.from(again.bytes), Buffer.from(first.bytes), "same prompt, different bytes");
    const a = decodePng(first.bytes);
    const b = decodePng(other.bytes);
    assert.deepEqual([b.width, b.height], [512, 512]);
    let differ = 0;
    for (let i = 0; i < a.rgb.length; i += 3) if (a.rgb.readUIntBE(i, 3) !== b.rgb.readUIntBE(i, 3)) differ++;
    assert.ok(differ > (512 * 512) / 2, `only ${differ} pixels differ between two prompts`);
  });

  it("honours the requested size, aspect ratio and seed: same seed and prompt, same bytes", async () => {
    const prompt = `a paper crane ${uniq()}`;
    const sized = await generate(prompt, "phoenix", { width: 640, height: 384, seed: 5 });
    const img = decodePng((await fetchCheckedImage(sized.image_url)).bytes);
    assert.deepEqual([img.width, img.height], [640, 384]);
    assert.deepEqual([sized.width, sized.height, sized.seed], [640, 384, 5]);
    const again = await generate(prompt, "phoenix", { width: 640, height: 384, seed: 5 });
    const reseeded = await generate(prompt, "phoenix", { width: 640, height: 384, seed: 6 });
    const [a, b, c] = await Promise.all([sized, again, reseeded].map((d) => fetchCheckedImage(d.image_url)));
    assert.ok(Buffer.from(a.bytes).equals(Buffer.from(b.bytes)), "same seed and prompt give the same bytes");
    assert.ok(!Buffer.from(a.bytes).equals(Buffer.from(c.bytes)), "another seed gives another picture");
    const wide = await generate(`${prompt} wide`, "flux-2-dev", { aspect_ratio: "21:9" });
    const wideImg = decodePng((await fetchCheckedImage(wide.image_url)).bytes);
    assert.deepEqual([wideImg.width, wideImg.height], [wide.width, wide.height]);
    assert.ok(wideImg.width / wideImg.height > 2.2, `21:9 preview is ${wideImg.width}x${wideImg.height}`);
  });
});
