//! MCP image-generation server for Cloudflare Workers.
//!
//! Request path: `transport` (routes, auth, Origin) → `server` (MCP methods over `protocol`
//! wire types) → `tools` → `jobs` (D1) and the queue. Queue path: `pipeline::consumer` → image
//! backend → R2 → D1. Cron path: `sweeper` (the top layer beside `transport`: it re-queues and
//! fails jobs through `jobs`, expires the SSE mailbox of `transport`, deletes old images). `pages`
//! serves people. Lower layers: `http`, `urls`, `media`, `d1`, `config`, `catalog`. No module
//! imports one above it (`layering_tests` checks).

mod access;
mod catalog;
mod config;
mod d1;
mod http;
mod images_binding;
mod jobs;
mod media;
mod models;
mod pages;
mod pipeline;
mod protocol;
mod rate_limit;
mod server;
mod sweeper;
mod tools;
mod transport;
mod urls;

#[cfg(test)]
mod differential_tests;

#[cfg(test)]
mod fuzz_tests;

#[cfg(test)]
mod layering_tests;

#[cfg(test)]
mod wire_contract;

use worker::{event, Context, Env, Request, Response, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    console_error_panic_hook::set_once();
    transport::route(req, env, ctx).await
}

/// The cron entry point: one sweep, as of the event's scheduled time.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    console_error_panic_hook::set_once();
    sweeper::run(&env, event.schedule() as i64).await;
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

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) — Howard Hinnant's
/// `civil_from_days`. Used for UTC dates: the gallery's times and the daily quota's day.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
