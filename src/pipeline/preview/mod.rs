//! Offline preview backend: draws a deterministic PNG from the prompt (no model involved).
//!
//! Used when the server runs locally without Workers AI. The picture must be obviously a
//! placeholder (a banner says so, and a PNG `tEXt` comment repeats it) while still looking
//! different per prompt and seed, so flows that show or store images can be tried end to end.
//! Only `std` and integer / basic IEEE float ops (+ - * / sqrt) are used, so the same input
//! gives the same bytes natively and on wasm32.
//!
//! This file composes the scene; `canvas` draws, `text` fits the label, `png` encodes.

mod canvas;
mod png;
mod text;

use canvas::{text_height, text_width, Canvas, Rgb};
use text::{keep_tail, normalize, wrap};

use crate::catalog::PREVIEW_SIDE;

const WHITE: Rgb = [255, 255, 255];
const MODEL_COLOUR: Rgb = [255, 214, 120];
/// The banner text; narrow pictures get its first 15 chars ("OFFLINE PREVIEW") or just "PREVIEW".
const BANNER: &[u8] = b"OFFLINE PREVIEW - NOT AI GENERATED";
const PNG_COMMENT: &str = "Offline preview - not AI generated";
/// Prompt lines never exceed this, however tall the picture.
const MAX_PROMPT_LINES: i32 = 7;

/// A requested preview side outside `PREVIEW_SIDE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("preview {dimension} must be {} pixels, got {value}", PREVIEW_SIDE.range_text())]
pub struct SizeError {
    pub dimension: &'static str,
    pub value: u32,
}

/// Renders the offline preview picture for `prompt` (the model name is drawn too) as PNG bytes
/// of exactly `width` × `height` pixels. Same inputs → byte-identical output; another `seed`
/// gives another picture for the same prompt.
pub fn render_preview_png(prompt: &str, model: &str, width: u32, height: u32, seed: u64) -> Result<Vec<u8>, SizeError> {
    let check = |dimension, value: u32| match PREVIEW_SIDE.max {
        Some(max) if (PREVIEW_SIDE.min..=max).contains(&i64::from(value)) => Ok(()),
        _ => Err(SizeError { dimension, value }),
    };
    check("width", width)?;
    check("height", height)?;
    Ok(encode(prompt, model, width, height, seed))
}

/// The preview at the default size (`PREVIEW_SIDE.default` square) and seed 0 (tests' reference).
#[cfg(test)]
pub fn render_default_preview_png(prompt: &str, model: &str) -> Vec<u8> {
    let side = PREVIEW_SIDE.default as u32;
    encode(prompt, model, side, side, 0)
}

fn encode(prompt: &str, model: &str, width: u32, height: u32, seed: u64) -> Vec<u8> {
    let rgb = render_pixels(prompt, model, width, height, seed).into_rgb();
    png::encode_rgb8(width, height, &rgb, PNG_COMMENT)
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64: spreads the single prompt hash into many independent-looking parameters.
struct Rng(u64);
impl Rng {
    /// Seeded by prompt and seed. The seed goes through SplitMix's bijective finaliser (which
    /// maps 0 to 0) so nearby seeds start far apart rather than one step along the sequence.
    fn new(prompt: &str, seed: u64) -> Rng {
        Rng(fnv1a64(prompt.as_bytes()) ^ mix(seed))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    /// Uniform-enough value in `lo..hi` as f32 (hi > lo).
    fn range(&mut self, lo: u32, hi: u32) -> f32 {
        (lo + (self.next() % u64::from(hi - lo)) as u32) as f32
    }
}

fn mix(z: u64) -> u64 {
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// HSV → RGB (the piecewise-linear form; no trig or pow, whose results differ between libms).
fn hsv(h: f32, s: f32, v: f32) -> Rgb {
    [5.0, 3.0, 1.0].map(|n: f32| {
        let k = (n + h / 60.0) % 6.0;
        ((v - v * s * k.min(4.0 - k).clamp(0.0, 1.0)) * 255.0 + 0.5) as u8
    })
}

/// Where the label goes on a picture of a given size. Everything scales with `unit`
/// (1 up to 255 px on the short side, 2 at 512, 8 at 2048), so a 512 px picture keeps the
/// proportions the design was made at.
struct Layout {
    unit: i32,
    banner_h: i32,
    stripe_h: i32,
    banner: &'static [u8],
    panel: Option<Panel>,
}

/// The dark box at the bottom holding the model line and the wrapped prompt.
struct Panel {
    /// x0, y0, x1, y1 (half-open).
    rect: [i32; 4],
    text_x: i32,
    model_line: Vec<u8>,
    prompt_scale: i32,
    prompt: Vec<Vec<u8>>,
}

impl Panel {
    /// Top of the model line: one padding (7 units) into the panel.
    fn model_y(&self, unit: i32) -> i32 {
        self.rect[1] + 7 * unit
    }
    /// Top of prompt line `line`, below the model line (13 units) at 9 font pixels per line.
    fn prompt_y(&self, unit: i32, line: i32) -> i32 {
        self.model_y(unit) + 13 * unit + line * 9 * self.prompt_scale
    }
}

impl Layout {
    /// `width` and `height` are within `PREVIEW_SIDE` (at least 64), which keeps every column
    /// count below positive.
    fn new(width: i32, height: i32, prompt: &str, model: &str) -> Layout {
        let unit = (width.min(height) / 256).clamp(1, 8);
        let fits = |b: &[u8]| text_width(b.len(), unit) <= width - 2 * unit;
        let banner = match (fits(BANNER), fits(&BANNER[..15])) {
            (true, _) => BANNER,
            (_, true) => &BANNER[..15],
            _ => &BANNER[8..15],
        };
        Layout {
            unit,
            banner_h: 19 * unit,
            stripe_h: 3 * unit,
            banner,
            panel: Self::panel(width, height, unit, prompt, model),
        }
    }

    /// The panel, or `None` when not even one line of prompt fits (very small pictures).
    fn panel(width: i32, height: i32, unit: i32, prompt: &str, model: &str) -> Option<Panel> {
        let (margin, pad, model_h) = (8 * unit, 7 * unit, 13 * unit);
        let inner_w = width - 2 * (margin + pad);
        // The panel may fill the bottom 3/8 of the picture, margin included.
        let room = height * 3 / 8 - margin - 2 * pad - model_h;
        // Large text when the whole prompt fits that way, else small text.
        let mut chosen = None;
        for scale in [(3 * unit + 1) / 2, unit] {
            let cols = ((inner_w + scale) / (6 * scale)) as usize;
            let lines = ((room + 2 * scale) / (9 * scale)).min(MAX_PROMPT_LINES);
            if lines > 0 {
                let (text, cut) = normalize(prompt, cols * lines as usize, b"(EMPTY PROMPT)");
                let (wrapped, cut) = wrap(&text, cols, lines as usize, cut);
                chosen = Some((scale, wrapped));
                if !cut {
                    break;
                }
            }
        }
        let (prompt_scale, lines) = chosen?;
        // A model id is one long token whose distinctive part is its end ("@cf/vendor/name"),
        // so an over-long one keeps its tail. At most 64 columns, so a cut id always shows "...".
        let cols = ((inner_w + unit) / (6 * unit)).min(64) as usize;
        let label: &[u8] = if cols >= 15 { b"MODEL: " } else { b"" };
        let model_text = normalize(model, 256, b"(NONE)").0;
        let model_line = [label, &keep_tail(&model_text, cols - label.len())].concat();
        let panel_h = 2 * pad + model_h + 9 * prompt_scale * (lines.len() as i32 - 1) + text_height(prompt_scale);
        let y0 = height - margin - panel_h;
        Some(Panel {
            rect: [margin, y0, width - margin, height - margin],
            text_x: margin + pad,
            model_line,
            prompt_scale,
            prompt: lines,
        })
    }
}

fn render_pixels(prompt: &str, model: &str, width: u32, height: u32, seed: u64) -> Canvas {
    let mut rng = Rng::new(prompt, seed);
    let hue = rng.range(0, 360);
    let top = hsv(hue, 0.45 + rng.range(0, 25) / 100.0, 0.95);
    let bottom = hsv(hue + rng.range(60, 180), 0.65, 0.45 + rng.range(0, 20) / 100.0);
    let mut cv = Canvas::gradient(width, height, top, bottom);
    let (w, h) = (width as f32, height as f32);
    // Shapes were designed on 512 px: positions scale with each side, sizes with the mean side.
    let k = (w * h).sqrt() / 512.0;
    for _ in 0..2 {
        let (dx, dy) = (rng.range(0, 200) - 100.0, rng.range(0, 200) - 100.0);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (off, half) = ((rng.range(0, 400) - 200.0) * k, rng.range(10, 40) * k);
        let colour = hsv(hue + rng.range(0, 360), 0.3, 1.0);
        cv.shade([0.0, 0.0, w, h], colour, 0.22, |x, y| {
            half + 0.5 - (((x - w / 2.0) * dx + (y - h / 2.0) * dy) / len - off).abs()
        });
    }
    for _ in 0..5 {
        let (cx, cy) = (rng.range(0, 512) * w / 512.0, rng.range(40, 400) * h / 512.0);
        let r = rng.range(30, 130) * k;
        let hue = hue + [0.0, 35.0, 180.0, 215.0][(rng.next() % 4) as usize];
        let (colour, alpha) = (hsv(hue, 0.6, 0.95), rng.range(35, 65) / 100.0);
        let bx = [cx - r - 1.0, cy - r - 1.0, cx + r + 2.0, cy + r + 2.0];
        cv.shade(bx, colour, alpha, |x, y| {
            let d = ((x - cx) * (x - cx) + (y - cy) * (y - cy)).sqrt();
            (r + 0.5 - d).clamp(0.0, 1.0) * (1.0 - 0.5 * d / r) // AA edge × soft glow
        });
    }
    let (w, h) = (cv.width(), cv.height());
    let layout = Layout::new(w, h, prompt, model);
    let u = layout.unit;
    // Banner plus hazard stripe: the "this is not a model output" signal must dominate.
    cv.rect(0, 0, w, layout.banner_h, [150, 20, 35], 235);
    let banner_x = (w - text_width(layout.banner.len(), u)) / 2;
    cv.text(banner_x, 6 * u, layout.banner, u, WHITE);
    for y in layout.banner_h..layout.banner_h + layout.stripe_h {
        for x in 0..w {
            cv.blend(
                x,
                y,
                [[250, 200, 40], [25, 25, 25]][((x + y) / (5 * u) % 2) as usize],
                256,
            );
        }
    }
    if let Some(panel) = &layout.panel {
        let [x0, y0, x1, y1] = panel.rect;
        cv.rect(x0, y0, x1, y1, [10, 12, 20], 170);
        cv.text(panel.text_x, panel.model_y(u), &panel.model_line, u, MODEL_COLOUR);
        for (i, line) in (0..).zip(&panel.prompt) {
            cv.text(panel.text_x, panel.prompt_y(u, i), line, panel.prompt_scale, WHITE);
        }
    }
    cv
}

#[cfg(test)]
mod tests {
    use super::png::tests::{decode, Decoded};
    use super::*;
    use std::sync::OnceLock;

    const FOX: (&str, &str) = ("A red fox in the snow, watercolour", "@cf/flux-1-schnell");

    /// Rendering takes ~1 s in debug builds, so tests share one sample where they can.
    fn fox() -> &'static [u8] {
        static PNG: OnceLock<Vec<u8>> = OnceLock::new();
        PNG.get_or_init(|| render_default_preview_png(FOX.0, FOX.1))
    }

    fn fox_seed(seed: u64) -> Vec<u8> {
        render_preview_png(FOX.0, FOX.1, 320, 240, seed).unwrap()
    }

    fn rows(d: &Decoded, y0: i32, y1: i32) -> &[u8] {
        let stride = d.width as usize * 3;
        &d.pixels[y0 as usize * stride..y1 as usize * stride]
    }

    fn count(pixels: &[u8], colour: Rgb) -> usize {
        pixels.chunks(3).filter(|p| *p == colour).count()
    }

    fn distinct_colours(pixels: &[u8]) -> usize {
        let mut colours: Vec<&[u8]> = pixels.chunks(3).collect();
        colours.sort();
        colours.dedup();
        colours.len()
    }

    #[test]
    fn default_preview_is_a_512x512_rgb8_png_marked_as_a_preview() {
        let d = decode(fox());
        assert_eq!((d.width, d.height), (512, 512));
        assert_eq!(d.colour, (::png::ColorType::Rgb, ::png::BitDepth::Eight));
        assert_eq!(d.text, [("Comment".to_string(), PNG_COMMENT.to_string())]);
        assert!(d.pixels == render_pixels(FOX.0, FOX.1, 512, 512, 0).into_rgb());
        assert!(
            fox().len() < 512 * 512 * 3 / 5,
            "{} bytes: compression is not working",
            fox().len()
        );
    }

    #[test]
    fn the_picture_varies_and_its_labels_stand_out_from_the_background() {
        let d = decode(fox());
        let layout = Layout::new(512, 512, FOX.0, FOX.1);
        let colours = distinct_colours(&d.pixels);
        assert!(colours > 500, "only {colours} distinct colours: not a picture");
        // The banner's text rows hold white glyph pixels; the banner rows above the text hold
        // none, so the white comes from the text and not from the background.
        let u = layout.unit;
        assert!(count(rows(&d, 6 * u, 6 * u + text_height(u)), WHITE) > 500);
        assert_eq!(count(rows(&d, 0, 6 * u), WHITE), 0);
        // Same for the panel: the model line in its own colour, the prompt in white.
        let panel = layout.panel.as_ref().unwrap();
        let model_y = panel.model_y(u);
        assert!(count(rows(&d, model_y, model_y + text_height(u)), MODEL_COLOUR) > 200);
        assert_eq!(count(rows(&d, panel.rect[1], model_y), MODEL_COLOUR), 0);
        let prompt_rows = rows(&d, panel.prompt_y(u, 0), panel.prompt_y(u, panel.prompt.len() as i32));
        assert!(count(prompt_rows, WHITE) > 500);
        assert_eq!(count(rows(&d, panel.rect[3], 512), WHITE), 0);
        assert_eq!(
            panel.prompt,
            [b"A RED FOX IN THE SNOW,".to_vec(), b"WATERCOLOUR".to_vec()]
        );
        assert_eq!(panel.model_line, b"MODEL: @CF/FLUX-1-SCHNELL");
    }

    #[test]
    fn same_inputs_give_identical_bytes_and_every_input_changes_them() {
        assert_eq!(fox(), render_default_preview_png(FOX.0, FOX.1));
        assert_eq!(fox(), render_preview_png(FOX.0, FOX.1, 512, 512, 0).unwrap());
        assert_ne!(
            fox(),
            render_default_preview_png("A red fox in the snow, watercolor", FOX.1)
        );
        assert_ne!(fox(), render_default_preview_png(FOX.0, "@cf/other-model"));
        assert_eq!(fox_seed(7), fox_seed(7));
    }

    #[test]
    fn another_seed_draws_another_picture() {
        let pictures: Vec<Vec<u8>> = [1, 2, u64::MAX].map(|s| decode(&fox_seed(s)).pixels).into();
        // Compare the background above the panel, where only the seed-driven scene is drawn.
        let layout = Layout::new(320, 240, FOX.0, FOX.1);
        let scene =
            (layout.banner_h + layout.stripe_h) as usize * 320 * 3..layout.panel.unwrap().rect[1] as usize * 320 * 3;
        for (a, b) in [(0, 1), (0, 2), (1, 2)] {
            let (pa, pb) = (&pictures[a][scene.clone()], &pictures[b][scene.clone()]);
            let differ = pa.chunks(3).zip(pb.chunks(3)).filter(|(p, q)| p != q).count();
            assert!(differ * 2 > pa.len() / 3, "seeds {a}/{b}: only {differ} pixels differ");
        }
    }

    #[test]
    fn requested_sizes_are_honoured_exactly() {
        for (w, h) in [(64, 64), (2048, 64), (64, 2048), (300, 200), (257, 129)] {
            let d = decode(&render_preview_png("a lighthouse at dusk", "sdxl-base", w, h, 3).unwrap());
            assert_eq!((d.width, d.height, d.pixels.len()), (w, h, (w * h * 3) as usize));
            assert!(distinct_colours(&d.pixels) > 100, "{w}x{h} looks blank");
            // The banner is on every size.
            assert!(count(rows(&d, 6, 13), WHITE) > 50, "{w}x{h}: no banner text");
        }
    }

    #[test]
    fn sizes_outside_the_limits_are_refused_with_the_range() {
        let err = render_preview_png("x", "m", 63, 512, 0).unwrap_err();
        assert_eq!(
            err,
            SizeError {
                dimension: "width",
                value: 63
            }
        );
        assert_eq!(err.to_string(), "preview width must be 64-2560 pixels, got 63");
        let err = render_preview_png("x", "m", 512, 2561, 0).unwrap_err();
        assert_eq!(err.to_string(), "preview height must be 64-2560 pixels, got 2561");
        assert!(render_preview_png("x", "m", 0, 0, 0).is_err());
        assert!(render_preview_png("x", "m", u32::MAX, 64, 0).is_err());
    }

    #[test]
    fn label_layout_fits_inside_the_picture_at_every_size() {
        let sides = [
            64, 65, 100, 128, 200, 255, 256, 300, 511, 512, 513, 777, 1024, 1500, 2047, 2048, 2500, 2560,
        ];
        let prompts = ["a cat", &"word ".repeat(400), &"x".repeat(5000), "", "🦊"];
        let model = "@cf/some-vendor/a-rather-long-model-name-that-goes-on";
        for (&w, &h) in sides.iter().flat_map(|w| sides.iter().map(move |h| (w, h))) {
            for prompt in prompts {
                let l = Layout::new(w, h, prompt, model);
                let u = l.unit;
                assert!(text_width(l.banner.len(), u) <= w - 2 * u, "{w}x{h}: banner too wide");
                assert!(6 * u + text_height(u) < l.banner_h);
                // Panels are skipped only where there is truly no room.
                assert!(l.panel.is_some() || h < 128, "{w}x{h}: no panel");
                let Some(p) = l.panel else { continue };
                let [x0, y0, x1, y1] = p.rect;
                assert!(0 < x0 && x0 < x1 && x1 < w && y1 < h, "{w}x{h}: panel off the picture");
                assert!(y0 >= l.banner_h + l.stripe_h, "{w}x{h}: panel overlaps the banner");
                let room = x1 - p.text_x;
                assert!(
                    text_width(p.model_line.len(), u) <= room,
                    "{w}x{h}: model line too wide"
                );
                // The model's tail survives shortening: "...", then the end of the name.
                let line = p.model_line.strip_prefix(b"MODEL: ").unwrap_or(&p.model_line);
                let tail = String::from_utf8(line.rsplit(|&c| c == b'.').next().unwrap().to_vec()).unwrap();
                assert!(
                    tail.len() >= 2 && model.to_uppercase().ends_with(&tail),
                    "{w}x{h}: {tail}"
                );
                assert!(!p.prompt.is_empty() && p.prompt.len() <= MAX_PROMPT_LINES as usize);
                for line in &p.prompt {
                    assert!(!line.is_empty() && text_width(line.len(), p.prompt_scale) <= room - 7 * u);
                }
                let last = p.prompt_y(u, p.prompt.len() as i32 - 1) + text_height(p.prompt_scale);
                assert!(last <= y1 - 7 * u, "{w}x{h}: prompt below the panel padding");
            }
        }
        assert_eq!(Layout::new(512, 512, "a cat", "m").panel.unwrap().prompt_scale, 3);
        let long = Layout::new(512, 512, &"word ".repeat(1000), "m").panel.unwrap();
        assert_eq!((long.prompt_scale, long.prompt.len()), (2, 7));
        assert!(long.prompt[6].ends_with(b"..."));
    }

    #[test]
    fn edge_case_prompts_never_panic_and_still_decode() {
        let long = "x".repeat(1_000_000);
        for p in ["", " \n\t\r", "🦊🦊🦊", "日本語のプロンプト", "\0\u{7f}\u{200b}", &long] {
            let d = decode(&render_preview_png(p, p, 96, 160, 1).unwrap());
            assert_eq!(d.pixels.len(), 96 * 160 * 3);
        }
        let d = decode(&render_default_preview_png(&long, "m"));
        assert_eq!((d.width, d.height), (512, 512));
    }
}
