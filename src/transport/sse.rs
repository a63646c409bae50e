//! The legacy HTTP+SSE transport (2024-11-05): GET /sse opens the stream, POST /sse/message sends.
//!
//! Stateless: the stream and the POSTs of one session may run in different isolates, so
//! responses pass through the D1 mailbox, which the stream polls (quickly while the session
//! is busy). Delivered messages are deleted; expired sessions are swept when streams open.

use futures::channel::mpsc;
use futures::{stream, StreamExt};
use worker::{Env, Request, Response};

use super::mailbox::Mailbox;
use super::{accepted, guard, refusal, rpc_error};
use crate::protocol::jsonrpc::{parse_body, IncomingBody, IncomingMessage, RpcResponse};
use crate::server::{self as dispatch, Era};
use crate::tools::{ProgressSink, ToolContext};

/// Where clients POST their messages; the session id is appended.
pub const MESSAGE_PATH: &str = "/sse/message";
/// How often the stream refreshes its session and sends a keep-alive comment.
const KEEPALIVE_MS: i64 = 15_000;

/// Mailbox polling pace: fast while the session is active, slower when idle.
pub fn poll_interval_ms(idle_ms: i64) -> u64 {
    if idle_ms < 60_000 {
        50
    } else {
        250
    }
}

pub fn endpoint_event(session: &str) -> Vec<u8> {
    format!("event: endpoint\ndata: {MESSAGE_PATH}?sessionId={session}\n\n").into_bytes()
}

pub fn message_event(json: &str) -> Vec<u8> {
    format!("event: message\ndata: {json}\n\n").into_bytes()
}

fn mailbox(env: &Env) -> worker::Result<Mailbox> {
    Ok(Mailbox::new(env.d1("DB")?))
}

struct StreamState {
    mailbox: Mailbox,
    session: String,
    announced: bool,
    last_touch: i64,
    last_activity: i64,
    /// Highest seq already on the stream: never sent again, even if deleting it failed.
    sent_up_to: i64,
}

pub async fn open_stream(req: Request, env: Env) -> worker::Result<Response> {
    if let Err(refused) = guard(&req, &env)? {
        return Ok(refused);
    }
    let mailbox = mailbox(&env)?;
    let now = crate::now_ms();
    if let Err(error) = mailbox.sweep(now).await {
        worker::console_error!("{error}");
    }
    let session = uuid::Uuid::new_v4().simple().to_string();
    if let Err(error) = mailbox.open_session(&session, now).await {
        worker::console_error!("{error}");
        return refusal(500, "could not open an SSE session", None);
    }
    let state = StreamState {
        mailbox,
        session,
        announced: false,
        last_touch: now,
        last_activity: now,
        sent_up_to: 0,
    };
    let events = stream::unfold(state, |mut state| async move {
        let chunk = next_chunk(&mut state).await;
        Some((Ok::<Vec<u8>, worker::Error>(chunk), state))
    });
    let mut response = Response::from_stream(events)?;
    let headers = response.headers_mut();
    headers.set("Content-Type", "text/event-stream")?;
    headers.set("Cache-Control", "no-cache")?;
    Ok(response)
}

/// Waits for the next bytes to put on the stream: the endpoint, messages, or a keep-alive.
async fn next_chunk(state: &mut StreamState) -> Vec<u8> {
    if !state.announced {
        state.announced = true;
        return endpoint_event(&state.session);
    }
    loop {
        let now = crate::now_ms();
        match state.mailbox.pending(&state.session, state.sent_up_to).await {
            Ok(messages) if !messages.is_empty() => {
                let last = messages.iter().map(|m| m.seq).max().unwrap_or_default();
                state.sent_up_to = last;
                // Best effort: rows a failed delete leaves behind are skipped by seq and go with the next delete.
                if let Err(error) = state.mailbox.delivered(&state.session, last).await {
                    worker::console_error!("{error}");
                }
                state.last_activity = now;
                return messages.iter().flat_map(|m| message_event(&m.payload)).collect();
            }
            Ok(_) => {}
            Err(error) => worker::console_error!("{error}"),
        }
        if now - state.last_touch >= KEEPALIVE_MS {
            state.last_touch = now;
            if let Err(error) = state.mailbox.touch_session(&state.session, now).await {
                worker::console_error!("{error}");
            }
            return b": keep-alive\n\n".to_vec();
        }
        crate::sleep_ms(poll_interval_ms(now - state.last_activity)).await;
    }
}

#[derive(serde::Deserialize)]
struct SessionQuery {
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

pub async fn post_message(mut req: Request, env: Env) -> worker::Result<Response> {
    let ctx = match guard(&req, &env)? {
        Ok(ctx) => ctx,
        Err(refused) => return Ok(refused),
    };
    let session = req
        .query::<SessionQuery>()
        .ok()
        .and_then(|q| q.session_id)
        .filter(|s| !s.is_empty());
    let Some(session) = session else {
        return refusal(400, "Bad Request: sessionId query parameter is required", None);
    };
    let mailbox = mailbox(&env)?;
    match mailbox.session_is_live(&session, crate::now_ms()).await {
        Ok(true) => {}
        Ok(false) => {
            return refusal(
                404,
                "Session not found or expired: open a new stream with GET /sse",
                None,
            );
        }
        Err(error) => {
            worker::console_error!("{error}");
            return refusal(500, "could not look up the SSE session", None);
        }
    }
    let body = req.text().await?;
    let items = match parse_body(&body) {
        Ok(IncomingBody::Single(item)) => vec![item],
        Ok(IncomingBody::Batch(items)) => items,
        Err(error) => return rpc_error(400, &error),
    };
    for item in items {
        let response = match item {
            Ok(IncomingMessage::Request(request)) => answer(&ctx, &mailbox, &session, request).await,
            Ok(_) => continue,
            Err(invalid) => RpcResponse::Error(invalid),
        };
        if let Err(error) = mailbox.post(&session, &response.to_json(), crate::now_ms()).await {
            worker::console_error!("{error}");
            return refusal(500, "could not deliver the response to the SSE stream", None);
        }
    }
    accepted()
}

/// Runs one request; its progress notifications reach the stream through the mailbox meanwhile.
async fn answer(
    ctx: &ToolContext,
    mailbox: &Mailbox,
    session: &str,
    request: crate::protocol::jsonrpc::RpcRequest,
) -> RpcResponse {
    let Some(token) = dispatch::progress_token(&request) else {
        return dispatch::handle(ctx, request, Era::Handshake).await;
    };
    let (sender, receiver) = mpsc::unbounded::<String>();
    let mut call_ctx = ctx.clone();
    call_ctx.progress = Some(ProgressSink::new(token, sender));
    let work = async move { dispatch::handle(&call_ctx, request, Era::Handshake).await };
    let relay = receiver.for_each(|json| async move {
        if let Err(error) = mailbox.post(session, &json, crate::now_ms()).await {
            worker::console_error!("{error}");
        }
    });
    let (response, ()) = futures::join!(work, relay);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_event_announces_a_relative_message_url() {
        let event = String::from_utf8(endpoint_event("abc123")).unwrap();
        assert_eq!(event, "event: endpoint\ndata: /sse/message?sessionId=abc123\n\n");
    }

    #[test]
    fn message_events_have_no_id_field() {
        let event = String::from_utf8(message_event("{}")).unwrap();
        assert_eq!(event, "event: message\ndata: {}\n\n");
    }

    #[test]
    fn polling_is_fast_while_active() {
        assert_eq!(poll_interval_ms(0), 50);
        assert_eq!(poll_interval_ms(120_000), 250);
    }
}
