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
    let (stem, extension) = key.rsplit_once('.')?;
    let format = ImageFormat::from_extension(extension)?;
    let valid_stem = !stem.is_empty()
        && stem.len() <= 200
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !stem.starts_with('-');
    valid_stem.then_some((key, format))
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
}
