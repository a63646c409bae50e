//! Runs the statements from `sql` against the D1 binding. The only place jobs touch D1.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use super::sql::{self, SqlValue, Statement};
use super::{GenerationRow, JobRow, Page, StatusFilter};

/// A D1 failure, with the statement's intent for the logs.
#[derive(Debug, thiserror::Error)]
#[error("database error while {action}: {message}")]
pub struct StoreError {
    pub action: &'static str,
    pub message: String,
}

type StoreResult<T> = Result<T, StoreError>;

#[derive(Deserialize)]
struct Total {
    total: i64,
}

/// Jobs and gallery rows in D1.
pub struct JobStore {
    db: D1Database,
}

impl JobStore {
    pub fn new(db: D1Database) -> Self {
        JobStore { db }
    }

    fn prepare(&self, statement: &Statement, action: &'static str) -> StoreResult<D1PreparedStatement> {
        let values: Vec<JsValue> = statement
            .params
            .iter()
            .map(|value| match value {
                SqlValue::Text(text) => JsValue::from_str(text),
                // Millisecond timestamps and page sizes are far inside f64's exact integer range.
                SqlValue::Integer(number) => JsValue::from_f64(*number as f64),
                SqlValue::Null => JsValue::NULL,
            })
            .collect();
        self.db
            .prepare(statement.sql.as_str())
            .bind(&values)
            .map_err(|e| fail(action, e))
    }

    async fn run(&self, statement: Statement, action: &'static str) -> StoreResult<()> {
        self.prepare(&statement, action)?
            .run()
            .await
            .map_err(|e| fail(action, e))?;
        Ok(())
    }

    async fn rows<T: for<'de> Deserialize<'de>>(
        &self,
        statement: Statement,
        action: &'static str,
    ) -> StoreResult<Vec<T>> {
        let result = self
            .prepare(&statement, action)?
            .all()
            .await
            .map_err(|e| fail(action, e))?;
        if let Some(error) = result.error() {
            return Err(StoreError { action, message: error });
        }
        result.results::<T>().map_err(|e| fail(action, e))
    }

    async fn total(&self, statement: Statement, action: &'static str) -> StoreResult<i64> {
        Ok(self
            .rows::<Total>(statement, action)
            .await?
            .first()
            .map_or(0, |row| row.total))
    }

    /// Inserts every job in one batch, so a request creates all of its jobs or none.
    pub async fn insert_jobs(&self, ids: &[String], prompt: &str, model: &str, now: i64) -> StoreResult<()> {
        let action = "creating jobs";
        let statements = ids
            .iter()
            .map(|id| self.prepare(&sql::insert_job(id, prompt, model, now), action))
            .collect::<StoreResult<Vec<_>>>()?;
        self.db.batch(statements).await.map_err(|e| fail(action, e))?;
        Ok(())
    }

    pub async fn job(&self, id: &str) -> StoreResult<Option<JobRow>> {
        Ok(self
            .rows(sql::select_job(id), "reading a job")
            .await?
            .into_iter()
            .next())
    }

    /// The rows for `ids` (each distinct id at most once, in no particular order).
    pub async fn jobs(&self, ids: &[String]) -> StoreResult<Vec<JobRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.rows(sql::select_jobs(ids), "reading jobs").await
    }

    pub async fn list_jobs(&self, filter: StatusFilter, page: Page) -> StoreResult<(i64, Vec<JobRow>)> {
        let total = self.total(sql::count_jobs(filter), "counting jobs").await?;
        let rows = self.rows(sql::list_jobs(filter, page), "listing jobs").await?;
        Ok((total, rows))
    }

    pub async fn list_generations(&self, page: Page) -> StoreResult<(i64, Vec<GenerationRow>)> {
        let total = self.total(sql::count_generations(), "counting generations").await?;
        let rows = self.rows(sql::list_generations(page), "listing generations").await?;
        Ok((total, rows))
    }

    pub async fn mark_processing(&self, id: &str, now: i64) -> StoreResult<()> {
        self.run(sql::mark_processing(id, now), "marking a job processing")
            .await
    }

    pub async fn record_retryable_failure(&self, id: &str, error: &str, now: i64) -> StoreResult<()> {
        self.run(
            sql::record_retryable_failure(id, error, now),
            "recording a failed attempt",
        )
        .await
    }

    pub async fn mark_failed(&self, id: &str, error: &str, now: i64) -> StoreResult<()> {
        self.run(sql::mark_failed(id, error, now), "marking a job failed").await
    }

    pub async fn mark_dead_lettered(&self, id: &str, fallback: &str, now: i64) -> StoreResult<()> {
        self.run(
            sql::mark_dead_lettered(id, fallback, now),
            "failing a dead-lettered job",
        )
        .await
    }

    /// Completes the job and adds its gallery row in one batch (D1 runs a batch as a transaction).
    pub async fn complete(&self, job: &JobRow, generation_id: &str, image_url: &str, now: i64) -> StoreResult<()> {
        let action = "completing a job";
        let statements = vec![
            self.prepare(&sql::mark_completed(&job.id, image_url, now), action)?,
            self.prepare(
                &sql::insert_generation(generation_id, &job.id, image_url, &job.prompt, &job.model, now),
                action,
            )?,
        ];
        self.db.batch(statements).await.map_err(|e| fail(action, e))?;
        Ok(())
    }
}

fn fail(action: &'static str, error: worker::Error) -> StoreError {
    StoreError {
        action,
        message: error.to_string(),
    }
}
