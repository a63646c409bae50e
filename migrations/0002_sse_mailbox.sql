-- Legacy HTTP+SSE transport. The GET /sse stream and the POST that carries a
-- request can land on different isolates, so responses travel through D1.
CREATE TABLE IF NOT EXISTS sse_sessions (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  -- Refreshed by the open stream; sessions not seen for a while are expired.
  last_seen INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_sse_sessions_last_seen ON sse_sessions (last_seen);

CREATE TABLE IF NOT EXISTS sse_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_sse_messages_session ON sse_messages (session_id, seq);
