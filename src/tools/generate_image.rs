//! generate_image and generate_image_and_wait: create job rows, queue one message per image
//! (through `services::jobs`).

use serde::Serialize;
#[cfg(test)]
use serde_json::json;
use serde_json::Value;

#[cfg(test)]
use super::args::ArgError;
use super::args::{arg, tool_args, Arg, FieldKind, Flatten};
#[cfg(test)]
use super::output::ToolError;
use super::output::{json_text, result_schema, ToolOutput};
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::catalog::{COUNT, ESTIMATED_TIME_SECONDS, PROMPT_MAX_CHARS, PROMPT_MIN_CHARS};
use crate::icons;
use crate::jobs::NewJob;
use crate::models::{
    js_opt_f64, AspectRatio, Control, Controls, ImageModel, ModelSpec, ASPECT_RATIOS, MODELS,
    NEGATIVE_PROMPT_MAX_CHARS, SEED_MAX,
};
use crate::services::jobs::{estimate_jobs, plan_jobs, random_seed, start_jobs, Batch};
use crate::services::ServiceError;

pub const TOOL: ToolSpec = ToolSpec {
    name: "generate_image",
    title: "Generate image (async)",
    description: || {
        "Start generating one or more images from a text prompt and return at once with the job id(s). \
         Use wait_for_completion (or poll get_job_status) to get the image URL. \
         Prefer generate_image_and_wait if you just want the finished image."
            .to_string()
    },
    typed: Typed::of::<GenerateImage>(),
    output_schema,
    scope: Scope::Write,
    hints: Hints::GENERATE,
    reports_images: true,
    extras: Extras {
        icon: Some(icons::GENERATE),
        ..Extras::NONE
    },
    #[cfg(test)]
    samples: sample_results,
};

tool_args! {
    /// The arguments of generate_image (and, with `preview`, of generate_image_and_wait).
    pub struct GenerateArgs {
        pub prompt: String = prompt_arg(),
        pub model: ImageModel = arg(
            format!(
                "Image model: {}. list_models describes each model's parameters and ranges.",
                text_models()
                    .map(|spec| format!("{} ({})", spec.name, spec.typical_time))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            FieldKind::Choice {
                options: text_models().map(|spec| spec.name).collect(),
                default: Some(ImageModel::DEFAULT.name()),
            },
        ),
        pub count: usize = count_arg(),
        pub controls: ControlArgs = Flatten,
    }
}

tool_args! {
    /// The image controls both generate tools and edit_image offer; which model takes which is
    /// checked when the jobs are planned.
    pub struct ControlArgs {
        pub aspect_ratio: Option<AspectRatio> = arg(
            format!(
                "Image shape, mapped to the model's own size rules at about its default size; not with width/height. \
                 Taken by: {}.",
                text_models().filter(|s| s.size.is_some()).map(|s| s.name).collect::<Vec<_>>().join(", ")
            ),
            FieldKind::Choice {
                options: ASPECT_RATIOS.iter().map(|r| r.name).collect(),
                default: None,
            },
        ),
        pub width: Option<i64> = arg(
            format!("Image width in pixels, with height; each model has its own range and multiple. {}", takers(Control::Width)),
            side_kind(),
        ),
        pub height: Option<i64> = arg(
            format!("Image height in pixels, with width. {}", takers(Control::Height)),
            side_kind(),
        ),
        pub seed: Option<i64> = arg(
            format!(
                "Seed for a reproducible image; when omitted the server picks one and reports it. {}",
                takers(Control::Seed)
            ),
            FieldKind::OptionalInteger { min: 0, max: SEED_MAX },
        ),
        pub negative_prompt: Option<String> = arg(
            format!("What the image should not show. {}", takers(Control::NegativePrompt)),
            FieldKind::Text {
                min_len: 1,
                max_len: Some(NEGATIVE_PROMPT_MAX_CHARS),
            },
        ),
        pub steps: Option<i64> = arg(
            format!("Diffusion steps (each model has its own range). {}", takers(Control::Steps)),
            {
                let (min, max) = crate::models::integer_bounds(Control::Steps);
                FieldKind::OptionalInteger { min, max }
            },
        ),
        pub guidance: Option<f64> = arg(
            format!("How closely to follow the prompt (each model has its own range). {}", takers(Control::Guidance)),
            {
                let (min, max) = crate::models::number_bounds(Control::Guidance);
                FieldKind::Number { min, max }
            },
        ),
    }
}

impl ControlArgs {
    /// The model controls these arguments ask for, with `strength` (which only edits take).
    pub fn to_controls(&self, strength: Option<f64>) -> Controls {
        Controls {
            aspect_ratio: self.aspect_ratio,
            width: self.width,
            height: self.height,
            seed: self.seed,
            negative_prompt: self.negative_prompt.clone(),
            steps: self.steps,
            guidance: self.guidance,
            strength,
        }
    }
}

/// The `prompt` argument of every tool that draws from a prompt.
pub fn prompt_arg() -> Arg {
    arg(
        format!("What the image should show ({PROMPT_MIN_CHARS}-{PROMPT_MAX_CHARS} characters)."),
        FieldKind::Text {
            min_len: PROMPT_MIN_CHARS,
            max_len: Some(PROMPT_MAX_CHARS),
        },
    )
    .required()
}

/// The `count` argument: how many images one call starts.
pub fn count_arg() -> Arg {
    arg(
        format!(
            "How many images to generate from the prompt ({}). With a seed, image i uses seed + i.",
            COUNT.range_text()
        ),
        FieldKind::Integer(COUNT),
    )
}

/// Width and height: the widest range any model takes (each model's own is checked in planning).
fn side_kind() -> FieldKind {
    let side_min = MODELS.iter().filter_map(|s| s.size).map(|r| r.min).min().unwrap_or(1);
    let side_max = MODELS.iter().filter_map(|s| s.size).map(|r| r.max).max().unwrap_or(1);
    FieldKind::OptionalInteger {
        min: side_min.into(),
        max: side_max.into(),
    }
}

/// The models generate_image offers: those that draw from a prompt alone.
fn text_models() -> impl Iterator<Item = &'static ModelSpec> {
    MODELS.iter().filter(|spec| spec.model().draws_from_text())
}

/// Which models take a control, for its description.
fn takers(control: Control) -> String {
    let names: Vec<&str> = text_models()
        .filter(|spec| spec.params.iter().any(|p| p.control == control))
        .map(|spec| spec.name)
        .collect();
    format!("Taken by: {}.", names.join(", "))
}

impl GenerateArgs {
    /// The call's jobs, each with its own seed.
    pub fn batch(&self) -> Result<Batch<'_>, ServiceError> {
        Ok(Batch {
            prompt: &self.prompt,
            model: self.model.into(),
            jobs: self.plan_jobs(random_seed)?,
            stored_inputs: Vec::new(),
        })
    }

    /// One planned job per image: checked against the model (nothing is stored if this fails),
    /// each with its own seed.
    pub fn plan_jobs(&self, random_seed: impl FnMut() -> u32) -> Result<Vec<NewJob>, ServiceError> {
        plan_jobs(
            self.model,
            &self.controls.to_controls(None),
            self.count,
            None,
            random_seed,
        )
    }
}

fn output_schema() -> Value {
    result_schema(json_text(
        r#"{
            "job_id": {"type": "string", "description": "Present when count is 1."},
            "job_ids": {"type": "array", "items": {"type": "string"}, "description": "Present when count > 1."},
            "count": {"type": "integer"},
            "status": {"type": "string", "enum": ["pending"]},
            "message": {"type": "string"},
            "prompt": {"type": "string"},
            "model": {"type": "string"},
            "estimated_time_seconds": {"type": "integer"},
            "estimated_neurons": {"type": ["number", "null"], "description": "Workers AI neurons the call's images are estimated at, from the model's published price (null: no price listed)."},
            "estimated_usd": {"type": ["number", "null"], "description": "The estimate in USD ($0.011 per 1,000 neurons)."},
            "note": {"type": "string"}
    }"#,
    ))
}

#[derive(Serialize)]
struct StartedOne<'a> {
    success: bool,
    job_id: &'a str,
    status: &'static str,
    message: String,
    prompt: &'a str,
    model: &'static str,
    estimated_time_seconds: u32,
    #[serde(serialize_with = "js_opt_f64")]
    estimated_neurons: Option<f64>,
    #[serde(serialize_with = "js_opt_f64")]
    estimated_usd: Option<f64>,
}

#[derive(Serialize)]
struct StartedMany<'a> {
    success: bool,
    job_ids: &'a [String],
    count: usize,
    status: &'static str,
    message: String,
    prompt: &'a str,
    model: &'static str,
    estimated_time_seconds: u32,
    #[serde(serialize_with = "js_opt_f64")]
    estimated_neurons: Option<f64>,
    #[serde(serialize_with = "js_opt_f64")]
    estimated_usd: Option<f64>,
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct GenerateImage;

impl Handler for GenerateImage {
    type Args = GenerateArgs;

    async fn handle(ctx: &ToolContext, request: GenerateArgs) -> ToolResult {
        let batch = request.batch()?;
        // The whole call's estimate (each job records its own when it is created).
        let spend = estimate_jobs(batch.model, &mut batch.jobs.clone());
        let priced = request.model.spec().price.is_some();
        let (estimated_neurons, estimated_usd) = match priced {
            true => (Some(round(spend.neurons)), Some(round(spend.usd))),
            false => (None, None),
        };
        let ids = start_jobs(ctx, batch).await?;
        let model = request.model.name();
        Ok(match ids.as_slice() {
            [id] => ToolOutput::success(&StartedOne {
                success: true,
                job_id: id,
                status: "pending",
                message: "Image generation started. Call wait_for_completion with this job_id to get the image URL \
                          (or poll get_job_status)."
                    .to_string(),
                prompt: &request.prompt,
                model,
                estimated_time_seconds: ESTIMATED_TIME_SECONDS,
                estimated_neurons,
                estimated_usd,
            }),
            _ => ToolOutput::success(&StartedMany {
                success: true,
                job_ids: &ids,
                count: ids.len(),
                status: "pending",
                message: format!(
                    "Started {} image generation jobs. Call wait_for_completion with these job_ids to get the image URLs.",
                    ids.len()
                ),
                prompt: &request.prompt,
                model,
                estimated_time_seconds: ESTIMATED_TIME_SECONDS,
                estimated_neurons,
                estimated_usd,
            }),
        })
    }
}

/// A sum of estimates to a billionth (no float noise in results).
fn round(value: f64) -> f64 {
    (value * 1e9).round() / 1e9
}

/// Every shape generate_image answers with, built from the same result types as `handle`.
/// generate_image_and_wait answers with the wait shapes.
#[cfg(test)]
fn sample_results() -> Vec<(&'static str, ToolOutput)> {
    let model = ImageModel::DEFAULT.name();
    let ids = vec![
        "0b7c6a1e-1f2d-4e3c-9a8b-7c6d5e4f3a2b".to_string(),
        "5d4c3b2a-1e0f-4a9b-8c7d-6e5f4a3b2c1d".to_string(),
    ];
    vec![
        (
            "one job",
            ToolOutput::success(&StartedOne {
                success: true,
                job_id: &ids[0],
                status: "pending",
                message: "Image generation started.".to_string(),
                prompt: "a red fox in snow",
                model,
                estimated_time_seconds: ESTIMATED_TIME_SECONDS,
                estimated_neurons: Some(57.6),
                estimated_usd: Some(0.0006336),
            }),
        ),
        (
            "many jobs",
            ToolOutput::success(&StartedMany {
                success: true,
                job_ids: &ids,
                count: ids.len(),
                status: "pending",
                message: "Started 2 image generation jobs.".to_string(),
                prompt: "a red fox in snow",
                model,
                estimated_time_seconds: ESTIMATED_TIME_SECONDS,
                estimated_neurons: None,
                estimated_usd: None,
            }),
        ),
        (
            "a parameter the model does not take",
            ToolOutput::error_message(ToolError::Args(ArgError(
                "flux-schnell does not take negative_prompt. Model flux-schnell takes: steps (1-8, default 4).".into(),
            ))),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::args::parse;

    fn args(value: Value) -> GenerateArgs {
        parse(value.as_object().unwrap()).unwrap()
    }

    #[test]
    fn each_image_gets_its_own_seed_and_the_same_checked_parameters() {
        let mut next = 100;
        let chosen = args(json!({"prompt": "a fox", "model": "phoenix", "count": 3, "steps": 30}))
            .plan_jobs(|| {
                next += 1;
                next
            })
            .unwrap();
        assert_eq!(
            chosen.iter().map(|j| j.seed).collect::<Vec<_>>(),
            [Some(101), Some(102), Some(103)]
        );
        assert!(chosen.iter().all(|j| j.parameters.contains("\"num_steps\":30")));
        let given =
            args(json!({"prompt": "a fox", "model": "flux-2-dev", "count": 2, "seed": 42, "aspect_ratio": "16:9"}))
                .plan_jobs(|| 0)
                .unwrap();
        assert_eq!((given[0].seed, given[1].seed), (Some(42), Some(43)));
        assert_eq!((given[0].width, given[0].height), (Some(1152), Some(640)));
    }

    #[test]
    fn a_parameter_the_model_does_not_take_is_refused_before_anything_is_stored() {
        let error = args(json!({"prompt": "a fox", "negative_prompt": "blur"}))
            .plan_jobs(|| 0)
            .unwrap_err()
            .to_string();
        assert!(error.contains("flux-schnell does not take negative_prompt"), "{error}");
        assert!(error.contains("steps (1-8, default 4)"), "{error}");
    }

    #[test]
    // The original's defaults, which its clients rely on: pinned as literals, not read from the catalog.
    fn defaults_are_flux_schnell_and_one_image() {
        let args: GenerateArgs = parse(json!({"prompt": "a red fox"}).as_object().unwrap()).unwrap();
        assert_eq!(args.model, ImageModel::named("flux-schnell"));
        assert_eq!(args.count, 1);
        assert_eq!(args.prompt, "a red fox");
    }
}
