//! What a tool hands back: a JSON object and whether it reports a failure, plus the tool error type.

use serde::Serialize;
use serde_json::Value;

use super::args::ArgError;
use crate::jobs::store::StoreError;
use crate::protocol::mcp::CallToolResult;

/// A tool's answer before it is wrapped for the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    pub object: Value,
    pub is_error: bool,
}

impl ToolOutput {
    pub fn success(body: &impl Serialize) -> Self {
        ToolOutput {
            object: to_object(body),
            is_error: false,
        }
    }

    pub fn failure(body: &impl Serialize) -> Self {
        ToolOutput {
            object: to_object(body),
            is_error: true,
        }
    }

    /// `{success: false, error}`, the original's shape for every plain failure.
    pub fn error_message(error: impl std::fmt::Display) -> Self {
        ToolOutput::failure(&ErrorBody {
            success: false,
            error: error.to_string(),
        })
    }

    pub fn into_result(self) -> CallToolResult {
        CallToolResult::from_object(self.object, self.is_error)
    }
}

fn to_object(body: &impl Serialize) -> Value {
    serde_json::to_value(body)
        .unwrap_or_else(|e| serde_json::json!({"success": false, "error": format!("could not encode the result: {e}")}))
}

#[derive(Serialize)]
struct ErrorBody {
    success: bool,
    error: String,
}

/// Why a tool could not do its work. Each becomes an `isError` result with this message.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(transparent)]
    Args(#[from] ArgError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not queue the image job: {0}")]
    Queue(String),
    #[error("server binding unavailable: {0}")]
    Binding(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_has_the_original_shape() {
        let output = ToolOutput::error_message("Job not found");
        assert!(output.is_error);
        assert_eq!(
            output.object,
            serde_json::json!({"success": false, "error": "Job not found"})
        );
    }
}
