//! The service layer below the tools: what several tools do with storage, the queue and the
//! bindings, free of any tool's types.
//!
//! [`jobs`] creates jobs (plans them, reserves the quota through [`quota`], records them in D1,
//! queues them); [`inputs`] turns image references and uploads into checked bytes and stores
//! what a model needs; [`edits`] starts an edit from them (edit_image, the OpenAI-compatible
//! edits and variations); [`storage`] names, writes and reads R2 objects (also for the queue consumer, the
//! sweeper and `resources/read`); [`cancel`] stops unfinished jobs and [`deletion`] deletes images
//! (the tools, tasks and the gallery). Services see a call through [`Context`] and fail with
//! [`ServiceError`]; the tools convert it once, keeping every message as it is.

pub mod cancel;
pub mod deletion;
pub mod edits;
pub mod inputs;
pub mod jobs;
pub mod quota;
pub mod storage;
pub mod vision;

use worker::Env;

use crate::access::Caller;
use crate::bindings::{self, Unavailable};
use crate::config::Config;
use crate::d1::DbError;
use crate::jobs::JobStore;

/// What a service needs to know about the call it works for (the tools' context provides it).
pub trait Context {
    fn env(&self) -> &Env;
    fn config(&self) -> &Config;
    /// Whose call this is: jobs are recorded under it, and it sees only its own.
    fn caller(&self) -> &Caller;
    /// Origin of the request (scheme://host[:port]): image URLs under it are this server's.
    fn origin(&self) -> &str;

    fn job_store(&self) -> Result<JobStore, ServiceError> {
        Ok(JobStore::new(bindings::db(self.env())?))
    }
}

/// Why a service could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Something the call asked for cannot be done as asked (the caller can fix it): the tools
    /// report it as an argument error.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] DbError),
    #[error("could not queue the image job: {0}")]
    Queue(#[source] worker::Error),
    #[error(
        "daily image quota reached: key \"{key}\" has used {used} of its {quota} images today (UTC) and this call \
         asks for {requested}, so nothing was started; the quota resets at {resets_at}"
    )]
    OverQuota {
        key: String,
        quota: u32,
        used: i64,
        requested: i64,
        resets_at: String,
    },
    #[error(
        "daily neuron budget reached: key \"{key}\" has used {used:.2} of its {budget} neurons today (UTC) and this \
         call is estimated at {requested:.2}, so nothing was started; the budget resets at {resets_at}"
    )]
    OverBudget {
        key: String,
        budget: f64,
        used: f64,
        requested: f64,
        resets_at: String,
    },
    #[error("the vision model {model} failed: {0}", model = crate::models::VISION.name)]
    Vision(String),
    #[error("could not read or store an input image in R2: {0}")]
    Storage(#[source] worker::Error),
    #[error("could not delete the images from R2 (nothing was marked deleted; try again): {0}")]
    Delete(#[source] worker::Error),
    #[error(transparent)]
    Binding(#[from] Unavailable),
}
