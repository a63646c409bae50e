//! The D1 mailbox behind the legacy SSE transport: sessions, and messages waiting for their stream.
//!
//! A POST may be served by a different isolate than the GET stream of its session, so the
//! response is written here and the stream's loop reads and deletes it.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// A session whose stream has not checked in for this long is gone.
pub const SESSION_EXPIRY_MS: i64 = 5 * 60 * 1000;
/// Messages the stream reads per poll.
pub const READ_BATCH: i64 = 50;

/// A message waiting for delivery.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Pending {
    pub seq: i64,
    pub payload: String,
}

#[derive(Debug, thiserror::Error)]
#[error("SSE mailbox error while {action}: {message}")]
pub struct MailboxError {
    pub action: &'static str,
    pub message: String,
}

pub struct Mailbox {
    db: D1Database,
}

fn fail(action: &'static str) -> impl Fn(worker::Error) -> MailboxError {
    move |e| MailboxError {
        action,
        message: e.to_string(),
    }
}

fn num(value: i64) -> JsValue {
    JsValue::from_f64(value as f64)
}

impl Mailbox {
    pub fn new(db: D1Database) -> Self {
        Mailbox { db }
    }

    fn statement(
        &self,
        action: &'static str,
        sql: &str,
        params: &[JsValue],
    ) -> Result<D1PreparedStatement, MailboxError> {
        self.db.prepare(sql).bind(params).map_err(fail(action))
    }

    async fn run(&self, action: &'static str, sql: &str, params: &[JsValue]) -> Result<(), MailboxError> {
        self.statement(action, sql, params)?.run().await.map_err(fail(action))?;
        Ok(())
    }

    pub async fn open_session(&self, id: &str, now: i64) -> Result<(), MailboxError> {
        let sql = "INSERT INTO sse_sessions (id, created_at, last_seen) VALUES (?, ?, ?)";
        self.run("opening a session", sql, &[id.into(), num(now), num(now)])
            .await
    }

    /// Whether the session exists and its stream checked in recently.
    pub async fn session_is_live(&self, id: &str, now: i64) -> Result<bool, MailboxError> {
        let action = "looking up a session";
        #[derive(Deserialize)]
        struct Row {
            last_seen: i64,
        }
        let row: Option<Row> = self
            .statement(action, "SELECT last_seen FROM sse_sessions WHERE id = ?", &[id.into()])?
            .first(None)
            .await
            .map_err(fail(action))?;
        Ok(row.is_some_and(|row| now - row.last_seen < SESSION_EXPIRY_MS))
    }

    pub async fn touch_session(&self, id: &str, now: i64) -> Result<(), MailboxError> {
        let sql = "UPDATE sse_sessions SET last_seen = ? WHERE id = ?";
        self.run("refreshing a session", sql, &[num(now), id.into()]).await
    }

    pub async fn post(&self, session: &str, payload: &str, now: i64) -> Result<(), MailboxError> {
        let sql = "INSERT INTO sse_messages (session_id, payload, created_at) VALUES (?, ?, ?)";
        self.run("queueing a message", sql, &[session.into(), payload.into(), num(now)])
            .await
    }

    /// The oldest messages posted after `after_seq`, in the order they were posted.
    pub async fn pending(&self, session: &str, after_seq: i64) -> Result<Vec<Pending>, MailboxError> {
        let action = "reading messages";
        let sql = "SELECT seq, payload FROM sse_messages WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?";
        let result = self
            .statement(action, sql, &[session.into(), num(after_seq), num(READ_BATCH)])?
            .all()
            .await
            .map_err(fail(action))?;
        result.results::<Pending>().map_err(fail(action))
    }

    /// Removes messages up to `seq` once they are on the stream.
    pub async fn delivered(&self, session: &str, seq: i64) -> Result<(), MailboxError> {
        let sql = "DELETE FROM sse_messages WHERE session_id = ? AND seq <= ?";
        self.run("deleting delivered messages", sql, &[session.into(), num(seq)])
            .await
    }

    /// Drops expired sessions and everything addressed to them, keeping storage bounded.
    pub async fn sweep(&self, now: i64) -> Result<(), MailboxError> {
        let action = "sweeping expired sessions";
        let cutoff = [num(now - SESSION_EXPIRY_MS)];
        let statements = vec![
            self.statement(
                action,
                "DELETE FROM sse_messages WHERE session_id IN (SELECT id FROM sse_sessions WHERE last_seen < ?)",
                &cutoff,
            )?,
            // Messages for sessions that never existed or were swept earlier.
            self.statement(
                action,
                "DELETE FROM sse_messages WHERE created_at < ? AND session_id NOT IN (SELECT id FROM sse_sessions)",
                &cutoff,
            )?,
            self.statement(action, "DELETE FROM sse_sessions WHERE last_seen < ?", &cutoff)?,
        ];
        self.db.batch(statements).await.map_err(fail(action))?;
        Ok(())
    }
}
