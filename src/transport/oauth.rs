//! The authorization server's HTTP endpoints: the metadata documents (RFC 9728, RFC 8414),
//! registration (RFC 7591), the token endpoint (RFC 6749 §3.2, PKCE per RFC 7636, resources
//! per RFC 8707) and revocation (RFC 7009). The authorization endpoint and its consent page are
//! the gallery's (`crate::pages::gallery::authorize`), which owns the sign-in cookie and CSP.

use serde_json::{json, Value};
use worker::{Env, Method, Request, Response};

use crate::access::{constant_time_eq, credential_fingerprint, Scopes};
use crate::config::Config;
use crate::http::body::{read_limited_bytes, BodyError};
use crate::http::{form, request_origin};
use crate::oauth::requests::{self, ClientIdKind, OAuthError, TokenRequest};
use crate::oauth::secrets::{hash, pkce_matches};
use crate::oauth::store::{Client, OAuthStore};
use crate::oauth::{paths, sql::TokenGrant, ACCESS_TOKEN_LIFETIME_MS, PROTECTED_ENDPOINTS};
use crate::promise::cold;

/// Largest registration, token or revocation body read.
pub const BODY_MAX_BYTES: usize = 16 * 1024;

/// Whether a path is one of the authorization server's.
pub fn owns(path: &str) -> bool {
    path.starts_with("/.well-known/") || path.starts_with("/oauth/")
}

pub async fn handle(req: Request, path: &str, env: &Env) -> worker::Result<Response> {
    let origin = request_origin(&req);
    let method = req.method();
    let readable = matches!(method, Method::Get | Method::Head);
    // Each endpoint that awaits does so in a future of its own (`cold`), compiled on its first
    // request only (bench/README.md, twenty-seventh pass).
    match path {
        paths::PROTECTED_RESOURCE if readable => metadata(&crate::oauth::protected_resource_metadata(&origin, None)),
        p if readable && p.starts_with(paths::PROTECTED_RESOURCE) => {
            let endpoint = &p[paths::PROTECTED_RESOURCE.len()..];
            match PROTECTED_ENDPOINTS.iter().find(|e| **e == endpoint) {
                Some(endpoint) => metadata(&crate::oauth::protected_resource_metadata(&origin, Some(endpoint))),
                None => not_found(path),
            }
        }
        paths::AUTHORIZATION_SERVER if readable => metadata(&crate::oauth::authorization_server_metadata(&origin)),
        paths::AUTHORIZE if readable || method == Method::Post => {
            cold(crate::pages::gallery::authorize(req, env.clone())).await
        }
        paths::REGISTER if method == Method::Post => cold(register(req, env)).await,
        paths::TOKEN if method == Method::Post => cold(token(req, env, &origin)).await,
        paths::REVOKE if method == Method::Post => cold(revoke(req, env)).await,
        paths::REGISTER | paths::TOKEN | paths::REVOKE => {
            let mut response = oauth_error(405, &OAuthError::new("invalid_request", "use POST"))?;
            response.headers_mut().set("Allow", "POST")?;
            Ok(response)
        }
        // No OpenID Connect: its discovery document does not exist here.
        paths::OPENID_CONFIGURATION => not_found(path),
        _ => not_found(path),
    }
}

fn not_found(path: &str) -> worker::Result<Response> {
    crate::http::json_response(404, &json!({"error": "not found", "path": crate::catalog::echo(path)}))
}

fn metadata(document: &Value) -> worker::Result<Response> {
    let mut response = crate::http::json_response(200, document)?;
    response.headers_mut().set("Cache-Control", "public, max-age=300")?;
    Ok(response)
}

/// A JSON answer that must never be cached (RFC 6749 §5.1).
fn no_store(status: u16, body: &Value) -> worker::Result<Response> {
    let mut response = crate::http::json_response(status, body)?;
    response.headers_mut().set("Cache-Control", "no-store")?;
    response.headers_mut().set("Pragma", "no-cache")?;
    Ok(response)
}

/// An error in RFC 6749 §5.2's shape. `invalid_client` is a 401 with a Basic challenge.
fn oauth_error(status: u16, error: &OAuthError) -> worker::Result<Response> {
    let mut response = no_store(status, &error.to_json())?;
    if status == 401 {
        response
            .headers_mut()
            .set("WWW-Authenticate", "Basic realm=\"oauth\"")?;
    }
    Ok(response)
}

fn status_of(error: &OAuthError) -> u16 {
    match error.error {
        "invalid_client" => 401,
        "server_error" => 500,
        _ => 400,
    }
}

fn store(env: &Env) -> worker::Result<OAuthStore> {
    Ok(OAuthStore::new(crate::bindings::db(env)?))
}

fn db_failed(error: impl std::fmt::Display) -> OAuthError {
    worker::console_error!("oauth: {error}");
    OAuthError::new("server_error", "storage is unavailable; try again")
}

/// The body, at most [`BODY_MAX_BYTES`], as text.
async fn read_body(req: &mut Request) -> worker::Result<Result<String, OAuthError>> {
    match read_limited_bytes(req, BODY_MAX_BYTES).await {
        Ok(bytes) => Ok(Ok(String::from_utf8_lossy(&bytes).into_owned())),
        Err(BodyError::TooLarge(_)) => Ok(Err(OAuthError::new(
            "invalid_request",
            format!("the body may be at most {BODY_MAX_BYTES} bytes"),
        ))),
        Err(BodyError::Read(error)) => Err(error),
    }
}

/// The form fields of a token or revocation request (`application/x-www-form-urlencoded`).
async fn read_form(req: &mut Request) -> worker::Result<Result<Vec<(String, String)>, OAuthError>> {
    let content_type = req.headers().get("Content-Type")?.unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Ok(Err(OAuthError::new(
            "invalid_request",
            "send the request as application/x-www-form-urlencoded",
        )));
    }
    Ok(read_body(req).await?.map(|body| form::parse(&body)))
}

/// POST /oauth/register (RFC 7591): public clients get no secret; confidential ones get one,
/// stored hashed. Registration needs no credentials, so each client address may register only
/// [`crate::catalog::REGISTRATIONS_PER_PERIOD`] clients a period (HTTP 429 past that).
async fn register(mut req: Request, env: &Env) -> worker::Result<Response> {
    let address = req.headers().get("CF-Connecting-IP")?;
    if crate::rate_limit::check_registration(env, address.as_deref()).await == crate::rate_limit::Verdict::Limited {
        return too_many_registrations();
    }
    let body = match read_body(&mut req).await? {
        Ok(body) => body,
        Err(error) => return oauth_error(400, &error),
    };
    let metadata = match requests::registration(&body) {
        Ok(metadata) => metadata,
        Err(error) => return oauth_error(400, &error),
    };
    let now = crate::time::now_ms();
    let (client_id, secret) = match store(env)?.register(&metadata, now).await {
        Ok(registered) => registered,
        Err(error) => return oauth_error(500, &db_failed(error)),
    };
    worker::console_log!("oauth: registered client {} ({})", client_id, metadata.client_name);
    let mut answer = json!({
        "client_id": client_id,
        "client_id_issued_at": now / 1000,
        "client_name": metadata.client_name,
        "redirect_uris": metadata.redirect_uris,
        "token_endpoint_auth_method": metadata.auth_method.name(),
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    });
    if let Some(secret) = secret {
        answer["client_secret"] = json!(secret);
        answer["client_secret_expires_at"] = json!(0);
    }
    no_store(201, &answer)
}

/// The answer past the registration limit: 429 with `Retry-After`, in RFC 6749 §5.2's shape.
fn too_many_registrations() -> worker::Result<Response> {
    use crate::catalog::{RATE_LIMIT_PERIOD_SECONDS, REGISTRATIONS_PER_PERIOD};
    let error = OAuthError::new(
        "temporarily_unavailable",
        format!(
            "too many client registrations from this address: at most {REGISTRATIONS_PER_PERIOD} every \
             {RATE_LIMIT_PERIOD_SECONDS} s; try again in {RATE_LIMIT_PERIOD_SECONDS} s"
        ),
    );
    let mut response = oauth_error(429, &error)?;
    response
        .headers_mut()
        .set("Retry-After", &RATE_LIMIT_PERIOD_SECONDS.to_string())?;
    Ok(response)
}

/// `client_id:client_secret` of an HTTP Basic header, each form-decoded (RFC 6749 §2.3.1).
fn basic_credentials(header: Option<&str>) -> Result<Option<(String, String)>, OAuthError> {
    let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(None);
    };
    let bad = || OAuthError::new("invalid_client", "malformed Basic client authentication");
    let (scheme, encoded) = header.split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = crate::media::base64_decode(encoded.trim()).ok_or_else(bad)?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    let decode = |value: &str| {
        form::parse(&format!("v={value}"))
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or_default()
    };
    Ok(Some((decode(id), decode(secret))))
}

/// The authenticated client of a token or revocation request.
async fn authenticate_client(
    req: &Request,
    pairs: &[(String, String)],
    store: &OAuthStore,
    config: &Config,
) -> worker::Result<Result<Client, OAuthError>> {
    let basic = match basic_credentials(req.headers().get("Authorization")?.as_deref()) {
        Ok(basic) => basic,
        Err(error) => return Ok(Err(error)),
    };
    let credentials = match requests::client_credentials(pairs, basic) {
        Ok(credentials) => credentials,
        Err(error) => return Ok(Err(error)),
    };
    let unknown = || OAuthError::new("invalid_client", "unknown client or wrong client credentials");
    let client = match requests::client_id_kind(&credentials.client_id, config.oauth_allow_http_loopback_client_ids) {
        // A metadata-document client is public: it is known by the code or token it presents.
        ClientIdKind::MetadataDocument => Client {
            client_id: credentials.client_id.clone(),
            kind: "cimd".into(),
            client_name: String::new(),
            redirect_uris: vec![],
            auth_method: requests::AuthMethod::None,
            secret_hash: None,
            expires_at: None,
        },
        ClientIdKind::Refused(_) => return Ok(Err(unknown())),
        ClientIdKind::Registered => match store.client(&credentials.client_id).await {
            Ok(Some(client)) if client.kind == "dcr" => client,
            Ok(_) => return Ok(Err(unknown())),
            Err(error) => return Ok(Err(db_failed(error))),
        },
    };
    let secret_ok = match (&client.secret_hash, &credentials.secret) {
        (Some(stored), Some(given)) => constant_time_eq(stored.as_bytes(), hash(given).as_bytes()),
        (None, None) => true,
        _ => false,
    };
    Ok(if secret_ok { Ok(client) } else { Err(unknown()) })
}

/// What the token and revocation endpoints start from: the configuration, the form and the
/// client it authenticates.
struct AuthenticatedForm {
    config: std::rc::Rc<Config>,
    pairs: Vec<(String, String)>,
    store: OAuthStore,
    client: Client,
}

/// The opening both the token and revocation endpoints share: the configuration (500 when it is
/// broken), the form (400), the store, then the client's authentication (`invalid_client`).
/// `Err` is the status and OAuth error to answer with.
async fn authenticated_form(
    req: &mut Request,
    env: &Env,
) -> worker::Result<Result<AuthenticatedForm, (u16, OAuthError)>> {
    let config = match Config::from_env(env) {
        Ok(config) => config,
        Err(error) => return Ok(Err((500, OAuthError::new("server_error", error.to_string())))),
    };
    let pairs = match read_form(req).await? {
        Ok(pairs) => pairs,
        Err(error) => return Ok(Err((400, error))),
    };
    let store = store(env)?;
    let client = match authenticate_client(req, &pairs, &store, &config).await? {
        Ok(client) => client,
        Err(error) => return Ok(Err((status_of(&error), error))),
    };
    Ok(Ok(AuthenticatedForm {
        config,
        pairs,
        store,
        client,
    }))
}

/// POST /oauth/token.
async fn token(mut req: Request, env: &Env, origin: &str) -> worker::Result<Response> {
    let AuthenticatedForm {
        config,
        pairs,
        store,
        client,
    } = match authenticated_form(&mut req, env).await? {
        Ok(form) => form,
        Err((status, error)) => return oauth_error(status, &error),
    };
    let request = match requests::token_request(&pairs) {
        Ok(request) => request,
        Err(error) => return oauth_error(400, &error),
    };
    let now = crate::time::now_ms();
    let issued = match request {
        TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
            resource,
        } => {
            cold(exchange_code(
                &store,
                &config,
                &client,
                origin,
                now,
                &code,
                &redirect_uri,
                &code_verifier,
                resource,
            ))
            .await
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
            resource,
        } => {
            cold(refresh(
                &store,
                &config,
                &client,
                origin,
                now,
                &refresh_token,
                scope,
                resource,
            ))
            .await
        }
    };
    match issued {
        Ok(tokens) => no_store(
            200,
            &json!({
                "access_token": tokens.access_token,
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_LIFETIME_MS / 1000,
                "refresh_token": tokens.refresh_token,
                "scope": tokens.scopes,
            }),
        ),
        Err(error) => oauth_error(status_of(&error), &error),
    }
}

fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::new("invalid_grant", description)
}

/// Whether the token that approved a grant is still the subject's token.
fn credential_current(config: &Config, subject: &str, credential: &str) -> bool {
    let admin = config.auth_token.as_deref().unwrap_or("");
    credential_fingerprint(subject, admin, &config.api_keys)
        .is_some_and(|current| constant_time_eq(current.as_bytes(), credential.as_bytes()))
}

/// A named resource at the token endpoint must be the grant's (RFC 8707 §2.2).
fn resource_matches(origin: &str, requested: Option<&str>, granted: &str) -> Result<(), OAuthError> {
    match requested {
        None => Ok(()),
        Some(requested) => match requests::own_resource(origin, Some(requested)) {
            Ok(resource) if resource == granted => Ok(()),
            _ => Err(OAuthError::new(
                "invalid_target",
                "resource differs from the one authorized",
            )),
        },
    }
}

/// `authorization_code`: single use, unexpired, same client and redirect URI, PKCE, resource. A
/// second use of a code revokes the grant its first use created (RFC 6749 §4.1.2).
#[allow(clippy::too_many_arguments)]
async fn exchange_code(
    store: &OAuthStore,
    config: &Config,
    client: &Client,
    origin: &str,
    now: i64,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    resource: Option<String>,
) -> Result<crate::oauth::store::IssuedTokens, OAuthError> {
    let claimed = store.claim_code(code, now).await.map_err(db_failed)?;
    let Some((grant, expires_at)) = claimed else {
        if let Some(grant_id) = store.code_grant(code).await.map_err(db_failed)? {
            worker::console_log!("oauth: authorization code reused: revoking grant {grant_id}");
            store.revoke_grant(&grant_id, None, now).await.map_err(db_failed)?;
        }
        return Err(invalid_grant("the authorization code is invalid or was already used"));
    };
    if expires_at <= now {
        return Err(invalid_grant("the authorization code expired; authorize again"));
    }
    if grant.client_id != client.client_id {
        return Err(invalid_grant("the authorization code was issued to another client"));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(invalid_grant("redirect_uri differs from the authorization request's"));
    }
    if !pkce_matches(verifier, &grant.code_challenge) {
        return Err(invalid_grant("code_verifier does not match the code_challenge (PKCE)"));
    }
    resource_matches(origin, resource.as_deref(), &grant.resource)?;
    if !credential_current(config, &grant.subject, &grant.credential) {
        return Err(invalid_grant("the approving key was removed or its token changed"));
    }
    let (grant_id, tokens) = store.create_grant(code, &grant, now).await.map_err(db_failed)?;
    worker::console_log!(
        "oauth: grant {grant_id} created: {} via {}",
        grant.subject,
        grant.client_name
    );
    Ok(tokens)
}

/// `refresh_token`: rotated on every use; presenting one already used revokes its grant.
#[allow(clippy::too_many_arguments)]
async fn refresh(
    store: &OAuthStore,
    config: &Config,
    client: &Client,
    origin: &str,
    now: i64,
    refresh_token: &str,
    scope: Option<Scopes>,
    resource: Option<String>,
) -> Result<crate::oauth::store::IssuedTokens, OAuthError> {
    let Some(grant) = store.rotate_refresh(refresh_token, now).await.map_err(db_failed)? else {
        if let Some(row) = store.token(refresh_token).await.map_err(db_failed)? {
            if row.kind == "refresh" && row.rotated_at.is_some() {
                worker::console_log!("oauth: refresh token reused: revoking grant {}", row.grant_id);
                store.revoke_grant(&row.grant_id, None, now).await.map_err(db_failed)?;
            }
        }
        return Err(invalid_grant("the refresh token is invalid, expired or already used"));
    };
    if grant.client_id != client.client_id {
        store
            .revoke_grant(&grant.grant_id, None, now)
            .await
            .map_err(db_failed)?;
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    resource_matches(origin, resource.as_deref(), &grant.resource)?;
    let credential = store.grant_credential(&grant.grant_id).await.map_err(db_failed)?;
    if !credential.is_some_and(|credential| credential_current(config, &grant.subject, &credential)) {
        store
            .revoke_grant(&grant.grant_id, None, now)
            .await
            .map_err(db_failed)?;
        return Err(invalid_grant("the approving key was removed or its token changed"));
    }
    let held = Scopes::parse_known(&grant.scopes);
    let scopes = match scope {
        None => held,
        Some(asked) if asked.iter().all(|s| held.contains(s)) && !asked.is_empty() => asked,
        Some(_) => {
            return Err(OAuthError::new(
                "invalid_scope",
                "a refresh may only keep or narrow the granted scopes",
            ))
        }
    };
    let next = TokenGrant {
        scopes: scopes.to_text(),
        ..grant
    };
    store.issue_tokens(&next, now).await.map_err(db_failed)
}

/// POST /oauth/revoke (RFC 7009): ends the grant of the token (access or refresh), if it
/// belongs to the authenticated client. Unknown tokens answer 200 too (§2.2).
async fn revoke(mut req: Request, env: &Env) -> worker::Result<Response> {
    let AuthenticatedForm {
        pairs, store, client, ..
    } = match authenticated_form(&mut req, env).await? {
        Ok(form) => form,
        Err((status, error)) => return oauth_error(status, &error),
    };
    let token = match requests::single(&pairs, "token") {
        Ok(Some(token)) => token,
        Ok(None) => return oauth_error(400, &OAuthError::new("invalid_request", "token is required")),
        Err(error) => return oauth_error(400, &error),
    };
    let now = crate::time::now_ms();
    match store.token(token).await {
        Ok(Some(row)) if row.client_id == client.client_id => {
            if let Err(error) = store.revoke_grant(&row.grant_id, None, now).await {
                return oauth_error(500, &db_failed(error));
            }
            worker::console_log!("oauth: grant {} revoked by its client", row.grant_id);
        }
        Ok(_) => {}
        Err(error) => return oauth_error(500, &db_failed(error)),
    }
    no_store(200, &json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_decoded_per_rfc_6749() {
        // "my%20id:s%3Acret" in base64.
        let header = format!("Basic {}", crate::media::base64_encode(b"my%20id:s%3Acret"));
        assert_eq!(
            basic_credentials(Some(&header)).unwrap(),
            Some(("my id".to_string(), "s:cret".to_string()))
        );
        assert_eq!(basic_credentials(None).unwrap(), None);
        assert!(basic_credentials(Some("Bearer x")).is_err());
        assert!(basic_credentials(Some("Basic !!!")).is_err());
    }

    #[test]
    fn authorization_server_paths_are_owned() {
        assert!(owns("/.well-known/oauth-authorization-server"));
        assert!(owns("/oauth/token"));
        assert!(!owns("/mcp"));
    }
}
