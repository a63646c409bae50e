//! Bearer-token authentication for /mcp and /sse: which caller a token belongs to. No
//! administrator token configured means no service.

use crate::access::{identify, ApiKey, Caller};
use crate::catalog::SERVER_NAME;

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
}

impl AuthError {
    pub fn status(self) -> u16 {
        match self {
            AuthError::NotConfigured => 500,
            AuthError::Missing | AuthError::Invalid => 401,
            AuthError::Malformed => 400,
        }
    }

    /// The WWW-Authenticate challenge for 401 answers.
    pub fn challenge(self) -> Option<String> {
        match self {
            AuthError::Missing => Some(format!("Bearer realm=\"{SERVER_NAME}\"")),
            AuthError::Invalid => Some(format!("Bearer realm=\"{SERVER_NAME}\", error=\"invalid_token\"")),
            AuthError::NotConfigured | AuthError::Malformed => None,
        }
    }
}

/// Checks an Authorization header value against the administrator's token and the named keys.
pub fn check(header: Option<&str>, admin_token: Option<&str>, keys: &[ApiKey]) -> Result<Caller, AuthError> {
    let admin_token = admin_token.ok_or(AuthError::NotConfigured)?;
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(AuthError::Missing)?;
    let (scheme, token) = header.split_once(' ').ok_or(AuthError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::Malformed);
    }
    identify(token, admin_token, keys).ok_or(AuthError::Invalid)
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
        assert_eq!(AuthError::Missing.status(), 401);
        assert!(AuthError::Missing.challenge().unwrap().starts_with("Bearer realm="));
        assert_eq!(AuthError::Malformed.status(), 400);
        assert_eq!(AuthError::Invalid.status(), 401);
        assert!(AuthError::Invalid.challenge().is_some());
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
