//! The runtime's bindings, as wrangler.toml declares them: every binding's name is written here
//! and nowhere else in src/. Each has one function that returns its handle, or an error that
//! names the binding (the typed ones) or `None` (the two reached through `wasm_bindgen`).

use worker::wasm_bindgen::JsValue;
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

fn named<T>(name: &'static str, handle: worker::Result<T>) -> Result<T, Unavailable> {
    handle.map_err(|source| Unavailable { name, source })
}

pub fn db(env: &Env) -> Result<D1Database, Unavailable> {
    named(DB, env.d1(DB))
}

pub fn bucket(env: &Env) -> Result<Bucket, Unavailable> {
    named(R2_BUCKET, env.bucket(R2_BUCKET))
}

pub fn queue(env: &Env) -> Result<Queue, Unavailable> {
    named(IMAGE_QUEUE, env.queue(IMAGE_QUEUE))
}

pub fn ai(env: &Env) -> Result<Ai, Unavailable> {
    named(AI, env.ai(AI))
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

fn object(env: &Env, name: &str) -> Option<JsValue> {
    match worker::js_sys::Reflect::get(env.as_ref(), &JsValue::from_str(name)) {
        Ok(value) if value.is_object() => Some(value),
        _ => None,
    }
}
