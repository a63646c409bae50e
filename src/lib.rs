//! MCP image-generation server for Cloudflare Workers.
//!
//! Request path: `transport` (HTTP, auth, Origin) → `protocol` (JSON-RPC, MCP) → `tools`
//! → `jobs` (D1) and the queue. Queue path: `pipeline::consumer` → image backend → R2 → D1.

pub mod catalog;
pub mod config;
pub mod jobs;
pub mod pages;
pub mod pipeline;
pub mod protocol;
pub mod tools;
pub mod transport;

use worker::{event, Context, Env, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    console_error_panic_hook::set_once();
    transport::route(req, env, ctx).await
}

/// The queue entry point, written out instead of `#[event(queue)]` because the consumer needs
/// each message's delivery count (`attempts`), which the typed wrapper does not expose.
mod queue_export {
    use worker::wasm_bindgen::prelude::wasm_bindgen;
    use worker::wasm_bindgen::JsValue;

    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, wasm_bindgen_futures = ::worker::wasm_bindgen_futures, js_sys = ::worker::js_sys)]
    pub async fn queue(
        batch: ::worker::worker_sys::MessageBatch,
        env: ::worker::Env,
        _ctx: ::worker::worker_sys::Context,
    ) -> Result<JsValue, JsValue> {
        console_error_panic_hook::set_once();
        crate::pipeline::consumer::handle_batch(batch, env).await;
        Ok(JsValue::UNDEFINED)
    }
}

/// Milliseconds since the Unix epoch (the runtime clock).
pub fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// The current time as ISO 8601, as JavaScript's `toISOString` writes it.
pub fn now_iso() -> String {
    String::from(worker::js_sys::Date::new_0().to_iso_string())
}
