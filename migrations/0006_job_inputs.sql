-- Image inputs (edit_image, generate_variations): each job lists the images its model received,
-- as JSON text `[{"role", "source", "url", "format", "width", "height", "note"?}]` where `url` is
-- the stored URL of the exact bytes sent (an earlier job's image, or an `input-…` object this
-- server stored: an upload or a converted copy). NULL for text-to-image jobs and older rows.
ALTER TABLE generation_jobs ADD COLUMN inputs TEXT;
