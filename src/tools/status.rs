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

/// Every shape get_job_status answers with, built from the same result types as `handle`.
#[cfg(test)]
pub(crate) fn sample_results() -> Vec<(&'static str, ToolOutput)> {
    use crate::jobs::JobRow;
    use crate::pipeline::storage::absolute_image_url;
    let row = |status: JobStatus, image_url: Option<&str>, error: Option<&str>| JobRow {
        id: "4a8e1c52-9f3b-4d0e-8c1a-2b7f6e5d4c3b".into(),
        status,
        prompt: "a lighthouse at dusk".into(),
        model: "flux-schnell".into(),
        image_url: image_url.map(String::from),
        error: error.map(String::from),
        created_at: 1_767_000_000_000,
        updated_at: 1_767_000_004_000,
    };
    let found = |job: JobRow| {
        ToolOutput::success(&JobStatusResult {
            success: true,
            job_id: &job.id,
            status: job.status,
            image_url: job
                .image_url
                .as_deref()
                .map(|url| absolute_image_url(url, "https://worker.example")),
            error: job.error.as_deref(),
            prompt: &job.prompt,
            model: &job.model,
            created_at: job.created_at,
            updated_at: job.updated_at,
        })
    };
    vec![
        ("pending, null url", found(row(JobStatus::Pending, None, None))),
        (
            "processing after a failed attempt",
            found(row(JobStatus::Processing, None, Some("attempt 1 failed"))),
        ),
        (
            "completed with url",
            found(row(JobStatus::Completed, Some("/images/a.jpg"), None)),
        ),
        (
            "failed with error",
            found(row(JobStatus::Failed, None, Some("model unavailable"))),
        ),
        (
            "not found",
            ToolOutput::failure(&NotFound {
                success: false,
                error: "Job not found",
                job_id: "no-such-job",
            }),
        ),
    ]
}
