-- The thumbnail's bytes as base64 text, written by the queue consumer beside thumbnail_url when
-- the thumbnail fits the inline-preview limit (catalog::INLINE_PREVIEW_MAX_BASE64_BYTES), so a
-- result that inlines it (get_job_status, wait_for_completion, tasks) costs no R2 read.
--
-- NULL when there is no thumbnail, when it is over the limit, and on rows completed before this
-- column existed: those are not back-filled (SQL cannot read R2); their previews are read from R2
-- as before. Every statement that clears or replaces thumbnail_url sets this column with it
-- (completion, tombstones), so a non-NULL value always shows the object thumbnail_url names.
ALTER TABLE generation_jobs ADD COLUMN thumbnail_base64 TEXT;
