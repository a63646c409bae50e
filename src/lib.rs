//! MCP image-generation server for Cloudflare Workers.
//!
//! Request path: `src/entry.mjs` (the main module: JSON-RPC POSTs cross into Wasm once, through
//! `entry_export::serve_inbox`; the rest goes to the workers-rs `fetch` below) → `transport`
//! (routes, auth, Origin) → `server` (MCP methods over `protocol` wire types) → `tools` →
//! `services` (job creation: plan, quota, record in D1 through `jobs`, enqueue; image inputs; R2
//! objects). Queue path: `pipeline::consumer` → image backend → R2 →
//! D1. Cron path: `sweeper` (re-queues and fails jobs through `jobs`, expires the SSE mailbox of
//! `transport`, deletes old images). `pages` serves people; `openai` serves OpenAI's images API
//! (admitted by `transport` as MCP requests are) on the same services.
//!
//! Layers, top first; a module imports only modules of lower layers (`layering_tests` declares
//! the same order and checks it):
//! 1. `sweeper` (cron entry point)
//! 2. `transport`, `pipeline` (request and queue entry points)
//! 3. `server`, `openai` (the OpenAI-compatible images API), `pages`
//! 4. `tools` (tools only; their shared helpers in `tools/support/`)
//! 5. `services`
//! 6. `jobs`, `images_binding`, `rate_limit` (job store and platform adapters)
//! 7. `protocol`, `http` (wire and request types)
//! 8. `config`, `models`, `urls`, `icons` (the SVG icons of the server and the tools)
//! 9. `access`, `bindings` (every binding name), `catalog`, `d1`, `html` (the HTML escaper),
//!    `media`, `time` (clock, timer, civil dates)

mod access;
mod bindings;
mod catalog;
mod config;
mod d1;
mod html;
mod http;
mod icons;
mod images_binding;
mod jobs;
mod media;
mod models;
mod oauth;
mod openai;
mod pages;
mod pipeline;
mod promise;
mod prompts;
mod protocol;
mod rate_limit;
mod server;
mod services;
mod sweeper;
mod time;
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

/// The one-crossing entry for JSON-RPC POSTs (and `GET /`, `GET /health` and preflights), called
/// by the worker's main module (`src/entry.mjs`, copied next to worker-build's output by
/// `scripts/build.sh`): the method, the URL, the headers as one text and the body in; one byte
/// buffer (body, then status and headers) out, or a `Response` when the answer is a stream of
/// events. worker-build puts these functions on its entry class's prototype, where the main
/// module finds them.
mod entry_export {
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::Poll;
    use worker::wasm_bindgen::prelude::wasm_bindgen;
    // The exported struct's derive names `wasm_bindgen::` as a path in scope.
    use worker::wasm_bindgen;
    use worker::wasm_bindgen::JsValue;

    use crate::promise::Driver;
    use crate::transport::Served;

    /// Serves the request the main module wrote into the inbox ([`entry_inbox`]): its method,
    /// URL, headers text and body, of these lengths in bytes. The answer as the main module reads
    /// it: a byte buffer, or a `Response` (a stream of events); when the request waits on I/O, a
    /// [`Waiting`] or a Promise of the answer.
    ///
    /// The request is polled at once: one that needs no I/O (a static token, no rate limiter,
    /// an answer from memory, as `initialize`, `tools/list` and `ping` are) is answered by that
    /// first poll, without a Promise, an executor task or a microtask. One waiting on a promise
    /// of [`crate::promise::awaited`] (D1, the job queue, the rate limiter) hands it to the main module as a
    /// [`Waiting`], which awaits it and hands its outcome back in: no `JsFuture` and no executor
    /// task woken through a microtask, which measured 3–6 % of `generate_image` (bench/README.md,
    /// fifth pass). One waiting on anything else (R2, a timer) goes on in
    /// wasm-bindgen-futures' executor, which polls it again with its own waker: every future on
    /// these paths (JS promises, the futures crate's channels and combinators, `time::sleep_ms`)
    /// wakes the waker of its latest poll.
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
    pub fn serve_inbox(
        method_len: usize,
        url_len: usize,
        headers_len: usize,
        body_len: usize,
        env: ::worker::Env,
    ) -> JsValue {
        console_error_panic_hook::set_once();
        let inbox = INBOX.take();
        let lengths = [method_len, url_len, headers_len, body_len];
        let mut answer: Answer = Box::pin(async move {
            let served = crate::transport::serve_written(&inbox, lengths, env).await;
            give_back(inbox);
            served
        });
        let driver = Driver::default();
        match driver.poll(answer.as_mut()) {
            Poll::Ready(served) => handed_now(served),
            Poll::Pending => match driver.handed_promise() {
                Some(promise) => Waiting {
                    answer: RefCell::new(Some(answer)),
                    driver,
                    promise: RefCell::new(Some(promise)),
                }
                .into(),
                None => in_executor(answer),
            },
        }
    }

    thread_local! {
        /// Where the main module writes each request it hands over (see [`entry_inbox`]); kept
        /// between requests, up to [`INBOX_KEPT_BYTES`], so most requests allocate nothing for it.
        static INBOX: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    /// The largest inbox kept for the next request; a larger one (a long body) is freed with its
    /// request, so an isolate does not hold on to the largest body it ever read.
    const INBOX_KEPT_BYTES: usize = 64 * 1024;

    /// Where the main module writes the next request it hands over: `len` bytes from the
    /// address returned, in this instance's memory (see [`entry_memory`]), which may have grown.
    /// The method, URL, headers text and body go there one after the other, and
    /// [`serve_inbox`] reads them. This replaces three strings (the header lines joined into one
    /// first) and a byte array passed by wasm-bindgen's glue, which allocated each by a call into
    /// Rust (bench/README.md, twenty-fourth pass). The address is good until the next call into
    /// this instance.
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
    pub fn entry_inbox(len: usize) -> usize {
        INBOX.with_borrow_mut(|inbox| {
            if inbox.len() < len {
                inbox.resize(len, 0);
            }
            inbox.as_mut_ptr() as usize
        })
    }

    /// This instance's memory, which [`entry_inbox`]'s addresses point into.
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
    pub fn entry_memory() -> JsValue {
        ::worker::wasm_bindgen::memory()
    }

    /// A request's inbox, once its answer is made: kept for the next request when none is kept
    /// yet (a request that waited may end after others were written) and it is small enough.
    fn give_back(inbox: Vec<u8>) {
        if inbox.capacity() <= INBOX_KEPT_BYTES {
            INBOX.with_borrow_mut(|kept| {
                if kept.capacity() == 0 {
                    *kept = inbox;
                }
            });
        }
    }

    /// A request's answer still to come.
    type Answer = Pin<Box<dyn Future<Output = Served>>>;

    /// The rest of a request that waits on something other than one promise of
    /// [`crate::promise::awaited`]: a Promise of its answer, from wasm-bindgen-futures' executor.
    fn in_executor(answer: Answer) -> JsValue {
        ::worker::wasm_bindgen_futures::future_to_promise(async move { Ok(to_js(answer.await)) }).into()
    }

    /// A request waiting on a promise the main module awaits for it: it takes the promise with
    /// [`Waiting::promise`], awaits it, and hands its outcome to [`Waiting::resume`].
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
    pub struct Waiting {
        answer: RefCell<Option<Answer>>,
        driver: Driver,
        promise: RefCell<Option<::worker::js_sys::Promise>>,
    }

    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
    impl Waiting {
        /// The promise the request waits on now (`undefined` once taken).
        pub fn promise(&self) -> JsValue {
            self.promise
                .borrow_mut()
                .take()
                .map_or(JsValue::UNDEFINED, JsValue::from)
        }

        /// The promise's outcome in; out: the answer (bytes or a `Response`), a Promise of it
        /// (the request went on in the executor), or `undefined` when it waits on another
        /// promise (take it with [`Waiting::promise`]).
        pub fn resume(&self, value: JsValue, fulfilled: bool) -> JsValue {
            self.driver.settle(if fulfilled { Ok(value) } else { Err(value) });
            let mut slot = self.answer.borrow_mut();
            let Some(answer) = slot.as_mut() else {
                ::worker::wasm_bindgen::throw_str("entry: a request resumed after its answer");
            };
            match self.driver.poll(answer.as_mut()) {
                Poll::Ready(served) => {
                    *slot = None;
                    handed_now(served)
                }
                Poll::Pending => match self.driver.handed_promise() {
                    Some(promise) => {
                        *self.promise.borrow_mut() = Some(promise);
                        JsValue::UNDEFINED
                    }
                    None => slot.take().map_or(JsValue::UNDEFINED, in_executor),
                },
            }
        }
    }

    /// An answer returned by [`serve_inbox`] or [`Waiting::resume`]: bytes as a view onto Wasm
    /// memory, kept alive until the next such answer, instead of a copy into a fresh
    /// `ArrayBuffer` (whose allocation, copy and sweeping were about a sixth of the entry call's
    /// time in workerd for `initialize`; bench/README.md, twenty-second and twenty-third passes).
    /// Sound because the main module reads the view before it calls into this instance again:
    /// `toResponse` (src/entry.mjs) runs right after `serve_inbox` or `resume` returns, with no
    /// await and no other call between, and workerd's `Response` copies a buffer body when it is
    /// made. An answer from the executor reaches `toResponse` after an await, so it is copied
    /// ([`to_js`]).
    fn handed_now(served: Served) -> JsValue {
        thread_local! {
            static LAST_ANSWER: RefCell<Vec<u8>> = RefCell::default();
        }
        match served {
            Served::Bytes(bytes) => LAST_ANSWER.with(|last| {
                let mut last = last.borrow_mut();
                *last = bytes;
                // SAFETY: the main module reads the view, and keeps no reference to it, before
                // anything else runs in this instance (see above), so the bytes neither change nor
                // move while it is read.
                unsafe { ::worker::js_sys::Uint8Array::view(&last) }.into()
            }),
            Served::Stream(_) => to_js(served),
        }
    }

    fn to_js(served: Served) -> JsValue {
        match served {
            Served::Bytes(bytes) => ::worker::js_sys::Uint8Array::from(bytes.as_slice()).into(),
            Served::Stream(response) => ::worker::worker_sys::web_sys::Response::from(response).into(),
        }
    }

    /// Run once by the main module when the isolate starts (see [`crate::transport::warm_up`]).
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
    pub fn warm_up(env: JsValue) {
        console_error_panic_hook::set_once();
        // The main module's imported `env`; anything but an object is left unread.
        let env = env
            .is_object()
            .then(|| worker::wasm_bindgen::JsCast::unchecked_into::<::worker::Env>(env));
        crate::transport::warm_up(env.as_ref());
    }

    /// The requests the main module hands over, one `METHOD path` per line.
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
    pub fn entry_routes() -> String {
        let routes = crate::transport::ENTRY_ROUTES.iter();
        routes
            .map(|(method, path)| [*method, " ", *path].concat())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The request headers the main module hands over, one per line.
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
    pub fn entry_headers() -> String {
        crate::transport::ENTRY_HEADERS.join("\n")
    }

    /// The largest body the main module reads before handing a request over; larger or
    /// undeclared lengths take the workers-rs path, which refuses or streams them.
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
    pub fn request_body_max_bytes() -> u32 {
        crate::catalog::REQUEST_BODY_MAX_BYTES as u32
    }
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
