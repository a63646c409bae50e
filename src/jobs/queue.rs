//! The job queue (`bindings::IMAGE_QUEUE`): each call's messages sent in one call (`send` for
//! one, `sendBatch` for more), as plain objects, awaited through [`crate::promise`].

use worker::js_sys::{Array, Object, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::types::Queue as QueueSys;
use worker::Queue;

use super::JobMessage;

/// Sends `messages` in one call: `send` for a single message (most `generate_image` calls), which
/// cost the isolate about 30 µs less than a `sendBatch` of one (bench/README.md, tenth pass); else
/// `sendBatch` (the binding takes up to 100 per call: a tool sends at most `catalog::COUNT`'s
/// maximum, the sweeper `catalog::SWEEP_REQUEUE_BATCH`).
pub async fn send(queue: &Queue, messages: &[JobMessage]) -> worker::Result<()> {
    let binding: &QueueSys = queue.as_ref().unchecked_ref();
    let sent = match messages {
        [message] => binding.send(worker::serde_wasm_bindgen::to_value(message)?, JsValue::UNDEFINED)?,
        _ => {
            let requests = messages
                .iter()
                .map(|message| {
                    let request = Object::new();
                    Reflect::set(
                        &request,
                        &"body".into(),
                        &worker::serde_wasm_bindgen::to_value(message)?,
                    )?;
                    Ok(JsValue::from(request))
                })
                .collect::<worker::Result<Array>>()?;
            binding.send_batch(requests, JsValue::UNDEFINED)?
        }
    };
    crate::promise::awaited(sent).await?;
    Ok(())
}
