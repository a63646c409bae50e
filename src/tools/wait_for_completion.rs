//! wait_for_completion: hold the request until the jobs finish, reporting completion promptly.
//!
//! The job rows in D1 are polled, quickly at first (images usually finish within seconds),
//! then less often. A call never outlives the configured response limit: healthy jobs still
//! running then are listed with how to keep waiting, instead of an error.

use serde::Serialize;
#[cfg(test)]
use serde_json::json;
use serde_json::Value;

use super::args::tool_args;
use super::generation::{with_generation, Generation};
use super::job_ids::{job_ids_args, JobIds};
use super::output::{json_text, result_schema, ToolError, ToolOutput};
use super::previews::{preview_arg, FinishedImage};
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::catalog::{WAIT_BASE_SECONDS, WAIT_JOB_IDS_MAX, WAIT_JOB_IDS_MIN, WAIT_PER_JOB_SECONDS};
use crate::icons;
use crate::jobs::{JobRow, JobStatus};
use crate::urls::absolute_image_url;

pub const TOOL: ToolSpec = ToolSpec {
    name: "wait_for_completion",
    title: "Wait for completion",
    description: || {
        format!(
            "Wait until image jobs finish and return their image URLs. Pass exactly one of job_id or job_ids \
             (up to {WAIT_JOB_IDS_MAX}). Returns as soon as every job is done. If they take longer than this \
             call may wait, the result lists finished images and pending_job_ids: call again with those."
        )
    },
    typed: Typed::of::<WaitForCompletion>(),
    output_schema,
    scope: Scope::Read,
    hints: Hints::READ,
    reports_images: true,
    extras: Extras {
        icon: Some(icons::WAIT),
        ..Extras::TASK_OPTIONAL
    },
    #[cfg(test)]
    samples: sample_results,
};

tool_args! {
    pub struct Args {
        jobs: JobIds = job_ids_args(
            "One job id to wait for.",
            format!("Several job ids to wait for ({WAIT_JOB_IDS_MIN}-{WAIT_JOB_IDS_MAX})."),
            WAIT_JOB_IDS_MAX,
        ),
        preview: bool = preview_arg(),
    }
}

/// Every shape a wait can end with: one image, several, still in progress, or failed.
/// Image URLs are null for jobs that finished without one (failed jobs listed beside images).
pub fn output_schema() -> Value {
    let mut image = with_generation(json_text(
        r#"{"type": "object", "properties": {
        "job_id": {"type": "string"}, "image_url": {"type": ["string", "null"]},
        "thumbnail_url": {"type": ["string", "null"]},
        "prompt": {"type": "string"}, "model": {"type": "string"}
    }}"#,
    ));
    let mut properties = json_text(
        r#"{
            "job_id": {"type": "string", "description": "The job, when one job was awaited."},
            "status": {"type": "string", "enum": ["completed", "in_progress", "failed", "cancelled", "deleted"],
                "description": "cancelled: the one job awaited was cancelled (cancel_job); deleted: it was deleted (delete_image)."},
            "image_url": {"type": ["string", "null"], "description": "The image, when one job was awaited."},
            "thumbnail_url": {"type": ["string", "null"], "description": "A small WebP preview of that image (null when there is none)."},
            "prompt": {"type": "string"},
            "model": {"type": "string"},
            "count": {"type": "integer"},
            "results": {"type": "array", "description": "The images, when several jobs were awaited."},
            "message": {"type": "string"},
            "completed": {"type": "array"},
            "failed": {"type": "array", "description": "Jobs that ended without an image: failed, cancelled by their owner, or deleted.",
                "items": {"type": "object", "properties": {
                "job_id": {"type": "string"}, "status": {"type": "string", "enum": ["failed", "cancelled", "deleted"]},
                "error": {"type": ["string", "null"]}
            }}},
            "pending_job_ids": {"type": "array", "items": {"type": "string"},
                "description": "Still running: pass these to wait_for_completion."},
            "note": {"type": "string"}
    }"#,
    );
    properties["results"]["items"] = definition("image");
    properties["completed"]["items"] = definition("image");
    let mut schema = with_generation(result_schema(properties));
    // Five tools list this schema, so each repeated part is written once, under `$defs`: the
    // image item (results and completed) and the input item (the image's inputs and the top
    // level's). A client resolves the local `$ref`s as it validates (JSON Schema 2020-12, and
    // draft-07 by JSON pointer).
    let input = image["properties"]["inputs"]["items"].take();
    image["properties"]["inputs"]["items"] = definition("input");
    schema["properties"]["inputs"]["items"] = definition("input");
    schema["$defs"] = serde_json::json!({"image": image, "input": input});
    schema
}

/// A reference to the schema `name` under this schema's `$defs`.
fn definition(name: &str) -> Value {
    serde_json::json!({"$ref": format!("#/$defs/{name}")})
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct WaitForCompletion;

impl Handler for WaitForCompletion {
    type Args = Args;

    async fn handle(ctx: &ToolContext, args: Args) -> ToolResult {
        let ids = args.jobs.ids()?;
        wait_for_jobs(ctx, ids, args.preview).await
    }
}

/// The wait itself, shared with generate_image_and_wait. `preview`: show thumbnails inline.
pub async fn wait_for_jobs(ctx: &ToolContext, ids: Vec<String>, preview: bool) -> Result<ToolOutput, ToolError> {
    let ids = distinct(ids);
    // Run as a task: the jobs are started; the task settles them later (`settle_once`).
    if let Some(task_jobs) = &ctx.task_jobs {
        *task_jobs.borrow_mut() = Some((ids, preview));
        return Ok(ToolOutput::success(&serde_json::json!({"success": true})));
    }
    let budget = WaitBudget::new(ids.len(), ctx.config.wait_response_limit_seconds);
    let origin = ctx.origin.clone();
    let mut output = settle(ctx, &ids, &budget, |state, elapsed| {
        conclude(&origin, state, &budget, elapsed)
    })
    .await?;
    output.inline_previews = preview;
    Ok(output)
}

/// Polls the job rows of `ids` (distinct) until `done` makes an answer of where they stand and
/// how long the wait has lasted, reporting progress as jobs finish. The pause between polls
/// never passes the budget's deadline, so `done` sees the state at the deadline.
pub async fn settle<T>(
    ctx: &ToolContext,
    ids: &[String],
    budget: &WaitBudget,
    mut done: impl FnMut(WaitState, u64) -> Option<T>,
) -> Result<T, ToolError> {
    let store = ctx.store()?;
    let started = crate::time::now_ms();
    let mut reported = None;
    loop {
        let rows = store.jobs(ids, ctx.caller.visible_owner()).await?;
        let state = evaluate(ids, &rows);
        if let Some(progress) = &ctx.progress {
            let finished = state.finished_count(ids.len());
            if reported != Some(finished) {
                reported = Some(finished);
                progress.report(
                    finished,
                    ids.len(),
                    format!("{finished} of {} image(s) finished", ids.len()),
                );
            }
        }
        let elapsed = (crate::time::now_ms() - started).max(0) as u64;
        if let Some(answer) = done(state, elapsed) {
            return Ok(answer);
        }
        let pause = poll_interval(elapsed)
            .min(budget.deadline_ms().saturating_sub(elapsed))
            .max(1);
        crate::time::sleep_ms(pause).await;
    }
}

/// A task's jobs looked at once, with no time limit: the wait's final answer once every job has
/// finished (or one is not the caller's), None while any is still pending or processing.
pub async fn settle_once(ctx: &ToolContext, ids: Vec<String>, preview: bool) -> Result<Option<ToolOutput>, ToolError> {
    let ids = distinct(ids);
    let rows = ctx.store()?.jobs(&ids, ctx.caller.visible_owner()).await?;
    let unlimited = WaitBudget {
        contract_seconds: u64::MAX / 1000,
        response_seconds: u64::MAX / 1000,
    };
    Ok(
        conclude(&ctx.origin, evaluate(&ids, &rows), &unlimited, 0).map(|mut output| {
            output.inline_previews = preview;
            output
        }),
    )
}

/// How long a wait may last: the original's limit (60 s + 3 s per job) and the response bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitBudget {
    pub contract_seconds: u64,
    pub response_seconds: u64,
}

impl WaitBudget {
    pub fn new(job_count: usize, response_seconds: u64) -> Self {
        WaitBudget {
            contract_seconds: WAIT_BASE_SECONDS + WAIT_PER_JOB_SECONDS * job_count as u64,
            response_seconds,
        }
    }

    pub fn deadline_ms(&self) -> u64 {
        self.contract_seconds.min(self.response_seconds) * 1000
    }

    /// Ending at the original's limit is a timeout error; ending at the response bound first is a
    /// progress report, since the jobs may well still finish.
    fn ends_in_timeout(&self) -> bool {
        self.contract_seconds <= self.response_seconds
    }
}

/// Polling pace: fast while images typically finish, slower for long jobs.
pub fn poll_interval(elapsed_ms: u64) -> u64 {
    match elapsed_ms {
        0..=5_000 => 100,
        5_001..=20_000 => 250,
        _ => 1_000,
    }
}

/// Repeated ids are one job: keep the first occurrence of each, in order.
pub fn distinct(ids: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|id| seen.insert(id.clone())).collect()
}

/// Where a set of jobs stands.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitState {
    /// Some id has no row.
    NotFound,
    /// Every job finished, at least one without an image (failed or deleted).
    Failed {
        failed: Vec<JobRow>,
        completed: Vec<JobRow>,
    },
    /// Every job completed, in the order asked.
    Completed(Vec<JobRow>),
    /// Some jobs are still pending or processing (failed ones are already final).
    Running {
        completed: Vec<JobRow>,
        failed: Vec<JobRow>,
        pending: Vec<String>,
    },
}

impl WaitState {
    /// Jobs that reached a final state, for progress reports.
    pub fn finished_count(&self, total: usize) -> usize {
        match self {
            WaitState::NotFound => 0,
            WaitState::Failed { .. } | WaitState::Completed(_) => total,
            WaitState::Running { completed, failed, .. } => completed.len() + failed.len(),
        }
    }
}

pub fn evaluate(ids: &[String], rows: &[JobRow]) -> WaitState {
    let mut ordered = Vec::with_capacity(ids.len());
    for id in ids {
        match rows.iter().find(|row| &row.id == id) {
            Some(row) => ordered.push(row.clone()),
            None => return WaitState::NotFound,
        }
    }
    let (completed, rest): (Vec<JobRow>, Vec<JobRow>) =
        ordered.into_iter().partition(|row| row.status == JobStatus::Completed);
    // A cancelled job is as final as a failed one: it ended without an image.
    let (failed, running): (Vec<JobRow>, Vec<JobRow>) = rest.into_iter().partition(|row| !row.status.is_unfinished());
    match (running.is_empty(), failed.is_empty()) {
        (true, true) => WaitState::Completed(completed),
        (true, false) => WaitState::Failed { failed, completed },
        (false, _) => WaitState::Running {
            completed,
            failed,
            pending: running.into_iter().map(|r| r.id).collect(),
        },
    }
}

#[derive(Serialize)]
struct ImageResult {
    job_id: String,
    image_url: Option<String>,
    thumbnail_url: Option<String>,
    prompt: String,
    model: String,
    #[serde(flatten)]
    generation: Generation,
}

#[derive(Serialize)]
struct FailedJob {
    job_id: String,
    /// `failed`, `cancelled` or `deleted`.
    status: JobStatus,
    error: Option<String>,
}

#[derive(Serialize)]
struct SingleCompleted {
    success: bool,
    status: &'static str,
    image_url: Option<String>,
    thumbnail_url: Option<String>,
    prompt: String,
    model: String,
    job_id: String,
    #[serde(flatten)]
    generation: Generation,
}

#[derive(Serialize)]
struct ManyCompleted {
    success: bool,
    count: usize,
    results: Vec<ImageResult>,
}

#[derive(Serialize)]
struct SingleFailed {
    success: bool,
    status: &'static str,
    error: Option<String>,
}

#[derive(Serialize)]
struct ManyFailed {
    success: bool,
    error: String,
    failed: Vec<FailedJob>,
    completed: Vec<ImageResultUrl>,
}

#[derive(Serialize)]
struct ImageResultUrl {
    job_id: String,
    image_url: Option<String>,
    thumbnail_url: Option<String>,
}

#[derive(Serialize)]
struct InProgress {
    success: bool,
    status: &'static str,
    message: String,
    completed: Vec<ImageResult>,
    failed: Vec<FailedJob>,
    pending_job_ids: Vec<String>,
}

#[derive(Serialize)]
struct Failure {
    success: bool,
    error: String,
}

fn url(origin: &str, row: &JobRow) -> Option<String> {
    row.image_url
        .as_deref()
        .map(|stored| absolute_image_url(stored, origin))
}

fn thumbnail_url(origin: &str, row: &JobRow) -> Option<String> {
    row.thumbnail_url
        .as_deref()
        .map(|stored| absolute_image_url(stored, origin))
}

/// The finished images among `rows`, for the blocks after the result's text.
fn finished(rows: &[JobRow]) -> Vec<FinishedImage> {
    rows.iter().filter_map(FinishedImage::of_job).collect()
}

fn image(origin: &str, row: JobRow) -> ImageResult {
    ImageResult {
        image_url: url(origin, &row),
        thumbnail_url: thumbnail_url(origin, &row),
        generation: Generation::of_job(&row, origin),
        job_id: row.id,
        prompt: row.prompt,
        model: row.model,
    }
}

fn failed_job(row: JobRow) -> FailedJob {
    FailedJob {
        job_id: row.id,
        status: row.status,
        error: row.error,
    }
}

/// "2 job(s) failed", "1 job(s) cancelled", "1 job(s) failed, 1 cancelled, 1 deleted", …
fn ended_without_image(failed: &[JobRow]) -> String {
    let count = |status: JobStatus| failed.iter().filter(|row| row.status == status).count();
    let ended = [
        (
            failed.len() - count(JobStatus::Cancelled) - count(JobStatus::Deleted),
            "failed",
        ),
        (count(JobStatus::Cancelled), "cancelled"),
        (count(JobStatus::Deleted), "deleted"),
    ];
    let mut parts = ended
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, how)| format!("{n} {how}"));
    let first = parts.next().unwrap_or_else(|| "0 failed".to_string());
    let first = first.replacen(' ', " job(s) ", 1);
    std::iter::once(first).chain(parts).collect::<Vec<_>>().join(", ")
}

/// The final answer for `state`, or None to keep waiting.
fn conclude(origin: &str, state: WaitState, budget: &WaitBudget, elapsed_ms: u64) -> Option<ToolOutput> {
    match state {
        WaitState::NotFound => Some(ToolOutput::failure(&Failure {
            success: false,
            error: "One or more jobs not found".to_string(),
        })),
        WaitState::Completed(mut rows) if rows.len() == 1 => {
            let row = rows.remove(0);
            let images = finished(std::slice::from_ref(&row));
            let output = ToolOutput::success(&SingleCompleted {
                success: true,
                status: "completed",
                image_url: url(origin, &row),
                thumbnail_url: thumbnail_url(origin, &row),
                generation: Generation::of_job(&row, origin),
                prompt: row.prompt,
                model: row.model,
                job_id: row.id,
            });
            Some(output.showing(images, true))
        }
        WaitState::Completed(rows) => {
            let images = finished(&rows);
            let output = ToolOutput::success(&ManyCompleted {
                success: true,
                count: rows.len(),
                results: rows.into_iter().map(|row| image(origin, row)).collect(),
            });
            Some(output.showing(images, true))
        }
        WaitState::Failed { mut failed, completed } if failed.len() == 1 && completed.is_empty() => {
            let row = failed.remove(0);
            Some(ToolOutput::failure(&SingleFailed {
                success: false,
                status: row.status.as_str(),
                error: row.error,
            }))
        }
        WaitState::Failed { failed, completed } => {
            let images = finished(&completed);
            let output = ToolOutput::failure(&ManyFailed {
                success: false,
                error: ended_without_image(&failed),
                failed: failed.into_iter().map(failed_job).collect(),
                completed: completed
                    .into_iter()
                    .map(|row| ImageResultUrl {
                        image_url: url(origin, &row),
                        thumbnail_url: thumbnail_url(origin, &row),
                        job_id: row.id,
                    })
                    .collect(),
            });
            Some(output.showing(images, true))
        }
        WaitState::Running { .. } if elapsed_ms < budget.deadline_ms() => None,
        WaitState::Running { .. } if budget.ends_in_timeout() => Some(ToolOutput::failure(&Failure {
            success: false,
            error: format!(
                "Timeout: Image generation took longer than {} seconds",
                budget.contract_seconds
            ),
        })),
        WaitState::Running {
            completed,
            failed,
            pending,
        } => {
            let images = finished(&completed);
            let output = ToolOutput::success(&InProgress {
            success: true,
            status: "in_progress",
            message: format!(
                "{} of {} image(s) ready; {} still generating. Call wait_for_completion with job_ids {} to keep waiting.",
                completed.len(),
                completed.len() + failed.len() + pending.len(),
                pending.len(),
                serde_json::to_string(&pending).unwrap_or_default()
            ),
            completed: completed.into_iter().map(|row| image(origin, row)).collect(),
            failed: failed.into_iter().map(failed_job).collect(),
            pending_job_ids: pending,
            });
            Some(output.showing(images, true))
        }
    }
}

/// Every shape a wait ends with, produced by `conclude` as `wait_for_jobs` does.
#[cfg(test)]
pub fn sample_results() -> Vec<(&'static str, ToolOutput)> {
    let row = |id: &str, status: JobStatus, image_url: Option<&str>, error: Option<&str>| JobRow {
        id: id.into(),
        status,
        prompt: "a paper boat".into(),
        model: "sdxl-lightning".into(),
        image_url: image_url.map(String::from),
        error: error.map(String::from),
        created_at: 1_767_000_000_000,
        updated_at: 1_767_000_003_000,
        seed: Some(9),
        width: Some(1024),
        height: Some(1024),
        parameters: Some(r#"{"seed":9}"#.into()),
        thumbnail_url: image_url.map(|url| url.replace(".jpg", "-thumb.webp")),
        image_size: image_url.map(|_| 204_812),
        inputs: Some(super::generation::SAMPLE_INPUTS.into()),
        estimated_neurons: Some(57.6),
        estimated_usd: Some(0.0006336),
        thumbnail_base64: None,
    };
    let done = |id: &str| row(id, JobStatus::Completed, Some(&format!("/images/{id}.jpg")), None);
    let failed = |id: &str, error: Option<&str>| row(id, JobStatus::Failed, None, error);
    let origin = "https://worker.example";
    let cases = [
        (
            "completed one",
            WaitState::Completed(vec![done("a")]),
            WaitBudget::new(1, 50),
            0,
        ),
        (
            "completed one without a stored url",
            WaitState::Completed(vec![row("a", JobStatus::Completed, None, None)]),
            WaitBudget::new(1, 50),
            0,
        ),
        (
            "completed many, one without a stored url",
            WaitState::Completed(vec![done("a"), row("b", JobStatus::Completed, None, None)]),
            WaitBudget::new(2, 50),
            0,
        ),
        (
            "in progress at the response bound",
            WaitState::Running {
                completed: vec![done("a"), row("d", JobStatus::Completed, None, None)],
                failed: vec![failed("b", Some("model unavailable"))],
                pending: vec!["c".into()],
            },
            WaitBudget::new(4, 50),
            50_000,
        ),
        (
            "failed one",
            WaitState::Failed {
                failed: vec![failed("a", Some("model unavailable"))],
                completed: vec![],
            },
            WaitBudget::new(1, 50),
            0,
        ),
        (
            "failed one without a recorded error",
            WaitState::Failed {
                failed: vec![failed("a", None)],
                completed: vec![],
            },
            WaitBudget::new(1, 50),
            0,
        ),
        (
            "failed some of many",
            WaitState::Failed {
                failed: vec![failed("a", Some("model unavailable")), failed("b", None)],
                completed: vec![done("c"), row("d", JobStatus::Completed, None, None)],
            },
            WaitBudget::new(4, 50),
            0,
        ),
        (
            "timeout",
            WaitState::Running {
                completed: vec![],
                failed: vec![],
                pending: vec!["a".into()],
            },
            WaitBudget::new(1, 600),
            63_000,
        ),
        (
            "cancelled one",
            WaitState::Failed {
                failed: vec![row("a", JobStatus::Cancelled, None, Some("Job cancelled"))],
                completed: vec![],
            },
            WaitBudget::new(1, 50),
            0,
        ),
        (
            "deleted one",
            WaitState::Failed {
                failed: vec![row(
                    "a",
                    JobStatus::Deleted,
                    None,
                    Some(crate::jobs::delete_sql::DELETED_MESSAGE),
                )],
                completed: vec![],
            },
            WaitBudget::new(1, 50),
            0,
        ),
        (
            "cancelled and failed among many",
            WaitState::Failed {
                failed: vec![
                    row("a", JobStatus::Cancelled, None, Some("Job cancelled")),
                    failed("b", None),
                ],
                completed: vec![done("c")],
            },
            WaitBudget::new(3, 50),
            0,
        ),
        (
            "deleted one of many",
            WaitState::Failed {
                failed: vec![row(
                    "a",
                    JobStatus::Deleted,
                    None,
                    Some(crate::jobs::delete_sql::DELETED_MESSAGE),
                )],
                completed: vec![done("b")],
            },
            WaitBudget::new(2, 50),
            0,
        ),
        ("not found", WaitState::NotFound, WaitBudget::new(1, 50), 0),
    ];
    cases
        .into_iter()
        .map(|(name, state, budget, elapsed)| {
            let output = conclude(origin, state, &budget, elapsed)
                .unwrap_or_else(|| panic!("sample {name:?} must conclude the wait"));
            (name, output)
        })
        .chain([(
            "both job_id and job_ids",
            ToolOutput::error_message(JobIds::both_for_samples()),
        )])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, status: JobStatus) -> JobRow {
        JobRow {
            id: id.into(),
            status,
            prompt: "p".into(),
            model: "flux-schnell".into(),
            image_url: (status == JobStatus::Completed).then(|| format!("/images/{id}.jpg")),
            error: (status == JobStatus::Failed).then(|| "boom".into()),
            created_at: 1,
            updated_at: 2,
            seed: Some(42),
            width: Some(512),
            height: Some(512),
            parameters: Some(r#"{"seed":42}"#.into()),
            thumbnail_url: (status == JobStatus::Completed).then(|| format!("/images/{id}-thumb.webp")),
            image_size: (status == JobStatus::Completed).then_some(4321),
            inputs: None,
            estimated_neurons: None,
            estimated_usd: None,
            thumbnail_base64: None,
        }
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_missing_row_means_not_found_even_if_others_exist() {
        assert_eq!(
            evaluate(&ids(&["a", "b"]), &[row("a", JobStatus::Completed)]),
            WaitState::NotFound
        );
    }

    #[test]
    fn repeated_ids_are_waited_for_once() {
        assert_eq!(distinct(ids(&["a", "b", "a"])), ids(&["a", "b"]));
        let state = evaluate(&distinct(ids(&["a", "a"])), &[row("a", JobStatus::Completed)]);
        assert!(matches!(state, WaitState::Completed(rows) if rows.len() == 1));
    }

    #[test]
    fn all_completed_keeps_the_requested_order() {
        let rows = [row("b", JobStatus::Completed), row("a", JobStatus::Completed)];
        let WaitState::Completed(done) = evaluate(&ids(&["a", "b"]), &rows) else {
            panic!("expected completed")
        };
        assert_eq!(done.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn a_failure_is_reported_only_once_every_job_has_finished() {
        let running = evaluate(
            &ids(&["a", "b"]),
            &[row("a", JobStatus::Failed), row("b", JobStatus::Processing)],
        );
        assert!(matches!(running, WaitState::Running { ref pending, .. } if pending == &ids(&["b"])));
        let done = evaluate(
            &ids(&["a", "b"]),
            &[row("a", JobStatus::Failed), row("b", JobStatus::Completed)],
        );
        assert!(
            matches!(done, WaitState::Failed { ref failed, ref completed } if failed.len() == 1 && completed.len() == 1)
        );
    }

    #[test]
    fn a_cancelled_job_ends_the_wait_as_cancelled() {
        let ids = ids(&["a"]);
        let state = evaluate(&ids, &[row("a", JobStatus::Cancelled)]);
        let output = outcome(state, WaitBudget::new(1, 50), 0).unwrap();
        assert!(output.is_error);
        assert_eq!(output.object()["status"], "cancelled");
        let both = evaluate(
            &["a".into(), "b".into()],
            &[row("a", JobStatus::Cancelled), row("b", JobStatus::Failed)],
        );
        let output = outcome(both, WaitBudget::new(2, 50), 0).unwrap();
        assert_eq!(output.object()["error"], "1 job(s) failed, 1 cancelled");
        assert_eq!(output.object()["failed"][0]["status"], "cancelled");
    }

    #[test]
    fn a_deleted_job_ends_the_wait_and_says_deleted() {
        let state = evaluate(&ids(&["a"]), &[row("a", JobStatus::Deleted)]);
        let output = conclude("https://w.example", state, &WaitBudget::new(1, 50), 0).expect("a deleted job is final");
        assert!(output.is_error);
        assert_eq!(output.object()["status"], "deleted");
        let both = evaluate(
            &ids(&["a", "b"]),
            &[row("a", JobStatus::Deleted), row("b", JobStatus::Completed)],
        );
        let output = conclude("https://w.example", both, &WaitBudget::new(2, 50), 0).unwrap();
        assert_eq!(output.object()["failed"][0]["status"], "deleted");
        assert_eq!(output.object()["completed"][0]["job_id"], "b");
    }

    #[test]
    fn pending_with_a_recorded_error_is_still_running() {
        let mut retrying = row("a", JobStatus::Pending);
        retrying.error = Some("attempt 1 failed".into());
        assert!(matches!(evaluate(&ids(&["a"]), &[retrying]), WaitState::Running { .. }));
    }

    #[test]
    fn budget_follows_the_original_limit_and_the_response_bound() {
        let default = WaitBudget::new(1, 50);
        assert_eq!(default.contract_seconds, 63);
        assert_eq!(default.deadline_ms(), 50_000);
        assert!(
            !default.ends_in_timeout(),
            "50 s bound ends with a progress report, not a timeout"
        );
        let generous = WaitBudget::new(20, 600);
        assert_eq!(generous.contract_seconds, 120);
        assert_eq!(generous.deadline_ms(), 120_000);
        assert!(generous.ends_in_timeout());
    }

    fn outcome(state: WaitState, budget: WaitBudget, elapsed_ms: u64) -> Option<ToolOutput> {
        conclude("https://w.example", state, &budget, elapsed_ms)
    }

    #[test]
    fn single_completion_has_the_original_shape_with_an_absolute_url() {
        let output = outcome(
            WaitState::Completed(vec![row("a", JobStatus::Completed)]),
            WaitBudget::new(1, 50),
            0,
        )
        .unwrap();
        assert!(!output.is_error);
        assert_eq!(
            output.object(),
            json!({"success": true, "status": "completed", "image_url": "https://w.example/images/a.jpg",
                   "thumbnail_url": "https://w.example/images/a-thumb.webp", "prompt": "p",
                   "model": "flux-schnell", "job_id": "a", "seed": 42, "width": 512, "height": 512,
                   "parameters": {"seed": 42}, "estimated_neurons": null, "estimated_usd": null})
        );
    }

    #[test]
    fn finished_images_are_shown_for_every_result_that_lists_them_and_no_other() {
        let done = |id: &str| row(id, JobStatus::Completed);
        let single = outcome(WaitState::Completed(vec![done("a")]), WaitBudget::new(1, 50), 0).unwrap();
        assert_eq!(single.images.len(), 1);
        assert_eq!(single.images[0].image_size, Some(4321));
        assert_eq!(single.images[0].thumbnail_url.as_deref(), Some("/images/a-thumb.webp"));
        let many: Vec<JobRow> = ["a", "b", "c", "d", "e"].iter().map(|id| done(id)).collect();
        let five = outcome(WaitState::Completed(many), WaitBudget::new(5, 50), 0).unwrap();
        let ids: Vec<&str> = five.images.iter().map(|i| i.job_id.as_str()).collect();
        assert_eq!(
            ids,
            ["a", "b", "c", "d", "e"],
            "every image links; the preview cap applies later"
        );
        let running = WaitState::Running {
            completed: vec![done("a")],
            failed: vec![],
            pending: vec!["b".into()],
        };
        let partial = outcome(running.clone(), WaitBudget::new(2, 50), 50_000).unwrap();
        assert_eq!(partial.images.len(), 1);
        let timeout = outcome(running, WaitBudget::new(2, 600), 66_000).unwrap();
        assert!(
            timeout.is_error && timeout.images.is_empty(),
            "a timeout lists no images"
        );
        let missing = outcome(WaitState::NotFound, WaitBudget::new(1, 50), 0).unwrap();
        assert!(missing.images.is_empty());
    }

    #[test]
    fn several_completions_list_results_with_count() {
        let rows = vec![row("a", JobStatus::Completed), row("b", JobStatus::Completed)];
        let output = outcome(WaitState::Completed(rows), WaitBudget::new(2, 50), 0).unwrap();
        assert_eq!(output.object()["count"], 2);
        assert_eq!(output.object()["results"][1]["job_id"], "b");
        assert_eq!(
            output.object()["results"][1]["image_url"],
            "https://w.example/images/b.jpg"
        );
    }

    #[test]
    fn failures_are_errors_with_the_original_shapes() {
        let single = outcome(
            WaitState::Failed {
                failed: vec![row("a", JobStatus::Failed)],
                completed: vec![],
            },
            WaitBudget::new(1, 50),
            0,
        )
        .unwrap();
        assert!(single.is_error);
        assert_eq!(
            single.object(),
            json!({"success": false, "status": "failed", "error": "boom"})
        );
        let several = outcome(
            WaitState::Failed {
                failed: vec![row("a", JobStatus::Failed)],
                completed: vec![row("b", JobStatus::Completed)],
            },
            WaitBudget::new(2, 50),
            0,
        )
        .unwrap();
        assert!(several.is_error);
        assert_eq!(several.object()["error"], "1 job(s) failed");
        // The original's fields, and (added) whether the job failed or was cancelled.
        assert_eq!(
            several.object()["failed"],
            json!([{"job_id": "a", "status": "failed", "error": "boom"}])
        );
        assert_eq!(
            several.object()["completed"],
            json!([{"job_id": "b", "image_url": "https://w.example/images/b.jpg",
                    "thumbnail_url": "https://w.example/images/b-thumb.webp"}])
        );
        let shown: Vec<&str> = several.images.iter().map(|i| i.job_id.as_str()).collect();
        assert_eq!(shown, ["b"], "only the completed job's image is shown");
        let missing = outcome(WaitState::NotFound, WaitBudget::new(1, 50), 0).unwrap();
        assert_eq!(
            missing.object(),
            json!({"success": false, "error": "One or more jobs not found"})
        );
    }

    #[test]
    fn running_jobs_wait_then_end_as_progress_or_timeout() {
        let running = || WaitState::Running {
            completed: vec![row("a", JobStatus::Completed)],
            failed: vec![],
            pending: ids(&["b"]),
        };
        assert_eq!(outcome(running(), WaitBudget::new(2, 50), 49_999), None);
        let partial = outcome(running(), WaitBudget::new(2, 50), 50_000).unwrap();
        assert!(
            !partial.is_error,
            "healthy jobs past the response bound are not an error"
        );
        assert_eq!(partial.object()["status"], "in_progress");
        assert_eq!(partial.object()["pending_job_ids"], json!(["b"]));
        assert!(partial.object()["message"]
            .as_str()
            .unwrap()
            .contains("wait_for_completion"));
        let timeout = outcome(running(), WaitBudget::new(2, 600), 66_000).unwrap();
        assert!(timeout.is_error);
        assert_eq!(
            timeout.object()["error"],
            "Timeout: Image generation took longer than 66 seconds"
        );
    }

    #[test]
    fn progress_counts_finished_jobs_of_either_outcome() {
        let running = WaitState::Running {
            completed: vec![row("a", JobStatus::Completed)],
            failed: vec![row("b", JobStatus::Failed)],
            pending: ids(&["c"]),
        };
        assert_eq!(running.finished_count(3), 2);
        assert_eq!(WaitState::Completed(vec![]).finished_count(3), 3);
        assert_eq!(WaitState::NotFound.finished_count(3), 0);
    }

    #[test]
    fn polling_starts_fast_and_slows_down() {
        assert_eq!(poll_interval(0), 100);
        assert_eq!(poll_interval(4_999), 100);
        assert_eq!(poll_interval(10_000), 250);
        assert_eq!(poll_interval(30_000), 1_000);
    }
}
