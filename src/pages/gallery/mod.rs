//! The gallery for people at `/gallery`: sign-in with the access token, a grid of every job
//! newest first with model/status filters and a search over prompts, and a page per image with
//! its download and Delete. Server-rendered HTML that needs no JavaScript, sent with a strict
//! Content-Security-Policy.
//!
//! Routes: `GET /gallery` (grid; `page`, `model`, `status`, `q`), `GET /gallery/image/<job id>`,
//! `GET /gallery/image/<job id>/download` (the file, named after the prompt),
//! `POST /gallery/image/<job id>/delete`, `POST /gallery/login` (form field `token`),
//! `POST /gallery/logout`, and the two static files `/gallery/style.css` and `/gallery/app.js`.

mod consent;
mod query;
mod render;
mod session;

use worker::{Env, Method, Request, Response};

use crate::access::{caller_for_subject, identify, Caller};
use crate::catalog::GALLERY_FORM_MAX_BYTES;
use crate::config::{Config, ConfigError};
use crate::d1::DbError;
use crate::http::body::{read_limited_bytes, BodyError};
use crate::http::url::{http_origin, RequestUrl};
use crate::http::{form, request_origin};
use crate::jobs::{JobRow, JobStatus, JobStore};
use crate::promise::cold;
use crate::services::deletion::{self, Refusal};
use crate::services::ServiceError;
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
    pub const DOWNLOAD_SUFFIX: &str = "/download";
    pub const DELETE_SUFFIX: &str = "/delete";

    /// Where an image page's Download link points.
    pub fn download_href(job_id: &str) -> String {
        format!("{IMAGE_PREFIX}{job_id}{DOWNLOAD_SUFFIX}")
    }

    /// Where an image page's Delete form posts.
    pub fn delete_href(job_id: &str) -> String {
        format!("{IMAGE_PREFIX}{job_id}{DELETE_SUFFIX}")
    }
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
    #[error(transparent)]
    Service(#[from] ServiceError),
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
    let action = image_action(&path);
    // Each action awaits a future of its own (`cold`): V8 compiles its code on the first request
    // that takes it, not with every other action's (bench/README.md, twenty-seventh pass).
    let result = match (req.method(), &*path) {
        (Method::Post, _) if matches!(action, Some((_, ImageAction::Delete))) => {
            let id = action.map(|(id, _)| id).unwrap_or_default();
            cold(delete_image(req, &env, id)).await
        }
        (Method::Get | Method::Head, _) if matches!(action, Some((_, ImageAction::Download))) => {
            let id = action.map(|(id, _)| id).unwrap_or_default();
            cold(download(&req, &env, id)).await
        }
        (_, _) if matches!(action, Some((_, ImageAction::Delete))) => method_not_allowed("POST"),
        (Method::Get | Method::Head, routes::STYLE) => asset(STYLE_CSS, "text/css; charset=utf-8"),
        (Method::Get | Method::Head, routes::SCRIPT) => asset(APP_JS, "text/javascript; charset=utf-8"),
        (_, routes::STYLE | routes::SCRIPT) => method_not_allowed("GET, HEAD"),
        (Method::Post, routes::LOGIN) => cold(sign_in(req, &env)).await,
        (Method::Post, routes::LOGOUT) => sign_out(&req),
        (_, routes::LOGIN | routes::LOGOUT) => method_not_allowed("POST"),
        (Method::Post, path) if cancel_target(path).is_some() => cold(cancel(&req, &env)).await,
        (Method::Get | Method::Head | Method::Post, routes::AUTHORIZE) => {
            return cold(consent::authorize(req, env)).await
        }
        (_, routes::AUTHORIZE) => method_not_allowed("GET, POST"),
        (Method::Post, routes::APPS_REVOKE) => cold(consent::revoke_app(req, &env)).await,
        (_, routes::APPS_REVOKE) => method_not_allowed("POST"),
        (Method::Get | Method::Head, "/gallery/") => redirect(308, routes::GALLERY, None),
        (Method::Get | Method::Head, _) => cold(page(&req, &env)).await,
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

/// What can be done to one image besides viewing its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageAction {
    Download,
    Delete,
}

/// `/gallery/image/<job id>/download` and `/gallery/image/<job id>/delete`.
fn image_action(path: &str) -> Option<(String, ImageAction)> {
    let rest = path.strip_prefix(routes::IMAGE_PREFIX)?;
    let (id, action) = if let Some(id) = rest.strip_suffix(routes::DOWNLOAD_SUFFIX) {
        (id, ImageAction::Download)
    } else {
        (rest.strip_suffix(routes::DELETE_SUFFIX)?, ImageAction::Delete)
    };
    query::valid_job_id(id).then(|| (id.to_string(), action))
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
    let Some((session, caller)) = signed_in(req, token, &config).await? else {
        let here = match &url.query {
            Some(q) => format!("{}?{q}", url.path),
            None => url.path.to_string(),
        };
        return html(
            200,
            render::sign_in_page(Location::parse(&here).as_ref(), None),
            Some(&csp),
        );
    };
    // In a future of its own (`cold`): a visitor's sign-in page compiles none of what a signed-in
    // page reads and renders.
    cold(signed_in_page(page, &session, &caller, env, &config, &csp)).await
}

/// The page `page` names for a signed-in `session` of `caller`.
async fn signed_in_page(
    page: Page,
    session: &Session,
    caller: &Caller,
    env: &Env,
    config: &Config,
    csp: &str,
) -> GalleryResult<Response> {
    let viewer = Viewer::SignedIn {
        subject: &session.subject,
    };
    let store = JobStore::new(crate::bindings::db(env)?);
    match page {
        Page::Grid(Ok(query)) => {
            let (total, jobs) = store
                .list_filtered_jobs(query.filter(), query.db_page(), caller.visible_owner())
                .await?;
            let jobs: Vec<JobRow> = jobs.into_iter().map(|job| shown(job, config)).collect();
            html(200, render::grid_page(&viewer, &query, total, &jobs), Some(csp))
        }
        Page::Grid(Err(error)) => html(
            400,
            render::message_page(&viewer, "Invalid filter", &error.to_string()),
            Some(csp),
        ),
        Page::Image(id) => match store.job(&id, caller.visible_owner()).await? {
            Some(job) => html(200, render::image_page(&viewer, &shown(job, config)), Some(csp)),
            None => not_found(&viewer, csp),
        },
        Page::Apps => consent::apps_page(env, caller, csp).await,
        Page::Unknown => not_found(&viewer, csp),
    }
}

/// The session the request's cookie proves and whose caller it is, if both still hold (a key
/// removed from API_KEYS signs its sessions out).
async fn signed_in(req: &Request, token: &str, config: &Config) -> GalleryResult<Option<(Session, Caller)>> {
    Ok(current_session(req, token)
        .await?
        .and_then(|session| caller_for_subject(&session.subject, &config.api_keys).map(|caller| (session, caller))))
}

/// What the deletion service sees of a gallery request.
struct GalleryCall<'a> {
    env: &'a Env,
    config: &'a Config,
    caller: Caller,
    origin: String,
}

impl crate::services::Context for GalleryCall<'_> {
    fn env(&self) -> &Env {
        self.env
    }

    fn config(&self) -> &Config {
        self.config
    }

    fn caller(&self) -> &Caller {
        &self.caller
    }

    fn origin(&self) -> &str {
        &self.origin
    }
}

/// POST /gallery/image/<id>/delete: the image page's Delete button. Same-site form posts of a
/// signed-in person only; deletes what delete_image deletes, then goes back to the grid (303).
/// A job the person may not see is "not found"; one still running is refused with the reason.
async fn delete_image(req: Request, env: &Env, id: String) -> GalleryResult<Response> {
    let config = Config::from_env(env)?;
    let csp = content_security_policy(config.public_image_base_url.as_deref());
    let Some(token) = config.auth_token.as_deref() else {
        return token_not_configured(&csp);
    };
    if let Some(refusal) = refuse_cross_site(&req, &csp)? {
        return Ok(refusal);
    }
    let Some((session, caller)) = signed_in(&req, token, &config).await? else {
        let page = render::sign_in_page(
            Some(&Location::Image(id)),
            Some("Your session has ended: sign in again, then delete the image."),
        );
        return html(403, page, Some(&csp));
    };
    let call = GalleryCall {
        env,
        config: &config,
        caller,
        origin: request_origin(&req),
    };
    let viewer = Viewer::SignedIn {
        subject: &session.subject,
    };
    match deletion::delete_images(&call, std::slice::from_ref(&id)).await? {
        Ok(_) => redirect(303, routes::GALLERY, None),
        Err(Refusal::NotFound(_)) => not_found(&viewer, &csp),
        Err(refusal) => html(
            409,
            render::message_page(&viewer, "Not deleted", &refusal.to_string()),
            Some(&csp),
        ),
    }
}

/// GET /gallery/image/<id>/download: the image file as an attachment named after the prompt,
/// streamed from R2 (whatever base URL the row was recorded under).
async fn download(req: &Request, env: &Env, id: String) -> GalleryResult<Response> {
    let config = Config::from_env(env)?;
    let csp = content_security_policy(config.public_image_base_url.as_deref());
    let Some(token) = config.auth_token.as_deref() else {
        return token_not_configured(&csp);
    };
    let Some((session, caller)) = signed_in(req, token, &config).await? else {
        return html(200, render::sign_in_page(Some(&Location::Image(id)), None), Some(&csp));
    };
    let viewer = Viewer::SignedIn {
        subject: &session.subject,
    };
    let store = JobStore::new(crate::bindings::db(env)?);
    let Some(job) = store.job(&id, caller.visible_owner()).await? else {
        return not_found(&viewer, &csp);
    };
    let stored = job.image_url.as_deref().filter(|_| job.status == JobStatus::Completed);
    let Some((key, format)) = stored.and_then(crate::urls::key_in_stored_url) else {
        return not_found(&viewer, &csp);
    };
    let bucket = crate::bindings::bucket(env)?;
    let Some(object) = bucket.get(key).execute().await? else {
        return not_found(&viewer, &csp);
    };
    let size = object.size();
    let mut response = match object.body() {
        // Handed to the runtime as R2's own stream: no copy through the Wasm, and the runtime
        // knows its length.
        Some(body) if req.method() != Method::Head => Response::from_body(body.response_body()?)?,
        _ => Response::empty()?,
    };
    let headers = response.headers_mut();
    headers.set("Content-Type", format.content_type())?;
    headers.set("Content-Length", &size.to_string())?;
    headers.set(
        "Content-Disposition",
        &attachment(&job.prompt, &job.id, format.extension()),
    )?;
    headers.set("Cache-Control", "private, no-store")?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    Ok(response)
}

/// `Content-Disposition` of a download (RFC 6266): `filename` is the prompt's slug (the one R2
/// keys use: ASCII letters, digits and dashes, at most 50), or `image-<job id>` when the prompt
/// has none of those; prompts with other letters add `filename*` (RFC 8187), their letters and
/// digits kept, runs of anything else one dash, cut to 50 characters, percent-encoded.
pub fn attachment(prompt: &str, job_id: &str, extension: &str) -> String {
    let slug = crate::services::storage::slug(prompt);
    let ascii = if slug.is_empty() {
        format!("image-{job_id}")
    } else {
        slug
    };
    let mut value = format!("attachment; filename=\"{ascii}.{extension}\"");
    let mut unicode = String::new();
    for c in prompt.chars() {
        if c.is_alphanumeric() {
            unicode.push(c);
        } else if !unicode.is_empty() && !unicode.ends_with('-') {
            unicode.push('-');
        }
    }
    let unicode: String = unicode.trim_end_matches('-').chars().take(50).collect();
    let unicode = unicode.trim_end_matches('-');
    if !unicode.is_ascii() {
        value.push_str(&format!("; filename*=UTF-8''{}.{extension}", form::encode(unicode)));
    }
    value
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
        Err(BodyError::TooLarge(_)) => None,
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
    fn downloads_are_named_after_the_prompt() {
        assert_eq!(
            attachment("A red fox, at dusk!", "j-1", "png"),
            "attachment; filename=\"a-red-fox-at-dusk.png\""
        );
        assert_eq!(
            attachment("日本の風景", "j-1", "jpg"),
            "attachment; filename=\"image-j-1.jpg\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E3%81%AE%E9%A2%A8%E6%99%AF.jpg"
        );
        assert_eq!(
            attachment("Café \"Straße\"", "j", "png"),
            "attachment; filename=\"caf-stra-e.png\"; filename*=UTF-8''Caf%C3%A9-Stra%C3%9Fe.png"
        );
        // Nothing a prompt holds can end the quoted name or add a parameter.
        let tricky = attachment("x\"; filename=evil.exe\r\n", "j", "png");
        assert_eq!(tricky, "attachment; filename=\"x-filename-evil-exe.png\"");
        assert_eq!(attachment("", "j", "png"), "attachment; filename=\"image-j.png\"");
        let long = attachment(&"ü".repeat(500), "j", "png");
        assert!(long.len() < 400, "{long}");
    }

    #[test]
    fn image_actions_are_told_apart() {
        assert_eq!(
            image_action("/gallery/image/abc-1/download"),
            Some(("abc-1".into(), ImageAction::Download))
        );
        assert_eq!(
            image_action("/gallery/image/abc-1/delete"),
            Some(("abc-1".into(), ImageAction::Delete))
        );
        for path in [
            "/gallery/image/abc-1",
            "/gallery/image//delete",
            "/gallery/image/a%2Fb/delete",
            "/gallery/image/a/b/delete",
            "/gallery/image/abc/remove",
        ] {
            assert_eq!(image_action(path), None, "{path}");
        }
        assert_eq!(routes::delete_href("abc"), "/gallery/image/abc/delete");
        assert!(image_action(&routes::download_href("abc")).is_some());
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
