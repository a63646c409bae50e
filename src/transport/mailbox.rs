//! The D1 mailbox behind the legacy SSE transport: sessions, and messages waiting for their stream.
//!
//! A POST may be served by a different isolate than the GET stream of its session, so the
//! response is written here and the stream's loop reads and deletes it.
//!
//! D1 refuses a string or row over 2 MB (https://developers.cloudflare.com/d1/platform/limits/),
//! and a `resources/read` of a multi-MB image is larger than that as JSON. Such a message is
//! stored in pieces of at most [`PIECE_MAX_BYTES`], all in one batch (one transaction, so their
//! seqs are consecutive and no other message falls between them), and the stream writes them
//! one after another as one SSE event. A read takes at most about [`READ_MAX_BYTES`] of
//! payload, so a stream never holds a whole multi-MB answer at once.

use serde::Deserialize;
use worker::D1Database;

use crate::d1::{Db, DbResult, SqlValue, Statement};

/// A session whose stream has not checked in for this long is gone.
pub const SESSION_EXPIRY_MS: i64 = 5 * 60 * 1000;
/// Messages the stream reads per poll.
pub const READ_BATCH: i64 = 50;
/// Largest piece of a message one row holds: half of D1's 2,000,000-byte limit, which leaves
/// room for the row's other columns and stays clear of the limit whatever D1 counts.
pub const PIECE_MAX_BYTES: usize = 1_000_000;
/// Payload bytes one poll reads beyond its first row (which is read whatever its size).
pub const READ_MAX_BYTES: i64 = 2 * PIECE_MAX_BYTES as i64;

/// A message waiting for delivery, or one piece of it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Pending {
    pub seq: i64,
    pub payload: String,
    /// Which piece of its message this row is (0 for a message in one row).
    #[serde(default)]
    pub piece: i64,
    /// How many pieces its message has (1 for a message in one row).
    #[serde(default = "one")]
    pub pieces: i64,
}

fn one() -> i64 {
    1
}

impl Pending {
    pub fn starts_message(&self) -> bool {
        self.piece == 0
    }

    pub fn ends_message(&self) -> bool {
        self.piece + 1 >= self.pieces
    }
}

/// `payload` cut into pieces of at most `max` bytes (or one character, if that is longer), each
/// ending on a character boundary.
pub fn split_pieces(payload: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::with_capacity(payload.len() / max.max(1) + 1);
    let mut rest = payload;
    while rest.len() > max {
        let mut end = max;
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if end == 0 {
            // `max` is smaller than the first character: that character alone.
            end = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (piece, tail) = rest.split_at(end);
        pieces.push(piece);
        rest = tail;
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(rest);
    }
    pieces
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

    /// Queues `payload` for the session's stream: one row, or (over [`PIECE_MAX_BYTES`]) one
    /// batch of pieces.
    pub async fn post(&self, session: &str, payload: &str, now: i64) -> DbResult<()> {
        let mut statements = post_statements(session, payload, now);
        if statements.len() == 1 {
            let only = statements.remove(0);
            return self.db.run(only, "queueing an SSE message").await;
        }
        self.db
            .batch(statements, "queueing a large SSE message in pieces")
            .await
    }

    /// The oldest messages (or pieces) posted after `after_seq`, in the order they were posted:
    /// up to READ_BATCH rows, and no more rows once READ_MAX_BYTES of payload are read.
    pub async fn pending(&self, session: &str, after_seq: i64) -> DbResult<Vec<Pending>> {
        self.db
            .rows(pending_statement(session, after_seq), "reading SSE messages")
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

/// The inserts that queue `payload`: one row, or its pieces numbered in order.
fn post_statements(session: &str, payload: &str, now: i64) -> Vec<Statement> {
    let pieces = split_pieces(payload, PIECE_MAX_BYTES);
    let count = pieces.len() as i64;
    pieces
        .into_iter()
        .enumerate()
        .map(|(index, piece)| {
            statement(
                "INSERT INTO sse_messages (session_id, payload, created_at, piece, pieces) VALUES (?, ?, ?, ?, ?)",
                vec![
                    session.into(),
                    piece.into(),
                    now.into(),
                    (index as i64).into(),
                    count.into(),
                ],
            )
        })
        .collect()
}

/// Up to READ_BATCH rows after `after_seq`, stopping before a row that would start past
/// READ_MAX_BYTES of payload (bytes counted as UTF-8, the first row always included).
fn pending_statement(session: &str, after_seq: i64) -> Statement {
    statement(
        "SELECT seq, payload, piece, pieces FROM (SELECT seq, payload, piece, pieces, \
         SUM(length(CAST(payload AS BLOB))) OVER (ORDER BY seq) - length(CAST(payload AS BLOB)) AS before \
         FROM sse_messages WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?) \
         WHERE before < ? ORDER BY seq",
        vec![
            session.into(),
            after_seq.into(),
            READ_BATCH.into(),
            READ_MAX_BYTES.into(),
        ],
    )
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
    fn pieces_end_on_character_boundaries_and_join_back() {
        let text = format!("{}{}", "a".repeat(5), "é".repeat(10));
        for max in [1, 2, 3, 4, 7, 100] {
            let pieces = split_pieces(&text, max);
            assert_eq!(pieces.concat(), text, "{max}");
            assert!(pieces.iter().all(|p| p.len() <= max.max(2)), "{max}: {pieces:?}");
            assert!(pieces.iter().all(|p| !p.is_empty()), "{max}");
        }
        assert_eq!(split_pieces("", 10), [""], "an empty message is one empty row");
        assert_eq!(split_pieces(&"x".repeat(PIECE_MAX_BYTES), PIECE_MAX_BYTES).len(), 1);
        assert_eq!(split_pieces(&"x".repeat(PIECE_MAX_BYTES + 1), PIECE_MAX_BYTES).len(), 2);
    }

    fn run(db: &Connection, statement: &Statement) {
        db.execute(
            &statement.sql,
            rusqlite::params_from_iter(crate::jobs::sql::sqlite_tests::values(statement)),
        )
        .unwrap();
    }

    fn read(db: &Connection, session: &str, after: i64) -> Vec<(i64, usize, i64, i64)> {
        let statement = pending_statement(session, after);
        let mut prepared = db.prepare(&statement.sql).unwrap();
        prepared
            .query_map(
                rusqlite::params_from_iter(crate::jobs::sql::sqlite_tests::values(&statement)),
                |r| {
                    let payload: String = r.get(1)?;
                    Ok((r.get(0)?, payload.len(), r.get(2)?, r.get(3)?))
                },
            )
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn a_large_message_is_stored_in_pieces_no_row_over_the_limit_and_read_back_in_order() {
        let db = database();
        run(&db, &post_statements("s", "{\"small\":1}", 1)[0]);
        let large = format!("{{\"blob\":\"{}\"}}", "A".repeat(5 * PIECE_MAX_BYTES / 2));
        let statements = post_statements("s", &large, 2);
        assert_eq!(statements.len(), 3);
        for statement in &statements {
            run(&db, statement);
        }
        run(&db, &post_statements("s", "{\"after\":1}", 3)[0]);
        let longest: i64 = db
            .query_row("SELECT MAX(length(CAST(payload AS BLOB))) FROM sse_messages", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(longest as usize <= PIECE_MAX_BYTES, "{longest}");
        // A read stops once READ_MAX_BYTES are read: the small message and two pieces.
        let first = read(&db, "s", 0);
        let shape: Vec<(i64, i64)> = first.iter().map(|r| (r.2, r.3)).collect();
        assert_eq!(shape, [(0, 1), (0, 3), (1, 3)]);
        let second = read(&db, "s", first.last().unwrap().0);
        let shape: Vec<(i64, i64)> = second.iter().map(|r| (r.2, r.3)).collect();
        assert_eq!(shape, [(2, 3), (0, 1)], "the last piece, then the next message");
        let total: usize = first[1..].iter().chain(&second[..1]).map(|r| r.1).sum();
        assert_eq!(total, large.len(), "the pieces add up to the message");
        // A row read alone is read whatever its size; other sessions' rows never.
        assert!(read(&db, "other", 0).is_empty());
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
