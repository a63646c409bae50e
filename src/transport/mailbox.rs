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

    /// Records a new session owned by `owner` ([`crate::access::Caller::session_owner`]).
    pub async fn open_session(&self, id: &str, owner: &str, now: i64) -> DbResult<()> {
        let sql = "INSERT INTO sse_sessions (id, created_at, last_seen, owner) VALUES (?, ?, ?, ?)";
        self.db
            .run(
                statement(sql, vec![id.into(), now.into(), now.into(), owner.into()]),
                "opening an SSE session",
            )
            .await
    }

    /// Whether the session exists, belongs to `owner` and its stream checked in recently. A
    /// session of another owner, or of none (opened before owners were recorded), answers
    /// false exactly like an unknown one, so a caller cannot learn that it exists.
    pub async fn session_is_live_for(&self, id: &str, owner: &str, now: i64) -> DbResult<bool> {
        #[derive(Deserialize)]
        struct Row {
            last_seen: i64,
        }
        let rows: Vec<Row> = self
            .db
            .rows(owned_session_statement(id, owner), "looking up an SSE session")
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

    /// Drops up to `limit` messages not addressed to a live session, then up to `limit` expired
    /// sessions, keeping storage bounded; returns how many of each. Messages go first, by a
    /// rule that also catches those of sessions deleted earlier, so none is stranded.
    pub async fn sweep(&self, now: i64, limit: i64) -> DbResult<SweptMailbox> {
        let (messages, sessions) = sweep_statements(now, limit);
        let messages: Vec<Pending> = self.db.rows(messages, "sweeping undelivered SSE messages").await?;
        let sessions: Vec<Pending> = self.db.rows(sessions, "sweeping expired SSE sessions").await?;
        Ok(SweptMailbox {
            messages: messages.len(),
            sessions: sessions.len(),
        })
    }
}

/// The session `id` if `owner` opened it: owners compare as exact text in SQL, and a NULL
/// owner equals nothing.
fn owned_session_statement(id: &str, owner: &str) -> Statement {
    statement(
        "SELECT last_seen FROM sse_sessions WHERE id = ? AND owner = ?",
        vec![id.into(), owner.into()],
    )
}

/// What one mailbox sweep deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweptMailbox {
    pub sessions: usize,
    pub messages: usize,
}

/// The mailbox sweep: messages whose session is not live, then sessions not seen for
/// SESSION_EXPIRY_MS; each bounded by `limit` and reporting what it deleted in the shape of
/// [`Pending`] (no payloads: only counted), so no other row decoder is compiled into the Wasm.
fn sweep_statements(now: i64, limit: i64) -> (Statement, Statement) {
    let cutoff = now - SESSION_EXPIRY_MS;
    (
        statement(
            "DELETE FROM sse_messages WHERE seq IN (SELECT seq FROM sse_messages WHERE session_id NOT IN \
             (SELECT id FROM sse_sessions WHERE last_seen >= ?) ORDER BY seq LIMIT ?) RETURNING seq, '' AS payload",
            vec![cutoff.into(), limit.into()],
        ),
        statement(
            "DELETE FROM sse_sessions WHERE id IN (SELECT id FROM sse_sessions WHERE last_seen < ? \
             ORDER BY last_seen LIMIT ?) AND last_seen < ? RETURNING last_seen AS seq, id AS payload",
            vec![cutoff.into(), limit.into(), cutoff.into()],
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn database() -> Connection {
        let db = Connection::open_in_memory().unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            db.execute_batch(&std::fs::read_to_string(file).unwrap()).unwrap();
        }
        db
    }

    /// How many rows `statement` returns (or deletes, with RETURNING).
    fn rows(db: &Connection, statement: &Statement) -> usize {
        let mut prepared = db.prepare(&statement.sql).unwrap();
        let rows = prepared
            .query_map(
                rusqlite::params_from_iter(crate::jobs::sql::sqlite_tests::values(statement)),
                |_| Ok(()),
            )
            .unwrap();
        rows.count()
    }

    fn count(db: &Connection, sql: &str) -> i64 {
        db.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn the_sweep_deletes_what_expired_and_keeps_live_sessions_bounded_and_idempotent() {
        let db = database();
        let now = 10 * SESSION_EXPIRY_MS;
        db.execute_batch(&format!(
            "INSERT INTO sse_sessions (id, created_at, last_seen) VALUES ('live', 0, {live}), ('gone', 0, {gone}), ('gone2', 0, {gone});
             INSERT INTO sse_messages (session_id, payload, created_at) VALUES
               ('live', 'a', 1), ('gone', 'b', 1), ('gone', 'c', 1), ('never', 'd', 1), ('gone2', 'e', 1);",
            live = now - 1000,
            gone = now - SESSION_EXPIRY_MS - 1
        ))
        .unwrap();
        let (messages, sessions) = sweep_statements(now, 3);
        assert_eq!(rows(&db, &messages), 3, "bounded by the limit");
        assert_eq!(rows(&db, &sessions), 2);
        let (messages, sessions) = sweep_statements(now, 3);
        assert_eq!(
            rows(&db, &messages),
            1,
            "the rest, including messages of deleted sessions"
        );
        assert_eq!(rows(&db, &sessions), 0);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM sse_sessions"), 1);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM sse_messages WHERE session_id = 'live'"),
            1
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM sse_messages"), 1);
    }

    #[test]
    fn a_session_is_found_only_by_its_owner() {
        let db = database();
        db.execute_batch(
            "INSERT INTO sse_sessions (id, created_at, last_seen, owner) VALUES
               ('alices', 0, 0, 'key:alice'), ('admins', 0, 0, 'admin');
             INSERT INTO sse_sessions (id, created_at, last_seen) VALUES ('old', 0, 0);",
        )
        .unwrap();
        assert_eq!(rows(&db, &owned_session_statement("alices", "key:alice")), 1);
        assert_eq!(rows(&db, &owned_session_statement("admins", "admin")), 1);
        for (id, owner) in [
            ("alices", "key:bob"),
            ("alices", "admin"),
            ("alices", "alice"),
            ("alices", "KEY:ALICE"),
            ("admins", "key:admin"),
            ("nobody", "key:alice"),
            ("old", "admin"),
            ("old", ""),
        ] {
            assert_eq!(rows(&db, &owned_session_statement(id, owner)), 0, "{id} {owner}");
        }
    }
}
