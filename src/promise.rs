//! JS promises awaited from Rust, and code kept out of its caller's Wasm function: futures ([`cold`])
//! and calls ([`cold_call`]).
//!
//! Inside a request the main module drives (`src/entry.mjs`: `serve_inbox` and `Waiting`,
//! src/lib.rs), the promise goes back to the main module, which awaits it and hands its outcome
//! back in; anywhere else (the workers-rs entry, the queue, cron), or while the request already
//! waits on another promise, it is a `JsFuture`, which makes two closures (each registered with
//! a finalizer) and wakes an executor task through a microtask.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use worker::js_sys::Promise;
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::JsFuture;

/// What a driven request waits on.
#[derive(Default)]
enum Slot {
    /// Nothing: it waits on no promise of [`awaited`] (or on none at all).
    #[default]
    Empty,
    /// A promise not yet handed to the main module, and the waker of the future awaiting it.
    Parked(Promise, Waker),
    /// Handed over; the outcome is not back yet.
    Handed(Waker),
    /// The outcome, not yet read by the future awaiting it.
    Settled(Result<JsValue, JsValue>),
}

type SharedSlot = Rc<RefCell<Slot>>;

thread_local! {
    /// The slot of the request being polled by [`Driver::poll`], if any.
    static DRIVING: RefCell<Option<SharedSlot>> = const { RefCell::new(None) };
}

/// Polls one request's future and carries its promises to and from the main module.
#[derive(Default)]
pub struct Driver {
    slot: SharedSlot,
}

impl Driver {
    /// Polls `future` once, with this driver's slot open to the promises it awaits. The waker
    /// does nothing: a driven future is polled again only by [`Driver::settle`]'s caller, or by
    /// the executor it is handed to when it waits on something else (whose futures take the
    /// executor's waker at that poll).
    pub fn poll<F: Future + ?Sized>(&self, future: Pin<&mut F>) -> Poll<F::Output> {
        let previous = DRIVING.with(|driving| driving.replace(Some(self.slot.clone())));
        let waker = futures::task::noop_waker();
        let polled = future.poll(&mut Context::from_waker(&waker));
        DRIVING.with(|driving| *driving.borrow_mut() = previous);
        polled
    }

    /// After a pending poll: the promise the future now waits on, to hand to the main module
    /// (`None`: it waits on something else, and must go on in the executor).
    pub fn handed_promise(&self) -> Option<Promise> {
        let mut slot = self.slot.borrow_mut();
        match std::mem::take(&mut *slot) {
            Slot::Parked(promise, waker) => {
                *slot = Slot::Handed(waker);
                Some(promise)
            }
            other => {
                *slot = other;
                None
            }
        }
    }

    /// The handed promise's outcome; the future awaiting it is woken (so a combinator that
    /// polls only its woken children polls it), and the next [`Driver::poll`] reads it.
    pub fn settle(&self, outcome: Result<JsValue, JsValue>) {
        let waker = {
            let mut slot = self.slot.borrow_mut();
            match std::mem::replace(&mut *slot, Slot::Settled(outcome)) {
                Slot::Handed(waker) => Some(waker),
                _ => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A JS promise as a future: see the module's comment.
pub fn awaited(promise: Promise) -> Awaited {
    Awaited {
        state: State::Unpolled(promise),
    }
}

pub struct Awaited {
    state: State,
}

enum State {
    Unpolled(Promise),
    /// In its request's slot.
    Parked(SharedSlot),
    Future(JsFuture),
    Done,
}

impl Future for Awaited {
    type Output = Result<JsValue, JsValue>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Unpolled(promise) => {
                    let free_slot = DRIVING.with(|driving| {
                        driving
                            .borrow()
                            .as_ref()
                            .filter(|slot| matches!(*slot.borrow(), Slot::Empty))
                            .cloned()
                    });
                    match free_slot {
                        Some(slot) => {
                            *slot.borrow_mut() = Slot::Parked(promise, cx.waker().clone());
                            self.state = State::Parked(slot);
                            return Poll::Pending;
                        }
                        None => self.state = State::Future(JsFuture::from(promise)),
                    }
                }
                State::Parked(slot) => {
                    let mut current = slot.borrow_mut();
                    match std::mem::take(&mut *current) {
                        Slot::Settled(outcome) => return Poll::Ready(outcome),
                        Slot::Parked(promise, _) => *current = Slot::Parked(promise, cx.waker().clone()),
                        Slot::Handed(_) => *current = Slot::Handed(cx.waker().clone()),
                        Slot::Empty => unreachable!("a parked promise's slot is emptied only by reading its outcome"),
                    }
                    drop(current);
                    self.state = State::Parked(slot);
                    return Poll::Pending;
                }
                State::Future(mut future) => {
                    let polled = Pin::new(&mut future).poll(cx);
                    if polled.is_pending() {
                        self.state = State::Future(future);
                    }
                    return polled;
                }
                State::Done => panic!("a promise's future polled after it completed"),
            }
        }
    }
}

/// `future` behind a pointer whose type the caller cannot see through, for an await on a path
/// most requests never take, or on one route of many: its code is then not part of the
/// caller's (V8 compiles Wasm per function, on first call, so code inlined into a hot function
/// is compiled even where it never runs; bench/README.md, "seventh pass" and
/// "twenty-seventh pass").
#[inline(never)]
pub fn cold<'a, T>(future: impl Future<Output = T> + 'a) -> Pin<Box<dyn Future<Output = T> + 'a>> {
    Box::pin(future)
}

/// `f(arg)` through a function pointer neither LLVM nor wasm-opt can see through, for work a hot
/// function does rarely (once per isolate, or on a path few requests take): `f`'s code is then
/// not part of its caller's, which V8 compiles whole on the caller's first call, and again after
/// workerd drops the compiled code (bench/README.md, "thirty-first pass"). [`cold`] is the same
/// for an await.
#[inline(never)]
pub fn cold_call<A, R>(f: fn(A) -> R, arg: A) -> R {
    std::hint::black_box(f)(arg)
}
