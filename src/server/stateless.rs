//! The 2026-07-28 stateless revision: no initialize, every request carries its version and
//! client capabilities in `_meta`, MCP headers must match the body, results carry `resultType`.
//!
//! Served side by side with the handshake revisions on the same endpoint: a request follows
//! this revision when it carries the per-request version field or the 2026 version header.

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::info::{server_info, INSTRUCTIONS};
use crate::catalog::{echo, RESOURCE_LIST_TTL_MS, RESOURCE_READ_TTL_MS};
use crate::protocol::jsonrpc::{RpcError, RpcRequest};
use crate::protocol::mcp::Implementation;
use crate::protocol::version;

pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// Tool definitions never change while a deployment runs; clients may cache them briefly.
pub const LIST_TTL_MS: u64 = 300_000;

/// The MCP request headers of a stateless-revision POST, borrowed from the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct McpHeaders<'a> {
    pub protocol_version: Option<&'a str>,
    pub method: Option<&'a str>,
    pub name: Option<&'a str>,
}

fn meta(request: &RpcRequest) -> Option<&serde_json::Map<String, Value>> {
    request.params.as_ref()?.get("_meta")?.as_object()
}

/// Whether this request follows the stateless revision rather than a handshake revision.
pub fn is_stateless(request: &RpcRequest, headers: &McpHeaders) -> bool {
    meta(request).is_some_and(|m| m.contains_key(META_PROTOCOL_VERSION))
        || headers.protocol_version.is_some_and(version::is_stateless)
}

/// A rejected stateless-revision request: the HTTP status and the error to answer with.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub status: u16,
    pub error: RpcError,
}

fn reject(status: u16, error: RpcError) -> Rejection {
    Rejection { status, error }
}

/// Checks `_meta`, headers and version, in the order the revision lists its errors.
pub fn validate(request: &RpcRequest, headers: &McpHeaders) -> Result<(), Rejection> {
    let meta = meta(request);
    let version = meta.and_then(|m| m.get(META_PROTOCOL_VERSION)).and_then(Value::as_str);
    let Some(version) = version else {
        return Err(reject(
            400,
            RpcError::InvalidParams(format!("params._meta[\"{META_PROTOCOL_VERSION}\"] is required")),
        ));
    };
    if !meta.is_some_and(|m| m.get(META_CLIENT_CAPABILITIES).is_some_and(Value::is_object)) {
        return Err(reject(
            400,
            RpcError::InvalidParams(format!(
                "params._meta[\"{META_CLIENT_CAPABILITIES}\"] is required (use {{}} for none)"
            )),
        ));
    }
    match headers.protocol_version {
        Some(header) if header == version => {}
        Some(header) => {
            return Err(reject(
                400,
                RpcError::HeaderMismatch(format!(
                    "MCP-Protocol-Version header {:?} does not match _meta {:?}",
                    echo(header),
                    echo(version)
                )),
            ))
        }
        None => {
            return Err(reject(
                400,
                RpcError::HeaderMismatch("MCP-Protocol-Version header is required".into()),
            ))
        }
    }
    match headers.method {
        Some(method) if method == request.method => {}
        Some(method) => {
            return Err(reject(
                400,
                RpcError::HeaderMismatch(format!(
                    "Mcp-Method header {:?} does not match method {:?}",
                    echo(method),
                    echo(&request.method)
                )),
            ))
        }
        None => {
            return Err(reject(
                400,
                RpcError::HeaderMismatch("Mcp-Method header is required".into()),
            ))
        }
    }
    if let Some(field) = named_param(&request.method) {
        let body_name = request
            .params
            .as_ref()
            .and_then(|p| p.get(field))
            .and_then(Value::as_str);
        let header_name = headers.name.map(decode_header_value);
        match (header_name, body_name) {
            (Some(Some(header)), Some(body)) if header == body => {}
            (None, _) => {
                return Err(reject(
                    400,
                    RpcError::HeaderMismatch(format!("Mcp-Name header is required for {}", request.method)),
                ))
            }
            (Some(header), body) => {
                return Err(reject(
                    400,
                    RpcError::HeaderMismatch(format!(
                        "Mcp-Name header {:?} does not match params.{field} {:?}",
                        echo(&header.unwrap_or_default()),
                        echo(body.unwrap_or_default())
                    )),
                ))
            }
        }
    }
    if !version::is_stateless(version) {
        return Err(reject(
            400,
            RpcError::UnsupportedVersion {
                requested: echo(version),
                supported: version::all().collect(),
            },
        ));
    }
    Ok(())
}

/// The params field a method's `Mcp-Name` header mirrors, for the methods that need one.
fn named_param(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        // The tasks extension routes by task id.
        "tasks/get" | "tasks/cancel" | "tasks/update" => Some("taskId"),
        _ => None,
    }
}

/// Header values that are not plain ASCII arrive as `=?base64?<base64 of UTF-8>?=`.
pub fn decode_header_value(value: &str) -> Option<String> {
    match value.strip_prefix("=?base64?").and_then(|rest| rest.strip_suffix("?=")) {
        Some(encoded) => crate::media::base64_decode(encoded).and_then(|bytes| String::from_utf8(bytes).ok()),
        None => Some(value.to_string()),
    }
}

/// The answer to `server/discover`. `supportedVersions` is every revision served here, the same
/// list the UnsupportedProtocolVersion error's `data.supported` gives ([`version::all`]).
pub fn discover_result() -> Value {
    let supported: Vec<&str> = version::all().collect();
    json!({
        "supportedVersions": supported,
        "capabilities": {
            "tools": {},
            "resources": {},
            "prompts": {},
            "extensions": {super::tasks::EXTENSION_ID: {}},
        },
        "instructions": INSTRUCTIONS,
        "ttlMs": LIST_TTL_MS,
        "cacheScope": "public",
    })
}

/// The cache hints (`ttlMs`, `cacheScope`) a method's result carries, for the cacheable methods.
/// Images are user data and the listing will depend on the caller's key (issue 11): "private".
fn cache_hints(method: &str) -> Option<(u64, &'static str)> {
    match method {
        "tools/list" | "resources/templates/list" | "prompts/list" => Some((LIST_TTL_MS, "public")),
        "resources/list" => Some((RESOURCE_LIST_TTL_MS, "private")),
        "resources/read" => Some((RESOURCE_READ_TTL_MS, "private")),
        _ => None,
    }
}

/// Adds what every stateless-revision result carries: `resultType`, server identity, and cache
/// hints on lists and reads.
pub fn complete_result(method: &str, mut result: Value) -> Value {
    if let Value::Object(fields) = &mut result {
        // A tools/call answered with a task says so (`"task"`); everything else is complete.
        fields.entry("resultType").or_insert_with(|| json!("complete"));
        if let Some((ttl_ms, scope)) = cache_hints(method) {
            fields.insert("ttlMs".into(), json!(ttl_ms));
            fields.insert("cacheScope".into(), json!(scope));
        }
        let meta = fields.entry("_meta").or_insert_with(|| json!({}));
        if let Value::Object(meta) = meta {
            meta.insert(
                META_SERVER_INFO.into(),
                serde_json::to_value(server_info(version::STATELESS[0])).unwrap_or(Value::Null),
            );
        }
    }
    result
}

/// [`complete_result`] for a result written as text (a tool's; see `ToolOutput`), without
/// turning it into a tree: the same members after the result's own, written by serde around it.
/// For a result with no `resultType` or `_meta` of its own, which a `CallToolResult` never has.
pub fn complete_text(method: &str, result: &impl Serialize) -> Result<Box<RawValue>, RpcError> {
    #[derive(Serialize)]
    struct Completed<'a, T> {
        #[serde(flatten)]
        result: &'a T,
        #[serde(rename = "resultType")]
        result_type: &'static str,
        #[serde(rename = "ttlMs", skip_serializing_if = "Option::is_none")]
        ttl_ms: Option<u64>,
        #[serde(rename = "cacheScope", skip_serializing_if = "Option::is_none")]
        cache_scope: Option<&'static str>,
        #[serde(rename = "_meta")]
        meta: Meta,
    }
    #[derive(Serialize)]
    struct Meta {
        #[serde(rename = "io.modelcontextprotocol/serverInfo")]
        server_info: Implementation,
    }
    let hints = cache_hints(method);
    serde_json::value::to_raw_value(&Completed {
        result,
        result_type: "complete",
        ttl_ms: hints.map(|(ttl, _)| ttl),
        cache_scope: hints.map(|(_, scope)| scope),
        meta: Meta {
            server_info: server_info(version::STATELESS[0]),
        },
    })
    .map_err(|e| RpcError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_result_completed_as_text_is_the_tree_completed() {
        let mut checked = 0;
        for tool in crate::tools::TOOLS {
            for (name, output) in (tool.samples)() {
                let result = output.into_result();
                for method in ["tools/call", "resources/read", "tools/list"] {
                    let tree = complete_result(method, serde_json::to_value(&result).unwrap());
                    let text = complete_text(method, &result).unwrap();
                    assert_eq!(text.get(), tree.to_string(), "{}: {name}, {method}", tool.name);
                }
                checked += 1;
            }
        }
        assert!(checked >= crate::tools::TOOLS.len());
    }

    use crate::protocol::jsonrpc::RequestId;

    fn request(method: &str, params: Value) -> RpcRequest {
        RpcRequest {
            id: RequestId::Number(1.into()),
            method: method.into(),
            params: Some(params),
        }
    }

    fn stateless_params(extra: Value) -> Value {
        let mut params = json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: {}}});
        if let (Value::Object(p), Value::Object(e)) = (&mut params, extra) {
            p.extend(e);
        }
        params
    }

    fn headers<'a>(version: Option<&'a str>, method: Option<&'a str>, name: Option<&'a str>) -> McpHeaders<'a> {
        McpHeaders {
            protocol_version: version,
            method,
            name,
        }
    }

    #[test]
    fn stateless_requests_are_recognised_by_meta_or_header() {
        let discover = request("server/discover", stateless_params(json!({})));
        assert!(is_stateless(&discover, &McpHeaders::default()));
        let legacy = request("tools/list", json!({}));
        assert!(!is_stateless(&legacy, &headers(Some("2025-06-18"), None, None)));
        assert!(is_stateless(&legacy, &headers(Some("2026-07-28"), None, None)));
    }

    #[test]
    fn a_well_formed_discover_passes() {
        let discover = request("server/discover", stateless_params(json!({})));
        assert_eq!(
            validate(&discover, &headers(Some("2026-07-28"), Some("server/discover"), None)),
            Ok(())
        );
    }

    #[test]
    fn missing_meta_fields_are_invalid_params() {
        let no_caps = request("tools/list", json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28"}}));
        let rejection = validate(&no_caps, &headers(Some("2026-07-28"), Some("tools/list"), None)).unwrap_err();
        assert_eq!((rejection.status, rejection.error.code()), (400, -32602));
    }

    #[test]
    fn header_disagreements_are_header_mismatch() {
        let list = request("tools/list", stateless_params(json!({})));
        for h in [
            headers(None, Some("tools/list"), None),
            headers(Some("2026-07-28"), None, None),
            headers(Some("2026-07-28"), Some("tools/call"), None),
        ] {
            assert_eq!(validate(&list, &h).unwrap_err().error.code(), -32020, "{h:?}");
        }
        let call = request("tools/call", stateless_params(json!({"name": "list_jobs"})));
        let ok = headers(Some("2026-07-28"), Some("tools/call"), Some("list_jobs"));
        assert_eq!(validate(&call, &ok), Ok(()));
        let wrong = headers(Some("2026-07-28"), Some("tools/call"), Some("get_job_status"));
        assert_eq!(validate(&call, &wrong).unwrap_err().error.code(), -32020);
        let missing = headers(Some("2026-07-28"), Some("tools/call"), None);
        assert_eq!(validate(&call, &missing).unwrap_err().error.code(), -32020);
    }

    #[test]
    fn mismatch_and_version_errors_never_echo_long_input_whole() {
        let huge = "h".repeat(1_000_000);
        let mut params = stateless_params(json!({"name": huge.clone()}));
        let call = request("tools/call", params.clone());
        for h in [
            headers(Some(&huge), Some("tools/call"), Some("x")),
            headers(Some("2026-07-28"), Some(&huge), Some("x")),
            headers(Some("2026-07-28"), Some("tools/call"), Some(&"g".repeat(1_000_000))),
            headers(Some("2026-07-28"), Some("tools/call"), Some("list_jobs")),
        ] {
            let rejection = validate(&call, &h).unwrap_err();
            let message = rejection.error.to_object().message;
            assert_eq!(rejection.error.code(), -32020);
            assert!(message.len() < 600, "{} bytes: {}", message.len(), &message[..100]);
        }
        let long_method = request(&huge, stateless_params(json!({})));
        let message = validate(&long_method, &headers(Some("2026-07-28"), Some("tools/list"), None))
            .unwrap_err()
            .error
            .to_string();
        assert!(
            message.len() < 600 && message.contains("(1000000 characters)"),
            "{message:.200}"
        );
        params["_meta"][META_PROTOCOL_VERSION] = json!(huge);
        let discover = request("server/discover", params);
        let rejection = validate(&discover, &headers(Some(&huge), Some("server/discover"), None)).unwrap_err();
        assert_eq!(rejection.error.code(), -32022);
        let object = serde_json::to_string(&rejection.error.to_object()).unwrap();
        assert!(object.len() < 1024, "{} bytes", object.len());
    }

    #[test]
    fn resources_read_needs_mcp_name_matching_the_uri() {
        let uri = "images://jobs/123e4567-e89b-12d3-a456-426614174000";
        let read = request("resources/read", stateless_params(json!({"uri": uri})));
        assert_eq!(
            validate(&read, &headers(Some("2026-07-28"), Some("resources/read"), Some(uri))),
            Ok(())
        );
        for name in [None, Some("images://jobs/other"), Some("=?base64?***?=")] {
            let rejection = validate(&read, &headers(Some("2026-07-28"), Some("resources/read"), name)).unwrap_err();
            assert_eq!((rejection.status, rejection.error.code()), (400, -32020), "{name:?}");
        }
        let list = request("resources/list", stateless_params(json!({})));
        assert_eq!(
            validate(&list, &headers(Some("2026-07-28"), Some("resources/list"), None)),
            Ok(())
        );
    }

    #[test]
    fn resource_results_carry_their_cache_hints() {
        for (method, ttl, scope) in [
            ("resources/list", RESOURCE_LIST_TTL_MS, "private"),
            ("resources/templates/list", LIST_TTL_MS, "public"),
            ("resources/read", RESOURCE_READ_TTL_MS, "private"),
        ] {
            let result = complete_result(method, json!({}));
            assert_eq!(
                (result["ttlMs"].as_u64(), result["cacheScope"].as_str()),
                (Some(ttl), Some(scope))
            );
        }
        assert!(complete_result("server/discover", discover_result())["capabilities"]["resources"].is_object());
    }

    #[test]
    fn encoded_mcp_name_is_decoded_before_comparing() {
        assert_eq!(decode_header_value("=?base64?bGlzdF9qb2Jz?="), Some("list_jobs".into()));
        assert_eq!(decode_header_value("list_jobs"), Some("list_jobs".into()));
        assert_eq!(decode_header_value("=?base64?***?="), None);
    }

    #[test]
    fn unknown_versions_list_what_is_supported() {
        let mut params = stateless_params(json!({}));
        params["_meta"][META_PROTOCOL_VERSION] = json!("2099-01-01");
        let discover = request("server/discover", params);
        let rejection = validate(&discover, &headers(Some("2099-01-01"), Some("server/discover"), None)).unwrap_err();
        assert_eq!((rejection.status, rejection.error.code()), (400, -32022));
        let data = rejection.error.data().unwrap();
        assert_eq!(data["requested"], "2099-01-01");
        assert_eq!(data["supported"][0], "2026-07-28");
    }

    #[test]
    fn results_are_marked_complete_with_server_info_and_list_cache_hints() {
        let listed = complete_result("tools/list", json!({"tools": []}));
        assert_eq!(listed["resultType"], "complete");
        assert_eq!(listed["cacheScope"], "public");
        assert!(listed["ttlMs"].as_u64().is_some());
        assert_eq!(listed["_meta"][META_SERVER_INFO]["name"], "mcp-image-generator");
        let called = complete_result("tools/call", json!({"content": []}));
        assert!(called.get("ttlMs").is_none());
        let discover = complete_result("server/discover", discover_result());
        for field in ["resultType", "supportedVersions", "capabilities", "ttlMs", "cacheScope"] {
            assert!(discover.get(field).is_some(), "server/discover lacks {field}");
        }
    }

    #[test]
    fn discover_and_the_version_error_list_the_same_revisions() {
        let mut params = stateless_params(json!({}));
        params["_meta"][META_PROTOCOL_VERSION] = json!("2099-01-01");
        let rejection = validate(
            &request("server/discover", params),
            &headers(Some("2099-01-01"), Some("server/discover"), None),
        )
        .unwrap_err();
        let listed = discover_result()["supportedVersions"].clone();
        assert_eq!(rejection.error.data().unwrap()["supported"], listed);
        assert_eq!(listed.as_array().unwrap().len(), version::all().count());
    }
}
