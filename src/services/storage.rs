//! R2 storage: object naming, metadata, and the put and read calls on the bucket binding (used by
//! the queue consumer, the sweeper, `resources/read` and image inputs).

use std::collections::HashMap;

use worker::js_sys::{Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Bucket, HttpMetadata};

use crate::catalog::INPUT_KEY_PREFIX;
use crate::jobs::{JobInput, JobRow};
use crate::media::ImageFormat;
use crate::urls::{key_in_stored_url, thumbnail_key, IMMUTABLE_CACHE};

/// Longest slug taken from the prompt, as in the original.
const SLUG_MAX_CHARS: usize = 50;
/// R2 limits custom metadata to 2 KiB in all; the prompt gets most of it.
const METADATA_PROMPT_MAX_BYTES: usize = 1024;

/// The prompt lower-cased, runs of characters outside [a-z0-9] turned into one '-', trimmed, cut to 50.
/// Rust's `to_lowercase` is the Unicode mapping of the original's JavaScript `toLowerCase()`
/// (final sigma included), so keys, and the sweeper's rebuilt keys, are the original's.
pub fn slug(prompt: &str) -> String {
    let mut slug = String::new();
    for c in prompt.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let trimmed: String = slug.trim_matches('-').chars().take(SLUG_MAX_CHARS).collect();
    trimmed.trim_end_matches('-').to_string()
}

/// `<created ms>-<slug>-<job id>.<ext>`: readable like the original's names, but fixed per job
/// (a redelivery overwrites the same object) and unguessable (the job id is a random UUID).
pub fn object_key(created_at: i64, prompt: &str, job_id: &str, format: ImageFormat) -> String {
    let slug = slug(prompt);
    let ext = format.extension();
    if slug.is_empty() {
        format!("{created_at}-{job_id}.{ext}")
    } else {
        format!("{created_at}-{slug}-{job_id}.{ext}")
    }
}

/// Every key a job's image could have been stored under (the format is known only once the model
/// answered) and its thumbnail's: what to delete for a job that ended without its image.
pub fn possible_keys(created_at: i64, prompt: &str, job_id: &str) -> Vec<String> {
    let png = object_key(created_at, prompt, job_id, ImageFormat::Png);
    let thumbnail = thumbnail_key(&png);
    vec![
        png,
        object_key(created_at, prompt, job_id, ImageFormat::Jpeg),
        thumbnail,
    ]
}

/// Every R2 key a job may have written and its row still names: its image and thumbnail (from the
/// row's URLs, whatever base they were recorded under) and every key an attempt could have used
/// (both formats), for a delete that must leave nothing behind. Its stored inputs are apart
/// ([`stored_input_keys`]): other jobs may share them.
pub fn job_object_keys(job: &JobRow) -> Vec<String> {
    let mut keys = possible_keys(job.created_at, &job.prompt, &job.id);
    if let Some((key, _)) = job.image_url.as_deref().and_then(key_in_stored_url) {
        keys.extend([key.to_string(), thumbnail_key(key)]);
    }
    if let Some((key, _)) = job.thumbnail_url.as_deref().and_then(key_in_stored_url) {
        keys.push(key.to_string());
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The stored inputs (`input-…` keys) `jobs` list, each once: what retention or a delete may
/// remove with them (once D1 says no other job uses them). An earlier job's image used in place is not one, nor is an entry that cannot be read.
pub fn stored_input_keys(jobs: &[JobRow]) -> Vec<String> {
    let mut keys: Vec<String> = jobs
        .iter()
        .filter_map(|job| job.inputs.as_deref())
        .flat_map(|text| serde_json::from_str::<Vec<JobInput>>(text).unwrap_or_default())
        .filter_map(|entry| key_in_stored_url(&entry.url).map(|(key, _)| key.to_string()))
        .filter(|key| key.starts_with(INPUT_KEY_PREFIX))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub fn truncate_utf8(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Custom metadata stored with each image.
pub fn image_metadata(prompt: &str, model: &str, job_id: &str, generated_at: String) -> HashMap<String, String> {
    HashMap::from([
        (
            "prompt".to_string(),
            truncate_utf8(prompt, METADATA_PROMPT_MAX_BYTES).to_string(),
        ),
        ("model".to_string(), model.to_string()),
        ("jobId".to_string(), job_id.to_string()),
        ("generatedAt".to_string(), generated_at),
    ])
}

/// Custom metadata stored with a thumbnail: which image it shows. The prompt stays with the
/// image alone, so anything that finds images by prompt finds one object per job.
pub fn thumbnail_metadata(image_key: &str, job_id: &str, generated_at: String) -> HashMap<String, String> {
    HashMap::from([
        ("thumbnailOf".to_string(), image_key.to_string()),
        ("jobId".to_string(), job_id.to_string()),
        ("generatedAt".to_string(), generated_at),
    ])
}

pub async fn put_image(
    bucket: &Bucket,
    key: &str,
    bytes: Vec<u8>,
    format: ImageFormat,
    metadata: HashMap<String, String>,
) -> worker::Result<()> {
    bucket
        .put(key, bytes)
        .http_metadata(HttpMetadata {
            content_type: Some(format.content_type().to_string()),
            cache_control: Some(IMMUTABLE_CACHE.to_string()),
            ..Default::default()
        })
        .custom_metadata(metadata)
        .execute()
        .await?;
    Ok(())
}

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
extern "C" {
    /// The R2 bucket as JS sees it, for the one put workers-rs cannot express: a body that is
    /// already a JS array (workers-rs takes a `Vec<u8>` and copies it into a new one).
    type RawBucket;
    #[wasm_bindgen(method, catch, js_name = put)]
    fn put_array(this: &RawBucket, key: &str, value: &Uint8Array, options: &Object) -> Result<Promise, JsValue>;
}

/// [`put_image`] for bytes already in JS memory: R2 reads `bytes` itself, so the array can be
/// shared with another reader (the consumer hands the same one to the Images binding).
pub async fn put_image_array(
    bucket: &Bucket,
    key: &str,
    bytes: &Uint8Array,
    format: ImageFormat,
    metadata: HashMap<String, String>,
) -> worker::Result<()> {
    let set = |object: &Object, name: &str, value: &JsValue| Reflect::set(object, &JsValue::from_str(name), value);
    let http = Object::new();
    set(&http, "contentType", &format.content_type().into())?;
    set(&http, "cacheControl", &IMMUTABLE_CACHE.into())?;
    let custom = Object::new();
    for (name, value) in &metadata {
        set(&custom, name, &value.as_str().into())?;
    }
    let options = Object::new();
    set(&options, "httpMetadata", &http)?;
    set(&options, "customMetadata", &custom)?;
    let raw: &RawBucket = bucket.as_ref().unchecked_ref();
    JsFuture::from(raw.put_array(key, bytes, &options)?).await?;
    Ok(())
}

/// An object's bytes, or None when there is no object under `key`.
pub async fn read_object(bucket: &Bucket, key: &str) -> worker::Result<Option<Vec<u8>>> {
    let Some(object) = bucket.get(key).execute().await? else {
        return Ok(None);
    };
    match object.body() {
        Some(body) => body.bytes().await.map(Some),
        None => Ok(Some(Vec::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_follows_the_original_rules() {
        assert_eq!(slug("A Cyberpunk City, at NIGHT!"), "a-cyberpunk-city-at-night");
        assert_eq!(slug("  --hello__world--  "), "hello-world");
        assert_eq!(slug("日本の風景"), "");
        let long = slug(&"word ".repeat(40));
        assert!(long.len() <= 50 && !long.ends_with('-'), "{long}");
    }

    /// What JavaScript's `toLowerCase()` gives for these (checked in Node 20), pinned: a
    /// word-final `Σ` becomes `ς`, another `σ`. Only lower-casings that produce ASCII letters
    /// (`İ` to `i` + U+0307, the Kelvin sign to `k`) change a slug; other letters become `-`.
    #[test]
    fn slug_lower_cases_non_ascii_as_javascript_does() {
        for (text, lower, expected_slug) in [
            ("ÀÉÎ", "àéî", ""),
            ("Straße", "straße", "stra-e"),
            ("ΟΔΟΣ ΑΒ", "οδος αβ", ""),
            ("ΣΑ", "σα", ""),
            ("İSTANBUL", "i\u{307}stanbul", "i-stanbul"),
            ("\u{212A}ELVIN", "kelvin", "kelvin"),
            ("Ǆ Café", "ǆ café", "caf"),
        ] {
            assert_eq!(text.to_lowercase(), lower, "{text}");
            assert_eq!(slug(text), expected_slug, "{text}");
        }
    }

    #[test]
    fn keys_carry_the_job_id_and_real_extension() {
        let key = object_key(1700000000000, "A red fox", "0b6c-uuid", ImageFormat::Jpeg);
        assert_eq!(key, "1700000000000-a-red-fox-0b6c-uuid.jpg");
        assert_eq!(object_key(5, "!!!", "id", ImageFormat::Png), "5-id.png");
    }

    #[test]
    fn possible_keys_cover_both_formats_and_the_thumbnail() {
        let keys = possible_keys(5, "A fox", "id-1");
        assert_eq!(
            keys,
            ["5-a-fox-id-1.png", "5-a-fox-id-1.jpg", "5-a-fox-id-1-thumb.webp"]
        );
        assert_eq!(keys[2], thumbnail_key(&keys[1]), "one thumbnail whatever the format");
    }

    #[test]
    fn metadata_prompt_is_cut_on_a_character_boundary() {
        let prompt = "é".repeat(1000);
        let metadata = image_metadata(&prompt, "flux-schnell", "id", "2026-01-01T00:00:00.000Z".into());
        assert!(metadata["prompt"].len() <= METADATA_PROMPT_MAX_BYTES);
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(metadata["model"], "flux-schnell");
    }

    #[test]
    fn thumbnail_metadata_names_its_image_and_not_the_prompt() {
        let metadata = thumbnail_metadata("1-a-fox-j.png", "j", "2026-01-01T00:00:00.000Z".into());
        assert_eq!(metadata["thumbnailOf"], "1-a-fox-j.png");
        assert_eq!(metadata["jobId"], "j");
        assert!(!metadata.contains_key("prompt"));
    }

    #[test]
    fn retention_takes_only_stored_inputs_from_the_expired_jobs_each_once() {
        use crate::jobs::JobStatus;
        let entry = |url: &str| serde_json::json!({"role": "image", "source": "s", "url": url, "format": "png", "width": 1, "height": 1});
        let with = |id: &str, inputs: Option<String>| JobRow {
            inputs,
            ..JobRow::fixture(id, JobStatus::Completed)
        };
        let uuid = "123e4567-e89b-12d3-a456-426614174000";
        let jobs = [
            with(
                "a",
                Some(
                    serde_json::json!([
                        entry(&format!("https://img.example.com/input-{uuid}.png")),
                        entry(&format!("/images/1700000000000-a-fox-{uuid}.jpg")),
                        entry("/images/input-b.webp"),
                    ])
                    .to_string(),
                ),
            ),
            with(
                "b",
                Some(serde_json::json!([entry("/images/input-b.webp"), entry("/images/input-c.jpg")]).to_string()),
            ),
            with("unreadable", Some("[{\"url\": 1}]".into())),
            with(
                "not-a-key",
                Some(serde_json::json!([entry("/images/input-d.txt"), entry("/images/")]).to_string()),
            ),
            with("none", None),
        ];
        assert_eq!(
            stored_input_keys(&jobs),
            [format!("input-{uuid}.png"), "input-b.webp".into(), "input-c.jpg".into()],
            "input- keys only, whatever the base, each once; an earlier job's image used in place is never one"
        );
    }

    #[test]
    fn a_deleted_job_leaves_neither_its_image_nor_its_thumbnail_nor_a_possible_attempt() {
        use crate::jobs::JobStatus;
        let id = "123e4567-e89b-12d3-a456-426614174000";
        let job = JobRow {
            prompt: "A fox".into(),
            created_at: 7,
            image_url: Some(format!("https://old-bucket.example/7-a-fox-{id}.jpg")),
            thumbnail_url: Some(format!("/images/7-a-fox-{id}-thumb.webp")),
            ..JobRow::fixture(id, JobStatus::Completed)
        };
        assert_eq!(
            job_object_keys(&job),
            [
                format!("7-a-fox-{id}-thumb.webp"),
                format!("7-a-fox-{id}.jpg"),
                format!("7-a-fox-{id}.png")
            ],
            "the recorded image under an earlier base, its thumbnail, and both formats an attempt may have used"
        );
    }
}
