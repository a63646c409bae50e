//! MCP tasks in D1 (migration 0011): a task is the set of jobs one tools/call started, owned by
//! the caller's key. Rows, SQL (pure, tested on SQLite) and the store methods that run it.

use serde::Deserialize;

use super::sql::{older_than, owner_clause};
use super::JobStore;
use crate::d1::{DbResult, SqlValue, Statement};

/// Which protocol form a task was created in; decides how its status and result are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskForm {
    /// 2025-11-25's core tasks (`params.task` on tools/call).
    Core,
    /// The 2026-07-28 extension `io.modelcontextprotocol/tasks`.
    Extension,
}

impl TaskForm {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskForm::Core => "core",
            TaskForm::Extension => "extension",
        }
    }
}

/// A `tasks` row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TaskRow {
    pub id: String,
    pub form: TaskForm,
    pub tool: String,
    /// JSON array text of the task's job ids.
    pub job_ids: String,
    pub preview: i64,
    /// JSON text of the CallToolResult, for a call that ended before starting any job.
    pub result: Option<String>,
    pub poll_interval_ms: i64,
    pub ttl_ms: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub cancelled_at: Option<i64>,
}

impl TaskRow {
    pub fn job_ids(&self) -> Vec<String> {
        serde_json::from_str(&self.job_ids).unwrap_or_default()
    }
}

/// A task about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask<'a> {
    pub id: &'a str,
    pub owner: &'a str,
    pub form: TaskForm,
    pub tool: &'a str,
    pub job_ids: &'a [String],
    pub preview: bool,
    pub result: Option<&'a str>,
    pub poll_interval_ms: i64,
    pub ttl_ms: i64,
    pub now: i64,
}

const TASK_COLUMNS: &str =
    "id, form, tool, job_ids, preview, result, poll_interval_ms, ttl_ms, created_at, updated_at, cancelled_at";

pub fn insert_task(task: &NewTask) -> Statement {
    let job_ids = serde_json::to_string(task.job_ids).unwrap_or_else(|_| "[]".into());
    Statement::new(
        "INSERT INTO tasks (id, owner, form, tool, job_ids, preview, result, poll_interval_ms, ttl_ms, \
         created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            task.id.into(),
            task.owner.into(),
            task.form.as_str().into(),
            task.tool.into(),
            job_ids.into(),
            i64::from(task.preview).into(),
            task.result.into(),
            task.poll_interval_ms.into(),
            task.ttl_ms.into(),
            task.now.into(),
            task.now.into(),
            task.now.saturating_add(task.ttl_ms).into(),
        ],
    )
}

/// The task, if it exists, has not expired at `now`, and `owner` may see it.
pub fn select_task(id: &str, owner: Option<&str>, now: i64) -> Statement {
    let mut params: Vec<SqlValue> = vec![id.into(), now.into()];
    let owner_only = owner_clause(owner, &mut params);
    Statement::new(
        format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ? AND expires_at > ?{owner_only}"),
        params,
    )
}

/// Where a newest-first task listing continues: strictly after this task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPosition {
    pub created_at: i64,
    pub id: String,
}

/// Up to `limit` unexpired tasks `owner` may see, newest first (id breaks ties), after `after`.
pub fn list_tasks(owner: Option<&str>, after: Option<&TaskPosition>, limit: i64, now: i64) -> Statement {
    let mut params: Vec<SqlValue> = vec![now.into()];
    let mut clause = String::from("WHERE expires_at > ?");
    clause.push_str(owner_clause(owner, &mut params));
    if let Some(position) = after {
        clause.push_str(older_than(position.created_at, &position.id, &mut params));
    }
    params.push(limit.into());
    Statement::new(
        format!("SELECT {TASK_COLUMNS} FROM tasks {clause} ORDER BY created_at DESC, id DESC LIMIT ?"),
        params,
    )
}

/// Marks the task cancelled (once; the first time is kept).
pub fn mark_task_cancelled(id: &str, now: i64) -> Statement {
    Statement::new(
        "UPDATE tasks SET cancelled_at = COALESCE(cancelled_at, ?), updated_at = ? WHERE id = ?",
        vec![now.into(), now.into(), id.into()],
    )
}

/// Deletes up to `limit` tasks whose time to live ended before `now`; returns their ids.
pub fn delete_expired_tasks(now: i64, limit: i64) -> Statement {
    Statement::new(
        "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE expires_at <= ? ORDER BY expires_at LIMIT ?) \
         RETURNING id",
        vec![now.into(), limit.into()],
    )
}

#[derive(Deserialize)]
struct DeletedTask {
    #[allow(dead_code)] // read only to count the rows
    id: String,
}

impl JobStore {
    /// Stores a task; it is durable once this returns (before its answer is sent).
    pub async fn insert_task(&self, task: &NewTask<'_>) -> DbResult<()> {
        self.db.run(insert_task(task), "storing a task").await
    }

    pub async fn task(&self, id: &str, owner: Option<&str>, now: i64) -> DbResult<Option<TaskRow>> {
        Ok(self
            .db
            .rows(select_task(id, owner, now), "reading a task")
            .await?
            .into_iter()
            .next())
    }

    pub async fn list_tasks(
        &self,
        owner: Option<&str>,
        after: Option<&TaskPosition>,
        limit: i64,
        now: i64,
    ) -> DbResult<Vec<TaskRow>> {
        self.db
            .rows(list_tasks(owner, after, limit, now), "listing tasks")
            .await
    }

    pub async fn mark_task_cancelled(&self, id: &str, now: i64) -> DbResult<()> {
        self.db.run(mark_task_cancelled(id, now), "cancelling a task").await
    }

    /// Deletes expired tasks (their jobs stay: they are the gallery's); how many went.
    pub async fn delete_expired_tasks(&self, now: i64, limit: i64) -> DbResult<usize> {
        let deleted: Vec<DeletedTask> = self
            .db
            .rows(delete_expired_tasks(now, limit), "deleting expired tasks")
            .await?;
        Ok(deleted.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::sql::sqlite_tests::{database, run, values};
    use rusqlite::{params_from_iter, Connection};

    fn task<'a>(id: &'a str, owner: &'a str, now: i64, ids: &'a [String]) -> NewTask<'a> {
        NewTask {
            id,
            owner,
            form: TaskForm::Core,
            tool: "generate_image_and_wait",
            job_ids: ids,
            preview: true,
            result: None,
            poll_interval_ms: 2000,
            ttl_ms: 1000,
            now,
        }
    }

    fn ids(db: &Connection, statement: Statement) -> Vec<String> {
        let mut prepared = db.prepare(&statement.sql).unwrap();
        prepared
            .query_map(params_from_iter(values(&statement)), |row| row.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn tasks_are_seen_by_their_owner_until_they_expire_and_page_newest_first() {
        let db = database();
        let jobs = vec!["j1".to_string()];
        for (id, owner, at) in [
            ("t1", "alice", 10),
            ("t2", "alice", 20),
            ("t3", "bob", 30),
            ("t4", "alice", 20),
        ] {
            run(&db, insert_task(&task(id, owner, at, &jobs)));
        }
        assert_eq!(ids(&db, select_task("t1", Some("alice"), 15)), ["t1"]);
        assert!(
            ids(&db, select_task("t1", Some("bob"), 15)).is_empty(),
            "not another key's"
        );
        assert_eq!(
            ids(&db, select_task("t3", None, 15)),
            ["t3"],
            "the administrator sees all"
        );
        assert!(ids(&db, select_task("t1", Some("alice"), 1010)).is_empty(), "expired");
        assert_eq!(ids(&db, list_tasks(Some("alice"), None, 2, 15)), ["t4", "t2"]);
        let after = TaskPosition {
            created_at: 20,
            id: "t2".into(),
        };
        assert_eq!(ids(&db, list_tasks(Some("alice"), Some(&after), 2, 15)), ["t1"]);
        assert_eq!(ids(&db, delete_expired_tasks(1015, 10)), ["t1"]);
        assert_eq!(ids(&db, list_tasks(None, None, 10, 0)), ["t3", "t4", "t2"]);
    }

    #[test]
    fn cancelling_keeps_the_first_time() {
        let db = database();
        run(&db, insert_task(&task("t", "alice", 10, &[])));
        run(&db, mark_task_cancelled("t", 11));
        run(&db, mark_task_cancelled("t", 12));
        let at: i64 = db
            .query_row("SELECT cancelled_at FROM tasks WHERE id = 't'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(at, 11);
    }
}
