//! HTTP surface: routing, and the checks every MCP transport and the OpenAI-compatible images
//! API share (Origin, auth, rate limit, body limit; protocol versions for MCP).

pub mod auth;
mod cors;
pub mod mailbox;
mod oauth;
mod openai;
mod sse;
mod streamable;

use serde_json::json;
use worker::{Context, Env, Method, Request, Response};

use crate::access::{Principal, Scope};
use crate::config::Config;
use crate::http::answer::{Answer, HeadTable};
use crate::http::body::{BodyError, HandedOverError, TooLarge};
use crate::http::head::RequestHead;
use crate::http::json_response;
use crate::http::url::RequestUrl;
use crate::promise::{cold, cold_call};
use crate::protocol::jsonrpc::{IncomingMessage, RpcError, RpcResponse};
use crate::tools::ToolContext;

/// Routes a request and adds CORS headers to whatever comes back.
pub async fn route(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    // Parsed once here: routing, the failure answer below and /images/ all need the path.
    let path = RequestUrl::of(&req).path;
    let is_mcp_route = is_mcp_path(&path);
    let mut response = match dispatch(req, &path, env, ctx).await {
        Ok(response) => response,
        Err(error) => {
            worker::console_error!("request failed: {error}");
            // MCP clients parse every answer on their routes as JSON-RPC, failures included.
            if is_mcp_route {
                rpc_error(500, &RpcError::Internal("internal server error".to_string()))?
            } else {
                json_response(500, &json!({"error": "internal server error"}))?
            }
        }
    };
    cors::apply(&mut response);
    Ok(response)
}

/// What the one-crossing entry gets back for a JSON-RPC POST: the whole answer encoded
/// ([`Answer::encode`], CORS headers included), or a response whose body is a stream of events.
pub enum Served {
    Bytes(Vec<u8>),
    Stream(Response),
}

/// The requests the entry module (`src/entry.mjs`) hands over, method and path: the JSON-RPC
/// POSTs (only those with a declared length within REQUEST_BODY_MAX_BYTES: their body is read
/// by then), both sent to Streamable HTTP as [`dispatch`] sends them, and the two pages the
/// original also served, answered from memory. A preflight (`OPTIONS`, any path) is handed over
/// too. The entry reads this list from Rust (`entry_routes`).
pub const ENTRY_ROUTES: [(&str, &str); 4] = [("POST", "/mcp"), ("POST", "/sse"), ("GET", "/"), ("GET", "/health")];

/// The request headers the entry module hands over and [`request_head`] copies (lower case):
/// the ones the checks, Streamable HTTP and the SSE transport read. Copying only these instead of every header was a third of the main
/// module's own time per request in the cpu bench. A test below holds this list to the
/// `header("…")` reads of the code a handed-over request runs through.
pub const ENTRY_HEADERS: [&str; 6] = [
    "accept",
    "authorization",
    "mcp-method",
    "mcp-name",
    "mcp-protocol-version",
    "origin",
];

/// The head of a request that came through workers-rs: its URL and the [`ENTRY_HEADERS`], the
/// same headers the entry module hands over.
pub fn request_head(req: &Request) -> RequestHead<'static> {
    RequestHead::of(req, &ENTRY_HEADERS)
}

/// A request the entry module wrote into the inbox (`entry_inbox`, src/lib.rs): its method, URL,
/// headers (see [`RequestHead::from_wire`]) and body one after the other, of these lengths in
/// bytes. The answer as [`serve_read`] gives it; a request that does not match its lengths (a
/// defect of the entry module) is answered 500.
pub async fn serve_written(inbox: &[u8], lengths: [usize; 4], env: Env) -> Served {
    match split_written(inbox, lengths) {
        Some((method, url, headers, body)) => serve_read(method, url, headers, body, env).await,
        None => {
            worker::console_error!("request failed: the entry module wrote a request that does not match its lengths");
            Served::Bytes(encoded(internal_error()))
        }
    }
}

/// The method, URL, headers text and body of a written request; `None` unless they lie within
/// `inbox` and the first three are UTF-8.
fn split_written(inbox: &[u8], [method, url, headers, body]: [usize; 4]) -> Option<(&str, &str, &str, &[u8])> {
    let (method, rest) = inbox.split_at_checked(method)?;
    let (url, rest) = rest.split_at_checked(url)?;
    let (headers, rest) = rest.split_at_checked(headers)?;
    let text = |bytes| std::str::from_utf8(bytes).ok();
    Some((text(method)?, text(url)?, text(headers)?, rest.get(..body)?))
}

/// A request from the entry module: its method, URL, headers (see [`RequestHead::from_wire`]) and
/// body in; the answer out, as [`route`] would give it (CORS headers, failures as JSON-RPC).
async fn serve_read(method: &str, url: &str, headers: &str, body: &[u8], env: Env) -> Served {
    let head = RequestHead::from_wire(url, headers);
    let whole = |answer| Ok(streamable::Outcome::Whole(answer));
    let outcome = match (method, &*head.url.path) {
        ("OPTIONS", _) => whole(cors::preflight_answer()),
        ("GET", "/") => whole(crate::pages::home_answer(
            &head.url.origin(),
            &env,
            openai::routes_for_people,
        )),
        ("GET", "/health") => whole(crate::pages::health_answer()),
        ("POST", path) if ENTRY_ROUTES.contains(&("POST", path)) => streamable::post_read(&head, body, &env).await,
        (_, path) => whole(Answer::json(
            404,
            json!({"error": "not found", "path": crate::catalog::echo(path)}).to_string(),
        )),
    };
    match outcome {
        Ok(streamable::Outcome::Whole(answer)) => Served::Bytes(encoded(answer)),
        Ok(streamable::Outcome::Stream(mut response)) => {
            cors::apply(&mut response);
            Served::Stream(response)
        }
        Err(error) => {
            worker::console_error!("request failed: {error}");
            Served::Bytes(encoded(internal_error()))
        }
    }
}

/// An answer as the entry module reads it, its head numbered in this instance's table of the
/// heads sent to the entry module (see [`HeadTable`]).
fn encoded(answer: Answer) -> Vec<u8> {
    thread_local! {
        static HEADS: std::cell::RefCell<HeadTable> = std::cell::RefCell::default();
    }
    HEADS.with(|heads| answer.encode(&cors::HEADERS, &mut heads.borrow_mut()))
}

fn internal_error() -> Answer {
    rpc_error_answer(500, &RpcError::Internal("internal server error".to_string()))
}

/// Work done once when the isolate starts, before any request: the configuration is read (from
/// the environment the main module imports, when it has one) and the answers every client's
/// first requests get (`initialize`, `tools/list` and `ping` of the latest revision) go into
/// their per-isolate cache (`initialize` and `ping` serialised; `tools/list`, the reviewed text
/// the build embedded, checked once), so the first requests pay for none of them. With an
/// environment, the JSON-RPC POST path then runs as a request does ([`streamable::warm_up`]; the
/// main module runs its own part of the path for a preflight), so V8 compiles its code here and
/// not in the first request: from workerd 2026-11-29 on, V8 keeps the code it compiled at module
/// load; earlier releases dropped all Liftoff code each time workerd built another isolate, and
/// Miniflare builds its own after ours (bench/README.md, "nineteenth pass" and "thirty-third
/// pass"). Cloudflare starts an isolate while the client's TLS handshake is under way, so this
/// time is mostly hidden from the first caller; the bench's start-up row (spawn → first answer)
/// still counts it. No I/O: none is allowed outside a request.
pub fn warm_up(env: Option<&Env>) {
    let config = env.map(Config::from_env);
    let head = RequestHead::from_wire(
        "https://warm-up.invalid/mcp",
        "accept\napplication/json, text/event-stream\n",
    );
    if let Some(Ok(config)) = &config {
        let _ = crate::http::origin::origin_allowed(head.header("Origin"), &config.allowed_origins);
        let _ = crate::access::identify("warm-up", "not-the-token", &config.api_keys);
    }
    let revision = crate::protocol::version::LATEST;
    let bodies = ["initialize", "tools/list", "ping"].map(|method| {
        json!({"jsonrpc": "2.0", "id": 0, "method": method, "params": {"protocolVersion": revision}}).to_string()
    });
    for body in &bodies {
        if let Ok(crate::protocol::jsonrpc::IncomingBody::Single(Ok(IncomingMessage::Request(request)))) =
            crate::protocol::jsonrpc::parse_body(body)
        {
            let _ = crate::server::required_scope(&request);
            let era = crate::server::Era::handshake(Some(revision), revision);
            let response = crate::server::answer_cached(request, era);
            // A table of its own: the entry module never sees these bytes, so they must not
            // number a head it would later be sent only the number of.
            let _ = rpc_answer(200, &response).encode(&cors::HEADERS, &mut HeadTable::default());
        }
    }
    if let (Some(env), Some(Ok(config))) = (env, config) {
        streamable::warm_up(&head, &bodies, env, config);
    }
}

/// The routes that speak JSON-RPC: /mcp, /sse and /sse/message.
fn is_mcp_path(path: &str) -> bool {
    matches!(path, "/mcp" | "/sse" | "/sse/message")
}

async fn dispatch(req: Request, path: &str, env: Env, ctx: Context) -> worker::Result<Response> {
    let method = req.method();
    if method == Method::Options {
        return cors::preflight();
    }
    // Each route's future is its own (`cold`): inlined, every route's code made one function of
    // 186 KB, which V8 compiled whole on the first request of any of them after start
    // (bench/first-paths.mjs; bench/README.md, twenty-seventh pass).
    match (method, path) {
        (Method::Get | Method::Head, "/") => crate::pages::home(&req, &env, openai::routes_for_people),
        (Method::Get, "/health") => crate::pages::health(),
        (_, p) if oauth::owns(p) => cold(oauth::handle(req, p, &env)).await,
        (Method::Get | Method::Head, p) if p.starts_with(crate::urls::IMAGE_ROUTE_PREFIX) => {
            cold(crate::pages::images::serve(&req, p, &env)).await
        }
        (_, p) if crate::pages::gallery::owns(p) => cold(crate::pages::gallery::handle(req, env)).await,
        (Method::Post, "/mcp") => cold(streamable::post(req, env)).await,
        (_, "/mcp") => method_not_allowed("POST"),
        (Method::Get, "/sse") => cold(sse::open_stream(req, env)).await,
        // The original served JSON-RPC POSTs on /sse too; keep that working.
        (Method::Post, "/sse") => cold(streamable::post(req, env)).await,
        (_, "/sse") => method_not_allowed("GET, POST"),
        (Method::Post, "/sse/message") => cold(sse::post_message(req, env, ctx)).await,
        (_, "/sse/message") => method_not_allowed("POST"),
        (_, p) if crate::openai::owns(p) => cold(openai::serve(req, p, env)).await,
        _ => json_response(404, &json!({"error": "not found", "path": crate::catalog::echo(path)})),
    }
}

pub fn rpc_answer(status: u16, response: &RpcResponse) -> Answer {
    Answer::json(status, response.to_json())
}

pub fn rpc_error_answer(status: u16, error: &RpcError) -> Answer {
    rpc_answer(status, &RpcResponse::error(None, error))
}

pub fn rpc_error(status: u16, error: &RpcError) -> worker::Result<Response> {
    rpc_error_answer(status, error).into_response()
}

fn method_not_allowed(allow: &str) -> worker::Result<Response> {
    let mut response = rpc_error(405, &RpcError::Refused(format!("Method not allowed: use {allow}")))?;
    response.headers_mut().set("Allow", allow)?;
    Ok(response)
}

pub fn accepted() -> Answer {
    Answer::empty(202)
}

/// The checks before any MCP message is read: configuration, Origin, the bearer token (which
/// names the caller and its scopes, see [`auth::authenticate`]), then the caller's rate limit.
/// `Err` is the refusal to send as is.
pub async fn guard(head: &RequestHead<'_>, env: &Env) -> Result<(ToolContext, Principal), Answer> {
    admit(head, env).await.map_err(|refused| {
        let answer = refusal(refused.status, &refused.message, refused.challenge);
        match refused.retry_after {
            Some(seconds) => answer.header("Retry-After", seconds.to_string()),
            None => answer,
        }
    })
}

/// Why [`admit`] refused a request: the status, the message and the headers that go with it.
/// Each API answers it in its own shape (JSON-RPC on the MCP routes, OpenAI's on /v1/).
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub status: u16,
    pub message: String,
    /// `WWW-Authenticate` of a 401.
    pub challenge: Option<String>,
    /// `Retry-After` seconds of a 429.
    pub retry_after: Option<u32>,
}

impl Refused {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Refused {
            status,
            message: message.into(),
            challenge: None,
            retry_after: None,
        }
    }
}

/// The checks every authenticated API shares, in order: configuration, Origin, the bearer token
/// (which names the caller and its scopes), the caller's rate limit.
pub async fn admit(head: &RequestHead<'_>, env: &Env) -> Result<(ToolContext, Principal), Refused> {
    let config = match Config::from_env(env) {
        Ok(config) => config,
        Err(error) => {
            worker::console_error!("{error}");
            return Err(Refused::new(500, error.to_string()));
        }
    };
    if !crate::http::origin::origin_allowed(head.header("Origin"), &config.allowed_origins) {
        return Err(Refused::new(
            403,
            "Forbidden: this Origin is not allowed to call the MCP endpoint",
        ));
    }
    let origin = head.origin();
    let principal = match auth::authenticate(head.header("Authorization"), env, &config).await {
        Ok(principal) => principal,
        Err(error) => return Err(cold_call(auth_refused, (error, head, &origin))),
    };
    if principal.grant.is_some() {
        // Which app a key's OAuth traffic comes from ("key alice via Claude").
        worker::console_log!("oauth request: {}", principal.describe());
    }
    let caller = principal.caller.clone();
    if crate::rate_limit::check(env, &caller).await == crate::rate_limit::Verdict::Limited {
        return Err(cold_call(rate_limited, &principal));
    }
    let ctx = ToolContext {
        env: env.clone(),
        config,
        caller,
        origin,
        progress: None,
        protocol_version: None,
        task_jobs: None,
    };
    Ok((ctx, principal))
}

/// [`admit`]'s 401 (or 500 when no credential is configured), kept out of its code.
fn auth_refused((error, head, origin): (auth::AuthError, &RequestHead<'_>, &str)) -> Refused {
    if error == auth::AuthError::NotConfigured {
        worker::console_error!("{error}");
    }
    let endpoint = crate::oauth::protected_endpoint(&head.url.path);
    Refused {
        challenge: error.challenge(origin, endpoint),
        ..Refused::new(error.status(), error.to_string())
    }
}

/// [`admit`]'s 429, kept out of its code.
fn rate_limited(principal: &Principal) -> Refused {
    worker::console_log!("rate limited: {}", principal.describe());
    let period = crate::catalog::RATE_LIMIT_PERIOD_SECONDS;
    let message = format!(
        "Too many requests for key \"{}\": the rate limit allows a fixed number per {period} s. Retry after {period} s.",
        principal.caller.name()
    );
    Refused {
        retry_after: Some(period),
        ..Refused::new(429, message)
    }
}

/// The 403 for requests whose token lacks a scope one of them needs (`insufficient_scope`,
/// RFC 6750 §3.1), naming the scope; None when every request is allowed. Static tokens and
/// API keys hold every scope.
pub fn scope_refusal<'a>(
    head: &RequestHead,
    principal: &Principal,
    requests: impl IntoIterator<Item = &'a crate::protocol::jsonrpc::RpcRequest>,
) -> Option<Answer> {
    let missing = requests
        .into_iter()
        .filter_map(crate::server::required_scope)
        .find(|scope| !principal.scopes.contains(*scope));
    Some(cold_call(insufficient_scope, (head, principal, missing?)))
}

/// [`scope_refusal`]'s 403, kept out of the code of its callers.
fn insufficient_scope((head, principal, needed): (&RequestHead<'_>, &Principal, Scope)) -> Answer {
    let endpoint = crate::oauth::protected_endpoint(&head.url.path);
    let why = crate::oauth::Challenge::InsufficientScope {
        needed,
        held: principal.scopes,
    };
    worker::console_log!("refused for want of {}: {}", needed.name(), principal.describe());
    let message = format!(
        "Forbidden: this token was not granted the {} scope this call needs; authorize again with it",
        needed.name()
    );
    refusal(
        403,
        &message,
        Some(crate::oauth::challenge(&head.origin(), endpoint, &why)),
    )
}

/// The request body as text, decoded as `Request.text()` decodes it (`LimitedBody::into_text`), or
/// the refusal to send: 413 past REQUEST_BODY_MAX_BYTES (declared or counted while reading).
pub async fn read_body(req: &mut Request) -> worker::Result<Result<String, Answer>> {
    match crate::http::body::read_limited(req, crate::catalog::REQUEST_BODY_MAX_BYTES).await {
        Ok(body) => Ok(Ok(body)),
        Err(BodyError::TooLarge(too_large)) => Ok(Err(too_large_refusal(too_large))),
        Err(BodyError::Read(error)) => Err(error),
    }
}

/// [`read_body`] for a body the entry module already read (as text, with `Request.text()`).
pub fn body_text(bytes: &[u8]) -> Result<&str, Answer> {
    crate::http::body::text_within(bytes, crate::catalog::REQUEST_BODY_MAX_BYTES).map_err(|error| match error {
        HandedOverError::TooLarge(too_large) => too_large_refusal(too_large),
        HandedOverError::NotUtf8(_) => rpc_error_answer(400, &RpcError::Parse(error.to_string())),
    })
}

fn too_large_refusal(too_large: TooLarge) -> Answer {
    refusal(413, &too_large.to_string(), None)
}

/// A refusal before JSON-RPC processing, as a JSON-RPC error with a null id.
pub fn refusal(status: u16, message: &str, challenge: Option<String>) -> Answer {
    let answer = rpc_error_answer(status, &RpcError::Refused(message.to_string()));
    match challenge {
        Some(challenge) => answer.header("WWW-Authenticate", challenge),
        None => answer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_request_splits_at_its_lengths() {
        let inbox = b"POSThttps://h/mcpaccept\n*/*\n{\"id\":1}left over from a longer request";
        assert_eq!(
            split_written(inbox, [4, 13, 11, 8]),
            Some(("POST", "https://h/mcp", "accept\n*/*\n", &b"{\"id\":1}"[..]))
        );
        // Nothing at all, and a request that fills the inbox exactly.
        assert_eq!(split_written(b"", [0, 0, 0, 0]), Some(("", "", "", &b""[..])));
        assert_eq!(split_written(b"GETu", [3, 1, 0, 0]), Some(("GET", "u", "", &b""[..])));
        // Lengths beyond the inbox, in any part, and ones whose sum overflows.
        for lengths in [
            [5, 0, 0, 0],
            [4, 1, 0, 0],
            [0, 0, 0, 5],
            [3, 1, 0, 1],
            [usize::MAX, 1, 0, 0],
            [1, usize::MAX, 0, 0],
        ] {
            assert_eq!(split_written(b"GETu", lengths), None, "{lengths:?}");
        }
        // A head that is not UTF-8 (a split inside a character included); a body need not be.
        assert_eq!(split_written("GETé".as_bytes(), [4, 1, 0, 0]), None);
        assert_eq!(split_written(b"GET\xff", [3, 0, 1, 0]), None);
        assert_eq!(
            split_written(b"GET\xff", [3, 0, 0, 1]),
            Some(("GET", "", "", &b"\xff"[..]))
        );
    }

    /// Every header read from a [`RequestHead`] is one the entry module hands over and
    /// [`request_head`] copies: the files that build or read a head are scanned (the checks,
    /// Streamable HTTP, legacy SSE, OpenAI's images API).
    #[test]
    fn every_header_read_from_a_request_head_is_one_it_carries() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("streamable.rs"),
            include_str!("sse.rs"),
            include_str!("openai.rs"),
        ];
        let mut read = Vec::new();
        for source in sources {
            for (at, _) in source.match_indices("header(\"") {
                let before = &source[..at];
                // `Answer::header(name, value)` writes a response header; skip those.
                if before.ends_with("answer.") || before.ends_with("fn ") {
                    continue;
                }
                let name = &source[at + 8..];
                let name = &name[..name.find('"').unwrap()];
                // Header names only (this module's own comments quote the pattern).
                if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    read.push(name.to_ascii_lowercase());
                }
            }
        }
        assert!(read.len() >= 8, "{read:?}");
        for name in &read {
            assert!(
                ENTRY_HEADERS.contains(&name.as_str()),
                "{name} is read but not handed over"
            );
        }
    }

    #[test]
    fn the_warm_up_fills_the_cache_the_first_requests_read() {
        warm_up(None);
        let request = crate::protocol::jsonrpc::RpcRequest {
            id: crate::protocol::jsonrpc::RequestId::Number(7.into()),
            method: "tools/list".into(),
            params: None,
        };
        let latest = crate::protocol::version::LATEST;
        let era = crate::server::Era::handshake(Some(latest), latest);
        let answer = crate::server::answer_cached(request, era).to_json();
        assert!(
            answer.starts_with(r#"{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"generate_image""#),
            "{answer:.120}"
        );
    }

    #[test]
    fn failures_on_the_json_rpc_routes_answer_as_json_rpc() {
        for path in ["/mcp", "/sse", "/sse/message"] {
            assert!(is_mcp_path(path), "{path}");
        }
        for path in ["/", "/health", "/images/x.png", "/mcp/extra"] {
            assert!(!is_mcp_path(path), "{path}");
        }
        let body = RpcResponse::error(None, &RpcError::Internal("internal server error".into())).to_json();
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["jsonrpc"], "2.0");
        assert_eq!(parsed["error"]["code"], -32603);
        assert!(parsed["id"].is_null());
    }
}
