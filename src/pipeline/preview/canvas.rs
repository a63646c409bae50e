//! Pixel drawing for the preview picture: an RGB canvas, alpha blending, shapes and a 5x7 bitmap font.
//!
//! Integer blending and basic IEEE float ops only (+ - * / sqrt), so the same calls give the
//! same pixels natively and on wasm32.

pub type Rgb = [u8; 3];

/// Width in pixels of `chars` glyphs drawn at `scale` (5 columns plus a 1-column gap each,
/// without the trailing gap).
pub fn text_width(chars: usize, scale: i32) -> i32 {
    (chars as i32 * 6 - 1) * scale
}

/// Height in pixels of one line of glyphs at `scale`.
pub fn text_height(scale: i32) -> i32 {
    7 * scale
}

/// An RGB8 picture, row-major, 3 bytes per pixel.
pub struct Canvas {
    width: i32,
    height: i32,
    rgb: Vec<u8>,
}

impl Canvas {
    /// A diagonal gradient from `top` (top-left) to `bottom` (bottom-right). Integer lerp so
    /// every platform rounds identically.
    pub fn gradient(width: u32, height: u32, top: Rgb, bottom: Rgb) -> Canvas {
        let (w, h) = (width as usize, height as usize);
        let span = (w + h - 2).max(1);
        let mut rgb = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let t = ((x + y) * 256 / span) as u32;
                let mix = |(&a, &b): (&u8, &u8)| ((u32::from(a) * (256 - t) + u32::from(b) * t) >> 8) as u8;
                rgb.extend(top.iter().zip(&bottom).map(mix));
            }
        }
        Canvas {
            width: width as i32,
            height: height as i32,
            rgb,
        }
    }

    pub fn width(&self) -> i32 {
        self.width
    }

    pub fn height(&self) -> i32 {
        self.height
    }

    pub fn into_rgb(self) -> Vec<u8> {
        self.rgb
    }

    /// Blends `c` over pixel (x, y) with weight a/256; off-canvas pixels are ignored so
    /// shapes may overhang the edges without any caller-side clipping.
    pub fn blend(&mut self, x: i32, y: i32, c: Rgb, a: u32) {
        if !(0..self.width).contains(&x) || !(0..self.height).contains(&y) {
            return;
        }
        let (i, a) = ((y as usize * self.width as usize + x as usize) * 3, a.min(256));
        for (p, &c) in self.rgb[i..i + 3].iter_mut().zip(&c) {
            *p = ((u32::from(*p) * (256 - a) + u32::from(c) * a + 128) >> 8) as u8;
        }
    }

    /// Blends `c` over the half-open box [x0, x1) × [y0, y1).
    pub fn rect(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, c: Rgb, a: u32) {
        for y in y0.max(0)..y1.min(self.height) {
            for x in x0.max(0)..x1.min(self.width) {
                self.blend(x, y, c, a);
            }
        }
    }

    /// Calls `coverage(x, y)` (0..=1) on every pixel centre of a box [x0, y0, x1, y1] and
    /// blends `c` by coverage × `a`.
    pub fn shade(&mut self, bx: [f32; 4], c: Rgb, a: f32, coverage: impl Fn(f32, f32) -> f32) {
        let clip = |v: f32, max: i32| (v.max(0.0) as i32).min(max);
        for y in clip(bx[1], self.height)..clip(bx[3], self.height) {
            for x in clip(bx[0], self.width)..clip(bx[2], self.width) {
                let cov = coverage(x as f32 + 0.5, y as f32 + 0.5).clamp(0.0, 1.0);
                self.blend(x, y, c, (cov * a * 256.0) as u32);
            }
        }
    }

    /// Draws `s` with its top-left corner at (x, y), each font pixel a `scale`-sized square.
    pub fn text(&mut self, x: i32, y: i32, s: &[u8], scale: i32, c: Rgb) {
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

#[cfg(test)]
mod tests {
    use super::*;

    const RED: Rgb = [200, 0, 0];

    fn pixel(cv: &Canvas, x: i32, y: i32) -> Rgb {
        let i = (y * cv.width() + x) as usize * 3;
        let rgb = &cv.rgb[i..i + 3];
        [rgb[0], rgb[1], rgb[2]]
    }

    #[test]
    fn gradient_runs_from_top_left_colour_to_bottom_right_colour() {
        let cv = Canvas::gradient(7, 3, [0, 0, 0], [255, 255, 255]);
        assert_eq!(cv.rgb.len(), 7 * 3 * 3);
        assert_eq!(pixel(&cv, 0, 0), [0, 0, 0]);
        assert_eq!(pixel(&cv, 6, 2), [255, 255, 255]);
        assert!(pixel(&cv, 3, 1)[0] > 100 && pixel(&cv, 3, 1)[0] < 155);
    }

    #[test]
    fn blending_is_clipped_to_the_canvas_and_weighted() {
        let mut cv = Canvas::gradient(4, 4, [0, 0, 0], [0, 0, 0]);
        cv.rect(-10, -10, 2, 100, RED, 256); // overhangs three edges
        cv.blend(99, 0, RED, 256);
        cv.blend(3, 3, [255, 255, 255], 128);
        assert_eq!(pixel(&cv, 1, 3), RED);
        assert_eq!(pixel(&cv, 2, 0), [0, 0, 0]);
        assert_eq!(pixel(&cv, 3, 3), [128, 128, 128]);
    }

    #[test]
    fn text_draws_the_glyph_bitmap_at_scale() {
        let mut cv = Canvas::gradient(20, 20, [0, 0, 0], [0, 0, 0]);
        cv.text(1, 1, b"I", 2, RED);
        // 'I' is a vertical bar in column 2 with serifs in columns 1 and 3 on the top and bottom rows.
        let lit = |x: i32, y: i32| pixel(&cv, x, y) == RED;
        assert!(lit(1 + 4, 1) && lit(1 + 5, 1 + 13) && lit(1 + 2, 1) && lit(1 + 7, 1 + 12));
        assert!(!lit(1, 1) && !lit(1 + 2, 1 + 6) && !lit(1 + 4, 1 + 14));
        assert_eq!(text_width(1, 2), 10);
        assert_eq!(text_height(2), 14);
        let lit_count = cv.rgb.chunks(3).filter(|p| *p == RED).count();
        assert_eq!(lit_count, (7 + 2 + 2) * 4); // bar plus four serif dots, 2x2 each
        assert_eq!(glyph(b'a'), glyph(b'A'));
        assert_eq!(glyph(0xFF), glyph(b'?'));
        assert_ne!(glyph(b'~'), glyph(b'?'));
    }
}
