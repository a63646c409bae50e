//! Queue consumer: runs each image job, and fails jobs whose messages were dead-lettered.
//!
//! A job is failed only when no retry is left; earlier failures put it back to `pending`
//! with the error on record. Work is keyed by job, so a redelivered message finds the job
//! completed (and is acknowledged) or redoes it into the same R2 object and gallery row.

use worker::js_sys::{Reflect, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::{Message as RawMessage, MessageBatch as RawBatch};
use worker::Env;

use super::backend::{self, GenerateError};
use super::storage::{image_metadata, object_key, put_image};
use crate::catalog::{DEAD_LETTER_QUEUE_NAME, QUEUE_MAX_RETRIES};
use crate::config::{Config, ImageBackend};
use crate::d1::DbError;
use crate::jobs::{JobMessage, JobStore};
use crate::media::dimensions;
use crate::models::ImageModel;
use crate::urls::stored_image_url;

/// Why one attempt at a job did not complete it.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error(transparent)]
    Generate(#[from] GenerateError),
    #[error(transparent)]
    Store(#[from] DbError),
    #[error("could not store the image in R2: {0}")]
    Storage(#[source] worker::Error),
    #[error("{0}")]
    Setup(String),
}

/// What a failed attempt means for the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Retries remain: keep the job waiting.
    Retry,
    /// This was the last delivery: the job has failed.
    GiveUp,
}

/// `attempt` counts deliveries from 1; the queue delivers at most `1 + QUEUE_MAX_RETRIES` times.
pub fn after_failure(attempt: u32) -> AfterFailure {
    if attempt > QUEUE_MAX_RETRIES {
        AfterFailure::GiveUp
    } else {
        AfterFailure::Retry
    }
}

/// Entry point for every batch, from either queue. Never fails: each message is acked or retried.
pub async fn handle_batch(batch: RawBatch, env: Env) {
    let queue = batch.queue().map(String::from).unwrap_or_default();
    let Ok(messages) = batch.messages() else {
        worker::console_error!("queue {queue}: could not read the batch");
        return;
    };
    let config = match Config::from_env(&env) {
        Ok(config) => config,
        Err(error) => {
            worker::console_error!("queue {queue}: {error}; retrying the batch");
            let _ = batch.retry_all(JsValue::UNDEFINED);
            return;
        }
    };
    let store = match env.d1("DB") {
        Ok(db) => JobStore::new(db),
        Err(error) => {
            worker::console_error!("queue {queue}: DB binding unavailable: {error}; retrying the batch");
            let _ = batch.retry_all(JsValue::UNDEFINED);
            return;
        }
    };
    for message in messages.iter() {
        let message: RawMessage = message.unchecked_into();
        let Some(job) = read_body(&message) else {
            // Nothing can ever process it; retrying would only delay the same outcome.
            worker::console_error!("queue {queue}: dropping a message that is not a job");
            let _ = message.ack();
            continue;
        };
        if queue == DEAD_LETTER_QUEUE_NAME {
            fail_dead_lettered(&store, &job).await;
            let _ = message.ack();
        } else {
            run_delivery(&env, &config, &store, &message, &job).await;
        }
    }
}

fn read_body(message: &RawMessage) -> Option<JobMessage> {
    let body = message.body().ok()?;
    let text = JSON::stringify(&body).ok()?.as_string()?;
    serde_json::from_str(&text).ok()
}

fn attempt_number(message: &RawMessage) -> u32 {
    Reflect::get(message, &JsValue::from_str("attempts"))
        .ok()
        .and_then(|v| v.as_f64())
        .map_or(1, |n| n.max(1.0) as u32)
}

async fn run_delivery(env: &Env, config: &Config, store: &JobStore, message: &RawMessage, job: &JobMessage) {
    let attempt = attempt_number(message);
    match attempt_job(env, config, store, job).await {
        Ok(()) => {
            let _ = message.ack();
        }
        Err(error) => {
            let text = error.to_string();
            worker::console_error!("job {} attempt {attempt}: {text}", job.job_id);
            let now = crate::now_ms();
            let recorded = match after_failure(attempt) {
                AfterFailure::Retry => store.record_retryable_failure(&job.job_id, &text, now).await,
                AfterFailure::GiveUp => store.mark_failed(&job.job_id, &text, now).await,
            };
            if let Err(store_error) = recorded {
                worker::console_error!("job {}: could not record the failure: {store_error}", job.job_id);
            }
            // Also after the last attempt: the queue then hands the message to the dead-letter queue.
            let _ = message.retry(JsValue::UNDEFINED);
        }
    }
}

/// One attempt: generate, store, complete. Safe to repeat for the same job.
async fn attempt_job(env: &Env, config: &Config, store: &JobStore, message: &JobMessage) -> Result<(), AttemptError> {
    let Some(job) = store.job(&message.job_id).await? else {
        return Err(AttemptError::Setup(format!("job {} does not exist", message.job_id)));
    };
    if job.status.is_terminal() {
        // A redelivery of a finished job: nothing to redo.
        return Ok(());
    }
    let model = ImageModel::from_name(&job.model)
        .ok_or_else(|| AttemptError::Setup(format!("unknown model {:?}", job.model)))?;
    store.mark_processing(&job.id, crate::now_ms()).await?;
    if config.image_backend == ImageBackend::Preview {
        worker::console_log!(
            "job {}: IMAGE_BACKEND=preview draws an offline preview picture, not a model output",
            job.id
        );
    }
    let parameters = crate::jobs::parameters_object(job.parameters.as_deref());
    let request = backend::Request {
        model,
        prompt: &job.prompt,
        parameters: &parameters,
    };
    let (bytes, format) = backend::generate(env, config.image_backend, &request).await?;
    let size = dimensions(&bytes, format);
    let key = object_key(job.created_at, &job.prompt, &job.id, format);
    let bucket = env.bucket("R2_BUCKET").map_err(AttemptError::Storage)?;
    let metadata = image_metadata(&job.prompt, &job.model, &job.id, crate::now_iso());
    put_image(&bucket, &key, bytes, format, metadata)
        .await
        .map_err(AttemptError::Storage)?;
    let url = stored_image_url(&key, config.public_image_base_url.as_deref());
    let generation_id = uuid::Uuid::new_v4().to_string();
    store
        .complete(&job, &generation_id, &url, size, crate::now_ms())
        .await?;
    Ok(())
}

async fn fail_dead_lettered(store: &JobStore, job: &JobMessage) {
    let fallback = "Image generation failed after all retries";
    if let Err(error) = store.mark_dead_lettered(&job.job_id, fallback, crate::now_ms()).await {
        worker::console_error!("dead-lettered job {}: could not mark it failed: {error}", job.job_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_delivery_after_the_last_retry_gives_up() {
        assert_eq!(after_failure(1), AfterFailure::Retry);
        assert_eq!(after_failure(QUEUE_MAX_RETRIES), AfterFailure::Retry);
        assert_eq!(after_failure(QUEUE_MAX_RETRIES + 1), AfterFailure::GiveUp);
    }
}
