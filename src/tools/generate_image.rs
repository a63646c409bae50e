//! generate_image and generate_image_and_wait: create job rows, queue one message per image.

use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
#[cfg(test)]
use serde_json::json;
use serde_json::{Map, Value};

use super::args::{parse, ArgError, Field, FieldKind, ToolArgs};
use super::output::{json_text, result_schema, ToolError, ToolOutput};
use super::{quota, ToolContext, ToolResult, ToolSpec};
use crate::catalog::{COUNT, ESTIMATED_TIME_SECONDS, PROMPT_MAX_CHARS, PROMPT_MIN_CHARS};
use crate::jobs::{JobMessage, JobStore, NewJob};
use crate::models::{
    AspectRatio, Control, Controls, ImageModel, ModelSpec, ASPECT_RATIOS, MODELS, NEGATIVE_PROMPT_MAX_CHARS, SEED_MAX,
};

pub const TOOL: ToolSpec = ToolSpec {
    name: "generate_image",
    title: "Generate image (async)",
    description: || {
        "Start generating one or more images from a text prompt and return at once with the job id(s). \
         Use wait_for_completion (or poll get_job_status) to get the image URL. \
         Prefer generate_image_and_wait if you just want the finished image."
            .to_string()
    },
    fields: GenerateArgs::fields,
    #[cfg(test)]
    parse_args: |raw| parse::<GenerateArgs>(raw).map(drop).map_err(|e| e.to_string()),
    output_schema,
    read_only: false,
    reports_images: true,
    handler: handle,
    #[cfg(test)]
    samples: sample_results,
};

/// The arguments of both generate tools. (No `deny_unknown_fields`: serde does not combine it
/// with `flatten`; the agreement test still fails on any field the struct does not read.)
#[derive(Debug, Deserialize)]
#[serde(from = "FlatGenerateArgs")]
#[cfg_attr(test, derive(Serialize))]
pub struct GenerateArgs {
    pub prompt: String,
    pub model: ImageModel,
    pub count: usize,
    #[serde(flatten)]
    pub controls: Controls,
}

/// What a call sends: every field at the top level. Read as one flat struct, because serde's
/// `flatten` buffers the input and compiles a second deserializer into the Wasm.
#[derive(Deserialize)]
struct FlatGenerateArgs {
    prompt: String,
    model: ImageModel,
    count: usize,
    aspect_ratio: Option<AspectRatio>,
    width: Option<i64>,
    height: Option<i64>,
    seed: Option<i64>,
    negative_prompt: Option<String>,
    steps: Option<i64>,
    guidance: Option<f64>,
    strength: Option<f64>,
}

impl From<FlatGenerateArgs> for GenerateArgs {
    fn from(flat: FlatGenerateArgs) -> Self {
        GenerateArgs {
            prompt: flat.prompt,
            model: flat.model,
            count: flat.count,
            controls: Controls {
                aspect_ratio: flat.aspect_ratio,
                width: flat.width,
                height: flat.height,
                seed: flat.seed,
                negative_prompt: flat.negative_prompt,
                steps: flat.steps,
                guidance: flat.guidance,
                strength: flat.strength,
            },
        }
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

impl ToolArgs for GenerateArgs {
    fn fields() -> Vec<Field> {
        let models = text_models()
            .map(|spec| format!("{} ({})", spec.name, spec.typical_time))
            .collect::<Vec<_>>()
            .join(", ");
        let sized: Vec<&str> = text_models().filter(|s| s.size.is_some()).map(|s| s.name).collect();
        let side_min = MODELS.iter().filter_map(|s| s.size).map(|r| r.min).min().unwrap_or(1);
        let side_max = MODELS.iter().filter_map(|s| s.size).map(|r| r.max).max().unwrap_or(1);
        let (steps_min, steps_max) = const { crate::models::integer_bounds(Control::Steps) };
        let (guidance_min, guidance_max) = const { crate::models::number_bounds(Control::Guidance) };
        vec![
            Field::new(
                "prompt",
                format!("What the image should show ({PROMPT_MIN_CHARS}-{PROMPT_MAX_CHARS} characters)."),
                FieldKind::Text {
                    min_len: PROMPT_MIN_CHARS,
                    max_len: Some(PROMPT_MAX_CHARS),
                },
            )
            .required(),
            Field::new(
                "model",
                format!("Image model: {models}. list_models describes each model's parameters and ranges."),
                FieldKind::Choice {
                    options: text_models().map(|spec| spec.name).collect(),
                    default: Some(ImageModel::DEFAULT.name()),
                },
            ),
            Field::new(
                "count",
                format!(
                    "How many images to generate from the prompt ({}). With a seed, image i uses seed + i.",
                    COUNT.range_text()
                ),
                FieldKind::Integer(COUNT),
            ),
            Field::new(
                "aspect_ratio",
                format!(
                    "Image shape, mapped to the model's own size rules at about its default size; not with width/height. \
                     Taken by: {}.",
                    sized.join(", ")
                ),
                FieldKind::Choice {
                    options: ASPECT_RATIOS.iter().map(|r| r.name).collect(),
                    default: None,
                },
            ),
            Field::new(
                "width",
                format!("Image width in pixels, with height; each model has its own range and multiple. {}", takers(Control::Width)),
                FieldKind::OptionalInteger {
                    min: side_min.into(),
                    max: side_max.into(),
                },
            ),
            Field::new(
                "height",
                format!("Image height in pixels, with width. {}", takers(Control::Height)),
                FieldKind::OptionalInteger {
                    min: side_min.into(),
                    max: side_max.into(),
                },
            ),
            Field::new(
                "seed",
                format!(
                    "Seed for a reproducible image; when omitted the server picks one and reports it. {}",
                    takers(Control::Seed)
                ),
                FieldKind::OptionalInteger { min: 0, max: SEED_MAX },
            ),
            Field::new(
                "negative_prompt",
                format!("What the image should not show. {}", takers(Control::NegativePrompt)),
                FieldKind::Text {
                    min_len: 1,
                    max_len: Some(NEGATIVE_PROMPT_MAX_CHARS),
                },
            ),
            Field::new(
                "steps",
                format!("Diffusion steps (each model has its own range). {}", takers(Control::Steps)),
                FieldKind::OptionalInteger {
                    min: steps_min,
                    max: steps_max,
                },
            ),
            Field::new(
                "guidance",
                format!("How closely to follow the prompt (each model has its own range). {}", takers(Control::Guidance)),
                FieldKind::Number {
                    min: guidance_min,
                    max: guidance_max,
                },
            ),
        ]
    }
}

impl GenerateArgs {
    /// The call's jobs, each with its own seed.
    pub fn batch(&self) -> Result<Batch<'_>, ArgError> {
        Ok(Batch {
            prompt: &self.prompt,
            model: self.model,
            jobs: self.plan_jobs(random_seed)?,
            stored_inputs: Vec::new(),
        })
    }

    /// One planned job per image: checked against the model (nothing is stored if this fails),
    /// each with its own seed.
    pub fn plan_jobs(&self, random_seed: impl FnMut() -> u32) -> Result<Vec<NewJob>, ArgError> {
        plan_jobs(self.model, &self.controls, self.count, None, random_seed)
    }
}

/// `count` jobs of `model`, checked against it (nothing is stored if this fails). With a seed in
/// `base`, image i uses seed + i; without, each job gets its own random seed. `inputs` is the JSON
/// list of the images every job's model receives.
pub fn plan_jobs(
    model: ImageModel,
    base: &Controls,
    count: usize,
    inputs: Option<&str>,
    mut random_seed: impl FnMut() -> u32,
) -> Result<Vec<NewJob>, ArgError> {
    let spec = model.spec();
    (0..count)
        .map(|i| {
            let mut controls = base.clone();
            controls.seed = base.seed.map(|seed| (seed + i as i64) % (SEED_MAX + 1));
            let plan = spec.plan(&controls, random_seed()).map_err(ArgError)?;
            Ok(NewJob {
                id: uuid::Uuid::new_v4().to_string(),
                seed: plan.seed,
                width: plan.width,
                height: plan.height,
                parameters: Value::Object(plan.parameters).to_string(),
                inputs: inputs.map(str::to_string),
            })
        })
        .collect()
}

/// One call's jobs, planned and checked, ready to be recorded and queued.
pub struct Batch<'a> {
    pub prompt: &'a str,
    pub model: ImageModel,
    pub jobs: Vec<NewJob>,
    /// R2 keys stored for these jobs (uploaded or converted inputs): deleted if the jobs are
    /// never recorded; once recorded they stay with the jobs, whatever becomes of them.
    pub stored_inputs: Vec<String>,
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
}

/// Reserves the images against the caller's daily quota, records the jobs, then queues them.
/// If recording fails the reservation is given back; if queueing fails the jobs are failed at
/// once (and the reservation given back), so no row is left pending forever.
pub async fn start_jobs(ctx: &ToolContext, batch: Batch<'_>) -> Result<Vec<String>, ToolError> {
    let Batch {
        prompt,
        model,
        jobs,
        stored_inputs,
    } = batch;
    let recorded = record_jobs(ctx, &jobs, prompt, model).await;
    let (store, reservation) = match recorded {
        Ok(recorded) => recorded,
        Err(error) => {
            super::inputs::discard(ctx, &stored_inputs).await;
            return Err(error);
        }
    };
    let ids: Vec<String> = jobs.into_iter().map(|job| job.id).collect();
    let messages: Vec<JobMessage> = ids
        .iter()
        .map(|id| JobMessage {
            job_id: id.clone(),
            prompt: prompt.to_string(),
            model: model.name().to_string(),
        })
        .collect();
    if let Err(error) = enqueue(ctx, messages).await {
        for id in &ids {
            if let Err(store_error) = store.mark_failed(id, &error.to_string(), crate::now_ms()).await {
                worker::console_error!("could not fail job {id} after a queue error: {store_error}");
            }
        }
        reservation.release(&store).await;
        return Err(error);
    }
    worker::console_log!("key {} started {} job(s)", ctx.caller.name(), ids.len());
    Ok(ids)
}

/// Reserves the images against the caller's quota and records the jobs; nothing is left
/// reserved or recorded when this fails.
async fn record_jobs(
    ctx: &ToolContext,
    jobs: &[NewJob],
    prompt: &str,
    model: ImageModel,
) -> Result<(JobStore, quota::Reservation), ToolError> {
    let store: JobStore = ctx.store()?;
    let now = crate::now_ms();
    let reservation = quota::reserve(ctx, &store, jobs.len(), now).await?;
    if let Err(error) = store
        .insert_jobs(
            jobs,
            prompt,
            model.name(),
            ctx.caller.name(),
            now,
            reservation.count_with_jobs(),
        )
        .await
    {
        reservation.release_after_failed_insert(&store).await;
        return Err(error.into());
    }
    Ok((store, reservation))
}

/// A fresh seed from the runtime's random source (the same one job ids come from).
pub fn random_seed() -> u32 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

async fn enqueue(ctx: &ToolContext, messages: Vec<JobMessage>) -> Result<(), ToolError> {
    let queue = ctx.env.queue("IMAGE_QUEUE").map_err(|source| ToolError::Binding {
        name: "IMAGE_QUEUE",
        source,
    })?;
    queue.send_batch(messages).await.map_err(ToolError::Queue)
}

fn handle(ctx: &ToolContext, raw: Map<String, Value>) -> LocalBoxFuture<'_, ToolResult> {
    Box::pin(async move {
        let request: GenerateArgs = parse(&raw)?;
        let ids = start_jobs(ctx, request.batch()?).await?;
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
            }),
        })
    })
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

    #[test]
    fn fields_match() {
        super::super::args::agreement::assert_fields_match::<GenerateArgs>("generate_image");
    }

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
    fn defaults_are_flux_schnell_and_one_image() {
        let args: GenerateArgs = parse(json!({"prompt": "a red fox"}).as_object().unwrap()).unwrap();
        assert_eq!(args.model, ImageModel::named("flux-schnell"));
        assert_eq!(args.count, 1);
        assert_eq!(args.prompt, "a red fox");
    }
}
