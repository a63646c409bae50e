//! The legacy HTTP+SSE transport (2024-11-05): GET /sse opens the stream, POST /sse/message sends.
//!
//! Stateless: the stream and the POSTs of one session may run in different isolates, so
//! responses pass through the D1 mailbox, which the stream polls (every 50 ms while the
//! session is busy, backing off to every 2 s while it is quiet). Delivered messages are
//! deleted; expired sessions are swept when streams open. An answer too large for one D1 row
//! (a `resources/read` of a multi-MB image) arrives in pieces, which the stream writes one
//! after another into one event: clients see one ordinary message, whatever its size.

use futures::channel::mpsc;
use futures::{stream, StreamExt};
use worker::{Context, Env, Request, Response};

use super::mailbox::{Mailbox, Pending};
use super::{accepted, guard, read_body, refusal, request_head, rpc_error, scope_refusal};
use crate::protocol::jsonrpc::{parse_body, IncomingBody, IncomingMessage, RpcResponse};
use crate::server::{self as dispatch, Era};
use crate::tools::{ProgressSink, ToolContext};

/// Where clients POST their messages; the session id is appended.
pub const MESSAGE_PATH: &str = "/sse/message";
/// How often the stream refreshes its session and sends a keep-alive comment.
const KEEPALIVE_MS: i64 = 15_000;

/// Mailbox poll interval while the session is busy: a hand-off waits 25 ms on average.
const POLL_BUSY_MS: i64 = 50;
/// Mailbox poll interval once the session has been quiet for a minute (and from then on).
const POLL_QUIET_MS: i64 = 2_000;
/// While quiet, the interval is this fraction of the quiet time so far.
const POLL_QUIET_DIVISOR: i64 = 30;

/// Mailbox polling pace after `quiet_ms` without a delivered message. Every poll is a D1
/// query, so a quiet stream slows down (1.5 s quiet: still 50 ms; 10 s: 333 ms; 60 s on:
/// 2 s), about 1,900 polls per idle hour instead of the 14,000 a fixed 250 ms cost. Growing
/// with the quiet time bounds the price: the first message after a pause waits at most one
/// interval, about 1/30 of the pause and never more than 2 s, and the next ones are back at
/// 50 ms because delivering resets the quiet time.
pub fn poll_interval_ms(quiet_ms: i64) -> u64 {
    (quiet_ms / POLL_QUIET_DIVISOR).clamp(POLL_BUSY_MS, POLL_QUIET_MS) as u64
}

/// Whether `id` has the shape of the session ids `open_stream` mints (simple UUIDs).
fn is_session_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn endpoint_event(session: &str) -> Vec<u8> {
    format!("event: endpoint\ndata: {MESSAGE_PATH}?sessionId={session}\n\n").into_bytes()
}

/// One whole message as an event (what [`piece_bytes`] writes for its pieces together).
#[cfg(test)]
pub fn message_event(json: &str) -> Vec<u8> {
    format!("event: message\ndata: {json}\n\n").into_bytes()
}

/// The bytes a stored row adds to the stream: the event's start before its first piece, the
/// piece, and the event's end after its last. JSON text has no line breaks, so the pieces of
/// one message joined in order are one `data:` line, exactly [`message_event`] of the whole.
pub fn piece_bytes(row: &Pending, out: &mut Vec<u8>) {
    if row.starts_message() {
        out.extend_from_slice(b"event: message\ndata: ");
    }
    out.extend_from_slice(row.payload.as_bytes());
    if row.ends_message() {
        out.extend_from_slice(b"\n\n");
    }
}

fn mailbox(env: &Env) -> worker::Result<Mailbox> {
    Ok(Mailbox::new(crate::bindings::db(env)?))
}

struct StreamState {
    mailbox: Mailbox,
    session: String,
    announced: bool,
    last_touch: i64,
    last_activity: i64,
    /// Highest seq already on the stream: never sent again, even if deleting it failed.
    sent_up_to: i64,
    /// The stream is inside a message whose remaining pieces are still to be written: no
    /// keep-alive comment may go between them.
    mid_message: bool,
}

pub async fn open_stream(req: Request, env: Env) -> worker::Result<Response> {
    let principal = match guard(&request_head(&req), &env).await {
        Ok((_, principal)) => principal,
        Err(refused) => return refused.into_response(),
    };
    let mailbox = mailbox(&env)?;
    let now = crate::time::now_ms();
    if let Err(error) = mailbox.sweep(now, crate::catalog::SWEEP_SSE_BATCH).await {
        worker::console_error!("{error}");
    }
    let session = uuid::Uuid::new_v4().simple().to_string();
    if let Err(error) = mailbox.open_session(&session, &principal.session_owner(), now).await {
        worker::console_error!("{error}");
        return refusal(500, "could not open an SSE session", None).into_response();
    }
    let state = StreamState {
        mailbox,
        session,
        announced: false,
        last_touch: now,
        last_activity: now,
        sent_up_to: 0,
        mid_message: false,
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
        let now = crate::time::now_ms();
        match state.mailbox.pending(&state.session, state.sent_up_to).await {
            Ok(messages) if !messages.is_empty() => {
                let last = messages.iter().map(|m| m.seq).max().unwrap_or_default();
                state.sent_up_to = last;
                // Best effort: rows a failed delete leaves behind are skipped by seq and go with the next delete.
                if let Err(error) = state.mailbox.delivered(&state.session, last).await {
                    worker::console_error!("{error}");
                }
                state.last_activity = now;
                state.mid_message = messages.last().is_some_and(|m| !m.ends_message());
                let mut bytes = Vec::with_capacity(messages.iter().map(|m| m.payload.len() + 24).sum());
                for message in &messages {
                    piece_bytes(message, &mut bytes);
                }
                return bytes;
            }
            Ok(_) => {}
            Err(error) => worker::console_error!("{error}"),
        }
        crate::time::sleep_ms(poll_interval_ms(now - state.last_activity)).await;
        // After the sleep, so the call that follows a keep-alive does not poll twice in a row.
        let now = crate::time::now_ms();
        if now - state.last_touch >= KEEPALIVE_MS {
            state.last_touch = now;
            if let Err(error) = state.mailbox.touch_session(&state.session, now).await {
                worker::console_error!("{error}");
            }
            if !state.mid_message {
                return b": keep-alive\n\n".to_vec();
            }
        }
    }
}

/// POST /sse/message?sessionId=…: runs the messages and leaves their responses in the mailbox.
///
/// A session belongs to whoever opened it (the administrator, one named key, or one OAuth
/// grant, whose rotating access tokens all count; see [`crate::access::Principal::session_owner`]).
/// Anyone else, the administrator and the grant's own key included, gets
/// the 404 an unknown or expired session gets, so another key's session id is neither usable
/// nor confirmed to exist; nothing is run and nothing is written to the mailbox. Sessions
/// opened before owners were recorded belong to nobody and are refused the same way.
pub async fn post_message(mut req: Request, env: Env, worker_ctx: Context) -> worker::Result<Response> {
    let head = request_head(&req);
    let (ctx, principal) = match guard(&head, &env).await {
        Ok(guarded) => guarded,
        Err(refused) => return refused.into_response(),
    };
    let session = head
        .url
        .query
        .as_deref()
        .and_then(|query| crate::http::url::query_param(query, "sessionId"))
        .filter(|s| !s.is_empty());
    let Some(session) = session else {
        return refusal(400, "Bad Request: sessionId query parameter is required", None).into_response();
    };
    // Clients that negotiated a later revision may name it; otherwise this is the 2024-11-05 transport.
    let era = Era::handshake(
        head.header("MCP-Protocol-Version").map(str::trim),
        crate::protocol::version::ASSUMED_ON_LEGACY_SSE,
    );
    let mailbox = mailbox(&env)?;
    // Anything not shaped like the ids we mint cannot be a session: no lookup, no echo. A session
    // someone else opened is refused here, before the body is read, exactly like an unknown one.
    let owner = principal.session_owner();
    let live = match is_session_id(&session) {
        true => {
            mailbox
                .session_is_live_for(&session, &owner, crate::time::now_ms())
                .await
        }
        false => Ok(false),
    };
    match live {
        Ok(true) => {}
        Ok(false) => {
            return refusal(
                404,
                "Session not found or expired: open a new stream with GET /sse",
                None,
            )
            .into_response();
        }
        Err(error) => {
            worker::console_error!("{error}");
            return refusal(500, "could not look up the SSE session", None).into_response();
        }
    }
    let body = match read_body(&mut req).await? {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    let items = match parse_body(&body) {
        Ok(IncomingBody::Single(item)) => vec![item],
        Ok(IncomingBody::Batch(items)) => items,
        Err(error) => return rpc_error(400, &error),
    };
    let requests = items.iter().filter_map(|item| match item {
        Ok(IncomingMessage::Request(request)) => Some(request),
        _ => None,
    });
    if let Some(refused) = scope_refusal(&head, &principal, requests) {
        return refused.into_response();
    }
    for item in items {
        let response = match item {
            Ok(IncomingMessage::Request(request)) => answer(&ctx, &mailbox, &session, request, era).await,
            Ok(_) => continue,
            Err(invalid) => RpcResponse::Error(invalid),
        };
        let json = response.to_json();
        if let Err(error) = mailbox.post(&session, &json, crate::time::now_ms()).await {
            worker::console_error!("{error}");
            return refusal(500, "could not deliver the response to the SSE stream", None).into_response();
        }
        if let Some(task_id) = created_task(&json) {
            worker_ctx.wait_until(push_task_status(env.clone(), ctx.clone(), session.clone(), task_id));
        }
    }
    accepted().into_response()
}

/// The task a response created (2025-11-25's `{task}` result of a tools/call), if it did.
fn created_task(response_json: &str) -> Option<String> {
    let response: serde_json::Value = serde_json::from_str(response_json).ok()?;
    let task = response.get("result")?.get("task")?;
    task.get("taskId")?.as_str().map(String::from)
}

/// After the answer: the task's status changes go to the session's stream as
/// `notifications/tasks/status` while the runtime lets this run (`waitUntil`, up to
/// `TASK_STATUS_PUSH_MS`); a client that needs more polls `tasks/get` or waits in `tasks/result`.
async fn push_task_status(env: Env, ctx: ToolContext, session: String, task_id: String) {
    let Ok(mailbox) = mailbox(&env) else {
        return;
    };
    let (sender, receiver) = mpsc::unbounded::<String>();
    let work = async move {
        let sink = ProgressSink::without_token(sender);
        dispatch::push_task_status(&ctx, &task_id, &sink, TASK_STATUS_PUSH_MS).await;
    };
    let mailbox = &mailbox;
    let session = session.as_str();
    let relay = receiver.for_each(|json| async move {
        if let Err(error) = mailbox.post(session, &json, crate::time::now_ms()).await {
            worker::console_error!("{error}");
        }
    });
    futures::join!(work, relay);
}

/// How long a task's status is pushed to the legacy SSE stream after it was created: within
/// the 30 s the Workers runtime gives `waitUntil` work after the response.
const TASK_STATUS_PUSH_MS: u64 = 25_000;

/// Runs one request; its progress notifications reach the stream through the mailbox meanwhile.
async fn answer(
    ctx: &ToolContext,
    mailbox: &Mailbox,
    session: &str,
    request: crate::protocol::jsonrpc::RpcRequest,
    era: Era,
) -> RpcResponse {
    let token = dispatch::progress_token(&request);
    if token.is_none() && !dispatch::streams_notifications(&request, era) {
        return dispatch::handle(ctx, request, era).await;
    }
    let (sender, receiver) = mpsc::unbounded::<String>();
    let mut call_ctx = ctx.clone();
    call_ctx.progress = Some(match token {
        Some(token) => ProgressSink::new(token, sender),
        None => ProgressSink::without_token(sender),
    });
    let work = async move { dispatch::handle(&call_ctx, request, era).await };
    let relay = receiver.for_each(|json| async move {
        if let Err(error) = mailbox.post(session, &json, crate::time::now_ms()).await {
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
    fn only_minted_session_ids_are_looked_up() {
        let minted = uuid::Uuid::new_v4().simple().to_string();
        assert!(is_session_id(&minted), "{minted}");
        for bad in [
            "",
            "abc",
            &minted.to_uppercase(),
            &format!("{minted}0"),
            &"z".repeat(32),
            &"a".repeat(1_000_000),
        ] {
            assert!(!is_session_id(bad), "{bad:.40}");
        }
    }

    #[test]
    fn message_events_have_no_id_field() {
        let event = String::from_utf8(message_event("{}")).unwrap();
        assert_eq!(event, "event: message\ndata: {}\n\n");
    }

    #[test]
    fn the_pieces_of_a_message_make_exactly_its_event() {
        let json = r#"{"jsonrpc":"2.0","id":1,"result":{"contents":[{"blob":"QUJDRA=="}]}}"#;
        let pieces = super::super::mailbox::split_pieces(json, 10);
        assert!(pieces.len() > 3);
        let mut bytes = Vec::new();
        for (index, piece) in pieces.iter().enumerate() {
            let row = Pending {
                seq: index as i64 + 1,
                payload: piece.to_string(),
                piece: index as i64,
                pieces: pieces.len() as i64,
            };
            piece_bytes(&row, &mut bytes);
        }
        assert_eq!(bytes, message_event(json));
        let whole = Pending {
            seq: 9,
            payload: "{}".into(),
            piece: 0,
            pieces: 1,
        };
        let mut one = Vec::new();
        piece_bytes(&whole, &mut one);
        assert_eq!(one, message_event("{}"));
    }

    #[test]
    fn polling_is_fast_while_busy_and_backs_off_while_quiet() {
        assert_eq!(poll_interval_ms(0), 50);
        assert_eq!(poll_interval_ms(1_500), 50);
        assert_eq!(poll_interval_ms(-5_000), 50, "a clock step backwards counts as busy");
        assert_eq!(poll_interval_ms(10_000), 333);
        assert_eq!(poll_interval_ms(60_000), 2_000, "2 s after a quiet minute");
        assert_eq!(poll_interval_ms(10 * 3_600_000), 2_000);
        let mut last = 0;
        for quiet in (0..120_000).step_by(100) {
            let interval = poll_interval_ms(quiet);
            assert!(interval >= last, "the pace never speeds up while quiet");
            assert!(
                interval as i64 * 30 <= quiet.max(1_500),
                "a message after a pause waits at most 1/30 of it"
            );
            last = interval;
        }
    }

    /// Polls in one hour of a stream nobody posts to, if each poll takes `query_ms`.
    fn idle_polls_per_hour(interval: impl Fn(i64) -> u64, query_ms: i64) -> u64 {
        let (mut t, mut polls) = (0, 0);
        while t < 3_600_000 {
            polls += 1;
            t += query_ms + interval(t) as i64;
        }
        polls
    }

    #[test]
    fn an_idle_hour_costs_an_eighth_of_the_polls_it_did() {
        let before = |quiet: i64| if quiet < 60_000 { 50 } else { 250 };
        assert_eq!(idle_polls_per_hour(before, 0), 15_360);
        let after = idle_polls_per_hour(poll_interval_ms, 0);
        assert!((1_850..=1_950).contains(&after), "{after}");
        // Slower queries (production D1 is farther away than Miniflare's) only lower it.
        assert!(idle_polls_per_hour(poll_interval_ms, 20) < after);
    }
}
