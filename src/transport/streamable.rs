//! Streamable HTTP at POST /mcp, stateless: every request stands alone, no session ids.
//!
//! Answers are JSON, except a tools/call that asked for progress, and 2025-11-25's blocking
//! `tasks/result`, from a client that accepts event streams: those are an SSE stream of
//! notifications (progress, task status) ending with the response, so no client or proxy times
//! out while it waits.
//! No `id:` fields are sent, as a stateless server cannot resume a stream.

use std::rc::Rc;

use futures::channel::mpsc;
use futures::{future, stream, FutureExt, StreamExt};
use worker::{Env, Request, Response};

use super::{
    accepted, body_text, guard, read_body, refusal, request_head, rpc_answer, rpc_error_answer, scope_refusal,
};
use crate::access::{Caller, Principal};
use crate::config::Config;
use crate::http::answer::{Answer, HeadTable};
use crate::http::head::RequestHead;
use crate::protocol::jsonrpc::{
    parse_body, IncomingBody, IncomingMessage, RpcError, RpcErrorResponse, RpcRequest, RpcResponse,
};
use crate::protocol::mcp::ProgressToken;
use crate::protocol::version;
use crate::server::{self as dispatch, Era, McpHeaders};
use crate::tools::{ProgressSink, ToolContext};

/// An answer to a POST: whole, or a stream of events (see the module's doc).
pub enum Outcome {
    Whole(Answer),
    Stream(Response),
}

/// POST /mcp through workers-rs: the request's head and body are read from `req`.
pub async fn post(mut req: Request, env: Env) -> worker::Result<Response> {
    let head = request_head(&req);
    let admitted = match guard(&head, &env).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused.into_response(),
    };
    let body = match read_body(&mut req).await? {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    match respond(admitted, &head, &body).await? {
        Outcome::Whole(answer) => answer.into_response(),
        Outcome::Stream(response) => Ok(response),
    }
}

/// POST /mcp from the one-crossing entry, whose body is already read (within the limit).
pub async fn post_read(head: &RequestHead<'_>, body: &[u8], env: &Env) -> worker::Result<Outcome> {
    let admitted = match guard(head, env).await {
        Ok(admitted) => admitted,
        Err(refused) => return Ok(Outcome::Whole(refused)),
    };
    let body = match body_text(body) {
        Ok(body) => body,
        Err(refused) => return Ok(Outcome::Whole(refused)),
    };
    respond(admitted, head, body).await
}

/// [`super::warm_up`]'s run of this path, with no I/O: the checks' refusal of a request without a
/// token (admit's 401, the code every request's checks run), then each of `bodies` answered for
/// the administrator as after the checks. Their answers go nowhere: encoded into a table of heads
/// of its own, as the entry module never sees them.
pub(super) fn warm_up(head: &RequestHead<'_>, bodies: &[String], env: &Env, config: Rc<Config>) {
    let mut heads = HeadTable::default();
    let mut encode = |outcome: Option<worker::Result<Outcome>>| {
        if let Some(Ok(Outcome::Whole(answer))) = outcome {
            let _ = answer.encode(&super::cors::HEADERS, &mut heads);
        }
    };
    // Without a configured token the refusal is a 500 that logs: not worth a line per isolate.
    if let (true, Some(body)) = (config.auth_token.is_some(), bodies.first()) {
        encode(post_read(head, body.as_bytes(), env).now_or_never());
    }
    for body in bodies {
        let ctx = ToolContext {
            env: env.clone(),
            config: config.clone(),
            caller: Caller::Admin,
            origin: head.origin(),
            progress: None,
            protocol_version: None,
            task_jobs: None,
        };
        encode(respond((ctx, Principal::token(Caller::Admin)), head, body).now_or_never());
    }
}

/// Everything after the checks: the messages, their scopes, and the answer.
async fn respond(
    (mut ctx, principal): (ToolContext, Principal),
    head: &RequestHead<'_>,
    body: &str,
) -> worker::Result<Outcome> {
    let header = |name: &str| head.header(name).map(str::trim);
    let headers = McpHeaders {
        protocol_version: header("MCP-Protocol-Version").filter(|v| !v.is_empty()),
        method: header("Mcp-Method"),
        name: header("Mcp-Name"),
    };
    let accepts_event_stream = head.header("Accept").is_some_and(|accept| {
        let wanted = b"text/event-stream";
        accept
            .as_bytes()
            .windows(wanted.len())
            .any(|w| w.eq_ignore_ascii_case(wanted))
    });
    let whole = |answer| Ok(Outcome::Whole(answer));
    let parsed = match parse_body(body) {
        Ok(parsed) => parsed,
        Err(error) => return whole(rpc_error_answer(400, &error)),
    };
    // A token without the scope a request needs is refused before anything runs.
    if let Some(refused) = scope_refusal(head, &principal, requests_in(&parsed)) {
        return whole(refused);
    }
    match parsed {
        IncomingBody::Single(Err(invalid)) => whole(rpc_answer(400, &RpcResponse::Error(invalid))),
        IncomingBody::Single(Ok(IncomingMessage::Request(request))) => {
            let era = if dispatch::is_stateless(&request, &headers) {
                if let Err(rejection) = dispatch::validate_stateless(&request, &headers) {
                    return whole(rpc_answer(
                        rejection.status,
                        &RpcResponse::error(Some(request.id), &rejection.error),
                    ));
                }
                ctx.protocol_version = Some(headers.protocol_version.unwrap_or(version::STATELESS[0]).to_string());
                Era::Stateless
            } else {
                if let Some(refused) = unsupported_header(&headers) {
                    return whole(refused);
                }
                ctx.protocol_version = headers.protocol_version.map(String::from);
                Era::handshake(headers.protocol_version, version::ASSUMED_WITHOUT_HEADER)
            };
            let token = dispatch::progress_token(&request);
            let streamed = token.is_some() || dispatch::streams_notifications(&request, era);
            match streamed && accepts_event_stream {
                true => {
                    crate::promise::cold_call(stream_with_progress, (ctx, request, era, token)).map(Outcome::Stream)
                }
                false => {
                    let response = dispatch::handle(&ctx, request, era).await;
                    whole(rpc_answer(status_for(&response, era), &response))
                }
            }
        }
        // Notifications and client responses need no answer.
        IncomingBody::Single(Ok(_)) => whole(unsupported_header(&headers).unwrap_or_else(accepted)),
        IncomingBody::Batch(items) => crate::promise::cold(respond_batch(ctx, &headers, items)).await,
    }
}

/// The requests of a body, the one or a batch's (notifications and responses left out); an
/// iterator, so a single request is not put in a list of its own.
fn requests_in(parsed: &IncomingBody) -> impl Iterator<Item = &RpcRequest> {
    let (single, batch) = match parsed {
        IncomingBody::Single(Ok(IncomingMessage::Request(request))) => (Some(request), &[][..]),
        IncomingBody::Single(_) => (None, &[][..]),
        IncomingBody::Batch(items) => (None, items.as_slice()),
    };
    single.into_iter().chain(batch.iter().filter_map(|item| match item {
        Ok(IncomingMessage::Request(request)) => Some(request),
        _ => None,
    }))
}

/// A JSON-RPC batch (revisions before 2025-06-18), each request answered in turn; kept out of
/// [`respond`]'s code by [`crate::promise::cold`].
async fn respond_batch(
    mut ctx: ToolContext,
    headers: &McpHeaders<'_>,
    items: Vec<Result<IncomingMessage, RpcErrorResponse>>,
) -> worker::Result<Outcome> {
    let whole = |answer| Ok(Outcome::Whole(answer));
    // A version we do not speak is refused before its batch is looked at.
    if let Some(refused) = unsupported_header(headers) {
        return whole(refused);
    }
    let batch_version = headers.protocol_version.unwrap_or(version::ASSUMED_WITHOUT_HEADER);
    if !version::allows_batches(batch_version) {
        return whole(rpc_error_answer(
            400,
            &RpcError::InvalidRequest(format!(
                "JSON-RPC batches are not supported in protocol version {}",
                crate::catalog::echo(batch_version)
            )),
        ));
    }
    ctx.protocol_version = headers.protocol_version.map(String::from);
    let mut responses = Vec::new();
    for item in items {
        match item {
            Ok(IncomingMessage::Request(request)) => {
                let era = Era::handshake(Some(batch_version), version::ASSUMED_WITHOUT_HEADER);
                responses.push(dispatch::handle(&ctx, request, era).await)
            }
            Ok(_) => {}
            Err(invalid) => responses.push(RpcResponse::Error(invalid)),
        }
    }
    if responses.is_empty() {
        return whole(accepted());
    }
    let body = format!(
        "[{}]",
        responses.iter().map(RpcResponse::to_json).collect::<Vec<_>>().join(",")
    );
    whole(Answer::json(200, body))
}

/// A handshake-era request must name a version we speak in MCP-Protocol-Version, if it names one.
fn unsupported_header(headers: &McpHeaders) -> Option<Answer> {
    match headers.protocol_version {
        Some(v) if !version::is_supported(v) && !version::is_stateless(v) => Some(refusal(
            400,
            &format!(
                "Bad Request: unsupported MCP-Protocol-Version {:?}; supported: {}",
                crate::catalog::echo(v),
                version::all().collect::<Vec<_>>().join(", ")
            ),
            None,
        )),
        _ => None,
    }
}

/// The stateless revision answers an unknown method with 404; everything else is a 200.
fn status_for(response: &RpcResponse, era: Era) -> u16 {
    match response {
        RpcResponse::Error(error) if era == Era::Stateless && error.error.code == -32601 => 404,
        _ => 200,
    }
}

/// One SSE event carrying a JSON-RPC message.
pub fn sse_event(json: &str) -> Vec<u8> {
    format!("event: message\ndata: {json}\n\n").into_bytes()
}

/// A request answered as an SSE stream (it asked for progress, or may send notifications); called
/// through [`crate::promise::cold_call`], so [`respond`]'s code, which most requests run, does not
/// hold it. Its arguments are one tuple for that call.
fn stream_with_progress(
    (mut ctx, request, era, token): (ToolContext, RpcRequest, Era, Option<ProgressToken>),
) -> worker::Result<Response> {
    let (sender, receiver) = mpsc::unbounded::<String>();
    ctx.progress = Some(match token {
        Some(token) => ProgressSink::new(token, sender.clone()),
        None => ProgressSink::without_token(sender.clone()),
    });
    // The final response goes through the same channel, after every progress message.
    let work = async move {
        let response = dispatch::handle(&ctx, request, era).await;
        let _ = sender.unbounded_send(response.to_json());
    };
    // Drives the call while the client reads; the channel closes when the call and its sink are done.
    let driver = stream::once(work).filter_map(|()| future::ready(None::<String>));
    let events = stream::select(receiver, driver).map(|json| Ok::<Vec<u8>, worker::Error>(sse_event(&json)));
    let mut response = Response::from_stream(events)?;
    let headers = response.headers_mut();
    headers.set("Content-Type", "text/event-stream")?;
    headers.set("Cache-Control", "no-cache")?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_carry_one_json_message_without_an_id_field() {
        let event = String::from_utf8(sse_event(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#)).unwrap();
        assert_eq!(
            event,
            "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"
        );
        assert!(!event.contains("\nid:"));
    }

    #[test]
    fn the_requests_of_a_body_are_its_one_or_its_batch_requests() {
        let methods = |body: &str| -> Vec<String> {
            let parsed = parse_body(body).unwrap();
            requests_in(&parsed).map(|request| request.method.clone()).collect()
        };
        assert_eq!(methods(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#), ["ping"]);
        assert!(methods(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).is_empty());
        assert!(methods(r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#).is_empty());
        let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","method":"n"},
            {"jsonrpc":"2.0","id":2,"result":{}},{"id":3},{"jsonrpc":"2.0","id":4,"method":"tools/call"}]"#;
        assert_eq!(methods(batch), ["tools/list", "tools/call"]);
    }
}
