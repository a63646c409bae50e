//! What a gallery page shows (page number, model and status filters, a search over prompts):
//! read from URLs, written back into links, and handed to the job store as a filter and a page.

use super::routes;
use crate::catalog::{D1_LIKE_PATTERN_MAX_BYTES, GALLERY_MAX_PAGE, GALLERY_PAGE_SIZE, GALLERY_SEARCH_MAX_BYTES};
use crate::http::form;
use crate::jobs::sql::contains_pattern;
use crate::jobs::{JobFilter, JobStatus, Page};
use crate::models::ImageModel;

/// One grid page: which jobs, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GalleryQuery {
    /// 1-based.
    pub page: i64,
    pub model: Option<ImageModel>,
    pub status: Option<JobStatus>,
    /// Text the prompts must contain (trimmed, not empty, fitting D1's LIKE pattern limit).
    pub search: Option<String>,
}

impl Default for GalleryQuery {
    fn default() -> Self {
        GalleryQuery {
            page: 1,
            model: None,
            status: None,
            search: None,
        }
    }
}

/// A query-string value the gallery cannot use; shown to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("page must be a whole number from 1 to {GALLERY_MAX_PAGE}, not {0:?}")]
    Page(String),
    #[error("unknown model {0:?}: pick one from the list")]
    Model(String),
    #[error("unknown status {0:?}: pick one from the list")]
    Status(String),
    #[error(
        "the search is too long: at most {GALLERY_SEARCH_MAX_BYTES} bytes of text (as many plain letters and digits; \
         accented and non-Latin letters take 2 to 4 bytes each, and % _ \\ take 2)"
    )]
    SearchTooLong,
}

/// Longest piece of a bad value quoted back in an error message.
const QUOTED_VALUE_MAX_CHARS: usize = 40;

fn quoted(value: &str) -> String {
    value.chars().take(QUOTED_VALUE_MAX_CHARS).collect()
}

impl GalleryQuery {
    /// Reads `page`, `model`, `status` and `q` (the search) from a query string (without the
    /// `?`). Empty values and `all` mean no filter (a search for "all" is a search); other
    /// parameters are ignored; the first of repeated ones counts.
    pub fn parse(query: &str) -> Result<GalleryQuery, QueryError> {
        let pairs = form::parse(query);
        let given = |name| {
            form::first(&pairs, name)
                .map(str::trim)
                .filter(|v| !v.is_empty() && *v != "all")
        };
        let page = match form::first(&pairs, "page").map(str::trim).filter(|v| !v.is_empty()) {
            None => 1,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=GALLERY_MAX_PAGE).contains(p))
                .ok_or_else(|| QueryError::Page(quoted(text)))?,
        };
        let model = given("model")
            .map(|name| ImageModel::from_name(name).ok_or_else(|| QueryError::Model(quoted(name))))
            .transpose()?;
        let status = given("status")
            .map(|name| JobStatus::from_name(name).ok_or_else(|| QueryError::Status(quoted(name))))
            .transpose()?;
        let search = match form::first(&pairs, "q").map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(text) if contains_pattern(text).len() > D1_LIKE_PATTERN_MAX_BYTES => {
                return Err(QueryError::SearchTooLong)
            }
            Some(text) => Some(text.to_string()),
        };
        Ok(GalleryQuery {
            page,
            model,
            status,
            search,
        })
    }

    pub fn with_page(&self, page: i64) -> GalleryQuery {
        GalleryQuery { page, ..self.clone() }
    }

    /// The grid URL showing this page: `/gallery`, or `/gallery?model=…&status=…&q=…&page=…`
    /// with only the values that differ from the defaults. Every value is one of our own names,
    /// a number, or the parsed search percent-encoded, so the URL is canonical.
    pub fn href(&self) -> String {
        let mut params = Vec::new();
        if let Some(model) = self.model {
            params.push(format!("model={}", form::encode(model.name())));
        }
        if let Some(status) = self.status {
            params.push(format!("status={}", form::encode(status.as_str())));
        }
        if let Some(search) = &self.search {
            params.push(format!("q={}", form::encode(search)));
        }
        if self.page != 1 {
            params.push(format!("page={}", self.page));
        }
        if params.is_empty() {
            routes::GALLERY.to_string()
        } else {
            format!("{}?{}", routes::GALLERY, params.join("&"))
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * GALLERY_PAGE_SIZE
    }

    /// Number of pages for `total` jobs (at least 1, so an empty gallery has a page 1).
    pub fn page_count(total: i64) -> i64 {
        ((total + GALLERY_PAGE_SIZE - 1) / GALLERY_PAGE_SIZE).max(1)
    }

    /// The store's filter for this page.
    pub fn filter(&self) -> JobFilter<'_> {
        JobFilter {
            model: self.model.map(ImageModel::name),
            status: self.status,
            search: self.search.as_deref(),
        }
    }

    /// The store's page: [`GALLERY_PAGE_SIZE`] jobs from this page's offset.
    pub fn db_page(&self) -> Page {
        Page {
            limit: GALLERY_PAGE_SIZE,
            offset: self.offset(),
        }
    }
}

/// Job ids are UUIDs; anything else cannot name a job, so it never reaches the database.
pub fn valid_job_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A gallery page to return to after signing in (the form's `next` field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Grid(GalleryQuery),
    Image(String),
}

impl Location {
    /// Only the grid (with valid filters) and image pages qualify; the result is rebuilt from
    /// parsed parts, so a redirect to it can neither leave the gallery nor carry other text.
    pub fn parse(path_and_query: &str) -> Option<Location> {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        if path == routes::GALLERY {
            return GalleryQuery::parse(query).ok().map(Location::Grid);
        }
        let id = path.strip_prefix(routes::IMAGE_PREFIX)?;
        (query.is_empty() && valid_job_id(id)).then(|| Location::Image(id.to_string()))
    }

    pub fn href(&self) -> String {
        match self {
            Location::Grid(query) => query.href(),
            Location::Image(id) => format!("{}{id}", routes::IMAGE_PREFIX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::MODELS;

    #[test]
    fn empty_query_is_page_one_without_filters() {
        assert_eq!(GalleryQuery::parse(""), Ok(GalleryQuery::default()));
        assert_eq!(
            GalleryQuery::parse("model=&status=all&page="),
            Ok(GalleryQuery::default())
        );
        assert_eq!(GalleryQuery::parse("utm_source=x"), Ok(GalleryQuery::default()));
        assert_eq!(GalleryQuery::default().filter(), JobFilter::default());
    }

    #[test]
    fn parses_every_model_and_status() {
        for spec in &MODELS {
            for status in JobStatus::ALL {
                let query = GalleryQuery::parse(&format!("model={}&status={}&page=3", spec.name, status.as_str()));
                let expected = GalleryQuery {
                    page: 3,
                    model: Some(spec.model()),
                    status: Some(status),
                    search: None,
                };
                assert_eq!(query, Ok(expected.clone()));
                assert_eq!(
                    expected.filter(),
                    JobFilter {
                        model: Some(spec.name),
                        status: Some(status),
                        search: None,
                    }
                );
            }
        }
    }

    #[test]
    fn bad_values_are_refused_with_the_value_quoted_and_bounded() {
        for page in ["0", "-1", "1.5", "x", "10001", "99999999999999999999"] {
            assert!(
                matches!(GalleryQuery::parse(&format!("page={page}")), Err(QueryError::Page(_))),
                "{page}"
            );
        }
        assert_eq!(GalleryQuery::parse("page=10000").map(|q| q.page), Ok(10_000));
        assert_eq!(
            GalleryQuery::parse("model=dall-e"),
            Err(QueryError::Model("dall-e".into()))
        );
        assert_eq!(
            GalleryQuery::parse("status=done"),
            Err(QueryError::Status("done".into()))
        );
        let long = "x".repeat(500);
        let Err(error) = GalleryQuery::parse(&format!("model={long}")) else {
            panic!("accepted a 500-character model");
        };
        assert!(error.to_string().len() < 150, "{error}");
    }

    #[test]
    fn href_is_canonical_and_round_trips() {
        assert_eq!(GalleryQuery::default().href(), "/gallery");
        let query = GalleryQuery {
            page: 2,
            model: ImageModel::from_name("sdxl-base"),
            status: Some(JobStatus::Failed),
            search: None,
        };
        assert_eq!(query.href(), "/gallery?model=sdxl-base&status=failed&page=2");
        let href = query.href();
        let (_, query_string) = href.split_once('?').unwrap();
        assert_eq!(GalleryQuery::parse(query_string), Ok(query.clone()));
        assert_eq!(query.with_page(1).href(), "/gallery?model=sdxl-base&status=failed");
    }

    #[test]
    fn the_search_is_trimmed_bounded_and_kept_in_the_url() {
        let query = GalleryQuery::parse("q=++a+%22fox%22+%26+50%25+off%3F++&page=2").unwrap();
        assert_eq!(query.search.as_deref(), Some("a \"fox\" & 50% off?"));
        let href = query.href();
        assert_eq!(href, "/gallery?q=a%20%22fox%22%20%26%2050%25%20off%3F&page=2");
        let (_, query_string) = href.split_once('?').unwrap();
        assert_eq!(GalleryQuery::parse(query_string), Ok(query.clone()));
        assert_eq!(query.filter().search, Some("a \"fox\" & 50% off?"));
        assert_eq!(GalleryQuery::parse("q=+++").map(|q| q.search), Ok(None));
        assert_eq!(GalleryQuery::parse("q=all").map(|q| q.search), Ok(Some("all".into())));
        // Bounded by D1's LIKE pattern limit, counted on the escaped pattern.
        let longest = "x".repeat(GALLERY_SEARCH_MAX_BYTES);
        assert_eq!(contains_pattern(&longest).len(), D1_LIKE_PATTERN_MAX_BYTES);
        assert!(GalleryQuery::parse(&format!("q={longest}")).is_ok());
        assert_eq!(
            GalleryQuery::parse(&format!("q={longest}x")),
            Err(QueryError::SearchTooLong)
        );
        let accented = "é".repeat(GALLERY_SEARCH_MAX_BYTES / 2);
        assert!(GalleryQuery::parse(&format!("q={}", form::encode(&accented))).is_ok());
        assert_eq!(
            GalleryQuery::parse(&format!("q={}", form::encode(&format!("{accented}é")))),
            Err(QueryError::SearchTooLong)
        );
        let percents = "%".repeat(GALLERY_SEARCH_MAX_BYTES / 2 + 1);
        assert_eq!(
            GalleryQuery::parse(&format!("q={}", form::encode(&percents))),
            Err(QueryError::SearchTooLong),
            "escapes count"
        );
        assert_eq!(
            Location::parse("/gallery?q=red%20fox&junk=1").map(|l| l.href()),
            Some("/gallery?q=red%20fox".into())
        );
    }

    #[test]
    fn pages_become_store_offsets() {
        assert_eq!(
            GalleryQuery::default().db_page(),
            Page {
                limit: GALLERY_PAGE_SIZE,
                offset: 0
            }
        );
        assert_eq!(
            GalleryQuery::default().with_page(3).db_page().offset,
            2 * GALLERY_PAGE_SIZE
        );
        assert_eq!(GalleryQuery::page_count(0), 1);
        assert_eq!(GalleryQuery::page_count(GALLERY_PAGE_SIZE), 1);
        assert_eq!(GalleryQuery::page_count(GALLERY_PAGE_SIZE + 1), 2);
        // The largest page's offset stays far inside the exact integer range D1 binds.
        assert!(GalleryQuery::default().with_page(GALLERY_MAX_PAGE).offset() < 1 << 53);
    }

    #[test]
    fn job_ids_are_checked_before_any_query() {
        assert!(valid_job_id("3f0c9a52-1b7e-4c1d-9a0e-2f1b3c4d5e6f"));
        for bad in ["", "a/b", "a b", "../x", "x'; DROP TABLE", &"a".repeat(65)] {
            assert!(!valid_job_id(bad), "{bad}");
        }
    }

    #[test]
    fn return_locations_are_rebuilt_from_parsed_parts() {
        assert_eq!(Location::parse("/gallery").map(|l| l.href()), Some("/gallery".into()));
        assert_eq!(
            Location::parse("/gallery?page=2&status=failed&junk=%3Cx%3E").map(|l| l.href()),
            Some("/gallery?status=failed&page=2".into())
        );
        assert_eq!(
            Location::parse("/gallery/image/abc-123").map(|l| l.href()),
            Some("/gallery/image/abc-123".into())
        );
        for bad in [
            "",
            "/",
            "https://evil.example/gallery",
            "//evil.example/gallery",
            "/gallery/",
            "/galleryx",
            "/gallery?page=0",
            "/gallery/login",
            "/gallery/logout",
            "/gallery/image/",
            "/gallery/image/a/b",
            "/gallery/image/abc?x=1",
            "/gallery/image/..%2f..%2fimages",
            "/\\evil.example",
        ] {
            assert_eq!(Location::parse(bad), None, "{bad}");
        }
    }
}
