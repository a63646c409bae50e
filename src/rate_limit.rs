//! Request rate limits through the Workers Rate Limiting bindings, reached through a small extern
//! because workers-rs has no typed binding for them: per key (`bindings::RATE_LIMITER`) and client
//! registrations per client address (`bindings::REGISTRATION_LIMITER`).

use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{js_sys, Env};

use crate::access::Caller;
use crate::bindings::{RATE_LIMITER as BINDING, REGISTRATION_LIMITER as REGISTRATION_BINDING};

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

/// Whether requests are rate limited at all (the binding is configured).
pub fn is_configured(env: &Env) -> bool {
    crate::bindings::rate_limiter(env).is_some()
}

/// Counts one request against the caller's key. A limiter that fails lets the request through
/// (and logs why): an outage of the limiter must not take the server down with it.
pub async fn check(env: &Env, caller: &Caller) -> Verdict {
    let limiter = crate::bindings::rate_limiter(env);
    count(limiter, BINDING, caller.name(), || format!("key {}", caller.name())).await
}

/// Counts one client registration against the address it comes from (`CF-Connecting-IP`, which
/// Cloudflare sets; absent locally, all such requests share one count). The address is never
/// logged. Fails open as [`check`] does.
pub async fn check_registration(env: &Env, address: Option<&str>) -> Verdict {
    let limiter = crate::bindings::registration_limiter(env);
    let key = format!("register {}", address.unwrap_or("unknown"));
    count(limiter, REGISTRATION_BINDING, &key, || {
        "a client registration".to_string()
    })
    .await
}

/// One `limit({ key })` call on the binding `name` (its handle, if configured); `what` names the
/// request in the log line of a failing limiter, written only then.
async fn count(handle: Option<JsValue>, name: &str, key: &str, what: impl FnOnce() -> String) -> Verdict {
    let Some(limiter) = handle.map(JsCast::unchecked_into::<RateLimiterBinding>) else {
        return Verdict::Unlimited;
    };
    let options = js_sys::Object::new();
    // Setting a property on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(&options, &JsValue::from_str("key"), &JsValue::from_str(key));
    let outcome = match limiter.limit(&options) {
        // Through the main module when it drives the request (every authenticated MCP request
        // waits here first; a `JsFuture` would send the rest of it to the executor).
        Ok(promise) => crate::promise::awaited(promise).await,
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
            worker::console_error!("rate limiter {name} failed for {}: {error:?}; request allowed", what());
            Verdict::Allowed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{RATE_LIMIT_PERIOD_SECONDS, RATE_LIMIT_REQUESTS, REGISTRATIONS_PER_PERIOD};

    #[test]
    fn wrangler_toml_rate_limits_match_the_catalog() {
        let period = RATE_LIMIT_PERIOD_SECONDS;
        let toml = include_str!("../wrangler.toml");
        for (name, limit) in [
            (BINDING, RATE_LIMIT_REQUESTS),
            (REGISTRATION_BINDING, REGISTRATIONS_PER_PERIOD),
        ] {
            let section = toml
                .split("[[ratelimits]]")
                .find(|section| section.contains(&format!("name = \"{name}\"")))
                .unwrap_or_else(|| panic!("a [[ratelimits]] section for {name}"));
            let section = section.split("\n[").next().unwrap_or(section);
            assert!(
                section.contains(&format!("simple = {{ limit = {limit}, period = {period} }}")),
                "{section}"
            );
        }
    }
}
