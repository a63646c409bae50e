//! PNG encoder for the preview picture: 8-bit RGB, adaptive row filters, one fixed-Huffman DEFLATE block.
//!
//! Self-contained (CRC-32, Adler-32, LZ77 and the bit writer are here) so the Worker carries
//! no compression crate; the tests decode its output with the independent `png` crate.

/// Encodes `rgb` (row-major, 3 bytes per pixel, `width` × `height`) as a PNG whose `tEXt`
/// chunk carries `comment` under the keyword "Comment".
pub fn encode_rgb8(width: u32, height: u32, rgb: &[u8], comment: &str) -> Vec<u8> {
    debug_assert_eq!(rgb.len(), width as usize * height as usize * 3);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let header = [&width.to_be_bytes()[..], &height.to_be_bytes(), &[8, 2, 0, 0, 0]].concat(); // 8-bit RGB
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"tEXt", &[b"Comment\0", comment.as_bytes()].concat());
    let filtered = filter_rows(rgb, width as usize * 3);
    let mut z = vec![0x78, 0x01]; // zlib header: deflate, 32 KiB window, valid check bits
    z.extend(deflate_fixed(&filtered));
    z.extend_from_slice(&adler32(&filtered).to_be_bytes());
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// CRC-32 (ISO-HDLC, as PNG chunks use) over the concatenation of `parts`. Bit by bit rather
/// than with the usual 1 KiB table: that table is incompressible Wasm data, and a few
/// hundred KiB of chunks take well under a millisecond either way.
fn crc32(parts: &[&[u8]]) -> u32 {
    let byte = |c: u32, &b: &u8| {
        (0..8).fold(c ^ u32::from(b), |c, _| {
            (c >> 1) ^ (0xEDB8_8320 & (c & 1).wrapping_neg())
        })
    };
    !parts.iter().flat_map(|p| p.iter()).fold(!0, byte)
}

/// Adler-32, the zlib stream checksum.
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the longest run for which `b` cannot overflow u32 before the modulo.
    for block in data.chunks(5552) {
        for &x in block {
            a += u32::from(x);
            b += a;
        }
        (a, b) = (a % 65521, b % 65521);
    }
    b << 16 | a
}

/// Appends one PNG chunk: length, type, data, CRC of type and data.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// PNG predictor `ty` (1 Sub, 2 Up, 4 Paeth) from left `a`, up `b`, up-left `c`.
fn predict(ty: u8, a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let (pa, pb, pc) = ((ib - ic).abs(), (ia - ic).abs(), (ia + ib - 2 * ic).abs());
    match ty {
        1 => a,
        2 => b,
        4 if pa <= pb && pa <= pc => a,
        4 if pb <= pc => b,
        4 => c,
        _ => 0,
    }
}

/// Per row, keeps the Sub/Up/Paeth filter with the smallest sum of |residual| (libpng's
/// heuristic): gradients become near-constant residuals that LZ77 then collapses. None and
/// Average never won on these images, so they are not tried (halves debug-build time).
fn filter_rows(rgb: &[u8], stride: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(rgb.len() + rgb.len() / stride);
    let (zero, mut cand, mut best) = (vec![0u8; stride], vec![0u8; stride], vec![0u8; stride]);
    let prevs = std::iter::once(&zero[..]).chain(rgb.chunks_exact(stride));
    for (row, prev) in rgb.chunks_exact(stride).zip(prevs) {
        let mut best_score = (u64::MAX, 0u8);
        for ty in [1u8, 2, 4] {
            for (i, out) in cand.iter_mut().enumerate() {
                let (a, c) = i.checked_sub(3).map_or((0, 0), |j| (row[j], prev[j]));
                *out = row[i].wrapping_sub(predict(ty, a, prev[i], c));
            }
            let score: u64 = cand.iter().map(|&v| u64::from((v as i8).unsigned_abs())).sum();
            if score < best_score.0 {
                best_score = (score, ty);
                std::mem::swap(&mut best, &mut cand);
            }
        }
        out.push(best_score.1);
        out.extend_from_slice(&best);
    }
    out
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
];
/// Extra-bit counts follow a fixed pattern in RFC 1951 §3.2.5 (length 258 is special).
fn len_extra(i: usize) -> u32 {
    if (8..28).contains(&i) {
        (i as u32 - 4) / 4
    } else {
        0
    }
}
fn dist_extra(i: usize) -> u32 {
    (i as u32).saturating_sub(2) / 2
}

/// Splits `v` into (code index, extra-bit count, extra-bit value) for a base table.
fn split(bases: &[u16], extra: fn(usize) -> u32, v: usize) -> (u32, u32, u32) {
    let i = bases.iter().rposition(|&b| usize::from(b) <= v).unwrap_or(0);
    (i as u32, extra(i), (v - usize::from(bases[i])) as u32)
}

/// DEFLATE packs data LSB-first but Huffman codes MSB-first.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}
impl BitWriter {
    fn bits(&mut self, v: u32, n: u32) {
        self.acc |= u64::from(v) << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            (self.acc, self.n) = (self.acc >> 8, self.n - 8);
        }
    }
    fn code(&mut self, code: u32, len: u32) {
        self.bits(code.reverse_bits() >> (32 - len), len);
    }
    /// Fixed literal/length code (RFC 1951 §3.2.6).
    fn sym(&mut self, s: u32) {
        match s {
            0..=143 => self.code(0x30 + s, 8),
            144..=255 => self.code(0x190 + s - 144, 9),
            256..=279 => self.code(s - 256, 7),
            _ => self.code(0xC0 + s - 280, 8),
        }
    }
}

/// One fixed-Huffman block with hash-chain LZ77 (zlib-style 32 KiB window). Dynamic Huffman
/// would save more but doubles the code; the flat areas, gradients and repeated rows that
/// dominate these images are already caught by the matcher (~10x smaller than raw).
fn deflate_fixed(data: &[u8]) -> Vec<u8> {
    const WINDOW: usize = 32768;
    const HASH_BITS: u32 = 15;
    let mut head = vec![0u32; 1 << HASH_BITS]; // position + 1; 0 = empty
    let mut prev = vec![0u32; WINDOW];
    let hash = |i: usize| {
        let v = u32::from(data[i]) << 16 | u32::from(data[i + 1]) << 8 | u32::from(data[i + 2]);
        (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
    };
    let mut w = BitWriter::default();
    w.bits(0b011, 3); // BFINAL = 1, BTYPE = 01 (fixed Huffman)
    let mut i = 0;
    while i < data.len() {
        let (mut best_len, mut best_dist) = (0, 0);
        if i + 3 <= data.len() {
            let max_len = (data.len() - i).min(258);
            // Chain depth 32: deeper searches gained <5% size for 2-3x the time.
            let (mut cand, mut chain) = (head[hash(i)] as usize, 32);
            // Chain entries are only trusted within the window: older ring slots are reused.
            while cand != 0 && chain > 0 && i - (cand - 1) <= WINDOW {
                let c = cand - 1;
                let same = data[c..].iter().zip(&data[i..i + max_len]);
                let len = same.take_while(|(a, b)| a == b).count();
                if len > best_len {
                    (best_len, best_dist) = (len, i - c);
                    if len == max_len {
                        break;
                    }
                }
                (cand, chain) = (prev[c % WINDOW] as usize, chain - 1);
            }
        }
        let step = if best_len >= 3 {
            let (li, ln, lv) = split(&LEN_BASE, len_extra, best_len);
            let (di, dn, dv) = split(&DIST_BASE, dist_extra, best_dist);
            w.sym(257 + li);
            w.bits(lv, ln);
            w.code(di, 5);
            w.bits(dv, dn);
            best_len
        } else {
            w.sym(u32::from(data[i]));
            1
        };
        for j in (i..i + step).take_while(|j| j + 3 <= data.len()) {
            let h = hash(j);
            prev[j % WINDOW] = head[h];
            head[h] = (j + 1) as u32;
        }
        i += step;
    }
    w.sym(256);
    w.bits(0, 7); // flush the last partial byte
    w.out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Decodes with the `png` crate (its own inflater, CRC and Adler-32 checks enabled), returning
    /// (width, height, colour type, bit depth, pixels, tEXt entries).
    pub(crate) fn decode(bytes: &[u8]) -> Decoded {
        let mut decoder = ::png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.ignore_checksums(false);
        let mut reader = decoder.read_info().expect("PNG header");
        let mut pixels = vec![0; reader.output_buffer_size().expect("buffer size")];
        let frame = reader.next_frame(&mut pixels).expect("PNG image data");
        pixels.truncate(frame.buffer_size());
        reader.finish().expect("PNG trailer");
        let info = reader.info();
        let text = info
            .uncompressed_latin1_text
            .iter()
            .map(|t| (t.keyword.clone(), t.text.clone()))
            .collect();
        Decoded {
            width: info.width,
            height: info.height,
            colour: (info.color_type, info.bit_depth),
            pixels,
            text,
        }
    }

    pub(crate) struct Decoded {
        pub width: u32,
        pub height: u32,
        pub colour: (::png::ColorType, ::png::BitDepth),
        pub pixels: Vec<u8>,
        pub text: Vec<(String, String)>,
    }

    /// xorshift32 noise: incompressible bytes that force literals of every value.
    fn noise(len: usize, mut s: u32) -> Vec<u8> {
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                s as u8
            })
            .collect()
    }

    fn round_trip(width: u32, height: u32, rgb: &[u8]) {
        let png = encode_rgb8(width, height, rgb, "hello");
        let d = decode(&png);
        assert_eq!((d.width, d.height), (width, height));
        assert_eq!(d.colour, (::png::ColorType::Rgb, ::png::BitDepth::Eight));
        assert!(d.pixels == rgb, "{width}x{height}: decoded pixels differ");
        assert_eq!(d.text, [("Comment".to_string(), "hello".to_string())]);
    }

    #[test]
    fn checksums_match_published_check_values() {
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082); // every PNG ends in these bytes
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(&[]), 1);
        // Long enough to need the modulo many times: compare with a slow reference.
        let data = [0xFFu8; 100_000];
        let (a, b) = data.iter().fold((1u64, 0u64), |(a, b), &x| {
            let a = (a + u64::from(x)) % 65521;
            (a, (b + a) % 65521)
        });
        assert_eq!(adler32(&data), (b << 16 | a) as u32);
    }

    #[test]
    fn independent_decoder_reads_back_exact_pixels_for_many_shapes() {
        round_trip(1, 1, &[1, 2, 3]);
        round_trip(3, 5, &noise(3 * 5 * 3, 7));
        round_trip(64, 64, &[0; 64 * 64 * 3]);
        round_trip(300, 7, &noise(300 * 7 * 3, 99));
        // Gradients in both directions: Sub, Up and Paeth each win somewhere.
        let grad: Vec<u8> = (0..40u32 * 30)
            .flat_map(|i| [(i % 40 * 6) as u8, (i / 40 * 8) as u8, (i % 40 + i / 40) as u8])
            .collect();
        round_trip(40, 30, &grad);
        // Rows that repeat every 50 rows of 200 pixels: matches 30,000 bytes back, near the
        // edge of the 32 KiB window, and maximal 258-byte matches.
        let block = noise(200 * 50 * 3, 5);
        round_trip(200, 200, &block.repeat(4));
    }

    #[test]
    fn compression_collapses_repetition() {
        // A fixed-Huffman block spends ~13 bits per maximal 258-byte match: about 1/160 of raw.
        let flat = encode_rgb8(512, 512, &vec![90; 512 * 512 * 3], "");
        assert!(flat.len() < 512 * 512 * 3 / 120, "{} bytes", flat.len());
        let noisy = encode_rgb8(64, 64, &noise(64 * 64 * 3, 3), "");
        assert!(noisy.len() > 64 * 64 * 3, "noise cannot compress");
    }

    #[test]
    fn corrupted_image_data_is_caught_by_the_checksums() {
        let mut png = encode_rgb8(16, 16, &noise(16 * 16 * 3, 11), "");
        let last_idat_byte = png.len() - 12 - 4 - 1; // before IDAT's CRC and the IEND chunk
        png[last_idat_byte] ^= 1;
        let mut decoder = ::png::Decoder::new(std::io::Cursor::new(&png[..]));
        decoder.ignore_checksums(false);
        let failed = decoder.read_info().and_then(|mut r| {
            let mut buf = vec![0; r.output_buffer_size().unwrap_or(0)];
            r.next_frame(&mut buf).map(|_| ())
        });
        assert!(failed.is_err(), "a flipped bit went unnoticed");
    }
}
