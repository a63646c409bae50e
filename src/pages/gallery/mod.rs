//! The gallery for people at `/gallery`: sign-in with the access token, a grid of every job
//! newest first with model/status filters, and a page per image. Server-rendered HTML that
//! needs no JavaScript, sent with a strict Content-Security-Policy.
//!
//! Routes: `GET /gallery` (grid; `page`, `model`, `status`), `GET /gallery/image/<job id>`,
//! `POST /gallery/login` (form field `token`), `POST /gallery/logout`, and the two static
//! files `/gallery/style.css` and `/gallery/app.js`.

mod consent;
mod query;
mod render;
mod session;

use worker::{Env, Method, Request, Response};

use crate::access::{caller_for_subject, identify};
use crate::catalog::GALLERY_FORM_MAX_BYTES;
use crate::config::{Config, ConfigError};
use crate::d1::DbError;
use crate::http::body::{read_limited_bytes, BodyError};
use crate::http::url::{http_origin, RequestUrl};
use crate::http::{form, request_origin};
use crate::jobs::{JobRow, JobStore};
use query::{GalleryQuery, Location};
/// For the differential tests of the date text (src/differential_tests.rs).
#[cfg(test)]
pub(crate) use render::utc_datetime;
use render::Viewer;
use session::web_crypto::{self, CryptoError};
use session::Session;

pub use consent::authorize;

/// The gallery's paths.
pub mod routes {
    pub const GALLERY: &str = "/gallery";
    pub const IMAGE_PREFIX: &str = "/gallery/image/";
    pub const LOGIN: &str = "/gallery/login";
    pub const LOGOUT: &str = "/gallery/logout";
    pub const STYLE: &str = "/gallery/style.css";
    pub const SCRIPT: &str = "/gallery/app.js";
    /// After an image page's path: where its Cancel button posts.
    pub const CANCEL_SUFFIX: &str = "/cancel";
    /// The OAuth grants of the signed-in key, each with Revoke.
    pub const APPS: &str = "/gallery/apps";
    pub const APPS_REVOKE: &str = "/gallery/apps/revoke";
    /// The OAuth consent page (`/oauth/authorize` sends browsers here).
    pub const AUTHORIZE: &str = "/gallery/authorize";
}

const STYLE_CSS: &str = include_str!("style.css");
const APP_JS: &str = include_str!("app.js");

/// Why a gallery request could not be answered normally; each keeps its source.
#[derive(Debug, thiserror::Error)]
pub enum GalleryError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] DbError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Binding(#[from] crate::bindings::Unavailable),
    #[error("runtime error: {0}")]
    Runtime(#[from] worker::Error),
    #[error(transparent)]
    Body(#[from] BodyError),
}

type GalleryResult<T> = Result<T, GalleryError>;

/// Whether a path belongs to the gallery.
pub fn owns(path: &str) -> bool {
    path == routes::GALLERY || path.starts_with("/gallery/")
}

/// Answers every `/gallery…` request. Failures become an HTML error page (and a log line that
/// never contains the token or the cookie).
pub async fn handle(req: Request, env: Env) -> worker::Result<Response> {
    let path = RequestUrl::of(&req).path;
    let result = match (req.method(), path.as_str()) {
        (Method::Get | Method::Head, routes::STYLE) => asset(STYLE_CSS, "text/css; charset=utf-8"),
        (Method::Get | Method::Head, routes::SCRIPT) => asset(APP_JS, "text/javascript; charset=utf-8"),
        (_, routes::STYLE | routes::SCRIPT) => method_not_allowed("GET, HEAD"),
        (Method::Post, routes::LOGIN) => sign_in(req, &env).await,
        (Method::Post, routes::LOGOUT) => sign_out(&req),
        (_, routes::LOGIN | routes::LOGOUT) => method_not_allowed("POST"),
        (Method::Post, path) if cancel_target(path).is_some() => cancel(&req, &env).await,
        (Method::Get | Method::Head | Method::Post, routes::AUTHORIZE) => return consent::authorize(req, env).await,
        (_, routes::AUTHORIZE) => method_not_allowed("GET, POST"),
        (Method::Post, routes::APPS_REVOKE) => consent::revoke_app(req, &env).await,
        (_, routes::APPS_REVOKE) => method_not_allowed("POST"),
        (Method::Get | Method::Head, "/gallery/") => redirect(308, routes::GALLERY, None),
        (Method::Get | Method::Head, _) => page(&req, &env).await,
        _ => method_not_allowed("GET, HEAD"),
    };
    match result {
        Ok(response) => Ok(response),
        Err(error) => {
            worker::console_error!("gallery: {path}: {error}");
            let message = match error {
                GalleryError::Config(error) => error.to_string(),
                _ => "Something went wrong while building this page. Try again in a moment.".to_string(),
            };
            html(
                500,
                render::message_page(&Viewer::Anonymous, "Gallery unavailable", &message),
                None,
            )
            .map_err(|error| worker::Error::RustError(error.to_string()))
        }
    }
}

/// What a GET under /gallery names.
enum Page {
    Grid(Result<GalleryQuery, query::QueryError>),
    Image(String),
    Apps,
    Unknown,
}

fn page_of(path: &str, query_string: &str) -> Page {
    if path == routes::GALLERY {
        return Page::Grid(GalleryQuery::parse(query_string));
    }
    if path == routes::APPS {
        return Page::Apps;
    }
    match path.strip_prefix(routes::IMAGE_PREFIX) {
        Some(id) if query::valid_job_id(id) => Page::Image(id.to_string()),
        _ => Page::Unknown,
    }
}

async fn page(req: &Request, env: &Env) -> GalleryResult<Response> {
    let config = Config::from_env(env)?;
    let csp = content_security_policy(config.public_image_base_url.as_deref());
    let url = RequestUrl::of(req);
    let page = page_of(&url.path, url.query.as_deref().unwrap_or(""));
    if matches!(page, Page::Unknown) {
        return not_found(&Viewer::Anonymous, &csp);
    }
    let Some(token) = config.auth_token.as_deref() else {
        return token_not_configured(&csp);
    };
    let signed_in = current_session(req, token)
        .await?
        .and_then(|session| caller_for_subject(&session.subject, &config.api_keys).map(|caller| (session, caller)));
    let Some((session, caller)) = signed_in else {
        let here = match &url.query {
            Some(q) => format!("{}?{q}", url.path),
            None => url.path.clone(),
        };
        return html(
            200,
            render::sign_in_page(Location::parse(&here).as_ref(), None),
            Some(&csp),
        );
    };
    let viewer = Viewer::SignedIn {
        subject: &session.subject,
    };
    let store = JobStore::new(crate::bindings::db(env)?);
    match page {
        Page::Grid(Ok(query)) => {
            let (total, jobs) = store
                .list_filtered_jobs(query.filter(), query.db_page(), caller.visible_owner())
                .await?;
            let jobs: Vec<JobRow> = jobs.into_iter().map(|job| shown(job, &config)).collect();
            html(200, render::grid_page(&viewer, &query, total, &jobs), Some(&csp))
        }
        Page::Grid(Err(error)) => html(
            400,
            render::message_page(&viewer, "Invalid filter", &error.to_string()),
            Some(&csp),
        ),
        Page::Image(id) => match store.job(&id, caller.visible_owner()).await? {
            Some(job) => html(200, render::image_page(&viewer, &shown(job, &config)), Some(&csp)),
            None => not_found(&viewer, &csp),
        },
        Page::Apps => consent::apps_page(env, &caller, &csp).await,
        Page::Unknown => not_found(&viewer, &csp),
    }
}

/// `job` with the URLs a page shows: one recorded under an earlier PUBLIC_IMAGE_BASE_URL is
/// shown under today's (which the Content-Security-Policy allows), see `urls::current_image_url`.
fn shown(mut job: JobRow, config: &Config) -> JobRow {
    let base = config.public_image_base_url.as_deref();
    for url in [&mut job.image_url, &mut job.thumbnail_url].into_iter().flatten() {
        *url = crate::urls::current_image_url(url, base).into_owned();
    }
    job
}

/// The job id of a Cancel button's path (`/gallery/image/<job id>/cancel`).
fn cancel_target(path: &str) -> Option<&str> {
    let id = path
        .strip_prefix(routes::IMAGE_PREFIX)?
        .strip_suffix(routes::CANCEL_SUFFIX)?;
    query::valid_job_id(id).then_some(id)
}

/// POST /gallery/image/<id>/cancel: the signed-in person cancels that job if it is theirs and
/// unfinished (`services::cancel`), then sees its page again (303). A cross-site post is
/// refused; without a session the sign-in page comes back (403), nothing changed.
async fn cancel(req: &Request, env: &Env) -> GalleryResult<Response> {
    let config = Config::from_env(env)?;
    let csp = content_security_policy(config.public_image_base_url.as_deref());
    let Some(token) = config.auth_token.as_deref() else {
        return token_not_configured(&csp);
    };
    if let Some(refusal) = refuse_cross_site(req, &csp)? {
        return Ok(refusal);
    }
    let path = RequestUrl::of(req).path;
    let Some(id) = cancel_target(&path) else {
        return not_found(&Viewer::Anonymous, &csp);
    };
    let image_page = Location::Image(id.to_string());
    let signed_in = current_session(req, token)
        .await?
        .and_then(|session| caller_for_subject(&session.subject, &config.api_keys));
    let Some(caller) = signed_in else {
        return html(403, render::sign_in_page(Some(&image_page), None), Some(&csp));
    };
    let store = JobStore::new(crate::bindings::db(env)?);
    let ids = [id.to_string()];
    let outcome = crate::services::cancel::cancel_jobs(&store, &ids, caller.visible_owner()).await?;
    if outcome.iter().any(|(_, outcome)| outcome.cancelled()) {
        worker::console_log!("gallery: {} cancelled job {id}", caller.name());
    }
    redirect(303, &image_page.href(), None)
}

/// The signed-in session the request's cookie proves, if any.
async fn current_session(req: &Request, token: &str) -> GalleryResult<Option<Session>> {
    let Some(header) = req.headers().get("Cookie")? else {
        return Ok(None);
    };
    let now = crate::time::now_ms() / 1000;
    for value in session::cookie_values(&header) {
        let Some(signed) = session::decode(value) else {
            continue;
        };
        let expected = sign(token, &signed.session).await?;
        if let Some(session) = session::accept(&signed, &expected, now) {
            return Ok(Some(session));
        }
    }
    Ok(None)
}

async fn sign(token: &str, session: &Session) -> GalleryResult<Vec<u8>> {
    let input = session::signing_input(&session.payload());
    Ok(web_crypto::hmac_sha256(token.as_bytes(), input.as_bytes()).await?)
}

/// POST /gallery/login: the right token sets the session cookie and redirects (303) to the
/// gallery; anything else shows the form again with an error and sets nothing.
async fn sign_in(mut req: Request, env: &Env) -> GalleryResult<Response> {
    let config = Config::from_env(env)?;
    let csp = content_security_policy(config.public_image_base_url.as_deref());
    let Some(token) = config.auth_token.as_deref() else {
        return token_not_configured(&csp);
    };
    if let Some(refusal) = refuse_cross_site(&req, &csp)? {
        return Ok(refusal);
    }
    let content_type = req.headers().get("Content-Type")?.unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        let message = "Send the sign-in form as application/x-www-form-urlencoded.";
        return html(
            415,
            render::message_page(&Viewer::Anonymous, "Unsupported form", message),
            Some(&csp),
        );
    }
    let body = match read_limited_bytes(&mut req, GALLERY_FORM_MAX_BYTES).await {
        Ok(body) => Some(body),
        Err(BodyError::TooLarge { .. }) => None,
        Err(other) => return Err(other.into()),
    };
    let Some(body) = body else {
        let message = format!("The sign-in form may be at most {GALLERY_FORM_MAX_BYTES} bytes.");
        return html(
            413,
            render::message_page(&Viewer::Anonymous, "Form too large", &message),
            Some(&csp),
        );
    };
    let fields = form::parse(&String::from_utf8_lossy(&body));
    let next = form::first(&fields, "next").and_then(Location::parse);
    let given = form::first(&fields, "token").unwrap_or("").trim();
    let caller = if given.is_empty() {
        None
    } else {
        identify(given, token, &config.api_keys)
    };
    let Some(caller) = caller else {
        let page = render::sign_in_page(next.as_ref(), Some("That token is not right. Try again."));
        return html(403, page, Some(&csp));
    };
    let session = Session::new(caller.name(), crate::time::now_ms() / 1000);
    let signature = sign(token, &session).await?;
    let cookie = session::set_cookie(&session::encode(&session, &signature), cookie_secure(&req)?);
    let target = next.map_or_else(|| routes::GALLERY.to_string(), |n| n.href());
    redirect(303, &target, Some(&cookie))
}

/// POST /gallery/logout: clears the cookie and goes back to the (sign-in) gallery page.
fn sign_out(req: &Request) -> GalleryResult<Response> {
    let csp = content_security_policy(None);
    if let Some(refusal) = refuse_cross_site(req, &csp)? {
        return Ok(refusal);
    }
    redirect(303, routes::GALLERY, Some(&session::clear_cookie(cookie_secure(req)?)))
}

/// A 403 page for a form POST that another site's page sent.
fn refuse_cross_site(req: &Request, csp: &str) -> GalleryResult<Option<Response>> {
    let origin = req.headers().get("Origin")?;
    let fetch_site = req.headers().get("Sec-Fetch-Site")?;
    let own_origin = request_origin(req);
    if session::same_origin_post(&own_origin, origin.as_deref(), fetch_site.as_deref()) {
        return Ok(None);
    }
    let message = "This form was sent from another site, so it was refused. Use the gallery's own page.";
    html(
        403,
        render::message_page(&Viewer::Anonymous, "Request refused", message),
        Some(csp),
    )
    .map(Some)
}

fn cookie_secure(req: &Request) -> GalleryResult<bool> {
    let url = RequestUrl::of(req);
    Ok(session::needs_secure(&url.scheme, url.host()))
}

/// The policy every gallery page is sent with: nothing inline, nothing from elsewhere except
/// images from the public bucket when one is configured.
pub fn content_security_policy(public_image_base_url: Option<&str>) -> String {
    let bucket = public_image_base_url
        .and_then(http_origin)
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; img-src 'self' data:{bucket}; style-src 'self'; script-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// An HTML page with the gallery's security headers. Pages are per-person, so never cached.
fn html(status: u16, body: String, csp: Option<&str>) -> GalleryResult<Response> {
    let mut response = Response::from_html(body)?.with_status(status);
    let headers = response.headers_mut();
    headers.set("Content-Security-Policy", csp.unwrap_or(&content_security_policy(None)))?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set("X-Frame-Options", "DENY")?;
    headers.set("Referrer-Policy", "same-origin")?;
    Ok(response)
}

fn not_found(viewer: &Viewer, csp: &str) -> GalleryResult<Response> {
    let message = "There is no gallery page or image at this address.";
    html(404, render::message_page(viewer, "Not found", message), Some(csp))
}

fn token_not_configured(csp: &str) -> GalleryResult<Response> {
    worker::console_error!("gallery: AUTH_TOKEN is not set, so nobody can sign in");
    let message = "The server has no access token configured (AUTH_TOKEN), so nobody can sign in.";
    html(
        500,
        render::message_page(&Viewer::Anonymous, "Gallery unavailable", message),
        Some(csp),
    )
}

fn redirect(status: u16, location: &str, set_cookie: Option<&str>) -> GalleryResult<Response> {
    let mut response = Response::empty()?.with_status(status);
    let headers = response.headers_mut();
    headers.set("Location", location)?;
    headers.set("Cache-Control", "no-store")?;
    if let Some(cookie) = set_cookie {
        headers.set("Set-Cookie", cookie)?;
    }
    Ok(response)
}

fn asset(body: &str, content_type: &str) -> GalleryResult<Response> {
    let mut response = Response::ok(body)?;
    let headers = response.headers_mut();
    headers.set("Content-Type", content_type)?;
    headers.set("Cache-Control", "public, max-age=3600")?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    Ok(response)
}

fn method_not_allowed(allow: &str) -> GalleryResult<Response> {
    let mut response = html(
        405,
        render::message_page(&Viewer::Anonymous, "Method not allowed", &format!("Use {allow}.")),
        None,
    )?;
    response.headers_mut().set("Allow", allow)?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_allows_only_own_files_and_the_public_bucket() {
        let own = content_security_policy(None);
        assert_eq!(
            own,
            "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        );
        let bucket = content_security_policy(Some("https://img.example.com/some/prefix"));
        assert!(
            bucket.contains("img-src 'self' data: https://img.example.com;"),
            "{bucket}"
        );
        assert!(!content_security_policy(Some("not a url; script-src *")).contains('*'));
    }

    #[test]
    fn cancel_paths_name_a_valid_job_id() {
        let id = "4a8e1c52-9f3b-4d0e-8c1a-2b7f6e5d4c3b";
        assert_eq!(cancel_target(&render::cancel_href(id)), Some(id));
        for bad in [
            "/gallery/image//cancel",
            "/gallery/image/a b/cancel",
            "/gallery/image/x/cancel/more",
            "/gallery/cancel",
        ] {
            assert_eq!(cancel_target(bad), None, "{bad}");
        }
    }

    #[test]
    fn gallery_paths_are_recognised() {
        for path in ["/gallery", "/gallery/", "/gallery/image/x", "/gallery/login"] {
            assert!(owns(path), "{path}");
        }
        for path in ["/galleryx", "/", "/images/x.png"] {
            assert!(!owns(path), "{path}");
        }
    }

    #[test]
    fn pages_are_told_apart() {
        assert!(matches!(page_of("/gallery", ""), Page::Grid(Ok(_))));
        assert!(matches!(page_of("/gallery", "page=0"), Page::Grid(Err(_))));
        assert!(matches!(page_of("/gallery/image/abc-1", ""), Page::Image(id) if id == "abc-1"));
        assert!(matches!(page_of("/gallery/image/a%2Fb", ""), Page::Unknown));
        assert!(matches!(page_of("/gallery/other", ""), Page::Unknown));
        assert!(matches!(page_of("/gallery/apps", ""), Page::Apps));
    }
}
