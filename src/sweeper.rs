//! The cron sweeper: repairs jobs the queue lost track of, expires SSE sessions, applies retention.
//!
//! Runs on the `[triggers] crons` schedule with "now" taken from the scheduled event, so a test
//! can sweep as if hours had passed. Every step is bounded (batch sizes in `catalog`), guarded
//! in SQL so a second sweep changes nothing the first one did, independent of the others (one
//! failing is logged and the rest still run), and counted in one log line.
//!
//! - `pending` since longer than the retry window: no message can still be on its way (a new
//!   one is delivered, a retried one comes back, within the window), so it was lost: a failed
//!   send, or a crash between the insert and the send. The job is re-queued; the consumer is
//!   idempotent per job, so a message that was only late costs one extra model call, never a
//!   second image or gallery row. Jobs older than JOB_MAX_AGE_MS are failed instead.
//! - `processing` since longer than the retry window: the attempt died without reporting (the
//!   runtime was stopped) and every delivery the queue had is used up, so it is failed, and
//!   whatever its attempt may have stored in R2 before it died is deleted.
//! - SSE sessions not seen for 5 minutes are deleted with their undelivered messages.
//! - With `RETENTION_DAYS`, finished jobs older than that lose their image and thumbnail (R2
//!   first) and then their rows. In that order a failure in between leaves rows whose image is
//!   gone, which the next sweep selects again and finishes; the other order could leave objects
//!   no row names, which nothing would ever find again. The stored inputs (`input-…`) those jobs
//!   list go with them, in the same R2 call, unless a job outside the batch mentions them (any
//!   status, any age: a pending edit made with the input's URL after the batch was read keeps
//!   it); D1 is asked right before the delete. An earlier job's image used in place is never one
//!   of them: it lives and dies with its own job.

use worker::Env;

use crate::bindings::{self, Unavailable};
use crate::catalog::{
    ATTEMPT_STORE_ALLOWANCE_SECONDS, JOB_MAX_AGE_MS, QUEUE_MAX_RETRIES, RETENTION_BATCH, SWEEP_FAIL_BATCH,
    SWEEP_REQUEUE_BATCH, SWEEP_SSE_BATCH,
};
use crate::config::Config;
use crate::d1::DbError;
use crate::jobs::JobStore;
use crate::pipeline::consumer::transient_retry_delay_seconds;
use crate::services::storage::{possible_keys, stored_input_keys};
use crate::transport::mailbox::Mailbox;
use crate::urls::{key_in_stored_url, thumbnail_key};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The longest a job can be between two status changes while the queue still works on it: every
/// delivery (the first and QUEUE_MAX_RETRIES retries) running to the AI timeout plus the store
/// allowance, and every retry delay in between (the transient delays, the longest there are).
pub fn retry_window_ms(ai_timeout_seconds: u64) -> i64 {
    let attempts = u64::from(QUEUE_MAX_RETRIES) + 1;
    let delays: u64 = (1..=QUEUE_MAX_RETRIES)
        .map(|attempt| u64::from(transient_retry_delay_seconds(attempt)))
        .sum();
    let seconds = attempts * (ai_timeout_seconds + ATTEMPT_STORE_ALLOWANCE_SECONDS) + delays;
    seconds as i64 * 1000
}

/// What one sweep did, for the log line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub requeued: usize,
    pub stuck_failed: usize,
    pub undelivered_failed: usize,
    pub sse_sessions: usize,
    pub sse_messages: usize,
    pub retention_jobs: usize,
    pub retention_objects: usize,
    pub retention_inputs: usize,
    /// MCP tasks whose time to live ended.
    pub expired_tasks: usize,
    pub errors: usize,
}

impl std::fmt::Display for SweepReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sweep: re-queued {} pending, failed {} stuck processing and {} never delivered, \
             deleted {} SSE sessions and {} messages, retention deleted {} jobs, {} objects and {} inputs, {} expired tasks, {} errors",
            self.requeued,
            self.stuck_failed,
            self.undelivered_failed,
            self.sse_sessions,
            self.sse_messages,
            self.retention_jobs,
            self.retention_objects,
            self.retention_inputs,
            self.expired_tasks,
            self.errors
        )
    }
}

/// Why a step of the sweep could not finish; logged, and the next step still runs.
#[derive(Debug, thiserror::Error)]
enum SweepError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("binding {name} unavailable: {source}")]
    Binding {
        name: &'static str,
        #[source]
        source: worker::Error,
    },
    #[error("{action}: {source}")]
    Call {
        action: &'static str,
        #[source]
        source: worker::Error,
    },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

impl From<Unavailable> for SweepError {
    fn from(Unavailable { name, source }: Unavailable) -> Self {
        SweepError::Binding { name, source }
    }
}

/// Runs every step once as of `now` and logs what it did.
pub async fn run(env: &Env, now: i64) -> SweepReport {
    let mut report = SweepReport::default();
    let note = |step: &str, result: Result<(), SweepError>, report: &mut SweepReport| {
        if let Err(error) = result {
            report.errors += 1;
            worker::console_error!("sweep: {step}: {error}");
        }
    };
    let setup = || -> Result<(std::rc::Rc<Config>, JobStore), SweepError> {
        let config = Config::from_env(env)?;
        Ok((config, JobStore::new(bindings::db(env)?)))
    };
    match setup() {
        Ok((config, store)) => {
            let window = retry_window_ms(config.ai_timeout_seconds);
            let result = requeue_lost(env, &store, now, window, &mut report).await;
            note("re-queueing lost jobs", result, &mut report);
            let result = fail_stuck(env, &store, now, window, &mut report).await;
            note("failing stuck jobs", result, &mut report);
            let result = expire_tasks(&store, now, &mut report).await;
            note("expiring tasks", result, &mut report);
            if let Some(days) = config.retention_days {
                let result = apply_retention(env, &store, now - days as i64 * DAY_MS, &mut report).await;
                note("retention", result, &mut report);
            }
        }
        Err(error) => note("setup", Err(error), &mut report),
    }
    let result = sweep_sse(env, now, &mut report).await;
    note("SSE sessions", result, &mut report);
    // Expired codes and tokens, and grants revoked a day ago (src/oauth/sql.rs `sweep`).
    let result = match bindings::db(env) {
        Ok(db) => crate::oauth::store::OAuthStore::new(db)
            .sweep(now)
            .await
            .map_err(SweepError::from),
        Err(error) => Err(error.into()),
    };
    note("OAuth codes and tokens", result, &mut report);
    if report.errors == 0 {
        worker::console_log!("{report}");
    } else {
        worker::console_error!("{report}");
    }
    report
}

/// Deletes the tasks whose time to live has ended (their jobs stay, as the gallery's), up to
/// one batch per sweep; the next sweep takes the rest.
async fn expire_tasks(store: &JobStore, now: i64, report: &mut SweepReport) -> Result<(), SweepError> {
    report.expired_tasks = store.delete_expired_tasks(now, EXPIRED_TASKS_PER_SWEEP).await?;
    Ok(())
}

/// Expired tasks deleted per sweep.
const EXPIRED_TASKS_PER_SWEEP: i64 = 500;

fn bucket(env: &Env) -> Result<worker::Bucket, SweepError> {
    Ok(bindings::bucket(env)?)
}

async fn requeue_lost(
    env: &Env,
    store: &JobStore,
    now: i64,
    window: i64,
    report: &mut SweepReport,
) -> Result<(), SweepError> {
    let messages = store
        .claim_stale_pending(now - window, now - JOB_MAX_AGE_MS, now, SWEEP_REQUEUE_BATCH)
        .await?;
    if messages.is_empty() {
        return Ok(());
    }
    let count = messages.len();
    let queue = bindings::queue(env)?;
    // A failed send leaves the claimed jobs pending; the sweep one window later tries again.
    crate::jobs::queue::send(&queue, &messages)
        .await
        .map_err(|source| SweepError::Call {
            action: "sending the re-queued jobs' messages",
            source,
        })?;
    report.requeued = count;
    Ok(())
}

async fn fail_stuck(
    env: &Env,
    store: &JobStore,
    now: i64,
    window: i64,
    report: &mut SweepReport,
) -> Result<(), SweepError> {
    let minutes = (window + 59_999) / 60_000;
    let stuck_error = format!(
        "No result within the queue's retry window ({minutes} min): the last attempt stopped without \
         reporting back (the worker was stopped or cut off) and no delivery is left; failed by the sweeper."
    );
    let stuck = store
        .fail_stale("processing", now - window, None, &stuck_error, now, SWEEP_FAIL_BATCH)
        .await?;
    report.stuck_failed = stuck.len();
    let hours = JOB_MAX_AGE_MS / 3_600_000;
    let undelivered_error =
        format!("The queue did not deliver this job within {hours} h (its messages were lost); failed by the sweeper.");
    let undelivered = store
        .fail_stale(
            "pending",
            now - window,
            Some(now - JOB_MAX_AGE_MS),
            &undelivered_error,
            now,
            SWEEP_FAIL_BATCH,
        )
        .await?;
    report.undelivered_failed = undelivered.len();
    // A stuck attempt may have stored its image before it died: a failed job keeps nothing in R2.
    let keys: Vec<String> = stuck
        .iter()
        .flat_map(|job| possible_keys(job.created_at, &job.prompt, &job.id))
        .collect();
    if !keys.is_empty() {
        let bucket = bucket(env)?;
        bucket.delete_multiple(keys).await.map_err(|source| SweepError::Call {
            action: "deleting what stuck jobs stored",
            source,
        })?;
    }
    Ok(())
}

async fn apply_retention(
    env: &Env,
    store: &JobStore,
    created_before: i64,
    report: &mut SweepReport,
) -> Result<(), SweepError> {
    let expired = store.expired_jobs(created_before, RETENTION_BATCH).await?;
    if expired.is_empty() {
        return Ok(());
    }
    let images: Vec<String> = expired
        .iter()
        .filter_map(|job| job.image_url.as_deref().and_then(key_in_stored_url))
        .map(|(key, _)| key)
        .flat_map(|key| [key.to_string(), thumbnail_key(key)])
        .collect();
    let ids: Vec<String> = expired.iter().map(|job| job.id.clone()).collect();
    // Asked right before the delete, so a job made since the batch was read still counts.
    let inputs = store.unreferenced_inputs(&stored_input_keys(&expired), &ids).await?;
    if !images.is_empty() || !inputs.is_empty() {
        let bucket = bucket(env)?;
        let keys: Vec<String> = images.iter().chain(&inputs).cloned().collect();
        bucket.delete_multiple(keys).await.map_err(|source| SweepError::Call {
            action: "deleting images and inputs past retention",
            source,
        })?;
    }
    store.delete_jobs(&ids).await?;
    report.retention_jobs = ids.len();
    report.retention_objects = images.len();
    report.retention_inputs = inputs.len();
    Ok(())
}

async fn sweep_sse(env: &Env, now: i64, report: &mut SweepReport) -> Result<(), SweepError> {
    let swept = Mailbox::new(bindings::db(env)?).sweep(now, SWEEP_SSE_BATCH).await?;
    report.sse_sessions = swept.sessions;
    report.sse_messages = swept.messages;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_window_covers_every_delivery_and_every_delay() {
        // 4 deliveries of (120 s AI timeout + 60 s store allowance), plus 2 + 4 + 8 s of delays.
        assert_eq!(retry_window_ms(120), (4 * 180 + 14) * 1000);
        assert_eq!(retry_window_ms(1), (4 * 61 + 14) * 1000);
        // Even at the longest AI timeout a stuck job is failed as stuck, long before the rule for
        // jobs never delivered could apply to it.
        assert!(retry_window_ms(crate::catalog::AI_TIMEOUT_SECONDS.max.unwrap() as u64) < JOB_MAX_AGE_MS / 4);
    }

    #[test]
    fn only_our_own_keys_are_taken_from_stored_urls() {
        fn stored_key(url: &str) -> Option<String> {
            key_in_stored_url(url).map(|(key, _)| key.to_string())
        }
        let key = "1700000000000-a-fox-123e4567-e89b-12d3-a456-426614174000.png";
        assert_eq!(stored_key(&format!("/images/{key}")).as_deref(), Some(key));
        assert_eq!(
            stored_key(&format!("https://img.example.com/{key}")).as_deref(),
            Some(key)
        );
        assert_eq!(stored_key("https://img.example.com/../secret.txt"), None);
        assert_eq!(stored_key("/images/"), None);
        assert_eq!(stored_key(""), None);
    }

    #[test]
    fn the_report_names_every_count() {
        let report = SweepReport {
            requeued: 1,
            stuck_failed: 2,
            undelivered_failed: 3,
            sse_sessions: 4,
            sse_messages: 5,
            retention_jobs: 6,
            retention_objects: 7,
            retention_inputs: 8,
            expired_tasks: 9,
            errors: 0,
        };
        assert_eq!(
            report.to_string(),
            "sweep: re-queued 1 pending, failed 2 stuck processing and 3 never delivered, deleted 4 SSE \
             sessions and 5 messages, retention deleted 6 jobs, 7 objects and 8 inputs, 9 expired tasks, 0 errors"
        );
    }

    #[test]
    fn one_retention_batch_fits_one_r2_delete() {
        // Each job: its image, its thumbnail, and at most EDIT_IMAGES_MAX images and a mask.
        let keys = crate::catalog::RETENTION_BATCH * (2 + crate::catalog::EDIT_IMAGES_MAX + 1);
        assert!(keys <= 1000, "R2 deletes at most 1,000 keys a call: {keys}");
    }
}
