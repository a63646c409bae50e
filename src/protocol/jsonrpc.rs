//! JSON-RPC 2.0 messages: parsing what a client sends, and the responses and errors we send back.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::catalog::BATCH_MAX_MESSAGES;

/// A request id: the spec allows a string or a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    Number(serde_json::Number),
    String(String),
}

/// A request: a method call that expects a response.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcRequest {
    pub id: RequestId,
    pub method: String,
    pub params: Option<Value>,
}

/// One message from a client, classified by the fields it carries.
#[derive(Debug, Clone, PartialEq)]
pub enum IncomingMessage {
    Request(RpcRequest),
    /// A method call without an id: never answered.
    Notification {
        method: String,
        params: Option<Value>,
    },
    /// A client's response to a server request (we send none, so these are acknowledged and dropped).
    Response,
}

/// What a POST body contained.
#[derive(Debug, Clone, PartialEq)]
pub enum IncomingBody {
    Single(Result<IncomingMessage, RpcErrorResponse>),
    Batch(Vec<Result<IncomingMessage, RpcErrorResponse>>),
}

/// An error with its JSON-RPC code; the code for each kind is decided here only.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RpcError {
    #[error("Parse error: {0}")]
    Parse(String),
    #[error("Invalid request: {0}")]
    InvalidRequest(String),
    #[error("Method not found: {0}")]
    MethodNotFound(String),
    #[error("Invalid params: {0}")]
    InvalidParams(String),
    #[error("Internal error: {0}")]
    Internal(String),
    /// Refused by the transport before dispatch (auth, Origin, protocol version, session).
    #[error("{0}")]
    Refused(String),
    /// 2026-07-28: an MCP header is missing or disagrees with the body.
    #[error("Header mismatch: {0}")]
    HeaderMismatch(String),
    /// `resources/read` of a URI with nothing behind it; `data` carries the URI (cut to
    /// ECHO_MAX_CHARS by the caller). Up to 2025-11-25 the spec's code is -32002; 2026-07-28
    /// (SEP-2164) made it -32602, Invalid Params.
    #[error("Resource not found: {uri}")]
    ResourceNotFound { uri: String, as_invalid_params: bool },
    /// The resource existed and was deleted on purpose: the not-found code of the revision, with a
    /// message and `data.status` that say so, so a client need not guess at a broken link.
    #[error("Resource deleted: {uri} (its job's image was deleted with delete_image)")]
    ResourceDeleted { uri: String, as_invalid_params: bool },
    /// 2026-07-28: the request names a protocol version this server does not speak.
    #[error("Unsupported protocol version: {requested}")]
    UnsupportedVersion {
        requested: String,
        supported: Vec<&'static str>,
    },
}

impl RpcError {
    pub fn code(&self) -> i64 {
        match self {
            RpcError::Parse(_) => -32700,
            RpcError::InvalidRequest(_) => -32600,
            RpcError::MethodNotFound(_) => -32601,
            RpcError::InvalidParams(_) => -32602,
            RpcError::Internal(_) => -32603,
            RpcError::ResourceNotFound {
                as_invalid_params: true,
                ..
            } => -32602,
            RpcError::ResourceNotFound { .. } => -32002,
            RpcError::ResourceDeleted {
                as_invalid_params: true,
                ..
            } => -32602,
            RpcError::ResourceDeleted { .. } => -32002,
            RpcError::Refused(_) => -32000,
            RpcError::HeaderMismatch(_) => -32020,
            RpcError::UnsupportedVersion { .. } => -32022,
        }
    }

    /// Structured details some errors carry.
    pub fn data(&self) -> Option<Value> {
        match self {
            RpcError::UnsupportedVersion { requested, supported } => {
                Some(serde_json::json!({"supported": supported, "requested": requested}))
            }
            RpcError::ResourceNotFound { uri, .. } => Some(serde_json::json!({"uri": uri})),
            RpcError::ResourceDeleted { uri, .. } => Some(serde_json::json!({"uri": uri, "status": "deleted"})),
            _ => None,
        }
    }

    pub fn to_object(&self) -> ErrorObject {
        ErrorObject {
            code: self.code(),
            message: self.to_string(),
            data: self.data().map(Box::new),
        }
    }
}

/// The `error` member of a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<Value>>,
}

/// A successful response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpcResultResponse {
    pub jsonrpc: &'static str,
    pub id: RequestId,
    pub result: Value,
}

/// An error response; `id` is null when the request's id could not be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpcErrorResponse {
    pub jsonrpc: &'static str,
    pub id: Option<RequestId>,
    pub error: ErrorObject,
}

impl RpcErrorResponse {
    pub fn new(id: Option<RequestId>, error: &RpcError) -> Self {
        RpcErrorResponse {
            jsonrpc: JSONRPC_VERSION,
            id,
            error: error.to_object(),
        }
    }
}

/// A successful response whose result is JSON text already, written as is: an answer cached per
/// isolate (borrowed, see `server::cached_result`) or a tool's result, written once where it was
/// made (owned, see `CallToolResult`).
#[derive(Debug, Clone, Serialize)]
pub struct RpcTextResponse {
    pub jsonrpc: &'static str,
    pub id: RequestId,
    pub result: Cow<'static, RawValue>,
}

impl PartialEq for RpcTextResponse {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.result.get() == other.result.get()
    }
}

/// Either kind of response, as written to the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RpcResponse {
    Result(RpcResultResponse),
    Text(RpcTextResponse),
    Error(RpcErrorResponse),
}

impl RpcResponse {
    pub fn result(id: RequestId, result: Value) -> Self {
        RpcResponse::Result(RpcResultResponse {
            jsonrpc: JSONRPC_VERSION,
            id,
            result,
        })
    }

    /// A result that is JSON text already (cached, or written where it was made).
    pub fn text(id: RequestId, result: Cow<'static, RawValue>) -> Self {
        RpcResponse::Text(RpcTextResponse {
            jsonrpc: JSONRPC_VERSION,
            id,
            result,
        })
    }

    pub fn error(id: Option<RequestId>, error: &RpcError) -> Self {
        RpcResponse::Error(RpcErrorResponse::new(id, error))
    }

    pub fn to_json(&self) -> String {
        // Serializing these plain types cannot fail; fall back to a generic error just in case.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error: response serialization failed"}}"#.to_string()
        })
    }
}

/// A notification we send (e.g. progress).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpcNotification {
    pub jsonrpc: &'static str,
    pub method: &'static str,
    pub params: Value,
}

pub const JSONRPC_VERSION: &str = "2.0";

/// Parses a POST body into one message or a batch, without deciding whether batches are allowed.
pub fn parse_body(body: &str) -> Result<IncomingBody, RpcError> {
    if let Some(message) = plain_message(body) {
        return Ok(IncomingBody::Single(Ok(message)));
    }
    let value: Value = serde_json::from_str(body).map_err(|e| RpcError::Parse(e.to_string()))?;
    match value {
        Value::Array(items) if items.is_empty() => Err(RpcError::InvalidRequest("empty batch".to_string())),
        // Refused whole, before any message runs.
        Value::Array(items) if items.len() > BATCH_MAX_MESSAGES => Err(RpcError::InvalidRequest(format!(
            "a JSON-RPC batch holds at most {BATCH_MAX_MESSAGES} messages (got {})",
            items.len()
        ))),
        Value::Array(items) => Ok(IncomingBody::Batch(items.into_iter().map(classify).collect())),
        other => Ok(IncomingBody::Single(classify(other))),
    }
}

/// The message most bodies hold, read straight into its members instead of into a map first: one
/// object with `"jsonrpc": "2.0"`, a string `method`, a string or number `id` (or none) and object
/// or array `params` (or none). Anything else (a batch, another shape, text that is not JSON) is
/// None, and [`parse_body`] reads it again as a value and [`classify`] words the answer; what this
/// returns is what `classify` would (`fuzz_tests` holds them together). The map `classify` reads,
/// its keys hashed and its members moved out, was about a fifth of `initialize`'s time in a Node
/// loop of the entry call (bench/README.md, twenty-first pass).
fn plain_message(body: &str) -> Option<IncomingMessage> {
    let members: Members = serde_json::from_str(body).ok()?;
    if members.jsonrpc?.as_str() != Some(JSONRPC_VERSION) {
        return None;
    }
    let Some(Value::String(method)) = members.method else {
        return None;
    };
    let params = match members.params {
        None => None,
        Some(params) if params.is_object() || params.is_array() => Some(params),
        Some(_) => return None,
    };
    match members.id {
        None => Some(IncomingMessage::Notification { method, params }),
        Some(Value::String(id)) => Some(IncomingMessage::Request(RpcRequest {
            id: RequestId::String(id),
            method,
            params,
        })),
        Some(Value::Number(id)) => Some(IncomingMessage::Request(RpcRequest {
            id: RequestId::Number(id),
            method,
            params,
        })),
        Some(_) => None,
    }
}

/// The members of a message [`classify`] reads, each as it was written (`null` included). Read
/// from an object only, and every member as a value, the others too: a number out of range must
/// fail this read as it fails reading the body as a value.
#[derive(Default)]
struct Members {
    jsonrpc: Option<Value>,
    id: Option<Value>,
    method: Option<Value>,
    params: Option<Value>,
}

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> serde::de::Visitor<'de> for MembersVisitor {
    type Value = Members;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON-RPC message")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
        let mut members = Members::default();
        while let Some(name) = map.next_key::<MemberName>()? {
            let value: Value = map.next_value()?;
            let slot = match name {
                MemberName::Jsonrpc => &mut members.jsonrpc,
                MemberName::Id => &mut members.id,
                MemberName::Method => &mut members.method,
                MemberName::Params => &mut members.params,
                MemberName::Other => continue,
            };
            // Written twice, the last counts, as in the map a body read as a value makes.
            *slot = Some(value);
        }
        Ok(members)
    }
}

/// A member's name, read without copying it.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum MemberName {
    Jsonrpc,
    Id,
    Method,
    Params,
    #[serde(other)]
    Other,
}

/// Classifies one JSON value as a request, notification or response.
pub fn classify(value: Value) -> Result<IncomingMessage, RpcErrorResponse> {
    let Value::Object(mut fields) = value else {
        return Err(RpcErrorResponse::new(
            None,
            &RpcError::InvalidRequest("a JSON-RPC message must be an object".to_string()),
        ));
    };
    let id = read_id(&fields);
    if fields.get("jsonrpc").and_then(Value::as_str) != Some(JSONRPC_VERSION) {
        return Err(RpcErrorResponse::new(
            id.ok().flatten(),
            &RpcError::InvalidRequest("\"jsonrpc\" must be \"2.0\"".to_string()),
        ));
    }
    let id = match id {
        Ok(id) => id,
        Err(error) => return Err(RpcErrorResponse::new(None, &error)),
    };
    let params = fields.remove("params");
    if let Some(params) = &params {
        if !params.is_object() && !params.is_array() {
            return Err(RpcErrorResponse::new(
                id,
                &RpcError::InvalidRequest("\"params\" must be an object or an array".to_string()),
            ));
        }
    }
    match (fields.remove("method"), id) {
        (Some(Value::String(method)), Some(id)) => Ok(IncomingMessage::Request(RpcRequest { id, method, params })),
        (Some(Value::String(method)), None) => Ok(IncomingMessage::Notification { method, params }),
        (Some(_), id) => Err(RpcErrorResponse::new(
            id,
            &RpcError::InvalidRequest("\"method\" must be a string".to_string()),
        )),
        (None, Some(_)) if fields.contains_key("result") || fields.contains_key("error") => {
            Ok(IncomingMessage::Response)
        }
        (None, id) => Err(RpcErrorResponse::new(
            id,
            &RpcError::InvalidRequest("missing \"method\"".to_string()),
        )),
    }
}

/// Reads `id`: absent → Ok(None); a string or number → Ok(Some); anything else is invalid.
fn read_id(fields: &Map<String, Value>) -> Result<Option<RequestId>, RpcError> {
    match fields.get("id") {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(RequestId::String(s.clone()))),
        Some(Value::Number(n)) => Ok(Some(RequestId::Number(n.clone()))),
        Some(_) => Err(RpcError::InvalidRequest(
            "\"id\" must be a string or a number".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn single(body: &str) -> Result<IncomingMessage, RpcErrorResponse> {
        match parse_body(body) {
            Ok(IncomingBody::Single(message)) => message,
            other => panic!("expected a single message, got {other:?}"),
        }
    }

    #[test]
    fn body_that_is_not_json_is_a_parse_error() {
        let error = parse_body("{not json").unwrap_err();
        assert_eq!(error.code(), -32700);
    }

    #[test]
    fn request_notification_and_response_are_told_apart() {
        assert!(matches!(
            single(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Ok(IncomingMessage::Request(RpcRequest { ref method, .. })) if method == "ping"
        ));
        assert!(matches!(
            single(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Ok(IncomingMessage::Notification { .. })
        ));
        assert_eq!(
            single(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#),
            Ok(IncomingMessage::Response)
        );
    }

    #[test]
    fn wrong_or_missing_jsonrpc_version_is_invalid_request_keeping_the_id() {
        let error = single(r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#).unwrap_err();
        assert_eq!(error.error.code, -32600);
        assert_eq!(error.id, Some(RequestId::Number(7.into())));
        let error = single(r#"{"id":"x","method":"ping"}"#).unwrap_err();
        assert_eq!(error.error.code, -32600);
    }

    #[test]
    fn non_object_message_and_bad_id_are_invalid_with_null_id() {
        let error = single("42").unwrap_err();
        assert_eq!((error.error.code, error.id), (-32600, None));
        let error = single(r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#).unwrap_err();
        assert_eq!((error.error.code, error.id), (-32600, None));
    }

    #[test]
    fn batches_are_split_and_empty_batch_is_invalid() {
        let body = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"}]"#;
        match parse_body(body).unwrap() {
            IncomingBody::Batch(items) => assert_eq!(items.len(), 2),
            other => panic!("expected a batch, got {other:?}"),
        }
        assert_eq!(parse_body("[]").unwrap_err().code(), -32600);
    }

    fn batch_of(n: usize) -> String {
        let items: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/list"}}"#))
            .collect();
        format!("[{}]", items.join(","))
    }

    #[test]
    fn a_batch_over_the_limit_is_refused_whole() {
        match parse_body(&batch_of(BATCH_MAX_MESSAGES)).unwrap() {
            IncomingBody::Batch(items) => assert_eq!(items.len(), BATCH_MAX_MESSAGES),
            other => panic!("expected a batch, got {other:?}"),
        }
        for n in [BATCH_MAX_MESSAGES + 1, 1_000] {
            let error = parse_body(&batch_of(n)).unwrap_err();
            assert_eq!(error.code(), -32600);
            assert_eq!(
                error.to_string(),
                format!("Invalid request: a JSON-RPC batch holds at most 32 messages (got {n})")
            );
        }
    }

    #[test]
    fn responses_serialize_with_null_id_when_unknown() {
        let text = RpcResponse::error(None, &RpcError::Parse("x".into())).to_json();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["id"], Value::Null);
        assert_eq!(value["error"]["code"], json!(-32700));
        let text = RpcResponse::result(RequestId::String("r".into()), json!({})).to_json();
        assert_eq!(text, r#"{"jsonrpc":"2.0","id":"r","result":{}}"#);
    }

    #[test]
    fn resource_not_found_carries_the_uri_and_the_code_of_its_revision() {
        let legacy = RpcError::ResourceNotFound {
            uri: "images://jobs/x".into(),
            as_invalid_params: false,
        };
        let object = legacy.to_object();
        assert_eq!(
            (object.code, object.message.as_str()),
            (-32002, "Resource not found: images://jobs/x")
        );
        assert_eq!(object.data.as_deref(), Some(&json!({"uri": "images://jobs/x"})));
        let modern = RpcError::ResourceNotFound {
            uri: "images://jobs/x".into(),
            as_invalid_params: true,
        };
        assert_eq!(modern.code(), -32602);
        assert_eq!(modern.data(), legacy.data());
    }

    #[test]
    fn a_deleted_resource_says_so_with_the_not_found_code_of_its_revision() {
        let legacy = RpcError::ResourceDeleted {
            uri: "images://jobs/x".into(),
            as_invalid_params: false,
        };
        let object = legacy.to_object();
        assert_eq!(object.code, -32002);
        assert!(
            object.message.starts_with("Resource deleted: images://jobs/x"),
            "{}",
            object.message
        );
        assert_eq!(
            object.data.as_deref(),
            Some(&json!({"uri": "images://jobs/x", "status": "deleted"}))
        );
        let modern = RpcError::ResourceDeleted {
            uri: "images://jobs/x".into(),
            as_invalid_params: true,
        };
        assert_eq!(modern.code(), -32602);
    }

    #[test]
    fn method_not_found_message_names_the_method() {
        assert_eq!(
            RpcError::MethodNotFound("foo/bar".into()).to_string(),
            "Method not found: foo/bar"
        );
    }
}
