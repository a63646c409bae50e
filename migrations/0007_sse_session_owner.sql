-- An SSE session belongs to whoever opened it: only that caller may POST into it.
--
-- The owner is text so other kinds of caller fit later: 'admin' for the administrator's token
-- (AUTH_TOKEN), 'key:<name>' for a named API key (e.g. 'key:alice'), and later 'grant:<id>' for
-- an OAuth grant. Sessions opened before this migration have no owner (NULL) and are owned by
-- nobody: every POST into them is refused like an unknown session's, and the client opens a new
-- stream. Sessions last minutes, so nothing worth keeping is lost.
ALTER TABLE sse_sessions ADD COLUMN owner TEXT;
