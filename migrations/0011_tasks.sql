-- MCP tasks (2025-11-25's core tasks and the 2026-07-28 extension io.modelcontextprotocol/tasks):
-- a task is the set of jobs one tools/call started, owned by the caller's key. Its status and
-- result are derived from those jobs; `result` holds the CallToolResult of a call that ended
-- before starting any job (bad arguments, over quota), `cancelled_at` when tasks/cancel stopped
-- it. The sweeper deletes a task once `expires_at` (created_at + ttl_ms) has passed.
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  -- 'core' (2025-11-25) or 'extension' (2026-07-28): how its status and result are shown.
  form TEXT NOT NULL CHECK (form IN ('core', 'extension')),
  tool TEXT NOT NULL,
  -- JSON array of the job ids the call started (or waited on, for wait_for_completion).
  job_ids TEXT NOT NULL,
  preview INTEGER NOT NULL DEFAULT 1,
  result TEXT,
  poll_interval_ms INTEGER NOT NULL,
  ttl_ms INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  cancelled_at INTEGER
);
CREATE INDEX IF NOT EXISTS idx_tasks_owner_created_at ON tasks (owner, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_tasks_expires_at ON tasks (expires_at);
