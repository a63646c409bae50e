//! The OAuth authorization endpoint's pages (`/oauth/authorize`) and the Connected apps page
//! (`/gallery/apps`): they share the gallery's sign-in cookie, CSP and cross-site refusal.
//!
//! GET /oauth/authorize checks the request and sends the browser on to the consent page at
//! /gallery/authorize (under the session cookie's path), which checks it again and shows: the client's name and
//! redirect host, the scopes asked, one `token` field (absent for someone already signed in to
//! the gallery, who only approves), Approve and Deny. POST /gallery/authorize re-checks the same
//! fields and redirects to the client with a code, or `error=access_denied`, plus `state` and
//! `iss` (RFC 9207). Errors before the client and its redirect URI are known are shown here,
//! never redirected (RFC 6749 §4.1.2.1).

use worker::{Env, Request, Response};

use super::render::{document, time_element, Viewer};
use super::{
    content_security_policy, current_session, html, redirect, refuse_cross_site, routes, GalleryError, GalleryResult,
};
use crate::access::{caller_for_subject, credential_fingerprint, identify, Caller, Scopes};
use crate::config::Config;
use crate::html::escape as esc;
use crate::http::body::{read_limited_bytes, BodyError};
use crate::http::url::RequestUrl;
use crate::http::{form, request_origin};
use crate::oauth::requests::{self, AuthorizeRequest, OAuthError};
use crate::oauth::sql::CodeGrant;
use crate::oauth::store::{Client, GrantRow, OAuthStore};

/// Largest consent form read (it carries the authorization request's fields back).
const CONSENT_FORM_MAX_BYTES: usize = 16 * 1024;

/// GET /oauth/authorize, and GET or POST /gallery/authorize.
pub async fn authorize(req: Request, env: Env) -> worker::Result<Response> {
    match authorize_inner(req, &env).await {
        Ok(response) => Ok(response),
        Err(error) => {
            worker::console_error!("oauth authorize: {error}");
            let page = super::render::message_page(
                &Viewer::Anonymous,
                "Authorization unavailable",
                "Something went wrong. Try again in a moment.",
            );
            html(500, page, None).map_err(|error| worker::Error::RustError(error.to_string()))
        }
    }
}

/// The fields of an authorization request that the consent form carries back.
const REQUEST_FIELDS: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "resource",
];

async fn authorize_inner(mut req: Request, env: &Env) -> GalleryResult<Response> {
    let config = Config::from_env(env)?;
    let origin = request_origin(&req);
    let is_post = req.method() == worker::Method::Post;
    let own_csp = content_security_policy(None);
    let Some(admin_token) = config.auth_token.clone() else {
        return super::token_not_configured(&own_csp);
    };
    let pairs = if is_post {
        if let Some(refusal) = refuse_cross_site(&req, &own_csp)? {
            return Ok(refusal);
        }
        match read_limited_bytes(&mut req, CONSENT_FORM_MAX_BYTES).await {
            Ok(body) => form::parse(&String::from_utf8_lossy(&body)),
            Err(BodyError::TooLarge(_)) => return error_page(413, "The form is too large.", &own_csp),
            Err(other) => return Err(other.into()),
        }
    } else {
        form::parse(RequestUrl::of(&req).query.as_deref().unwrap_or(""))
    };
    let target = match requests::authorize_target(&pairs) {
        Ok(target) => target,
        Err(error) => return error_page(400, &error.description, &own_csp),
    };
    let store = OAuthStore::new(crate::bindings::db(env)?);
    let now = crate::time::now_ms();
    let client = match crate::oauth::clients::resolve(
        &store,
        &target.client_id,
        config.oauth_allow_http_loopback_client_ids,
        now,
    )
    .await
    {
        Ok(client) => client,
        Err(error) => return error_page(400, &error.description, &own_csp),
    };
    if !client
        .redirect_uris
        .iter()
        .any(|registered| requests::redirect_uri_matches(registered, &target.redirect_uri))
    {
        return error_page(
            400,
            "redirect_uri is not one this client registered, so the answer cannot be sent there.",
            &own_csp,
        );
    }
    // From here on, answers go back to the client.
    let back = |error: &OAuthError| -> GalleryResult<Response> {
        let mut params = vec![("error", error.error.to_string())];
        params.push(("error_description", error.description.clone()));
        redirect_to_client(&target.redirect_uri, params, target.state.as_deref(), &origin)
    };
    let request = match requests::authorize_request(&pairs, &origin) {
        Ok(request) => request,
        Err(error) => return back(&error),
    };
    let csp = consent_csp(&request.target.redirect_uri);
    let signed_in = current_session(&req, &admin_token)
        .await?
        .and_then(|session| caller_for_subject(&session.subject, &config.api_keys));
    if !is_post {
        // The consent page lives under /gallery, where the gallery's session cookie (Path=/gallery)
        // is sent, so someone signed in is recognised; the request was checked above already.
        let url = RequestUrl::of(&req);
        let here = format!("{}?{}", routes::AUTHORIZE, url.query.unwrap_or_default());
        if url.path != routes::AUTHORIZE {
            return redirect(303, &here, None);
        }
        let fetch_site = req.headers().get("Sec-Fetch-Site")?;
        if signed_in.is_none() && fetch_site.as_deref() == Some("cross-site") {
            // Arriving from the app's site (claude.ai → /oauth/authorize → here), the browser
            // withholds the gallery's SameSite=Strict cookie. One reload started by this page is
            // same-origin, so it carries the cookie of someone signed in (and no loop: that reload
            // is not cross-site).
            return html(200, reload_page(&here), Some(&csp));
        }
        return html(
            200,
            consent_page(&client, &request, &pairs, signed_in.as_ref(), None),
            Some(&csp),
        );
    }
    match form::first(&pairs, "decision") {
        Some("deny") => {
            worker::console_log!("oauth: access denied for client {}", client.display_name());
            return back(&OAuthError::new("access_denied", "the user denied the request"));
        }
        Some("approve") => {}
        _ => return error_page(400, "Choose Approve or Deny.", &own_csp),
    }
    let caller = match signed_in {
        Some(caller) => Some(caller),
        None => form::first(&pairs, "token")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .and_then(|token| identify(token, &admin_token, &config.api_keys)),
    };
    let Some(caller) = caller else {
        let page = consent_page(
            &client,
            &request,
            &pairs,
            None,
            Some("That token is not right. Try again."),
        );
        return html(403, page, Some(&csp));
    };
    let Some(credential) = credential_fingerprint(caller.name(), &admin_token, &config.api_keys) else {
        return error_page(403, "This key is no longer configured.", &own_csp);
    };
    let grant = CodeGrant {
        client_id: client.client_id.clone(),
        client_name: client.display_name(),
        redirect_uri: request.target.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        resource: request.resource.clone(),
        scopes: request.scopes.to_text(),
        subject: caller.name().to_string(),
        credential,
    };
    let code = store.issue_code(&grant, now).await?;
    worker::console_log!(
        "oauth: {} approved {} for {}",
        caller.name(),
        client.display_name(),
        grant.scopes
    );
    redirect_to_client(
        &request.target.redirect_uri,
        vec![("code", code)],
        request.target.state.as_deref(),
        &origin,
    )
}

/// The redirect back to the client: `params`, then `state` (echoed) and `iss` (RFC 9207).
fn redirect_to_client(
    redirect_uri: &str,
    mut params: Vec<(&str, String)>,
    state: Option<&str>,
    issuer: &str,
) -> GalleryResult<Response> {
    if let Some(state) = state {
        params.push(("state", state.to_string()));
    }
    params.push(("iss", issuer.to_string()));
    let query: Vec<String> = params
        .iter()
        .map(|(name, value)| format!("{name}={}", form::encode(value)))
        .collect();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    redirect(303, &format!("{redirect_uri}{separator}{}", query.join("&")), None)
}

/// The gallery's policy, with the client's redirect target allowed as a form destination
/// (browsers apply `form-action` to the redirect that follows Approve or Deny).
fn consent_csp(redirect_uri: &str) -> String {
    let target = match crate::http::url::http_origin(redirect_uri) {
        Some(origin) => origin,
        None => match redirect_uri.split_once(':') {
            Some((scheme, _)) => format!("{scheme}:"),
            None => String::new(),
        },
    };
    let safe = target
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".:/-[]".contains(&b));
    let policy = content_security_policy(None);
    if target.is_empty() || !safe {
        return policy;
    }
    policy.replace("form-action 'self'", &format!("form-action 'self' {target}"))
}

fn error_page(status: u16, message: &str, csp: &str) -> GalleryResult<Response> {
    html(
        status,
        super::render::message_page(&Viewer::Anonymous, "Authorization refused", message),
        Some(csp),
    )
}

/// A page that at once reloads `here` (a same-origin path) as a navigation of its own, without
/// script: a meta refresh, with a link for browsers that do not follow one.
fn reload_page(here: &str) -> String {
    let here = esc(here);
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={here}\"><title>Authorize an app</title></head>\
         <body><p><a href=\"{here}\">Continue to the authorization page</a></p></body></html>\n"
    )
}

/// The consent page.
fn consent_page(
    client: &Client,
    request: &AuthorizeRequest,
    pairs: &[(String, String)],
    signed_in: Option<&Caller>,
    error: Option<&str>,
) -> String {
    let redirect_host = RequestUrl::parse(&request.target.redirect_uri)
        .map(|url| url.authority.into_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| request.target.redirect_uri.clone());
    let scopes: String = request
        .scopes
        .iter()
        .map(|scope| {
            format!(
                "<li><code>{}</code> {}</li>",
                esc(scope.name()),
                esc(scope.description())
            )
        })
        .collect();
    let hidden: String = REQUEST_FIELDS
        .iter()
        .filter_map(|name| form::first(pairs, name).map(|value| (name, value)))
        .map(|(name, value)| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", esc(value)))
        .collect();
    let error = error
        .map(|e| format!("<p class=\"alert\" role=\"alert\">{}</p>\n", esc(e)))
        .unwrap_or_default();
    let sign_in = match signed_in {
        Some(caller) => format!(
            "<p>You are signed in as <strong>{}</strong>; the app will act as this key.</p>",
            esc(caller.name())
        ),
        None => "<label for=\"token\">Your access token (an API key's token, or the administrator's)</label>\
                 <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" autofocus>"
            .to_string(),
    };
    let body = format!(
        "<section class=\"signin consent\">\n<h1>Connect {name}?</h1>\n\
         <p><strong>{name}</strong> (it will return to <code>{host}</code>) asks to use this image server as you:</p>\n\
         <ul class=\"scopes\">{scopes}</ul>\n\
         <p>It acts as the key you sign in with: its jobs, its quota, its rate limit. You can revoke it any time \
         under <a href=\"{apps}\">Connected apps</a>.</p>\n{error}\
         <form method=\"post\" action=\"{action}\">{hidden}{sign_in}\
         <div class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button></div></form>\n</section>\n",
        name = esc(&client.display_name()),
        host = esc(&redirect_host),
        apps = routes::APPS,
        action = routes::AUTHORIZE,
    );
    let viewer = match signed_in {
        Some(caller) => Viewer::SignedIn { subject: caller.name() },
        None => Viewer::Anonymous,
    };
    document("Authorize an app", &viewer, &body)
}

// ---------------------------------------------------------------------------
// Connected apps
// ---------------------------------------------------------------------------

/// GET /gallery/apps for a signed-in caller: each live grant with its client, scopes, last use
/// and a Revoke button. A key sees its own grants, the administrator every one.
pub async fn apps_page(env: &Env, caller: &Caller, csp: &str) -> GalleryResult<Response> {
    let store = OAuthStore::new(crate::bindings::db(env)?);
    let grants = store.grants(caller.visible_owner()).await?;
    let viewer = Viewer::SignedIn { subject: caller.name() };
    html(200, render_apps(&viewer, caller.is_admin(), &grants), Some(csp))
}

fn render_apps(viewer: &Viewer, show_owner: bool, grants: &[GrantRow]) -> String {
    let mut body = String::from("<h1>Connected apps</h1>\n<p class=\"summary\">Apps you approved through OAuth (claude.ai, ChatGPT and other MCP hosts). Revoking one ends its access at once.</p>\n");
    if grants.is_empty() {
        body.push_str("<p class=\"empty\">No connected apps.</p>\n");
    } else {
        body.push_str("<table class=\"apps\"><thead><tr><th>App</th>");
        if show_owner {
            body.push_str("<th>Key</th>");
        }
        body.push_str("<th>Scopes</th><th>Approved</th><th>Last used</th><th></th></tr></thead><tbody>\n");
        for grant in grants {
            let scopes = Scopes::parse_known(&grant.scopes).to_text();
            let owner = if show_owner {
                format!("<td>{}</td>", esc(&grant.subject))
            } else {
                String::new()
            };
            body.push_str(&format!(
                "<tr><td class=\"app\">{name}<br><small><code>{client}</code></small></td>{owner}<td><code>{scopes}</code></td>\
                 <td>{created}</td><td>{used}</td>\
                 <td><form method=\"post\" action=\"{revoke}\"><input type=\"hidden\" name=\"grant\" value=\"{id}\">\
                 <button type=\"submit\">Revoke</button></form></td></tr>\n",
                name = esc(&grant.client_name),
                client = esc(&grant.client_id),
                scopes = esc(&scopes),
                created = time_element(grant.created_at),
                used = grant.last_used_at.map(time_element).unwrap_or_else(|| "—".into()),
                revoke = routes::APPS_REVOKE,
                id = esc(&grant.id),
            ));
        }
        body.push_str("</tbody></table>\n");
    }
    document("Connected apps", viewer, &body)
}

/// POST /gallery/apps/revoke (field `grant`): ends one of the caller's grants (any, for the
/// administrator) and goes back to the list.
pub async fn revoke_app(mut req: Request, env: &Env) -> GalleryResult<Response> {
    let config = Config::from_env(env)?;
    let csp = content_security_policy(config.public_image_base_url.as_deref());
    let Some(token) = config.auth_token.as_deref() else {
        return super::token_not_configured(&csp);
    };
    if let Some(refusal) = refuse_cross_site(&req, &csp)? {
        return Ok(refusal);
    }
    let caller = current_session(&req, token)
        .await?
        .and_then(|session| caller_for_subject(&session.subject, &config.api_keys));
    let Some(caller) = caller else {
        return redirect(303, routes::GALLERY, None);
    };
    let body = match read_limited_bytes(&mut req, crate::catalog::GALLERY_FORM_MAX_BYTES).await {
        Ok(body) => body,
        Err(BodyError::TooLarge(_)) => return error_page(413, "The form is too large.", &csp),
        Err(other) => return Err(GalleryError::from(other)),
    };
    let fields = form::parse(&String::from_utf8_lossy(&body));
    if let Some(grant) = form::first(&fields, "grant").filter(|g| !g.is_empty()) {
        let store = OAuthStore::new(crate::bindings::db(env)?);
        store
            .revoke_grant(grant, caller.visible_owner(), crate::time::now_ms())
            .await?;
        worker::console_log!("oauth: {} revoked grant {grant} from Connected apps", caller.name());
    }
    redirect(303, routes::APPS, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reload_page_reloads_the_same_path_and_query_escaped() {
        let page = reload_page("/gallery/authorize?client_id=a&state=\"><script>");
        let target = "/gallery/authorize?client_id=a&amp;state=&quot;&gt;&lt;script&gt;";
        assert!(
            page.contains(&format!("<meta http-equiv=\"refresh\" content=\"0;url={target}\">")),
            "{page}"
        );
        assert!(page.contains(&format!("<a href=\"{target}\">")), "{page}");
        assert!(!page.contains("<script>"), "{page}");
    }

    #[test]
    fn the_consent_policy_lets_the_form_reach_the_client_and_nothing_else() {
        let csp = consent_csp("https://claude.ai/api/mcp/auth_callback");
        assert!(csp.contains("form-action 'self' https://claude.ai;"), "{csp}");
        assert!(csp.contains("script-src 'self'"));
        assert!(consent_csp("com.example.app:/cb").contains("form-action 'self' com.example.app:;"));
        assert!(!consent_csp("https://a.example;script-src *").contains('*'));
    }

    #[test]
    fn the_consent_page_names_the_client_scopes_and_has_one_token_field() {
        let client = Client::from_document(
            "https://app.example/c.json",
            &requests::ClientMetadata {
                client_name: "<Evil & Co>".into(),
                redirect_uris: vec!["https://app.example/cb".into()],
                auth_method: requests::AuthMethod::None,
            },
            0,
        );
        let pairs: Vec<(String, String)> = [
            ("response_type", "code"),
            ("client_id", "https://app.example/c.json"),
            ("redirect_uri", "https://app.example/cb"),
            ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            ("code_challenge_method", "S256"),
            ("state", "\"><script>"),
            ("scope", "images:read"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let request = requests::authorize_request(&pairs, "https://img.example.com").unwrap();
        let page = consent_page(&client, &request, &pairs, None, None);
        assert!(page.contains("&lt;Evil &amp; Co&gt;"));
        assert!(!page.contains("<script>"), "state is escaped");
        assert!(page.contains("app.example"));
        assert!(page.contains("images:read") && !page.contains("images:write"));
        assert_eq!(page.matches("name=\"token\"").count(), 1);
        assert!(page.contains("value=\"approve\"") && page.contains("value=\"deny\""));
        let signed_in = consent_page(&client, &request, &pairs, Some(&Caller::Key("alice".into())), None);
        assert!(!signed_in.contains("name=\"token\""), "signed-in people only approve");
    }
}
