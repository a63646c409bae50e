//! Protocol messages: initialize, server/discover, tools/list, JSON-RPC errors and progress
//! notifications, each against the revision it was negotiated at.

use futures::channel::mpsc::unbounded;
use serde_json::{json, Value};

use super::{is_stateless, request, revisions, schema_errors, tools_list_result, validate_against, wire};
use crate::protocol::jsonrpc::{classify, parse_body, RequestId, RpcError, RpcResponse};
use crate::protocol::mcp::ProgressToken;
use crate::protocol::version;
use crate::server::stateless::{self as modern, McpHeaders, META_CLIENT_CAPABILITIES, META_PROTOCOL_VERSION};
use crate::server::{answer_static, call_params};
use crate::tools::ProgressSink;

pub(super) fn handshake_revisions() -> Vec<&'static str> {
    revisions().into_iter().filter(|r| !is_stateless(r)).collect()
}

pub(super) fn stateless_revisions() -> Vec<&'static str> {
    revisions().into_iter().filter(|r| is_stateless(r)).collect()
}

/// The definition of a successful response message in `revision`.
fn result_response_definition(revision: &str) -> &'static str {
    if revision >= "2025-11-25" {
        "JSONRPCResultResponse"
    } else {
        "JSONRPCResponse"
    }
}

/// The definition of an error response message in `revision`.
fn error_response_definition(revision: &str) -> &'static str {
    if revision >= "2025-11-25" {
        "JSONRPCErrorResponse"
    } else {
        "JSONRPCError"
    }
}

/// Ids as clients send them: the schemas allow a string or an integer.
pub(super) fn request_ids() -> [RequestId; 2] {
    [RequestId::Number(7.into()), RequestId::String("req-7".into())]
}

/// Checks a successful response: as the revision's response message, its specific response type
/// if the revision names one, and as a member of the JSONRPCMessage union.
pub(super) fn validate_result_response(revision: &str, specific: Option<&str>, id: RequestId, result: Value) -> Value {
    let response = wire(&RpcResponse::result(id, result));
    validate_against(revision, result_response_definition(revision), &response);
    if let Some(specific) = specific {
        validate_against(revision, specific, &response);
    }
    validate_against(revision, "JSONRPCMessage", &response);
    response
}

/// The `_meta` a stateless request carries.
pub(super) fn stateless_params(revision: &str, extra: Value) -> Value {
    let mut params = json!({"_meta": {META_PROTOCOL_VERSION: revision, META_CLIENT_CAPABILITIES: {}}});
    if let (Value::Object(params), Value::Object(extra)) = (&mut params, extra) {
        params.extend(extra);
    }
    params
}

pub(super) fn stateless_headers<'a>(revision: &'a str, method: &'a str, name: Option<&'a str>) -> McpHeaders<'a> {
    McpHeaders {
        protocol_version: Some(revision),
        method: Some(method),
        name,
    }
}

pub(super) fn request_message(id: i64, method: &str, params: &Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

#[test]
fn initialize_result_conforms_to_each_handshake_revision() {
    // Every handshake revision advertises the prompt templates.
    for revision in handshake_revisions() {
        let initialize = request(1, "initialize", Some(json!({"protocolVersion": revision})));
        let result = answer_static(&initialize, revision).unwrap().unwrap();
        assert_eq!(
            result["capabilities"]["prompts"],
            json!({"listChanged": false}),
            "{revision}"
        );
    }
    for revision in handshake_revisions() {
        let params = json!({
            "protocolVersion": revision,
            "capabilities": {},
            "clientInfo": {"name": "contract-test", "version": "1.0.0"}
        });
        // The request is realistic for the revision, so the answer is the one its clients get.
        validate_against(
            revision,
            "InitializeRequest",
            &request_message(1, "initialize", &params),
        );
        for id in request_ids() {
            let mut initialize = request(1, "initialize", Some(params.clone()));
            initialize.id = id.clone();
            let result = answer_static(&initialize, revision)
                .expect("initialize is answered")
                .expect("initialize succeeds");
            assert_eq!(
                result["protocolVersion"], revision,
                "negotiated at the client's revision"
            );
            validate_against(revision, "InitializeResult", &result);
            validate_result_response(revision, None, id, result);
        }
    }
}

#[test]
fn ping_answers_an_empty_result_in_each_handshake_revision() {
    for revision in handshake_revisions() {
        let result = answer_static(&request(2, "ping", None), revision)
            .expect("ping is answered")
            .expect("ping succeeds");
        validate_against(revision, "EmptyResult", &result);
        validate_result_response(revision, None, RequestId::Number(2.into()), result);
    }
}

#[test]
fn server_discover_result_conforms_to_the_stateless_revision() {
    for revision in stateless_revisions() {
        let params = stateless_params(revision, json!({}));
        validate_against(
            revision,
            "DiscoverRequest",
            &request_message(1, "server/discover", &params),
        );
        let discover = request(1, "server/discover", Some(params));
        assert_eq!(
            modern::validate(&discover, &stateless_headers(revision, "server/discover", None)),
            Ok(())
        );
        let result = modern::complete_result("server/discover", modern::discover_result());
        assert!(
            result["supportedVersions"]
                .as_array()
                .is_some_and(|v| v.contains(&json!(revision))),
            "{result}"
        );
        validate_against(revision, "DiscoverResult", &result);
        for id in request_ids() {
            validate_result_response(revision, Some("DiscoverResultResponse"), id, result.clone());
        }
    }
}

#[test]
fn tools_list_result_conforms_to_every_revision() {
    for revision in revisions() {
        let result = tools_list_result(revision);
        assert_eq!(
            result["tools"].as_array().map(Vec::len),
            Some(crate::tools::TOOLS.len()),
            "{revision}"
        );
        validate_against(revision, "ListToolsResult", &result);
        for tool in result["tools"].as_array().into_iter().flatten() {
            validate_against(revision, "Tool", tool);
        }
        let specific = is_stateless(revision).then_some("ListToolsResultResponse");
        if is_stateless(revision) {
            let params = stateless_params(revision, json!({}));
            validate_against(revision, "ListToolsRequest", &request_message(1, "tools/list", &params));
            assert_eq!(result["resultType"], "complete");
        }
        for id in request_ids() {
            validate_result_response(revision, specific, id, result.clone());
        }
    }
}

/// `prompts/list` (both pages) and `prompts/get` as `revision` answers them: the revision's
/// stateless completion (`resultType`, cache hints on the list) where it has one.
fn prompts_results(revision: &str) -> Vec<(&'static str, Value, Value)> {
    let answer = |method: &'static str, params: Value| {
        let params = if is_stateless(revision) {
            stateless_params(revision, params)
        } else {
            params
        };
        let result = answer_static(&request(3, method, Some(params.clone())), revision)
            .expect("answered without bindings")
            .expect("succeeds");
        let result = if is_stateless(revision) {
            modern::complete_result(method, result)
        } else {
            result
        };
        (method, request_message(3, method, &params), result)
    };
    let first = answer("prompts/list", json!({}));
    let cursor = first.2["nextCursor"].as_str().expect("a second page").to_string();
    vec![
        first,
        answer("prompts/list", json!({"cursor": cursor})),
        answer("prompts/get", json!({"name": "logo", "arguments": {"brand": "Acme"}})),
    ]
}

#[test]
fn prompts_results_conform_to_every_revision() {
    for revision in revisions() {
        for (method, request, result) in prompts_results(revision) {
            let (request_type, result_type, response_type) = match method {
                "prompts/list" => ("ListPromptsRequest", "ListPromptsResult", "ListPromptsResultResponse"),
                _ => ("GetPromptRequest", "GetPromptResult", "GetPromptResultResponse"),
            };
            validate_against(revision, request_type, &request);
            validate_against(revision, result_type, &result);
            for prompt in result["prompts"].as_array().into_iter().flatten() {
                validate_against(revision, "Prompt", prompt);
                assert_eq!(
                    prompt.get("title").is_some(),
                    crate::protocol::version::has_titles(revision),
                    "{revision}"
                );
            }
            if is_stateless(revision) {
                assert_eq!(result["resultType"], "complete");
                assert_eq!(
                    result.get("ttlMs").is_some(),
                    method == "prompts/list",
                    "{revision} {method}"
                );
                let name = request["params"]["name"].as_str();
                let headers = stateless_headers(revision, method, name);
                let parsed = request_from_message(&request);
                assert_eq!(modern::validate(&parsed, &headers), Ok(()), "{method}");
            }
            let specific = is_stateless(revision).then_some(response_type);
            for id in request_ids() {
                validate_result_response(revision, specific, id, result.clone());
            }
        }
    }
}

/// The request a message carries, as the server parses it.
fn request_from_message(message: &Value) -> crate::protocol::jsonrpc::RpcRequest {
    request(
        message["id"].as_i64().unwrap_or_default(),
        message["method"].as_str().unwrap_or_default(),
        message.get("params").cloned(),
    )
}

/// One error of every kind; the match makes a new variant a compile error here until covered.
fn every_error_kind() -> Vec<RpcError> {
    let all = vec![
        RpcError::Parse("expected value at line 1 column 2".into()),
        RpcError::InvalidRequest("\"jsonrpc\" must be \"2.0\"".into()),
        RpcError::MethodNotFound("resources/list".into()),
        RpcError::InvalidParams("tools/call needs params.name (the tool to call)".into()),
        RpcError::Internal("response serialization failed".into()),
        RpcError::Refused("Unauthorized: missing or invalid bearer token".into()),
        RpcError::ResourceNotFound {
            uri: "images://jobs/123e4567-e89b-12d3-a456-426614174000".into(),
            as_invalid_params: false,
        },
        RpcError::ResourceNotFound {
            uri: "images://jobs/123e4567-e89b-12d3-a456-426614174000".into(),
            as_invalid_params: true,
        },
        RpcError::ResourceDeleted {
            uri: "images://jobs/123e4567-e89b-12d3-a456-426614174000".into(),
            as_invalid_params: false,
        },
        RpcError::ResourceDeleted {
            uri: "images://jobs/123e4567-e89b-12d3-a456-426614174000".into(),
            as_invalid_params: true,
        },
        RpcError::HeaderMismatch("Mcp-Method header is required".into()),
        RpcError::UnsupportedVersion {
            requested: "2099-01-01".into(),
            supported: version::all().collect(),
        },
    ];
    for error in &all {
        match error {
            RpcError::Parse(_)
            | RpcError::InvalidRequest(_)
            | RpcError::MethodNotFound(_)
            | RpcError::InvalidParams(_)
            | RpcError::Internal(_)
            | RpcError::Refused(_)
            | RpcError::ResourceNotFound { .. }
            | RpcError::ResourceDeleted { .. }
            | RpcError::HeaderMismatch(_)
            | RpcError::UnsupportedVersion { .. } => {}
        }
    }
    all
}

/// The stateless revision names a definition for most codes: some type the error object, some
/// the whole response.
fn stateless_error_definition(code: i64) -> Option<(&'static str, bool)> {
    match code {
        -32700 => Some(("ParseError", false)),
        -32600 => Some(("InvalidRequestError", false)),
        -32601 => Some(("MethodNotFoundError", false)),
        -32602 => Some(("InvalidParamsError", false)),
        -32603 => Some(("InternalError", false)),
        -32020 => Some(("HeaderMismatchError", true)),
        -32022 => Some(("UnsupportedProtocolVersionError", true)),
        _ => None,
    }
}

pub(super) fn validate_error_response(revision: &str, response: &Value) {
    validate_against(revision, error_response_definition(revision), response);
    validate_against(revision, "JSONRPCMessage", response);
    if is_stateless(revision) {
        let code = response["error"]["code"].as_i64().expect("an error code");
        if let Some((definition, whole_response)) = stateless_error_definition(code) {
            let checked = if whole_response { response } else { &response["error"] };
            validate_against(revision, definition, checked);
        }
    }
}

#[test]
fn every_json_rpc_error_conforms_to_every_revision() {
    for revision in revisions() {
        for error in every_error_kind() {
            for id in request_ids() {
                let response = wire(&RpcResponse::error(Some(id), &error));
                assert_eq!(response["error"]["code"], error.code());
                validate_error_response(revision, &response);
            }
        }
    }
}

#[test]
fn errors_from_the_real_parsing_and_dispatch_paths_conform() {
    let invalid_version =
        classify(json!({"jsonrpc": "1.0", "id": 7, "method": "ping"})).expect_err("jsonrpc 1.0 is refused");
    let bad_initialize = answer_static(
        &request(8, "initialize", Some(json!({"protocolVersion": 5}))),
        crate::protocol::version::LATEST,
    )
    .expect("initialize is answered")
    .expect_err("a numeric protocolVersion is invalid");
    let nameless_call = call_params(Some(&json!({"arguments": {}}))).expect_err("tools/call needs a name");
    let responses = [
        wire(&invalid_version),
        wire(&RpcResponse::error(Some(RequestId::Number(8.into())), &bad_initialize)),
        wire(&RpcResponse::error(Some(RequestId::Number(9.into())), &nameless_call)),
    ];
    for revision in handshake_revisions() {
        for response in &responses {
            validate_error_response(revision, response);
        }
    }
}

#[test]
fn stateless_rejections_conform_to_their_specific_error_definitions() {
    for revision in stateless_revisions() {
        let no_capabilities = request(
            1,
            "tools/list",
            Some(json!({"_meta": {META_PROTOCOL_VERSION: revision}})),
        );
        let list = request(2, "tools/list", Some(stateless_params(revision, json!({}))));
        let call = request(
            3,
            "tools/call",
            Some(stateless_params(revision, json!({"name": "list_jobs"}))),
        );
        let mut future = stateless_params(revision, json!({}));
        future["_meta"][META_PROTOCOL_VERSION] = json!("2099-01-01");
        let future = request(4, "server/discover", Some(future));
        let cases = [
            (no_capabilities, stateless_headers(revision, "tools/list", None), -32602),
            (list, stateless_headers(revision, "tools/call", None), -32020),
            (call, stateless_headers(revision, "tools/call", None), -32020),
            (future, stateless_headers("2099-01-01", "server/discover", None), -32022),
        ];
        for (rejected, headers, code) in cases {
            let rejection = modern::validate(&rejected, &headers).expect_err("the request is rejected");
            assert_eq!(rejection.error.code(), code, "{rejected:?}");
            // As the transport answers a rejected stateless request: with the request's id.
            let response = wire(&RpcResponse::error(Some(rejected.id), &rejection.error));
            validate_error_response(revision, &response);
        }
    }
}

/// JSON-RPC 2.0 (section 5) says an error response whose request id could not be read (a parse
/// error, a refusal before parsing) MUST carry `"id": null`. No MCP schema allows null: up to
/// 2025-06-18 `id` is a required string or integer, from 2025-11-25 it is optional. The server
/// keeps JSON-RPC's null, which SDKs accept. This pins that `id` is the only disagreement, so
/// any other drift in these responses still fails.
#[test]
fn error_responses_without_a_readable_id_differ_from_the_schemas_only_in_their_null_id() {
    let unparsable = match parse_body("{not json") {
        Err(error) => error,
        Ok(body) => panic!("parsed {body:?}"),
    };
    let refused = RpcError::Refused("Forbidden: this Origin is not allowed to call the MCP endpoint".into());
    for revision in revisions() {
        for error in [&unparsable, &refused] {
            let response = wire(&RpcResponse::error(None, error));
            assert_eq!(response["id"], Value::Null);
            let definition = error_response_definition(revision);
            let errors = schema_errors(revision, definition, &response);
            assert!(
                errors.len() == 1 && errors[0].starts_with("at /id: null is not of type"),
                "{revision}: {errors:#?}"
            );
            let mut without_id = response.clone();
            without_id.as_object_mut().expect("an object").remove("id");
            let errors = schema_errors(revision, definition, &without_id);
            if revision >= "2025-11-25" {
                assert!(errors.is_empty(), "{revision}: {errors:#?}");
            } else {
                assert!(
                    errors.len() == 1 && errors[0].starts_with("at (root): \"id\" is a required property"),
                    "{revision}: {errors:#?}"
                );
            }
        }
    }
}

#[test]
fn batch_responses_conform_where_batches_are_allowed() {
    let responses = [
        RpcResponse::result(RequestId::String("a".into()), json!({})),
        RpcResponse::error(Some(RequestId::Number(2.into())), &RpcError::MethodNotFound("x".into())),
    ];
    // Joined as the Streamable HTTP transport writes a batch answer.
    let body = format!(
        "[{}]",
        responses.iter().map(RpcResponse::to_json).collect::<Vec<_>>().join(",")
    );
    let batch: Value = serde_json::from_str(&body).expect("a batch answer is JSON");
    validate_against("2025-03-26", "JSONRPCBatchResponse", &batch);
    validate_against("2025-03-26", "JSONRPCMessage", &batch);
}

#[test]
fn progress_notifications_conform_to_every_revision() {
    for token in [
        ProgressToken::String("progress-1".into()),
        ProgressToken::Number(7.into()),
    ] {
        let (sender, mut receiver) = unbounded();
        ProgressSink::new(token, sender).report(1, 3, "1 of 3 image(s) finished".into());
        let text = receiver.try_recv().expect("a notification was sent");
        let notification: Value = serde_json::from_str(&text).expect("the notification is JSON");
        assert!(notification.get("id").is_none(), "a notification has no id");
        for revision in revisions() {
            validate_against(revision, "ProgressNotification", &notification);
            validate_against(revision, "JSONRPCNotification", &notification);
            validate_against(revision, "JSONRPCMessage", &notification);
        }
    }
}
