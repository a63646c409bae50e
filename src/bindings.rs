//! The runtime's bindings, as wrangler.toml declares them: every binding's name is written here
//! and nowhere else in src/. Each has one function that returns its handle, or an error that
//! names the binding (the typed ones) or `None` (the ones reached through `wasm_bindgen`). Each
//! handle is looked up once per isolate.

use std::cell::RefCell;

use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{Ai, Bucket, D1Database, Env, Queue};

/// D1: jobs, generations, usage counters and the SSE mailbox.
pub const DB: &str = "DB";
/// R2: images, thumbnails and stored input images.
pub const R2_BUCKET: &str = "R2_BUCKET";
/// The queue producer: one message per image job.
pub const IMAGE_QUEUE: &str = "IMAGE_QUEUE";
/// Workers AI: the image models.
pub const AI: &str = "AI";
/// Cloudflare Images (`[images] binding = …`): thumbnails and input conversion.
pub const IMAGES: &str = "IMAGES";
/// Workers Rate Limiting: the per-key request limit (optional).
pub const RATE_LIMITER: &str = "RATE_LIMITER";
/// Workers Rate Limiting: client registrations (`/oauth/register`) per client address (optional).
pub const REGISTRATION_LIMITER: &str = "REGISTRATION_LIMITER";

/// A typed binding the runtime did not provide.
#[derive(Debug, thiserror::Error)]
#[error("server binding {name} unavailable: {source}")]
pub struct Unavailable {
    pub name: &'static str,
    #[source]
    pub source: worker::Error,
}

/// The runtime's own error, for callers that pass it on unchanged.
impl From<Unavailable> for worker::Error {
    fn from(error: Unavailable) -> Self {
        error.source
    }
}

thread_local! {
    /// The handles looked up so far in this isolate, by binding name (`None`: not bound).
    static HANDLES: RefCell<Vec<(&'static str, Option<JsValue>)>> = const { RefCell::new(Vec::new()) };
}

/// The handle of binding `name`: the one this isolate looked up before, else `lookup`'s, kept
/// when it found one. The runtime gives every request, queue batch and cron event of an isolate
/// the same bindings (as it does the vars, which `Config::from_env` reads once for the same
/// reason), and a lookup crosses into JS three to five times: the property read and, for a
/// typed binding, workers-rs's check of its constructor's name.
fn cached<T: JsCast>(name: &'static str, lookup: impl FnOnce() -> worker::Result<T>) -> Result<T, Unavailable> {
    if let Some(Some(handle)) = known(name) {
        return Ok(handle.unchecked_into());
    }
    let handle = lookup().map_err(|source| Unavailable { name, source })?;
    remember(name, Some(handle.as_ref().clone()));
    Ok(handle)
}

fn known(name: &str) -> Option<Option<JsValue>> {
    HANDLES.with(|handles| {
        handles
            .borrow()
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, handle)| handle.clone())
    })
}

fn remember(name: &'static str, handle: Option<JsValue>) {
    HANDLES.with(|handles| handles.borrow_mut().push((name, handle)));
}

pub fn db(env: &Env) -> Result<D1Database, Unavailable> {
    cached(DB, || env.d1(DB))
}

pub fn bucket(env: &Env) -> Result<Bucket, Unavailable> {
    cached(R2_BUCKET, || env.bucket(R2_BUCKET))
}

pub fn queue(env: &Env) -> Result<Queue, Unavailable> {
    cached(IMAGE_QUEUE, || env.queue(IMAGE_QUEUE))
}

pub fn ai(env: &Env) -> Result<Ai, Unavailable> {
    cached(AI, || env.ai(AI))
}

/// The Images binding's object, when configured (workers-rs has no typed binding for it).
pub fn images(env: &Env) -> Option<JsValue> {
    object(env, IMAGES)
}

/// The rate limiter's object, when configured (workers-rs has no typed binding for it).
pub fn rate_limiter(env: &Env) -> Option<JsValue> {
    object(env, RATE_LIMITER)
}

pub fn registration_limiter(env: &Env) -> Option<JsValue> {
    object(env, REGISTRATION_LIMITER)
}

/// An optional binding's object; its absence is remembered too (checked on every request for the
/// rate limiter).
fn object(env: &Env, name: &'static str) -> Option<JsValue> {
    if let Some(handle) = known(name) {
        return handle;
    }
    let handle = match worker::js_sys::Reflect::get(env.as_ref(), &JsValue::from_str(name)) {
        Ok(value) if value.is_object() => Some(value),
        _ => None,
    };
    remember(name, handle.clone());
    handle
}
