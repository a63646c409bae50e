//! get_job_status: one job's row as the client sees it.

use serde::Serialize;
use serde_json::json;

use super::args::{Args, Field, FieldKind};
use super::output::{result_schema, ToolError, ToolOutput};
use super::{ToolContext, ToolDefinition, ToolName};
use crate::jobs::JobStatus;

pub fn definition() -> ToolDefinition {
    ToolDefinition {
        name: ToolName::GetJobStatus,
        title: "Get job status",
        description: "Check one image job: pending, processing, completed (with image_url) or failed (with error). \
            To block until it finishes, use wait_for_completion instead of polling."
            .to_string(),
        fields: vec![Field::new(
            "job_id",
            "The job id returned by generate_image.",
            FieldKind::Text {
                min_len: 1,
                max_len: None,
            },
        )
        .required()],
        output_schema: result_schema(json!({
                "job_id": {"type": "string"},
                "status": {"type": "string", "enum": JobStatus::ALL.map(JobStatus::as_str)},
                "image_url": {"type": ["string", "null"]},
                "prompt": {"type": "string"},
                "model": {"type": "string"},
                "created_at": {"type": "integer", "description": "Unix time in milliseconds."},
                "updated_at": {"type": "integer", "description": "Unix time in milliseconds."}
        })),
        read_only: true,
    }
}

#[derive(Serialize)]
struct JobStatusResult<'a> {
    success: bool,
    job_id: &'a str,
    status: JobStatus,
    image_url: Option<String>,
    error: Option<&'a str>,
    prompt: &'a str,
    model: &'a str,
    created_at: i64,
    updated_at: i64,
}

#[derive(Serialize)]
struct NotFound<'a> {
    success: bool,
    error: &'static str,
    job_id: &'a str,
}

pub async fn handle(ctx: &ToolContext, args: &Args) -> Result<ToolOutput, ToolError> {
    let job_id = args.text("job_id").unwrap_or_default();
    let Some(job) = ctx.store()?.job(job_id).await? else {
        return Ok(ToolOutput::failure(&NotFound {
            success: false,
            error: "Job not found",
            job_id,
        }));
    };
    Ok(ToolOutput::success(&JobStatusResult {
        success: true,
        job_id: &job.id,
        status: job.status,
        image_url: ctx.image_url(job.image_url.as_deref()),
        error: job.error.as_deref(),
        prompt: &job.prompt,
        model: &job.model,
        created_at: job.created_at,
        updated_at: job.updated_at,
    }))
}
