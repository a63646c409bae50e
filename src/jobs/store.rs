//! Runs the statements from `sql` against the D1 binding. The only place jobs touch D1.

use serde::Deserialize;
use worker::D1Database;

use super::{cancel_sql, delete_sql, sql, sweep_sql};
use super::{
    GenerationRow, ImageFilter, ImagePosition, JobFilter, JobMessage, JobRow, JobStatus, Limits, NewJob, Page, Spend,
    StatusFilter, StoredImage,
};
use crate::d1::{Db, DbResult};

#[derive(Deserialize)]
struct Reserved {
    #[allow(dead_code)] // read only to tell "a row came back" from "none"
    images: i64,
}

/// Images, estimated neurons and USD one owner has used on a day.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Usage {
    pub owner: String,
    pub images: i64,
    #[serde(default)]
    pub neurons: f64,
    #[serde(default)]
    pub usd: f64,
}

/// Jobs and gallery rows in D1.
pub struct JobStore {
    pub(super) db: Db,
}

impl JobStore {
    pub fn new(db: D1Database) -> Self {
        JobStore { db: Db::new(db) }
    }

    /// Inserts every job in one statement, so a request creates all of its jobs or none; with
    /// `count_on_day`, the same batch adds their spend to the owner's daily usage (no limit applies).
    pub async fn insert_jobs(
        &self,
        jobs: &[NewJob],
        prompt: &str,
        model: &str,
        owner: &str,
        now: i64,
        count_on_day: Option<(&str, Spend)>,
    ) -> DbResult<()> {
        let mut statements = vec![sql::insert_jobs(jobs, prompt, model, owner, now)];
        if let Some((day, spend)) = count_on_day {
            statements.push(sql::count_usage(owner, day, spend));
        }
        self.db.batch(statements, "creating jobs").await
    }

    /// The job, if it exists and `owner` may see it (`None`: any owner's).
    pub async fn job(&self, id: &str, owner: Option<&str>) -> DbResult<Option<JobRow>> {
        Ok(self
            .db
            .json_rows(sql::select_job(id, owner), "reading a job")
            .await?
            .into_iter()
            .next())
    }

    /// The rows for `ids` that `owner` may see (each distinct id at most once, in no particular order).
    pub async fn jobs(&self, ids: &[String], owner: Option<&str>) -> DbResult<Vec<JobRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.db.rows(sql::select_jobs(ids, owner), "reading jobs").await
    }

    pub async fn list_jobs(
        &self,
        filter: StatusFilter,
        page: Page,
        owner: Option<&str>,
    ) -> DbResult<(i64, Vec<JobRow>)> {
        self.db
            .counted_rows(
                sql::count_jobs(filter, owner),
                sql::list_jobs(filter, page, owner),
                "listing jobs",
            )
            .await
    }

    /// The gallery's page of jobs matching `filter`, newest first, and how many match in all.
    pub async fn list_filtered_jobs(
        &self,
        filter: JobFilter<'_>,
        page: Page,
        owner: Option<&str>,
    ) -> DbResult<(i64, Vec<JobRow>)> {
        self.db
            .counted_rows(
                sql::count_filtered_jobs(filter, owner),
                sql::list_filtered_jobs(filter, page, owner),
                "listing gallery jobs",
            )
            .await
    }

    pub async fn list_generations(&self, page: Page, owner: Option<&str>) -> DbResult<(i64, Vec<GenerationRow>)> {
        self.db
            .counted_rows(
                sql::count_generations(owner),
                sql::list_generations(page, owner),
                "listing generations",
            )
            .await
    }

    /// Up to `limit` finished jobs with a stored image, newest first, after `after` if given.
    pub async fn list_stored_images(
        &self,
        filter: ImageFilter<'_>,
        after: Option<&ImagePosition>,
        limit: i64,
    ) -> DbResult<Vec<JobRow>> {
        self.db
            .rows(sql::list_stored_images(filter, after, limit), "listing stored images")
            .await
    }

    /// Marks the job `processing` and returns it; None when it is finished or missing.
    pub async fn claim_for_processing(&self, id: &str, now: i64) -> DbResult<Option<JobRow>> {
        Ok(self
            .db
            .rows(sql::claim_for_processing(id, now), "marking a job processing")
            .await?
            .into_iter()
            .next())
    }

    pub async fn record_retryable_failure(&self, id: &str, error: &str, now: i64) -> DbResult<()> {
        self.db
            .run(
                sql::record_retryable_failure(id, error, now),
                "recording a failed attempt",
            )
            .await
    }

    pub async fn mark_failed(&self, id: &str, error: &str, now: i64) -> DbResult<()> {
        self.db
            .run(sql::mark_failed(id, error, now), "marking a job failed")
            .await
    }

    pub async fn mark_dead_lettered(&self, id: &str, fallback: &str, now: i64) -> DbResult<()> {
        self.db
            .run(
                sql::mark_dead_lettered(id, fallback, now),
                "failing a dead-lettered job",
            )
            .await
    }

    /// Completes the job and adds its gallery row, and reads the job's status after both: one
    /// batch, so one round trip and one transaction. Returns that status: `completed`, or what the
    /// job became in the meantime (cancelled, failed), which the batch left as it was.
    pub async fn complete(
        &self,
        job: &JobRow,
        generation_id: &str,
        image: &StoredImage,
        now: i64,
    ) -> DbResult<Option<JobStatus>> {
        #[derive(Deserialize)]
        struct Status {
            status: JobStatus,
        }
        let statements = vec![
            sql::mark_completed(&job.id, image, now),
            sql::insert_generation(generation_id, &job.id, image, &job.prompt, &job.model, now),
        ];
        let after: Vec<Status> = self
            .db
            .batch_then_rows(statements, sql::select_status(&job.id), "completing a job")
            .await?;
        Ok(after.first().map(|row| row.status))
    }

    /// Cancels the unfinished jobs among `ids` that `owner` may see (`None`: any owner's), giving
    /// each one's image back to its owner's daily count, in one batch. Finished jobs are left alone.
    pub async fn cancel_jobs(&self, ids: &[String], owner: Option<&str>, now: i64) -> DbResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.db
            .batch(cancel_sql::cancel_batch(ids, owner, now), "cancelling jobs")
            .await
    }

    /// Adds `spend` to the owner's usage for `day`; false (and nothing changed) when that would
    /// pass `limits`.
    pub async fn reserve_usage(&self, owner: &str, day: &str, spend: Spend, limits: Limits) -> DbResult<bool> {
        let rows = self
            .db
            .rows::<Reserved>(sql::reserve_usage(owner, day, spend, limits), "reserving daily usage")
            .await?;
        Ok(!rows.is_empty())
    }

    /// Gives back a reservation whose work was never done.
    pub async fn release_usage(&self, owner: &str, day: &str, spend: Spend) -> DbResult<()> {
        self.db
            .run(sql::release_usage(owner, day, spend), "releasing daily usage")
            .await
    }

    /// Corrects the day's spend once the real figure is known (either sign).
    pub async fn adjust_spend(&self, owner: &str, day: &str, neurons: f64, usd: f64) -> DbResult<()> {
        self.db
            .run(sql::adjust_spend(owner, day, neurons, usd), "correcting daily spend")
            .await
    }

    /// Images used on `day`, per owner (`owner`: only that one's).
    pub async fn usage(&self, day: &str, owner: Option<&str>) -> DbResult<Vec<Usage>> {
        self.db.rows(sql::select_usage(day, owner), "reading daily usage").await
    }

    /// Claims up to `limit` jobs left `pending` since before `stale_before` (created since
    /// `created_since`) and returns the queue messages to send for them.
    pub async fn claim_stale_pending(
        &self,
        stale_before: i64,
        created_since: i64,
        now: i64,
        limit: i64,
    ) -> DbResult<Vec<JobMessage>> {
        // Sweep statements return whole job rows, read with the decoder every job query already
        // uses: one more row type would cost its own decoder in the Wasm.
        let claimed: Vec<JobRow> = self
            .db
            .rows(
                sweep_sql::claim_stale_pending(stale_before, created_since, now, limit),
                "claiming stale pending jobs",
            )
            .await?;
        Ok(claimed
            .into_iter()
            .map(|job| JobMessage {
                job_id: job.id,
                prompt: job.prompt,
                model: job.model,
            })
            .collect())
    }

    /// Fails up to `limit` jobs in `status` since before `stale_before` (and created before
    /// `created_before`, when given); returns their rows.
    pub async fn fail_stale(
        &self,
        status: &'static str,
        stale_before: i64,
        created_before: Option<i64>,
        error: &str,
        now: i64,
        limit: i64,
    ) -> DbResult<Vec<JobRow>> {
        self.db
            .rows(
                sweep_sql::fail_stale(status, stale_before, created_before, error, now, limit),
                "failing stale jobs",
            )
            .await
    }

    /// Finished jobs created before `created_before`, oldest first.
    pub async fn expired_jobs(&self, created_before: i64, limit: usize) -> DbResult<Vec<JobRow>> {
        self.db
            .rows(
                sweep_sql::select_expired(created_before, limit as i64),
                "selecting jobs past retention",
            )
            .await
    }

    /// Of the stored input keys `candidates`, those no job other than `deleting` mentions.
    pub async fn unreferenced_inputs(&self, candidates: &[String], deleting: &[String]) -> DbResult<Vec<String>> {
        #[derive(Deserialize)]
        struct Key {
            key: String,
        }
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<Key> = self
            .db
            .rows(
                sweep_sql::unreferenced_inputs(candidates, deleting),
                "finding inputs no job uses any more",
            )
            .await?;
        Ok(rows.into_iter().map(|row| row.key).collect())
    }

    /// Turns the finished jobs among `ids` that `owner` may see (`None`: any owner's) into
    /// tombstones and removes their gallery rows, in one batch (D1 runs it as a transaction).
    /// Jobs still running, tombstones and other keys' jobs are left alone.
    pub async fn tombstone_jobs(&self, ids: &[String], owner: Option<&str>, now: i64) -> DbResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let statements = vec![
            delete_sql::tombstone_jobs(ids, owner, now),
            delete_sql::delete_gallery_rows(ids),
        ];
        self.db.batch(statements, "deleting images").await
    }

    /// The jobs still pending or processing whose inputs name any of `keys`.
    pub async fn running_users(&self, keys: &[String]) -> DbResult<Vec<String>> {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<Id> = self
            .db
            .rows(
                delete_sql::running_users(keys),
                "finding running jobs that read an image",
            )
            .await?;
        Ok(rows.into_iter().map(|row| row.id).collect())
    }

    /// Deletes the given finished jobs and their gallery rows in one batch.
    pub async fn delete_jobs(&self, ids: &[String]) -> DbResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.db
            .batch(sweep_sql::delete_jobs(ids), "deleting jobs past retention")
            .await
    }
}
