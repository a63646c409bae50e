-- Named API keys (API_KEYS): every job records whose it is, and each key's images per UTC day
-- are counted so DAILY_IMAGE_QUOTA can be enforced atomically.
--
-- The owner is the key's name, or 'admin' for the administrator's token (AUTH_TOKEN). Jobs from
-- before this migration were all made with the one token there was, so they are the
-- administrator's.
ALTER TABLE generation_jobs ADD COLUMN owner TEXT NOT NULL DEFAULT 'admin';
CREATE INDEX IF NOT EXISTS idx_generation_jobs_owner_created_at ON generation_jobs (owner, created_at DESC);

-- Images reserved per owner per UTC day ('YYYY-MM-DD'), whatever became of them: a reservation
-- is made before the jobs are created and given back only if creating them fails.
CREATE TABLE IF NOT EXISTS daily_usage (
  owner TEXT NOT NULL,
  day TEXT NOT NULL,
  images INTEGER NOT NULL CHECK (images >= 0),
  PRIMARY KEY (owner, day)
);
