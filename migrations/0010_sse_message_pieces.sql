-- Legacy SSE answers larger than one D1 row: D1 refuses a string or row over 2 MB, and a
-- resources/read of a 1.5 MB image is about 2 MB of JSON. Such an answer is stored as
-- `pieces` rows (written in one batch, so their seqs are consecutive), `piece` 0 to
-- pieces - 1, which the stream writes one after another into one SSE event. A row of an
-- ordinary answer is the whole message: piece 0 of 1.
ALTER TABLE sse_messages ADD COLUMN piece INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sse_messages ADD COLUMN pieces INTEGER NOT NULL DEFAULT 1;
