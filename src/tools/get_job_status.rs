//! get_job_status: one job's row as the client sees it.

use serde::Serialize;
use serde_json::Value;

use super::args::{arg, tool_args, FieldKind};
use super::generation::{with_generation, Generation};
use super::output::{json_text, result_schema, status_names, ToolOutput};
use super::previews::{preview_arg, FinishedImage};
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::catalog::JOB_ID_MAX_CHARS;
use crate::icons;
use crate::jobs::{JobRow, JobStatus};

pub const TOOL: ToolSpec = ToolSpec {
    name: "get_job_status",
    title: "Get job status",
    description: || {
        "Check one image job: pending, processing, completed (with image_url), failed (with error), cancelled, or deleted \
         (delete_image removed its image; prompt and parameters are cleared). \
         To block until it finishes, use wait_for_completion instead of polling."
            .to_string()
    },
    typed: Typed::of::<GetJobStatus>(),
    output_schema,
    scope: Scope::Read,
    hints: Hints::READ,
    reports_images: false,
    extras: Extras {
        icon: Some(icons::STATUS),
        // Shows the image, or the job that will be one.
        viewer: true,
        ..Extras::NONE
    },
    #[cfg(test)]
    samples: sample_results,
};

tool_args! {
    pub struct Args {
        job_id: String = arg(
            "The job id returned by generate_image.",
            FieldKind::Text {
                min_len: 1,
                max_len: Some(JOB_ID_MAX_CHARS),
            },
        )
        .required(),
        preview: bool = preview_arg(),
    }
}

fn output_schema() -> Value {
    let mut properties = json_text(
        r#"{
            "job_id": {"type": "string"},
            "status": {"type": "string"},
            "image_url": {"type": ["string", "null"]},
            "thumbnail_url": {"type": ["string", "null"], "description": "A small WebP preview of the image (null when there is none)."},
            "prompt": {"type": "string"},
            "model": {"type": "string"},
            "created_at": {"type": "integer", "description": "Unix time in milliseconds."},
            "updated_at": {"type": "integer", "description": "Unix time in milliseconds."}
    }"#,
    );
    properties["status"]["enum"] = status_names();
    with_generation(result_schema(properties))
}

#[derive(Serialize)]
struct JobStatusResult<'a> {
    success: bool,
    job_id: &'a str,
    status: JobStatus,
    image_url: Option<String>,
    thumbnail_url: Option<String>,
    error: Option<&'a str>,
    prompt: &'a str,
    model: &'a str,
    created_at: i64,
    updated_at: i64,
    #[serde(flatten)]
    generation: Generation,
}

#[derive(Serialize)]
struct NotFound<'a> {
    success: bool,
    error: &'static str,
    job_id: &'a str,
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct GetJobStatus;

impl Handler for GetJobStatus {
    type Args = Args;

    async fn handle(ctx: &ToolContext, args: Args) -> ToolResult {
        respond(ctx, &args.job_id, args.preview).await
    }
}

async fn respond(ctx: &ToolContext, job_id: &str, preview: bool) -> ToolResult {
    let Some(job) = ctx.store()?.job(job_id, ctx.caller.visible_owner()).await? else {
        return Ok(ToolOutput::failure(&NotFound {
            success: false,
            error: "Job not found",
            job_id,
        }));
    };
    Ok(job_status(&job, &ctx.origin, preview))
}

/// The job as a result, showing its image when it has finished one.
fn job_status(job: &JobRow, origin: &str, preview: bool) -> ToolOutput {
    let images = FinishedImage::of_job(job).into_iter().collect();
    let output = ToolOutput::success(&JobStatusResult {
        success: true,
        job_id: &job.id,
        status: job.status,
        image_url: job
            .image_url
            .as_deref()
            .map(|url| crate::urls::absolute_image_url(url, origin)),
        thumbnail_url: job
            .thumbnail_url
            .as_deref()
            .map(|url| crate::urls::absolute_image_url(url, origin)),
        error: job.error.as_deref(),
        prompt: &job.prompt,
        model: &job.model,
        created_at: job.created_at,
        updated_at: job.updated_at,
        generation: Generation::of_job(job, origin),
    });
    output.showing(images, preview)
}

/// Every shape get_job_status answers with, built from the same result types as `respond`.
#[cfg(test)]
fn sample_results() -> Vec<(&'static str, ToolOutput)> {
    let row = |status: JobStatus, image_url: Option<&str>, error: Option<&str>| JobRow {
        id: "4a8e1c52-9f3b-4d0e-8c1a-2b7f6e5d4c3b".into(),
        status,
        prompt: "a lighthouse at dusk".into(),
        model: "phoenix".into(),
        image_url: image_url.map(String::from),
        error: error.map(String::from),
        created_at: 1_767_000_000_000,
        updated_at: 1_767_000_004_000,
        seed: Some(42),
        width: Some(1024),
        height: Some(768),
        parameters: Some(r#"{"width":1024,"height":768,"seed":42}"#.into()),
        thumbnail_url: image_url.map(|url| url.replace(".jpg", "-thumb.webp")),
        image_size: image_url.map(|_| 183_220),
        inputs: Some(super::generation::SAMPLE_INPUTS.into()),
        estimated_neurons: Some(57.6),
        estimated_usd: Some(0.0006336),
        thumbnail_base64: None,
    };
    let found = |job: JobRow| job_status(&job, "https://worker.example", true);
    let mut legacy = row(JobStatus::Completed, Some("/images/b.png"), None);
    (legacy.seed, legacy.width, legacy.height, legacy.parameters) = (None, None, None, None);
    (legacy.thumbnail_url, legacy.image_size) = (None, None);
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
        ("completed before parameters were recorded", found(legacy)),
        (
            "failed with error",
            found(row(JobStatus::Failed, None, Some("model unavailable"))),
        ),
        (
            "deleted tombstone",
            found(JobRow {
                prompt: String::new(),
                seed: None,
                width: None,
                height: None,
                parameters: None,
                thumbnail_url: None,
                image_size: None,
                inputs: None,
                ..row(JobStatus::Deleted, None, Some(crate::jobs::delete_sql::DELETED_MESSAGE))
            }),
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
