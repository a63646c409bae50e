//! Parsing what clients send the authorization server: authorize and token requests (RFC 6749,
//! 7636, 8707), registration bodies (RFC 7591) and Client ID Metadata Documents, plus the URL
//! rules they share (redirect URIs, RFC 8252 loopback matching, `client_id` URLs).
//!
//! Pure functions over decoded form pairs and JSON text; every refusal is an [`OAuthError`] in
//! RFC 6749's vocabulary, so the endpoints only choose how to send it.

use serde_json::Value;

use super::secrets;
use crate::access::Scopes;
use crate::http::url::RequestUrl;

/// Longest `state`, `client_id`, redirect URI or other single parameter we keep.
pub const PARAM_MAX_CHARS: usize = 2_048;
/// Longest client name kept (longer ones are cut).
pub const CLIENT_NAME_MAX_CHARS: usize = 100;
/// Most redirect URIs one client may register.
pub const REDIRECT_URIS_MAX: usize = 10;

/// An OAuth error: `error` from RFC 6749's (or RFC 7591's) list, and a description for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            error,
            description: description.into(),
        }
    }

    fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_request", description)
    }

    /// The JSON body of an error answer (RFC 6749 §5.2).
    pub fn to_json(&self) -> Value {
        serde_json::json!({"error": self.error, "error_description": self.description})
    }
}

/// The one value of a parameter: absent is None, sent twice is an error (RFC 6749 §3.1), and
/// values past [`PARAM_MAX_CHARS`] are refused rather than stored.
pub fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, OAuthError> {
    let mut values = pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(OAuthError::invalid_request(format!("{name} is given more than once")));
    }
    match first {
        Some(value) if value.chars().count() > PARAM_MAX_CHARS => Err(OAuthError::invalid_request(format!(
            "{name} is longer than {PARAM_MAX_CHARS} characters"
        ))),
        Some("") => Ok(None),
        other => Ok(other),
    }
}

fn required<'a>(pairs: &'a [(String, String)], name: &str) -> Result<&'a str, OAuthError> {
    single(pairs, name)?.ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
}

// --- URLs -----------------------------------------------------------------------------------

/// Whether `host` (without port, IPv6 in brackets) is a loopback host of RFC 8252 §7.3.
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host == "[::1]" || (host.starts_with("127.") && host.split('.').count() == 4)
}

/// An absolute URL without spaces, control characters, fragment or user info, split.
fn strict_url(text: &str) -> Option<RequestUrl<'_>> {
    if text.is_empty()
        || text.len() > PARAM_MAX_CHARS
        || text.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\')
        || text.contains('#')
    {
        return None;
    }
    let url = RequestUrl::parse(text)?;
    let authority = text.split_once("://")?.1.split(['/', '?']).next().unwrap_or("");
    (!authority.contains('@') && valid_authority(&url)).then_some(url)
}

/// A host of letters, digits, `-` and `.` (or a bracketed IPv6 address) and an optional port.
fn valid_authority(url: &RequestUrl) -> bool {
    let host = url.host();
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ipv6) => !ipv6.is_empty() && ipv6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.'),
        None => host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
    };
    let port = &url.authority[host.len()..];
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| {
            !p.is_empty()
                && p.len() <= 5
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= 65_535)
        });
    host_ok && port_ok
}

/// Whether a client may register `uri` as a redirect URI (OAuth 2.1 §2.3.1, RFC 8252): https,
/// http on a loopback host, or a private-use scheme of a native app (`com.example.app:/cb`).
/// Never `javascript:`, `data:`, `file:` or a fragment.
pub fn valid_redirect_uri(uri: &str) -> bool {
    if let Some(url) = strict_url(uri) {
        return match &*url.scheme {
            "https" => !url.host().is_empty(),
            "http" => is_loopback_host(url.host()),
            "javascript" | "data" | "file" | "blob" | "vbscript" | "about" => false,
            _ => !url.authority.is_empty(),
        };
    }
    // Private-use schemes are often written `scheme:/path` (RFC 8252 §7.1), with one slash.
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.contains('.')
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    scheme_ok
        && rest.starts_with('/')
        && uri.len() <= PARAM_MAX_CHARS
        && !uri.contains('#')
        && !uri.bytes().any(|b| b <= b' ' || b == 0x7f)
}

/// Whether a presented redirect URI matches a registered one: exactly, except that a loopback
/// http URI matches on any port (RFC 8252 §7.3), the rest of it exactly.
pub fn redirect_uri_matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    let (Some(a), Some(b)) = (strict_url(registered), strict_url(presented)) else {
        return false;
    };
    let loopback = a.scheme == "http" && is_loopback_host(a.host());
    loopback && b.scheme == "http" && a.host() == b.host() && a.path == b.path && a.query == b.query
}

/// What a `client_id` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIdKind {
    /// One this server issued at registration.
    Registered,
    /// A Client ID Metadata Document's URL, to fetch.
    MetadataDocument,
    /// A URL we will not fetch, and why.
    Refused(&'static str),
}

/// Classifies a `client_id`: an https URL with a path is a metadata document; an http URL only
/// on a loopback host, and only when `allow_loopback_http` (a test setting, off by default).
pub fn client_id_kind(client_id: &str, allow_loopback_http: bool) -> ClientIdKind {
    let lower = client_id.to_ascii_lowercase();
    if !lower.starts_with("https://") && !lower.starts_with("http://") {
        return ClientIdKind::Registered;
    }
    let Some(url) = strict_url(client_id) else {
        return ClientIdKind::Refused("a client_id URL must be an absolute URL without fragment or user info");
    };
    if url.host().is_empty() || url.path == "/" {
        return ClientIdKind::Refused("a client_id URL must name a host and a path");
    }
    if url.path.split('/').any(|segment| segment == "." || segment == "..") {
        return ClientIdKind::Refused("a client_id URL must not have dot segments");
    }
    match &*url.scheme {
        "https" => ClientIdKind::MetadataDocument,
        "http" if allow_loopback_http && is_loopback_host(url.host()) => ClientIdKind::MetadataDocument,
        _ => ClientIdKind::Refused("a client_id URL must use https"),
    }
}

/// The resource a request names (RFC 8707), checked against this server's identifiers: the
/// origin, `<origin>/mcp` or `<origin>/sse` (a trailing slash is ignored). None means the
/// client named none (older clients): the grant is then for this server, its origin.
pub fn own_resource(origin: &str, requested: Option<&str>) -> Result<String, OAuthError> {
    let Some(requested) = requested else {
        return Ok(origin.to_string());
    };
    let trimmed = requested.trim_end_matches('/');
    let ours = super::resource_identifiers(origin);
    ours.into_iter().find(|id| id == trimmed).ok_or_else(|| {
        OAuthError::new(
            "invalid_target",
            "resource is not this server: use its origin, its /mcp or its /sse URL",
        )
    })
}

// --- Authorization requests -----------------------------------------------------------------

/// Where an authorization request's answer goes: until both are checked against the client, no
/// error may be sent there (RFC 6749 §4.1.2.1), so these are read first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeTarget {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
}

/// Reads `client_id`, `redirect_uri` and `state`. An error here is shown on our own page.
pub fn authorize_target(pairs: &[(String, String)]) -> Result<AuthorizeTarget, OAuthError> {
    let client_id = required(pairs, "client_id")?.to_string();
    // OAuth 2.1 makes redirect_uri required when a client could have several; we always ask.
    let redirect_uri = required(pairs, "redirect_uri")?.to_string();
    let state = single(pairs, "state")?.map(String::from);
    Ok(AuthorizeTarget {
        client_id,
        redirect_uri,
        state,
    })
}

/// A checked authorization request (after its target was checked against the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub target: AuthorizeTarget,
    pub code_challenge: String,
    /// The known scopes asked for; all of them when none (or none we know) were asked.
    pub scopes: Scopes,
    /// The resource the grant is for (this server's origin when none was named).
    pub resource: String,
}

/// Reads and checks the rest of an authorization request: `response_type=code`, a PKCE S256
/// challenge (`plain` is refused), scopes (unknown ones dropped) and the resource.
pub fn authorize_request(pairs: &[(String, String)], origin: &str) -> Result<AuthorizeRequest, OAuthError> {
    let target = authorize_target(pairs)?;
    match single(pairs, "response_type")? {
        Some("code") => {}
        None => return Err(OAuthError::invalid_request("response_type is required (code)")),
        Some(_) => {
            return Err(OAuthError::new(
                "unsupported_response_type",
                "only response_type=code is supported",
            ))
        }
    }
    let challenge = single(pairs, "code_challenge")?.ok_or_else(|| {
        OAuthError::invalid_request("PKCE is required: send code_challenge with code_challenge_method=S256")
    })?;
    match single(pairs, "code_challenge_method")? {
        Some("S256") => {}
        Some("plain") | None => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method must be S256 (plain is not accepted)",
            ))
        }
        Some(_) => return Err(OAuthError::invalid_request("code_challenge_method must be S256")),
    }
    if !secrets::valid_s256_challenge(challenge) {
        return Err(OAuthError::invalid_request(
            "code_challenge must be 43 base64url characters (an S256 challenge)",
        ));
    }
    let scopes = match single(pairs, "scope")?.map(Scopes::parse_known) {
        Some(known) if !known.is_empty() => known,
        _ => Scopes::ALL,
    };
    let resource = own_resource(origin, single(pairs, "resource")?)?;
    Ok(AuthorizeRequest {
        target,
        code_challenge: challenge.to_string(),
        scopes,
        resource,
    })
}

// --- Token requests -------------------------------------------------------------------------

/// A token request's grant (RFC 6749 §4.1.3 and §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    AuthorizationCode {
        code: String,
        redirect_uri: String,
        code_verifier: String,
        resource: Option<String>,
    },
    RefreshToken {
        refresh_token: String,
        /// A narrower set of the grant's scopes, when asked (RFC 6749 §6).
        scope: Option<Scopes>,
        resource: Option<String>,
    },
}

/// Reads a token request's grant from its form fields.
pub fn token_request(pairs: &[(String, String)]) -> Result<TokenRequest, OAuthError> {
    let grant_type = required(pairs, "grant_type")?;
    let resource = single(pairs, "resource")?.map(String::from);
    match grant_type {
        "authorization_code" => {
            let code_verifier = single(pairs, "code_verifier")?
                .ok_or_else(|| OAuthError::new("invalid_grant", "code_verifier is required (PKCE)"))?;
            Ok(TokenRequest::AuthorizationCode {
                code: required(pairs, "code")?.to_string(),
                redirect_uri: required(pairs, "redirect_uri")?.to_string(),
                code_verifier: code_verifier.to_string(),
                resource,
            })
        }
        "refresh_token" => Ok(TokenRequest::RefreshToken {
            refresh_token: required(pairs, "refresh_token")?.to_string(),
            scope: single(pairs, "scope")?.map(Scopes::parse_known),
            resource,
        }),
        _ => Err(OAuthError::new(
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        )),
    }
}

/// How a client authenticated at the token or revocation endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<String>,
}

/// The client's credentials: HTTP Basic (already decoded: `client_id`, `client_secret`), or
/// `client_id` and `client_secret` in the body; never both ways at once (RFC 6749 §2.3).
pub fn client_credentials(
    pairs: &[(String, String)],
    basic: Option<(String, String)>,
) -> Result<ClientCredentials, OAuthError> {
    let body_id = single(pairs, "client_id")?;
    let body_secret = single(pairs, "client_secret")?;
    match basic {
        Some((id, secret)) => {
            if body_secret.is_some() || body_id.is_some_and(|body| body != id) {
                return Err(OAuthError::invalid_request(
                    "use one way of client authentication, not both",
                ));
            }
            Ok(ClientCredentials {
                client_id: id,
                secret: Some(secret),
            })
        }
        None => Ok(ClientCredentials {
            client_id: body_id
                .ok_or_else(|| OAuthError::new("invalid_client", "client_id is required"))?
                .to_string(),
            secret: body_secret.map(String::from),
        }),
    }
}

// --- Client metadata --------------------------------------------------------------------------

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    None,
    ClientSecretPost,
    ClientSecretBasic,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 3] = [
        AuthMethod::None,
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretBasic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
        }
    }

    pub fn from_name(name: &str) -> Option<AuthMethod> {
        AuthMethod::ALL.into_iter().find(|method| method.name() == name)
    }

    pub fn has_secret(self) -> bool {
        self != AuthMethod::None
    }
}

/// What a client says about itself: a registration body or a metadata document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMetadata {
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub auth_method: AuthMethod,
}

fn metadata_error(description: impl Into<String>) -> OAuthError {
    OAuthError::new("invalid_client_metadata", description)
}

/// The fields registration bodies and metadata documents share. `default_method` applies when
/// `token_endpoint_auth_method` is absent.
fn client_metadata(
    object: &serde_json::Map<String, Value>,
    default_method: AuthMethod,
) -> Result<ClientMetadata, OAuthError> {
    let uris = match object.get("redirect_uris") {
        Some(Value::Array(uris)) if !uris.is_empty() => uris,
        _ => {
            return Err(OAuthError::new(
                "invalid_redirect_uri",
                "redirect_uris must be a non-empty array of URLs",
            ))
        }
    };
    if uris.len() > REDIRECT_URIS_MAX {
        return Err(OAuthError::new(
            "invalid_redirect_uri",
            format!("at most {REDIRECT_URIS_MAX} redirect_uris"),
        ));
    }
    let mut redirect_uris = Vec::with_capacity(uris.len());
    for uri in uris {
        match uri.as_str() {
            Some(uri) if valid_redirect_uri(uri) => redirect_uris.push(uri.to_string()),
            _ => {
                return Err(OAuthError::new(
                    "invalid_redirect_uri",
                    "each redirect URI must be https, http on a loopback host (127.0.0.1, [::1], localhost) or an app's private-use scheme, without a fragment",
                ))
            }
        }
    }
    let auth_method = match object.get("token_endpoint_auth_method") {
        None | Some(Value::Null) => default_method,
        Some(Value::String(name)) => AuthMethod::from_name(name).ok_or_else(|| {
            metadata_error("token_endpoint_auth_method must be none, client_secret_post or client_secret_basic")
        })?,
        Some(_) => return Err(metadata_error("token_endpoint_auth_method must be a string")),
    };
    let listed = |field: &str, allowed: &[&str]| -> Result<(), OAuthError> {
        match object.get(field) {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Array(items)) if items.iter().all(|i| i.as_str().is_some_and(|s| allowed.contains(&s))) => {
                Ok(())
            }
            Some(_) => Err(metadata_error(format!("{field} may list only {}", allowed.join(", ")))),
        }
    };
    listed("grant_types", &["authorization_code", "refresh_token"])?;
    listed("response_types", &["code"])?;
    let client_name = match object.get("client_name") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(name)) => name
            .chars()
            .filter(|c| !c.is_control())
            .take(CLIENT_NAME_MAX_CHARS)
            .collect::<String>()
            .trim()
            .to_string(),
        Some(_) => return Err(metadata_error("client_name must be a string")),
    };
    Ok(ClientMetadata {
        client_name,
        redirect_uris,
        auth_method,
    })
}

/// Reads a Dynamic Client Registration body (RFC 7591 §2). Without
/// `token_endpoint_auth_method` the client is public (`none`), which is what MCP hosts register.
pub fn registration(body: &str) -> Result<ClientMetadata, OAuthError> {
    let value: Value =
        serde_json::from_str(body).map_err(|_| metadata_error("the registration body must be a JSON object"))?;
    let Value::Object(object) = value else {
        return Err(metadata_error("the registration body must be a JSON object"));
    };
    client_metadata(&object, AuthMethod::None)
}

/// Reads a Client ID Metadata Document fetched from `url`: a JSON object whose `client_id` is
/// exactly that URL. Such clients are public (no secret can be in a public document).
pub fn metadata_document(url: &str, body: &[u8]) -> Result<ClientMetadata, OAuthError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| OAuthError::new("invalid_client", "the client's metadata document is not JSON"))?;
    let Value::Object(object) = value else {
        return Err(OAuthError::new(
            "invalid_client",
            "the client's metadata document is not a JSON object",
        ));
    };
    if object.get("client_id").and_then(Value::as_str) != Some(url) {
        return Err(OAuthError::new(
            "invalid_client",
            "the client's metadata document names another client_id than its URL",
        ));
    }
    if object.contains_key("client_secret") {
        return Err(OAuthError::new(
            "invalid_client",
            "a client metadata document must not hold a client_secret",
        ));
    }
    let metadata = client_metadata(&object, AuthMethod::None)
        .map_err(|error| OAuthError::new("invalid_client", format!("metadata document: {}", error.description)))?;
    if metadata.auth_method != AuthMethod::None {
        return Err(OAuthError::new(
            "invalid_client",
            "a client identified by a metadata document authenticates with `none` here",
        ));
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://img.example.com";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    fn authorize(extra: &[(&str, &str)]) -> Result<AuthorizeRequest, OAuthError> {
        let mut items = vec![
            ("response_type", "code"),
            ("client_id", "abc"),
            ("redirect_uri", "https://claude.ai/api/mcp/auth_callback"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (name, value) in extra {
            items.retain(|(n, _)| n != name);
            if !value.is_empty() {
                items.push((name, value));
            }
        }
        authorize_request(&pairs(&items), ORIGIN)
    }

    #[test]
    fn a_complete_request_is_read_with_defaults() {
        let request = authorize(&[("state", "xyz")]).unwrap();
        assert_eq!(request.target.state.as_deref(), Some("xyz"));
        assert_eq!(request.scopes, Scopes::ALL);
        assert_eq!(request.resource, ORIGIN);
    }

    #[test]
    fn pkce_is_required_and_plain_refused() {
        for (extra, expected) in [
            (vec![("code_challenge", "")], "PKCE is required"),
            (vec![("code_challenge_method", "plain")], "plain"),
            (vec![("code_challenge_method", "")], "S256"),
            (vec![("code_challenge", "short")], "43"),
        ] {
            let error = authorize(&extra).unwrap_err();
            assert_eq!(error.error, "invalid_request");
            assert!(error.description.contains(expected), "{error:?}");
        }
        assert_eq!(
            authorize(&[("response_type", "token")]).unwrap_err().error,
            "unsupported_response_type"
        );
    }

    #[test]
    fn unknown_scopes_are_dropped_not_refused() {
        assert_eq!(
            authorize(&[("scope", "openid images:read")]).unwrap().scopes.to_text(),
            "images:read"
        );
        assert_eq!(authorize(&[("scope", "openid")]).unwrap().scopes, Scopes::ALL);
    }

    #[test]
    fn resources_must_be_this_server() {
        for ok in [
            ORIGIN,
            "https://img.example.com/",
            "https://img.example.com/mcp",
            "https://img.example.com/sse",
        ] {
            assert_eq!(
                authorize(&[("resource", ok)]).unwrap().resource,
                ok.trim_end_matches('/')
            );
        }
        for bad in [
            "https://other.example.com/mcp",
            "https://img.example.com/gallery",
            "https://img.example.com.evil/mcp",
        ] {
            assert_eq!(authorize(&[("resource", bad)]).unwrap_err().error, "invalid_target");
        }
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let mut items = pairs(&[("client_id", "a"), ("redirect_uri", "https://x.example/cb")]);
        items.push(("client_id".into(), "b".into()));
        assert!(authorize_target(&items)
            .unwrap_err()
            .description
            .contains("more than once"));
    }

    #[test]
    fn loopback_redirects_match_on_any_port_others_exactly() {
        let registered = "http://127.0.0.1:33418/callback";
        assert!(redirect_uri_matches(registered, "http://127.0.0.1:50123/callback"));
        assert!(redirect_uri_matches("http://localhost/cb", "http://localhost:8080/cb"));
        assert!(redirect_uri_matches("http://[::1]:1/cb", "http://[::1]:2/cb"));
        assert!(!redirect_uri_matches(registered, "http://127.0.0.1:50123/other"));
        assert!(!redirect_uri_matches(registered, "http://localhost:33418/callback"));
        assert!(!redirect_uri_matches(
            "https://a.example/cb",
            "https://a.example:444/cb"
        ));
        assert!(!redirect_uri_matches("https://a.example/cb", "https://a.example/cb/"));
        assert!(redirect_uri_matches("https://a.example/cb", "https://a.example/cb"));
    }

    #[test]
    fn redirect_uris_are_https_loopback_or_private_use() {
        for ok in [
            "https://claude.ai/api/mcp/auth_callback",
            "https://chatgpt.com/connector_platform_oauth_redirect",
            "http://127.0.0.1:6274/oauth/callback",
            "http://localhost/cb",
            "com.example.app:/oauth2redirect",
            "cursor://anysphere.cursor-mcp/oauth/callback",
        ] {
            assert!(valid_redirect_uri(ok), "{ok}");
        }
        for bad in [
            "http://evil.example/cb",
            "javascript://x/%0aalert(1)",
            "https://a.example/cb#frag",
            "https://user@a.example/cb",
            "data:text/html,hi",
            "/relative",
            "https:// spaced.example/",
            "https://%/cb",
            "https://a.example:99999/cb",
            "",
        ] {
            assert!(!valid_redirect_uri(bad), "{bad}");
        }
    }

    #[test]
    fn client_ids_are_classified() {
        assert_eq!(client_id_kind("0123abcd", false), ClientIdKind::Registered);
        assert_eq!(
            client_id_kind("https://app.example/oauth/client.json", false),
            ClientIdKind::MetadataDocument
        );
        assert!(matches!(
            client_id_kind("https://app.example/", false),
            ClientIdKind::Refused(_)
        ));
        assert!(matches!(
            client_id_kind("https://app.example/a/../b", false),
            ClientIdKind::Refused(_)
        ));
        assert!(matches!(
            client_id_kind("http://app.example/c.json", true),
            ClientIdKind::Refused(_)
        ));
        assert!(matches!(
            client_id_kind("http://127.0.0.1:9/c.json", false),
            ClientIdKind::Refused(_)
        ));
        assert_eq!(
            client_id_kind("http://127.0.0.1:9/c.json", true),
            ClientIdKind::MetadataDocument
        );
    }

    #[test]
    fn token_requests_are_read_per_grant_type() {
        let code = token_request(&pairs(&[
            ("grant_type", "authorization_code"),
            ("code", "c"),
            ("redirect_uri", "https://a.example/cb"),
            ("code_verifier", "v"),
        ]))
        .unwrap();
        assert!(matches!(code, TokenRequest::AuthorizationCode { .. }));
        let missing = token_request(&pairs(&[("grant_type", "authorization_code"), ("code", "c")])).unwrap_err();
        assert_eq!(missing.error, "invalid_grant");
        let refresh = token_request(&pairs(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "r"),
            ("scope", "images:read"),
        ]))
        .unwrap();
        assert_eq!(
            refresh,
            TokenRequest::RefreshToken {
                refresh_token: "r".into(),
                scope: Some(Scopes::parse_known("images:read")),
                resource: None
            }
        );
        assert_eq!(
            token_request(&pairs(&[("grant_type", "password")])).unwrap_err().error,
            "unsupported_grant_type"
        );
    }

    #[test]
    fn client_credentials_come_one_way() {
        let basic = Some(("id".to_string(), "secret".to_string()));
        assert_eq!(
            client_credentials(&[], basic.clone()).unwrap().secret.as_deref(),
            Some("secret")
        );
        assert!(client_credentials(&pairs(&[("client_secret", "s")]), basic).is_err());
        assert_eq!(client_credentials(&[], None).unwrap_err().error, "invalid_client");
        let public = client_credentials(&pairs(&[("client_id", "id")]), None).unwrap();
        assert_eq!((public.client_id.as_str(), public.secret), ("id", None));
    }

    #[test]
    fn registrations_are_checked() {
        let ok = registration(r#"{"redirect_uris":["http://127.0.0.1:1/cb"],"client_name":"Claude","grant_types":["authorization_code","refresh_token"]}"#).unwrap();
        assert_eq!((ok.client_name.as_str(), ok.auth_method), ("Claude", AuthMethod::None));
        let secret = registration(
            r#"{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"client_secret_basic"}"#,
        )
        .unwrap();
        assert!(secret.auth_method.has_secret());
        for (body, error) in [
            ("[]", "invalid_client_metadata"),
            ("{}", "invalid_redirect_uri"),
            (
                r#"{"redirect_uris":["http://evil.example/cb"]}"#,
                "invalid_redirect_uri",
            ),
            (
                r#"{"redirect_uris":["https://a.example/cb"],"grant_types":["implicit"]}"#,
                "invalid_client_metadata",
            ),
            (
                r#"{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}"#,
                "invalid_client_metadata",
            ),
        ] {
            assert_eq!(registration(body).unwrap_err().error, error, "{body}");
        }
    }

    #[test]
    fn metadata_documents_must_name_their_own_url() {
        let url = "https://app.example/client.json";
        let body = format!(r#"{{"client_id":"{url}","client_name":"App","redirect_uris":["https://app.example/cb"]}}"#);
        assert_eq!(metadata_document(url, body.as_bytes()).unwrap().client_name, "App");
        let other = body.replace("client.json", "other.json");
        assert!(metadata_document(url, other.as_bytes())
            .unwrap_err()
            .description
            .contains("another client_id"));
        assert!(metadata_document(url, b"<html>")
            .unwrap_err()
            .description
            .contains("not JSON"));
        let secret = body.replace("\"client_name\"", "\"client_secret\":\"x\",\"client_name\"");
        assert!(metadata_document(url, secret.as_bytes()).is_err());
    }
}
