//! The OAuth tables in D1: clients, codes, grants and tokens, through [`super::sql`]. Secrets
//! arrive here in clear only to be hashed; what is stored and looked up is the hash.

use serde::Deserialize;
use worker::D1Database;

use super::requests::{AuthMethod, ClientMetadata};
use super::secrets::{hash, new_id, new_secret, SecretKind};
use super::sql::{self, CodeGrant, TokenGrant};
use super::{ACCESS_TOKEN_LIFETIME_MS, CODE_LIFETIME_MS, REFRESH_TOKEN_LIFETIME_MS};
use crate::d1::{Db, DbResult};

/// A client as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    /// `dcr` (registered here) or `cimd` (a metadata document's URL).
    pub kind: String,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub auth_method: AuthMethod,
    pub secret_hash: Option<String>,
    /// When a cached document must be fetched again.
    pub expires_at: Option<i64>,
}

impl Client {
    pub fn from_document(url: &str, metadata: &ClientMetadata, expires_at: i64) -> Client {
        Client {
            client_id: url.to_string(),
            kind: "cimd".to_string(),
            client_name: metadata.client_name.clone(),
            redirect_uris: metadata.redirect_uris.clone(),
            auth_method: AuthMethod::None,
            secret_hash: None,
            expires_at: Some(expires_at),
        }
    }

    /// The name shown to people: the client's own, else the host of its first redirect URI.
    pub fn display_name(&self) -> String {
        if !self.client_name.is_empty() {
            return self.client_name.clone();
        }
        let uri = self.redirect_uris.first().map(String::as_str).unwrap_or("");
        crate::http::url::RequestUrl::parse(uri)
            .map(|url| url.host().to_string())
            .filter(|host| !host.is_empty())
            .unwrap_or_else(|| "Unnamed client".to_string())
    }
}

#[derive(Deserialize)]
struct ClientRow {
    client_id: String,
    kind: String,
    client_name: String,
    redirect_uris: String,
    token_endpoint_auth_method: String,
    secret_hash: Option<String>,
    expires_at: Option<i64>,
}

/// An access token's row with its grant's credential and client name.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessRow {
    pub grant_id: String,
    pub subject: String,
    pub scopes: String,
    pub credential: String,
    pub client_name: String,
    pub last_used_at: Option<i64>,
}

/// Any token's row, for revocation and reuse detection.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenRow {
    pub grant_id: String,
    pub client_id: String,
    pub kind: String,
    pub rotated_at: Option<i64>,
}

/// A grant as the Connected apps page lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct GrantRow {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub subject: String,
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// What a successful code exchange or refresh hands out, in clear, once.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub scopes: String,
}

pub struct OAuthStore {
    db: Db,
}

impl OAuthStore {
    pub fn new(db: D1Database) -> Self {
        OAuthStore { db: Db::new(db) }
    }

    /// Registers a client (RFC 7591); returns its id and, for confidential clients, its secret.
    pub async fn register(&self, metadata: &ClientMetadata, now: i64) -> DbResult<(String, Option<String>)> {
        let client_id = new_id();
        let secret = metadata
            .auth_method
            .has_secret()
            .then(|| new_secret(SecretKind::ClientSecret));
        let uris = serde_json::to_string(&metadata.redirect_uris).unwrap_or_else(|_| "[]".into());
        let statement = sql::upsert_client(
            &client_id,
            "dcr",
            &metadata.client_name,
            &uris,
            metadata.auth_method.name(),
            secret.as_deref().map(hash).as_deref(),
            now,
            None,
        );
        self.db.run(statement, "registering an OAuth client").await?;
        Ok((client_id, secret))
    }

    pub async fn client(&self, client_id: &str) -> DbResult<Option<Client>> {
        let rows: Vec<ClientRow> = self
            .db
            .rows(sql::select_client(client_id), "looking up an OAuth client")
            .await?;
        Ok(rows.into_iter().next().map(|row| Client {
            client_id: row.client_id,
            kind: row.kind,
            client_name: row.client_name,
            redirect_uris: serde_json::from_str(&row.redirect_uris).unwrap_or_default(),
            auth_method: AuthMethod::from_name(&row.token_endpoint_auth_method).unwrap_or(AuthMethod::None),
            secret_hash: row.secret_hash,
            expires_at: row.expires_at,
        }))
    }

    /// Caches a metadata document's client (never overwrites a registered one).
    pub async fn cache_document(&self, client: &Client, now: i64) -> DbResult<()> {
        let uris = serde_json::to_string(&client.redirect_uris).unwrap_or_else(|_| "[]".into());
        let statement = sql::upsert_client(
            &client.client_id,
            "cimd",
            &client.client_name,
            &uris,
            "none",
            None,
            now,
            client.expires_at,
        );
        self.db.run(statement, "caching a client metadata document").await
    }

    /// Stores a new authorization code for `grant`; returns the code in clear.
    pub async fn issue_code(&self, grant: &CodeGrant, now: i64) -> DbResult<String> {
        let code = new_secret(SecretKind::Code);
        self.db
            .run(
                sql::insert_code(&hash(&code), grant, now + CODE_LIFETIME_MS),
                "storing an authorization code",
            )
            .await?;
        Ok(code)
    }

    /// Marks a code used and returns what it carries with its expiry, if it was unused.
    pub async fn claim_code(&self, code: &str, now: i64) -> DbResult<Option<(CodeGrant, i64)>> {
        #[derive(Deserialize)]
        struct Row {
            #[serde(flatten)]
            grant: CodeGrant,
            expires_at: i64,
        }
        let rows: Vec<Row> = self
            .db
            .rows(sql::claim_code(&hash(code), now), "claiming an authorization code")
            .await?;
        Ok(rows.into_iter().next().map(|row| (row.grant, row.expires_at)))
    }

    /// The grant a used code already issued, if any.
    pub async fn code_grant(&self, code: &str) -> DbResult<Option<String>> {
        #[derive(Deserialize)]
        struct Row {
            grant_id: Option<String>,
        }
        let rows: Vec<Row> = self
            .db
            .rows(sql::select_code_grant(&hash(code)), "looking up a used code")
            .await?;
        Ok(rows.into_iter().next().and_then(|row| row.grant_id))
    }

    /// Creates the grant a code carries and its first tokens, in one transaction.
    pub async fn create_grant(&self, code: &str, grant: &CodeGrant, now: i64) -> DbResult<(String, IssuedTokens)> {
        let grant_id = new_id();
        let token_grant = TokenGrant {
            grant_id: grant_id.clone(),
            subject: grant.subject.clone(),
            client_id: grant.client_id.clone(),
            scopes: grant.scopes.clone(),
            resource: grant.resource.clone(),
        };
        let (tokens, mut statements) = token_statements(&token_grant, now);
        statements.insert(0, sql::insert_grant(&grant_id, grant, now));
        statements.push(sql::set_code_grant(&hash(code), &grant_id));
        self.db.batch(statements, "creating an OAuth grant").await?;
        Ok((grant_id, tokens))
    }

    /// Rotates a refresh token: the old one is marked used and new tokens are issued, with
    /// `narrowed` scopes when asked. None when the token is not a live, unused refresh token.
    pub async fn rotate_refresh(&self, refresh_token: &str, now: i64) -> DbResult<Option<TokenGrant>> {
        let rows: Vec<TokenGrant> = self
            .db
            .rows(
                sql::rotate_refresh(&hash(refresh_token), now),
                "rotating a refresh token",
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    pub async fn issue_tokens(&self, grant: &TokenGrant, now: i64) -> DbResult<IssuedTokens> {
        let (tokens, statements) = token_statements(grant, now);
        self.db.batch(statements, "issuing OAuth tokens").await?;
        Ok(tokens)
    }

    pub async fn token(&self, token: &str) -> DbResult<Option<TokenRow>> {
        let rows: Vec<TokenRow> = self
            .db
            .rows(sql::select_token(&hash(token)), "looking up an OAuth token")
            .await?;
        Ok(rows.into_iter().next())
    }

    pub async fn access(&self, access_token: &str, now: i64) -> DbResult<Option<AccessRow>> {
        let rows: Vec<AccessRow> = self
            .db
            .rows(
                sql::select_access(&hash(access_token), now),
                "looking up an access token",
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Ends a grant and its tokens; `owner` None for any grant.
    pub async fn revoke_grant(&self, grant_id: &str, owner: Option<&str>, now: i64) -> DbResult<()> {
        self.db
            .batch(sql::revoke_grant(grant_id, owner, now), "revoking an OAuth grant")
            .await
    }

    pub async fn grant_credential(&self, grant_id: &str) -> DbResult<Option<String>> {
        #[derive(Deserialize)]
        struct Row {
            credential: String,
        }
        let rows: Vec<Row> = self
            .db
            .rows(sql::select_grant_credential(grant_id), "looking up a grant")
            .await?;
        Ok(rows.into_iter().next().map(|row| row.credential))
    }

    pub async fn touch_grant(&self, grant_id: &str, now: i64) -> DbResult<()> {
        self.db
            .run(sql::touch_grant(grant_id, now), "recording a grant's use")
            .await
    }

    pub async fn grants(&self, owner: Option<&str>) -> DbResult<Vec<GrantRow>> {
        self.db.rows(sql::list_grants(owner), "listing OAuth grants").await
    }

    pub async fn sweep(&self, now: i64) -> DbResult<()> {
        self.db.batch(sql::sweep(now), "sweeping OAuth rows").await
    }
}

/// A new access and refresh token for `grant`, and the statements that store their hashes.
fn token_statements(grant: &TokenGrant, now: i64) -> (IssuedTokens, Vec<sql::Statement>) {
    let access_token = new_secret(SecretKind::AccessToken);
    let refresh_token = new_secret(SecretKind::RefreshToken);
    let statements = vec![
        sql::insert_token(
            &hash(&access_token),
            "access",
            grant,
            now,
            now + ACCESS_TOKEN_LIFETIME_MS,
        ),
        sql::insert_token(
            &hash(&refresh_token),
            "refresh",
            grant,
            now,
            now + REFRESH_TOKEN_LIFETIME_MS,
        ),
    ];
    (
        IssuedTokens {
            access_token,
            refresh_token,
            scopes: grant.scopes.clone(),
        },
        statements,
    )
}
