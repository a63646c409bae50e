//! generate_image and generate_image_and_wait: create job rows, queue one message per image.

use serde::Serialize;
use serde_json::json;

use super::args::{Args, Field, FieldKind};
use super::output::{result_schema, ToolError, ToolOutput};
use super::{wait, ToolContext, ToolDefinition, ToolName};
use crate::catalog::{ImageModel, COUNT, ESTIMATED_TIME_SECONDS, PROMPT_MAX_CHARS, PROMPT_MIN_CHARS};
use crate::jobs::{JobMessage, JobStore};

fn fields() -> Vec<Field> {
    let models = ImageModel::ALL
        .iter()
        .map(|m| format!("{} ({})", m.name(), m.typical_time()))
        .collect::<Vec<_>>()
        .join(", ");
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
            format!("Image model: {models}."),
            FieldKind::Choice {
                options: ImageModel::ALL.iter().map(|m| m.name()).collect(),
                default: ImageModel::DEFAULT.name(),
            },
        ),
        Field::new(
            "count",
            format!("How many images to generate from the prompt ({}).", COUNT.range_text()),
            FieldKind::Integer(COUNT),
        ),
    ]
}

pub fn definition() -> ToolDefinition {
    ToolDefinition {
        name: ToolName::GenerateImage,
        title: "Generate image (async)",
        description: "Start generating one or more images from a text prompt and return at once with the job id(s). \
            Use wait_for_completion (or poll get_job_status) to get the image URL. \
            Prefer generate_image_and_wait if you just want the finished image."
            .to_string(),
        fields: fields(),
        output_schema: result_schema(json!({
                "job_id": {"type": "string", "description": "Present when count is 1."},
                "job_ids": {"type": "array", "items": {"type": "string"}, "description": "Present when count > 1."},
                "count": {"type": "integer"},
                "status": {"type": "string", "enum": ["pending"]},
                "message": {"type": "string"},
                "prompt": {"type": "string"},
                "model": {"type": "string"},
                "estimated_time_seconds": {"type": "integer"},
                "note": {"type": "string"}
        })),
        read_only: false,
    }
}

pub fn and_wait_definition() -> ToolDefinition {
    ToolDefinition {
        name: ToolName::GenerateImageAndWait,
        title: "Generate image and wait",
        description: "Generate one or more images from a text prompt and wait until they are ready, \
            returning the image URL(s) in one call. The easiest way to get an image. \
            If generation takes longer than this call may wait, the result lists the finished images \
            and the job ids still running: pass those to wait_for_completion."
            .to_string(),
        fields: fields(),
        output_schema: wait::output_schema(),
        read_only: false,
    }
}

/// Validated generate arguments.
struct GenerateRequest<'a> {
    prompt: &'a str,
    model: ImageModel,
    count: usize,
}

impl<'a> GenerateRequest<'a> {
    fn from_args(args: &'a Args) -> Self {
        // Validation already guaranteed these; the fallbacks keep this total without unwrap.
        let prompt = args.text("prompt").unwrap_or_default();
        let model = args
            .text("model")
            .and_then(ImageModel::from_name)
            .unwrap_or(ImageModel::DEFAULT);
        let count = args.integer("count").unwrap_or(COUNT.default).max(1) as usize;
        GenerateRequest { prompt, model, count }
    }
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

/// Records the jobs, then queues them. If queueing fails the jobs are failed at once,
/// so no row is left pending forever.
async fn start_jobs(ctx: &ToolContext, request: &GenerateRequest<'_>) -> Result<Vec<String>, ToolError> {
    let store: JobStore = ctx.store()?;
    let ids: Vec<String> = (0..request.count).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let now = crate::now_ms();
    store
        .insert_jobs(&ids, request.prompt, request.model.name(), now)
        .await?;
    let messages: Vec<JobMessage> = ids
        .iter()
        .map(|id| JobMessage {
            job_id: id.clone(),
            prompt: request.prompt.to_string(),
            model: request.model.name().to_string(),
        })
        .collect();
    if let Err(error) = enqueue(ctx, messages).await {
        for id in &ids {
            if let Err(store_error) = store.mark_failed(id, &error.to_string(), crate::now_ms()).await {
                worker::console_error!("could not fail job {id} after a queue error: {store_error}");
            }
        }
        return Err(error);
    }
    Ok(ids)
}

async fn enqueue(ctx: &ToolContext, messages: Vec<JobMessage>) -> Result<(), ToolError> {
    let queue = ctx
        .env
        .queue("IMAGE_QUEUE")
        .map_err(|e| ToolError::Binding(format!("IMAGE_QUEUE: {e}")))?;
    queue
        .send_batch(messages)
        .await
        .map_err(|e| ToolError::Queue(e.to_string()))
}

pub async fn handle(ctx: &ToolContext, args: &Args) -> Result<ToolOutput, ToolError> {
    let request = GenerateRequest::from_args(args);
    let ids = start_jobs(ctx, &request).await?;
    let model = request.model.name();
    Ok(match ids.as_slice() {
        [id] => ToolOutput::success(&StartedOne {
            success: true,
            job_id: id,
            status: "pending",
            message: "Image generation started. Call wait_for_completion with this job_id to get the image URL \
                      (or poll get_job_status)."
                .to_string(),
            prompt: request.prompt,
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
            prompt: request.prompt,
            model,
            estimated_time_seconds: ESTIMATED_TIME_SECONDS,
        }),
    })
}

pub async fn handle_and_wait(ctx: &ToolContext, args: &Args) -> Result<ToolOutput, ToolError> {
    let request = GenerateRequest::from_args(args);
    let ids = start_jobs(ctx, &request).await?;
    wait::wait_for_jobs(ctx, ids).await
}

/// Every shape generate_image answers with, built from the same result types as `handle`.
/// generate_image_and_wait answers with the wait shapes (`wait::sample_results`).
#[cfg(test)]
pub(crate) fn sample_results() -> Vec<(&'static str, ToolOutput)> {
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
            "queue failure",
            ToolOutput::error_message(ToolError::Queue("queue unavailable".into())),
        ),
    ]
}
