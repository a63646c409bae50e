-- Two more job statuses: 'cancelled' (cancel_job, tasks/cancel, the gallery's Cancel) and
-- 'deleted' (delete_image, the gallery's Delete: the row stays as a tombstone).
--
-- 0003's CHECK on generation_jobs.status named only the four original statuses, and SQLite
-- cannot alter a CHECK, so both tables are rebuilt as 0003 did (child first, so the parent can be
-- dropped without tripping D1's foreign keys), keeping every column, row and index.
CREATE TABLE generation_jobs_v8 (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled', 'deleted')),
  prompt TEXT NOT NULL,
  model TEXT NOT NULL,
  image_url TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  -- The seed sent to the model (chosen by the server when the call gave none), if the model takes one.
  seed INTEGER,
  -- The image size: as requested, then the real size of the stored image once completed.
  width INTEGER,
  height INTEGER,
  -- JSON object: every parameter sent to the model besides the prompt, in the model's input names.
  parameters TEXT,
  -- 0004: the stored thumbnail URL (NULL when none was made) and the full image's size in bytes.
  thumbnail_url TEXT,
  image_size INTEGER,
  -- 0005: the key's name, or 'admin' for the administrator's token.
  owner TEXT NOT NULL DEFAULT 'admin',
  -- 0006: JSON list of the images the model received (edits, variations); NULL otherwise.
  inputs TEXT
);
INSERT INTO generation_jobs_v8 (id, status, prompt, model, image_url, error, created_at, updated_at,
    seed, width, height, parameters, thumbnail_url, image_size, owner, inputs)
  SELECT id, status, prompt, model, image_url, error, created_at, updated_at,
    seed, width, height, parameters, thumbnail_url, image_size, owner, inputs FROM generation_jobs;

CREATE TABLE generations_v8 (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES generation_jobs_v8 (id),
  image_url TEXT NOT NULL,
  prompt TEXT NOT NULL,
  model TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  thumbnail_url TEXT,
  image_size INTEGER
);
INSERT INTO generations_v8 (id, job_id, image_url, prompt, model, created_at, thumbnail_url, image_size)
  SELECT id, job_id, image_url, prompt, model, created_at, thumbnail_url, image_size FROM generations;

DROP TABLE generations;
DROP TABLE generation_jobs;
-- Renaming the parent also rewrites the child's REFERENCES clause to the new name.
ALTER TABLE generation_jobs_v8 RENAME TO generation_jobs;
ALTER TABLE generations_v8 RENAME TO generations;

CREATE INDEX IF NOT EXISTS idx_generation_jobs_status ON generation_jobs (status);
CREATE INDEX IF NOT EXISTS idx_generation_jobs_created_at ON generation_jobs (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_generation_jobs_owner_created_at ON generation_jobs (owner, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_generations_created_at ON generations (created_at DESC);
CREATE UNIQUE INDEX IF NOT EXISTS idx_generations_job_id ON generations (job_id);
