//! Where images live and how they are addressed: stored URLs, absolute URLs for clients, and
//! the `/images/<key>` route this worker serves them from.

use crate::media::ImageFormat;

/// Where this worker serves images when no public bucket URL is configured.
pub const IMAGE_ROUTE_PREFIX: &str = "/images/";

/// Objects never change once written (the key is per job), so caches may keep them for a year.
pub const IMMUTABLE_CACHE: &str = "public, max-age=31536000, immutable";

/// What the job row records: the public URL when a bucket base is configured, else this worker's path.
pub fn stored_image_url(key: &str, public_base: Option<&str>) -> String {
    match public_base {
        Some(base) => format!("{base}/{key}"),
        None => format!("{IMAGE_ROUTE_PREFIX}{key}"),
    }
}

/// Makes a stored URL absolute for clients, using the origin the request came to.
pub fn absolute_image_url(stored: &str, origin: &str) -> String {
    if stored.starts_with("https://") || stored.starts_with("http://") {
        stored.to_string()
    } else {
        format!("{}{stored}", origin.trim_end_matches('/'))
    }
}

/// The object key named by a `/images/<key>` path, if it is one this server could have written.
/// Only our own key alphabet passes, so encoded dots, slashes and other path tricks never reach R2.
pub fn key_from_image_path(path: &str) -> Option<(&str, ImageFormat)> {
    let key = path.strip_prefix(IMAGE_ROUTE_PREFIX)?;
    Some((key, image_key_format(key)?))
}

/// The format of `key` if it is an image key this server could have written.
fn image_key_format(key: &str) -> Option<ImageFormat> {
    let (stem, extension) = key.rsplit_once('.')?;
    let format = ImageFormat::from_extension(extension)?;
    let valid_stem = !stem.is_empty()
        && stem.len() <= 200
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !stem.starts_with('-');
    valid_stem.then_some(format)
}

/// The object key an image URL a caller GAVE names: `/images/<key>` (served by this worker) or
/// `<PUBLIC_IMAGE_BASE_URL>/<key>` under the base configured now. Only keys this server could have
/// written pass, as for [`key_from_image_path`]; a URL under any other base is None, so a caller
/// cannot pass off a foreign host's URL as ours. A URL read from a job row goes through
/// [`key_in_stored_url`] instead, which accepts the bases of the past too.
pub fn key_from_image_url<'a>(stored: &'a str, public_base: Option<&str>) -> Option<(&'a str, ImageFormat)> {
    if stored.starts_with(IMAGE_ROUTE_PREFIX) {
        return key_from_image_path(stored);
    }
    let key = stored
        .strip_prefix(public_base?.trim_end_matches('/'))?
        .strip_prefix('/')?;
    Some((key, image_key_format(key)?))
}

/// The object key a STORED URL (one this server wrote into a row: `/images/<key>` or
/// `<any base>/<key>`) ends in, if it is one this server could have written. Unlike
/// [`key_from_image_url`] it ignores the base, so every lookup that starts from a row (resources,
/// inputs by job id, previews, the sweeper) finds the object whatever `PUBLIC_IMAGE_BASE_URL` was
/// when its URL was recorded (keys never contain '/'). Never for URLs a caller gives.
pub fn key_in_stored_url(stored: &str) -> Option<(&str, ImageFormat)> {
    let key = stored.rsplit('/').next()?;
    Some((key, image_key_format(key)?))
}

/// The URL a page shows for a stored URL: as recorded when it is this worker's `/images/` path
/// or under the base configured now; one recorded under an earlier base becomes its key's URL
/// under today's configuration (the object is in the same bucket, and the old host may be gone
/// or outside a page's Content-Security-Policy). Anything else stays as recorded.
pub fn current_image_url<'a>(stored: &'a str, public_base: Option<&str>) -> std::borrow::Cow<'a, str> {
    if key_from_image_url(stored, public_base).is_some() {
        return stored.into();
    }
    match key_in_stored_url(stored) {
        Some((key, _)) => stored_image_url(key, public_base).into(),
        None => stored.into(),
    }
}

/// The thumbnail of an image sits beside it: `<image stem>-thumb.webp`. Image keys end in the job's
/// UUID, so no image key can look like a thumbnail key, and the `/images/` route serves both.
pub fn thumbnail_key(image_key: &str) -> String {
    let stem = image_key.rsplit_once('.').map_or(image_key, |(stem, _)| stem);
    format!("{stem}-thumb.webp")
}

/// The image viewer, an MCP App (`ui://` resource, `text/html;profile=mcp-app`): tools whose
/// results show images name it in `_meta.ui.resourceUri`, and `resources/read` serves it.
pub const VIEWER_RESOURCE_URI: &str = "ui://mcp-image-generator/viewer.html";

/// MCP resource URIs name an image by its job: `images://jobs/<job id>` (full size) and
/// `images://jobs/<job id>/thumbnail`. Job ids, not object keys, so a URI stays valid whatever
/// the bucket layout and carries the same visibility rules as the job tools.
pub const RESOURCE_URI_PREFIX: &str = "images://jobs/";
const THUMBNAIL_URI_SUFFIX: &str = "/thumbnail";

/// Which object of a job a resource URI names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceTarget {
    Image,
    Thumbnail,
}

pub fn image_resource_uri(job_id: &str) -> String {
    format!("{RESOURCE_URI_PREFIX}{job_id}")
}

pub fn thumbnail_resource_uri(job_id: &str) -> String {
    format!("{RESOURCE_URI_PREFIX}{job_id}{THUMBNAIL_URI_SUFFIX}")
}

/// The job id and target a resource URI names, if it is one of ours. Job ids are checked against
/// the alphabet and length jobs can have, so anything else is "not found" without a lookup.
pub fn parse_resource_uri(uri: &str) -> Option<(&str, ResourceTarget)> {
    let rest = uri.strip_prefix(RESOURCE_URI_PREFIX)?;
    let (job_id, target) = match rest.strip_suffix(THUMBNAIL_URI_SUFFIX) {
        Some(job_id) => (job_id, ResourceTarget::Thumbnail),
        None => (rest, ResourceTarget::Image),
    };
    let valid = !job_id.is_empty()
        && job_id.len() <= crate::catalog::JOB_ID_MAX_CHARS
        && job_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then_some((job_id, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_use_the_public_base_or_the_worker_route() {
        assert_eq!(
            stored_image_url("k.png", Some("https://img.example.com")),
            "https://img.example.com/k.png"
        );
        assert_eq!(stored_image_url("k.png", None), "/images/k.png");
        assert_eq!(
            absolute_image_url("/images/k.png", "http://localhost:8787"),
            "http://localhost:8787/images/k.png"
        );
        assert_eq!(
            absolute_image_url("https://img.example.com/k.png", "http://x"),
            "https://img.example.com/k.png"
        );
    }

    #[test]
    fn image_paths_accept_only_keys_we_write() {
        let key = "1-a-fox-123e4567-e89b-12d3-a456-426614174000.png".to_string();
        assert_eq!(
            key_from_image_path(&format!("/images/{key}")),
            Some((key.as_str(), ImageFormat::Png))
        );
        for bad in [
            "/images/",
            "/images/.png",
            "/images/../secret.png",
            "/images/%2e%2e/x.png",
            "/images/a/b.png",
            "/images/abc.gif",
            "/images/ABC.png",
            "/images/abc",
            "/other/abc.png",
        ] {
            assert_eq!(key_from_image_path(bad), None, "{bad} must be refused");
        }
    }

    #[test]
    fn stored_urls_map_back_to_their_key_under_either_base() {
        let key = "1-a-fox-123e4567-e89b-12d3-a456-426614174000.jpg";
        let base = Some("https://img.example.com");
        for public_base in [None, base] {
            let stored = stored_image_url(key, public_base);
            assert_eq!(
                key_from_image_url(&stored, public_base),
                Some((key, ImageFormat::Jpeg)),
                "{stored}"
            );
        }
        // Worker-served URLs stay readable after a public base is configured.
        assert_eq!(
            key_from_image_url(&format!("/images/{key}"), base),
            Some((key, ImageFormat::Jpeg))
        );
        assert_eq!(
            key_from_image_url(
                &format!("https://img.example.com/{key}"),
                Some("https://img.example.com/")
            ),
            Some((key, ImageFormat::Jpeg)),
            "a trailing slash on the base does not matter"
        );
        for (stored, public_base) in [
            (format!("https://img.example.com/{key}"), None),
            (format!("https://other.example.com/{key}"), base),
            (format!("https://img.example.com.evil.test/{key}"), base),
            (format!("https://img.example.com/a/{key}"), base),
            ("https://img.example.com/../x.png".to_string(), base),
            ("https://img.example.com/".to_string(), base),
            ("/images/../x.png".to_string(), None),
            (format!("/other/{key}"), None),
            (String::new(), base),
        ] {
            assert_eq!(
                key_from_image_url(&stored, public_base),
                None,
                "{stored} must be refused"
            );
        }
    }

    /// Rows keep the URL of the base they were written under; lookups from a row find the key
    /// whatever the base is now (or none), while a caller's URL must be under today's base.
    #[test]
    fn stored_urls_under_an_earlier_base_still_name_their_key() {
        let key = "1-a-fox-123e4567-e89b-12d3-a456-426614174000.png";
        let old = format!("https://old-cdn.example/images-a/{key}");
        assert_eq!(key_in_stored_url(&old), Some((key, ImageFormat::Png)));
        for public_base in [Some("https://new.example/b"), None] {
            let now = stored_image_url(key, public_base);
            assert_eq!(key_in_stored_url(&now), Some((key, ImageFormat::Png)), "{now}");
            assert_eq!(
                key_from_image_url(&old, public_base),
                None,
                "a caller's {old} is foreign"
            );
        }
        let thumb = format!("https://old-cdn.example/images-a/{}", thumbnail_key(key));
        assert_eq!(
            key_in_stored_url(&thumb),
            Some((
                "1-a-fox-123e4567-e89b-12d3-a456-426614174000-thumb.webp",
                ImageFormat::Webp
            ))
        );
        for bad in [
            "https://old-cdn.example/images-a/",
            "https://old-cdn.example/A.png",
            "",
            "/images/a.gif",
        ] {
            assert_eq!(key_in_stored_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn pages_show_urls_of_an_earlier_base_under_todays_configuration() {
        let key = "1-a-fox-123e4567-e89b-12d3-a456-426614174000.png";
        let old = format!("https://old-cdn.example/images-a/{key}");
        let now = Some("https://new.example/b");
        assert_eq!(current_image_url(&old, now), format!("https://new.example/b/{key}"));
        assert_eq!(current_image_url(&old, None), format!("/images/{key}"));
        for (stored, base) in [
            (format!("https://new.example/b/{key}"), now),
            (format!("/images/{key}"), now),
            (format!("/images/{key}"), None),
            ("https://old-cdn.example/not-a-key".to_string(), now),
            ("javascript:alert(1)".to_string(), None),
        ] {
            assert_eq!(current_image_url(&stored, base), stored, "{stored} stays as recorded");
        }
    }

    #[test]
    fn thumbnails_sit_beside_their_image() {
        let key = "1-a-fox-123e4567-e89b-12d3-a456-426614174000.png";
        let thumb = thumbnail_key(key);
        assert_eq!(thumb, "1-a-fox-123e4567-e89b-12d3-a456-426614174000-thumb.webp");
        assert!(
            !key.ends_with("-thumb.png"),
            "an image key never looks like a thumbnail key"
        );
    }

    #[test]
    fn resource_uris_round_trip_and_refuse_anything_else() {
        let id = "123e4567-e89b-12d3-a456-426614174000";
        assert_eq!(
            parse_resource_uri(&image_resource_uri(id)),
            Some((id, ResourceTarget::Image))
        );
        assert_eq!(
            parse_resource_uri(&thumbnail_resource_uri(id)),
            Some((id, ResourceTarget::Thumbnail))
        );
        let long = "a".repeat(65);
        for bad in [
            "images://jobs/",
            "images://jobs//thumbnail",
            "images://jobs/a/b",
            "images://jobs/a%2Fb",
            "images://jobs/a/thumbnail/x",
            "https://example.com/images/a.png",
            "images://job/a",
            long.as_str(),
        ] {
            let uri = if bad == long {
                format!("images://jobs/{long}")
            } else {
                bad.to_string()
            };
            assert_eq!(parse_resource_uri(&uri), None, "{uri} must be refused");
        }
    }
}
