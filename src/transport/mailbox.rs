//! The D1 mailbox behind the legacy SSE transport: sessions, and messages waiting for their stream.
//!
//! A POST may be served by a different isolate than the GET stream of its session, so the
//! response is written here and the stream's loop reads and deletes it.

use serde::Deserialize;
use worker::D1Database;

use crate::d1::{Db, DbResult, SqlValue, Statement};

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

pub struct Mailbox {
    db: Db,
}

fn statement(sql: &str, params: Vec<SqlValue>) -> Statement {
    Statement::new(sql, params)
}

impl Mailbox {
    pub fn new(db: D1Database) -> Self {
        Mailbox { db: Db::new(db) }
    }

    pub async fn open_session(&self, id: &str, now: i64) -> DbResult<()> {
        let sql = "INSERT INTO sse_sessions (id, created_at, last_seen) VALUES (?, ?, ?)";
        self.db
            .run(
                statement(sql, vec![id.into(), now.into(), now.into()]),
                "opening an SSE session",
            )
            .await
    }

    /// Whether the session exists and its stream checked in recently.
    pub async fn session_is_live(&self, id: &str, now: i64) -> DbResult<bool> {
        #[derive(Deserialize)]
        struct Row {
            last_seen: i64,
        }
        let rows: Vec<Row> = self
            .db
            .rows(
                statement("SELECT last_seen FROM sse_sessions WHERE id = ?", vec![id.into()]),
                "looking up an SSE session",
            )
            .await?;
        Ok(rows.first().is_some_and(|row| now - row.last_seen < SESSION_EXPIRY_MS))
    }

    pub async fn touch_session(&self, id: &str, now: i64) -> DbResult<()> {
        let sql = "UPDATE sse_sessions SET last_seen = ? WHERE id = ?";
        self.db
            .run(statement(sql, vec![now.into(), id.into()]), "refreshing an SSE session")
            .await
    }

    pub async fn post(&self, session: &str, payload: &str, now: i64) -> DbResult<()> {
        let sql = "INSERT INTO sse_messages (session_id, payload, created_at) VALUES (?, ?, ?)";
        self.db
            .run(
                statement(sql, vec![session.into(), payload.into(), now.into()]),
                "queueing an SSE message",
            )
            .await
    }

    /// The oldest messages posted after `after_seq`, in the order they were posted.
    pub async fn pending(&self, session: &str, after_seq: i64) -> DbResult<Vec<Pending>> {
        let sql = "SELECT seq, payload FROM sse_messages WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?";
        self.db
            .rows(
                statement(sql, vec![session.into(), after_seq.into(), READ_BATCH.into()]),
                "reading SSE messages",
            )
            .await
    }

    /// Removes messages up to `seq` once they are on the stream.
    pub async fn delivered(&self, session: &str, seq: i64) -> DbResult<()> {
        let sql = "DELETE FROM sse_messages WHERE session_id = ? AND seq <= ?";
        self.db
            .run(
                statement(sql, vec![session.into(), seq.into()]),
                "deleting delivered SSE messages",
            )
            .await
    }

    /// Drops expired sessions and everything addressed to them, keeping storage bounded.
    pub async fn sweep(&self, now: i64) -> DbResult<()> {
        let cutoff = now - SESSION_EXPIRY_MS;
        let statements = vec![
            statement(
                "DELETE FROM sse_messages WHERE session_id IN (SELECT id FROM sse_sessions WHERE last_seen < ?)",
                vec![cutoff.into()],
            ),
            // Messages for sessions that never existed or were swept earlier.
            statement(
                "DELETE FROM sse_messages WHERE created_at < ? AND session_id NOT IN (SELECT id FROM sse_sessions)",
                vec![cutoff.into()],
            ),
            statement("DELETE FROM sse_sessions WHERE last_seen < ?", vec![cutoff.into()]),
        ];
        self.db.batch(statements, "sweeping expired SSE sessions").await
    }
}
