//! generate_image and generate_image_and_wait: create job rows, queue one message per image.

use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::args::{parse, Field, FieldKind, ToolArgs};
use super::output::{result_schema, ToolError, ToolOutput};
use super::{ToolContext, ToolResult, ToolSpec};
use crate::catalog::{ImageModel, COUNT, ESTIMATED_TIME_SECONDS, PROMPT_MAX_CHARS, PROMPT_MIN_CHARS};
use crate::jobs::{JobMessage, JobStore};

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
    output_schema,
    read_only: false,
    reports_images: true,
    handler: handle,
};

/// The arguments of both generate tools.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
pub struct GenerateArgs {
    pub prompt: String,
    pub model: ImageModel,
    pub count: usize,
}

impl ToolArgs for GenerateArgs {
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
}

fn output_schema() -> Value {
    result_schema(json!({
            "job_id": {"type": "string", "description": "Present when count is 1."},
            "job_ids": {"type": "array", "items": {"type": "string"}, "description": "Present when count > 1."},
            "count": {"type": "integer"},
            "status": {"type": "string", "enum": ["pending"]},
            "message": {"type": "string"},
            "prompt": {"type": "string"},
            "model": {"type": "string"},
            "estimated_time_seconds": {"type": "integer"},
            "note": {"type": "string"}
    }))
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
pub async fn start_jobs(ctx: &ToolContext, request: &GenerateArgs) -> Result<Vec<String>, ToolError> {
    let store: JobStore = ctx.store()?;
    let ids: Vec<String> = (0..request.count).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let now = crate::now_ms();
    store
        .insert_jobs(&ids, &request.prompt, request.model.name(), now)
        .await?;
    let messages: Vec<JobMessage> = ids
        .iter()
        .map(|id| JobMessage {
            job_id: id.clone(),
            prompt: request.prompt.clone(),
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
    let queue = ctx.env.queue("IMAGE_QUEUE").map_err(|source| ToolError::Binding {
        name: "IMAGE_QUEUE",
        source,
    })?;
    queue.send_batch(messages).await.map_err(ToolError::Queue)
}

fn handle(ctx: &ToolContext, raw: Map<String, Value>) -> LocalBoxFuture<'_, ToolResult> {
    Box::pin(async move {
        let request: GenerateArgs = parse(&raw)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_match() {
        super::super::args::agreement::assert_fields_match::<GenerateArgs>("generate_image");
    }

    #[test]
    fn defaults_are_flux_schnell_and_one_image() {
        let args: GenerateArgs = parse(json!({"prompt": "a red fox"}).as_object().unwrap()).unwrap();
        assert_eq!(args.model, ImageModel::FluxSchnell);
        assert_eq!(args.count, 1);
        assert_eq!(args.prompt, "a red fox");
    }
}
