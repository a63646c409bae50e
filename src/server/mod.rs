//! The MCP server: one JSON-RPC request in, one response out, for either family of revisions.

mod info;
pub(crate) mod resources;
pub(crate) mod stateless;
pub(crate) mod tasks;
pub(crate) mod viewer;

pub use stateless::{is_stateless, validate as validate_stateless, McpHeaders};
pub use tasks::push_status as push_task_status;

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::catalog::echo;
use crate::jobs::tasks::TaskForm;
use crate::prompts;
use crate::protocol::jsonrpc::{RequestId, RpcError, RpcRequest, RpcResponse};
use crate::protocol::mcp::{CallToolParams, CallToolResult, ListToolsResult, ProgressToken, RequestMeta};
use crate::protocol::version;
use crate::tools::{self, ToolContext};
use info::initialize_result;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeParams {
    #[serde(default)]
    protocol_version: Option<String>,
}

/// Answers methods that need no bindings, as `revision` has them; None for tools/call and
/// unknown methods.
pub fn answer_static(request: &RpcRequest, revision: &str) -> Option<Result<Value, RpcError>> {
    let result = match request.method.as_str() {
        "initialize" => {
            let params: InitializeParams = match request.params.clone().map(serde_json::from_value).transpose() {
                Ok(params) => params.unwrap_or(InitializeParams { protocol_version: None }),
                Err(e) => return Some(Err(RpcError::InvalidParams(format!("initialize: {e}")))),
            };
            to_value(initialize_result(params.protocol_version.as_deref()))
        }
        "ping" => Ok(json!({})),
        "tools/list" => tools_list_result(revision),
        "prompts/list" => prompts::list(request.params.as_ref(), version::has_titles(revision)).and_then(to_value),
        "prompts/get" => prompts::get(request.params.as_ref()).and_then(to_value),
        _ => return None,
    };
    Some(result)
}

/// The `tools/list` result for `revision`, built from the tool table. The server sends the
/// reviewed copy of it instead (see [`TOOLS_LIST_ANSWERS`]); this builds that copy (the golden
/// test) and any revision without one.
fn tools_list_result(revision: &str) -> Result<Value, RpcError> {
    to_value(ListToolsResult {
        tools: tools::list(revision),
    })
}

/// The `tools/list` result of each revision as compact JSON text, from the reviewed golden files
/// (`tests/golden/`, minified by `build.rs`): sent as they are, so no isolate builds the list
/// (most of what `warm_up` did, and the first `tools/list` of every other revision; bench/README.md,
/// twentieth pass). The
/// golden test keeps each file equal to what [`tools_list_result`] builds; the tests below check
/// the bytes.
const TOOLS_LIST_ANSWERS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/tools_list_answers.rs"));

/// The reviewed `tools/list` result of `revision`, or None when it has none (a revision added
/// before its golden file: built at run time instead).
fn reviewed_tools_list(revision: &str) -> Option<Result<&'static RawValue, RpcError>> {
    let (_, text) = TOOLS_LIST_ANSWERS.iter().find(|(listed, _)| *listed == revision)?;
    // Checked as JSON once per isolate and revision (a scan, not a tree), so a file that is not
    // JSON is an error answer, never a broken body.
    Some(serde_json::from_str(text).map_err(|e| RpcError::Internal(format!("tools/list of {revision}: {e}"))))
}

fn to_value(value: impl serde::Serialize) -> Result<Value, RpcError> {
    serde_json::to_value(value).map_err(|e| RpcError::Internal(e.to_string()))
}

/// What [`call_params`] reads of `tools/call` params, borrowed from them: the tool's name and
/// `_meta`. The scope check and the progress token read only this, so a call's params are not
/// copied three times over (bench/README.md, twenty-third pass).
struct CallHead<'a> {
    name: &'a str,
    meta: Option<RequestMeta>,
}

/// Reads `tools/call` params without their arguments; a missing or non-string name, arguments
/// that are not an object, or a `_meta` that is not a `RequestMeta` are invalid params.
fn call_head(params: Option<&Value>) -> Result<CallHead<'_>, RpcError> {
    let params = params.ok_or_else(|| RpcError::InvalidParams("tools/call needs params with a tool name".into()))?;
    let Some(Value::String(name)) = params.get("name") else {
        return Err(RpcError::InvalidParams(
            "tools/call needs params.name (the tool to call)".into(),
        ));
    };
    if !matches!(
        params.get("arguments"),
        None | Some(Value::Null) | Some(Value::Object(_))
    ) {
        return Err(RpcError::InvalidParams(
            "tools/call params.arguments must be an object".into(),
        ));
    }
    let meta = match params.get("_meta") {
        None => None,
        Some(meta) => Option::<RequestMeta>::deserialize(meta).map_err(|e| RpcError::InvalidParams(e.to_string()))?,
    };
    Ok(CallHead { name, meta })
}

/// Reads `tools/call` params ([`call_head`]) with a copy of their arguments.
pub fn call_params(params: Option<&Value>) -> Result<CallToolParams, RpcError> {
    let CallHead { name, .. } = call_head(params)?;
    let arguments = match params.and_then(|params| params.get("arguments")) {
        Some(Value::Object(arguments)) => Some(arguments.clone()),
        _ => None,
    };
    Ok(CallToolParams {
        name: name.to_string(),
        arguments,
    })
}

/// Which family of protocol revisions a request follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2024-11-05 to 2025-11-25: initialize handshake, then requests. `revision` is the one the
    /// request's MCP-Protocol-Version header names, or the one its transport implies without it.
    Handshake { revision: &'static str },
    /// 2026-07-28: stateless, version and capabilities in every request's `_meta`.
    Stateless,
}

impl Era {
    /// The handshake-era request of a transport: its header's revision if we speak it, else `assumed`.
    pub fn handshake(header: Option<&str>, assumed: &'static str) -> Era {
        let revision = header
            .and_then(|v| version::SUPPORTED.iter().find(|s| **s == v).copied())
            .unwrap_or(assumed);
        Era::Handshake { revision }
    }

    pub fn revision(self) -> &'static str {
        match self {
            Era::Handshake { revision } => revision,
            Era::Stateless => version::STATELESS[0],
        }
    }
}

/// The answer to a request whose result is cached per isolate (see [`cached_result`]), filling
/// the cache; other requests get method not found (the transport's warm-up sends only these).
pub fn answer_cached(request: RpcRequest, era: Era) -> RpcResponse {
    match cached_result(&request, era) {
        Some(cached) => cached_response(request.id, cached),
        None => RpcResponse::error(Some(request.id), &method_not_found(&request.method)),
    }
}

fn cached_response(id: RequestId, cached: Result<&'static RawValue, RpcError>) -> RpcResponse {
    match cached {
        Ok(result) => RpcResponse::text(id, Cow::Borrowed(result)),
        Err(error) => RpcResponse::error(Some(id), &error),
    }
}

/// Handles one request. `ctx.progress` is set by the transport when it can stream progress.
pub async fn handle(ctx: &ToolContext, request: RpcRequest, era: Era) -> RpcResponse {
    if let Some(cached) = cached_result(&request, era) {
        return cached_response(request.id, cached);
    }
    // Kept out of line: the cached answers above (every client's first requests) never run it.
    let outcome = match era {
        Era::Handshake { .. } => crate::promise::cold(handle_handshake(ctx, &request, era)).await,
        Era::Stateless => crate::promise::cold(handle_stateless(ctx, &request)).await,
    };
    match outcome {
        Ok(Answer::Tree(result)) => RpcResponse::result(request.id, result),
        Ok(Answer::Text(result)) => RpcResponse::text(request.id, Cow::Owned(result)),
        Err(error) => RpcResponse::error(Some(request.id), &error),
    }
}

/// A method's result: a tree, or JSON text written where it was made (a tool's result, whose
/// object never becomes a tree; see `ToolOutput`).
enum Answer {
    Tree(Value),
    Text(Box<RawValue>),
}

/// The result of a request whose answer depends on nothing but its method and revision
/// (`initialize`, whose revision is the negotiated one; `tools/list`; `resources/templates/list`;
/// `server/discover`; `ping`), written as is: tools/list (about 70 KB of JSON) from its reviewed
/// copy, the others serialised once per isolate and revision. None for every other request, which is
/// answered as usual.
fn cached_result(request: &RpcRequest, era: Era) -> Option<Result<&'static RawValue, RpcError>> {
    let key: (&'static str, &'static str) = match (era, request.method.as_str()) {
        (Era::Handshake { .. }, "initialize") => ("initialize", version::negotiate(cacheable_initialize(request)?)),
        (Era::Handshake { revision }, "tools/list") => ("tools/list", revision),
        // `{}` in every handshake revision: one entry, whatever the revision.
        (Era::Handshake { .. }, "ping") => ("ping", version::LATEST),
        (Era::Handshake { revision }, "resources/templates/list") => ("resources/templates/list", revision),
        (Era::Stateless, "tools/list") => ("tools/list", version::STATELESS[0]),
        (Era::Stateless, "server/discover") => ("server/discover", version::STATELESS[0]),
        (Era::Stateless, "resources/templates/list") => ("resources/templates/list", version::STATELESS[0]),
        _ => return None,
    };
    thread_local! {
        static RESULTS: std::cell::RefCell<Vec<((&'static str, &'static str), &'static RawValue)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    if let Some(found) = RESULTS.with(|results| results.borrow().iter().find(|(k, _)| *k == key).map(|(_, raw)| *raw)) {
        return Some(Ok(found));
    }
    let raw = crate::promise::cold_call(first_result, (era, key));
    // One per method and revision, kept for life: small, and the reviewed lists are borrowed.
    Some(raw.inspect(|raw| RESULTS.with(|results| results.borrow_mut().push((key, *raw)))))
}

/// A cached answer's result the first time it is asked for: the reviewed copy of tools/list, or
/// one built and serialised. Once per method and revision, so [`cached_result`] calls it through
/// [`crate::promise::cold_call`] and its code is compiled only when it runs.
fn first_result((era, (method, revision)): (Era, (&'static str, &'static str))) -> Result<&'static RawValue, RpcError> {
    let reviewed = match method {
        "tools/list" => reviewed_tools_list(revision),
        _ => None,
    };
    reviewed.unwrap_or_else(|| built_result(era, method, revision))
}

/// A cached answer's result built at run time, serialised once and kept for the isolate's life.
fn built_result(era: Era, method: &'static str, revision: &'static str) -> Result<&'static RawValue, RpcError> {
    let value = match (era, method) {
        (_, "initialize") => to_value(initialize_result(Some(revision))),
        (Era::Handshake { .. }, "tools/list") => tools_list_result(revision),
        (Era::Handshake { .. }, "ping") => Ok(json!({})),
        (Era::Handshake { .. }, _) => to_value(resources::templates(version::has_titles(revision))),
        (Era::Stateless, "tools/list") => tools_list_result(revision).map(|r| stateless::complete_result(method, r)),
        (Era::Stateless, "server/discover") => Ok(stateless::complete_result(method, stateless::discover_result())),
        (Era::Stateless, _) => to_value(resources::templates(version::has_titles(revision)))
            .map(|templates| stateless::complete_result(method, templates)),
    };
    let raw = value
        .and_then(|value| serde_json::value::to_raw_value(&value).map_err(|e| RpcError::Internal(e.to_string())))?;
    Ok(Box::leak(raw))
}

/// The revision an `initialize` asks for, when its params are ones the cached answer fits
/// (none, or an object whose `protocolVersion` is absent or a string); None sends the request
/// the usual way, which also reports params it cannot read.
fn cacheable_initialize(request: &RpcRequest) -> Option<Option<&str>> {
    match &request.params {
        None => Some(None),
        Some(Value::Object(params)) => match params.get("protocolVersion") {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(requested)) => Some(Some(requested)),
            Some(_) => None,
        },
        Some(_) => None,
    }
}

async fn handle_handshake(ctx: &ToolContext, request: &RpcRequest, era: Era) -> Result<Answer, RpcError> {
    let core_tasks = version::has_core_tasks(era.revision());
    // A tool call first, the most frequent request here: the resources and tasks methods below
    // are large async functions, which a call would otherwise enter (and V8 compile) each time
    // only to learn that they answer something else (bench/README.md, twenty-seventh pass).
    if request.method == "tools/call" {
        if core_tasks {
            if let Some(ttl) = tasks::requested_core_task(request.params.as_ref())? {
                return tasks::start(ctx, call_params(request.params.as_ref())?, TaskForm::Core, ttl)
                    .await
                    .map(Answer::Tree);
            }
        }
        // Unknown tool names become isError results, as in the original.
        return call_tool_text(ctx, request).await;
    }
    if let Some(result) = answer_static(request, era.revision()) {
        return result.map(Answer::Tree);
    }
    if let Some(result) = answer_resources(ctx, request, era).await {
        return result.map(Answer::Tree);
    }
    if core_tasks {
        if let Some(result) = tasks::answer(ctx, &request.method, request.params.as_ref(), TaskForm::Core).await {
            return result.map(Answer::Tree);
        }
    }
    Err(method_not_found(&request.method))
}

/// The resources methods (None for any other method), answered as the request's revision asks:
/// `title` from 2025-06-18 on, and its code for a resource that is not found.
async fn answer_resources(ctx: &ToolContext, request: &RpcRequest, era: Era) -> Option<Result<Value, RpcError>> {
    let with_titles = version::has_titles(era.revision());
    let params = request.params.as_ref();
    let result = match request.method.as_str() {
        "resources/list" => resources::list(ctx, params, with_titles).await.map(to_value),
        "resources/templates/list" => Ok(to_value(resources::templates(with_titles))),
        "resources/read" => resources::read(ctx, params).await.map(to_value),
        _ => return None,
    };
    Some(result.unwrap_or_else(|error| Err(error.into_rpc(era == Era::Stateless))))
}

async fn handle_stateless(ctx: &ToolContext, request: &RpcRequest) -> Result<Answer, RpcError> {
    let result = match request.method.as_str() {
        "server/discover" => Ok(stateless::discover_result()),
        "tools/list" => tools_list_result(version::STATELESS[0]),
        // A task only for a client declaring the tasks extension, and a tool that runs as one.
        "tools/call" if runs_as_extension_task(request) => {
            tasks::start(ctx, call_params(request.params.as_ref())?, TaskForm::Extension, None).await
        }
        "prompts/list" => prompts::list(request.params.as_ref(), true).and_then(to_value),
        "prompts/get" => prompts::get(request.params.as_ref()).and_then(to_value),
        // This revision makes an unknown tool a protocol error. The result stays text.
        "tools/call" => {
            let result = call_tool(ctx, request, true).await?;
            return stateless::complete_text(&request.method, &result).map(Answer::Text);
        }
        other => match answer_resources(ctx, request, Era::Stateless).await {
            Some(result) => result,
            None => match tasks::answer(ctx, other, request.params.as_ref(), TaskForm::Extension).await {
                Some(result) => result,
                // initialize, ping and the rest do not exist in this revision.
                None => Err(method_not_found(other)),
            },
        },
    }?;
    Ok(Answer::Tree(stateless::complete_result(&request.method, result)))
}

fn runs_as_extension_task(request: &RpcRequest) -> bool {
    let name = request
        .params
        .as_ref()
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str);
    tasks::client_declares_extension(request.params.as_ref()) && name.is_some_and(tools::runs_as_task)
}

async fn call_tool(
    ctx: &ToolContext,
    request: &RpcRequest,
    unknown_is_error: bool,
) -> Result<CallToolResult, RpcError> {
    let params = call_params(request.params.as_ref())?;
    if unknown_is_error && tools::find(&params.name).is_none() {
        return Err(unknown_tool(&params.name));
    }
    let arguments = params.arguments.unwrap_or_else(Map::new);
    Ok(tools::call(ctx, &params.name, arguments).await)
}

/// A tool call of the handshake era, its result written as text (unknown tools are `isError`
/// results there).
async fn call_tool_text(ctx: &ToolContext, request: &RpcRequest) -> Result<Answer, RpcError> {
    let result = call_tool(ctx, request, false).await?;
    result
        .into_raw()
        .map(Answer::Text)
        .map_err(|e| RpcError::Internal(e.to_string()))
}

/// -32601 naming the method, cut to ECHO_MAX_CHARS.
fn method_not_found(method: &str) -> RpcError {
    RpcError::MethodNotFound(echo(method))
}

/// The stateless revision's -32602 for a tool we do not have, its name cut to ECHO_MAX_CHARS.
fn unknown_tool(name: &str) -> RpcError {
    RpcError::InvalidParams(format!("Unknown tool: {}", echo(name)))
}

/// The scope a request needs (None: any valid token may send it). A tool call needs its tool's
/// declared scope; reading resources needs the read scope; the handshake, listings of the
/// server's own tools and pings need none. Unknown tools need none: they only get an error.
pub fn required_scope(request: &RpcRequest) -> Option<tools::Scope> {
    match request.method.as_str() {
        "tools/call" => {
            let call = call_head(request.params.as_ref()).ok()?;
            tools::find(call.name).map(|tool| tool.scope)
        }
        "resources/list" | "resources/templates/list" | "resources/read" | "prompts/list" | "prompts/get" => {
            Some(tools::Scope::Read)
        }
        // Cancelling changes work; updating is the extension's answer to a task's question.
        "tasks/cancel" | "tasks/update" => Some(tools::Scope::Write),
        method if method.starts_with("tasks/") => Some(tools::Scope::Read),
        _ => None,
    }
}

/// The progress token of a tools/call request, if the client sent one.
pub fn progress_token(request: &RpcRequest) -> Option<ProgressToken> {
    match request.method.as_str() {
        "tools/call" => call_head(request.params.as_ref()).ok()?.meta?.progress_token,
        "tasks/result" => {
            RequestMeta::deserialize(request.params.as_ref()?.get("_meta")?)
                .ok()?
                .progress_token
        }
        _ => None,
    }
}

/// Whether the answer to `request` is worth streaming even without a progress token: 2025-11-25's
/// `tasks/result` blocks until its task ends, and sends the task's status changes meanwhile.
pub fn streams_notifications(request: &RpcRequest, era: Era) -> bool {
    request.method == "tasks/result" && version::has_core_tasks(era.revision())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::jsonrpc::RequestId;

    fn request(method: &str, params: Option<Value>) -> RpcRequest {
        RpcRequest {
            id: RequestId::Number(1.into()),
            method: method.into(),
            params,
        }
    }

    /// The cached answers are byte for byte what the uncached path serialises, for every
    /// revision, and the same text again on the next call.
    #[test]
    fn cached_results_are_the_uncached_ones_serialised() {
        let text = |value: Value| serde_json::to_string(&value).unwrap();
        for revision in version::SUPPORTED {
            let era = Era::Handshake { revision };
            for requested in [
                None,
                Some(json!({})),
                Some(json!({"protocolVersion": revision})),
                Some(json!({"protocolVersion": "1999-01-01"})),
            ] {
                let initialize = request("initialize", requested);
                let expected = answer_static(&initialize, revision).unwrap().unwrap();
                assert_eq!(cached_result(&initialize, era).unwrap().unwrap().get(), text(expected));
            }
            let list = request("tools/list", None);
            let expected = text(tools_list_result(revision).unwrap());
            assert_eq!(cached_result(&list, era).unwrap().unwrap().get(), expected);
            assert_eq!(
                cached_result(&list, era).unwrap().unwrap().get(),
                expected,
                "second call"
            );
            let templates = request("resources/templates/list", None);
            let expected = text(to_value(resources::templates(version::has_titles(revision))).unwrap());
            assert_eq!(cached_result(&templates, era).unwrap().unwrap().get(), expected);
            for params in [None, Some(json!({})), Some(json!({"_meta": {"progressToken": 1}}))] {
                let ping = request("ping", params);
                let expected = text(answer_static(&ping, revision).unwrap().unwrap());
                assert_eq!(cached_result(&ping, era).unwrap().unwrap().get(), expected);
            }
        }
        assert!(
            cached_result(&request("ping", None), Era::Stateless).is_none(),
            "2026-07-28 has no ping: answered as an unknown method"
        );
        let stateless = version::STATELESS[0];
        let discover = stateless::complete_result("server/discover", stateless::discover_result());
        assert_eq!(
            cached_result(&request("server/discover", None), Era::Stateless)
                .unwrap()
                .unwrap()
                .get(),
            text(discover)
        );
        let list = stateless::complete_result("tools/list", tools_list_result(stateless).unwrap());
        assert_eq!(
            cached_result(&request("tools/list", None), Era::Stateless)
                .unwrap()
                .unwrap()
                .get(),
            text(list)
        );
    }

    /// Every revision's tools/list is sent from its reviewed copy (the test above checks the
    /// bytes); one missing would be built at run time, at start-up for the latest revision.
    #[test]
    fn every_revision_has_a_reviewed_tools_list() {
        for revision in version::SUPPORTED.iter().chain(version::STATELESS.iter()) {
            assert!(
                reviewed_tools_list(revision).is_some_and(|reviewed| reviewed.is_ok()),
                "no reviewed tools/list for {revision}: run `UPDATE_GOLDEN=1 cargo test golden`"
            );
        }
        assert_eq!(
            TOOLS_LIST_ANSWERS.len(),
            version::SUPPORTED.len() + version::STATELESS.len()
        );
    }

    #[test]
    fn requests_the_cache_does_not_fit_go_the_usual_way() {
        let era = Era::Handshake { revision: "2025-11-25" };
        // Params of other shapes: the usual path reads (or refuses) them.
        for params in [json!(null), json!([]), json!({"protocolVersion": 5})] {
            assert!(
                cached_result(&request("initialize", Some(params.clone())), era).is_none(),
                "{params}"
            );
        }
        for method in ["tools/call", "resources/list", "prompts/list"] {
            assert!(cached_result(&request(method, None), era).is_none(), "{method}");
        }
        // The stateless revision has no initialize.
        assert!(cached_result(&request("initialize", None), Era::Stateless).is_none());
    }

    #[test]
    fn initialize_negotiates_and_names_the_server() {
        let result = answer_static(
            &request("initialize", Some(json!({"protocolVersion": "2025-06-18"}))),
            version::LATEST,
        )
        .unwrap()
        .unwrap();
        assert_eq!(result["protocolVersion"], "2025-06-18");
        assert_eq!(result["serverInfo"]["name"], "mcp-image-generator");
        assert_eq!(result["serverInfo"]["version"], "3.0.0");
        assert!(result["capabilities"]["tools"].is_object());
        let unknown = answer_static(
            &request("initialize", Some(json!({"protocolVersion": "2030-01-01"}))),
            version::LATEST,
        )
        .unwrap()
        .unwrap();
        assert_eq!(unknown["protocolVersion"], crate::protocol::version::LATEST);
    }

    #[test]
    fn ping_answers_an_empty_object() {
        assert_eq!(
            answer_static(&request("ping", None), version::LATEST).unwrap().unwrap(),
            json!({})
        );
    }

    #[test]
    fn tools_list_has_every_tool_of_the_table() {
        let result = answer_static(&request("tools/list", None), version::LATEST)
            .unwrap()
            .unwrap();
        assert_eq!(result["tools"].as_array().unwrap().len(), crate::tools::TOOLS.len());
    }

    #[test]
    fn tools_call_without_a_name_is_invalid_params() {
        assert_eq!(call_params(None).unwrap_err().code(), -32602);
        assert_eq!(call_params(Some(&json!({"arguments": {}}))).unwrap_err().code(), -32602);
        assert_eq!(call_params(Some(&json!({"name": 5}))).unwrap_err().code(), -32602);
        assert_eq!(
            call_params(Some(&json!({"name": "x", "arguments": [1]})))
                .unwrap_err()
                .code(),
            -32602
        );
        assert_eq!(
            call_params(Some(&json!({"name": "list_jobs"}))).unwrap().name,
            "list_jobs"
        );
    }

    /// On these shapes `call_params` and `call_head` read and refuse what serde does on a copy of
    /// the params, as `call_params` did before it borrowed them (its name and arguments checks
    /// come first, as they did: an array serde would read as a struct is refused).
    #[test]
    fn call_params_read_what_serde_reads() {
        #[derive(Deserialize)]
        struct BySerde {
            name: String,
            #[serde(default)]
            arguments: Option<Map<String, Value>>,
            #[serde(default, rename = "_meta")]
            meta: Option<RequestMeta>,
        }
        let cases = [
            json!({"name": "list_jobs"}),
            json!({"name": "list_jobs", "arguments": null, "_meta": null}),
            json!({"name": "get_job_status", "arguments": {"job_id": "j", "n": [1, {"a": 2}]}, "extra": 1}),
            json!({"name": "x", "_meta": {"progressToken": 7}}),
            json!({"name": "x", "_meta": {"progressToken": "t", "other": true}}),
            json!({"name": "x", "_meta": ["t"]}),
            json!({"name": "x", "_meta": {}}),
            json!({"name": "x", "_meta": {"progressToken": true}}),
            json!({"name": "x", "_meta": "t"}),
            json!({"name": "x", "_meta": 5}),
            json!({"name": "x", "arguments": [1]}),
            json!({"name": "x", "arguments": "a"}),
            json!({"name": 5}),
            json!({"arguments": {}}),
            json!([]),
            json!("tools/call"),
            json!({"name": "x", "arguments": {}, "_meta": {"progressToken": 1.5}}),
        ];
        for params in cases {
            let by_serde = serde_json::from_value::<BySerde>(params.clone());
            match (call_params(Some(&params)), call_head(Some(&params)), by_serde) {
                (Ok(ours), Ok(head), Ok(theirs)) => {
                    assert_eq!(ours.name, theirs.name, "{params}");
                    assert_eq!(head.name, theirs.name, "{params}");
                    assert_eq!(ours.arguments, theirs.arguments, "{params}");
                    assert_eq!(
                        head.meta.map(|meta| meta.progress_token),
                        theirs.meta.map(|meta| meta.progress_token),
                        "{params}"
                    );
                }
                (Err(ours), Err(head), Err(_)) => {
                    assert_eq!(ours.code(), -32602, "{params}");
                    assert_eq!(head.code(), -32602, "{params}");
                }
                (ours, head, theirs) => panic!(
                    "{params}: call_params {:?}, call_head {:?}, serde {:?}",
                    ours.is_ok(),
                    head.is_ok(),
                    theirs.is_ok()
                ),
            }
        }
    }

    #[test]
    fn methods_needing_bindings_are_not_answered_statically() {
        for method in [
            "tools/call",
            "resources/list",
            "resources/templates/list",
            "resources/read",
            "foo/bar",
        ] {
            assert!(
                answer_static(&request(method, None), version::LATEST).is_none(),
                "{method}"
            );
        }
    }

    #[test]
    fn handshake_requests_take_the_header_revision_if_spoken_else_the_transport_default() {
        let assumed = version::ASSUMED_WITHOUT_HEADER;
        assert_eq!(Era::handshake(Some("2025-06-18"), assumed).revision(), "2025-06-18");
        assert_eq!(Era::handshake(None, assumed).revision(), assumed);
        assert_eq!(Era::handshake(Some("1999-01-01"), assumed).revision(), assumed);
        assert_eq!(Era::handshake(Some("2026-07-28"), assumed).revision(), assumed);
        assert_eq!(Era::Stateless.revision(), "2026-07-28");
    }

    #[test]
    fn unknown_methods_and_tools_are_named_but_never_echoed_whole() {
        assert_eq!(method_not_found("foo/bar").to_string(), "Method not found: foo/bar");
        assert_eq!(unknown_tool("draw").to_string(), "Invalid params: Unknown tool: draw");
        let huge = "m".repeat(1_000_000);
        for error in [method_not_found(&huge), unknown_tool(&huge)] {
            let message = error.to_object().message;
            assert!(message.len() < 300, "{} bytes", message.len());
            assert!(message.contains("(1000000 characters)"), "{message}");
        }
    }

    #[test]
    fn each_call_needs_its_tools_declared_scope() {
        let call = |name: &str| request("tools/call", Some(json!({"name": name})));
        for tool in tools::TOOLS {
            assert_eq!(required_scope(&call(tool.name)), Some(tool.scope), "{}", tool.name);
        }
        assert_eq!(required_scope(&call("generate_image")), Some(tools::Scope::Write));
        assert_eq!(required_scope(&call("list_jobs")), Some(tools::Scope::Read));
        assert_eq!(required_scope(&call("no_such_tool")), None);
        assert_eq!(
            required_scope(&request("resources/read", None)),
            Some(tools::Scope::Read)
        );
        assert_eq!(required_scope(&request("tools/list", None)), None);
        assert_eq!(required_scope(&request("initialize", None)), None);
        let read = Some(tools::Scope::Read);
        let write = Some(tools::Scope::Write);
        for (method, scope) in [
            ("prompts/list", read),
            ("prompts/get", read),
            ("tasks/get", read),
            ("tasks/list", read),
            ("tasks/result", read),
            ("tasks/cancel", write),
            ("tasks/update", write),
        ] {
            assert_eq!(required_scope(&request(method, None)), scope, "{method}");
        }
    }

    #[test]
    fn progress_token_is_read_only_for_tool_calls() {
        let call = request("tools/call", Some(json!({"name": "x", "_meta": {"progressToken": 7}})));
        assert!(progress_token(&call).is_some());
        assert!(progress_token(&request("ping", Some(json!({"_meta": {"progressToken": 7}})))).is_none());
    }
}
