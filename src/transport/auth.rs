//! Bearer-token authentication for every protected route: which caller a token belongs to, and
//! what it may do. [`authenticate`] is the one function every protected route calls: the
//! administrator's token and the API keys hold every scope; an OAuth access token acts as the
//! key (or administrator) that approved its grant, with the grant's scopes, while that key's
//! token is unchanged. Tokens are read from the Authorization header only, never a query string.
//! No administrator token configured means no service.

use worker::Env;

use crate::access::{credential_fingerprint, identify, Caller, GrantRef, Principal, Scopes, ADMIN_NAME};
use crate::config::Config;
use crate::oauth::secrets::SecretKind;
use crate::oauth::store::OAuthStore;
use crate::oauth::Challenge;

/// Why a request is not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("server misconfigured: AUTH_TOKEN is not set, so every MCP request is refused (set it with `wrangler secret put AUTH_TOKEN`, or in .dev.vars locally)")]
    NotConfigured,
    #[error("missing Authorization header: send `Authorization: Bearer <token>`")]
    Missing,
    #[error("malformed Authorization header: expected `Bearer <token>`")]
    Malformed,
    #[error("invalid bearer token")]
    Invalid,
    #[error("the token could not be checked right now; try again")]
    Unavailable,
}

impl AuthError {
    pub fn status(self) -> u16 {
        match self {
            AuthError::NotConfigured => 500,
            AuthError::Missing | AuthError::Invalid => 401,
            AuthError::Malformed => 400,
            AuthError::Unavailable => 503,
        }
    }

    /// The WWW-Authenticate challenge for 401 answers: it names `endpoint`'s protected-resource
    /// document (`None`: the origin's), so a client that knows only the URL can find the
    /// authorization server.
    pub fn challenge(self, origin: &str, endpoint: Option<&str>) -> Option<String> {
        match self {
            AuthError::Missing => Some(crate::oauth::challenge(origin, endpoint, &Challenge::Missing)),
            AuthError::Invalid => Some(crate::oauth::challenge(origin, endpoint, &Challenge::InvalidToken)),
            AuthError::NotConfigured | AuthError::Malformed | AuthError::Unavailable => None,
        }
    }
}

/// The bearer token of an Authorization header value.
fn bearer_token(header: Option<&str>) -> Result<&str, AuthError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(AuthError::Missing)?;
    let (scheme, token) = header.split_once(' ').ok_or(AuthError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

/// Checks an Authorization header value against the administrator's token and the named keys
/// (static tokens only; [`authenticate`] adds OAuth access tokens).
#[cfg(test)]
pub fn check(
    header: Option<&str>,
    admin_token: Option<&str>,
    keys: &[crate::access::ApiKey],
) -> Result<Caller, AuthError> {
    let admin_token = admin_token.ok_or(AuthError::NotConfigured)?;
    let token = bearer_token(header)?;
    identify(token, admin_token, keys).ok_or(AuthError::Invalid)
}

/// The caller and scopes of a request's Authorization header: a static token or API key (every
/// scope), or an OAuth access token (its grant's key and scopes). The one resolution every
/// protected route uses.
pub async fn authenticate(authorization: Option<&str>, env: &Env, config: &Config) -> Result<Principal, AuthError> {
    let admin_token = config.auth_token.as_deref().ok_or(AuthError::NotConfigured)?;
    let token = bearer_token(authorization)?;
    if let Some(caller) = identify(token, admin_token, &config.api_keys) {
        return Ok(Principal::token(caller));
    }
    if !token.starts_with(SecretKind::AccessToken.prefix()) {
        return Err(AuthError::Invalid);
    }
    // A static token or an API key (most requests) never runs the lookup: kept out of line.
    crate::promise::cold(oauth_principal(token, admin_token, env, config)).await
}

/// The principal of an OAuth access token: its grant, looked up in D1.
async fn oauth_principal(token: &str, admin_token: &str, env: &Env, config: &Config) -> Result<Principal, AuthError> {
    let store = OAuthStore::new(crate::bindings::db(env).map_err(|_| AuthError::Unavailable)?);
    let now = crate::time::now_ms();
    let row = match store.access(token, now).await {
        Ok(Some(row)) => row,
        Ok(None) => return Err(AuthError::Invalid),
        Err(error) => {
            worker::console_error!("oauth: {error}");
            return Err(AuthError::Unavailable);
        }
    };
    // A key removed from API_KEYS, or given another token, ends its grants: end this one now.
    let current = credential_fingerprint(&row.subject, admin_token, &config.api_keys);
    let still_valid = current
        .as_deref()
        .is_some_and(|current| crate::access::constant_time_eq(current.as_bytes(), row.credential.as_bytes()));
    if !still_valid {
        worker::console_log!(
            "oauth: grant of {} via {} ended: the key was removed or its token changed",
            row.subject,
            row.client_name
        );
        if let Err(error) = store.revoke_grant(&row.grant_id, None, now).await {
            worker::console_error!("oauth: {error}");
        }
        return Err(AuthError::Invalid);
    }
    if row
        .last_used_at
        .is_none_or(|at| now - at >= crate::oauth::LAST_USED_RESOLUTION_MS)
    {
        if let Err(error) = store.touch_grant(&row.grant_id, now).await {
            worker::console_error!("oauth: {error}");
        }
    }
    let caller = match row.subject.as_str() {
        ADMIN_NAME => Caller::Admin,
        name => Caller::Key(name.to_string()),
    };
    Ok(Principal {
        caller,
        scopes: Scopes::parse_known(&row.scopes),
        grant: Some(GrantRef {
            id: row.grant_id,
            client_name: row.client_name,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_token_refuses_everything() {
        assert_eq!(check(Some("Bearer anything"), None, &[]), Err(AuthError::NotConfigured));
        assert_eq!(AuthError::NotConfigured.status(), 500);
    }

    #[test]
    fn missing_malformed_and_wrong_tokens_are_told_apart() {
        let token = Some("s3cret");
        assert_eq!(check(None, token, &[]), Err(AuthError::Missing));
        assert_eq!(check(Some("  "), token, &[]), Err(AuthError::Missing));
        assert_eq!(check(Some("s3cret"), token, &[]), Err(AuthError::Malformed));
        assert_eq!(check(Some("Basic czNjcmV0"), token, &[]), Err(AuthError::Malformed));
        assert_eq!(check(Some("Bearer "), token, &[]), Err(AuthError::Malformed));
        assert_eq!(check(Some("Bearer wrong"), token, &[]), Err(AuthError::Invalid));
        assert_eq!(check(Some("Bearer s3cret"), token, &[]), Ok(Caller::Admin));
        assert_eq!(check(Some("bearer s3cret"), token, &[]), Ok(Caller::Admin));
    }

    #[test]
    fn statuses_and_challenges_follow_the_original() {
        let origin = "https://img.example.com";
        assert_eq!(AuthError::Missing.status(), 401);
        let missing = AuthError::Missing.challenge(origin, Some("/mcp")).unwrap();
        assert!(missing.starts_with("Bearer realm="), "{missing}");
        assert!(
            missing.contains("/.well-known/oauth-protected-resource/mcp"),
            "{missing}"
        );
        assert_eq!(AuthError::Malformed.status(), 400);
        assert_eq!(AuthError::Invalid.status(), 401);
        assert!(AuthError::Invalid
            .challenge(origin, Some("/sse"))
            .unwrap()
            .contains("invalid_token"));
        assert_eq!(AuthError::Malformed.challenge(origin, Some("/mcp")), None);
        // Outside /mcp and /sse (the images API): the origin's own document.
        let elsewhere = AuthError::Missing.challenge(origin, None).unwrap();
        assert!(
            elsewhere.contains("resource_metadata=\"https://img.example.com/.well-known/oauth-protected-resource\""),
            "{elsewhere}"
        );
    }

    #[test]
    fn named_keys_authenticate_as_themselves() {
        let keys = crate::access::parse_api_keys("alice:alice-token-0123456789", Some("root")).unwrap();
        assert_eq!(check(Some("Bearer root"), Some("root"), &keys), Ok(Caller::Admin));
        assert_eq!(
            check(Some("Bearer alice-token-0123456789"), Some("root"), &keys),
            Ok(Caller::Key("alice".into()))
        );
        assert_eq!(
            check(Some("Bearer alice-token-012345678"), Some("root"), &keys),
            Err(AuthError::Invalid)
        );
        // Keys need the administrator's token configured too: without it nothing is served.
        assert_eq!(
            check(Some("Bearer alice-token-0123456789"), None, &keys),
            Err(AuthError::NotConfigured)
        );
    }
}
