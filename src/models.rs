//! The model registry: the only place that knows the Workers AI image models, their inputs,
//! ranges, defaults, size rules, output shapes, typical times and prices; and the planning that
//! turns a call's controls into the exact parameters one model receives.
//!
//! Sources (checked 2026-11-29): each model's page under
//! https://developers.cloudflare.com/workers-ai/models/ (cited per model below), the FLUX.2
//! changelogs (the FLUX.2 pages list no form fields), and `@cloudflare/workers-types`
//! 5.20261117.1 (`Ai_Cf_…_Input`). Where the docs give no bound, the bound here is ours and the
//! parameter's description says so.

use serde::Serialize;

use crate::catalog::Echoed;
use serde_json::{Map, Value};

/// An image model a client may ask for, by its client name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageModel {
    FluxSchnell,
    Flux2Dev,
    Flux2Klein4b,
    Flux2Klein9b,
    LucidOrigin,
    Phoenix,
    Dreamshaper8Lcm,
    SdxlLightning,
    SdxlBase,
    SdV15Img2img,
    SdV15Inpainting,
}

/// How the model takes its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputEncoding {
    /// A JSON object of named inputs.
    Json,
    /// `{multipart: {body, contentType}}` built from a FormData, even for a prompt alone (FLUX.2).
    Multipart,
}

/// What the binding resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputShape {
    /// `{image: <base64>}`.
    Base64Json,
    /// A ReadableStream of the image file's bytes.
    BinaryStream,
}

/// A generation control a call may set, by its client-facing name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Control {
    Width,
    Height,
    Seed,
    NegativePrompt,
    Steps,
    Guidance,
    /// How far an edit moves from its input image (0: keep it, 1: ignore it).
    Strength,
}

impl Control {
    pub fn name(self) -> &'static str {
        match self {
            Control::Width => "width",
            Control::Height => "height",
            Control::Seed => "seed",
            Control::NegativePrompt => "negative_prompt",
            Control::Steps => "steps",
            Control::Guidance => "guidance",
            Control::Strength => "strength",
        }
    }
}

/// The values a parameter accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    Integer { min: i64, max: i64 },
    Number { min: f64, max: f64 },
    Text { max_chars: usize },
}

/// One parameter of one model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    pub control: Control,
    /// The input name the model expects (e.g. `num_steps` for `steps`).
    pub wire_name: &'static str,
    pub range: Range,
    /// What the model uses when the parameter is not sent.
    pub default: Option<f64>,
}

/// Width and height rules of a model that takes a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeRule {
    pub min: u32,
    pub max: u32,
    /// Sizes must be a multiple of this (1: no rule).
    pub multiple_of: u32,
    pub default_width: u32,
    pub default_height: u32,
}

/// The image inputs a model takes (edit_image, generate_variations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InputRule {
    /// Most images one call may give.
    pub max_images: usize,
    /// Text alone is not enough: the model needs an image (so generate_image does not offer it).
    pub image_required: bool,
    /// The model repaints where a mask is white, and needs one; models without a mask refuse one.
    pub mask: bool,
    /// Longest side of an input the model takes; larger inputs are scaled down to fit.
    pub max_side: u32,
}

/// Everything the server knows about one model.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    pub model: ImageModel,
    pub name: &'static str,
    pub workers_ai_id: &'static str,
    pub description: &'static str,
    pub page: &'static str,
    pub input: InputEncoding,
    pub output: OutputShape,
    /// The image format the model returns, when documented (the bytes are sniffed regardless).
    pub output_format: &'static str,
    pub params: &'static [Param],
    /// None: the model has no size input (its images have a fixed size).
    pub size: Option<SizeRule>,
    pub typical_time: &'static str,
    pub price_hint: &'static str,
    /// None: text to image only.
    pub inputs: Option<InputRule>,
}

/// Seeds are unsigned 32-bit: every model that documents a bound takes at least this range.
pub const SEED_MAX: i64 = u32::MAX as i64;
/// Negative prompts share the prompt's bound.
pub const NEGATIVE_PROMPT_MAX_CHARS: usize = crate::catalog::PROMPT_MAX_CHARS;
/// Aspect-ratio sizes are rounded to this, a multiple of every model's size rule.
const ASPECT_STEP: u32 = 64;

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

/// Every model, default first.
pub const MODELS: [ModelSpec; 11] = [
    ModelSpec {
        model: ImageModel::FluxSchnell,
        name: "flux-schnell",
        workers_ai_id: "@cf/black-forest-labs/flux-1-schnell",
        description: "FLUX.1 [schnell]: fast 12B rectified flow transformer; prompt and steps only, fixed size.",
        page: "https://developers.cloudflare.com/workers-ai/models/flux-1-schnell/",
        input: InputEncoding::Json,
        output: OutputShape::Base64Json,
        output_format: "jpeg",
        params: &[int(Control::Steps, "steps", 1, 8, Some(4.0))],
        size: None,
        typical_time: "fastest, ~2-5 s",
        price_hint: "$0.000053 per 512x512 tile + $0.00011 per step",
        inputs: None,
    },
    ModelSpec {
        model: ImageModel::Flux2Dev,
        name: "flux-2-dev",
        workers_ai_id: "@cf/black-forest-labs/flux-2-dev",
        description: "FLUX.2 [dev]: highest quality FLUX, with size, seed, steps and guidance.",
        page: "https://developers.cloudflare.com/workers-ai/models/flux-2-dev/",
        input: InputEncoding::Multipart,
        output: OutputShape::Base64Json,
        output_format: "not documented (sniffed)",
        params: FLUX2_DEV_PARAMS,
        size: Some(FLUX2_SIZE),
        typical_time: "slowest FLUX, ~10-30 s",
        price_hint: "$0.00021 per input 512x512 tile per step + $0.00041 per output 512x512 tile per step",
        inputs: Some(FLUX2_INPUTS),
    },
    ModelSpec {
        model: ImageModel::Flux2Klein4b,
        name: "flux-2-klein-4b",
        workers_ai_id: "@cf/black-forest-labs/flux-2-klein-4b",
        description: "FLUX.2 [klein] 4B: distilled, fixed 4 steps; size, seed and guidance.",
        page: "https://developers.cloudflare.com/workers-ai/models/flux-2-klein-4b/",
        input: InputEncoding::Multipart,
        output: OutputShape::Base64Json,
        output_format: "not documented (sniffed)",
        params: FLUX2_KLEIN_PARAMS,
        size: Some(FLUX2_SIZE),
        typical_time: "fast, ~2-5 s",
        price_hint: "$0.000059 per input 512x512 tile + $0.000287 per output 512x512 tile",
        inputs: Some(FLUX2_INPUTS),
    },
    ModelSpec {
        model: ImageModel::Flux2Klein9b,
        name: "flux-2-klein-9b",
        workers_ai_id: "@cf/black-forest-labs/flux-2-klein-9b",
        description: "FLUX.2 [klein] 9B: distilled, fixed 4 steps, better detail than 4B; size, seed and guidance.",
        page: "https://developers.cloudflare.com/workers-ai/models/flux-2-klein-9b/",
        input: InputEncoding::Multipart,
        output: OutputShape::Base64Json,
        output_format: "not documented (sniffed)",
        params: FLUX2_KLEIN_PARAMS,
        size: Some(FLUX2_SIZE),
        typical_time: "fast, ~3-8 s",
        price_hint: "$0.015 per first megapixel + $0.002 per further megapixel",
        inputs: Some(FLUX2_INPUTS),
    },
    ModelSpec {
        model: ImageModel::LucidOrigin,
        name: "lucid-origin",
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
        price_hint: "$0.007 per 512x512 tile + $0.00013 per step",
        inputs: None,
    },
    ModelSpec {
        model: ImageModel::Phoenix,
        name: "phoenix",
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
        price_hint: "$0.0058 per 512x512 tile + $0.00011 per step",
        inputs: None,
    },
    ModelSpec {
        model: ImageModel::Dreamshaper8Lcm,
        name: "dreamshaper-8-lcm",
        workers_ai_id: "@cf/lykon/dreamshaper-8-lcm",
        description: "DreamShaper 8 LCM (Stable Diffusion 1.5 fine-tune): photorealism, quick; SD controls.",
        page: "https://developers.cloudflare.com/workers-ai/models/dreamshaper-8-lcm/",
        input: InputEncoding::Json,
        output: OutputShape::BinaryStream,
        output_format: "png",
        params: &SD_512,
        size: Some(sd_size(512)),
        typical_time: "~3-8 s",
        price_hint: "no price listed (beta)",
        inputs: None,
    },
    ModelSpec {
        model: ImageModel::SdxlLightning,
        name: "sdxl-lightning",
        workers_ai_id: "@cf/bytedance/stable-diffusion-xl-lightning",
        description: "SDXL-Lightning: 1024px images in a few steps; SD controls.",
        page: "https://developers.cloudflare.com/workers-ai/models/stable-diffusion-xl-lightning/",
        input: InputEncoding::Json,
        output: OutputShape::BinaryStream,
        output_format: "png",
        params: &SD_1024,
        size: Some(sd_size(1024)),
        typical_time: "~15-20 s",
        price_hint: "$0 per step (beta)",
        inputs: None,
    },
    ModelSpec {
        model: ImageModel::SdxlBase,
        name: "sdxl-base",
        workers_ai_id: "@cf/stabilityai/stable-diffusion-xl-base-1.0",
        description: "Stable Diffusion XL base 1.0: detailed images; SD controls.",
        page: "https://developers.cloudflare.com/workers-ai/models/stable-diffusion-xl-base-1.0/",
        input: InputEncoding::Json,
        output: OutputShape::BinaryStream,
        output_format: "png",
        params: &SD_1024,
        size: Some(sd_size(1024)),
        typical_time: "highest detail, ~30-45 s",
        price_hint: "no price listed (beta)",
        inputs: None,
    },
    ModelSpec {
        model: ImageModel::SdV15Img2img,
        name: "sd-v1-5-img2img",
        workers_ai_id: "@cf/runwayml/stable-diffusion-v1-5-img2img",
        description: "Stable Diffusion 1.5 image-to-image: a new image from one input image and the prompt; strength sets how far it moves.",
        page: "https://developers.cloudflare.com/workers-ai/models/stable-diffusion-v1-5-img2img/",
        input: InputEncoding::Json,
        output: OutputShape::BinaryStream,
        output_format: "png",
        params: &SD_EDIT_PARAMS,
        size: Some(sd_size(512)),
        typical_time: "~3-8 s",
        price_hint: "$0.00 per step (beta)",
        inputs: Some(sd_edit_inputs(false)),
    },
    ModelSpec {
        model: ImageModel::SdV15Inpainting,
        name: "sd-v1-5-inpainting",
        workers_ai_id: "@cf/runwayml/stable-diffusion-v1-5-inpainting",
        description: "Stable Diffusion 1.5 inpainting: repaints where the mask is white, keeps the rest of the input image.",
        page: "https://developers.cloudflare.com/workers-ai/models/stable-diffusion-v1-5-inpainting/",
        input: InputEncoding::Json,
        output: OutputShape::BinaryStream,
        output_format: "png",
        params: &SD_EDIT_PARAMS,
        size: Some(sd_size(512)),
        typical_time: "~3-8 s",
        price_hint: "$0 per step (beta)",
        inputs: Some(sd_edit_inputs(true)),
    },
];

impl ImageModel {
    pub const DEFAULT: ImageModel = ImageModel::FluxSchnell;

    pub fn spec(self) -> &'static ModelSpec {
        // MODELS lists every variant once (a test checks), so the search always succeeds.
        MODELS.iter().find(|spec| spec.model == self).unwrap_or(&MODELS[0])
    }

    /// The name clients use (and the value stored in D1).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn from_name(name: &str) -> Option<ImageModel> {
        MODELS.iter().find(|spec| spec.name == name).map(|spec| spec.model)
    }

    /// Whether the model can draw from a prompt alone (generate_image offers only these).
    pub fn draws_from_text(self) -> bool {
        self.spec().inputs.is_none_or(|rule| !rule.image_required)
    }
}

impl<'de> serde::Deserialize<'de> for ImageModel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        ImageModel::from_name(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown model {name:?}")))
    }
}

impl Serialize for ImageModel {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// The aspect ratios a call may ask for instead of a width and height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AspectRatio {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
}

pub const ASPECT_RATIOS: [AspectRatio; 8] = [
    AspectRatio {
        name: "1:1",
        width: 1,
        height: 1,
    },
    AspectRatio {
        name: "16:9",
        width: 16,
        height: 9,
    },
    AspectRatio {
        name: "9:16",
        width: 9,
        height: 16,
    },
    AspectRatio {
        name: "4:3",
        width: 4,
        height: 3,
    },
    AspectRatio {
        name: "3:4",
        width: 3,
        height: 4,
    },
    AspectRatio {
        name: "3:2",
        width: 3,
        height: 2,
    },
    AspectRatio {
        name: "2:3",
        width: 2,
        height: 3,
    },
    AspectRatio {
        name: "21:9",
        width: 21,
        height: 9,
    },
];

impl AspectRatio {
    pub fn from_name(name: &str) -> Option<AspectRatio> {
        ASPECT_RATIOS.into_iter().find(|ratio| ratio.name == name)
    }
}

impl SizeRule {
    /// The size for `ratio` at about the model's default pixel count, on a 64-pixel grid, within
    /// the model's limits.
    pub fn for_aspect_ratio(&self, ratio: AspectRatio) -> (u32, u32) {
        let pixels = f64::from(self.default_width) * f64::from(self.default_height);
        let width = (pixels * f64::from(ratio.width) / f64::from(ratio.height)).sqrt();
        let height = width * f64::from(ratio.height) / f64::from(ratio.width);
        let fit = |side: f64| {
            let rounded = ((side / f64::from(ASPECT_STEP)).round() as u32).max(1) * ASPECT_STEP;
            rounded.clamp(
                self.min.div_ceil(ASPECT_STEP) * ASPECT_STEP,
                self.max / ASPECT_STEP * ASPECT_STEP,
            )
        };
        (fit(width), fit(height))
    }
}

impl<'de> serde::Deserialize<'de> for AspectRatio {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        AspectRatio::from_name(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown aspect ratio {name:?}")))
    }
}

impl Serialize for AspectRatio {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

/// The generation controls of one call (arguments of the generate tools), before they are
/// checked against a model.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(test, derive(Serialize))]
pub struct Controls {
    pub aspect_ratio: Option<AspectRatio>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub seed: Option<i64>,
    pub negative_prompt: Option<String>,
    pub steps: Option<i64>,
    pub guidance: Option<f64>,
    /// Editing models only (edit_image, generate_variations): generate_image has no such field.
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    pub strength: Option<f64>,
}

impl Controls {
    /// The controls a job of `spec` was made with, read back from its stored parameters (in the
    /// model's input names); unknown or mistyped entries are left out.
    pub fn from_parameters(spec: &ModelSpec, parameters: &Map<String, Value>) -> Controls {
        let mut controls = Controls::default();
        for param in spec.params {
            let Some(value) = parameters.get(param.wire_name) else {
                continue;
            };
            match param.control {
                Control::Width => controls.width = value.as_i64(),
                Control::Height => controls.height = value.as_i64(),
                Control::Seed => controls.seed = value.as_i64(),
                Control::NegativePrompt => controls.negative_prompt = value.as_str().map(String::from),
                Control::Steps => controls.steps = value.as_i64(),
                Control::Guidance => controls.guidance = value.as_f64(),
                Control::Strength => controls.strength = value.as_f64(),
            }
        }
        controls
    }
}

/// What one job sends to its model besides the prompt, in the model's own input names.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Wire name → value, in the order the registry lists the model's parameters.
    pub parameters: Map<String, Value>,
    pub seed: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

impl ModelSpec {
    pub fn param(&self, control: Control) -> Option<&Param> {
        self.params.iter().find(|param| param.control == control)
    }

    /// "width (256-1920, default 1024), seed (0-4294967295), …": what the model takes.
    pub fn params_text(&self) -> String {
        let mut parts: Vec<String> = self.params.iter().map(Param::describe).collect();
        if self.size.is_some() {
            parts.push("aspect_ratio".to_string());
        }
        parts.join(", ")
    }

    /// Checks `controls` against this model and decides every value to send. `random_seed` is
    /// used when the model takes a seed and the call gave none, so the image can be reproduced.
    pub fn plan(&self, controls: &Controls, random_seed: u32) -> Result<Plan, String> {
        let refuse = |what: String| {
            Err(format!(
                "{what}. Model {} takes: {}.",
                self.name,
                if self.params.is_empty() {
                    "no parameters besides the prompt".to_string()
                } else {
                    self.params_text()
                }
            ))
        };
        let given = [
            (Control::Width, controls.width.is_some()),
            (Control::Height, controls.height.is_some()),
            (Control::Seed, controls.seed.is_some()),
            (Control::NegativePrompt, controls.negative_prompt.is_some()),
            (Control::Steps, controls.steps.is_some()),
            (Control::Guidance, controls.guidance.is_some()),
            (Control::Strength, controls.strength.is_some()),
        ];
        let unsupported: Vec<&str> = given
            .iter()
            .filter(|(control, set)| *set && self.param(*control).is_none())
            .map(|(control, _)| control.name())
            .collect();
        if !unsupported.is_empty() {
            return refuse(format!("{} does not take {}", self.name, unsupported.join(", ")));
        }
        let (width, height) = match (controls.aspect_ratio, controls.width, controls.height) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return refuse("aspect_ratio cannot be combined with width or height".to_string())
            }
            (Some(ratio), None, None) => match &self.size {
                Some(rule) => {
                    let (w, h) = rule.for_aspect_ratio(ratio);
                    (Some(i64::from(w)), Some(i64::from(h)))
                }
                None => return refuse(format!("{} has a fixed size and does not take aspect_ratio", self.name)),
            },
            (None, Some(w), Some(h)) => (Some(w), Some(h)),
            (None, Some(_), None) | (None, None, Some(_)) => {
                return refuse("width and height must be given together".to_string())
            }
            (None, None, None) => (None, None),
        };
        if let (Some(rule), Some(w), Some(h)) = (&self.size, width, height) {
            for (name, side) in [("width", w), ("height", h)] {
                if side < i64::from(rule.min) || side > i64::from(rule.max) {
                    return refuse(format!(
                        "{name} must be between {} and {} (got {side})",
                        rule.min, rule.max
                    ));
                }
                if side % i64::from(rule.multiple_of) != 0 {
                    return refuse(format!(
                        "{name} must be a multiple of {} (got {side})",
                        rule.multiple_of
                    ));
                }
            }
        }
        let seed = self
            .param(Control::Seed)
            .map(|_| controls.seed.unwrap_or(i64::from(random_seed)));
        let mut parameters = Map::new();
        for param in self.params {
            let value = match param.control {
                Control::Width => width.map(Value::from),
                Control::Height => height.map(Value::from),
                Control::Seed => seed.map(Value::from),
                Control::NegativePrompt => controls.negative_prompt.clone().map(Value::from),
                Control::Steps => controls.steps.map(Value::from),
                Control::Guidance => controls.guidance.map(Value::from),
                Control::Strength => controls.strength.map(Value::from),
            };
            let Some(value) = value else { continue };
            if let Err(problem) = param.check(&value) {
                return refuse(problem);
            }
            parameters.insert(param.wire_name.to_string(), value);
        }
        Ok(Plan {
            parameters,
            seed,
            width,
            height,
        })
    }
}

impl Param {
    /// "steps (1-8, default 4)", "guidance (2-10, default 2)", "negative_prompt (text)".
    pub fn describe(&self) -> String {
        let range = match self.range {
            Range::Integer { min, max } => format!("{min}-{max}"),
            Range::Number { min, max } => format!("{min}-{max}"),
            Range::Text { max_chars } => format!("text up to {max_chars} characters"),
        };
        match self.default {
            Some(default) => format!("{} ({range}, default {default})", self.control.name()),
            None => format!("{} ({range})", self.control.name()),
        }
    }

    fn check(&self, value: &Value) -> Result<(), String> {
        let name = self.control.name();
        match self.range {
            Range::Integer { min, max } => match value.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(()),
                Some(n) => Err(format!("{name} must be between {min} and {max} (got {n})")),
                None => Err(format!("{name} must be an integer")),
            },
            Range::Number { min, max } => match value.as_f64() {
                Some(x) if x >= min && x <= max => Ok(()),
                Some(x) => Err(format!("{name} must be between {min} and {max} (got {})", Echoed(x))),
                None => Err(format!("{name} must be a number")),
            },
            Range::Text { max_chars } => match value.as_str() {
                Some(text) if !text.trim().is_empty() && text.encode_utf16().count() <= max_chars => Ok(()),
                Some(_) => Err(format!("{name} must be 1-{max_chars} characters")),
                None => Err(format!("{name} must be a string")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(model: ImageModel, controls: Controls) -> Result<Plan, String> {
        model.spec().plan(&controls, 7)
    }

    #[test]
    fn every_model_is_listed_once_with_a_unique_name_and_cited_page() {
        let variants = [
            ImageModel::FluxSchnell,
            ImageModel::Flux2Dev,
            ImageModel::Flux2Klein4b,
            ImageModel::Flux2Klein9b,
            ImageModel::LucidOrigin,
            ImageModel::Phoenix,
            ImageModel::Dreamshaper8Lcm,
            ImageModel::SdxlLightning,
            ImageModel::SdxlBase,
            ImageModel::SdV15Img2img,
            ImageModel::SdV15Inpainting,
        ];
        for model in variants {
            assert_eq!(MODELS.iter().filter(|spec| spec.model == model).count(), 1, "{model:?}");
            assert_eq!(ImageModel::from_name(model.name()), Some(model));
            assert!(model
                .spec()
                .page
                .starts_with("https://developers.cloudflare.com/workers-ai/models/"));
            assert!(model.spec().workers_ai_id.starts_with("@cf/"));
        }
        assert_eq!(MODELS[0].model, ImageModel::DEFAULT);
        assert_eq!(ImageModel::from_name("dall-e"), None);
    }

    #[test]
    fn size_params_agree_with_the_size_rule() {
        for spec in &MODELS {
            let width = spec.param(Control::Width);
            assert_eq!(width.is_some(), spec.size.is_some(), "{}", spec.name);
            assert_eq!(
                spec.param(Control::Height).is_some(),
                spec.size.is_some(),
                "{}",
                spec.name
            );
            if let (Some(rule), Some(width)) = (spec.size, width) {
                assert_eq!(
                    width.range,
                    Range::Integer {
                        min: rule.min.into(),
                        max: rule.max.into()
                    },
                    "{}",
                    spec.name
                );
                assert_eq!(width.default, Some(f64::from(rule.default_width)), "{}", spec.name);
            }
        }
    }

    #[test]
    fn flux_schnell_takes_only_steps() {
        let error = plan(
            ImageModel::FluxSchnell,
            Controls {
                negative_prompt: Some("blur".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            error,
            "flux-schnell does not take negative_prompt. Model flux-schnell takes: steps (1-8, default 4)."
        );
        let error = plan(
            ImageModel::FluxSchnell,
            Controls {
                aspect_ratio: AspectRatio::from_name("16:9"),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(error.contains("fixed size"), "{error}");
        let ok = plan(
            ImageModel::FluxSchnell,
            Controls {
                steps: Some(8),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(Value::Object(ok.parameters), serde_json::json!({"steps": 8}));
        assert_eq!(ok.seed, None, "flux-schnell takes no seed, so none is chosen");
    }

    #[test]
    fn a_seed_is_chosen_when_the_model_takes_one_and_the_call_gave_none() {
        let chosen = plan(ImageModel::Phoenix, Controls::default()).unwrap();
        assert_eq!(chosen.seed, Some(7));
        assert_eq!(chosen.parameters["seed"], 7);
        let given = plan(
            ImageModel::Phoenix,
            Controls {
                seed: Some(42),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(given.seed, Some(42));
    }

    #[test]
    fn aspect_ratios_map_to_each_models_size_rules() {
        let flux2 = plan(
            ImageModel::Flux2Dev,
            Controls {
                aspect_ratio: AspectRatio::from_name("16:9"),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((flux2.width, flux2.height), (Some(1152), Some(640)));
        for spec in MODELS.iter().filter(|spec| spec.size.is_some()) {
            let rule = spec.size.unwrap();
            for ratio in ASPECT_RATIOS {
                let (w, h) = rule.for_aspect_ratio(ratio);
                assert!(
                    w >= rule.min && w <= rule.max && h >= rule.min && h <= rule.max,
                    "{} {}",
                    spec.name,
                    ratio.name
                );
                assert_eq!(w % rule.multiple_of, 0);
                assert_eq!(h % rule.multiple_of, 0);
                let asked = f64::from(ratio.width) / f64::from(ratio.height);
                let got = f64::from(w) / f64::from(h);
                assert!(
                    (got / asked - 1.0).abs() < 0.12,
                    "{} {}: {w}x{h}",
                    spec.name,
                    ratio.name
                );
                let pixels = f64::from(w * h) / f64::from(rule.default_width * rule.default_height);
                assert!(
                    (0.6..=1.25).contains(&pixels),
                    "{} {}: {w}x{h} is far from the default area",
                    spec.name,
                    ratio.name
                );
            }
            assert_eq!(
                rule.for_aspect_ratio(ASPECT_RATIOS[0]).0,
                rule.for_aspect_ratio(ASPECT_RATIOS[0]).1
            );
        }
    }

    #[test]
    fn invalid_combinations_and_ranges_are_refused_with_the_models_parameters() {
        let both = plan(
            ImageModel::SdxlBase,
            Controls {
                aspect_ratio: AspectRatio::from_name("1:1"),
                width: Some(512),
                height: Some(512),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(both.contains("cannot be combined"), "{both}");
        assert!(
            both.contains("steps (1-20, default 20)"),
            "the message names the model's parameters: {both}"
        );
        let lone = plan(
            ImageModel::SdxlBase,
            Controls {
                width: Some(512),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(lone.contains("together"), "{lone}");
        let big = plan(
            ImageModel::Flux2Dev,
            Controls {
                width: Some(2048),
                height: Some(1024),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(big.contains("between 256 and 1920"), "{big}");
        let odd = plan(
            ImageModel::Flux2Dev,
            Controls {
                width: Some(1000),
                height: Some(1024),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(odd.contains("multiple of 16"), "{odd}");
        let guidance = plan(
            ImageModel::Phoenix,
            Controls {
                guidance: Some(1.0),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(guidance.contains("guidance must be between 2 and 10"), "{guidance}");
        let steps = plan(
            ImageModel::Flux2Klein4b,
            Controls {
                steps: Some(4),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(steps.contains("flux-2-klein-4b does not take steps"), "{steps}");
    }

    #[test]
    fn parameters_use_each_models_wire_names() {
        let sd = plan(
            ImageModel::SdxlLightning,
            Controls {
                steps: Some(10),
                guidance: Some(5.0),
                negative_prompt: Some("text".into()),
                width: Some(768),
                height: Some(512),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            Value::Object(sd.parameters),
            serde_json::json!({"width": 768, "height": 512, "seed": 7, "negative_prompt": "text", "num_steps": 10, "guidance": 5.0})
        );
        let flux = plan(
            ImageModel::Flux2Dev,
            Controls {
                steps: Some(20),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(flux.parameters["steps"], 20);
    }
}
