//! cancel_job: stop one or more of the caller's unfinished jobs (see `services::cancel`).

use serde::Serialize;
use serde_json::Value;

use super::args::tool_args;
use super::job_ids::{job_ids_args, JobIds};
use super::output::{json_text, result_schema, ToolOutput};
use super::wait_for_completion::distinct;
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::catalog::{WAIT_JOB_IDS_MAX, WAIT_JOB_IDS_MIN};
use crate::jobs::JobStatus;
use crate::services::cancel::{cancel_jobs, Outcome};

pub const TOOL: ToolSpec = ToolSpec {
    name: "cancel_job",
    title: "Cancel jobs",
    description: || {
        format!(
            "Cancel image jobs that have not finished. Pass exactly one of job_id or job_ids (up to \
             {WAIT_JOB_IDS_MAX}). A pending job is never sent to the model; a job already generating has its \
             result discarded (nothing is stored). Each cancelled image and its estimated spend go back to today's quota. A job that \
             already finished cannot be cancelled (the result says so, as an error)."
        )
    },
    typed: Typed::of::<CancelJob>(),
    output_schema,
    scope: Scope::Write,
    hints: Hints {
        read_only: false,
        // It ends work the caller started; asking again changes nothing more.
        destructive: true,
        idempotent: true,
        open_world: false,
    },
    reports_images: false,
    extras: Extras::NONE,
    #[cfg(test)]
    samples: sample_results,
};

tool_args! {
    pub struct Args {
        jobs: JobIds = job_ids_args(
            "One job id to cancel.",
            format!("Several job ids to cancel ({WAIT_JOB_IDS_MIN}-{WAIT_JOB_IDS_MAX})."),
            WAIT_JOB_IDS_MAX,
        ),
    }
}

fn output_schema() -> Value {
    let mut properties = json_text(
        r#"{
            "cancelled_job_ids": {"type": "array", "items": {"type": "string"},
                "description": "The jobs this call cancelled."},
            "jobs": {"type": "array", "description": "Each job asked for, in order.", "items": {
                "type": "object",
                "properties": {
                    "job_id": {"type": "string"},
                    "cancelled": {"type": "boolean", "description": "Whether this call cancelled it."},
                    "status": {"type": ["string", "null"], "description": "Its status now (null: not found)."},
                    "reason": {"type": "string", "description": "Why it was not cancelled."}
                },
                "required": ["job_id", "cancelled", "status"]
            }}
    }"#,
    );
    properties["jobs"]["items"]["properties"]["status"]["enum"] = {
        let mut names: Vec<Value> = JobStatus::ALL.iter().map(|s| Value::from(s.as_str())).collect();
        names.push(Value::Null);
        Value::Array(names)
    };
    result_schema(properties)
}

#[derive(Serialize)]
struct JobCancellation {
    job_id: String,
    cancelled: bool,
    status: Option<JobStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Serialize)]
struct CancelResult {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    cancelled_job_ids: Vec<String>,
    jobs: Vec<JobCancellation>,
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct CancelJob;

impl Handler for CancelJob {
    type Args = Args;

    async fn handle(ctx: &ToolContext, args: Args) -> ToolResult {
        let ids = args.jobs.ids()?;
        let ids = distinct(ids);
        let outcomes = cancel_jobs(&ctx.store()?, &ids, ctx.caller.visible_owner()).await?;
        if outcomes.iter().any(|(_, outcome)| outcome.cancelled()) {
            worker::console_log!(
                "key {} cancelled {} job(s)",
                ctx.caller.name(),
                outcomes.iter().filter(|(_, o)| o.cancelled()).count()
            );
        }
        Ok(result(outcomes))
    }
}

/// Success when every job asked for was cancelled by this call; otherwise an error result that
/// still lists what was cancelled.
fn result(outcomes: Vec<(String, Outcome)>) -> ToolOutput {
    let jobs: Vec<JobCancellation> = outcomes
        .into_iter()
        .map(|(job_id, outcome)| match outcome {
            Outcome::Cancelled(row) => JobCancellation {
                job_id,
                cancelled: true,
                status: Some(row.status),
                reason: None,
            },
            Outcome::AlreadyFinished(row) => JobCancellation {
                job_id,
                cancelled: false,
                status: Some(row.status),
                reason: Some(format!("the job already finished ({})", row.status.as_str())),
            },
            Outcome::NotFound => JobCancellation {
                job_id,
                cancelled: false,
                status: None,
                reason: Some("Job not found".to_string()),
            },
        })
        .collect();
    let cancelled_job_ids: Vec<String> = jobs
        .iter()
        .filter(|job| job.cancelled)
        .map(|job| job.job_id.clone())
        .collect();
    let refused: Vec<String> = jobs
        .iter()
        .filter_map(|job| job.reason.as_ref().map(|reason| format!("{}: {reason}", job.job_id)))
        .collect();
    let body = CancelResult {
        success: refused.is_empty(),
        error: (!refused.is_empty()).then(|| format!("Not cancelled: {}", refused.join("; "))),
        cancelled_job_ids,
        jobs,
    };
    if body.success {
        ToolOutput::success(&body)
    } else {
        ToolOutput::failure(&body)
    }
}

/// Every shape cancel_job answers with, built by `result`.
#[cfg(test)]
fn sample_results() -> Vec<(&'static str, ToolOutput)> {
    use crate::jobs::JobRow;
    let row = |id: &str, status| JobRow::fixture(id, status);
    vec![
        (
            "cancelled",
            result(vec![("a".into(), Outcome::Cancelled(row("a", JobStatus::Cancelled)))]),
        ),
        (
            "already completed",
            result(vec![(
                "b".into(),
                Outcome::AlreadyFinished(row("b", JobStatus::Completed)),
            )]),
        ),
        (
            "some of many, one not found",
            result(vec![
                ("a".into(), Outcome::Cancelled(row("a", JobStatus::Cancelled))),
                ("c".into(), Outcome::NotFound),
            ]),
        ),
        (
            "both job_id and job_ids",
            ToolOutput::error_message(JobIds::both_for_samples()),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobRow;

    #[test]
    fn a_finished_or_unknown_job_makes_the_result_an_error_that_says_why() {
        let done = result(vec![(
            "b".into(),
            Outcome::AlreadyFinished(JobRow::fixture("b", JobStatus::Completed)),
        )]);
        assert!(done.is_error);
        assert_eq!(
            done.object()["error"],
            "Not cancelled: b: the job already finished (completed)"
        );
        let ok = result(vec![(
            "a".into(),
            Outcome::Cancelled(JobRow::fixture("a", JobStatus::Cancelled)),
        )]);
        assert!(!ok.is_error && ok.object()["success"] == true);
        assert_eq!(ok.object()["cancelled_job_ids"], serde_json::json!(["a"]));
        assert!(ok.object().get("error").is_none());
    }
}
