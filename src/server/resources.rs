//! MCP resources: the stored images listed newest first behind an opaque cursor, two URI
//! templates (an image and its thumbnail, by job id), reads that return the R2 object's bytes,
//! and the image viewer app (`ui://`, read from [`super::viewer`]).

use serde_json::Value;

use crate::bindings::{self, Unavailable};
use crate::catalog::{echo, JOB_ID_MAX_CHARS, RESOURCE_PAGE_SIZE};
use crate::d1::DbError;
use crate::jobs::{ImageFilter, ImagePosition, JobRow, JobStatus, JobStore};
use crate::media;
use crate::protocol::jsonrpc::RpcError;
use crate::protocol::mcp::{
    BlobResourceContents, ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use crate::services::storage::read_object;
use crate::tools::ToolContext;
use crate::urls::{self, ResourceTarget};

/// Longest `title` taken from a prompt; the whole prompt is in `description`.
const TITLE_MAX_CHARS: usize = 80;
/// Cursors this server mints are short; anything longer is refused before decoding.
const CURSOR_MAX_CHARS: usize = 200;
/// Versions the cursor text, so a later format can tell old cursors apart. The text travels as
/// hex: opaque to clients, and no encoding engine in the Wasm for it.
const CURSOR_PREFIX: &str = "v1:";
/// Thumbnail keys end in `.webp` (`urls::thumbnail_key`); used when R2 stored no content type.
const THUMBNAIL_MIME_TYPE: &str = "image/webp";

/// Why a resources method failed; becomes the protocol's error in [`ResourceError::into_rpc`].
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("invalid cursor: pass the nextCursor of a resources/list result unchanged")]
    InvalidCursor,
    #[error("{0}")]
    BadParams(&'static str),
    /// Nothing readable behind the URI: not one of ours, no such job, not finished, no object.
    #[error("resource not found")]
    NotFound { uri: String },
    /// The job behind the URI was deleted (a tombstone the caller may see).
    #[error("resource deleted")]
    Deleted { uri: String },
    #[error("binding {name} is unavailable: {source}")]
    Binding {
        name: &'static str,
        #[source]
        source: worker::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("reading object {key} from R2: {source}")]
    Storage {
        key: String,
        #[source]
        source: worker::Error,
    },
}

impl From<Unavailable> for ResourceError {
    fn from(Unavailable { name, source }: Unavailable) -> Self {
        ResourceError::Binding { name, source }
    }
}

impl ResourceError {
    /// The JSON-RPC error: not-found uses the code of the request's revision (-32602 from
    /// 2026-07-28 on, -32002 before); failures of our own are logged whole and answered briefly.
    pub fn into_rpc(self, stateless: bool) -> RpcError {
        match self {
            ResourceError::NotFound { uri } => RpcError::ResourceNotFound {
                uri: echo(&uri),
                as_invalid_params: stateless,
            },
            ResourceError::Deleted { uri } => RpcError::ResourceDeleted {
                uri: echo(&uri),
                as_invalid_params: stateless,
            },
            ResourceError::InvalidCursor | ResourceError::BadParams(_) => RpcError::InvalidParams(self.to_string()),
            ResourceError::Binding { .. } | ResourceError::Db(_) | ResourceError::Storage { .. } => {
                worker::console_error!("resources: {self}");
                RpcError::Internal("could not read the image store".into())
            }
        }
    }
}

/// The opaque `nextCursor`: hex of `v1:<created_at>:<job id>`, the last image of a page.
pub fn encode_cursor(position: &ImagePosition) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let text = format!("{CURSOR_PREFIX}{}:{}", position.created_at, position.id);
    text.bytes()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

/// Reads a cursor this server minted; anything else is [`ResourceError::InvalidCursor`].
pub fn decode_cursor(cursor: &str) -> Result<ImagePosition, ResourceError> {
    if cursor.len() > CURSOR_MAX_CHARS {
        return Err(ResourceError::InvalidCursor);
    }
    let digit = |b: u8| char::from(b).to_digit(16);
    let bytes = cursor
        .as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some((digit(*high)? * 16 + digit(*low)?) as u8),
            _ => None,
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or(ResourceError::InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| ResourceError::InvalidCursor)?;
    let (created_at, id) = text
        .strip_prefix(CURSOR_PREFIX)
        .and_then(|rest| rest.split_once(':'))
        .ok_or(ResourceError::InvalidCursor)?;
    let created_at: i64 = created_at.parse().map_err(|_| ResourceError::InvalidCursor)?;
    let valid_id =
        !id.is_empty() && id.len() <= JOB_ID_MAX_CHARS && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid_id || created_at < 0 {
        return Err(ResourceError::InvalidCursor);
    }
    Ok(ImagePosition {
        created_at,
        id: id.to_string(),
    })
}

/// The string field `name` of params: absent (or null) is None; any other type is invalid params
/// (`wrong_type` says so). Read by hand rather than through a serde derive: smaller Wasm.
fn string_param<'a>(
    params: Option<&'a Value>,
    name: &str,
    wrong_type: &'static str,
) -> Result<Option<&'a str>, ResourceError> {
    let fields = match params {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(fields)) => fields,
        Some(_) => return Err(ResourceError::BadParams("params must be an object")),
    };
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ResourceError::BadParams(wrong_type)),
    }
}

/// `prompt` cut to TITLE_MAX_CHARS characters, with an ellipsis when cut.
fn title_from(prompt: &str) -> String {
    match prompt.char_indices().nth(TITLE_MAX_CHARS) {
        None => prompt.to_string(),
        Some((cut, _)) => format!("{}…", prompt[..cut].trim_end()),
    }
}

/// One finished job as a listed resource, if its stored URL names an object we can read (under
/// whatever base it was recorded).
pub fn resource_entry(row: &JobRow, with_title: bool) -> Option<Resource> {
    let (key, format) = urls::key_in_stored_url(row.image_url.as_deref()?)?;
    Some(Resource {
        uri: urls::image_resource_uri(&row.id),
        name: key.to_string(),
        title: with_title.then(|| title_from(&row.prompt)),
        description: format!("{}: {}", row.model, row.prompt),
        mime_type: format.content_type().to_string(),
        size: row.image_size,
    })
}

/// `resources/list`: one page of the caller's stored images (every owner's for the administrator),
/// newest first, and the cursor of the next page.
pub async fn list(
    ctx: &ToolContext,
    params: Option<&Value>,
    with_titles: bool,
) -> Result<ListResourcesResult, ResourceError> {
    let after = string_param(params, "cursor", "resources/list: params.cursor must be a string")?
        .map(decode_cursor)
        .transpose()?;
    let rows = store(ctx)?
        .list_stored_images(
            ImageFilter {
                owner: ctx.caller.visible_owner(),
            },
            after.as_ref(),
            RESOURCE_PAGE_SIZE + 1,
        )
        .await?;
    Ok(list_page(rows, with_titles))
}

/// A page from up to RESOURCE_PAGE_SIZE + 1 rows: the extra row only says another page follows
/// (no count query), and the cursor names the page's last row.
pub fn list_page(mut rows: Vec<JobRow>, with_titles: bool) -> ListResourcesResult {
    let more = rows.len() as i64 > RESOURCE_PAGE_SIZE;
    rows.truncate(RESOURCE_PAGE_SIZE as usize);
    let next_cursor = rows.last().filter(|_| more).map(|last| {
        encode_cursor(&ImagePosition {
            created_at: last.created_at,
            id: last.id.clone(),
        })
    });
    ListResourcesResult {
        resources: rows.iter().filter_map(|row| resource_entry(row, with_titles)).collect(),
        next_cursor,
    }
}

/// `resources/templates/list`: an image and its thumbnail, by job id.
pub fn templates(with_titles: bool) -> ListResourceTemplatesResult {
    let title = |text: &str| with_titles.then(|| text.to_string());
    ListResourceTemplatesResult {
        resource_templates: vec![
            ResourceTemplate {
                uri_template: urls::image_resource_uri("{job_id}"),
                name: "image".into(),
                title: title("Generated image"),
                description: "A completed job's image (PNG or JPEG), by job_id.".into(),
                mime_type: None,
            },
            ResourceTemplate {
                uri_template: urls::thumbnail_resource_uri("{job_id}"),
                name: "thumbnail".into(),
                title: title("Image thumbnail"),
                description: "A completed job's thumbnail (longest side 256 px), by job_id, if one was made.".into(),
                mime_type: Some(THUMBNAIL_MIME_TYPE.into()),
            },
        ],
    }
}

/// `resources/read`: the bytes of a finished job's image or thumbnail, as one base64 blob.
pub async fn read(ctx: &ToolContext, params: Option<&Value>) -> Result<ReadResourceResult, ResourceError> {
    let uri = read_params(params)?;
    if uri == urls::VIEWER_RESOURCE_URI {
        return Ok(super::viewer::read_result(
            &ctx.origin,
            ctx.config.public_image_base_url.as_deref(),
        ));
    }
    let not_found = || ResourceError::NotFound { uri: uri.clone() };
    let (job_id, target) = urls::parse_resource_uri(&uri).ok_or_else(not_found)?;
    // Another key's job is "not found", exactly like a job that does not exist.
    let job = store(ctx)?
        .job(job_id, ctx.caller.visible_owner())
        .await?
        .ok_or_else(not_found)?;
    if job.status == JobStatus::Deleted {
        return Err(ResourceError::Deleted { uri: uri.clone() });
    }
    let stored_url = job
        .image_url
        .as_deref()
        .filter(|_| job.status == JobStatus::Completed)
        .ok_or_else(not_found)?;
    let (key, fallback_type) = object_of(stored_url, target).ok_or_else(not_found)?;
    let bucket = bindings::bucket(&ctx.env)?;
    let bytes = read_object(&bucket, &key)
        .await
        .map_err(|source| ResourceError::Storage { key, source })?
        .ok_or_else(not_found)?;
    // The bytes say what they are when they are PNG or JPEG; otherwise the key's type stands.
    let mime_type = media::sniff(&bytes).map_or(fallback_type, |format| format.content_type());
    Ok(blob_result(uri.clone(), mime_type.to_string(), &bytes))
}

/// The R2 key and fallback content type of `target` for a job whose row records `stored_url`,
/// whatever `PUBLIC_IMAGE_BASE_URL` was when it was recorded; None if the URL names no key we
/// could have written.
pub fn object_of(stored_url: &str, target: ResourceTarget) -> Option<(String, &'static str)> {
    let (image_key, format) = urls::key_in_stored_url(stored_url)?;
    Some(match target {
        ResourceTarget::Image => (image_key.to_string(), format.content_type()),
        ResourceTarget::Thumbnail => (urls::thumbnail_key(image_key), THUMBNAIL_MIME_TYPE),
    })
}

/// The read result for an object's bytes: one base64 blob.
pub fn blob_result(uri: String, mime_type: String, bytes: &[u8]) -> ReadResourceResult {
    ReadResourceResult {
        contents: vec![ResourceContents::Blob(BlobResourceContents {
            uri,
            mime_type,
            blob: media::base64_encode(bytes),
        })],
    }
}

/// The `uri` of `resources/read` params; missing or not a string is invalid params.
fn read_params(params: Option<&Value>) -> Result<String, ResourceError> {
    const NEEDS_URI: &str = "resources/read needs params.uri (a string)";
    match string_param(params, "uri", NEEDS_URI)? {
        Some(uri) => Ok(uri.to_string()),
        None => Err(ResourceError::BadParams(NEEDS_URI)),
    }
}

fn store(ctx: &ToolContext) -> Result<JobStore, ResourceError> {
    Ok(JobStore::new(bindings::db(&ctx.env)?))
}

/// The bytes of the R2 object at `key`, or None when there is none.
#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, prompt: &str, image_url: Option<&str>) -> JobRow {
        JobRow {
            prompt: prompt.into(),
            image_url: image_url.map(String::from),
            ..JobRow::fixture(id, JobStatus::Completed)
        }
    }

    #[test]
    fn cursors_round_trip_and_stay_opaque() {
        let position = ImagePosition {
            created_at: 1_732_900_000_123,
            id: "123e4567-e89b-12d3-a456-426614174000".into(),
        };
        let cursor = encode_cursor(&position);
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{cursor}"
        );
        assert!(
            !cursor.contains("123e4567"),
            "the cursor does not show its parts: {cursor}"
        );
        assert_eq!(decode_cursor(&cursor).unwrap(), position);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// Any position a listing can end on round-trips through its cursor.
        #[test]
        fn every_position_round_trips(created_at in 0..i64::MAX, id in "[A-Za-z0-9-]{1,64}") {
            let position = ImagePosition { created_at, id };
            proptest::prop_assert_eq!(decode_cursor(&encode_cursor(&position)).ok(), Some(position));
        }

        /// Arbitrary client text never panics and decodes only to a position our listing could
        /// have written (valid id, non-negative time).
        #[test]
        fn arbitrary_cursors_are_refused_or_well_formed(cursor in ".{0,300}") {
            if let Ok(position) = decode_cursor(&cursor) {
                proptest::prop_assert!(position.created_at >= 0);
                proptest::prop_assert!(urls::parse_resource_uri(&urls::image_resource_uri(&position.id)).is_some());
            }
        }
    }

    #[test]
    fn foreign_or_tampered_cursors_are_invalid() {
        let encode = |text: &str| text.bytes().map(|b| format!("{b:02x}")).collect::<String>();
        let long = "a".repeat(65);
        for bad in [
            String::new(),
            "not hex !".into(),
            "abc".into(),
            "+1".into(),
            "é0".into(),
            encode("v1:12"),
            encode("v2:12:job"),
            encode("12:job"),
            encode("v1:x:job"),
            encode("v1:-5:job"),
            encode("v1:12:"),
            encode("v1:12:a'b"),
            encode("v1:12:a:b"),
            encode(&format!("v1:12:{long}")),
            "fffe".into(),
            "A".repeat(1_000_000),
        ] {
            assert!(
                matches!(decode_cursor(&bad), Err(ResourceError::InvalidCursor)),
                "{bad:.60} must be refused"
            );
        }
        let error = ResourceError::InvalidCursor.into_rpc(false);
        assert_eq!(error.code(), -32602);
    }

    #[test]
    fn not_found_uses_each_revision_family_code_and_never_echoes_long_uris_whole() {
        let not_found = || ResourceError::NotFound {
            uri: "images://jobs/nope".into(),
        };
        let legacy = not_found().into_rpc(false).to_object();
        assert_eq!(legacy.code, -32002);
        assert_eq!(legacy.data.unwrap()["uri"], "images://jobs/nope");
        assert_eq!(not_found().into_rpc(true).code(), -32602);
        let huge = ResourceError::NotFound {
            uri: "x".repeat(1_000_000),
        }
        .into_rpc(true)
        .to_object();
        assert!(huge.message.len() < 300, "{} bytes", huge.message.len());
        assert!(huge.data.unwrap()["uri"].as_str().unwrap().len() < 300);
    }

    #[test]
    fn read_params_need_a_string_uri() {
        assert_eq!(
            read_params(Some(&serde_json::json!({"uri": "images://jobs/a"}))).unwrap(),
            "images://jobs/a"
        );
        for bad in [
            None,
            Some(serde_json::json!({})),
            Some(serde_json::json!({"uri": 5})),
            Some(serde_json::json!([1])),
        ] {
            let error = read_params(bad.as_ref()).unwrap_err();
            assert_eq!(error.into_rpc(false).code(), -32602);
        }
        let cursor =
            |params: serde_json::Value| string_param(Some(&params), "cursor", "bad").map(|c| c.map(String::from));
        assert!(matches!(
            cursor(serde_json::json!({"cursor": 7})),
            Err(ResourceError::BadParams(_))
        ));
        assert!(matches!(
            cursor(serde_json::json!("x")),
            Err(ResourceError::BadParams(_))
        ));
        assert_eq!(
            cursor(serde_json::json!({"cursor": "abc"})).unwrap().as_deref(),
            Some("abc")
        );
        assert_eq!(cursor(serde_json::json!({"cursor": null})).unwrap(), None);
        assert_eq!(string_param(None, "cursor", "bad").unwrap(), None);
    }

    #[test]
    fn entries_name_the_job_uri_the_key_and_the_prompt() {
        let id = "123e4567-e89b-12d3-a456-426614174000";
        let key = format!("1-a-fox-{id}.jpg");
        let entry = resource_entry(&row(id, "a fox", Some(&format!("/images/{key}"))), true).unwrap();
        assert_eq!(entry.uri, format!("images://jobs/{id}"));
        assert_eq!(urls::parse_resource_uri(&entry.uri), Some((id, ResourceTarget::Image)));
        assert_eq!(entry.name, key);
        assert_eq!(entry.title.as_deref(), Some("a fox"));
        assert_eq!(entry.mime_type, "image/jpeg");
        assert!(entry.description.contains("a fox") && entry.description.contains("flux-schnell"));
        let untitled = resource_entry(&row(id, "a fox", Some(&format!("/images/{key}"))), false).unwrap();
        assert_eq!(untitled.title, None);
        let public = format!("https://img.example.com/{key}");
        assert_eq!(
            resource_entry(&row(id, "a fox", Some(&public)), true).unwrap().name,
            key
        );
        assert!(resource_entry(&row(id, "a fox", None), true).is_none());
        assert!(resource_entry(&row(id, "a fox", Some("https://img.example.com/x.gif")), true).is_none());
    }

    /// A row recorded under an earlier PUBLIC_IMAGE_BASE_URL (or none) is listed and read from
    /// its key, whatever the base is now: resources no longer take the configured base at all.
    #[test]
    fn rows_recorded_under_an_earlier_base_are_listed_and_read() {
        let id = "123e4567-e89b-12d3-a456-426614174000";
        let key = format!("1-a-fox-{id}.png");
        for stored in [
            format!("https://old-cdn.example/images-a/{key}"),
            urls::stored_image_url(&key, Some("https://new.example/b")),
            urls::stored_image_url(&key, None),
        ] {
            let entry = resource_entry(&row(id, "a fox", Some(&stored)), true).expect(&stored);
            assert_eq!(
                (entry.name.as_str(), entry.mime_type.as_str()),
                (key.as_str(), "image/png")
            );
            assert_eq!(
                object_of(&stored, ResourceTarget::Image),
                Some((key.clone(), "image/png")),
                "{stored}"
            );
            assert_eq!(
                object_of(&stored, ResourceTarget::Thumbnail),
                Some((format!("1-a-fox-{id}-thumb.webp"), THUMBNAIL_MIME_TYPE)),
                "{stored}"
            );
            let page = list_page(vec![row(id, "a fox", Some(&stored))], false);
            assert_eq!(page.resources.len(), 1, "{stored}");
        }
        for bad in [
            "https://old-cdn.example/images-a/",
            "https://old-cdn.example/images-a/%2e%2e.png",
            "https://old-cdn.example/A.png",
            "/images/a.gif",
        ] {
            assert_eq!(object_of(bad, ResourceTarget::Image), None, "{bad}");
        }
    }

    /// `n` finished jobs, newest first as the listing query returns them.
    fn rows(n: usize) -> Vec<JobRow> {
        (0..n)
            .map(|i| {
                let id = format!("00000000-0000-4000-8000-{:012}", n - i);
                let mut job = row(
                    &id,
                    &format!("picture number {i}"),
                    Some(&format!("/images/{i}-p-{id}.png")),
                );
                job.created_at = 1_000 - i as i64;
                job
            })
            .collect()
    }

    #[test]
    fn a_full_page_plus_one_row_gets_a_cursor_to_the_pages_last_image() {
        let size = RESOURCE_PAGE_SIZE as usize;
        let page = list_page(rows(size + 1), true);
        assert_eq!(page.resources.len(), size);
        let cursor = decode_cursor(page.next_cursor.as_deref().unwrap()).unwrap();
        let last = &rows(size + 1)[size - 1];
        assert_eq!(
            (cursor.created_at, cursor.id.as_str()),
            (last.created_at, last.id.as_str())
        );
        for n in [0, 1, size] {
            let page = list_page(rows(n), true);
            assert_eq!((page.resources.len(), page.next_cursor), (n, None), "{n} rows");
        }
    }

    #[test]
    fn read_results_carry_the_bytes_as_standard_base64() {
        let bytes: Vec<u8> = (0..=255).collect();
        let result = blob_result("images://jobs/a".into(), "image/png".into(), &bytes);
        let ResourceContents::Blob(contents) = &result.contents[0] else {
            panic!("an image is read as a blob")
        };
        let blob = &contents.blob;
        use base64::Engine;
        assert_eq!(base64::engine::general_purpose::STANDARD.decode(blob).unwrap(), bytes);
    }

    #[test]
    fn long_prompts_make_short_titles_and_keep_the_whole_prompt_in_the_description() {
        let prompt = "ü".repeat(1000);
        let entry = resource_entry(&row("j", &prompt, Some("/images/1-j.png")), true).unwrap();
        let title = entry.title.unwrap();
        assert_eq!(title.chars().count(), TITLE_MAX_CHARS + 1);
        assert!(title.ends_with('…'));
        assert!(entry.description.ends_with(&prompt));
    }

    #[test]
    fn templates_expand_to_uris_that_read_accepts() {
        for with_titles in [true, false] {
            let listed = templates(with_titles).resource_templates;
            assert_eq!(listed.len(), 2);
            let id = "123e4567-e89b-12d3-a456-426614174000";
            let expanded: Vec<String> = listed.iter().map(|t| t.uri_template.replace("{job_id}", id)).collect();
            assert_eq!(
                urls::parse_resource_uri(&expanded[0]),
                Some((id, ResourceTarget::Image))
            );
            assert_eq!(
                urls::parse_resource_uri(&expanded[1]),
                Some((id, ResourceTarget::Thumbnail))
            );
            assert_eq!(listed.iter().all(|t| t.title.is_some()), with_titles);
        }
    }
}
