//! The Workers AI image models: the types that describe one, the registry that lists them
//! ([`registry`], data only), the planning that turns a call's controls into the exact parameters
//! one model receives ([`plan`]), and the model choices and model names the tools use ([`choice`]).
//! Nothing outside this module names a model (a test scans the sources).
//!
//! Sources (checked 2026-11-29): each model's page under
//! https://developers.cloudflare.com/workers-ai/models/ (cited per model in the registry), the
//! FLUX.2 changelogs (the FLUX.2 pages list no form fields), and `@cloudflare/workers-types`
//! 5.20261117.1 (`Ai_Cf_…_Input`). Where the docs give no bound, the bound here is ours and the
//! parameter's description says so.

mod choice;
mod cost;
#[cfg(test)]
mod literal_scan;
mod plan;
mod registry;

pub use choice::{
    edit_default, edit_defaults_text, edit_strength_default_applies, integer_bounds, labels, mask_model_names, names,
    names_taking, number_bounds, openai_alias, several_images_labels, variation_fallback, OPENAI_ALIASES,
};
pub use cost::{js_f64, js_opt_f64, neurons_to_usd, Cost, Price, Work, PRICING_PAGE, USD_PER_THOUSAND_NEURONS};
pub use plan::{AspectRatio, Controls, ASPECT_RATIOS};
pub use registry::{Operation, MODELS, OPERATIONS, VISION};

use serde::Serialize;
use serde_json::{Map, Value};

/// An image model a client may ask for: its place in [`MODELS`]. Only the registry lists models,
/// so adding one is one registry entry.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ImageModel(usize);

/// A choice the tools make for a call that names no model. Each role is held by exactly one
/// model (checked when the crate compiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// generate_image's default model.
    Default,
    /// edit_image's model for one image and no mask.
    EditOneImage,
    /// edit_image's model for several images.
    EditSeveralImages,
    /// edit_image's model for an image and a mask.
    EditWithMask,
    /// Makes the variations (image-to-image on the finished image) when the image's own model
    /// cannot: it needs a mask, takes no seed, or was asked for a strength it does not take.
    VariationFallback,
    /// What the OpenAI-compatible API runs for OpenAI's `dall-e-2` (fast, small square sizes).
    OpenAiDallE2,
    /// ... for `dall-e-3` (high quality, 1024x1024, 1792x1024 and 1024x1792).
    OpenAiDallE3,
    /// ... for `gpt-image-1` (1024x1024, 1536x1024, 1024x1536).
    OpenAiGptImage1,
    /// The prompt templates' model for legible text in the picture (logos, stickers, icons).
    LegibleText,
    /// The prompt templates' model for the most detailed pictures (portraits, product shots).
    HighDetail,
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
    /// The name clients use (and the value stored in D1).
    pub name: &'static str,
    /// The name texts use for the group of models that shares it ("FLUX.2"); None: named alone.
    pub family: Option<&'static str>,
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
    /// The price from the Workers AI pricing page; None: the page lists none (unknown, counted
    /// as 0 toward a neuron budget).
    pub price: Option<Price>,
    /// None: text to image only.
    pub inputs: Option<InputRule>,
    /// What the tools pick this model for when a call names none (each role has one holder).
    pub roles: &'static [Role],
}

// Held by exactly one model each (checked when the crate compiles).
const LEGIBLE_TEXT: ImageModel = ImageModel::holding(Role::LegibleText);
const HIGH_DETAIL: ImageModel = ImageModel::holding(Role::HighDetail);

/// Seeds are unsigned 32-bit: every model that documents a bound takes at least this range.
pub const SEED_MAX: i64 = u32::MAX as i64;
/// Negative prompts share the prompt's bound.
pub const NEGATIVE_PROMPT_MAX_CHARS: usize = crate::catalog::PROMPT_MAX_CHARS;

/// What one job sends to its model besides the prompt, in the model's own input names.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Wire name → value, in the order the registry lists the model's parameters.
    pub parameters: Map<String, Value>,
    pub seed: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

impl ImageModel {
    pub const DEFAULT: ImageModel = ImageModel::holding(Role::Default);

    /// The model holding `role`. Used in constants, so a role held by no model, or by two, stops
    /// the build.
    const fn holding(role: Role) -> ImageModel {
        let mut found = None;
        let mut i = 0;
        while i < registry::ENTRIES.len() {
            let roles = registry::ENTRIES[i].roles;
            let mut j = 0;
            while j < roles.len() {
                if roles[j] as u8 == role as u8 {
                    assert!(found.is_none(), "two models hold the same role");
                    found = Some(ImageModel(i));
                }
                j += 1;
            }
            i += 1;
        }
        match found {
            Some(model) => model,
            None => panic!("a role is held by no model"),
        }
    }

    /// The model holding `role` (the prompt templates pick models by role, never by name).
    pub fn for_role(role: Role) -> ImageModel {
        match role {
            Role::Default => ImageModel::DEFAULT,
            Role::EditOneImage => choice::edit_default(1, false),
            Role::EditSeveralImages => choice::edit_default(2, false),
            Role::EditWithMask => choice::edit_default(1, true),
            Role::VariationFallback => choice::variation_fallback(),
            Role::LegibleText => LEGIBLE_TEXT,
            Role::HighDetail => HIGH_DETAIL,
            Role::OpenAiDallE2 | Role::OpenAiDallE3 | Role::OpenAiGptImage1 => ImageModel::holding(role),
        }
    }

    pub fn spec(self) -> &'static ModelSpec {
        &MODELS[self.0]
    }

    /// The name clients use (and the value stored in D1).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn from_name(name: &str) -> Option<ImageModel> {
        MODELS.iter().position(|spec| spec.name == name).map(ImageModel)
    }

    /// The model called `name`, in tests (which may name models).
    #[cfg(test)]
    pub fn named(name: &str) -> ImageModel {
        ImageModel::from_name(name).unwrap_or_else(|| panic!("no model {name:?} in the registry"))
    }

    /// Whether the model can draw from a prompt alone (generate_image offers only these).
    pub fn draws_from_text(self) -> bool {
        self.spec().inputs.is_none_or(|rule| !rule.image_required)
    }
}

impl ModelSpec {
    /// The estimated cost of one job of this model: None when the page lists no price.
    pub fn estimate(&self, work: &Work) -> Option<Cost> {
        self.price.map(|price| Cost::of_usd(price.usd(work)))
    }

    /// The price in words ("no price listed" when the page lists none).
    pub fn price_text(&self) -> String {
        self.price.map_or_else(
            || "no price listed on the Workers AI pricing page".to_string(),
            |price| price.text(),
        )
    }

    /// The work of a job sending `parameters` (the model's input names) for `size` (None: the
    /// default size), from `inputs` images: steps sent, else the documented default.
    pub fn work<'a>(
        &self,
        size: Option<(u32, u32)>,
        parameters: &Map<String, Value>,
        inputs: &'a [(u32, u32)],
    ) -> Work<'a> {
        let (width, height) = size.unwrap_or_else(|| self.default_size());
        let steps = self.param(Control::Steps).and_then(|param| {
            let sent = parameters.get(param.wire_name).and_then(Value::as_u64);
            sent.or(param.default.map(|d| d as u64))
                .and_then(|n| u32::try_from(n).ok())
        });
        Work {
            width,
            height,
            steps,
            inputs,
        }
    }

    /// The size a job gets when the call names none: the size rule's default, or for a model
    /// with a fixed size the one it returns (FLUX.1 schnell: 1024x1024, not documented).
    pub fn default_size(&self) -> (u32, u32) {
        self.size
            .map_or((1024, 1024), |rule| (rule.default_width, rule.default_height))
    }

    /// This entry's model.
    pub fn model(&self) -> ImageModel {
        ImageModel::from_name(self.name).unwrap_or(ImageModel::DEFAULT)
    }
}

/// What makes a job's image: a Workers AI model, or an image operation (background removal).
/// Jobs record its name in their `model` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maker {
    Model(ImageModel),
    Operation(Operation),
}

impl Maker {
    pub fn name(self) -> &'static str {
        match self {
            Maker::Model(model) => model.name(),
            Maker::Operation(operation) => operation.name(),
        }
    }

    pub fn from_name(name: &str) -> Option<Maker> {
        ImageModel::from_name(name)
            .map(Maker::Model)
            .or_else(|| Operation::from_name(name).map(Maker::Operation))
    }

    /// The estimated cost of one job of `size` (None: the default) sending `parameters`, from
    /// `inputs` images. None when the model's price is not listed.
    pub fn estimate(
        self,
        size: Option<(u32, u32)>,
        parameters: &Map<String, Value>,
        inputs: &[(u32, u32)],
    ) -> Option<Cost> {
        match self {
            Maker::Model(model) => {
                let spec = model.spec();
                spec.estimate(&spec.work(size, parameters, inputs))
            }
            Maker::Operation(operation) => Some(operation.spec().cost),
        }
    }
}

impl From<ImageModel> for Maker {
    fn from(model: ImageModel) -> Self {
        Maker::Model(model)
    }
}

impl std::fmt::Debug for ImageModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ImageModel").field(&self.name()).finish()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The estimate for `name` with `parameters` at `size` from `inputs`, as (neurons, usd).
    fn estimate(name: &str, size: Option<(u32, u32)>, parameters: Value, inputs: &[(u32, u32)]) -> (f64, f64) {
        let spec = ImageModel::named(name).spec();
        let parameters = parameters.as_object().cloned().unwrap_or_default();
        let cost = spec.estimate(&spec.work(size, &parameters, inputs)).unwrap();
        (cost.neurons, cost.usd)
    }

    #[test]
    fn estimates_follow_the_published_prices_of_three_models() {
        // FLUX.1 schnell: $0.0000528 per 512x512 tile + $0.0001056 per step; 1024x1024, 4 steps.
        assert_eq!(estimate("flux-schnell", None, Value::Null, &[]), (57.6, 0.0006336));
        // Phoenix: $0.00583 per tile + $0.00011 per step; 1024x1024 and its default 25 steps.
        assert_eq!(estimate("phoenix", None, Value::Null, &[]), (2370.0, 0.02607));
        assert_eq!(
            estimate("phoenix", Some((512, 512)), serde_json::json!({"num_steps": 10}), &[]),
            (630.0, 0.00693)
        );
        // FLUX.2 [klein] 4B: $0.000059 per input tile + $0.000287 per output tile.
        let (neurons, usd) = estimate("flux-2-klein-4b", None, Value::Null, &[(512, 512), (512, 512)]);
        assert_eq!(usd, 4.0 * 0.000287 + 2.0 * 0.000059);
        assert!((neurons - usd / 0.011 * 1000.0).abs() < 1e-6);
        // No listed price: unknown.
        let sdxl = ImageModel::named("sdxl-base").spec();
        assert_eq!(sdxl.estimate(&sdxl.work(None, &Map::new(), &[])), None);
        assert!(sdxl.price_text().contains("no price listed"));
    }

    #[test]
    fn every_model_is_listed_once_with_a_unique_name_and_cited_page() {
        for (i, spec) in MODELS.iter().enumerate() {
            assert_eq!(ImageModel::from_name(spec.name), Some(ImageModel(i)), "{}", spec.name);
            assert_eq!(spec.model().spec().name, spec.name);
            assert_eq!(
                MODELS
                    .iter()
                    .filter(|other| other.workers_ai_id == spec.workers_ai_id)
                    .count(),
                1,
                "{}",
                spec.name
            );
            assert!(spec
                .page
                .starts_with("https://developers.cloudflare.com/workers-ai/models/"));
            assert!(spec.workers_ai_id.starts_with("@cf/"));
        }
        assert_eq!(MODELS[0].model(), ImageModel::DEFAULT, "the default is listed first");
        assert_eq!(ImageModel::from_name("dall-e"), None);
        assert_eq!(
            format!("{:?}", ImageModel::DEFAULT),
            format!("ImageModel({:?})", MODELS[0].name)
        );
    }
}

/// How often to poll a task of a model whose `typical_time` reads like "fast, ~2-5 s": the low
/// end of that range (an image is seldom ready sooner), kept between 1 and 10 seconds.
pub fn poll_interval_ms(typical_time: &str) -> u64 {
    let low: String = typical_time
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    low.parse::<u64>()
        .map_or(2_000, |seconds| (seconds * 1000).clamp(1_000, 10_000))
}

#[cfg(test)]
mod poll_interval_tests {
    use super::*;

    #[test]
    fn every_model_gets_a_poll_interval_from_its_typical_time() {
        assert_eq!(poll_interval_ms("fastest, ~2-5 s"), 2_000);
        assert_eq!(poll_interval_ms("slowest FLUX, ~10-30 s"), 10_000);
        assert_eq!(poll_interval_ms("highest detail, ~30-45 s"), 10_000);
        assert_eq!(poll_interval_ms("unknown"), 2_000);
        for spec in MODELS.iter() {
            let ms = poll_interval_ms(spec.typical_time);
            assert!((1_000..=10_000).contains(&ms), "{}: {ms}", spec.name);
        }
    }
}
