//! The gallery's HTML: sign-in form, grid, image page and error pages (pure functions of their data).
//!
//! No inline scripts or styles (the Content-Security-Policy forbids them): the look comes from
//! `/gallery/style.css` and the enhancements (the copy-prompt button, the question before a
//! delete) from `/gallery/app.js`.
//! Every piece of data inserted goes through [`esc`]; URLs also through [`safe_image_url`].

use serde_json::Value;

use super::query::{GalleryQuery, Location};
use super::routes;
use crate::catalog::{GALLERY_PAGE_SIZE, GALLERY_SEARCH_MAX_BYTES};
use crate::html::escape as esc;
use crate::jobs::{JobRow, JobStatus};
use crate::models::MODELS;

/// Shown where a value is not known (e.g. the seed of a job made before seeds were stored).
const UNKNOWN: &str = "—";
/// Longest prompt excerpt used as an image's alt text and page title.
const PROMPT_EXCERPT_CHARS: usize = 120;
/// Tiles above the fold load at once; the rest wait until scrolled near (full-size images).
const EAGER_TILES: usize = 8;

/// The image a grid tile shows: the thumbnail when the job has one, else the full image.
pub fn tile_image_url(job: &JobRow) -> Option<&str> {
    job.thumbnail_url
        .as_deref()
        .filter(|url| safe_image_url(url))
        .or_else(|| full_image_url(job))
}

/// The finished image of a job, if it has one this page may reference.
pub fn full_image_url(job: &JobRow) -> Option<&str> {
    job.image_url.as_deref().filter(|url| safe_image_url(url))
}

/// Our own `/images/…` path or an absolute http(s) URL (the public bucket); never `javascript:`,
/// `data:` or a protocol-relative `//host` URL.
pub fn safe_image_url(url: &str) -> bool {
    let relative = url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\");
    relative || url.starts_with("https://") || url.starts_with("http://")
}

// ---------------------------------------------------------------------------
// Frame
// ---------------------------------------------------------------------------

/// Who the page is for: a signed-in person sees the sign-out button.
pub enum Viewer<'a> {
    Anonymous,
    SignedIn { subject: &'a str },
}

pub(super) fn document(title: &str, viewer: &Viewer, body: &str) -> String {
    let account = match viewer {
        Viewer::Anonymous => String::new(),
        Viewer::SignedIn { subject } => format!(
            "<a href=\"{apps}\">Connected apps</a><span class=\"who\">Signed in as {}</span>\
             <form method=\"post\" action=\"{logout}\" class=\"signout\"><button type=\"submit\">Sign out</button></form>",
            esc(subject),
            logout = routes::LOGOUT,
            apps = routes::APPS,
        ),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta name=\"referrer\" content=\"same-origin\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <title>{title} · Image gallery</title>\n\
         <link rel=\"stylesheet\" href=\"{css}\">\n\
         <script src=\"{js}\" defer></script>\n</head>\n<body>\n\
         <header class=\"bar\"><a class=\"brand\" href=\"{gallery}\">Image gallery</a>\
         <nav class=\"account\"><a href=\"/\">Server</a>{account}</nav></header>\n\
         <main>\n{body}</main>\n</body>\n</html>\n",
        title = esc(title),
        css = routes::STYLE,
        js = routes::SCRIPT,
        gallery = routes::GALLERY,
    )
}

// ---------------------------------------------------------------------------
// Sign-in and messages
// ---------------------------------------------------------------------------

/// The sign-in form. `next` is where to go afterwards; `error` is shown above the form.
pub fn sign_in_page(next: Option<&Location>, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"alert\" role=\"alert\">{}</p>\n", esc(e)))
        .unwrap_or_default();
    let next = next
        .map(|n| format!("<input type=\"hidden\" name=\"next\" value=\"{}\">", esc(&n.href())))
        .unwrap_or_default();
    let body = format!(
        "<section class=\"signin\">\n<h1>Sign in</h1>\n\
         <p>The gallery shows every image this server generated. Sign in with the server's access token \
         (the <code>AUTH_TOKEN</code> that MCP clients send as a bearer token).</p>\n{error}\
         <form method=\"post\" action=\"{login}\">{next}\
         <label for=\"token\">Access token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required autofocus>\
         <button type=\"submit\">Sign in</button></form>\n</section>\n",
        login = routes::LOGIN,
    );
    document("Sign in", &Viewer::Anonymous, &body)
}

/// A page with a heading, a sentence and a way back (errors, 404).
pub fn message_page(viewer: &Viewer, title: &str, message: &str) -> String {
    let body = format!(
        "<section class=\"message\">\n<h1>{}</h1>\n<p>{}</p>\n<p><a href=\"{}\">Back to the gallery</a></p>\n</section>\n",
        esc(title),
        esc(message),
        routes::GALLERY,
    );
    document(title, viewer, &body)
}

// ---------------------------------------------------------------------------
// Grid
// ---------------------------------------------------------------------------

/// One page of the grid: filters, tiles newest first, and links to newer and older pages.
pub fn grid_page(viewer: &Viewer, query: &GalleryQuery, total: i64, jobs: &[JobRow]) -> String {
    let mut body = String::with_capacity(4096 + jobs.len() * 1024);
    body.push_str("<h1>Generated images</h1>\n");
    body.push_str(&filters(query));
    let pages = GalleryQuery::page_count(total);
    body.push_str(&format!(
        "<p class=\"summary\">{} · page {} of {pages}</p>\n",
        count_text(total, query),
        query.page
    ));
    if jobs.is_empty() {
        body.push_str(&empty_state(query, total));
    } else {
        body.push_str("<ul class=\"grid\">\n");
        for (index, job) in jobs.iter().enumerate() {
            body.push_str(&tile(job, index >= EAGER_TILES));
        }
        body.push_str("</ul>\n");
    }
    body.push_str(&pager(query, pages));
    document("Generated images", viewer, &body)
}

fn count_text(total: i64, query: &GalleryQuery) -> String {
    let noun = if total == 1 { "job" } else { "jobs" };
    if query.model.is_none() && query.status.is_none() && query.search.is_none() {
        format!("{total} {noun}")
    } else {
        format!("{total} matching {noun}")
    }
}

fn filters(query: &GalleryQuery) -> String {
    let option = |value: &str, label: &str, selected: bool| {
        format!(
            "<option value=\"{}\"{}>{}</option>",
            esc(value),
            if selected { " selected" } else { "" },
            esc(label)
        )
    };
    let mut models = option("", "All models", query.model.is_none());
    for spec in &MODELS {
        models.push_str(&option(spec.name, spec.name, query.model == Some(spec.model())));
    }
    let mut statuses = option("", "All statuses", query.status.is_none());
    for status in JobStatus::ALL {
        statuses.push_str(&option(status.as_str(), status.as_str(), query.status == Some(status)));
    }
    format!(
        "<form class=\"filters\" method=\"get\" action=\"{gallery}\">\
         <label>Model <select name=\"model\">{models}</select></label>\
         <label>Status <select name=\"status\">{statuses}</select></label>\
         <label>Search prompts <input type=\"search\" name=\"q\" value=\"{search}\" \
         maxlength=\"{GALLERY_SEARCH_MAX_BYTES}\" placeholder=\"Words from a prompt\"></label>\
         <button type=\"submit\">Apply filters</button></form>\n",
        gallery = routes::GALLERY,
        search = esc(query.search.as_deref().unwrap_or("")),
    )
}

fn empty_state(query: &GalleryQuery, total: i64) -> String {
    let text = if total > 0 {
        format!(
            "This page is past the last one. <a href=\"{}\">Go to the first page</a>.",
            esc(&query.with_page(1).href())
        )
    } else if query.model.is_some() || query.status.is_some() || query.search.is_some() {
        format!(
            "No job matches these filters. <a href=\"{}\">Show every job</a>.",
            routes::GALLERY
        )
    } else {
        "No images yet. Ask an MCP client to generate one and it appears here.".to_string()
    };
    format!("<p class=\"empty\">{text}</p>\n")
}

fn tile(job: &JobRow, lazy: bool) -> String {
    let href = image_page_href(job);
    let picture = match (job.status, tile_image_url(job)) {
        (JobStatus::Completed, Some(url)) => format!(
            "<img src=\"{}\" alt=\"{}\"{} decoding=\"async\">",
            esc(url),
            esc(&excerpt(&job.prompt)),
            if lazy { " loading=\"lazy\"" } else { "" }
        ),
        (status, _) => format!(
            "<span class=\"placeholder status-{}\">{}</span>",
            status.as_str(),
            status_label(status)
        ),
    };
    let error = match (job.status, job.error.as_deref()) {
        (JobStatus::Failed, Some(error)) => format!("<p class=\"error\">{}</p>", esc(error)),
        (JobStatus::Failed, None) => "<p class=\"error\">Failed without an error message.</p>".to_string(),
        _ => String::new(),
    };
    format!(
        "<li class=\"tile status-{status}\"><a class=\"thumb\" href=\"{href}\">{picture}</a>\
         <div class=\"meta\"><p class=\"prompt\"><a href=\"{href}\">{prompt}</a></p>\
         <p class=\"facts\">{badge} <span class=\"model\">{model}</span> {time}</p>{error}</div></li>\n",
        status = job.status.as_str(),
        href = esc(&href),
        prompt = esc(&job.prompt),
        badge = status_badge(job.status),
        model = esc(&job.model),
        time = time_element(job.created_at),
    )
}

fn pager(query: &GalleryQuery, pages: i64) -> String {
    if pages <= 1 && query.page == 1 {
        return String::new();
    }
    let newer = if query.page > 1 {
        format!(
            "<a rel=\"prev\" href=\"{}\">← Newer</a>",
            esc(&query.with_page((query.page - 1).min(pages)).href())
        )
    } else {
        "<span class=\"off\">← Newer</span>".to_string()
    };
    let older = if query.page < pages {
        format!(
            "<a rel=\"next\" href=\"{}\">Older →</a>",
            esc(&query.with_page(query.page + 1).href())
        )
    } else {
        "<span class=\"off\">Older →</span>".to_string()
    };
    format!(
        "<nav class=\"pager\" aria-label=\"Pages\">{newer}<span>Page {} of {pages} · {GALLERY_PAGE_SIZE} per page</span>{older}</nav>\n",
        query.page
    )
}

// ---------------------------------------------------------------------------
// Image page
// ---------------------------------------------------------------------------

/// Everything about one job: the full image, prompt (with a copy button), model, seed, size,
/// parameters, times, the error of a failed job, and a link to the raw file.
pub fn image_page(viewer: &Viewer, job: &JobRow) -> String {
    let figure = match (job.status, full_image_url(job)) {
        (JobStatus::Completed, Some(url)) => format!(
            "<figure class=\"full\"><img src=\"{}\" alt=\"{}\"></figure>",
            esc(url),
            esc(&excerpt(&job.prompt))
        ),
        (status, _) => format!(
            "<figure class=\"full\"><span class=\"placeholder status-{}\">{}</span></figure>",
            status.as_str(),
            status_label(status)
        ),
    };
    let mut facts = vec![
        ("Status", status_badge(job.status)),
        ("Model", esc(&job.model)),
        ("Seed", job.seed.map_or_else(|| UNKNOWN.to_string(), |s| s.to_string())),
        ("Size", size_text(job.width, job.height)),
        ("Parameters", parameters_html(job.parameters.as_deref())),
        ("Created", time_element(job.created_at)),
        ("Updated", time_element(job.updated_at)),
        ("Job id", format!("<code>{}</code>", esc(&job.id))),
    ];
    // A cancelled job's "error" only repeats its status.
    if let Some(error) = job.error.as_deref().filter(|_| job.status != JobStatus::Cancelled) {
        let label = if job.status == JobStatus::Failed {
            "Error"
        } else {
            "Last error"
        };
        facts.push((label, format!("<span class=\"error\">{}</span>", esc(error))));
    }
    let facts: String = facts
        .into_iter()
        .map(|(name, value)| format!("<dt>{name}</dt><dd>{value}</dd>"))
        .collect();
    let raw = match full_image_url(job) {
        Some(url) => format!(
            "<p class=\"raw\"><a href=\"{}\">Open the original file</a> · \
             <a class=\"download\" href=\"{}\" download>Download</a></p>",
            esc(url),
            esc(&routes::download_href(&job.id)),
        ),
        None => String::new(),
    };
    let cancel = cancel_form(job);
    let raw = raw + &delete_form(job);
    let body = format!(
        "<p class=\"crumbs\"><a href=\"{gallery}\">← All images</a></p>\n\
         <article class=\"detail\">{figure}<section class=\"info\"><h1>Image details</h1>\
         <h2>Prompt</h2><p id=\"prompt\" class=\"prompt-text\">{prompt}</p>\
         <button type=\"button\" class=\"copy\" data-copy=\"prompt\" hidden>Copy prompt</button>\
         <dl class=\"facts\">{facts}</dl>{raw}{cancel}</section></article>\n",
        gallery = routes::GALLERY,
        prompt = esc(&job.prompt),
    );
    document(&excerpt(&job.prompt), viewer, &body)
}

/// The Delete button of a finished job (a form, so it works without JavaScript; app.js asks
/// first). Jobs still running cannot be deleted yet, and a tombstone has nothing left to delete.
fn delete_form(job: &JobRow) -> String {
    if !matches!(job.status, JobStatus::Completed | JobStatus::Failed) {
        return String::new();
    }
    format!(
        "<form class=\"delete\" method=\"post\" action=\"{}\" \
         data-confirm=\"Delete this image for good? Its file, thumbnail and prompt are removed.\">\
         <button type=\"submit\" class=\"danger\">Delete</button></form>",
        esc(&routes::delete_href(&job.id))
    )
}

fn size_text(width: Option<i64>, height: Option<i64>) -> String {
    match (width, height) {
        (Some(w), Some(h)) => format!("{w} × {h} px"),
        _ => UNKNOWN.to_string(),
    }
}

/// A parameters object as a small list of `name: value`; other JSON as text; none as "—".
fn parameters_html(parameters: Option<&str>) -> String {
    let Some(text) = parameters.map(str::trim).filter(|t| !t.is_empty() && *t != "null") else {
        return UNKNOWN.to_string();
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) if map.is_empty() => UNKNOWN.to_string(),
        Ok(Value::Object(map)) => {
            let items: String = map
                .iter()
                .map(|(name, value)| {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    format!("<li><code>{}</code>: {}</li>", esc(name), esc(&text))
                })
                .collect();
            format!("<ul class=\"params\">{items}</ul>")
        }
        _ => esc(text),
    }
}

/// The Cancel button of an unfinished job: a same-origin form POST to its cancel path (no script).
fn cancel_form(job: &JobRow) -> String {
    if !job.status.is_unfinished() {
        return String::new();
    }
    format!(
        "<form method=\"post\" action=\"{}\" class=\"cancel\">\
         <button type=\"submit\">Cancel this job</button></form>",
        esc(&cancel_href(&job.id))
    )
}

/// Where the Cancel button posts: `/gallery/image/<job id>/cancel`.
pub fn cancel_href(job_id: &str) -> String {
    format!("{}{job_id}{}", routes::IMAGE_PREFIX, routes::CANCEL_SUFFIX)
}

// ---------------------------------------------------------------------------
// Small pieces
// ---------------------------------------------------------------------------

fn image_page_href(job: &JobRow) -> String {
    Location::Image(job.id.clone()).href()
}

fn status_label(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Pending => "Waiting to start…",
        JobStatus::Processing => "Generating…",
        JobStatus::Completed => "Image missing",
        JobStatus::Failed => "Failed",
        JobStatus::Cancelled => "Cancelled",
        JobStatus::Deleted => "Deleted",
    }
}

fn status_badge(status: JobStatus) -> String {
    format!("<span class=\"badge status-{0}\">{0}</span>", status.as_str())
}

/// The prompt cut to a readable length for alt text and titles.
fn excerpt(prompt: &str) -> String {
    let mut chars = prompt.chars();
    let head: String = chars.by_ref().take(PROMPT_EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("{}…", head.trim_end())
    } else {
        head
    }
}

pub(super) fn time_element(ms: i64) -> String {
    let (iso, display) = utc_datetime(ms);
    format!("<time datetime=\"{iso}\">{display}</time>")
}

/// Milliseconds since the epoch as (`2026-01-02T03:04:05Z`, `2026-01-02 03:04 UTC`).
pub fn utc_datetime(ms: i64) -> (String, String) {
    let seconds = ms.div_euclid(1000);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = crate::time::civil_from_days(days);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day % 3600 / 60, second_of_day % 60);
    (
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"),
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script> \"quoted\" & 'single' <img src=x onerror=alert(2)>";

    fn job(status: JobStatus) -> JobRow {
        JobRow {
            prompt: "a lighthouse at dusk".into(),
            image_url: (status == JobStatus::Completed).then(|| "/images/1700000000000-a-lighthouse-j.jpg".into()),
            error: (status == JobStatus::Failed).then(|| "stand-in: model unavailable".into()),
            created_at: 1_700_000_000_000,
            updated_at: 1_700_000_005_000,
            ..JobRow::fixture("3f0c9a52-1b7e-4c1d-9a0e-2f1b3c4d5e6f", status)
        }
    }

    fn signed_in() -> Viewer<'static> {
        Viewer::SignedIn { subject: "admin" }
    }

    /// No inline script or style anywhere (the CSP would block them).
    fn assert_csp_clean(html: &str) {
        assert!(!html.contains("<script>"), "inline script");
        assert!(!html.contains("<style"), "inline style element");
        assert!(!html.contains(" style="), "style attribute");
        // Inside real tags only (escaped text has no `<`), outside quoted values (escaped
        // values have no `"`): no ` on…=` attribute.
        for tag in html
            .split('<')
            .skip(1)
            .map(|rest| rest.split('>').next().unwrap_or(rest))
        {
            let tag: String = tag.split('"').step_by(2).collect::<Vec<_>>().join("\"\"");
            let handler = tag.match_indices(" on").any(|(at, _)| {
                let name: String = tag[at + 3..].chars().take_while(char::is_ascii_alphabetic).collect();
                tag[at + 3 + name.len()..].starts_with('=')
            });
            assert!(!handler, "event handler attribute in <{tag}>");
        }
    }

    #[test]
    fn hostile_prompts_errors_and_models_are_escaped_everywhere() {
        let mut failed = job(JobStatus::Failed);
        failed.prompt = HOSTILE.into();
        failed.error = Some(HOSTILE.into());
        failed.model = HOSTILE.into();
        failed.parameters = Some(serde_json::json!({HOSTILE: HOSTILE}).to_string());
        let mut done = job(JobStatus::Completed);
        done.prompt = HOSTILE.into();
        let pages = [
            grid_page(
                &signed_in(),
                &GalleryQuery::default(),
                2,
                &[failed.clone(), done.clone()],
            ),
            image_page(&signed_in(), &failed),
            image_page(&signed_in(), &done),
            message_page(&Viewer::SignedIn { subject: HOSTILE }, HOSTILE, HOSTILE),
            sign_in_page(None, Some(HOSTILE)),
        ];
        for html in pages {
            assert!(!html.contains("<script>alert"), "{html}");
            assert!(!html.contains("<img src=x"), "{html}");
            assert!(!html.contains("\"quoted\""), "{html}");
            assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
            assert_csp_clean(&html);
        }
    }

    #[test]
    fn grid_shows_images_for_completed_jobs_and_errors_for_failed_ones() {
        let jobs = [
            job(JobStatus::Completed),
            job(JobStatus::Failed),
            job(JobStatus::Pending),
            job(JobStatus::Processing),
        ];
        let html = grid_page(&signed_in(), &GalleryQuery::default(), 4, &jobs);
        assert_eq!(html.matches("<li class=\"tile").count(), 4);
        assert_eq!(html.matches("<img ").count(), 1);
        assert!(html.contains("src=\"/images/1700000000000-a-lighthouse-j.jpg\" alt=\"a lighthouse at dusk\""));
        assert!(html.contains("<p class=\"error\">stand-in: model unavailable</p>"));
        assert!(html.contains("Waiting to start…") && html.contains("Generating…"));
        assert!(html.contains("href=\"/gallery/image/3f0c9a52-1b7e-4c1d-9a0e-2f1b3c4d5e6f\""));
        assert!(html.contains("<time datetime=\"2023-11-14T22:13:20Z\">2023-11-14 22:13 UTC</time>"));
        assert!(html.contains("4 jobs · page 1 of 1"));
        assert!(html.contains("action=\"/gallery/logout\""), "sign-out button");
        assert!(!html.contains("class=\"pager\""), "one page needs no pager");
    }

    #[test]
    fn later_tiles_load_lazily() {
        let jobs: Vec<JobRow> = (0..12).map(|_| job(JobStatus::Completed)).collect();
        let html = grid_page(&signed_in(), &GalleryQuery::default(), 12, &jobs);
        assert_eq!(html.matches("loading=\"lazy\"").count(), 12 - EAGER_TILES);
    }

    #[test]
    fn filters_keep_their_selection_and_pager_links_keep_the_filters() {
        let query = GalleryQuery {
            page: 2,
            model: crate::models::ImageModel::from_name("sdxl-base"),
            status: Some(JobStatus::Failed),
            search: None,
        };
        let html = grid_page(&signed_in(), &query, 3 * GALLERY_PAGE_SIZE, &[job(JobStatus::Failed)]);
        assert!(html.contains("<option value=\"sdxl-base\" selected>"));
        assert!(html.contains("<option value=\"failed\" selected>"));
        assert!(html.contains("<option value=\"\">All models</option>"));
        assert!(html.contains("rel=\"prev\" href=\"/gallery?model=sdxl-base&amp;status=failed\""));
        assert!(html.contains("rel=\"next\" href=\"/gallery?model=sdxl-base&amp;status=failed&amp;page=3\""));
        assert!(html.contains("72 matching jobs · page 2 of 3"));
    }

    #[test]
    fn the_search_box_shows_the_search_escaped_and_pager_links_keep_it() {
        let query = GalleryQuery {
            page: 2,
            search: Some("<b>\"fox\" & 50%".into()),
            ..GalleryQuery::default()
        };
        let html = grid_page(
            &signed_in(),
            &query,
            3 * GALLERY_PAGE_SIZE,
            &[job(JobStatus::Completed)],
        );
        assert!(
            html.contains("name=\"q\" value=\"&lt;b&gt;&quot;fox&quot; &amp; 50%\""),
            "the search box keeps the search, escaped"
        );
        assert!(html.contains(&format!("maxlength=\"{GALLERY_SEARCH_MAX_BYTES}\"")));
        assert!(html.contains("rel=\"next\" href=\"/gallery?q=%3Cb%3E%22fox%22%20%26%2050%25&amp;page=3\""));
        assert!(html.contains("72 matching jobs"));
        assert!(!html.contains("<b>\"fox"));
        let none = grid_page(&signed_in(), &query.with_page(1), 0, &[]);
        assert!(none.contains("No job matches these filters"));
    }

    #[test]
    fn an_image_page_offers_download_and_delete_only_when_there_is_something_to_delete() {
        let done = image_page(&signed_in(), &job(JobStatus::Completed));
        assert!(
            done.contains(
                "href=\"/gallery/image/3f0c9a52-1b7e-4c1d-9a0e-2f1b3c4d5e6f/download\" download>Download</a>"
            ),
            "{done}"
        );
        assert!(done.contains("<form class=\"delete\" method=\"post\" action=\"/gallery/image/3f0c9a52-1b7e-4c1d-9a0e-2f1b3c4d5e6f/delete\""));
        assert!(done.contains("data-confirm="));
        let failed = image_page(&signed_in(), &job(JobStatus::Failed));
        assert!(
            failed.contains("action=\"/gallery/image/3f0c9a52-1b7e-4c1d-9a0e-2f1b3c4d5e6f/delete\"")
                && !failed.contains("Download")
        );
        for status in [JobStatus::Pending, JobStatus::Processing, JobStatus::Deleted] {
            let html = image_page(&signed_in(), &job(status));
            assert!(!html.contains("/delete\"") && !html.contains("Download"), "{status:?}");
        }
    }

    #[test]
    fn empty_pages_say_why() {
        let none = grid_page(&signed_in(), &GalleryQuery::default(), 0, &[]);
        assert!(none.contains("No images yet"));
        let filtered = GalleryQuery {
            status: Some(JobStatus::Failed),
            ..GalleryQuery::default()
        };
        assert!(grid_page(&signed_in(), &filtered, 0, &[]).contains("No job matches these filters"));
        let past = grid_page(&signed_in(), &GalleryQuery::default().with_page(9), 5, &[]);
        assert!(past.contains("past the last one"));
        assert!(
            past.contains("rel=\"prev\" href=\"/gallery\""),
            "newer link goes to the last real page"
        );
    }

    #[test]
    fn image_page_has_every_field_and_dashes_for_unknown_ones() {
        let html = image_page(&signed_in(), &job(JobStatus::Completed));
        for field in [
            "Status",
            "Model",
            "Seed",
            "Size",
            "Parameters",
            "Created",
            "Updated",
            "Job id",
        ] {
            assert!(html.contains(&format!("<dt>{field}</dt>")), "{field}");
        }
        assert_eq!(
            html.matches("<dd>—</dd>").count(),
            3,
            "seed, size and parameters unknown"
        );
        assert!(html.contains("<figure class=\"full\"><img src=\"/images/1700000000000-a-lighthouse-j.jpg\""));
        assert!(html.contains("<p id=\"prompt\" class=\"prompt-text\">a lighthouse at dusk</p>"));
        assert!(html.contains("data-copy=\"prompt\" hidden>Copy prompt</button>"));
        assert!(html.contains("<a href=\"/images/1700000000000-a-lighthouse-j.jpg\">Open the original file</a>"));
        assert!(html.contains("<script src=\"/gallery/app.js\" defer></script>"));
    }

    /// The two static files against the pages that use them (they are the pages' only script
    /// and style: the CSP allows nothing inline): the copy script finds the button and the text
    /// the image page renders, and every status class a page writes has a rule.
    #[test]
    fn the_static_files_serve_what_the_pages_render() {
        use super::super::{APP_JS, STYLE_CSS};
        let html = image_page(&signed_in(), &job(JobStatus::Completed));
        assert_csp_clean(&html);
        let (_, rest) = html.split_once("data-copy=\"").expect("a copy button");
        let target = &rest[..rest.find('"').unwrap()];
        assert!(
            html.contains(&format!("id=\"{target}\"")),
            "nothing has the id {target:?}"
        );
        assert!(
            rest.starts_with(&format!("{target}\" hidden>")),
            "the button waits hidden for the script"
        );
        assert!(APP_JS.contains("querySelectorAll(\"button[data-copy]\")"));
        assert!(APP_JS.contains("getElementById(button.dataset.copy)"));
        assert!(APP_JS.contains("button.hidden = false"));
        assert!(APP_JS.len() < 2048, "the script stays small: {} bytes", APP_JS.len());
        for status in JobStatus::ALL {
            let pages = [
                grid_page(&signed_in(), &GalleryQuery::default(), 1, &[job(status)]),
                image_page(&signed_in(), &job(status)),
            ];
            for page in pages {
                for (at, _) in page.match_indices("status-") {
                    let class: String = page[at..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                        .collect();
                    assert!(STYLE_CSS.contains(&format!(".{class}")), "no rule for .{class}");
                }
            }
        }
    }

    #[test]
    fn image_page_shows_seed_size_parameters_when_known() {
        let mut known = job(JobStatus::Completed);
        known.seed = Some(123_456);
        known.width = Some(1024);
        known.height = Some(768);
        known.parameters = Some("{\"steps\":4,\"guidance\":7.5,\"sampler\":\"euler\"}".into());
        let html = image_page(&signed_in(), &known);
        assert!(html.contains("<dt>Seed</dt><dd>123456</dd>"));
        assert!(html.contains("<dt>Size</dt><dd>1024 × 768 px</dd>"));
        assert!(html.contains("<li><code>steps</code>: 4</li>"));
        assert!(html.contains("<li><code>sampler</code>: euler</li>"));
        assert!(!html.contains("<dd>—</dd>"));
    }

    #[test]
    fn failed_image_page_shows_the_error_and_no_file_link() {
        let html = image_page(&signed_in(), &job(JobStatus::Failed));
        assert!(html.contains("<dt>Error</dt><dd><span class=\"error\">stand-in: model unavailable</span></dd>"));
        assert!(!html.contains("Open the original file"));
        assert!(!html.contains("<img "));
    }

    #[test]
    fn only_unfinished_jobs_have_a_cancel_button_and_a_cancelled_one_says_so_once() {
        for status in JobStatus::ALL {
            let html = image_page(&signed_in(), &job(status));
            let action = format!("action=\"{}\"", esc(&cancel_href(&job(status).id)));
            assert_eq!(html.contains(&action), status.is_unfinished(), "{status:?}");
        }
        let mut cancelled = job(JobStatus::Cancelled);
        cancelled.error = Some(crate::jobs::cancel_sql::CANCELLED_ERROR.into());
        let html = image_page(&signed_in(), &cancelled);
        assert!(html.contains("<span class=\"badge status-cancelled\">cancelled</span>"));
        assert!(!html.contains("Last error") && !html.contains("<dt>Error</dt>"));
    }

    #[test]
    fn unsafe_image_urls_are_never_rendered() {
        for url in [
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "//evil.example/x.png",
            "/\\evil.example",
        ] {
            let mut bad = job(JobStatus::Completed);
            bad.image_url = Some(url.into());
            assert_eq!(tile_image_url(&bad), None, "{url}");
            let html = image_page(&signed_in(), &bad);
            assert!(!html.contains(&esc(url)), "{url}");
        }
        let mut public = job(JobStatus::Completed);
        public.image_url = Some("https://img.example.com/k.png".into());
        assert_eq!(tile_image_url(&public), Some("https://img.example.com/k.png"));
        public.thumbnail_url = Some("javascript:alert(1)".into());
        assert_eq!(
            tile_image_url(&public),
            Some("https://img.example.com/k.png"),
            "an unsafe thumbnail URL falls back to the image"
        );
    }

    #[test]
    fn tiles_show_the_thumbnail_when_there_is_one_and_the_page_the_full_image() {
        let mut done = job(JobStatus::Completed);
        done.thumbnail_url = Some("/images/1700000000000-a-lighthouse-j-thumb.webp".into());
        assert_eq!(
            tile_image_url(&done),
            Some("/images/1700000000000-a-lighthouse-j-thumb.webp")
        );
        assert_eq!(full_image_url(&done), Some("/images/1700000000000-a-lighthouse-j.jpg"));
        let html = image_page(&signed_in(), &done);
        assert!(html.contains("/images/1700000000000-a-lighthouse-j.jpg"));
    }

    #[test]
    fn sign_in_form_posts_the_token_field_and_keeps_the_return_path() {
        let next = Location::Grid(GalleryQuery::default().with_page(2));
        let html = sign_in_page(Some(&next), Some("Wrong token."));
        assert!(html.contains("<form method=\"post\" action=\"/gallery/login\">"));
        assert!(html.contains("name=\"token\" type=\"password\""));
        assert!(html.contains("<input type=\"hidden\" name=\"next\" value=\"/gallery?page=2\">"));
        assert!(html.contains("<p class=\"alert\" role=\"alert\">Wrong token.</p>"));
        assert!(!html.contains("Sign out"));
        assert_csp_clean(&html);
    }

    #[test]
    fn dates_are_utc_and_correct_around_leap_years_and_the_epoch() {
        assert_eq!(utc_datetime(0).0, "1970-01-01T00:00:00Z");
        assert_eq!(utc_datetime(951_782_400_000).0, "2000-02-29T00:00:00Z");
        assert_eq!(utc_datetime(1_709_251_199_999).0, "2024-02-29T23:59:59Z");
        assert_eq!(utc_datetime(4_102_444_800_000).1, "2100-01-01 00:00 UTC");
        assert_eq!(utc_datetime(-1).0, "1969-12-31T23:59:59Z");
    }

    #[test]
    fn long_prompts_are_cut_for_alt_text_and_titles() {
        let long = "word ".repeat(100);
        let cut = excerpt(&long);
        assert!(cut.ends_with('…') && cut.chars().count() <= PROMPT_EXCERPT_CHARS + 1);
        assert_eq!(excerpt("short"), "short");
    }
}
