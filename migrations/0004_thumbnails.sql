-- Thumbnails and image sizes, for tool results that show what was made.
--
-- thumbnail_url: the stored form of the thumbnail's URL, like image_url (this worker's
-- /images/<key> path, or the public bucket URL); NULL when no thumbnail was made (the Images
-- binding was missing or failed) and for rows written before thumbnails existed.
-- image_size: the full image's size in bytes as stored in R2 (NULL for older rows).
-- Plain ADD COLUMNs: every existing row keeps its data and reads NULL in both.
ALTER TABLE generation_jobs ADD COLUMN thumbnail_url TEXT;
ALTER TABLE generation_jobs ADD COLUMN image_size INTEGER;
ALTER TABLE generations ADD COLUMN thumbnail_url TEXT;
ALTER TABLE generations ADD COLUMN image_size INTEGER;
