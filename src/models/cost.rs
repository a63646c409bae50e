//! What a call costs: each model's price as its Workers AI page gives it ([`Price`], in USD per
//! unit: "Unit Pricing"), the estimate for one job's parameters and inputs, and the neurons it
//! is billed as at the platform's rate ($0.011 per 1,000 neurons). Prices come from the model
//! pages and the pricing page's "Image model pricing" table
//! (https://developers.cloudflare.com/workers-ai/platform/pricing/, read 2026-12-03), which also
//! lists neurons; its neuron figures are rounded (FLUX.2 [klein] 4B: $0.000287 = 26.05 neurons
//! there, 26.09 at the rate), so USD is the source and neurons follow from it. Models with no
//! listed price have none (`None`: shown as unknown, counted as 0 toward a neuron budget).

use serde::Serialize;

/// Workers AI bills "$0.011 per 1,000 Neurons" (the pricing page above).
pub const USD_PER_THOUSAND_NEURONS: f64 = 0.011;
/// The page the prices and the neuron rate come from.
pub const PRICING_PAGE: &str = "https://developers.cloudflare.com/workers-ai/platform/pricing/";
/// The side of the tiles image models are billed by ("per 512x512 tile").
pub const TILE_SIDE: u32 = 512;
/// One megapixel as the FLUX.2 [klein] 9B row counts it: "first MP (1024x1024)".
pub const MEGAPIXEL: u64 = 1024 * 1024;

/// A model's price in the form its page gives it, in USD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum Price {
    /// Per 512×512 output tile, plus per diffusion step (FLUX.1 schnell, Leonardo).
    TileAndStep { usd_per_tile: f64, usd_per_step: f64 },
    /// Per 512×512 tile of each input image and of the output, each per step (FLUX.2 [dev]).
    TileStepInputAndOutput {
        #[serde(serialize_with = "js_f64")]
        usd_per_input_tile_step: f64,
        #[serde(serialize_with = "js_f64")]
        usd_per_output_tile_step: f64,
    },
    /// Per 512×512 tile of each input image and of the output (FLUX.2 [klein] 4B).
    TileInputAndOutput {
        #[serde(serialize_with = "js_f64")]
        usd_per_input_tile: f64,
        #[serde(serialize_with = "js_f64")]
        usd_per_output_tile: f64,
    },
    /// The first output megapixel, each further one, and each input image megapixel (FLUX.2
    /// [klein] 9B). Partial megapixels count whole.
    Megapixel {
        #[serde(serialize_with = "js_f64")]
        usd_first: f64,
        #[serde(serialize_with = "js_f64")]
        usd_per_further: f64,
        #[serde(serialize_with = "js_f64")]
        usd_per_input: f64,
    },
    /// Per step, at a published $0 (beta models whose page says "$0.00 per step").
    Step { usd_per_step: f64 },
}

/// What one job is: the output size, the steps it runs, and its input images' sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Work<'a> {
    pub width: u32,
    pub height: u32,
    /// The steps sent, else the model's documented default; None: neither is known.
    pub steps: Option<u32>,
    pub inputs: &'a [(u32, u32)],
}

/// Estimated neurons and USD of a job or call.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Cost {
    #[serde(serialize_with = "js_f64")]
    pub neurons: f64,
    #[serde(serialize_with = "js_f64")]
    pub usd: f64,
}

impl Cost {
    pub fn of_neurons(neurons: f64) -> Cost {
        Cost {
            neurons: round6(neurons),
            usd: neurons_to_usd(neurons),
        }
    }

    /// A price in USD, with the neurons it is billed as.
    pub fn of_usd(usd: f64) -> Cost {
        Cost {
            neurons: round6(usd_to_neurons(usd)),
            usd: (usd * 1e10).round() / 1e10,
        }
    }
}

/// Serializes a cost the way JavaScript's `JSON.stringify` writes it (the original server's
/// results are JS JSON text): a whole number without ".0" (serde writes 0.0 and 2370.0).
pub fn js_f64<S: serde::Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

/// [`js_f64`] for an optional cost (None: null).
pub fn js_opt_f64<S: serde::Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => js_f64(value, serializer),
        None => serializer.serialize_none(),
    }
}

/// USD for `neurons` at [`USD_PER_THOUSAND_NEURONS`], to a millionth of a cent.
pub fn neurons_to_usd(neurons: f64) -> f64 {
    (neurons * USD_PER_THOUSAND_NEURONS / 1000.0 * 1e8).round() / 1e8
}

/// Neurons billed for `usd` at [`USD_PER_THOUSAND_NEURONS`].
pub fn usd_to_neurons(usd: f64) -> f64 {
    usd / USD_PER_THOUSAND_NEURONS * 1000.0
}

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// 512×512 tiles covering `width`×`height` (a partial tile counts whole).
pub fn tiles(width: u32, height: u32) -> u64 {
    u64::from(width.div_ceil(TILE_SIDE)) * u64::from(height.div_ceil(TILE_SIDE))
}

/// Whole megapixels covering `width`×`height`.
pub fn megapixels(width: u32, height: u32) -> u64 {
    (u64::from(width) * u64::from(height)).div_ceil(MEGAPIXEL)
}

impl Price {
    /// Estimated USD of one job. Steps that are neither sent nor documented count as 0 (the
    /// estimate is then the tile part only).
    pub fn usd(&self, work: &Work) -> f64 {
        let steps = f64::from(work.steps.unwrap_or(0));
        let output_tiles = tiles(work.width, work.height) as f64;
        let input_tiles: f64 = work.inputs.iter().map(|(w, h)| tiles(*w, *h) as f64).sum();
        match *self {
            Price::TileAndStep {
                usd_per_tile,
                usd_per_step,
            } => output_tiles * usd_per_tile + steps * usd_per_step,
            Price::TileStepInputAndOutput {
                usd_per_input_tile_step,
                usd_per_output_tile_step,
            } => steps * (input_tiles * usd_per_input_tile_step + output_tiles * usd_per_output_tile_step),
            Price::TileInputAndOutput {
                usd_per_input_tile,
                usd_per_output_tile,
            } => input_tiles * usd_per_input_tile + output_tiles * usd_per_output_tile,
            Price::Megapixel {
                usd_first,
                usd_per_further,
                usd_per_input,
            } => {
                let output = megapixels(work.width, work.height).max(1);
                let inputs: u64 = work.inputs.iter().map(|(w, h)| megapixels(*w, *h)).sum();
                usd_first + (output - 1) as f64 * usd_per_further + inputs as f64 * usd_per_input
            }
            Price::Step { usd_per_step } => steps * usd_per_step,
        }
    }

    /// The price in words, as the page gives it, with USD.
    pub fn text(&self) -> String {
        let both =
            |usd: f64, unit: &str| format!("${} {unit} ({} neurons)", trim(usd), trim_to(usd_to_neurons(usd), 2));
        match *self {
            Price::TileAndStep {
                usd_per_tile,
                usd_per_step,
            } => format!(
                "{} + {}",
                both(usd_per_tile, "per 512x512 tile"),
                both(usd_per_step, "per step")
            ),
            Price::TileStepInputAndOutput {
                usd_per_input_tile_step,
                usd_per_output_tile_step,
            } => format!(
                "{} + {}",
                both(usd_per_input_tile_step, "per input 512x512 tile, per step"),
                both(usd_per_output_tile_step, "per output 512x512 tile, per step")
            ),
            Price::TileInputAndOutput {
                usd_per_input_tile,
                usd_per_output_tile,
            } => format!(
                "{} + {}",
                both(usd_per_input_tile, "per input 512x512 tile"),
                both(usd_per_output_tile, "per output 512x512 tile")
            ),
            Price::Megapixel {
                usd_first,
                usd_per_further,
                usd_per_input,
            } => format!(
                "{} + {} + {}",
                both(usd_first, "for the first megapixel (1024x1024)"),
                both(usd_per_further, "per further megapixel"),
                both(usd_per_input, "per input image megapixel")
            ),
            Price::Step { usd_per_step } => both(usd_per_step, "per step"),
        }
    }
}

/// A number without trailing zeros ("4.8", "0.0000528").
fn trim(value: f64) -> String {
    trim_to(value, 8)
}

fn trim_to(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_and_megapixels_count_partial_ones_whole() {
        assert_eq!(tiles(512, 512), 1);
        assert_eq!(tiles(513, 512), 2);
        assert_eq!(tiles(1024, 768), 4);
        assert_eq!(tiles(1120, 1120), 9);
        assert_eq!(megapixels(1024, 1024), 1);
        assert_eq!(megapixels(1024, 1025), 2);
        assert_eq!(megapixels(512, 512), 1);
    }

    #[test]
    fn usd_and_neurons_convert_at_the_published_rate() {
        // The pricing page lists both: $0.0000528 = 4.80 neurons per tile, $0.0001056 = 9.60 per
        // step (FLUX.1 schnell); $0.006996 = 636 (Lucid Origin); $0.00583 = 530 (Phoenix);
        // $0.015 = 1363.64 (FLUX.2 [klein] 9B, first megapixel).
        assert_eq!(Cost::of_usd(0.0000528).neurons, 4.8);
        assert_eq!(Cost::of_usd(0.0001056).neurons, 9.6);
        assert_eq!(Cost::of_usd(0.006996).neurons, 636.0);
        assert_eq!(Cost::of_usd(0.00583).neurons, 530.0);
        assert_eq!((usd_to_neurons(0.015) * 100.0).round() / 100.0, 1363.64);
        assert_eq!(neurons_to_usd(4.80), 0.0000528);
        assert_eq!(neurons_to_usd(1000.0), USD_PER_THOUSAND_NEURONS);
    }

    #[test]
    fn each_form_adds_up_its_units() {
        let tile_step = Price::TileAndStep {
            usd_per_tile: 10.0,
            usd_per_step: 1.0,
        };
        assert_eq!(
            tile_step.usd(&Work {
                width: 1024,
                height: 1024,
                steps: Some(4),
                inputs: &[]
            }),
            44.0
        );
        assert_eq!(
            tile_step.usd(&Work {
                width: 1024,
                height: 1024,
                steps: None,
                inputs: &[]
            }),
            40.0
        );
        let dev = Price::TileStepInputAndOutput {
            usd_per_input_tile_step: 1.0,
            usd_per_output_tile_step: 2.0,
        };
        let inputs = [(512, 512), (1024, 512)];
        assert_eq!(
            dev.usd(&Work {
                width: 512,
                height: 512,
                steps: Some(10),
                inputs: &inputs
            }),
            10.0 * (3.0 + 2.0)
        );
        let klein = Price::TileInputAndOutput {
            usd_per_input_tile: 1.0,
            usd_per_output_tile: 5.0,
        };
        assert_eq!(
            klein.usd(&Work {
                width: 1024,
                height: 768,
                steps: None,
                inputs: &inputs
            }),
            3.0 + 20.0
        );
        let mp = Price::Megapixel {
            usd_first: 100.0,
            usd_per_further: 10.0,
            usd_per_input: 1.0,
        };
        assert_eq!(
            mp.usd(&Work {
                width: 1024,
                height: 768,
                steps: None,
                inputs: &[]
            }),
            100.0
        );
        assert_eq!(
            mp.usd(&Work {
                width: 1920,
                height: 1920,
                steps: None,
                inputs: &inputs
            }),
            100.0 + 30.0 + 2.0
        );
        let free = Price::Step { usd_per_step: 0.0 };
        assert_eq!(
            free.usd(&Work {
                width: 512,
                height: 512,
                steps: Some(20),
                inputs: &[]
            }),
            0.0
        );
    }

    #[test]
    fn the_text_gives_usd_and_neurons() {
        let price = Price::TileAndStep {
            usd_per_tile: 0.0000528,
            usd_per_step: 0.0001056,
        };
        assert_eq!(
            price.text(),
            "$0.0000528 per 512x512 tile (4.8 neurons) + $0.0001056 per step (9.6 neurons)"
        );
    }
}
