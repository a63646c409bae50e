//! The per-key request rate limit: the Workers Rate Limiting binding (`bindings::RATE_LIMITER`), reached
//! through a small extern because workers-rs has no typed binding for it.

use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{js_sys, Env};

use crate::access::Caller;
use crate::bindings::RATE_LIMITER as BINDING;

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
extern "C" {
    type RateLimiterBinding;

    /// `limit({ key })` resolves to `{ success: boolean }`.
    #[wasm_bindgen(method, catch)]
    fn limit(this: &RateLimiterBinding, options: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// What the limiter said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Limited,
    /// No binding configured: requests are not rate limited.
    Unlimited,
}

fn binding(env: &Env) -> Option<RateLimiterBinding> {
    crate::bindings::rate_limiter(env).map(JsCast::unchecked_into)
}

/// Whether requests are rate limited at all (the binding is configured).
pub fn is_configured(env: &Env) -> bool {
    binding(env).is_some()
}

/// Counts one request against the caller's key. A limiter that fails lets the request through
/// (and logs why): an outage of the limiter must not take the server down with it.
pub async fn check(env: &Env, caller: &Caller) -> Verdict {
    let Some(binding) = binding(env) else {
        return Verdict::Unlimited;
    };
    let options = js_sys::Object::new();
    // Setting a property on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(&options, &JsValue::from_str("key"), &JsValue::from_str(caller.name()));
    let outcome = match binding.limit(&options) {
        Ok(promise) => worker::wasm_bindgen_futures::JsFuture::from(promise).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(result) => {
            let success = js_sys::Reflect::get(&result, &JsValue::from_str("success")).ok();
            if success.and_then(|s| s.as_bool()) == Some(false) {
                Verdict::Limited
            } else {
                Verdict::Allowed
            }
        }
        Err(error) => {
            worker::console_error!(
                "rate limiter {BINDING} failed for key {}: {error:?}; request allowed",
                caller.name()
            );
            Verdict::Allowed
        }
    }
}
