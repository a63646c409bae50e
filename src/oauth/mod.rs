//! The built-in OAuth 2.1 authorization server: its endpoints, metadata documents (RFC 9728,
//! RFC 8414), challenges (RFC 6750), request parsing, secrets, and the grants in D1.
//!
//! A grant is one key's (or the administrator's) approval for one client; its tokens act as
//! that key. Spec: https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
//! (and the 2025-06-18 and 2026-07-28 pages, which add nothing this server needs beyond it).

pub mod clients;
pub mod requests;
pub mod secrets;
pub mod sql;
pub mod store;

#[cfg(test)]
mod proptests;

use serde_json::{json, Value};

use crate::access::{Scope, Scopes};
use crate::catalog::SERVER_NAME;
use requests::AuthMethod;

/// The authorization server's paths.
pub mod paths {
    pub const AUTHORIZE: &str = "/oauth/authorize";
    pub const TOKEN: &str = "/oauth/token";
    pub const REGISTER: &str = "/oauth/register";
    pub const REVOKE: &str = "/oauth/revoke";
    /// RFC 9728; `/mcp` and `/sse` are appended for the path-inserted forms.
    pub const PROTECTED_RESOURCE: &str = "/.well-known/oauth-protected-resource";
    /// RFC 8414.
    pub const AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";
    /// OpenID Connect discovery: not offered, answers 404.
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
}

/// The endpoints a token protects; each has its own protected-resource document.
pub const PROTECTED_ENDPOINTS: [&str; 2] = ["/mcp", "/sse"];

/// An authorization code lives at most this long (the issue's ≤ 60 s).
pub const CODE_LIFETIME_MS: i64 = 60_000;
/// An access token lives one hour.
pub const ACCESS_TOKEN_LIFETIME_MS: i64 = 3_600_000;
/// A refresh token not used for 30 days expires (each use rotates it and restarts the clock).
pub const REFRESH_TOKEN_LIFETIME_MS: i64 = 30 * 24 * 3_600_000;
/// A grant's last use is written at most this often, so a busy client does not write each call.
pub const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// This server's resource identifiers (RFC 8707): the origin, and each protected endpoint.
pub fn resource_identifiers(origin: &str) -> Vec<String> {
    std::iter::once(origin.to_string())
        .chain(PROTECTED_ENDPOINTS.iter().map(|path| format!("{origin}{path}")))
        .collect()
}

/// The protected endpoint a request path belongs to (`/sse/message` is `/sse`'s).
pub fn protected_endpoint(path: &str) -> Option<&'static str> {
    match path {
        "/mcp" => Some("/mcp"),
        "/sse" | "/sse/message" => Some("/sse"),
        _ => None,
    }
}

/// The protected-resource document's URL for `endpoint` (None: the origin's).
pub fn resource_metadata_url(origin: &str, endpoint: Option<&str>) -> String {
    format!("{origin}{}{}", paths::PROTECTED_RESOURCE, endpoint.unwrap_or(""))
}

/// The protected-resource metadata (RFC 9728 §2) of the origin or of one endpoint.
pub fn protected_resource_metadata(origin: &str, endpoint: Option<&str>) -> Value {
    json!({
        "resource": format!("{origin}{}", endpoint.unwrap_or("")),
        "authorization_servers": [origin],
        "scopes_supported": scope_names(),
        "bearer_methods_supported": ["header"],
        "resource_name": SERVER_NAME,
        "resource_documentation": format!("{origin}/"),
    })
}

fn scope_names() -> Vec<&'static str> {
    Scope::ALL.iter().map(|scope| scope.name()).collect()
}

/// The authorization server metadata (RFC 8414 §2).
pub fn authorization_server_metadata(origin: &str) -> Value {
    json!({
        "issuer": origin,
        "authorization_endpoint": format!("{origin}{}", paths::AUTHORIZE),
        "token_endpoint": format!("{origin}{}", paths::TOKEN),
        "registration_endpoint": format!("{origin}{}", paths::REGISTER),
        "revocation_endpoint": format!("{origin}{}", paths::REVOKE),
        "scopes_supported": scope_names(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": AuthMethod::ALL.map(AuthMethod::name),
        "revocation_endpoint_auth_methods_supported": AuthMethod::ALL.map(AuthMethod::name),
        "client_id_metadata_document_supported": true,
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": format!("{origin}/"),
    })
}

/// Why a bearer challenge is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// No token (401): just where to start.
    Missing,
    /// A token we do not accept (401, RFC 6750 `invalid_token`).
    InvalidToken,
    /// A valid token without the scope a call needs (403, `insufficient_scope`).
    InsufficientScope { needed: Scope, held: Scopes },
}

/// The `WWW-Authenticate` value for `endpoint`: the realm, its protected-resource document
/// (RFC 9728 §5.1; `None`, for paths outside `/mcp` and `/sse` such as `/v1/…`: the origin's,
/// whose resource is the origin) and the scopes to ask for (MCP's scope selection: every scope
/// on a 401; on a 403, the ones held plus the one needed, so re-authorizing does not lose any).
pub fn challenge(origin: &str, endpoint: Option<&str>, why: &Challenge) -> String {
    let metadata = resource_metadata_url(origin, endpoint);
    let mut value = format!("Bearer realm=\"{SERVER_NAME}\", resource_metadata=\"{metadata}\"");
    match why {
        Challenge::Missing => value.push_str(&format!(", scope=\"{}\"", Scopes::ALL.to_text())),
        Challenge::InvalidToken => value.push_str(&format!(
            ", scope=\"{}\", error=\"invalid_token\", error_description=\"The access token is invalid, expired or revoked\"",
            Scopes::ALL.to_text()
        )),
        Challenge::InsufficientScope { needed, held } => {
            let wanted = Scopes::of(&held.iter().chain([*needed]).collect::<Vec<_>>());
            value.push_str(&format!(
                ", error=\"insufficient_scope\", scope=\"{}\", error_description=\"This call needs the {} scope\"",
                wanted.to_text(),
                needed.name()
            ));
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://img.example.com";

    #[test]
    fn metadata_documents_name_this_server_and_every_scope() {
        let root = protected_resource_metadata(ORIGIN, None);
        assert_eq!(root["resource"], ORIGIN);
        assert_eq!(root["authorization_servers"][0], ORIGIN);
        assert_eq!(root["scopes_supported"], json!(["images:read", "images:write"]));
        assert_eq!(
            protected_resource_metadata(ORIGIN, Some("/sse"))["resource"],
            "https://img.example.com/sse"
        );
        let server = authorization_server_metadata(ORIGIN);
        assert_eq!(server["issuer"], ORIGIN);
        assert_eq!(server["token_endpoint"], "https://img.example.com/oauth/token");
        assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            server["token_endpoint_auth_methods_supported"],
            json!(["none", "client_secret_post", "client_secret_basic"])
        );
        assert_eq!(server["client_id_metadata_document_supported"], true);
        assert_eq!(server["authorization_response_iss_parameter_supported"], true);
    }

    #[test]
    fn challenges_point_at_the_endpoint_document_and_name_scopes() {
        let missing = challenge(ORIGIN, Some("/mcp"), &Challenge::Missing);
        assert!(missing.starts_with("Bearer realm="), "{missing}");
        assert!(
            missing.contains("resource_metadata=\"https://img.example.com/.well-known/oauth-protected-resource/mcp\"")
        );
        assert!(missing.contains("scope=\"images:read images:write\""));
        assert!(challenge(ORIGIN, Some("/sse"), &Challenge::InvalidToken).contains("error=\"invalid_token\""));
        let forbidden = challenge(
            ORIGIN,
            Some("/mcp"),
            &Challenge::InsufficientScope {
                needed: Scope::Write,
                held: Scopes::of(&[Scope::Read]),
            },
        );
        assert!(forbidden.contains("error=\"insufficient_scope\""), "{forbidden}");
        assert!(forbidden.contains("scope=\"images:read images:write\""), "{forbidden}");
        assert!(forbidden.contains("needs the images:write scope"), "{forbidden}");
    }

    #[test]
    fn message_posts_belong_to_the_sse_endpoint() {
        assert_eq!(protected_endpoint("/sse/message"), Some("/sse"));
        assert_eq!(protected_endpoint("/mcp"), Some("/mcp"));
        assert_eq!(protected_endpoint("/gallery"), None);
        assert_eq!(resource_identifiers(ORIGIN).len(), 3);
    }
}
