//! The job queue (`bindings::IMAGE_QUEUE`): each call's messages sent in one call (`send` for
//! one, `sendBatch` for more), as plain objects, awaited through [`crate::promise`].

use serde::Serialize;
use worker::js_sys::JSON;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::types::Queue as QueueSys;
use worker::Queue;

use super::JobMessage;

/// One entry of `sendBatch`'s argument.
#[derive(Serialize)]
struct BatchEntry<'a> {
    body: &'a JobMessage,
}

/// What `send` takes for one message (its body), or `sendBatch` for more (`[{ body }, …]`), as
/// one JSON text: it crosses as one string that `JSON.parse` reads, where building each object
/// field by field took a crossing per field (bench/README.md, fourteenth pass).
fn argument_json(messages: &[JobMessage]) -> String {
    let text = match messages {
        [message] => serde_json::to_string(message),
        _ => serde_json::to_string(&messages.iter().map(|body| BatchEntry { body }).collect::<Vec<_>>()),
    };
    text.expect("job messages serialise as JSON")
}

/// Sends `messages` in one call: `send` for a single message (most `generate_image` calls), which
/// cost the isolate about 30 µs less than a `sendBatch` of one (bench/README.md, tenth pass); else
/// `sendBatch` (the binding takes up to 100 per call: a tool sends at most `catalog::COUNT`'s
/// maximum, the sweeper `catalog::SWEEP_REQUEUE_BATCH`).
pub async fn send(queue: &Queue, messages: &[JobMessage]) -> worker::Result<()> {
    let binding: &QueueSys = queue.as_ref().unchecked_ref();
    let argument = JSON::parse(&argument_json(messages))?;
    let sent = match messages {
        [_] => binding.send(argument, JsValue::UNDEFINED)?,
        _ => binding.send_batch(argument.unchecked_into(), JsValue::UNDEFINED)?,
    };
    crate::promise::awaited(sent).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn message(id: &str) -> JobMessage {
        JobMessage {
            job_id: id.into(),
            prompt: "a \"quoted\" lighthouse\n— at dusk".into(),
            model: "flux-schnell".into(),
        }
    }

    #[test]
    fn one_message_is_sent_as_its_body() {
        let text = argument_json(&[message("j1")]);
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({ "jobId": "j1", "prompt": "a \"quoted\" lighthouse\n— at dusk", "model": "flux-schnell" })
        );
        // The consumer reads the body back into the same message.
        assert_eq!(serde_json::from_str::<JobMessage>(&text).unwrap(), message("j1"));
    }

    #[test]
    fn several_messages_are_sent_as_a_batch_of_bodies_in_order() {
        let text = argument_json(&[message("j1"), message("j2"), message("j3")]);
        let entries: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(entries.len(), 3);
        for (entry, id) in entries.iter().zip(["j1", "j2", "j3"]) {
            assert_eq!(entry.as_object().unwrap().len(), 1, "only `body`: {entry}");
            assert_eq!(
                serde_json::from_value::<JobMessage>(entry["body"].clone()).unwrap(),
                message(id)
            );
        }
    }
}
