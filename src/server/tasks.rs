//! MCP tasks, in both forms the protocol has: 2025-11-25's core tasks (`params.task` on
//! tools/call; `tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel`) and the 2026-07-28
//! extension `io.modelcontextprotocol/tasks` (SEP-2663: `resultType: "task"`; `tasks/get` with
//! the result inline, `tasks/cancel`, `tasks/update`).
//!
//! A task is the set of jobs one tools/call started (`jobs::tasks`): the tool runs with
//! `ToolContext::task_jobs` set, starts its jobs and hands them over instead of waiting; the task
//! is stored, then answered. Its status is derived from its jobs each time it is read, and its
//! result is the wait's own (`tools::settle_task`), so it has the plain call's fields.
//!
//! Status of a finished call: 2025-11-25 makes a tool result with `isError` a `failed` task
//! (<https://modelcontextprotocol.io/specification/2025-11-25/basic/utilities/tasks>); the
//! extension makes it `completed`, keeping `failed` for errors
//! (<https://modelcontextprotocol.github.io/ext-tasks/specification/2026-07-28/tasks.html>).

use serde_json::{json, Map, Value};

use crate::catalog::{echo, TASK_LIST_PAGE_SIZE, TASK_TTL_DEFAULT_MS, TASK_TTL_MAX_MS, TASK_TTL_MIN_MS};
use crate::jobs::tasks::{NewTask, TaskForm, TaskPosition, TaskRow};
use crate::jobs::{JobRow, JobStatus};
use crate::protocol::jsonrpc::RpcError;
use crate::protocol::mcp::CallToolParams;
use crate::tools::{self, ToolContext};

/// The extension's identifier, in `capabilities.extensions` and the client's capabilities.
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/tasks";
/// `_meta` key tying a message to its task (2025-11-25).
pub const RELATED_TASK_META: &str = "io.modelcontextprotocol/related-task";

/// 2025-11-25's `tasks` server capability: tools/call as tasks, tasks/list and tasks/cancel.
pub fn core_capability() -> Value {
    json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}})
}

/// The time to live a task gets: the asked one kept within the documented bounds, else the default.
pub fn ttl_ms(requested: Option<i64>) -> i64 {
    requested.map_or(TASK_TTL_DEFAULT_MS, |ttl| ttl.clamp(TASK_TTL_MIN_MS, TASK_TTL_MAX_MS))
}

/// Whether a 2026-07-28 request's client capabilities declare the tasks extension.
pub fn client_declares_extension(params: Option<&Value>) -> bool {
    params
        .and_then(|p| p.get("_meta"))
        .and_then(|m| m.get(super::stateless::META_CLIENT_CAPABILITIES))
        .and_then(|c| c.get("extensions"))
        .and_then(|e| e.get(EXTENSION_ID))
        .is_some_and(Value::is_object)
}

/// The `ttl` a 2025-11-25 tools/call asks for with `params.task`: `Some(None)` for a task
/// without one, `None` for a plain call.
pub fn requested_core_task(params: Option<&Value>) -> Result<Option<Option<i64>>, RpcError> {
    let Some(task) = params.and_then(|p| p.get("task")) else {
        return Ok(None);
    };
    let Value::Object(task) = task else {
        return Err(RpcError::InvalidParams("params.task must be an object".into()));
    };
    match task.get("ttl") {
        None | Some(Value::Null) => Ok(Some(None)),
        Some(ttl) => match ttl.as_i64() {
            Some(ttl) if ttl > 0 => Ok(Some(Some(ttl))),
            _ => Err(RpcError::InvalidParams(
                "params.task.ttl must be a positive integer (milliseconds)".into(),
            )),
        },
    }
}

/// Runs `params` as a task: starts its jobs, stores the task, and answers with it at once.
pub async fn start(
    ctx: &ToolContext,
    params: CallToolParams,
    form: TaskForm,
    requested_ttl: Option<i64>,
) -> Result<Value, RpcError> {
    if !tools::runs_as_task(&params.name) {
        // 2025-11-25: a tool that does not declare task support is not callable as a task.
        return Err(RpcError::MethodNotFound(format!(
            "tools/call as a task for {} (its execution.taskSupport is forbidden)",
            echo(&params.name)
        )));
    }
    let arguments = params.arguments.unwrap_or_default();
    let poll_interval_ms = tools::task_poll_interval_ms(&arguments) as i64;
    let mut task_ctx = ctx.clone();
    let captured = tools::TaskJobs::default();
    task_ctx.task_jobs = Some(captured.clone());
    task_ctx.progress = None;
    let plain = tools::call(&task_ctx, &params.name, arguments).await;
    let started = captured.borrow_mut().take();
    // A call that ended before starting any job (bad arguments, over quota) is a task that
    // has already finished with that result.
    let (job_ids, preview, result) = match started {
        Some((ids, preview)) => (ids, preview, None),
        None => (Vec::new(), true, Some(serde_json::to_string(&plain).map_err(internal)?)),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::time::now_ms();
    let owner = ctx.caller.name().to_string();
    let new = NewTask {
        id: &id,
        owner: &owner,
        form,
        tool: &params.name,
        job_ids: &job_ids,
        preview,
        result: result.as_deref(),
        poll_interval_ms,
        ttl_ms: ttl_ms(requested_ttl),
        now,
    };
    let store = ctx.store().map_err(tool_error)?;
    if let Err(error) = store.insert_task(&new).await {
        // Nobody could ever reach these jobs' results: stop them rather than leave them running.
        if let Err(cancel_error) = crate::services::cancel::cancel_jobs(&store, &job_ids, None).await {
            worker::console_error!("task {id}: could not cancel its jobs after failing to store it: {cancel_error}");
        }
        return Err(internal(error));
    }
    worker::console_log!(
        "key {owner} started task {id} ({}, {} job(s))",
        params.name,
        job_ids.len()
    );
    let row = store
        .task(&id, None, now)
        .await
        .map_err(internal)?
        .ok_or_else(|| RpcError::Internal(format!("task {id} vanished after being stored")))?;
    let view = view(ctx, &row).await?;
    Ok(match form {
        TaskForm::Core => json!({"task": view.core_task(&row)}),
        TaskForm::Extension => {
            let mut task = view.extension_task(&row);
            task.insert("resultType".into(), json!("task"));
            Value::Object(task)
        }
    })
}

/// Answers a `tasks/*` method of `form`; None for any other method.
pub async fn answer(
    ctx: &ToolContext,
    method: &str,
    params: Option<&Value>,
    form: TaskForm,
) -> Option<Result<Value, RpcError>> {
    let result = match (form, method) {
        (_, "tasks/get") => get(ctx, params, form).await,
        (TaskForm::Core, "tasks/result") => result(ctx, params).await,
        (TaskForm::Core, "tasks/list") => list(ctx, params).await,
        (_, "tasks/cancel") => cancel(ctx, params, form).await,
        (TaskForm::Extension, "tasks/update") => update(ctx, params).await,
        _ => return None,
    };
    Some(result)
}

/// Where a task stands, read from its jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub state: State,
    /// The latest change to the task or any of its jobs.
    pub last_updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Jobs still pending or processing: `finished` of `total` done.
    Working {
        finished: usize,
        total: usize,
    },
    /// The call's result (a tool result, `isError` or not).
    Finished(Value),
    Cancelled,
}

impl View {
    /// The status name in `form`.
    pub fn status(&self, form: TaskForm) -> &'static str {
        match &self.state {
            State::Working { .. } => "working",
            State::Cancelled => "cancelled",
            State::Finished(result) if form == TaskForm::Core && is_error(result) => "failed",
            State::Finished(_) => "completed",
        }
    }

    fn status_message(&self, form: TaskForm) -> String {
        match &self.state {
            State::Working { finished, total } => format!("{finished} of {total} image(s) finished"),
            State::Cancelled => "Cancelled".to_string(),
            State::Finished(result) if is_error(result) => {
                let error = result["structuredContent"]["error"]
                    .as_str()
                    .unwrap_or("The tool reported an error");
                match form {
                    TaskForm::Core => error.to_string(),
                    TaskForm::Extension => format!("Completed with a tool error: {error}"),
                }
            }
            State::Finished(_) => "Completed".to_string(),
        }
    }

    fn base(&self, row: &TaskRow, form: TaskForm) -> Map<String, Value> {
        let mut task = Map::new();
        task.insert("taskId".into(), json!(row.id));
        task.insert("status".into(), json!(self.status(form)));
        task.insert("statusMessage".into(), json!(self.status_message(form)));
        task.insert("createdAt".into(), json!(crate::time::iso_from_ms(row.created_at)));
        task.insert(
            "lastUpdatedAt".into(),
            json!(crate::time::iso_from_ms(self.last_updated_ms)),
        );
        task
    }

    /// 2025-11-25's `Task`.
    pub fn core_task(&self, row: &TaskRow) -> Value {
        let mut task = self.base(row, TaskForm::Core);
        task.insert("ttl".into(), json!(row.ttl_ms));
        task.insert("pollInterval".into(), json!(row.poll_interval_ms));
        Value::Object(task)
    }

    /// The extension's `Task`.
    pub fn extension_task(&self, row: &TaskRow) -> Map<String, Value> {
        let mut task = self.base(row, TaskForm::Extension);
        task.insert("ttlMs".into(), json!(row.ttl_ms));
        task.insert("pollIntervalMs".into(), json!(row.poll_interval_ms));
        task
    }

    /// The extension's detailed task (`tasks/get`): the result when completed.
    pub fn detailed_extension_task(&self, row: &TaskRow) -> Value {
        let mut task = self.extension_task(row);
        if let State::Finished(result) = &self.state {
            // As this revision answers tools/call: `resultType: "complete"` and the server's identity.
            let result = super::stateless::complete_result("tools/call", result.clone());
            task.insert("result".into(), result);
        }
        Value::Object(task)
    }
}

fn is_error(result: &Value) -> bool {
    result.get("isError").and_then(Value::as_bool).unwrap_or(false)
}

/// Where `row` stands: cancelled by tasks/cancel or with every job cancelled; finished with the
/// stored or settled result; or still working.
pub async fn view(ctx: &ToolContext, row: &TaskRow) -> Result<View, RpcError> {
    let job_ids = row.job_ids();
    let store = ctx.store().map_err(tool_error)?;
    let jobs: Vec<JobRow> = store
        .jobs(&job_ids, ctx.caller.visible_owner())
        .await
        .map_err(internal)?;
    let last_updated_ms = jobs.iter().map(|job| job.updated_at).fold(row.updated_at, i64::max);
    let all_cancelled = !jobs.is_empty() && jobs.iter().all(|job| job.status == JobStatus::Cancelled);
    let state = if row.cancelled_at.is_some() || all_cancelled {
        State::Cancelled
    } else if let Some(result) = &row.result {
        State::Finished(serde_json::from_str(result).map_err(internal)?)
    } else if jobs.iter().any(|job| job.status.is_unfinished()) {
        State::Working {
            finished: jobs.iter().filter(|job| !job.status.is_unfinished()).count(),
            total: job_ids.len(),
        }
    } else {
        let preview = row.preview != 0;
        match tools::settle_task(ctx, &row.tool, job_ids, preview)
            .await
            .map_err(tool_error)?
        {
            Some(result) => State::Finished(serde_json::to_value(result).map_err(internal)?),
            // A job moved between the two reads: still working.
            None => State::Working {
                finished: 0,
                total: jobs.len(),
            },
        }
    };
    Ok(View { state, last_updated_ms })
}

/// The `taskId` of a tasks/* request.
fn task_id(params: Option<&Value>) -> Result<&str, RpcError> {
    params
        .and_then(|p| p.get("taskId"))
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::InvalidParams("params.taskId (a string) is required".into()))
}

/// The caller's task `params.taskId`, of `form`; -32602 when there is none (another key's task
/// is as unknown as a missing one).
async fn find(ctx: &ToolContext, params: Option<&Value>, form: TaskForm) -> Result<TaskRow, RpcError> {
    let id = task_id(params)?;
    let store = ctx.store().map_err(tool_error)?;
    let row = store
        .task(id, ctx.caller.visible_owner(), crate::time::now_ms())
        .await
        .map_err(internal)?;
    match row {
        Some(row) if row.form == form => Ok(row),
        _ => Err(RpcError::InvalidParams(format!("Task not found: {}", echo(id)))),
    }
}

async fn get(ctx: &ToolContext, params: Option<&Value>, form: TaskForm) -> Result<Value, RpcError> {
    let row = find(ctx, params, form).await?;
    let view = view(ctx, &row).await?;
    Ok(match form {
        TaskForm::Core => view.core_task(&row),
        TaskForm::Extension => view.detailed_extension_task(&row),
    })
}

/// 2025-11-25 `tasks/result`: blocks until the task ends, then answers the call's own result
/// (tied to the task by `_meta`). Status changes go out as `notifications/tasks/status` and
/// progress (when asked for) on the stream the transport opened for it.
async fn result(ctx: &ToolContext, params: Option<&Value>) -> Result<Value, RpcError> {
    let row = find(ctx, params, TaskForm::Core).await?;
    let mut last_sent: Option<(String, String)> = None;
    let started = crate::time::now_ms();
    loop {
        let view = view(ctx, &row).await?;
        if let Some(sink) = &ctx.progress {
            let task = view.core_task(&row);
            let now = (
                task["status"].as_str().unwrap_or_default().to_string(),
                task["statusMessage"].as_str().unwrap_or_default().to_string(),
            );
            if last_sent.as_ref() != Some(&now) {
                if let State::Working { finished, total } = view.state {
                    sink.report(finished, total, now.1.clone());
                }
                sink.notify("notifications/tasks/status", task);
                last_sent = Some(now);
            }
        }
        match view.state {
            State::Finished(mut result) => {
                if let Value::Object(fields) = &mut result {
                    let meta = fields.entry("_meta").or_insert_with(|| json!({}));
                    meta[RELATED_TASK_META] = json!({"taskId": row.id});
                }
                return Ok(result);
            }
            State::Cancelled => {
                return Err(RpcError::InvalidParams(format!(
                    "Task {} was cancelled: it has no result",
                    row.id
                )))
            }
            State::Working { .. } => {
                let elapsed = (crate::time::now_ms() - started).max(0) as u64;
                let pause = tools::wait_poll_interval(elapsed);
                crate::time::sleep_ms(pause).await;
            }
        }
    }
}

/// Sends `notifications/tasks/status` through `sink` each time the caller's core task `task_id`
/// changes status or message, until it ends or `budget_ms` has passed (errors end it quietly:
/// these notifications are optional).
pub async fn push_status(ctx: &ToolContext, task_id: &str, sink: &tools::ProgressSink, budget_ms: u64) {
    let started = crate::time::now_ms();
    let mut last_sent: Option<Value> = None;
    loop {
        let Ok(store) = ctx.store() else { return };
        let Ok(Some(row)) = store
            .task(task_id, ctx.caller.visible_owner(), crate::time::now_ms())
            .await
        else {
            return;
        };
        let Ok(view) = view(ctx, &row).await else { return };
        let task = view.core_task(&row);
        let key = json!([task["status"], task["statusMessage"]]);
        if last_sent.as_ref() != Some(&key) {
            sink.notify("notifications/tasks/status", task);
            last_sent = Some(key);
        }
        let elapsed = (crate::time::now_ms() - started).max(0) as u64;
        if !matches!(view.state, State::Working { .. }) || elapsed >= budget_ms {
            return;
        }
        crate::time::sleep_ms(tools::wait_poll_interval(elapsed).min(budget_ms - elapsed)).await;
    }
}

/// 2025-11-25 `tasks/list`: the caller's own tasks, newest first, a page at a time.
async fn list(ctx: &ToolContext, params: Option<&Value>) -> Result<Value, RpcError> {
    let after = match params.and_then(|p| p.get("cursor")) {
        None | Some(Value::Null) => None,
        Some(Value::String(cursor)) => {
            Some(decode_cursor(cursor).ok_or_else(|| RpcError::InvalidParams("Invalid tasks/list cursor".into()))?)
        }
        Some(_) => return Err(RpcError::InvalidParams("params.cursor must be a string".into())),
    };
    let store = ctx.store().map_err(tool_error)?;
    let mut rows = store
        .list_tasks(
            ctx.caller.visible_owner(),
            after.as_ref(),
            TASK_LIST_PAGE_SIZE + 1,
            crate::time::now_ms(),
        )
        .await
        .map_err(internal)?;
    let more = rows.len() as i64 > TASK_LIST_PAGE_SIZE;
    rows.truncate(TASK_LIST_PAGE_SIZE as usize);
    let mut tasks = Vec::with_capacity(rows.len());
    for row in rows.iter().filter(|row| row.form == TaskForm::Core) {
        tasks.push(view(ctx, row).await?.core_task(row));
    }
    let mut result = json!({"tasks": tasks});
    if let (true, Some(last)) = (more, rows.last()) {
        result["nextCursor"] = json!(encode_cursor(&TaskPosition {
            created_at: last.created_at,
            id: last.id.clone(),
        }));
    }
    Ok(result)
}

/// `tasks/cancel`: cancels the task's unfinished jobs. 2025-11-25 refuses a task that already
/// ended (-32602) and answers the cancelled task; the extension acknowledges either way, and a
/// finished task keeps its state.
async fn cancel(ctx: &ToolContext, params: Option<&Value>, form: TaskForm) -> Result<Value, RpcError> {
    let row = find(ctx, params, form).await?;
    let before = view(ctx, &row).await?;
    let store = ctx.store().map_err(tool_error)?;
    if matches!(before.state, State::Working { .. }) {
        crate::services::cancel::cancel_jobs(&store, &row.job_ids(), ctx.caller.visible_owner())
            .await
            .map_err(internal)?;
        store
            .mark_task_cancelled(&row.id, crate::time::now_ms())
            .await
            .map_err(internal)?;
        worker::console_log!("key {} cancelled task {}", ctx.caller.name(), row.id);
    } else if form == TaskForm::Core {
        return Err(RpcError::InvalidParams(format!(
            "Cannot cancel task {}: it is already {}",
            row.id,
            before.status(form)
        )));
    }
    match form {
        TaskForm::Core => {
            let row = find(ctx, params, form).await?;
            Ok(view(ctx, &row).await?.core_task(&row))
        }
        TaskForm::Extension => Ok(json!({})),
    }
}

/// The extension's `tasks/update`: nothing here ever asks for input, so an update for a known
/// task is acknowledged and changes nothing.
async fn update(ctx: &ToolContext, params: Option<&Value>) -> Result<Value, RpcError> {
    find(ctx, params, TaskForm::Extension).await?;
    Ok(json!({}))
}

/// Cursor text for a listing position: base64 of `<created_at>.<id>`.
pub fn encode_cursor(position: &TaskPosition) -> String {
    crate::media::base64_encode(format!("{}.{}", position.created_at, position.id).as_bytes())
}

pub fn decode_cursor(cursor: &str) -> Option<TaskPosition> {
    let text = String::from_utf8(crate::media::base64_decode(cursor)?).ok()?;
    let (created_at, id) = text.split_once('.')?;
    Some(TaskPosition {
        created_at: created_at.parse().ok()?,
        id: id.to_string(),
    })
    .filter(|position| !position.id.is_empty())
}

fn internal(error: impl std::fmt::Display) -> RpcError {
    worker::console_error!("tasks: {error}");
    RpcError::Internal(error.to_string())
}

fn tool_error(error: tools::ToolError) -> RpcError {
    internal(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> TaskRow {
        TaskRow {
            id: id.into(),
            form: TaskForm::Core,
            tool: "generate_image_and_wait".into(),
            job_ids: "[\"j\"]".into(),
            preview: 1,
            result: None,
            poll_interval_ms: 2000,
            ttl_ms: 3_600_000,
            created_at: 1_796_083_200_000,
            updated_at: 1_796_083_200_000,
            cancelled_at: None,
        }
    }

    #[test]
    fn ttl_is_kept_within_the_documented_bounds() {
        assert_eq!(ttl_ms(None), TASK_TTL_DEFAULT_MS);
        assert_eq!(ttl_ms(Some(1)), TASK_TTL_MIN_MS);
        assert_eq!(ttl_ms(Some(i64::MAX)), TASK_TTL_MAX_MS);
        assert_eq!(ttl_ms(Some(120_000)), 120_000);
    }

    #[test]
    fn a_tool_error_is_a_failed_core_task_and_a_completed_extension_task() {
        let error = View {
            state: State::Finished(
                json!({"content": [], "isError": true, "structuredContent": {"success": false, "error": "boom"}}),
            ),
            last_updated_ms: 1,
        };
        assert_eq!(error.status(TaskForm::Core), "failed");
        assert_eq!(error.status(TaskForm::Extension), "completed");
        let task = error.core_task(&row("t"));
        assert_eq!(task["statusMessage"], "boom");
        assert_eq!(task["ttl"], 3_600_000);
        assert_eq!(task["createdAt"], "2026-12-01T00:00:00.000Z");
        let detailed = error.detailed_extension_task(&row("t"));
        assert_eq!(detailed["result"]["isError"], true);
        assert_eq!(detailed["result"]["resultType"], "complete");
        assert_eq!(detailed["ttlMs"], 3_600_000);
        assert_eq!(detailed["pollIntervalMs"], 2000);
        let ok = View {
            state: State::Finished(json!({"content": []})),
            last_updated_ms: 1,
        };
        assert_eq!(ok.status(TaskForm::Core), "completed");
        let working = View {
            state: State::Working { finished: 1, total: 3 },
            last_updated_ms: 1,
        };
        assert_eq!(
            working.core_task(&row("t"))["statusMessage"],
            "1 of 3 image(s) finished"
        );
        assert!(working.detailed_extension_task(&row("t")).get("result").is_none());
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let position = TaskPosition {
            created_at: 42,
            id: "a.b".into(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&position)), Some(position));
        for junk in [
            "",
            "***",
            &crate::media::base64_encode(b"x.y"),
            &crate::media::base64_encode(b"5."),
        ] {
            assert_eq!(decode_cursor(junk), None, "{junk}");
        }
    }

    #[test]
    fn task_params_are_read_strictly() {
        assert_eq!(requested_core_task(Some(&json!({"name": "x"}))).unwrap(), None);
        assert_eq!(requested_core_task(Some(&json!({"task": {}}))).unwrap(), Some(None));
        assert_eq!(
            requested_core_task(Some(&json!({"task": {"ttl": 5000}}))).unwrap(),
            Some(Some(5000))
        );
        for bad in [
            json!({"task": 1}),
            json!({"task": {"ttl": -1}}),
            json!({"task": {"ttl": "x"}}),
        ] {
            assert_eq!(requested_core_task(Some(&bad)).unwrap_err().code(), -32602, "{bad}");
        }
        let meta =
            json!({"_meta": {super::super::stateless::META_CLIENT_CAPABILITIES: {"extensions": {EXTENSION_ID: {}}}}});
        assert!(client_declares_extension(Some(&meta)));
        assert!(!client_declares_extension(Some(&json!({"_meta": {}}))));
    }
}
