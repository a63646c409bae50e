//! Queue consumer: runs each image job, and fails jobs whose messages were dead-lettered.
//!
//! A failed attempt is retried while retries are left, the job back to `pending` with the error
//! on record; a transient Workers AI error (out of capacity, timeout) is retried after a growing
//! delay. Model errors no retry can fix (bad input, no such model, account refusals, the daily
//! free allocation) fail the job at once and acknowledge the message. Work is keyed by job, so a
//! redelivered message finds the job completed (and is acknowledged) or redoes it into the same
//! R2 object and gallery row.
//!
//! A job cancelled while pending is never claimed, so never sent to its model; one cancelled
//! while its model runs has the result discarded: the batch that completes a job also reads its
//! status, and when that is not `completed` what the attempt stored is deleted again (see
//! [`attempt_job`]).
//!
//! While the image is put in R2, a thumbnail is made from the same bytes through the Images
//! binding; once the image is stored the thumbnail is stored beside it (one key per job, so a
//! redo overwrites it), and the job row keeps its base64 too when it fits an inline preview, so
//! results show it without reading R2. A missing or failing binding costs only the thumbnail: the
//! job completes without one and the log says why, after deleting any thumbnail an earlier
//! attempt stored (see [`remove_earlier_thumbnail`]).

use worker::js_sys::{Object, Reflect, Uint8Array, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::{Message as RawMessage, MessageBatch as RawBatch};
use worker::Env;

use super::ai_errors::{classify, AiErrorClass, DAILY_LIMIT_CODE};
use super::backend::{self, GenerateError};
use crate::bindings;
use crate::catalog::{
    DEAD_LETTER_QUEUE_NAME, QUEUE_MAX_RETRIES, TRANSIENT_RETRY_BASE_DELAY_SECONDS, TRANSIENT_RETRY_MAX_DELAY_SECONDS,
};
use crate::config::{Config, ImageBackend};
use crate::d1::DbError;
use crate::images_binding::{make_thumbnail, remove_background};
use crate::jobs::{inline_preview_text, InputRole, JobInput, JobMessage, JobStatus, JobStore, StoredImage};
use crate::media::{dimensions, ImageFormat};
use crate::models::{Maker, Operation};
use crate::services::storage::{
    image_metadata, object_key, possible_keys, put_image, put_image_array, read_object, thumbnail_metadata,
};
use crate::urls::{key_in_stored_url, stored_image_url, thumbnail_key};

/// Why one attempt at a job did not complete it.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error(transparent)]
    Generate(#[from] GenerateError),
    #[error(transparent)]
    Store(#[from] DbError),
    #[error("could not store the image in R2: {0}")]
    Storage(#[source] worker::Error),
    #[error("could not delete the earlier thumbnail from R2: {0}")]
    EarlierThumbnail(#[source] worker::Error),
    #[error("{0}")]
    Setup(String),
}

impl AttemptError {
    /// The Workers AI class of the error; only a model's own error message carries a code.
    fn ai_class(&self) -> AiErrorClass {
        match self {
            AttemptError::Generate(GenerateError::Model { message, .. }) => classify(message),
            _ => AiErrorClass::Unknown,
        }
    }
}

/// What a failed attempt means for the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Retries remain: keep the job waiting. The message comes back after `delay_seconds`, or
    /// after the queue's own retry delay when `None`.
    Retry { delay_seconds: Option<u32> },
    /// This was the last delivery: the job has failed (the message goes on to the dead-letter queue).
    GiveUp,
    /// No retry can succeed: the job fails now and the message is acknowledged.
    FailNow,
}

/// `attempt` counts deliveries from 1; the queue delivers at most `1 + QUEUE_MAX_RETRIES` times.
pub fn after_failure(attempt: u32, class: AiErrorClass) -> AfterFailure {
    match class {
        AiErrorClass::Permanent { .. } | AiErrorClass::DailyLimit => AfterFailure::FailNow,
        _ if attempt > QUEUE_MAX_RETRIES => AfterFailure::GiveUp,
        AiErrorClass::Transient { .. } => AfterFailure::Retry {
            delay_seconds: Some(transient_retry_delay_seconds(attempt)),
        },
        AiErrorClass::Unknown => AfterFailure::Retry { delay_seconds: None },
    }
}

/// The wait before the delivery after `attempt` (from 1) failed transiently: the base delay,
/// doubled for each earlier attempt, capped.
pub fn transient_retry_delay_seconds(attempt: u32) -> u32 {
    let doublings = attempt.saturating_sub(1);
    let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
    TRANSIENT_RETRY_BASE_DELAY_SECONDS
        .saturating_mul(factor)
        .min(TRANSIENT_RETRY_MAX_DELAY_SECONDS)
}

/// The error recorded on a job failed at once: the model's message, and for the daily
/// allocation what it means for the user.
fn failure_text(class: AiErrorClass, error: &str) -> String {
    match class {
        AiErrorClass::DailyLimit => {
            format!("Workers AI daily free allocation used up ({DAILY_LIMIT_CODE}); resets at 00:00 UTC: {error}")
        }
        _ => error.to_string(),
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
    let store = match bindings::db(&env) {
        Ok(db) => JobStore::new(db),
        Err(error) => {
            worker::console_error!("queue {queue}: {error}; retrying the batch");
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
            discard_images_if_failed(&env, &store, &job.job_id).await;
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
            let class = error.ai_class();
            let text = failure_text(class, &error.to_string());
            worker::console_error!("job {} attempt {attempt}: {text}", job.job_id);
            let now = crate::time::now_ms();
            match after_failure(attempt, class) {
                AfterFailure::Retry { delay_seconds } => {
                    let recorded = store.record_retryable_failure(&job.job_id, &text, now).await;
                    log_store_error(&job.job_id, recorded);
                    let _ = message.retry(retry_options(delay_seconds));
                }
                AfterFailure::GiveUp => {
                    match store.mark_failed(&job.job_id, &text, now).await {
                        Ok(()) => discard_images_if_failed(env, store, &job.job_id).await,
                        recorded => log_store_error(&job.job_id, recorded),
                    }
                    // The queue then hands the message to the dead-letter queue.
                    let _ = message.retry(JsValue::UNDEFINED);
                }
                AfterFailure::FailNow => match store.mark_failed(&job.job_id, &text, now).await {
                    Ok(()) => {
                        discard_images_if_failed(env, store, &job.job_id).await;
                        let _ = message.ack();
                    }
                    Err(store_error) => {
                        // Acking now would leave the job `processing` for good; a redelivery
                        // (or in the end the dead-letter queue) still fails it.
                        log_store_error(&job.job_id, Err(store_error));
                        let _ = message.retry(JsValue::UNDEFINED);
                    }
                },
            }
        }
    }
}

fn log_store_error(job_id: &str, recorded: Result<(), DbError>) {
    if let Err(store_error) = recorded {
        worker::console_error!("job {job_id}: could not record the failure: {store_error}");
    }
}

/// `Message.retry` options: `{delaySeconds}` when a delay is asked for, else none (the queue's own).
fn retry_options(delay_seconds: Option<u32>) -> JsValue {
    let Some(seconds) = delay_seconds else {
        return JsValue::UNDEFINED;
    };
    let options = Object::new();
    match Reflect::set(&options, &"delaySeconds".into(), &JsValue::from(seconds)) {
        Ok(_) => options.into(),
        Err(_) => JsValue::UNDEFINED,
    }
}

/// One attempt: generate, store, complete. Safe to repeat for the same job.
async fn attempt_job(env: &Env, config: &Config, store: &JobStore, message: &JobMessage) -> Result<(), AttemptError> {
    // One round trip marks the job processing and reads it; only when that finds nothing is the
    // row read again, to tell a finished job (a redelivery: nothing to redo) from a missing one.
    let Some(job) = store
        .claim_for_processing(&message.job_id, crate::time::now_ms())
        .await?
    else {
        return match store.job(&message.job_id, None).await? {
            Some(_) => Ok(()),
            None => Err(AttemptError::Setup(format!("job {} does not exist", message.job_id))),
        };
    };
    let maker =
        Maker::from_name(&job.model).ok_or_else(|| AttemptError::Setup(format!("unknown model {:?}", job.model)))?;
    let (images, mask) = read_inputs(env, job.inputs.as_deref()).await?;
    let (bytes, format) = match maker {
        Maker::Model(model) => {
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
                images: &images,
                mask: mask.as_deref(),
            };
            backend::generate(env, config.image_backend, &request, config.ai_timeout_seconds).await?
        }
        Maker::Operation(operation) => run_operation(env, operation, &images).await?,
    };
    let size = dimensions(&bytes, format);
    let byte_count = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let key = object_key(job.created_at, &job.prompt, &job.id, format);
    let bucket = bindings::bucket(env).map_err(|e| AttemptError::Storage(e.source))?;
    // One copy of the image in JS memory, read by both the Images binding and the R2 put; the
    // Wasm copy goes at once.
    let image_array = Uint8Array::from(bytes.as_slice());
    drop(bytes);
    let metadata = image_metadata(&job.prompt, &job.model, &job.id, crate::time::now_iso());
    // The thumbnail is made while the image is put, and stored only once the image is: an
    // attempt whose put fails leaves nothing new in R2.
    let (stored, thumbnail) = futures::join!(
        put_image_array(&bucket, &key, &image_array, format, metadata),
        make_thumbnail_or_clear(env, &bucket, &job.id, &key, &image_array),
    );
    drop(image_array);
    stored.map_err(AttemptError::Storage)?;
    let thumbnail = match thumbnail? {
        Some(thumbnail) => match store_thumbnail(&bucket, &job.id, &key, thumbnail).await {
            Some(stored) => Some(stored),
            None => {
                remove_earlier_thumbnail(&bucket, &job.id, &key).await?;
                None
            }
        },
        None => None,
    };
    let public_base = config.public_image_base_url.as_deref();
    let (thumbnail_url, thumbnail_base64) = match thumbnail {
        Some(stored) => (Some(stored_image_url(&stored.key, public_base)), stored.inline),
        None => (None, None),
    };
    let image = StoredImage {
        url: stored_image_url(&key, public_base),
        size,
        bytes: byte_count,
        thumbnail_url,
        thumbnail_base64,
    };
    let generation_id = uuid::Uuid::new_v4().to_string();
    // One round trip: the job row, the gallery row, and the status they left.
    let status = store
        .complete(&job, &generation_id, &image, crate::time::now_ms())
        .await?;
    // Cancelled (or failed by the sweeper) while the model ran or the image was stored: that
    // batch changed nothing (such a job is never completed), so what this attempt stored goes.
    if status != Some(JobStatus::Completed) {
        match status {
            Some(JobStatus::Cancelled) => {
                worker::console_log!("job {}: cancelled while generating; its image is discarded", job.id)
            }
            other => worker::console_log!(
                "job {}: {} before it could complete; its image is discarded",
                job.id,
                other.map_or("gone", JobStatus::as_str)
            ),
        }
        let thumb = thumbnail_key(&key);
        bucket
            .delete_multiple(vec![key, thumb])
            .await
            .map_err(AttemptError::Storage)?;
    }
    Ok(())
}

/// A thumbnail this attempt stored: its R2 key and, when it fits an inline preview, its base64.
struct StoredThumbnail {
    key: String,
    inline: Option<String>,
}

/// The thumbnail of the image, made while the image is put. None when it could not be made
/// (logged): then the one an earlier attempt may have stored is deleted at once
/// ([`remove_earlier_thumbnail`]), and if that fails, so does the attempt.
async fn make_thumbnail_or_clear(
    env: &Env,
    bucket: &worker::Bucket,
    job_id: &str,
    image_key: &str,
    image: &Uint8Array,
) -> Result<Option<Vec<u8>>, AttemptError> {
    match make_thumbnail(env, image).await {
        Ok(thumbnail) => Ok(Some(thumbnail)),
        Err(reason) => {
            worker::console_warn!("job {job_id}: completing without a thumbnail: {reason}");
            remove_earlier_thumbnail(bucket, job_id, image_key).await?;
            Ok(None)
        }
    }
}

/// An image operation on the job's one input (background removal through the Images binding).
async fn run_operation(
    env: &Env,
    operation: Operation,
    images: &[Vec<u8>],
) -> Result<(Vec<u8>, ImageFormat), AttemptError> {
    let image = images
        .first()
        .ok_or_else(|| AttemptError::Setup(format!("{} needs an input image; the job lists none", operation.name())))?;
    match operation {
        Operation::REMOVE_BACKGROUND => {
            let bytes = remove_background(env, image)
                .await
                .map_err(|error| AttemptError::Setup(format!("{}: {error}", operation.name())))?;
            Ok((bytes, ImageFormat::Png))
        }
        other => Err(AttemptError::Setup(format!("no runner for {}", other.name()))),
    }
}

/// The bytes of a job's input images (none for text-to-image jobs) and of its mask, from R2.
async fn read_inputs(env: &Env, listed: Option<&str>) -> Result<(Vec<Vec<u8>>, Option<Vec<u8>>), AttemptError> {
    let Some(listed) = listed else {
        return Ok((Vec::new(), None));
    };
    let inputs: Vec<JobInput> = serde_json::from_str(listed)
        .map_err(|e| AttemptError::Setup(format!("the job's inputs are unreadable: {e}")))?;
    let bucket = bindings::bucket(env).map_err(|e| AttemptError::Storage(e.source))?;
    let (mut images, mut mask) = (Vec::new(), None);
    for input in inputs {
        let gone = || AttemptError::Setup(format!("input image {} is no longer stored", input.url));
        let (key, _) = key_in_stored_url(&input.url).ok_or_else(gone)?;
        let bytes = read_object(&bucket, key)
            .await
            .map_err(AttemptError::Storage)?
            .ok_or_else(gone)?;
        match input.role {
            InputRole::Image => images.push(bytes),
            InputRole::Mask => mask = Some(bytes),
        }
    }
    Ok((images, mask))
}

/// Stores the thumbnail beside its image; its key and inline text, or None (logged) when R2
/// refused it.
async fn store_thumbnail(
    bucket: &worker::Bucket,
    job_id: &str,
    image_key: &str,
    thumbnail: Vec<u8>,
) -> Option<StoredThumbnail> {
    let key = thumbnail_key(image_key);
    let bytes = thumbnail.len();
    let inline = inline_preview_text(&thumbnail);
    let metadata = thumbnail_metadata(image_key, job_id, crate::time::now_iso());
    match put_image(bucket, &key, thumbnail, ImageFormat::Webp, metadata).await {
        Ok(()) => {
            worker::console_log!("job {job_id}: thumbnail {key} ({bytes} bytes)");
            Some(StoredThumbnail { key, inline })
        }
        Err(error) => {
            worker::console_warn!("job {job_id}: completing without a thumbnail: storing it in R2 failed: {error}");
            None
        }
    }
}

/// Before a job completes without a thumbnail, deletes the one an earlier attempt at it may
/// have stored under the same key (a redelivery, a retry after the completing batch failed, a
/// job the sweeper re-queued), so `thumbnail_url` NULL always means no thumbnail object.
///
/// Deleting rather than keeping the earlier thumbnail: it is always consistent without reading
/// R2 first (deleting a missing key is a no-op), and the earlier thumbnail was made from an
/// earlier image, which this attempt has just overwritten, so it would show a different picture.
/// If the delete fails the attempt fails too (the queue retries it) instead of completing beside
/// an object no row names.
async fn remove_earlier_thumbnail(bucket: &worker::Bucket, job_id: &str, image_key: &str) -> Result<(), AttemptError> {
    let key = thumbnail_key(image_key);
    bucket.delete(&key).await.map_err(|error| {
        worker::console_error!("job {job_id}: could not delete the earlier thumbnail {key}: {error}");
        AttemptError::EarlierThumbnail(error)
    })
}

/// After a job was marked failed, deletes any image an attempt stored before failing (the
/// completing batch failed after the R2 put): a failed job leaves nothing in R2. Only when the
/// row reads `failed`, which is final (no delivery can complete it any more), so a job another
/// delivery completed keeps its image; if the row cannot be read the objects stay.
async fn discard_images_if_failed(env: &Env, store: &JobStore, job_id: &str) {
    let keys = match store.job(job_id, None).await {
        Ok(Some(job)) if job.status == JobStatus::Failed => possible_keys(job.created_at, &job.prompt, &job.id),
        Ok(_) => return,
        Err(error) => {
            worker::console_error!("job {job_id}: not reading it to clean up R2: {error}");
            return;
        }
    };
    let deleted = match bindings::bucket(env) {
        Ok(bucket) => bucket.delete_multiple(keys).await,
        Err(error) => Err(error.into()),
    };
    if let Err(error) = deleted {
        worker::console_error!("job {job_id}: could not delete its images from R2: {error}");
    }
}

async fn fail_dead_lettered(store: &JobStore, job: &JobMessage) {
    let fallback = "Image generation failed after all retries";
    if let Err(error) = store
        .mark_dead_lettered(&job.job_id, fallback, crate::time::now_ms())
        .await
    {
        worker::console_error!("dead-lettered job {}: could not mark it failed: {error}", job.job_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN_RETRY: AfterFailure = AfterFailure::Retry { delay_seconds: None };

    #[test]
    fn unknown_errors_retry_plainly_and_only_the_delivery_after_the_last_retry_gives_up() {
        assert_eq!(after_failure(1, AiErrorClass::Unknown), PLAIN_RETRY);
        assert_eq!(after_failure(QUEUE_MAX_RETRIES, AiErrorClass::Unknown), PLAIN_RETRY);
        assert_eq!(
            after_failure(QUEUE_MAX_RETRIES + 1, AiErrorClass::Unknown),
            AfterFailure::GiveUp
        );
    }

    #[test]
    fn permanent_errors_and_the_daily_limit_fail_at_once_on_any_delivery() {
        for attempt in [1, 2, QUEUE_MAX_RETRIES, QUEUE_MAX_RETRIES + 1] {
            assert_eq!(
                after_failure(attempt, AiErrorClass::Permanent { code: 5007 }),
                AfterFailure::FailNow
            );
            assert_eq!(after_failure(attempt, AiErrorClass::DailyLimit), AfterFailure::FailNow);
        }
    }

    #[test]
    fn transient_errors_retry_with_a_growing_delay_and_give_up_after_the_last_retry() {
        let transient = AiErrorClass::Transient { code: 3040 };
        let delays: Vec<_> = (1..=QUEUE_MAX_RETRIES)
            .map(|attempt| match after_failure(attempt, transient) {
                AfterFailure::Retry {
                    delay_seconds: Some(delay),
                } => delay,
                other => panic!("attempt {attempt}: {other:?}"),
            })
            .collect();
        assert_eq!(delays[0], TRANSIENT_RETRY_BASE_DELAY_SECONDS);
        assert!(delays.windows(2).all(|pair| pair[1] > pair[0]), "{delays:?}");
        assert_eq!(after_failure(QUEUE_MAX_RETRIES + 1, transient), AfterFailure::GiveUp);
    }

    #[test]
    fn the_transient_delay_doubles_and_is_capped() {
        assert_eq!(transient_retry_delay_seconds(1), TRANSIENT_RETRY_BASE_DELAY_SECONDS);
        assert_eq!(transient_retry_delay_seconds(2), 2 * TRANSIENT_RETRY_BASE_DELAY_SECONDS);
        assert_eq!(transient_retry_delay_seconds(3), 4 * TRANSIENT_RETRY_BASE_DELAY_SECONDS);
        // Attempt 0 would be a bug upstream; it gets the base delay, not a panic.
        assert_eq!(transient_retry_delay_seconds(0), TRANSIENT_RETRY_BASE_DELAY_SECONDS);
        for attempt in [10, 31, 32, 33, 1000, u32::MAX] {
            assert_eq!(
                transient_retry_delay_seconds(attempt),
                TRANSIENT_RETRY_MAX_DELAY_SECONDS,
                "{attempt}"
            );
        }
    }

    #[test]
    fn all_transient_retries_fit_in_one_wait_call() {
        // A client waiting on the job (generate_image_and_wait) should see the last retry's outcome.
        let total: u32 = (1..=QUEUE_MAX_RETRIES).map(transient_retry_delay_seconds).sum();
        assert!(
            u64::from(total) <= crate::catalog::DEFAULT_WAIT_RESPONSE_LIMIT_SECONDS / 2,
            "{total} s of retry delays"
        );
    }

    #[test]
    fn the_daily_limit_failure_says_what_happened_and_keeps_the_model_message() {
        let model_error = "flux-schnell failed: 3036: You have used up your daily free allocation of 10,000 neurons.";
        let text = failure_text(AiErrorClass::DailyLimit, model_error);
        assert_eq!(
            text,
            format!("Workers AI daily free allocation used up (3036); resets at 00:00 UTC: {model_error}")
        );
        let permanent = "flux-schnell failed: 5007: No such model @cf/x or task";
        assert_eq!(
            failure_text(AiErrorClass::Permanent { code: 5007 }, permanent),
            permanent
        );
        assert_eq!(failure_text(AiErrorClass::Unknown, "boom"), "boom");
    }

    #[test]
    fn only_a_model_message_is_classified() {
        let model = |message: &str| {
            AttemptError::Generate(GenerateError::Model {
                model: "flux-schnell",
                message: message.to_string(),
            })
        };
        assert_eq!(
            model("5006: Bad input: x").ai_class(),
            AiErrorClass::Permanent { code: 5006 }
        );
        assert_eq!(
            model("3007: Request timeout").ai_class(),
            AiErrorClass::Transient { code: 3007 }
        );
        assert_eq!(model("stand-in: model unavailable").ai_class(), AiErrorClass::Unknown);
        // A setup error that happens to start with a number is not a model error.
        assert_eq!(
            AttemptError::Setup("5007: x".to_string()).ai_class(),
            AiErrorClass::Unknown
        );
    }
}
