//! Progress notifications for long tool calls, sent while the response is still being prepared.

use futures::channel::mpsc::UnboundedSender;
use serde_json::json;

use crate::protocol::jsonrpc::{RpcNotification, JSONRPC_VERSION};
use crate::protocol::mcp::{ProgressParams, ProgressToken};

/// Sends notifications for one request to whatever stream carries its response:
/// `notifications/progress` when the request gave a progress token, and any other (a task's
/// status) through [`ProgressSink::notify`].
#[derive(Debug, Clone)]
pub struct ProgressSink {
    token: Option<ProgressToken>,
    sender: UnboundedSender<String>,
}

impl ProgressSink {
    pub fn new(token: ProgressToken, sender: UnboundedSender<String>) -> Self {
        ProgressSink {
            token: Some(token),
            sender,
        }
    }

    /// A sink for a request that gave no progress token: only [`ProgressSink::notify`] sends.
    pub fn without_token(sender: UnboundedSender<String>) -> Self {
        ProgressSink { token: None, sender }
    }

    /// Sends the notification `method` with `params`.
    pub fn notify(&self, method: &'static str, params: serde_json::Value) {
        let notification = RpcNotification {
            jsonrpc: JSONRPC_VERSION,
            method,
            params,
        };
        if let Ok(text) = serde_json::to_string(&notification) {
            let _ = self.sender.unbounded_send(text);
        }
    }

    pub fn report(&self, progress: usize, total: usize, message: String) {
        let Some(token) = &self.token else {
            return;
        };
        let params = ProgressParams {
            progress_token: token.clone(),
            progress: progress as u64,
            total: total as u64,
            message,
        };
        let notification = RpcNotification {
            jsonrpc: JSONRPC_VERSION,
            method: "notifications/progress",
            params: serde_json::to_value(params).unwrap_or_else(|_| json!({})),
        };
        if let Ok(text) = serde_json::to_string(&notification) {
            // The receiver is gone only if the client went away; nothing to do then.
            let _ = self.sender.unbounded_send(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::mpsc::unbounded;

    #[test]
    fn report_sends_a_progress_notification_with_the_token() {
        let (sender, mut receiver) = unbounded();
        ProgressSink::new(ProgressToken::String("t1".into()), sender).report(1, 3, "1 of 3".into());
        let text = receiver.try_recv().unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["method"], "notifications/progress");
        assert_eq!(value["params"]["progressToken"], "t1");
        assert_eq!(
            (value["params"]["progress"].as_f64(), value["params"]["total"].as_f64()),
            (Some(1.0), Some(3.0))
        );
        assert!(value.get("id").is_none());
    }
}
