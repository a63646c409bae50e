//! Offline preview backend: draws a deterministic PNG from the prompt (no model involved).
//!
//! Used when the server runs locally without Workers AI. The picture must be obviously a
//! placeholder (a banner says so, and a PNG `tEXt` comment repeats it) while still looking
//! different per prompt, so flows that show or store images can be tried end to end.
//! Only `std` and integer / basic IEEE float ops (+ - * / sqrt) are used, so the same input
//! gives the same bytes natively and on wasm32.

/// Width and height of preview images in pixels.
pub const PREVIEW_SIZE: u32 = 512;

const N: usize = PREVIEW_SIZE as usize;
const S: i32 = PREVIEW_SIZE as i32;
const WHITE: [u8; 3] = [255, 255, 255];
const BANNER: &[u8] = b"OFFLINE PREVIEW - NOT AI GENERATED";
const PANEL_X: i32 = 16; // panel margin; text starts PAD further in
const PAD: i32 = 14;
const INNER_W: i32 = S - 2 * (PANEL_X + PAD);

/// Renders the offline preview picture for `prompt` (the model name is drawn too) as PNG bytes.
/// Same prompt and model → byte-identical output.
pub fn render_preview_png(prompt: &str, model: &str) -> Vec<u8> {
    encode_png(&render_pixels(prompt, model))
}

/// 5x7 glyphs, one byte per column, bit 0 = top row. Covers ASCII 32..=95, then ` { | } ~;
/// lower case is drawn as upper case and anything else as '?'.
#[rustfmt::skip]
const FONT: [[u8; 5]; 69] = [
    [0, 0, 0, 0, 0], [0, 0, 0x5F, 0, 0], [0, 7, 0, 7, 0], [0x14, 0x7F, 0x14, 0x7F, 0x14],
    [0x24, 0x2A, 0x7F, 0x2A, 0x12], [0x23, 0x13, 0x08, 0x64, 0x62], [0x36, 0x49, 0x56, 0x20, 0x50], [0, 0, 7, 0, 0],
    [0, 0x1C, 0x22, 0x41, 0], [0, 0x41, 0x22, 0x1C, 0], [0x2A, 0x1C, 0x7F, 0x1C, 0x2A], [8, 8, 0x3E, 8, 8],
    [0, 0x50, 0x30, 0, 0], [8, 8, 8, 8, 8], [0, 0x60, 0x60, 0, 0], [0x20, 0x10, 8, 4, 2],
    [0x3E, 0x51, 0x49, 0x45, 0x3E], [0, 0x42, 0x7F, 0x40, 0], [0x42, 0x61, 0x51, 0x49, 0x46], [0x21, 0x41, 0x45, 0x4B, 0x31],
    [0x18, 0x14, 0x12, 0x7F, 0x10], [0x27, 0x45, 0x45, 0x45, 0x39], [0x3C, 0x4A, 0x49, 0x49, 0x30], [1, 0x71, 9, 5, 3],
    [0x36, 0x49, 0x49, 0x49, 0x36], [6, 0x49, 0x49, 0x29, 0x1E], [0, 0x36, 0x36, 0, 0], [0, 0x56, 0x36, 0, 0],
    [8, 0x14, 0x22, 0x41, 0], [0x14, 0x14, 0x14, 0x14, 0x14], [0, 0x41, 0x22, 0x14, 8], [2, 1, 0x51, 9, 6],
    [0x32, 0x49, 0x79, 0x41, 0x3E], [0x7E, 0x11, 0x11, 0x11, 0x7E], [0x7F, 0x49, 0x49, 0x49, 0x36], [0x3E, 0x41, 0x41, 0x41, 0x22],
    [0x7F, 0x41, 0x41, 0x22, 0x1C], [0x7F, 0x49, 0x49, 0x49, 0x41], [0x7F, 9, 9, 9, 1], [0x3E, 0x41, 0x49, 0x49, 0x7A],
    [0x7F, 8, 8, 8, 0x7F], [0, 0x41, 0x7F, 0x41, 0], [0x20, 0x40, 0x41, 0x3F, 1], [0x7F, 8, 0x14, 0x22, 0x41],
    [0x7F, 0x40, 0x40, 0x40, 0x40], [0x7F, 2, 0x0C, 2, 0x7F], [0x7F, 4, 8, 0x10, 0x7F], [0x3E, 0x41, 0x41, 0x41, 0x3E],
    [0x7F, 9, 9, 9, 6], [0x3E, 0x41, 0x51, 0x21, 0x5E], [0x7F, 9, 0x19, 0x29, 0x46], [0x46, 0x49, 0x49, 0x49, 0x31],
    [1, 1, 0x7F, 1, 1], [0x3F, 0x40, 0x40, 0x40, 0x3F], [0x1F, 0x20, 0x40, 0x20, 0x1F], [0x3F, 0x40, 0x38, 0x40, 0x3F],
    [0x63, 0x14, 8, 0x14, 0x63], [7, 8, 0x70, 8, 7], [0x61, 0x51, 0x49, 0x45, 0x43], [0, 0x7F, 0x41, 0x41, 0],
    [2, 4, 8, 0x10, 0x20], [0, 0x41, 0x41, 0x7F, 0], [4, 2, 1, 2, 4], [0x40, 0x40, 0x40, 0x40, 0x40],
    [0, 1, 2, 4, 0], [0, 8, 0x36, 0x41, 0], [0, 0, 0x7F, 0, 0], [0, 0x41, 0x36, 8, 0], [8, 4, 8, 0x10, 8],
];

fn glyph(c: u8) -> &'static [u8; 5] {
    let i = match c.to_ascii_uppercase() {
        c @ b' '..=b'_' => c - b' ',
        b'`' => 64,
        c @ b'{'..=b'~' => c - b'{' + 65,
        _ => b'?' - b' ',
    };
    &FONT[usize::from(i)]
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64: spreads the single prompt hash into many independent-looking parameters.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let z = (self.0 ^ (self.0 >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform-enough value in `lo..hi` as f32 (hi > lo).
    fn range(&mut self, lo: u32, hi: u32) -> f32 {
        (lo + (self.next() % u64::from(hi - lo)) as u32) as f32
    }
}

/// HSV → RGB (the piecewise-linear form; no trig or pow, whose results differ between libms).
fn hsv(h: f32, s: f32, v: f32) -> [u8; 3] {
    [5.0, 3.0, 1.0].map(|n: f32| {
        let k = (n + h / 60.0) % 6.0;
        ((v - v * s * k.min(4.0 - k).clamp(0.0, 1.0)) * 255.0 + 0.5) as u8
    })
}

struct Canvas(Vec<u8>);
impl Canvas {
    /// Blends `c` over pixel (x, y) with weight a/256; off-canvas pixels are ignored so
    /// shapes may overhang the edges without any caller-side clipping.
    fn blend(&mut self, x: i32, y: i32, c: [u8; 3], a: u32) {
        if !(0..S).contains(&x) || !(0..S).contains(&y) {
            return;
        }
        let (i, a) = ((y as usize * N + x as usize) * 3, a.min(256));
        for (p, &c) in self.0[i..i + 3].iter_mut().zip(&c) {
            *p = ((u32::from(*p) * (256 - a) + u32::from(c) * a + 128) >> 8) as u8;
        }
    }
    fn rect(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, c: [u8; 3], a: u32) {
        for y in y0.max(0)..y1.min(S) {
            for x in x0.max(0)..x1.min(S) {
                self.blend(x, y, c, a);
            }
        }
    }
    /// Calls `coverage(x, y)` (0..=1) on every pixel of a box and blends by it.
    fn shade(&mut self, bx: [f32; 4], c: [u8; 3], a: f32, coverage: impl Fn(f32, f32) -> f32) {
        let clip = |v: f32| (v.max(0.0) as i32).min(S);
        for y in clip(bx[1])..clip(bx[3]) {
            for x in clip(bx[0])..clip(bx[2]) {
                let cov = coverage(x as f32 + 0.5, y as f32 + 0.5).clamp(0.0, 1.0);
                self.blend(x, y, c, (cov * a * 256.0) as u32);
            }
        }
    }
    fn text(&mut self, x: i32, y: i32, s: &[u8], scale: i32, c: [u8; 3]) {
        for (n, &ch) in s.iter().enumerate() {
            let gx = x + n as i32 * 6 * scale;
            for (col, bits) in (0..).zip(glyph(ch)) {
                for row in (0..7).filter(|r| bits >> r & 1 == 1) {
                    let (px, py) = (gx + col * scale, y + row * scale);
                    self.rect(px, py, px + scale, py + scale, c, 256);
                }
            }
        }
    }
}

/// Upper-cases, maps non-ASCII to '?', collapses whitespace; stops after `limit` visible
/// characters (returning `true`) so a megabyte prompt costs no more than a short one.
/// An input with no visible text becomes `empty` so the panel never looks broken.
fn normalize(s: &str, limit: usize, empty: &[u8]) -> (Vec<u8>, bool) {
    let mut out: Vec<u8> = Vec::new();
    for ch in s.chars() {
        let c = match ch {
            c if c.is_whitespace() || c.is_control() => b' ',
            c if c.is_ascii() => c.to_ascii_uppercase() as u8,
            _ => b'?',
        };
        if c == b' ' && out.last().is_none_or(|&l| l == b' ') {
            continue;
        }
        if c != b' ' && out.len() >= limit {
            return (out, true);
        }
        out.push(c);
    }
    if out.is_empty() {
        out = empty.to_vec();
    }
    (out, false)
}

/// Word-wraps into at most `max_lines` lines of `cols` chars, hard-splitting over-long
/// words; if anything is left over (or `cut` is already set) the last line ends in "..."
/// and the returned flag is set.
fn wrap(text: &[u8], cols: usize, max_lines: usize, mut cut: bool) -> (Vec<Vec<u8>>, bool) {
    let (mut lines, mut cur) = (Vec::new(), Vec::new());
    'words: for mut word in text.split(|&c| c == b' ').filter(|w| !w.is_empty()) {
        loop {
            let sep = usize::from(!cur.is_empty());
            if cur.len() + sep + word.len() <= cols {
                cur.extend_from_slice(&b" "[..sep]);
                cur.extend_from_slice(word);
                break;
            }
            if cur.is_empty() {
                let (head, rest) = word.split_at(cols);
                cur.extend_from_slice(head);
                word = rest;
            }
            if lines.len() + 1 >= max_lines {
                cut = true;
                break 'words;
            }
            lines.push(std::mem::take(&mut cur));
        }
    }
    lines.push(cur);
    if let Some(last) = lines.last_mut().filter(|_| cut) {
        ellipsize(last, cols);
    }
    (lines, cut)
}

/// Ends `line` in "..." while keeping it within `cols` chars.
fn ellipsize(line: &mut Vec<u8>, cols: usize) {
    line.truncate(cols.saturating_sub(3));
    while line.last() == Some(&b' ') {
        line.pop();
    }
    line.extend_from_slice(b"...");
}

/// Picks the largest text scale (3, else 2) at which the prompt fits the panel.
fn layout_prompt(prompt: &str) -> (i32, Vec<Vec<u8>>) {
    let lay = |scale: i32, max_lines: usize| {
        let cols = ((INNER_W + scale) / (6 * scale)) as usize;
        let (text, cut) = normalize(prompt, cols * max_lines, b"(EMPTY PROMPT)");
        wrap(&text, cols, max_lines, cut)
    };
    match lay(3, 4) {
        (lines, false) => (3, lines),
        _ => (2, lay(2, 7).0),
    }
}

fn render_pixels(prompt: &str, model: &str) -> Vec<u8> {
    let mut rng = Rng(fnv1a64(prompt.as_bytes()));
    let hue = rng.range(0, 360);
    let top = hsv(hue, 0.45 + rng.range(0, 25) / 100.0, 0.95);
    let bottom = hsv(hue + rng.range(60, 180), 0.65, 0.45 + rng.range(0, 20) / 100.0);
    // Diagonal gradient: integer lerp so every platform rounds identically.
    let mut px = Vec::with_capacity(N * N * 3);
    for (y, x) in (0..N).flat_map(|y| (0..N).map(move |x| (y, x))) {
        let t = ((x + y) * 256 / (2 * N - 2)) as u32;
        let mix = |(&a, &b): (&u8, &u8)| ((u32::from(a) * (256 - t) + u32::from(b) * t) >> 8) as u8;
        px.extend(top.iter().zip(&bottom).map(mix));
    }
    let mut cv = Canvas(px);
    for _ in 0..2 {
        let (dx, dy) = (rng.range(0, 200) - 100.0, rng.range(0, 200) - 100.0);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (off, half) = (rng.range(0, 400) - 200.0, rng.range(10, 40));
        let colour = hsv(hue + rng.range(0, 360), 0.3, 1.0);
        cv.shade([0.0, 0.0, N as f32, N as f32], colour, 0.22, |x, y| {
            half + 0.5 - (((x - 256.0) * dx + (y - 256.0) * dy) / len - off).abs()
        });
    }
    for _ in 0..5 {
        let (cx, cy, r) = (rng.range(0, 512), rng.range(40, 400), rng.range(30, 130));
        let hue = hue + [0.0, 35.0, 180.0, 215.0][(rng.next() % 4) as usize];
        let (colour, alpha) = (hsv(hue, 0.6, 0.95), rng.range(35, 65) / 100.0);
        let bx = [cx - r - 1.0, cy - r - 1.0, cx + r + 2.0, cy + r + 2.0];
        cv.shade(bx, colour, alpha, |x, y| {
            let d = ((x - cx) * (x - cx) + (y - cy) * (y - cy)).sqrt();
            (r + 0.5 - d).clamp(0.0, 1.0) * (1.0 - 0.5 * d / r) // AA edge × soft glow
        });
    }
    // Banner plus hazard stripe: the "this is not a model output" signal must dominate.
    cv.rect(0, 0, S, 38, [150, 20, 35], 235);
    cv.text((S - (BANNER.len() as i32 * 12 - 2)) / 2, 12, BANNER, 2, WHITE);
    for (y, x) in (38..44).flat_map(|y| (0..S).map(move |x| (y, x))) {
        cv.blend(x, y, [[250, 200, 40], [25, 25, 25]][((x + y) / 10 % 2) as usize], 256);
    }
    // A model id is one long token whose distinctive part is its end ("@cf/vendor/name"),
    // so an over-long one keeps its tail behind a leading "...".
    let (mut model_text, cut) = normalize(model, 128, b"(NONE)");
    let room = ((INNER_W + 2) / 12) as usize - b"MODEL: ".len();
    if cut || model_text.len() > room {
        model_text = [&b"..."[..], &model_text[model_text.len() - (room - 3)..]].concat();
    }
    let model_line = [&b"MODEL: "[..], &model_text].concat();
    let (scale, lines) = layout_prompt(prompt);
    let line_h = 9 * scale;
    let y0 = S - PANEL_X - (2 * PAD + 26 + line_h * lines.len() as i32 - 2 * scale);
    cv.rect(PANEL_X, y0, S - PANEL_X, S - PANEL_X, [10, 12, 20], 170);
    cv.text(PANEL_X + PAD, y0 + PAD, &model_line, 2, [255, 214, 120]);
    for (i, line) in (0..).zip(&lines) {
        cv.text(PANEL_X + PAD, y0 + PAD + 26 + i * line_h, line, scale, WHITE);
    }
    cv.0
}

// ---------------------------------------------------------------- PNG encoding

const CRC_TABLE: [u32; 256] = {
    let (mut t, mut n) = ([0u32; 256], 0);
    while n < 256 {
        let (mut c, mut k) = (n as u32, 0);
        while k < 8 {
            c = (c >> 1) ^ (0xEDB8_8320 & (c & 1).wrapping_neg());
            k += 1;
        }
        t[n] = c;
        n += 1;
    }
    t
};

fn crc32(parts: &[&[u8]]) -> u32 {
    let step = |c: u32, &b: &u8| CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    !parts.iter().flat_map(|p| p.iter()).fold(!0, step)
}

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

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

fn encode_png(rgb: &[u8]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let size = PREVIEW_SIZE.to_be_bytes();
    chunk(&mut out, b"IHDR", &[&size[..], &size, &[8, 2, 0, 0, 0]].concat()); // 8-bit RGB
    chunk(&mut out, b"tEXt", b"Comment\0Offline preview - not AI generated");
    let filtered = filter_rows(rgb, N * 3);
    let mut z = vec![0x78, 0x01]; // zlib header: deflate, 32 KiB window, valid check bits
    z.extend(deflate_fixed(&filtered));
    z.extend_from_slice(&adler32(&filtered).to_be_bytes());
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// PNG predictor `ty` from left `a`, up `b`, up-left `c` (shared with the test decoder).
fn predict(ty: u8, a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let (pa, pb, pc) = ((ib - ic).abs(), (ia - ic).abs(), (ia + ib - 2 * ic).abs());
    match ty {
        1 => a,
        2 => b,
        3 => ((ia + ib) / 2) as u8,
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
mod tests {
    use super::*;
    use std::sync::OnceLock;

    const FOX: (&str, &str) = ("A red fox in the snow, watercolour", "@cf/flux-1-schnell");

    /// Rendering takes ~1 s in debug builds, so tests share one sample where they can.
    fn fox() -> &'static [u8] {
        static PNG: OnceLock<Vec<u8>> = OnceLock::new();
        PNG.get_or_init(|| render_preview_png(FOX.0, FOX.1))
    }

    fn be32(b: &[u8]) -> usize {
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
    }

    /// Splits a PNG into (type, data) chunks, checking signature, lengths and every CRC.
    fn chunks(png: &[u8]) -> Vec<(&[u8], &[u8])> {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (mut out, mut p) = (Vec::new(), 8);
        while p < png.len() {
            let len = be32(&png[p..]);
            let (kind, data) = (&png[p + 4..p + 8], &png[p + 8..p + 8 + len]);
            assert_eq!(be32(&png[p + 8 + len..]), crc32(&[kind, data]) as usize);
            out.push((kind, data));
            p += 12 + len;
        }
        out
    }

    /// LSB-first bit reader over a DEFLATE stream.
    struct Bits<'a>(&'a [u8], usize);
    impl Bits<'_> {
        fn bit(&mut self) -> u32 {
            self.1 += 1;
            u32::from(self.0[(self.1 - 1) / 8] >> ((self.1 - 1) % 8) & 1)
        }
        fn lsb(&mut self, n: u32) -> usize {
            (0..n).fold(0, |v, k| v | (self.bit() as usize) << k)
        }
        fn msb(&mut self, n: u32) -> u32 {
            (0..n).fold(0, |v, _| v << 1 | self.bit())
        }
    }

    /// Minimal inflater for the fixed-Huffman blocks we emit, decoding codes by their ranges
    /// in RFC 1951 §3.2.6 rather than reusing the encoder's `sym`.
    fn inflate(d: &[u8]) -> Vec<u8> {
        let (mut r, mut out) = (Bits(d, 0), Vec::<u8>::new());
        assert_eq!(r.lsb(3), 0b011, "single final fixed-Huffman block");
        loop {
            let sym = match r.msb(7) {
                c @ 0..=23 => c + 256,
                c => match c << 1 | r.bit() {
                    c @ 0x30..=0xBF => c - 0x30,
                    c @ 0xC0..=0xC7 => c - 0xC0 + 280,
                    c => (c << 1 | r.bit()) - 0x190 + 144,
                },
            };
            match sym {
                0..=255 => out.push(sym as u8),
                256 => return out,
                _ => {
                    let li = sym as usize - 257;
                    let len = usize::from(LEN_BASE[li]) + r.lsb(len_extra(li));
                    let di = r.msb(5) as usize;
                    let dist = usize::from(DIST_BASE[di]) + r.lsb(dist_extra(di));
                    for _ in 0..len {
                        out.push(out[out.len() - dist]);
                    }
                }
            }
        }
    }

    /// Full decode of our own PNG back to RGB: zlib checks, inflate, undo row filters.
    fn decode(png: &[u8]) -> Vec<u8> {
        let idat = chunks(png).into_iter().find(|c| c.0 == b"IDAT").unwrap().1;
        assert_eq!(idat[..2], [0x78, 0x01]);
        let raw = inflate(&idat[2..]);
        assert_eq!(adler32(&raw), be32(&idat[idat.len() - 4..]) as u32);
        let stride = N * 3;
        assert_eq!(raw.len(), N * (stride + 1));
        let mut rgb = vec![0u8; stride]; // a zero row above the image, dropped at the end
        for row in raw.chunks_exact(stride + 1) {
            let base = rgb.len() - stride;
            for i in 0..stride {
                let left = |k: usize| i.checked_sub(3).map_or(0, |j| rgb[k + j]);
                let (a, b, c) = (left(base + stride), rgb[base + i], left(base));
                rgb.push(row[i + 1].wrapping_add(predict(row[0], a, b, c)));
            }
        }
        rgb.split_off(stride)
    }

    #[test]
    fn png_has_signature_valid_crcs_and_512x512_rgb8_header() {
        let c = chunks(fox());
        assert_eq!(c[0], (&b"IHDR"[..], &[0, 0, 2, 0, 0, 0, 2, 0, 8, 2, 0, 0, 0][..]));
        assert_eq!(c.last().unwrap(), &(&b"IEND"[..], &[][..]));
    }

    #[test]
    fn same_input_gives_identical_bytes_and_different_inputs_differ() {
        assert_eq!(fox(), render_preview_png(FOX.0, FOX.1));
        assert_ne!(fox(), render_preview_png("A red fox in the snow, watercolor", FOX.1));
        assert_ne!(fox(), render_preview_png(FOX.0, "@cf/other-model"));
    }

    #[test]
    fn image_data_decodes_to_exactly_the_rendered_picture_which_is_not_flat() {
        let rgb = decode(fox());
        assert!(rgb == render_pixels(FOX.0, FOX.1));
        let mut colours: Vec<&[u8]> = rgb.chunks(3).collect();
        colours.sort();
        colours.dedup();
        assert!(colours.len() > 500, "only {} distinct colours", colours.len());
        let banner_text = &rgb[12 * N * 3..26 * N * 3];
        assert!(banner_text.chunks(3).any(|p| p == WHITE));
    }

    #[test]
    fn compression_makes_output_far_smaller_than_raw_pixels() {
        assert!(fox().len() < N * N * 3 / 5, "{} bytes", fox().len());
        assert!(deflate_fixed(&[0u8; 100_000]).len() < 1000);
        let text = b"abcabcabcabc hello hello hello, a tiny phrase with some repeats".repeat(9);
        assert_eq!(inflate(&deflate_fixed(&text)), text);
    }

    #[test]
    fn prompt_is_uppercased_wrapped_and_truncated_with_ellipsis() {
        let (t, cut) = normalize("  héllo  wörld \n\t🦊 ok", 100, b"-");
        assert_eq!((t.as_slice(), cut), (&b"H?LLO W?RLD ? OK"[..], false));
        assert_eq!(normalize(" \n ", 5, b"(EMPTY)"), (b"(EMPTY)".to_vec(), false));
        assert_eq!(normalize("abcdefg", 5, b"-"), (b"ABCDE".to_vec(), true));
        let lines = |v: &[&[u8]]| v.iter().map(|l| l.to_vec()).collect::<Vec<_>>();
        let ok = |v: &[&[u8]]| (lines(v), false);
        assert_eq!(wrap(b"AAA BBB CCC", 7, 3, false), ok(&[b"AAA BBB", b"CCC"]));
        assert_eq!(wrap(b"ABCDEFGHIJ", 4, 3, false), ok(&[b"ABCD", b"EFGH", b"IJ"]));
        let cut = (lines(&[b"AAA BBB", b"CCC..."]), true);
        assert_eq!(wrap(b"AAA BBB CCC DDD EEE", 7, 2, false), cut);
        assert_eq!(wrap(b"AAA", 7, 2, true), (lines(&[b"AAA..."]), true));
        let (scale, lines) = layout_prompt(&"word ".repeat(1000));
        assert_eq!((scale, lines.len()), (2, 7));
        assert!(lines[6].ends_with(b"..."));
        assert_eq!(layout_prompt("a cat").0, 3);
        assert_eq!(glyph(b'a'), glyph(b'A'));
        assert_eq!(glyph(0xFF), glyph(b'?'));
        assert_ne!(glyph(b'~'), glyph(b'?'));
    }

    #[test]
    fn edge_case_prompts_never_panic_and_still_decode() {
        let (long, words) = ("x".repeat(1_000_000), "ab ".repeat(300_000));
        let nasty = [
            "",
            " ",
            "\n\t\r",
            "🦊🦊🦊",
            "日本語のプロンプト",
            "\0\u{7f}\u{200b}",
            "...",
        ];
        // Text layout is the only input-dependent code path besides the hash, so exercise
        // it on every case and run the (slow in debug) full render + decode on a few.
        for p in nasty.into_iter().chain([long.as_str(), &words]) {
            let (scale, lines) = layout_prompt(p);
            let cols = ((INNER_W + scale) / (6 * scale)) as usize;
            assert!(lines.iter().all(|l| !l.is_empty() && l.len() <= cols), "{p:.20}");
        }
        for p in ["", "🦊🦊🦊", &long] {
            assert_eq!(decode(&render_preview_png(p, p)).len(), N * N * 3);
        }
    }
}
