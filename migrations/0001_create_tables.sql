-- Job tracking: one row per requested image.
CREATE TABLE IF NOT EXISTS generation_jobs (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
  prompt TEXT NOT NULL,
  model TEXT NOT NULL CHECK (model IN ('flux-schnell', 'sdxl-lightning', 'sdxl-base')),
  image_url TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_generation_jobs_status ON generation_jobs (status);
CREATE INDEX IF NOT EXISTS idx_generation_jobs_created_at ON generation_jobs (created_at DESC);

-- Gallery: one row per completed image. job_id is unique so a redelivered
-- queue message cannot add a second row for the same job.
CREATE TABLE IF NOT EXISTS generations (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES generation_jobs (id),
  image_url TEXT NOT NULL,
  prompt TEXT NOT NULL,
  model TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_generations_created_at ON generations (created_at DESC);
CREATE UNIQUE INDEX IF NOT EXISTS idx_generations_job_id ON generations (job_id);
