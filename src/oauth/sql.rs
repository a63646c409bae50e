//! The SQL of the OAuth tables (migration 0009), as plain [`Statement`]s: run by the store in
//! D1, and against SQLite with the real migrations in the tests below.

use crate::d1::SqlValue;
pub use crate::d1::Statement;

pub const CLIENT_COLUMNS: &str =
    "client_id, kind, client_name, redirect_uris, token_endpoint_auth_method, secret_hash, expires_at";

/// A new client (DCR), or a metadata document's client refreshed in the cache (CIMD).
#[allow(clippy::too_many_arguments)]
pub fn upsert_client(
    client_id: &str,
    kind: &str,
    client_name: &str,
    redirect_uris_json: &str,
    auth_method: &str,
    secret_hash: Option<&str>,
    now: i64,
    expires_at: Option<i64>,
) -> Statement {
    Statement::new(
        "INSERT INTO oauth_clients (client_id, kind, client_name, redirect_uris, token_endpoint_auth_method, secret_hash, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (client_id) DO UPDATE SET client_name = excluded.client_name, redirect_uris = excluded.redirect_uris, \
         token_endpoint_auth_method = excluded.token_endpoint_auth_method, expires_at = excluded.expires_at \
         WHERE oauth_clients.kind = 'cimd' AND excluded.kind = 'cimd'",
        vec![
            client_id.into(),
            kind.into(),
            client_name.into(),
            redirect_uris_json.into(),
            auth_method.into(),
            secret_hash.into(),
            now.into(),
            expires_at.into(),
        ],
    )
}

pub fn select_client(client_id: &str) -> Statement {
    Statement::new(
        format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE client_id = ?"),
        vec![client_id.into()],
    )
}

/// Everything a code carries into its grant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub resource: String,
    pub scopes: String,
    pub subject: String,
    pub credential: String,
}

pub fn insert_code(code_hash: &str, code: &CodeGrant, expires_at: i64) -> Statement {
    Statement::new(
        "INSERT INTO oauth_codes (code_hash, client_id, client_name, redirect_uri, code_challenge, resource, scopes, subject, credential, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            code_hash.into(),
            code.client_id.as_str().into(),
            code.client_name.as_str().into(),
            code.redirect_uri.as_str().into(),
            code.code_challenge.as_str().into(),
            code.resource.as_str().into(),
            code.scopes.as_str().into(),
            code.subject.as_str().into(),
            code.credential.as_str().into(),
            expires_at.into(),
        ],
    )
}

const CODE_COLUMNS: &str =
    "client_id, client_name, redirect_uri, code_challenge, resource, scopes, subject, credential, expires_at";

/// Marks a code used and returns it, only if it was unused: of two concurrent exchanges one
/// gets the row, the other nothing.
pub fn claim_code(code_hash: &str, now: i64) -> Statement {
    Statement::new(
        format!("UPDATE oauth_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL RETURNING {CODE_COLUMNS}"),
        vec![now.into(), code_hash.into()],
    )
}

/// The grant an already-used code issued (None while none was issued).
pub fn select_code_grant(code_hash: &str) -> Statement {
    Statement::new(
        "SELECT grant_id FROM oauth_codes WHERE code_hash = ? AND used_at IS NOT NULL",
        vec![code_hash.into()],
    )
}

pub fn set_code_grant(code_hash: &str, grant_id: &str) -> Statement {
    Statement::new(
        "UPDATE oauth_codes SET grant_id = ? WHERE code_hash = ?",
        vec![grant_id.into(), code_hash.into()],
    )
}

pub fn insert_grant(id: &str, code: &CodeGrant, now: i64) -> Statement {
    Statement::new(
        "INSERT INTO oauth_grants (id, client_id, client_name, subject, credential, scopes, resource, created_at, last_used_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            id.into(),
            code.client_id.as_str().into(),
            code.client_name.as_str().into(),
            code.subject.as_str().into(),
            code.credential.as_str().into(),
            code.scopes.as_str().into(),
            code.resource.as_str().into(),
            now.into(),
            now.into(),
        ],
    )
}

/// The grant columns every token row repeats.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct TokenGrant {
    pub grant_id: String,
    pub subject: String,
    pub client_id: String,
    pub scopes: String,
    pub resource: String,
}

pub fn insert_token(token_hash: &str, kind: &str, grant: &TokenGrant, now: i64, expires_at: i64) -> Statement {
    Statement::new(
        "INSERT INTO oauth_tokens (token_hash, kind, grant_id, subject, client_id, scopes, resource, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            token_hash.into(),
            kind.into(),
            grant.grant_id.as_str().into(),
            grant.subject.as_str().into(),
            grant.client_id.as_str().into(),
            grant.scopes.as_str().into(),
            grant.resource.as_str().into(),
            now.into(),
            expires_at.into(),
        ],
    )
}

/// An access token with its live grant: unexpired, grant not revoked.
pub fn select_access(token_hash: &str, now: i64) -> Statement {
    Statement::new(
        "SELECT t.grant_id, t.subject, t.client_id, t.scopes, t.resource, g.credential, g.client_name, g.last_used_at \
         FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id \
         WHERE t.token_hash = ? AND t.kind = 'access' AND t.expires_at > ? AND g.revoked_at IS NULL",
        vec![token_hash.into(), now.into()],
    )
}

/// Marks a live refresh token used (rotated) and returns its grant; nothing for one already
/// used, expired, unknown, or of a revoked grant.
pub fn rotate_refresh(token_hash: &str, now: i64) -> Statement {
    Statement::new(
        "UPDATE oauth_tokens SET rotated_at = ? WHERE token_hash = ? AND kind = 'refresh' AND rotated_at IS NULL \
         AND expires_at > ? AND grant_id IN (SELECT id FROM oauth_grants WHERE revoked_at IS NULL) \
         RETURNING grant_id, subject, client_id, scopes, resource",
        vec![now.into(), token_hash.into(), now.into()],
    )
}

/// Any token row by hash (revocation, and spotting a reused refresh token).
pub fn select_token(token_hash: &str) -> Statement {
    Statement::new(
        "SELECT grant_id, client_id, kind, rotated_at FROM oauth_tokens WHERE token_hash = ?",
        vec![token_hash.into()],
    )
}

/// Ends a grant: marks it revoked and deletes its tokens. `owner` None revokes any grant (the
/// administrator, or the server itself on a reused code or refresh token).
pub fn revoke_grant(grant_id: &str, owner: Option<&str>, now: i64) -> Vec<Statement> {
    let (owner_sql, mut params): (&str, Vec<SqlValue>) = match owner {
        Some(subject) => (" AND subject = ?", vec![subject.into()]),
        None => ("", vec![]),
    };
    let mut revoke_params: Vec<SqlValue> = vec![now.into(), grant_id.into()];
    revoke_params.append(&mut params.clone());
    let mut delete_params: Vec<SqlValue> = vec![grant_id.into()];
    delete_params.append(&mut params);
    vec![
        Statement::new(
            format!("UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL{owner_sql}"),
            revoke_params,
        ),
        Statement::new(
            format!(
                "DELETE FROM oauth_tokens WHERE grant_id IN (SELECT id FROM oauth_grants WHERE id = ? AND revoked_at IS NOT NULL{owner_sql})"
            ),
            delete_params,
        ),
    ]
}

/// The credential a live grant was approved with.
pub fn select_grant_credential(grant_id: &str) -> Statement {
    Statement::new(
        "SELECT credential FROM oauth_grants WHERE id = ? AND revoked_at IS NULL",
        vec![grant_id.into()],
    )
}

pub fn touch_grant(grant_id: &str, now: i64) -> Statement {
    Statement::new(
        "UPDATE oauth_grants SET last_used_at = ? WHERE id = ?",
        vec![now.into(), grant_id.into()],
    )
}

/// The live grants a person sees on the Connected apps page: their own, or every one for the
/// administrator (`owner` None), newest first.
pub fn list_grants(owner: Option<&str>) -> Statement {
    let (filter, params): (&str, Vec<SqlValue>) = match owner {
        Some(subject) => (" AND subject = ?", vec![subject.into()]),
        None => ("", vec![]),
    };
    Statement::new(
        format!(
            "SELECT id, client_id, client_name, subject, scopes, created_at, last_used_at FROM oauth_grants \
             WHERE revoked_at IS NULL{filter} ORDER BY created_at DESC LIMIT 200"
        ),
        params,
    )
}

/// Old rows the sweeper deletes: codes past their life, expired or rotated tokens, and grants
/// revoked (or left without any token) more than a day ago.
pub fn sweep(now: i64) -> Vec<Statement> {
    let day_ago = now - 24 * 3_600_000;
    vec![
        Statement::new("DELETE FROM oauth_codes WHERE expires_at < ?", vec![day_ago.into()]),
        Statement::new(
            "DELETE FROM oauth_tokens WHERE expires_at < ? OR (rotated_at IS NOT NULL AND expires_at < ?)",
            vec![day_ago.into(), now.into()],
        ),
        Statement::new(
            "DELETE FROM oauth_grants WHERE (revoked_at IS NOT NULL AND revoked_at < ?) \
             OR (created_at < ? AND NOT EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = oauth_grants.id))",
            vec![day_ago.into(), day_ago.into()],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{params_from_iter, Connection};

    use crate::d1::sqlite::{database, values};

    fn run(db: &Connection, statement: Statement) -> usize {
        db.execute(&statement.sql, params_from_iter(values(&statement)))
            .unwrap_or_else(|e| panic!("{}: {e}", statement.sql))
    }

    fn code() -> CodeGrant {
        CodeGrant {
            client_id: "c1".into(),
            client_name: "Claude".into(),
            redirect_uri: "https://claude.ai/cb".into(),
            code_challenge: "x".repeat(43),
            resource: "https://img.example.com".into(),
            scopes: "images:read images:write".into(),
            subject: "alice".into(),
            credential: "f".repeat(64),
        }
    }

    fn grant(id: &str) -> TokenGrant {
        let c = code();
        TokenGrant {
            grant_id: id.into(),
            subject: c.subject,
            client_id: c.client_id,
            scopes: c.scopes,
            resource: c.resource,
        }
    }

    fn count(db: &Connection, statement: &Statement) -> usize {
        let mut prepared = db.prepare(&statement.sql).unwrap();
        let mut rows = prepared.query(params_from_iter(values(statement))).unwrap();
        let mut n = 0;
        while rows.next().unwrap().is_some() {
            n += 1;
        }
        n
    }

    #[test]
    fn a_code_is_claimed_once() {
        let db = database();
        run(&db, insert_code("h1", &code(), 1_060));
        assert_eq!(count(&db, &claim_code("h1", 1_000)), 1);
        assert_eq!(count(&db, &claim_code("h1", 1_001)), 0, "second use");
        assert_eq!(count(&db, &claim_code("other", 1_001)), 0);
        run(&db, set_code_grant("h1", "g1"));
        let grant_id: Option<String> = db
            .query_row(&select_code_grant("h1").sql, ["h1"], |row| row.get(0))
            .unwrap();
        assert_eq!(grant_id.as_deref(), Some("g1"));
    }

    #[test]
    fn refresh_tokens_rotate_once_and_revocation_ends_every_token() {
        let db = database();
        run(&db, insert_grant("g1", &code(), 1_000));
        run(&db, insert_token("a1", "access", &grant("g1"), 1_000, 5_000));
        run(&db, insert_token("r1", "refresh", &grant("g1"), 1_000, 9_000));
        assert_eq!(count(&db, &select_access("a1", 2_000)), 1);
        assert_eq!(count(&db, &select_access("a1", 6_000)), 0, "expired");
        assert_eq!(
            count(&db, &select_access("r1", 2_000)),
            0,
            "a refresh token is no access token"
        );
        assert_eq!(count(&db, &rotate_refresh("r1", 2_000)), 1);
        assert_eq!(count(&db, &rotate_refresh("r1", 2_001)), 0, "reuse");
        assert_eq!(count(&db, &select_token("r1")), 1, "kept, to spot reuse");
        // Another key cannot revoke alice's grant; she can.
        for statement in revoke_grant("g1", Some("bob"), 3_000) {
            run(&db, statement);
        }
        assert_eq!(count(&db, &select_access("a1", 2_000)), 1);
        for statement in revoke_grant("g1", Some("alice"), 3_000) {
            run(&db, statement);
        }
        assert_eq!(count(&db, &select_access("a1", 2_000)), 0);
        assert_eq!(count(&db, &select_token("a1")), 0);
        assert_eq!(count(&db, &list_grants(Some("alice"))), 0);
    }

    #[test]
    fn refresh_of_a_revoked_grant_fails_and_lists_are_per_owner() {
        let db = database();
        run(&db, insert_grant("g1", &code(), 1_000));
        let mut bob = code();
        bob.subject = "bob".into();
        run(&db, insert_grant("g2", &bob, 1_100));
        run(&db, insert_token("r1", "refresh", &grant("g1"), 1_000, 9_000));
        assert_eq!(count(&db, &list_grants(Some("alice"))), 1);
        assert_eq!(count(&db, &list_grants(None)), 2);
        run(
            &db,
            Statement::new("UPDATE oauth_grants SET revoked_at = 1 WHERE id = 'g1'", vec![]),
        );
        assert_eq!(count(&db, &rotate_refresh("r1", 2_000)), 0);
    }

    #[test]
    fn registered_clients_are_never_overwritten_and_documents_refresh() {
        let db = database();
        run(&db, upsert_client("c1", "dcr", "A", "[]", "none", None, 1, None));
        run(&db, upsert_client("c1", "cimd", "B", "[]", "none", None, 2, Some(9)));
        let name: String = db
            .query_row(
                "SELECT client_name FROM oauth_clients WHERE client_id = 'c1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(name, "A");
        run(
            &db,
            upsert_client("https://a/c", "cimd", "B", "[]", "none", None, 2, Some(9)),
        );
        run(
            &db,
            upsert_client("https://a/c", "cimd", "C", "[]", "none", None, 3, Some(10)),
        );
        assert_eq!(count(&db, &select_client("https://a/c")), 1);
        for statement in sweep(100 * 24 * 3_600_000) {
            run(&db, statement);
        }
    }
}
