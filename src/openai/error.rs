//! Errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with the status
//! each kind is answered with (https://platform.openai.com/docs/guides/error-codes).

use serde::Serialize;
use serde_json::{json, Value};

use crate::services::ServiceError;
use crate::tools::ToolError;

/// OpenAI's error `type`s this server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    /// The request is wrong (400, 401, 403, 404, 405, 413).
    InvalidRequestError,
    /// The key's daily image quota is used up (429).
    InsufficientQuota,
    /// The per-key request rate limit (429).
    Requests,
    /// Something failed on this side: a job, storage, or a wait past its bound (500, 504).
    ServerError,
}

/// One refusal: the status and the body's fields, plus the headers that go with them.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub kind: ErrorType,
    pub param: Option<String>,
    pub code: Option<&'static str>,
    /// `WWW-Authenticate` of a 401.
    pub challenge: Option<String>,
    /// `Retry-After` seconds of a rate-limited 429.
    pub retry_after: Option<u32>,
}

impl ApiError {
    fn new(status: u16, kind: ErrorType, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
            challenge: None,
            retry_after: None,
        }
    }

    /// A 400 about one request field.
    pub fn invalid(param: &str, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            param: Some(param.to_string()),
            code: Some(code),
            ..Self::new(400, ErrorType::InvalidRequestError, message)
        }
    }

    /// A 400 about the request as a whole.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, ErrorType::InvalidRequestError, message)
    }

    pub fn missing(param: &str) -> Self {
        Self::invalid(
            param,
            "missing_required_parameter",
            format!("Missing required parameter: '{param}'."),
        )
    }

    pub fn not_found(message: impl Into<String>, code: Option<&'static str>) -> Self {
        ApiError {
            code,
            ..Self::new(404, ErrorType::InvalidRequestError, message)
        }
    }

    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            405,
            ErrorType::InvalidRequestError,
            format!(
                "Method {} is not allowed on {}",
                crate::catalog::echo(method),
                crate::catalog::echo(path)
            ),
        )
    }

    /// The caller's credentials do not allow this route.
    pub fn insufficient_scope(needed: &str) -> Self {
        ApiError {
            code: Some("insufficient_scope"),
            ..Self::new(
                403,
                ErrorType::InvalidRequestError,
                format!("This key may not do this: the route needs the {needed} scope"),
            )
        }
    }

    /// A refusal of the checks every route shares (configuration, Origin, bearer token, rate
    /// limit, body size), by its status.
    pub fn refused(status: u16, message: &str, challenge: Option<String>, retry_after: Option<u32>) -> Self {
        let (kind, code) = match status {
            401 => (ErrorType::InvalidRequestError, Some("invalid_api_key")),
            403 => (ErrorType::InvalidRequestError, Some("forbidden")),
            413 => (ErrorType::InvalidRequestError, Some("request_too_large")),
            429 => (ErrorType::Requests, Some("rate_limit_exceeded")),
            400..=499 => (ErrorType::InvalidRequestError, None),
            _ => (ErrorType::ServerError, None),
        };
        ApiError {
            code,
            challenge,
            retry_after,
            ..Self::new(status, kind, message)
        }
    }

    /// A failure on this side, logged by the caller, told in general terms.
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(500, ErrorType::ServerError, message)
    }

    /// Jobs ran and some failed: each job's id and error.
    pub fn jobs_failed(failed: &[(String, Option<String>)], total: usize) -> Self {
        let detail: Vec<String> = failed
            .iter()
            .map(|(id, error)| format!("{id}: {}", error.as_deref().unwrap_or("no error recorded")))
            .collect();
        ApiError {
            code: Some("image_generation_failed"),
            ..Self::server(format!(
                "{} of {total} image(s) failed ({})",
                failed.len(),
                detail.join("; ")
            ))
        }
    }

    /// The wait's bound passed with jobs still running: they go on, counted against the quota.
    pub fn timeout(job_ids: &[String], seconds: u64) -> Self {
        ApiError {
            code: Some("timeout"),
            ..Self::new(
                504,
                ErrorType::ServerError,
                format!(
                    "The image(s) were not ready within {seconds} s. The jobs go on and count toward your quota: \
                     job ids {}. Get them with the MCP tools wait_for_completion or get_job_status, or in the gallery \
                     (/gallery).",
                    job_ids.join(", ")
                ),
            )
        }
    }

    /// The `error` object.
    pub fn body(&self) -> Value {
        json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }

    /// Whether an OpenAI SDK may send the request again (its `x-should-retry` header): only after
    /// the rate limit, which refused the request before it did anything. Any other retry of a
    /// generation would start its images again.
    pub fn should_retry(&self) -> bool {
        self.kind == ErrorType::Requests
    }
}

/// The one conversion from a service's failure: what the caller asked for wrongly is a 400, the
/// quota a 429, the rest a 500 with its message (which names no secret).
impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(message) => ApiError::bad_request(message),
            ServiceError::OverQuota { .. } => ApiError {
                code: Some("insufficient_quota"),
                ..ApiError::new(429, ErrorType::InsufficientQuota, error.to_string())
            },
            error => {
                worker::console_error!("images API: {error}");
                ApiError::server(error.to_string())
            }
        }
    }
}

impl From<ToolError> for ApiError {
    fn from(error: ToolError) -> Self {
        match error {
            ToolError::Service(error) => error.into(),
            ToolError::Args(error) => ApiError::bad_request(error.to_string()),
            error => {
                worker::console_error!("images API: {error}");
                ApiError::server(error.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_openais_four_fields() {
        let error = ApiError::invalid("size", "invalid_value", "bad size");
        assert_eq!(error.status, 400);
        assert_eq!(
            error.body(),
            json!({"error": {"message": "bad size", "type": "invalid_request_error", "param": "size", "code": "invalid_value"}})
        );
        let missing = ApiError::missing("prompt").body();
        assert_eq!(missing["error"]["message"], "Missing required parameter: 'prompt'.");
        assert_eq!(missing["error"]["code"], "missing_required_parameter");
        let plain = ApiError::bad_request("no").body();
        assert!(plain["error"]["param"].is_null() && plain["error"]["code"].is_null());
    }

    #[test]
    fn refusals_keep_their_status_and_take_openais_types_and_codes() {
        let cases = [
            (401, "invalid_request_error", Some("invalid_api_key")),
            (400, "invalid_request_error", None),
            (403, "invalid_request_error", Some("forbidden")),
            (413, "invalid_request_error", Some("request_too_large")),
            (429, "requests", Some("rate_limit_exceeded")),
            (500, "server_error", None),
        ];
        for (status, kind, code) in cases {
            let error = ApiError::refused(status, "why", None, None);
            assert_eq!(error.status, status);
            assert_eq!(error.body()["error"]["type"], kind, "{status}");
            assert_eq!(error.code, code, "{status}");
        }
        assert!(ApiError::refused(429, "slow down", None, Some(60)).should_retry());
        assert!(!ApiError::refused(401, "who", None, None).should_retry());
    }

    #[test]
    fn quota_and_bad_input_from_the_services_are_429_and_400() {
        let quota = ApiError::from(ServiceError::OverQuota {
            key: "alice".into(),
            quota: 2,
            used: 2,
            requested: 1,
            resets_at: "2026-12-04T00:00:00.000Z".into(),
        });
        assert_eq!(
            (quota.status, quota.kind, quota.code),
            (429, ErrorType::InsufficientQuota, Some("insufficient_quota"))
        );
        assert!(
            quota.message.starts_with("daily image quota reached: key \"alice\""),
            "{}",
            quota.message
        );
        assert!(!quota.should_retry(), "a retry would not pass the quota either");
        let invalid = ApiError::from(ServiceError::Invalid(
            "width must be between 256 and 2048 (got 100)".into(),
        ));
        assert_eq!((invalid.status, invalid.kind), (400, ErrorType::InvalidRequestError));
    }

    #[test]
    fn a_timeout_names_every_job_and_is_not_to_be_retried() {
        let error = ApiError::timeout(&["a-1".into(), "b-2".into()], 50);
        assert_eq!((error.status, error.code), (504, Some("timeout")));
        assert!(error.message.contains("job ids a-1, b-2"), "{}", error.message);
        assert!(error.message.contains("within 50 s"), "{}", error.message);
        assert!(!error.should_retry());
        let failed = ApiError::jobs_failed(
            &[("j1".into(), Some("model unavailable".into())), ("j2".into(), None)],
            3,
        );
        assert_eq!(failed.status, 500);
        assert_eq!(
            failed.message,
            "2 of 3 image(s) failed (j1: model unavailable; j2: no error recorded)"
        );
    }
}
