//! Job tracking in D1: row types, SQL building (pure) and the store that runs it against the binding.

pub mod cancel_sql;
pub mod delete_sql;
pub mod queue;
pub mod sql;
pub mod store;
pub mod sweep_sql;
pub mod tasks;

use serde::{Deserialize, Serialize};

pub use store::{JobStore, Usage};

/// What a call adds to its key's day: images, and the estimated neurons and USD.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Spend {
    pub images: i64,
    pub neurons: f64,
    pub usd: f64,
}

/// The limits a reservation must stay within (None: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Limits {
    pub images: Option<u32>,
    pub neurons: Option<f64>,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Pending,
    Processing,
    Completed,
    Failed,
    /// Stopped by its owner (cancel_job, tasks/cancel, the gallery): never sent to the model if
    /// it was pending, its late result discarded if it was processing. Final.
    Cancelled,
    /// Deleted by its owner or the administrator (delete_image, the gallery's Delete): a
    /// tombstone whose image, thumbnail and unshared inputs are gone and whose prompt and
    /// parameters are cleared, kept so that every lookup answers "deleted" instead of
    /// "not found".
    Deleted,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Pending,
        JobStatus::Processing,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
        JobStatus::Deleted,
    ];

    /// Whether the job can still change (a finished job never does).
    pub fn is_unfinished(self) -> bool {
        matches!(self, JobStatus::Pending | JobStatus::Processing)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Processing => "processing",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Deleted => "deleted",
        }
    }

    pub fn from_name(name: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A `generation_jobs` row. Its fields are in the order of `sql::JOB_COLUMNS_WITH_PREVIEW`: the
/// read paths hand it over as a JSON array, which serde reads by position.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JobRow {
    pub id: String,
    pub status: JobStatus,
    pub prompt: String,
    pub model: String,
    pub image_url: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// How the image was made (all absent for jobs written before parameters were recorded).
    #[serde(default)]
    pub seed: Option<i64>,
    #[serde(default)]
    pub width: Option<i64>,
    #[serde(default)]
    pub height: Option<i64>,
    /// JSON object text: every parameter sent to the model besides the prompt.
    #[serde(default)]
    pub parameters: Option<String>,
    /// Stored URL of the thumbnail (absent when none was made, or for older rows).
    #[serde(default)]
    pub thumbnail_url: Option<String>,
    /// Bytes of the full image as stored.
    #[serde(default)]
    pub image_size: Option<i64>,
    /// JSON array text: the images the model received (edits and variations; absent otherwise).
    #[serde(default)]
    pub inputs: Option<String>,
    /// Estimated neurons when the job was created (None: the model's price is not listed, or
    /// the row predates costs).
    #[serde(default)]
    pub estimated_neurons: Option<f64>,
    #[serde(default)]
    pub estimated_usd: Option<f64>,
    /// The thumbnail's bytes as base64, kept beside `thumbnail_url` when they fit an inline
    /// preview (migration 0013); read only by the single-job queries that show previews.
    #[serde(default)]
    pub thumbnail_base64: Option<String>,
}

#[cfg(test)]
impl JobRow {
    /// A row of `status` with only the required fields set, for tests to adjust with `..`.
    pub fn fixture(id: &str, status: JobStatus) -> JobRow {
        JobRow {
            id: id.into(),
            status,
            prompt: "p".into(),
            model: crate::models::ImageModel::DEFAULT.name().into(),
            image_url: None,
            error: None,
            created_at: 1,
            updated_at: 2,
            seed: None,
            width: None,
            height: None,
            parameters: None,
            thumbnail_url: None,
            thumbnail_base64: None,
            image_size: None,
            inputs: None,
            estimated_neurons: None,
            estimated_usd: None,
        }
    }
}

/// What an input image is to its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputRole {
    /// A picture to start from (img2img, inpainting) or to refer to (FLUX.2 references).
    Image,
    /// Where to repaint: white is repainted, black kept.
    Mask,
}

/// One image a job's model receives, as `generation_jobs.inputs` lists it (a JSON array) and
/// results show it: never the bytes, only where they are stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobInput {
    pub role: InputRole,
    /// The reference as the call gave it: a job id, an image URL, or "data URL (<n> bytes)".
    pub source: String,
    /// Stored URL (see `urls::stored_image_url`) of the exact bytes the model receives.
    pub url: String,
    pub format: String,
    pub width: u32,
    pub height: u32,
    /// How the input was converted to suit the model, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Stored parameters text as an object (`{}` when none were recorded or the text is unreadable).
pub fn parameters_object(text: Option<&str>) -> serde_json::Map<String, serde_json::Value> {
    text.and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// A `generations` row (the gallery), with its job's generation parameters. Its fields are in
/// the order of `sql::GENERATION_COLUMNS` (read by position, as [`JobRow`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GenerationRow {
    pub id: String,
    pub job_id: String,
    pub image_url: String,
    pub prompt: String,
    pub model: String,
    pub created_at: i64,
    #[serde(default)]
    pub seed: Option<i64>,
    #[serde(default)]
    pub width: Option<i64>,
    #[serde(default)]
    pub height: Option<i64>,
    #[serde(default)]
    pub parameters: Option<String>,
    #[serde(default)]
    pub thumbnail_url: Option<String>,
    #[serde(default)]
    pub image_size: Option<i64>,
    #[serde(default)]
    pub inputs: Option<String>,
    #[serde(default)]
    pub estimated_neurons: Option<f64>,
    #[serde(default)]
    pub estimated_usd: Option<f64>,
}

/// What the consumer stored for a finished job, as the job row and gallery row record it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredImage {
    /// Stored form of the image URL (see `urls::stored_image_url`).
    pub url: String,
    /// Pixel size read from the stored bytes.
    pub size: Option<(u32, u32)>,
    /// Bytes of the full image.
    pub bytes: i64,
    /// Stored form of the thumbnail URL, when one was made.
    pub thumbnail_url: Option<String>,
    /// That thumbnail as base64 for inline previews ([`inline_preview_text`]); None without a
    /// thumbnail or when it is too big to inline.
    pub thumbnail_base64: Option<String>,
}

/// The base64 text a job row keeps of its thumbnail, so previews need no R2 read: None when the
/// thumbnail alone is over a result's inline budget (it could never be shown inline).
pub fn inline_preview_text(thumbnail: &[u8]) -> Option<String> {
    (crate::media::base64_len(thumbnail.len()) <= crate::catalog::INLINE_PREVIEW_MAX_BASE64_BYTES)
        .then(|| crate::media::base64_encode(thumbnail))
}

/// A job about to be created: its id and what its model will receive.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub id: String,
    pub seed: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// JSON object text of the parameters sent besides the prompt.
    pub parameters: String,
    /// JSON array text of the job's image inputs (see `JobRow::inputs`), if any.
    pub inputs: Option<String>,
    /// Estimated neurons (None: no price listed) and USD of the job.
    pub estimated_neurons: Option<f64>,
    pub estimated_usd: Option<f64>,
}

/// Which jobs `list_jobs` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Only(JobStatus),
}

impl StatusFilter {
    pub const NAMES: [&'static str; 7] = [
        "all",
        "pending",
        "processing",
        "completed",
        "failed",
        "cancelled",
        "deleted",
    ];

    pub fn name(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Only(status) => status.as_str(),
        }
    }

    pub fn from_name(name: &str) -> Option<StatusFilter> {
        if name == "all" {
            Some(StatusFilter::All)
        } else {
            JobStatus::from_name(name).map(StatusFilter::Only)
        }
    }
}

impl<'de> Deserialize<'de> for StatusFilter {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        StatusFilter::from_name(&name).ok_or_else(|| serde::de::Error::unknown_variant(&name, &StatusFilter::NAMES))
    }
}

impl Serialize for StatusFilter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Which jobs the gallery shows: one model or all of them, one status or all of them but the
/// tombstones (a deleted job shows only when `deleted` is asked for), and optionally only those
/// whose prompt contains a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobFilter<'a> {
    /// A model name as stored in D1.
    pub model: Option<&'static str>,
    pub status: Option<JobStatus>,
    /// Text the prompt must contain (case-insensitive for ASCII letters, as SQLite's LIKE is);
    /// taken literally, `%`, `_` and `\` included.
    pub search: Option<&'a str>,
}

/// Which stored images a resource listing covers: every finished image `owner` may see (`None`:
/// the administrator, every owner's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImageFilter<'a> {
    pub owner: Option<&'a str>,
}

/// Where a newest-first listing of stored images continues: strictly after this image
/// (`created_at` descending, then `id` descending, the listing's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePosition {
    pub created_at: i64,
    pub id: String,
}

/// A page request for the list tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// The message the producer sends for each job; field names are the original's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMessage {
    pub job_id: String,
    pub prompt: String,
    pub model: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_filter_names_cover_all_and_each_status() {
        for name in StatusFilter::NAMES {
            assert_eq!(StatusFilter::from_name(name).map(StatusFilter::name), Some(name));
        }
        assert_eq!(StatusFilter::from_name("done"), None);
    }

    #[test]
    fn job_message_uses_the_original_camel_case_fields() {
        let message = JobMessage {
            job_id: "j".into(),
            prompt: "p".into(),
            model: "flux-schnell".into(),
        };
        assert_eq!(
            serde_json::to_string(&message).unwrap(),
            r#"{"jobId":"j","prompt":"p","model":"flux-schnell"}"#
        );
    }

    #[test]
    fn a_thumbnail_keeps_its_base64_only_when_it_could_be_shown_inline() {
        use crate::catalog::INLINE_PREVIEW_MAX_BASE64_BYTES;
        let largest = INLINE_PREVIEW_MAX_BASE64_BYTES / 4 * 3;
        let fits = vec![7u8; largest];
        let text = inline_preview_text(&fits).unwrap();
        assert_eq!(text.len(), INLINE_PREVIEW_MAX_BASE64_BYTES);
        assert_eq!(crate::media::base64_decode(&text).unwrap(), fits);
        assert_eq!(inline_preview_text(&vec![7u8; largest + 1]), None);
        assert_eq!(inline_preview_text(b"RIFF").as_deref(), Some("UklGRg=="));
    }
}
