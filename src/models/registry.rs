//! The registry: one entry per Workers AI image model, data only (planning is in `plan.rs`,
//! choices and model names for texts in `choice.rs`, prices and estimates in `cost.rs`); then
//! the image operations that are not models ([`OPERATIONS`]) and the vision model
//! describe_image asks ([`VISION`]). To add a model:
//! 1. add its entry to [`ENTRIES`] below (a `Role` in `roles` if a tool should pick it by default);
//! 2. add its stand-in to `tests/e2e/support/ai-standin/models.mjs` (the e2e lists of every model read that table);
//! 3. regenerate and review the tools/list golden files: `UPDATE_GOLDEN=1 cargo test golden`;
//! 4. give its `price` in USD as its page and the pricing page's "Image model pricing" table list
//!    it (neurons follow at $0.011 per 1,000), or None when no price is listed.

use super::{
    Control, Cost, InputEncoding, InputRule, ModelSpec, OutputShape, Param, Price, Range, Role, SizeRule,
    NEGATIVE_PROMPT_MAX_CHARS, SEED_MAX,
};

/// Beta models whose page says "$0.00 per step" (the pricing page does not list them).
const FREE_BETA: Option<Price> = Some(Price::Step { usd_per_step: 0.0 });

const fn int(control: Control, wire_name: &'static str, min: i64, max: i64, default: Option<f64>) -> Param {
    Param {
        control,
        wire_name,
        range: Range::Integer { min, max },
        default,
    }
}

const fn number(control: Control, wire_name: &'static str, min: f64, max: f64, default: Option<f64>) -> Param {
    Param {
        control,
        wire_name,
        range: Range::Number { min, max },
        default,
    }
}

const SEED: Param = int(Control::Seed, "seed", 0, SEED_MAX, None);
const NEGATIVE_PROMPT: Param = Param {
    control: Control::NegativePrompt,
    wire_name: "negative_prompt",
    range: Range::Text {
        max_chars: NEGATIVE_PROMPT_MAX_CHARS,
    },
    default: None,
};

const fn size_params(min: u32, max: u32, default_width: u32, default_height: u32) -> [Param; 2] {
    [
        int(
            Control::Width,
            "width",
            min as i64,
            max as i64,
            Some(default_width as f64),
        ),
        int(
            Control::Height,
            "height",
            min as i64,
            max as i64,
            Some(default_height as f64),
        ),
    ]
}

/// FLUX.2 form fields (changelogs 2025-11-25-flux-2-dev, 2026-01-15-flux-2-klein-4b,
/// 2026-01-28-flux-2-klein-9b): width/height 256–1920, default 1024×768; `seed`; `guidance`
/// (no documented range: 0–20 here); dev also `steps` (no documented range: 1–50 here).
const FLUX2_SIZE: SizeRule = SizeRule {
    min: 256,
    max: 1920,
    multiple_of: 16,
    default_width: 1024,
    default_height: 768,
};
const FLUX2_WH: [Param; 2] = size_params(256, 1920, 1024, 768);
const FLUX2_GUIDANCE: Param = number(Control::Guidance, "guidance", 0.0, 20.0, None);
const FLUX2_DEV_PARAMS: &[Param] = &[
    FLUX2_WH[0],
    FLUX2_WH[1],
    SEED,
    int(Control::Steps, "steps", 1, 50, None),
    FLUX2_GUIDANCE,
];
/// "up to 4 image inputs (512x512 per input image)", sent as `input_image_0`…`input_image_3`
/// (changelogs above); optional, so FLUX.2 also draws from text alone.
const FLUX2_INPUTS: InputRule = InputRule {
    max_images: 4,
    image_required: false,
    mask: false,
    max_side: 512,
};
/// Klein models are distilled: steps are fixed at 4 and cannot be set.
const FLUX2_KLEIN_PARAMS: &[Param] = &[FLUX2_WH[0], FLUX2_WH[1], SEED, FLUX2_GUIDANCE];

/// The shared Stable Diffusion schema (dreamshaper, SDXL lightning and base): width/height
/// 256–2048, `num_steps` ≤ 20 (default 20), `guidance` default 7.5 (no documented range:
/// 0–30 here), `seed`, `negative_prompt`. Multiples of 8 (the VAE's factor).
const fn sd_params(default_size: u32) -> [Param; 6] {
    let wh = size_params(256, 2048, default_size, default_size);
    [
        wh[0],
        wh[1],
        SEED,
        NEGATIVE_PROMPT,
        int(Control::Steps, "num_steps", 1, 20, Some(20.0)),
        number(Control::Guidance, "guidance", 0.0, 30.0, Some(7.5)),
    ]
}
const fn sd_size(default_size: u32) -> SizeRule {
    SizeRule {
        min: 256,
        max: 2048,
        multiple_of: 8,
        default_width: default_size,
        default_height: default_size,
    }
}
const SD_512: [Param; 6] = sd_params(512);
/// The SD 1.5 editing models take the shared schema plus `strength` ("A value between 0 and 1",
/// default 1) and the input image as `image` (bytes) or `image_b64`; inpainting also a `mask`.
/// No input size limit is documented: the schema's 2048 output bound is used.
const SD_EDIT_PARAMS: [Param; 7] = {
    let sd = sd_params(512);
    [
        sd[0],
        sd[1],
        sd[2],
        sd[3],
        sd[4],
        sd[5],
        number(Control::Strength, "strength", 0.0, 1.0, Some(1.0)),
    ]
};
const fn sd_edit_inputs(mask: bool) -> InputRule {
    InputRule {
        max_images: 1,
        image_required: true,
        mask,
        max_side: 2048,
    }
}
const SD_1024: [Param; 6] = sd_params(1024);

const LUCID_WH: [Param; 2] = size_params(256, 2500, 1120, 1120);
const PHOENIX_WH: [Param; 2] = size_params(256, 2048, 1024, 1024);

/// Every model, the default first.
pub(super) const ENTRIES: &[ModelSpec] = &[
    ModelSpec {
        name: "flux-schnell",
        family: None,
        workers_ai_id: "@cf/black-forest-labs/flux-1-schnell",
        description: "FLUX.1 [schnell]: fast 12B rectified flow transformer; prompt and steps only, fixed size.",
        page: "https://developers.cloudflare.com/workers-ai/models/flux-1-schnell/",
        input: InputEncoding::Json,
        output: OutputShape::Base64Json,
        output_format: "jpeg",
        params: &[int(Control::Steps, "steps", 1, 8, Some(4.0))],
        size: None,
        typical_time: "fastest, ~2-5 s",
        price: Some(Price::TileAndStep {
            usd_per_tile: 0.0000528,
            usd_per_step: 0.0001056,
        }),
        inputs: None,
        roles: &[Role::Default],
    },
    ModelSpec {
        name: "flux-2-dev",
        family: Some("FLUX.2"),
        workers_ai_id: "@cf/black-forest-labs/flux-2-dev",
        description: "FLUX.2 [dev]: highest quality FLUX, with size, seed, steps and guidance.",
        page: "https://developers.cloudflare.com/workers-ai/models/flux-2-dev/",
        input: InputEncoding::Multipart,
        output: OutputShape::Base64Json,
        output_format: "not documented (sniffed)",
        params: FLUX2_DEV_PARAMS,
        size: Some(FLUX2_SIZE),
        typical_time: "slowest FLUX, ~10-30 s",
        price: Some(Price::TileStepInputAndOutput {
            usd_per_input_tile_step: 0.00021,
            usd_per_output_tile_step: 0.00041,
        }),
        inputs: Some(FLUX2_INPUTS),
        roles: &[Role::OpenAiDallE3, Role::HighDetail],
    },
    ModelSpec {
        name: "flux-2-klein-4b",
        family: Some("FLUX.2"),
        workers_ai_id: "@cf/black-forest-labs/flux-2-klein-4b",
        description: "FLUX.2 [klein] 4B: distilled, fixed 4 steps; size, seed and guidance.",
        page: "https://developers.cloudflare.com/workers-ai/models/flux-2-klein-4b/",
        input: InputEncoding::Multipart,
        output: OutputShape::Base64Json,
        output_format: "not documented (sniffed)",
        params: FLUX2_KLEIN_PARAMS,
        size: Some(FLUX2_SIZE),
        typical_time: "fast, ~2-5 s",
        price: Some(Price::TileInputAndOutput {
            usd_per_input_tile: 0.000059,
            usd_per_output_tile: 0.000287,
        }),
        inputs: Some(FLUX2_INPUTS),
        roles: &[Role::EditSeveralImages],
    },
    ModelSpec {
        name: "flux-2-klein-9b",
        family: Some("FLUX.2"),
        workers_ai_id: "@cf/black-forest-labs/flux-2-klein-9b",
        description: "FLUX.2 [klein] 9B: distilled, fixed 4 steps, better detail than 4B; size, seed and guidance.",
        page: "https://developers.cloudflare.com/workers-ai/models/flux-2-klein-9b/",
        input: InputEncoding::Multipart,
        output: OutputShape::Base64Json,
        output_format: "not documented (sniffed)",
        params: FLUX2_KLEIN_PARAMS,
        size: Some(FLUX2_SIZE),
        typical_time: "fast, ~3-8 s",
        price: Some(Price::Megapixel {
            usd_first: 0.015,
            usd_per_further: 0.002,
            usd_per_input: 0.002,
        }),
        inputs: Some(FLUX2_INPUTS),
        roles: &[Role::OpenAiGptImage1],
    },
    ModelSpec {
        name: "lucid-origin",
        family: None,
        workers_ai_id: "@cf/leonardo/lucid-origin",
        description: "Leonardo Lucid Origin: strong prompt adherence and text rendering; size, seed, steps, guidance.",
        page: "https://developers.cloudflare.com/workers-ai/models/lucid-origin/",
        input: InputEncoding::Json,
        output: OutputShape::Base64Json,
        output_format: "not documented (sniffed)",
        params: &[
            LUCID_WH[0],
            LUCID_WH[1],
            SEED,
            int(Control::Steps, "num_steps", 1, 40, None),
            number(Control::Guidance, "guidance", 0.0, 10.0, Some(4.5)),
        ],
        size: Some(SizeRule {
            min: 256,
            max: 2500,
            multiple_of: 1,
            default_width: 1120,
            default_height: 1120,
        }),
        typical_time: "~5-15 s",
        price: Some(Price::TileAndStep {
            usd_per_tile: 0.006996,
            usd_per_step: 0.000132,
        }),
        inputs: None,
        roles: &[Role::LegibleText],
    },
    ModelSpec {
        name: "phoenix",
        family: None,
        workers_ai_id: "@cf/leonardo/phoenix-1.0",
        description:
            "Leonardo Phoenix 1.0: coherent, prompt-faithful images; size, seed, negative prompt, steps, guidance.",
        page: "https://developers.cloudflare.com/workers-ai/models/phoenix-1.0/",
        input: InputEncoding::Json,
        output: OutputShape::BinaryStream,
        output_format: "jpeg",
        params: &[
            PHOENIX_WH[0],
            PHOENIX_WH[1],
            SEED,
            NEGATIVE_PROMPT,
            int(Control::Steps, "num_steps", 1, 50, Some(25.0)),
            number(Control::Guidance, "guidance", 2.0, 10.0, Some(2.0)),
        ],
        size: Some(SizeRule {
            min: 256,
            max: 2048,
            multiple_of: 1,
            default_width: 1024,
            default_height: 1024,
        }),
        typical_time: "~5-15 s",
        price: Some(Price::TileAndStep {
            usd_per_tile: 0.00583,
            usd_per_step: 0.00011,
        }),
        inputs: None,
        roles: &[],
    },
    ModelSpec {
        name: "dreamshaper-8-lcm",
        family: None,
        workers_ai_id: "@cf/lykon/dreamshaper-8-lcm",
        description: "DreamShaper 8 LCM (Stable Diffusion 1.5 fine-tune): photorealism, quick; SD controls.",
        page: "https://developers.cloudflare.com/workers-ai/models/dreamshaper-8-lcm/",
        input: InputEncoding::Json,
        output: OutputShape::BinaryStream,
        output_format: "png",
        params: &SD_512,
        size: Some(sd_size(512)),
        typical_time: "~3-8 s",
        price: None,
        inputs: None,
        roles: &[],
    },
    ModelSpec {
        name: "sdxl-lightning",
        family: None,
        workers_ai_id: "@cf/bytedance/stable-diffusion-xl-lightning",
        description: "SDXL-Lightning: 1024px images in a few steps; SD controls.",
        page: "https://developers.cloudflare.com/workers-ai/models/stable-diffusion-xl-lightning/",
        input: InputEncoding::Json,
        output: OutputShape::BinaryStream,
        output_format: "png",
        params: &SD_1024,
        size: Some(sd_size(1024)),
        typical_time: "~15-20 s",
        price: FREE_BETA,
        inputs: None,
        roles: &[Role::OpenAiDallE2],
    },
    ModelSpec {
        name: "sdxl-base",
        family: None,
        workers_ai_id: "@cf/stabilityai/stable-diffusion-xl-base-1.0",
        description: "Stable Diffusion XL base 1.0: detailed images; SD controls.",
        page: "https://developers.cloudflare.com/workers-ai/models/stable-diffusion-xl-base-1.0/",
        input: InputEncoding::Json,
        output: OutputShape::BinaryStream,
        output_format: "png",
        params: &SD_1024,
        size: Some(sd_size(1024)),
        typical_time: "highest detail, ~30-45 s",
        price: None,
        inputs: None,
        roles: &[],
    },
    ModelSpec {
        name: "sd-v1-5-img2img",
        family: None,
        workers_ai_id: "@cf/runwayml/stable-diffusion-v1-5-img2img",
        description: "Stable Diffusion 1.5 image-to-image: a new image from one input image and the prompt; strength sets how far it moves.",
        page: "https://developers.cloudflare.com/workers-ai/models/stable-diffusion-v1-5-img2img/",
        input: InputEncoding::Json,
        output: OutputShape::BinaryStream,
        output_format: "png",
        params: &SD_EDIT_PARAMS,
        size: Some(sd_size(512)),
        typical_time: "~3-8 s",
        price: FREE_BETA,
        inputs: Some(sd_edit_inputs(false)),
        roles: &[Role::EditOneImage, Role::VariationFallback],
    },
    ModelSpec {
        name: "sd-v1-5-inpainting",
        family: None,
        workers_ai_id: "@cf/runwayml/stable-diffusion-v1-5-inpainting",
        description: "Stable Diffusion 1.5 inpainting: repaints where the mask is white, keeps the rest of the input image.",
        page: "https://developers.cloudflare.com/workers-ai/models/stable-diffusion-v1-5-inpainting/",
        input: InputEncoding::Json,
        output: OutputShape::BinaryStream,
        output_format: "png",
        params: &SD_EDIT_PARAMS,
        size: Some(sd_size(512)),
        typical_time: "~3-8 s",
        price: FREE_BETA,
        inputs: Some(sd_edit_inputs(true)),
        roles: &[Role::EditWithMask],
    },
];

/// [`ENTRIES`] as an array (its length follows the entries), stored once in the Wasm.
pub static MODELS: [ModelSpec; ENTRIES.len()] = match ENTRIES.first_chunk() {
    Some(models) => *models,
    None => unreachable!(),
};

/// An image operation: made by a platform transformation, not by a Workers AI model. Jobs record
/// its name as their `model`; it is never offered where a generation model is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation(usize);

/// Everything the server knows about one operation.
#[derive(Debug, Clone, Copy)]
pub struct OperationSpec {
    /// The name jobs record (the `model` column) and results show.
    pub name: &'static str,
    pub description: &'static str,
    /// The page that documents the transformation.
    pub page: &'static str,
    /// What one run costs (an Images transformation is billed in USD, not neurons).
    pub cost: Cost,
    /// Where the price comes from.
    pub price_page: &'static str,
    pub price_text: &'static str,
}

/// Every operation.
pub static OPERATIONS: [OperationSpec; 1] = [OperationSpec {
    name: "remove-background",
    description: "Background removal: the Images binding's segment: \"foreground\" transform keeps the subject \
                  and makes the rest transparent (PNG).",
    page: "https://developers.cloudflare.com/images/transform-images/transform-via-workers/",
    // "Images Transformed: ... $0.50 per 1,000 unique transformations" (after 5,000 a month free).
    cost: Cost {
        neurons: 0.0,
        usd: 0.0005,
    },
    price_page: "https://developers.cloudflare.com/images/pricing/",
    price_text: "$0.50 per 1,000 unique transformations (Images Transformed; the first 5,000 a month are free)",
}];

impl Operation {
    /// Background removal (the only operation).
    pub const REMOVE_BACKGROUND: Operation = Operation(0);

    pub fn spec(self) -> &'static OperationSpec {
        &OPERATIONS[self.0]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn from_name(name: &str) -> Option<Operation> {
        OPERATIONS.iter().position(|spec| spec.name == name).map(Operation)
    }
}

/// The vision model describe_image asks: its id, page, input form, bounds and price.
#[derive(Debug, Clone, Copy)]
pub struct VisionSpec {
    pub name: &'static str,
    pub workers_ai_id: &'static str,
    pub page: &'static str,
    /// Most tokens one answer may take (`max_tokens`; the page's default is 256).
    pub max_tokens: u32,
    /// Longest side of the image sent; larger images are scaled down through the Images binding.
    pub max_side: u32,
    /// Tokens an image is counted as before the call, for the budget check (the model counts
    /// the real figure, which is what is recorded afterwards).
    pub image_tokens_estimate: u32,
    pub neurons_per_million_input_tokens: f64,
    pub neurons_per_million_output_tokens: f64,
}

/// Llama 4 Scout (https://developers.cloudflare.com/workers-ai/models/llama-4-scout-17b-16e-instruct/):
/// "natively multimodal"; `messages` whose content holds `{type: "text"}` and
/// `{type: "image_url", image_url: {url: "data:image/…;base64,…"}}` ("HTTP URL will not be
/// accepted"), `max_tokens` (default 256); answers `{response, usage: {prompt_tokens,
/// completion_tokens, total_tokens}}`. Priced on the pricing page at $0.270 / $0.850 per M input /
/// output tokens = 24545 / 77273 neurons.
pub const VISION: VisionSpec = VisionSpec {
    name: "llama-4-scout",
    workers_ai_id: "@cf/meta/llama-4-scout-17b-16e-instruct",
    page: "https://developers.cloudflare.com/workers-ai/models/llama-4-scout-17b-16e-instruct/",
    max_tokens: 300,
    max_side: 1024,
    image_tokens_estimate: 2_000,
    neurons_per_million_input_tokens: 24545.0,
    neurons_per_million_output_tokens: 77273.0,
};

impl VisionSpec {
    /// Neurons for a call's token counts.
    pub fn neurons(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.neurons_per_million_input_tokens
            + output_tokens as f64 * self.neurons_per_million_output_tokens)
            / 1_000_000.0
    }

    /// The most a call with `text_chars` characters of text can cost before it is made: the
    /// image estimate, the text at a token per character, and the longest answer.
    pub fn neurons_at_most(&self, text_chars: usize) -> f64 {
        self.neurons(
            u64::from(self.image_tokens_estimate) + text_chars as u64,
            u64::from(self.max_tokens),
        )
    }
}
