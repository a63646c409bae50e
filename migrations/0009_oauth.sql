-- OAuth 2.1 authorization server (issue 17): clients, authorization codes, grants and tokens.
--
-- Secrets (client secrets, codes, access and refresh tokens) are stored only as SHA-256 hex
-- hashes; the clear values exist only in the answer that hands them out. Times are Unix ms.

-- A registered client: Dynamic Client Registration (kind 'dcr', RFC 7591) or a cached
-- Client ID Metadata Document (kind 'cimd': client_id is the document's https URL, refetched
-- once `expires_at` passes).
CREATE TABLE oauth_clients (
  client_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('dcr', 'cimd')),
  client_name TEXT NOT NULL,
  -- JSON array of the exact redirect URIs (loopback ones match on any port).
  redirect_uris TEXT NOT NULL,
  token_endpoint_auth_method TEXT NOT NULL
    CHECK (token_endpoint_auth_method IN ('none', 'client_secret_post', 'client_secret_basic')),
  secret_hash TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);

-- An authorization code: single use (used_at), short-lived, bound to its client, redirect URI,
-- PKCE challenge and resource, and carrying what the grant will be. `grant_id` is set when the
-- code is exchanged, so a second use can revoke what the first issued.
CREATE TABLE oauth_codes (
  code_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  client_name TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  resource TEXT NOT NULL,
  scopes TEXT NOT NULL,
  -- 'admin' or a key name: who approved.
  subject TEXT NOT NULL,
  -- SHA-256 of the approving token: a changed token ends the grant.
  credential TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  grant_id TEXT
);

-- A grant: one approval by one key (or the administrator) for one client. Revoking it ends
-- every token issued under it.
CREATE TABLE oauth_grants (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  client_name TEXT NOT NULL,
  subject TEXT NOT NULL,
  credential TEXT NOT NULL,
  scopes TEXT NOT NULL,
  resource TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX oauth_grants_by_subject ON oauth_grants (subject, created_at);

-- Access tokens (1 hour) and refresh tokens (rotated on every use: `rotated_at` marks a used
-- one, whose reuse revokes the grant). Each row repeats the grant's owner, client, scopes and
-- resource so one lookup by hash answers a request.
CREATE TABLE oauth_tokens (
  token_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  grant_id TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
  subject TEXT NOT NULL,
  client_id TEXT NOT NULL,
  scopes TEXT NOT NULL,
  resource TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  rotated_at INTEGER
);
CREATE INDEX oauth_tokens_by_grant ON oauth_tokens (grant_id);
