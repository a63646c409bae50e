-- Every Workers AI image model, with the parameters each job sent.
--
-- 0001 limited generation_jobs.model to three names with a CHECK. SQLite cannot drop a
-- CHECK, so both tables are rebuilt, keeping every row, index and constraint still needed.
-- generations is rebuilt too (child first) so the parent can be dropped without tripping the
-- foreign key: D1 enforces foreign keys, and a migration may run statement by statement.
-- Model names are now checked by the server's model registry, not by the schema.
CREATE TABLE generation_jobs_v3 (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
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
  parameters TEXT
);
INSERT INTO generation_jobs_v3 (id, status, prompt, model, image_url, error, created_at, updated_at)
  SELECT id, status, prompt, model, image_url, error, created_at, updated_at FROM generation_jobs;

CREATE TABLE generations_v3 (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES generation_jobs_v3 (id),
  image_url TEXT NOT NULL,
  prompt TEXT NOT NULL,
  model TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
INSERT INTO generations_v3 (id, job_id, image_url, prompt, model, created_at)
  SELECT id, job_id, image_url, prompt, model, created_at FROM generations;

DROP TABLE generations;
DROP TABLE generation_jobs;
-- Renaming the parent also rewrites the child's REFERENCES clause to the new name.
ALTER TABLE generation_jobs_v3 RENAME TO generation_jobs;
ALTER TABLE generations_v3 RENAME TO generations;

CREATE INDEX IF NOT EXISTS idx_generation_jobs_status ON generation_jobs (status);
CREATE INDEX IF NOT EXISTS idx_generation_jobs_created_at ON generation_jobs (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_generations_created_at ON generations (created_at DESC);
CREATE UNIQUE INDEX IF NOT EXISTS idx_generations_job_id ON generations (job_id);
