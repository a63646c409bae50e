//! MCP image-generation server for Cloudflare Workers.
//!
//! Request path: `transport` (routes, auth, Origin) → `server` (MCP methods over `protocol`
//! wire types) → `tools` → `jobs` (D1) and the queue. Queue path: `pipeline::consumer` → image
//! backend → R2 → D1. `pages` serves people. Lower layers: `http`, `urls`, `media`, `d1`,
//! `config`, `catalog`. No module imports one above it (`layering_tests` checks).

mod access;
mod catalog;
mod config;
mod d1;
mod http;
mod jobs;
mod media;
mod models;
mod pages;
mod pipeline;
mod protocol;
mod rate_limit;
mod server;
mod tools;
mod transport;
mod urls;

#[cfg(test)]
mod fuzz_tests;

#[cfg(test)]
mod layering_tests;

#[cfg(test)]
mod wire_contract;

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

/// Waits `ms` milliseconds on the runtime's timer.
///
/// `worker::Delay` keeps the waker of the task that first polled it; a wait driven from a
/// streamed response body is polled by a new task per read, so it would never wake. A
/// promise-backed timer always wakes the task currently awaiting it.
pub async fn sleep_ms(ms: u64) {
    use worker::js_sys::{Function, Promise};
    use worker::wasm_bindgen::JsCast;
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        let global: worker::web_sys::WorkerGlobalScope = worker::js_sys::global().unchecked_into();
        // setTimeout only fails for a non-callable callback, which `resolve` never is.
        let _ = global.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms.min(i32::MAX as u64) as i32);
    });
    let _ = worker::wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Milliseconds since the Unix epoch (the runtime clock).
pub fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// The current time as ISO 8601, as JavaScript's `toISOString` writes it.
pub fn now_iso() -> String {
    String::from(worker::js_sys::Date::new_0().to_iso_string())
}
