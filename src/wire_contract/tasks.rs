//! Task messages (2025-11-25 core tasks) against that revision's official schema: the
//! capability, CreateTaskResult, GetTaskResult, CancelTaskResult, ListTasksResult, the
//! status notification and the related-task `_meta`, for every status a task can have.

use serde_json::{json, Value};

use super::validate_against;
use crate::jobs::tasks::{TaskForm, TaskRow};
use crate::server::tasks::{core_capability, State, View, RELATED_TASK_META};

const REVISION: &str = "2025-11-25";

fn row() -> TaskRow {
    TaskRow {
        id: "4a8e1c52-9f3b-4d0e-8c1a-2b7f6e5d4c3b".into(),
        form: TaskForm::Core,
        tool: "generate_image_and_wait".into(),
        job_ids: "[\"j\"]".into(),
        preview: 1,
        result: None,
        poll_interval_ms: 2000,
        ttl_ms: 3_600_000,
        created_at: 1_796_083_200_000,
        updated_at: 1_796_083_201_000,
        cancelled_at: None,
    }
}

/// A view in each state a task can be in.
fn views() -> Vec<View> {
    let result = |is_error: bool| json!({"content": [{"type": "text", "text": "{}"}], "structuredContent": {"success": !is_error}, "isError": is_error});
    [
        State::Working { finished: 0, total: 2 },
        State::Finished(result(false)),
        State::Finished(result(true)),
        State::Cancelled,
    ]
    .into_iter()
    .map(|state| View {
        state,
        last_updated_ms: 1_796_083_202_000,
    })
    .collect()
}

#[test]
fn every_task_message_matches_the_official_2025_11_25_schema() {
    validate_against(REVISION, "ServerCapabilities", &json!({"tasks": core_capability()}));
    let row = row();
    for view in views() {
        let task = view.core_task(&row);
        validate_against(REVISION, "Task", &task);
        validate_against(REVISION, "CreateTaskResult", &json!({"task": task}));
        validate_against(REVISION, "GetTaskResult", &task);
        validate_against(REVISION, "CancelTaskResult", &task);
        let notification = json!({"jsonrpc": "2.0", "method": "notifications/tasks/status", "params": task});
        validate_against(REVISION, "TaskStatusNotification", &notification);
    }
    let tasks: Vec<Value> = views().iter().map(|view| view.core_task(&row)).collect();
    validate_against(
        REVISION,
        "ListTasksResult",
        &json!({"tasks": tasks, "nextCursor": "MTIzLmFiYw=="}),
    );
    validate_against(REVISION, "RelatedTaskMetadata", &json!({"taskId": row.id}));
    let payload = json!({"content": [], "_meta": {RELATED_TASK_META: {"taskId": row.id}}});
    validate_against(REVISION, "GetTaskPayloadResult", &payload);
    validate_against(REVISION, "CallToolResult", &payload);
}
