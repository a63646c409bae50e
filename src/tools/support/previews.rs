//! What results add after `content[0]` for each finished image: a `resource_link` to the image
//! (revisions from 2025-06-18, which have that block) and, unless the call passes
//! `preview: false`, the thumbnail inline as an `image` block, within the per-result limits.
//!
//! The thumbnail's base64 comes from the job row (`thumbnail_base64`, written by the consumer), so
//! a preview costs no R2 read; rows without it (completed before migration 0013) are read from R2.

use super::args::{arg, Arg, FieldKind};
use crate::catalog::{INLINE_PREVIEW_MAX_BASE64_BYTES, INLINE_PREVIEW_MAX_IMAGES};
use crate::jobs::{JobRow, JobStatus};
pub use crate::media::base64_len;
use crate::media::{base64_encode, ImageFormat};
use crate::protocol::mcp::ContentBlock;
use crate::tools::ToolContext;
use crate::urls::{image_resource_uri, key_in_stored_url};

/// The first revision with the `resource_link` content block.
const RESOURCE_LINK_SINCE: &str = "2025-06-18";

/// A finished image a result describes, as its job row records it.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedImage {
    pub job_id: String,
    /// Stored form of the image URL.
    pub image_url: String,
    /// Stored form of the thumbnail URL, when one was made.
    pub thumbnail_url: Option<String>,
    /// Bytes of the full image.
    pub image_size: Option<i64>,
    /// The thumbnail as base64, when the job row keeps it (then no R2 read is needed).
    pub thumbnail_base64: Option<String>,
}

impl FinishedImage {
    /// The image of a completed job that has one.
    pub fn of_job(row: &JobRow) -> Option<Self> {
        let image_url = row.image_url.clone().filter(|_| row.status == JobStatus::Completed)?;
        Some(FinishedImage {
            job_id: row.id.clone(),
            image_url,
            thumbnail_url: row.thumbnail_url.clone(),
            image_size: row.image_size,
            thumbnail_base64: row.thumbnail_base64.clone(),
        })
    }

    /// The object key the image's URL ends in (keys never contain '/').
    fn file_name(&self) -> &str {
        last_segment(&self.image_url)
    }

    fn mime_type(&self) -> &'static str {
        self.file_name()
            .rsplit_once('.')
            .and_then(|(_, extension)| ImageFormat::from_extension(extension))
            .map_or("application/octet-stream", ImageFormat::content_type)
    }

    /// The R2 key of the thumbnail, if its URL names one this server could have written.
    pub fn thumbnail_key(&self) -> Option<String> {
        match key_in_stored_url(self.thumbnail_url.as_deref()?) {
            Some((key, ImageFormat::Webp)) => Some(key.to_string()),
            _ => None,
        }
    }
}

fn last_segment(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// The `preview` argument of the tools that report finished images.
pub fn preview_arg() -> Arg {
    arg(
        format!(
            "Show each finished image's thumbnail inline (up to {INLINE_PREVIEW_MAX_IMAGES} per result). \
             Default true; false leaves them out (links and URLs are still returned)."
        ),
        FieldKind::Flag { default: true },
    )
}

/// Whether the request's revision has `resource_link` blocks. Without a version header a request
/// is taken to use 2025-03-26, which has not.
pub fn has_resource_links(protocol_version: Option<&str>) -> bool {
    protocol_version.is_some_and(|version| version >= RESOURCE_LINK_SINCE)
}

/// What one result may still inline: images and base64 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewBudget {
    images_left: usize,
    base64_left: usize,
}

impl Default for PreviewBudget {
    fn default() -> Self {
        PreviewBudget {
            images_left: INLINE_PREVIEW_MAX_IMAGES,
            base64_left: INLINE_PREVIEW_MAX_BASE64_BYTES,
        }
    }
}

impl PreviewBudget {
    pub fn exhausted(&self) -> bool {
        self.images_left == 0
    }

    /// Takes a thumbnail of `bytes` bytes if it fits; one that does not is skipped, and a
    /// smaller later one may still fit.
    pub fn admit(&mut self, bytes: usize) -> bool {
        self.admit_base64(base64_len(bytes))
    }

    /// [`Self::admit`] for a thumbnail already encoded: `cost` base64 bytes.
    pub fn admit_base64(&mut self, cost: usize) -> bool {
        if self.images_left == 0 || cost > self.base64_left {
            return false;
        }
        self.images_left -= 1;
        self.base64_left -= cost;
        true
    }
}

/// The blocks after `content[0]`, in the images' order: each image's link (when the revision has
/// them), then its inline thumbnail when one was read (`previews` holds job id and base64).
pub fn blocks(images: &[FinishedImage], links: bool, previews: &[(String, String)]) -> Vec<ContentBlock> {
    let mut blocks = Vec::new();
    for image in images {
        if links {
            blocks.push(ContentBlock::ResourceLink {
                uri: image_resource_uri(&image.job_id),
                name: image.file_name().to_string(),
                mime_type: image.mime_type().to_string(),
                size: image.image_size,
            });
        }
        if let Some((_, data)) = previews.iter().find(|(job_id, _)| *job_id == image.job_id) {
            blocks.push(ContentBlock::Image {
                data: data.clone(),
                mime_type: ImageFormat::Webp.content_type().to_string(),
            });
        }
    }
    blocks
}

/// Each image's thumbnail as base64, in the images' order until the budget is used: the row's
/// copy when it has one, else read from R2. An image without a thumbnail, or one that cannot be
/// read, is shown by its link alone.
async fn read_previews(ctx: &ToolContext, images: &[FinishedImage]) -> Vec<(String, String)> {
    let mut previews: Vec<(String, String)> = Vec::new();
    let mut budget = PreviewBudget::default();
    // Opened on the first thumbnail the rows do not carry; `Some(None)`: the binding is missing.
    let mut bucket: Option<Option<worker::Bucket>> = None;
    for image in images {
        let job_id = image.job_id.as_str();
        // A thumbnail URL this server wrote is what says a thumbnail exists, for either source.
        let Some(key) = image.thumbnail_key() else {
            continue;
        };
        if budget.exhausted() || previews.iter().any(|(seen, _)| seen == job_id) {
            continue;
        }
        if let Some(text) = &image.thumbnail_base64 {
            if budget.admit_base64(text.len()) {
                previews.push((job_id.to_string(), text.clone()));
            }
            continue;
        }
        let bucket = bucket.get_or_insert_with(|| match crate::bindings::bucket(&ctx.env) {
            Ok(bucket) => Some(bucket),
            Err(error) => {
                worker::console_error!("inline previews skipped: R2 binding unavailable: {error}");
                None
            }
        });
        let Some(bucket) = bucket.as_ref() else {
            continue;
        };
        let bytes = match bucket.get(&key).execute().await {
            Ok(Some(object)) => match object.body() {
                Some(body) => body.bytes().await,
                None => continue,
            },
            Ok(None) => continue,
            Err(error) => Err(error),
        };
        match bytes {
            Ok(bytes) if budget.admit(bytes.len()) => previews.push((job_id.to_string(), base64_encode(&bytes))),
            Ok(_) => {}
            Err(error) => worker::console_error!("job {job_id}: could not read its thumbnail: {error}"),
        }
    }
    previews
}

/// The blocks after `content[0]` for a call's finished images.
pub async fn content_blocks(ctx: &ToolContext, images: &[FinishedImage], inline: bool) -> Vec<ContentBlock> {
    let previews = if inline {
        read_previews(ctx, images).await
    } else {
        Vec::new()
    };
    blocks(images, has_resource_links(ctx.protocol_version.as_deref()), &previews)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(job_id: &str, thumbnail: bool) -> FinishedImage {
        FinishedImage {
            job_id: job_id.to_string(),
            image_url: format!("/images/1-a-fox-{job_id}.png"),
            thumbnail_url: thumbnail.then(|| format!("https://img.example.com/1-a-fox-{job_id}-thumb.webp")),
            image_size: Some(1234),
            thumbnail_base64: None,
        }
    }

    #[test]
    fn only_completed_jobs_with_an_image_are_finished_images() {
        let mut row = crate::jobs::JobRow {
            id: "j".into(),
            status: JobStatus::Completed,
            prompt: "p".into(),
            model: "flux-schnell".into(),
            image_url: Some("/images/k.jpg".into()),
            error: None,
            created_at: 1,
            updated_at: 1,
            seed: None,
            width: None,
            height: None,
            parameters: None,
            thumbnail_url: None,
            image_size: Some(9),
            inputs: None,
            estimated_neurons: None,
            estimated_usd: None,
            thumbnail_base64: None,
        };
        let finished = FinishedImage::of_job(&row).unwrap();
        assert_eq!((finished.mime_type(), finished.file_name()), ("image/jpeg", "k.jpg"));
        assert_eq!(finished.thumbnail_key(), None);
        row.status = JobStatus::Processing;
        assert_eq!(FinishedImage::of_job(&row), None);
        row.status = JobStatus::Completed;
        row.image_url = None;
        assert_eq!(FinishedImage::of_job(&row), None);
    }

    #[test]
    fn thumbnail_keys_come_from_either_url_form_and_only_name_webp_keys_we_write() {
        assert_eq!(
            image("j1", true).thumbnail_key().as_deref(),
            Some("1-a-fox-j1-thumb.webp")
        );
        let mut local = image("j2", false);
        local.thumbnail_url = Some("/images/1-j2-thumb.webp".into());
        assert_eq!(local.thumbnail_key().as_deref(), Some("1-j2-thumb.webp"));
        // Only the last path segment is used, and it must be a key this server writes.
        for bad in [
            "/images/1-j2.png",
            "/images/a.b-thumb.webp",
            "https://x/UPPER-thumb.webp",
            "",
        ] {
            local.thumbnail_url = Some(bad.into());
            assert_eq!(local.thumbnail_key(), None, "{bad}");
        }
    }

    #[test]
    fn resource_links_start_with_2025_06_18() {
        assert!(!has_resource_links(None));
        assert!(!has_resource_links(Some("2024-11-05")));
        assert!(!has_resource_links(Some("2025-03-26")));
        for version in ["2025-06-18", "2025-11-25", "2026-07-28"] {
            assert!(has_resource_links(Some(version)), "{version}");
        }
    }

    #[test]
    fn the_budget_caps_images_and_base64_bytes() {
        assert_eq!(
            (base64_len(0), base64_len(1), base64_len(3), base64_len(4)),
            (0, 4, 4, 8)
        );
        let mut budget = PreviewBudget::default();
        // 20,000 bytes → 26,668 base64 bytes: three fit in 100,000, a fourth does not.
        assert!(budget.admit(20_000) && budget.admit(20_000) && budget.admit(20_000));
        assert!(!budget.admit(20_000));
        // A smaller one still fits, and then the image count is used up.
        assert!(budget.admit(1_000));
        assert!(budget.exhausted());
        assert!(!budget.admit(1));
        // A thumbnail the row keeps as base64 costs its text's length, as the bytes would.
        let (mut bytes, mut text) = (PreviewBudget::default(), PreviewBudget::default());
        for size in [20_000, 30_000, 40_000, 5] {
            assert_eq!(bytes.admit(size), text.admit_base64(base64_len(size)), "{size}");
            assert_eq!(bytes, text);
        }
        let mut one_huge = PreviewBudget::default();
        assert!(!one_huge.admit(75_001), "over 100,000 bytes of base64 alone");
        assert!(one_huge.admit(75_000));
    }

    #[test]
    fn blocks_interleave_links_and_previews_in_image_order() {
        let images = [image("a", true), image("b", false), image("c", true)];
        let previews = vec![
            ("c".to_string(), "Q0M=".to_string()),
            ("a".to_string(), "QUE=".to_string()),
        ];
        let all = blocks(&images, true, &previews);
        let kinds: Vec<String> = all
            .iter()
            .map(|b| match b {
                ContentBlock::ResourceLink { uri, .. } => format!("link {uri}"),
                ContentBlock::Image { data, mime_type } => format!("image {data} {mime_type}"),
                ContentBlock::Text { .. } => "text".into(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "link images://jobs/a",
                "image QUE= image/webp",
                "link images://jobs/b",
                "link images://jobs/c",
                "image Q0M= image/webp"
            ]
        );
        assert_eq!(
            all[0],
            ContentBlock::ResourceLink {
                uri: "images://jobs/a".into(),
                name: "1-a-fox-a.png".into(),
                mime_type: "image/png".into(),
                size: Some(1234),
            }
        );
        // Older revisions: the previews alone.
        let old = blocks(&images, false, &previews);
        assert_eq!(old.len(), 2);
        assert!(old.iter().all(|b| matches!(b, ContentBlock::Image { .. })));
        assert!(blocks(&images, false, &[]).is_empty());
    }
}
