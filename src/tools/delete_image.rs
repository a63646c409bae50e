//! delete_image: delete finished jobs' images for good; each job row stays as a tombstone that
//! answers "deleted" (see `services::deletion` for the order and the guards).

use serde::Serialize;
use serde_json::Value;

use super::args::tool_args;
use super::job_ids::{job_ids_args, JobIds};
use super::output::{json_text, result_schema, ToolOutput};
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::catalog::{DELETE_JOB_IDS_MAX, WAIT_JOB_IDS_MIN};
use crate::services::deletion::{self, Deleted, Refusal};

pub const TOOL: ToolSpec = ToolSpec {
    name: "delete_image",
    title: "Delete images",
    description: || {
        format!(
            "Delete finished images for good: pass exactly one of job_id or job_ids (up to {DELETE_JOB_IDS_MAX}). \
             The image, its thumbnail and stored inputs no other job uses are removed from storage; the job then \
             answers status \"deleted\" with its prompt and parameters cleared, and leaves the gallery. A key deletes \
             only its own jobs. Jobs still pending or processing are refused (wait for them first); deleting again \
             is harmless. All or nothing: if one id cannot be deleted, none is."
        )
    },
    typed: Typed::of::<DeleteImage>(),
    output_schema,
    scope: Scope::Write,
    hints: Hints::DELETE,
    reports_images: false,
    extras: Extras::NONE,
    #[cfg(test)]
    samples: sample_results,
};

tool_args! {
    pub struct Args {
        jobs: JobIds = job_ids_args(
            "One job id whose image to delete.",
            format!("Several job ids whose images to delete ({WAIT_JOB_IDS_MIN}-{DELETE_JOB_IDS_MAX})."),
            DELETE_JOB_IDS_MAX,
        ),
    }
}

fn output_schema() -> Value {
    result_schema(json_text(
        r#"{
            "status": {"type": "string", "enum": ["deleted"]},
            "count": {"type": "integer", "description": "Jobs that are now deleted (this call's and earlier ones')."},
            "deleted": {"type": "array", "items": {"type": "string"}, "description": "Jobs this call deleted."},
            "already_deleted": {"type": "array", "items": {"type": "string"}, "description": "Jobs deleted before this call (nothing more to do)."},
            "inputs_removed": {"type": "integer", "description": "Stored input images removed because no other job used them."},
            "not_found": {"type": "array", "items": {"type": "string"}, "description": "Ids with no job this caller may see (nothing was deleted)."},
            "running": {"type": "array", "items": {"type": "object", "properties": {
                "job_id": {"type": "string"}, "status": {"type": "string"}}},
                "description": "Jobs still running, so nothing was deleted."}
    }"#,
    ))
}

#[derive(Serialize)]
struct DeletedResult {
    success: bool,
    status: &'static str,
    count: usize,
    deleted: Vec<String>,
    already_deleted: Vec<String>,
    inputs_removed: usize,
}

#[derive(Serialize)]
struct RefusedResult {
    success: bool,
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_found: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    running: Option<Vec<RunningJob>>,
}

#[derive(Serialize)]
struct RunningJob {
    job_id: String,
    status: &'static str,
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct DeleteImage;

impl Handler for DeleteImage {
    type Args = Args;

    async fn handle(ctx: &ToolContext, args: Args) -> ToolResult {
        let ids = args.jobs.ids()?;
        let ids = super::wait_for_completion::distinct(ids);
        Ok(match deletion::delete_images(ctx, &ids).await? {
            Ok(done) => deleted(done),
            Err(refusal) => refused(refusal),
        })
    }
}

fn deleted(done: Deleted) -> ToolOutput {
    ToolOutput::success(&DeletedResult {
        success: true,
        status: "deleted",
        count: done.deleted.len() + done.already_deleted.len(),
        deleted: done.deleted,
        already_deleted: done.already_deleted,
        inputs_removed: done.inputs,
    })
}

fn refused(refusal: Refusal) -> ToolOutput {
    let error = refusal.to_string();
    let (not_found, running) = match refusal {
        Refusal::InUse(_) => (None, None),
        Refusal::NotFound(ids) => (Some(ids), None),
        Refusal::Running(jobs) => (
            None,
            Some(
                jobs.into_iter()
                    .map(|(job_id, status)| RunningJob {
                        job_id,
                        status: status.as_str(),
                    })
                    .collect(),
            ),
        ),
    };
    ToolOutput::failure(&RefusedResult {
        success: false,
        error,
        not_found,
        running,
    })
}

/// Every shape delete_image answers with, built as `handle` builds them.
#[cfg(test)]
fn sample_results() -> Vec<(&'static str, ToolOutput)> {
    use crate::jobs::JobStatus;
    let id = |n: u8| format!("4a8e1c52-9f3b-4d0e-8c1a-2b7f6e5d4c3{n}");
    vec![
        (
            "deleted one",
            deleted(Deleted {
                deleted: vec![id(1)],
                object_keys: 4,
                inputs: 1,
                ..Deleted::default()
            }),
        ),
        (
            "deleted again",
            deleted(Deleted {
                already_deleted: vec![id(1)],
                ..Deleted::default()
            }),
        ),
        ("not found", refused(Refusal::NotFound(vec![id(2)]))),
        (
            "still running",
            refused(Refusal::Running(vec![(id(3), JobStatus::Processing)])),
        ),
        ("an input of a running job", refused(Refusal::InUse(1))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::JOB_ID_MAX_CHARS;
    use crate::tools::args::parse;
    use serde_json::json;

    #[test]
    fn it_is_annotated_destructive_idempotent_and_needs_the_write_scope() {
        let tool = TOOL.to_tool(crate::protocol::version::LATEST);
        let hints = &tool.annotations;
        assert!(!hints.read_only_hint && hints.destructive_hint && hints.idempotent_hint && !hints.open_world_hint);
        assert_eq!(TOOL.scope, Scope::Write);
    }

    #[test]
    fn ids_are_bounded() {
        let many: Vec<String> = (0..=DELETE_JOB_IDS_MAX).map(|i| format!("id-{i}")).collect();
        assert!(parse::<Args>(json!({"job_ids": many}).as_object().unwrap()).is_err());
        assert!(parse::<Args>(json!({"job_ids": []}).as_object().unwrap()).is_err());
        let long = "x".repeat(JOB_ID_MAX_CHARS + 1);
        assert!(parse::<Args>(json!({"job_id": long}).as_object().unwrap()).is_err());
        let args = parse::<Args>(json!({"job_id": "a"}).as_object().unwrap()).unwrap();
        assert_eq!(args.jobs.job_id.as_deref(), Some("a"));
    }

    #[test]
    fn a_refusal_lists_what_stopped_it() {
        let output = refused(Refusal::Running(vec![("j".into(), crate::jobs::JobStatus::Pending)]));
        assert!(output.is_error);
        assert_eq!(
            output.object()["running"],
            json!([{"job_id": "j", "status": "pending"}])
        );
        assert!(output.object().get("not_found").is_none());
    }
}
