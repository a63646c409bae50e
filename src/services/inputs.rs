//! Image inputs of edit_image and generate_variations: a reference (a job id, this server's image
//! URL, or a data URL) becomes checked bytes without fetching anything from the network; inputs
//! a model cannot take as they are are converted through the Images binding; new bytes are
//! stored in R2 (`input-…` keys) and each job lists its inputs by URL.

use super::jobs::{start_jobs, Batch};
use super::storage::{put_image, read_object};
use super::{Context, ServiceError};
use crate::catalog::{echo, INPUT_IMAGE_MAX_BYTES, INPUT_IMAGE_MAX_PIXELS, INPUT_IMAGE_MAX_SIDE, INPUT_KEY_PREFIX};
use crate::images_binding::{fit, ImagesError};
use crate::jobs::{InputRole, JobInput, JobRow, JobStatus, JobStore, NewJob};
use crate::media::{base64_decode, dimensions, sniff, ImageFormat};
use crate::models::{Maker, ModelSpec};
use crate::urls::{key_from_image_path, key_from_image_url, key_in_stored_url, stored_image_url, IMAGE_ROUTE_PREFIX};

/// What a reference names, before anything is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference<'a> {
    /// A job of this server (its finished image).
    Job(&'a str),
    /// An object this server stored, by key (from one of its image URLs).
    Stored(&'a str),
    /// The base64 payload of a `data:image/…;base64,` URL.
    Data(&'a str),
}

/// Reads a reference without touching storage. `origin` is the request's (scheme://host[:port]);
/// image URLs must be under it or under `public_base`. Anything else is refused: the server
/// never fetches a URL it was given.
pub fn parse_reference<'a>(text: &'a str, origin: &str, public_base: Option<&str>) -> Result<Reference<'a>, String> {
    if let Some((head, payload)) = text.split_once(',').filter(|(head, _)| head.starts_with("data:")) {
        return match head {
            "data:image/png;base64" | "data:image/jpeg;base64" | "data:image/webp;base64" => Ok(Reference::Data(payload)),
            _ => Err(format!(
                "a data URL must start data:image/png;base64, data:image/jpeg;base64 or data:image/webp;base64 (got {})",
                echo(head)
            )),
        };
    }
    if is_job_id(text) {
        return Ok(Reference::Job(text));
    }
    let path = match text.strip_prefix(origin) {
        Some(path) if path.starts_with('/') => Some(path),
        _ => text.starts_with(IMAGE_ROUTE_PREFIX).then_some(text),
    };
    let key = match path {
        Some(path) => key_from_image_path(path),
        None => key_from_image_url(text, public_base),
    };
    if let Some((key, _)) = key {
        return Ok(Reference::Stored(key));
    }
    let ours = match public_base {
        Some(base) => format!("{origin}{IMAGE_ROUTE_PREFIX}… or {base}/…"),
        None => format!("{origin}{IMAGE_ROUTE_PREFIX}…"),
    };
    Err(format!(
        "{} is not an image of this server. Give the job_id of a completed image, one of this server's image URLs \
         ({ours}), or a data:image/png|jpeg|webp;base64 URL; the server never fetches other URLs",
        echo(text)
    ))
}

/// Our job ids: lowercase UUIDs (8-4-4-4-12 hex digits).
fn is_job_id(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// The bytes of a data URL's payload: at most INPUT_IMAGE_MAX_BYTES, and a real image.
pub fn decode_data(payload: &str) -> Result<Vec<u8>, String> {
    let limit = INPUT_IMAGE_MAX_BYTES;
    // Checked before decoding, so an oversized payload is never decoded into memory.
    if payload.len() > limit.div_ceil(3) * 4 {
        return Err(format!(
            "the data URL holds about {} bytes; at most {limit} (10 MiB) are accepted",
            payload.len() / 4 * 3
        ));
    }
    let bytes = base64_decode(payload).ok_or_else(|| {
        "the data URL's base64 is unreadable (a character outside A-Z a-z 0-9 + /, or a cut-off group)".to_string()
    })?;
    if bytes.len() > limit {
        return Err(format!(
            "the data URL holds {} bytes; at most {limit} (10 MiB) are accepted",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// Refuses a size no conversion could take, from the header alone: a small file can declare an
/// enormous canvas, and the Images binding would be asked to decode it before failing.
pub fn check_pixels(width: u32, height: u32) -> Result<(), String> {
    let pixels = u64::from(width) * u64::from(height);
    if width.max(height) > INPUT_IMAGE_MAX_SIDE || pixels > INPUT_IMAGE_MAX_PIXELS {
        return Err(format!(
            "the image declares {width}x{height} pixels; at most {INPUT_IMAGE_MAX_SIDE} pixels a side and \
             {INPUT_IMAGE_MAX_PIXELS} pixels in all are accepted"
        ));
    }
    Ok(())
}

/// An input read and checked: its bytes, what they are, and where they are stored already.
pub struct Loaded {
    pub role: InputRole,
    /// The argument it came from (`images[0]`, `mask`, `job_id`), for messages.
    pub argument: String,
    pub source: String,
    pub bytes: Vec<u8>,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// Stored URL of these exact bytes, when they are already in R2.
    pub stored_url: Option<String>,
}

fn refuse(argument: &str, problem: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(format!("{argument}: {problem}"))
}

/// Resolves one reference to checked bytes: a job the caller can see that has completed, an
/// object this server stored, or a data URL's payload. Reads D1 and R2 only.
pub async fn load(
    ctx: &impl Context,
    store: &JobStore,
    argument: String,
    text: &str,
    role: InputRole,
) -> Result<Loaded, ServiceError> {
    let public_base = ctx.config().public_image_base_url.as_deref();
    let reference = parse_reference(text, ctx.origin(), public_base).map_err(|problem| refuse(&argument, problem))?;
    let (bytes, source, stored_url) = match reference {
        Reference::Data(payload) => {
            let bytes = decode_data(payload).map_err(|problem| refuse(&argument, problem))?;
            let source = format!("data URL ({} bytes)", bytes.len());
            (bytes, source, None)
        }
        Reference::Job(id) => {
            let job = finished_job(ctx, store, &argument, id).await?;
            return from_job(ctx, argument, job, role).await;
        }
        Reference::Stored(key) => {
            let bytes = read(ctx, &argument, Some(key)).await?;
            (bytes, text.to_string(), Some(stored_image_url(key, public_base)))
        }
    };
    checked(argument, role, source, bytes, stored_url)
}

/// An image uploaded as a file (a multipart part of the OpenAI-compatible API): checked like a
/// data URL's bytes, and stored like one (`input-…`) when the jobs are started.
pub fn uploaded(argument: String, role: InputRole, bytes: Vec<u8>) -> Result<Loaded, ServiceError> {
    if bytes.len() > INPUT_IMAGE_MAX_BYTES {
        return Err(refuse(
            &argument,
            format_args!(
                "the file holds {} bytes; at most {INPUT_IMAGE_MAX_BYTES} (10 MiB) are accepted",
                bytes.len()
            ),
        ));
    }
    let source = format!("upload ({} bytes)", bytes.len());
    checked(argument, role, source, bytes, None)
}

/// The job `id` if the caller can see it and it has finished an image.
pub async fn finished_job(
    ctx: &impl Context,
    store: &JobStore,
    argument: &str,
    id: &str,
) -> Result<JobRow, ServiceError> {
    let job = store.job(id, ctx.caller().visible_owner()).await?;
    let job = job.ok_or_else(|| refuse(argument, format_args!("no job {}", echo(id))))?;
    match (job.status, &job.image_url) {
        (JobStatus::Completed, Some(_)) => Ok(job),
        (status, _) => Err(refuse(
            argument,
            format_args!(
                "job {id} is {}, not completed: only a finished image can be used",
                status.as_str()
            ),
        )),
    }
}

/// The finished image of `job` (see [`finished_job`]), read from R2.
pub async fn from_job(
    ctx: &impl Context,
    argument: String,
    job: JobRow,
    role: InputRole,
) -> Result<Loaded, ServiceError> {
    let stored = job.image_url.unwrap_or_default();
    let key = key_in_stored_url(&stored).map(|(key, _)| key);
    let bytes = read(ctx, &argument, key).await?;
    checked(argument, role, job.id, bytes, Some(stored))
}

fn checked(
    argument: String,
    role: InputRole,
    source: String,
    bytes: Vec<u8>,
    stored_url: Option<String>,
) -> Result<Loaded, ServiceError> {
    let format = sniff(&bytes).ok_or_else(|| refuse(&argument, "the bytes are not a PNG, JPEG or WebP image"))?;
    let (width, height) = dimensions(&bytes, format)
        .filter(|(w, h)| *w > 0 && *h > 0)
        .ok_or_else(|| refuse(&argument, "the image's size could not be read from its header"))?;
    check_pixels(width, height).map_err(|problem| refuse(&argument, problem))?;
    Ok(Loaded {
        role,
        argument,
        source,
        bytes,
        format,
        width,
        height,
        stored_url,
    })
}

async fn read(ctx: &impl Context, argument: &str, key: Option<&str>) -> Result<Vec<u8>, ServiceError> {
    let missing = || refuse(argument, "that image is no longer stored");
    let key = key.ok_or_else(missing)?;
    let bucket = crate::bindings::bucket(ctx.env()).map_err(|e| ServiceError::Storage(e.source))?;
    read_object(&bucket, key)
        .await
        .map_err(ServiceError::Storage)?
        .ok_or_else(missing)
}

/// Checks the shape of a call's inputs against `spec` before anything is read: the model takes
/// images, this many, and a mask exactly when it needs one.
pub fn check_shape(spec: &ModelSpec, images: usize, has_mask: bool) -> Result<(), ServiceError> {
    let args = |message: String| Err(ServiceError::Invalid(message));
    let Some(rule) = spec.inputs else {
        return args(format!(
            "{} does not take input images; edit_image models: {}",
            spec.name,
            edit_model_names()
        ));
    };
    if images > rule.max_images {
        return args(format!(
            "{} takes {} input image(s), not {images}; for several references use a {} model",
            spec.name,
            rule.max_images,
            crate::models::several_images_labels()
        ));
    }
    match (rule.mask, has_mask) {
        (true, false) => args(format!("{} needs a mask (white = repaint, black = keep)", spec.name)),
        (false, true) => args(format!(
            "{} takes no mask; inpainting with a mask is {}",
            spec.name,
            crate::models::mask_model_names()
        )),
        _ => Ok(()),
    }
}

/// A mask must cover its image pixel for pixel.
pub fn check_mask_size(image: &Loaded, mask: &Loaded) -> Result<(), ServiceError> {
    if (mask.width, mask.height) == (image.width, image.height) {
        return Ok(());
    }
    Err(refuse(
        "mask",
        format_args!(
            "mask is {}x{} but the image is {}x{}; they must be the same size",
            mask.width, mask.height, image.width, image.height
        ),
    ))
}

/// The models edit_image offers: those that take input images.
pub fn edit_models() -> impl Iterator<Item = &'static str> {
    crate::models::MODELS
        .iter()
        .filter(|spec| spec.inputs.is_some())
        .map(|spec| spec.name)
}

/// [`edit_models`] for messages and descriptions.
pub fn edit_model_names() -> String {
    edit_models().collect::<Vec<_>>().join(", ")
}

/// Makes every input fit `spec` and stores what is new, returning the inputs as jobs list them
/// and the keys stored (to delete if the jobs are not created). Inputs larger than the model
/// takes are scaled down, WebP becomes PNG (the models document PNG and JPEG), both through the
/// Images binding; data URLs and converted copies are stored as `input-<uuid>.<ext>`.
pub async fn prepare(
    ctx: &impl Context,
    maker: Maker,
    loaded: Vec<Loaded>,
) -> Result<(Vec<JobInput>, Vec<String>), ServiceError> {
    let max_side = match maker {
        Maker::Model(model) => model.spec().inputs.map_or(u32::MAX, |rule| rule.max_side),
        // The Images binding takes any size the inputs' own checks let through.
        Maker::Operation(_) => u32::MAX,
    };
    let name = maker.name();
    let public_base = ctx.config().public_image_base_url.as_deref();
    let mut inputs = Vec::with_capacity(loaded.len());
    let mut stored = Vec::new();
    let bucket = crate::bindings::bucket(ctx.env()).map_err(|e| ServiceError::Storage(e.source))?;
    let result: Result<(), ServiceError> = async {
        for input in loaded {
            let too_big = input.width.max(input.height) > max_side;
            let mut note = Vec::new();
            if too_big {
                note.push(format!(
                    "scaled down from {}x{} to fit {name}'s {max_side}x{max_side} input limit",
                    input.width, input.height
                ));
            }
            if input.format == ImageFormat::Webp {
                note.push(format!("converted from WebP to PNG for {name}"));
            }
            let (bytes, format, url) = if note.is_empty() {
                (input.bytes, input.format, input.stored_url)
            } else {
                let converted = fit(ctx.env(), &input.bytes, max_side, ImageFormat::Png)
                    .await
                    .map_err(|error| conversion_refused(&input, name, max_side, error))?;
                (converted, ImageFormat::Png, None)
            };
            let (width, height) = dimensions(&bytes, format).unwrap_or((input.width, input.height));
            let url = match url {
                Some(url) => url,
                None => {
                    let key = format!("{INPUT_KEY_PREFIX}{}.{}", uuid::Uuid::new_v4(), format.extension());
                    let metadata = [("inputOf".to_string(), input.source.clone())].into_iter().collect();
                    put_image(&bucket, &key, bytes, format, metadata)
                        .await
                        .map_err(ServiceError::Storage)?;
                    let url = stored_image_url(&key, public_base);
                    stored.push(key);
                    url
                }
            };
            inputs.push(JobInput {
                role: input.role,
                source: input.source,
                url,
                format: format.content_type().trim_start_matches("image/").to_string(),
                width,
                height,
                note: (!note.is_empty()).then(|| note.join("; ")),
            });
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok((inputs, stored)),
        Err(error) => {
            discard(ctx, &stored).await;
            Err(error)
        }
    }
}

fn conversion_refused(input: &Loaded, name: &str, max_side: u32, error: ImagesError) -> ServiceError {
    let limit = if max_side == u32::MAX {
        String::new()
    } else {
        format!(" of at most {max_side}x{max_side}")
    };
    refuse(
        &input.argument,
        format_args!(
            "{name} takes PNG or JPEG inputs{limit}; this {} is {}x{} and converting it failed: {error}",
            input.format.content_type(),
            input.width,
            input.height
        ),
    )
}

/// Stores what the inputs need, then records and queues the jobs with their inputs listed
/// (edit_image and generate_variations); returns the job ids.
pub async fn start_jobs_with_inputs(
    ctx: &impl Context,
    prompt: &str,
    model: Maker,
    mut jobs: Vec<NewJob>,
    loaded: Vec<Loaded>,
) -> Result<Vec<String>, ServiceError> {
    let mut stored_inputs = Vec::new();
    if !loaded.is_empty() {
        let (inputs, stored) = prepare(ctx, model, loaded).await?;
        stored_inputs = stored;
        let listed = serde_json::to_string(&inputs).ok();
        for job in &mut jobs {
            job.inputs.clone_from(&listed);
        }
    }
    let batch = Batch {
        prompt,
        model,
        jobs,
        stored_inputs,
    };
    start_jobs(ctx, batch).await
}

/// Deletes inputs stored for jobs that were never created (logged, never fatal).
pub async fn discard(ctx: &impl Context, keys: &[String]) {
    if keys.is_empty() {
        return;
    }
    let deleted = match crate::bindings::bucket(ctx.env()) {
        Ok(bucket) => bucket.delete_multiple(keys.to_vec()).await,
        Err(error) => Err(error.into()),
    };
    if let Err(error) = deleted {
        worker::console_error!("could not delete {} unused input image(s): {error}", keys.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://img.example.workers.dev";
    const ID: &str = "0b7c6a1e-1f2d-4e3c-9a8b-7c6d5e4f3a2b";
    const KEY: &str = "1767000000000-a-fox-0b7c6a1e-1f2d-4e3c-9a8b-7c6d5e4f3a2b.png";

    fn parse(text: &str) -> Result<Reference<'_>, String> {
        parse_reference(text, ORIGIN, Some("https://cdn.example.com/img"))
    }

    #[test]
    fn job_ids_urls_of_this_server_and_data_urls_are_references() {
        assert_eq!(parse(ID), Ok(Reference::Job(ID)));
        assert_eq!(parse(&format!("{ORIGIN}/images/{KEY}")), Ok(Reference::Stored(KEY)));
        assert_eq!(parse(&format!("/images/{KEY}")), Ok(Reference::Stored(KEY)));
        assert_eq!(
            parse(&format!("https://cdn.example.com/img/{KEY}")),
            Ok(Reference::Stored(KEY))
        );
        assert_eq!(parse("/images/input-x.webp"), Ok(Reference::Stored("input-x.webp")));
        assert_eq!(parse("data:image/png;base64,iVBO"), Ok(Reference::Data("iVBO")));
        assert_eq!(parse("data:image/webp;base64,"), Ok(Reference::Data("")));
    }

    #[test]
    fn other_hosts_schemes_and_look_alikes_are_refused_and_say_why() {
        for text in [
            "https://example.com/x.png",
            "http://img.example.workers.dev/images/a.png",
            "https://img.example.workers.dev.evil.com/images/a.png",
            "https://img.example.workers.dev@evil.com/images/a.png",
            "https://cdn.example.com/imgx/a.png",
            "ftp://img.example.workers.dev/images/a.png",
            "file:///etc/passwd",
            "/images/../secrets.png",
            "/images/a.png?x=1",
            "/gallery",
            "0B7C6A1E-1F2D-4E3C-9A8B-7C6D5E4F3A2B",
            "0b7c6a1e-1f2d-4e3c-9a8b-7c6d5e4f3a2",
            "a red fox",
            "",
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains("never fetches other URLs"), "{text}: {error}");
        }
        let error = parse("data:text/html;base64,PGI+").unwrap_err();
        assert!(error.contains("data:image/png;base64"), "{error}");
        let error = parse("data:image/png,rawbytes").unwrap_err();
        assert!(error.contains("(got data:image/png)"), "{error}");
    }

    /// A URL under an earlier PUBLIC_IMAGE_BASE_URL is, to a caller's reference, just another
    /// host: refused (the job id still works, as `from_job` reads the row's URL under any base).
    #[test]
    fn urls_under_an_earlier_base_are_foreign_references() {
        for text in [
            format!("https://old-cdn.example/images-a/{KEY}"),
            format!("https://cdn.example.com/{KEY}"),
        ] {
            let error = parse(&text).unwrap_err();
            assert!(error.contains("never fetches other URLs"), "{text}: {error}");
        }
        let old = format!("https://old-cdn.example/images-a/{KEY}");
        assert!(parse_reference(&old, ORIGIN, None).is_err(), "{old} with no base set");
    }

    #[test]
    fn a_long_refused_reference_is_not_echoed_whole() {
        let long = format!("https://example.com/{}", "a".repeat(5_000));
        let error = parse(&long).unwrap_err();
        assert!(error.len() < 600, "{}", error.len());
    }

    /// A PNG signature and IHDR chunk declaring `width`x`height` (no pixel data follows).
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        bytes.extend(width.to_be_bytes());
        bytes.extend(height.to_be_bytes());
        bytes.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
        bytes.resize(40 * 1024, 0);
        bytes
    }

    #[test]
    fn a_header_declaring_too_many_pixels_is_refused_before_any_conversion() {
        let refusal = |w, h| {
            checked(
                "images[0]".into(),
                InputRole::Image,
                "data URL".into(),
                png_header(w, h),
                None,
            )
            .err()
            .map(|e| e.to_string())
        };
        let huge = refusal(30_000, 30_000).expect("30000x30000 is refused");
        assert!(
            huge.contains("images[0]") && huge.contains("declares 30000x30000 pixels") && huge.contains("100000000"),
            "{huge}"
        );
        assert!(refusal(12_001, 10).is_some(), "one side over the limit");
        assert!(refusal(10_001, 10_000).is_some(), "over 100 MP in all");
        assert!(refusal(10_000, 10_000).is_none(), "exactly 100 MP");
        assert!(refusal(12_000, 8_000).is_none(), "96 MP");
        assert!(refusal(512, 512).is_none());
    }

    #[test]
    fn uploads_are_checked_like_data_urls_and_stored_as_new_inputs() {
        let loaded = uploaded("image".into(), InputRole::Image, png_header(640, 480))
            .ok()
            .unwrap();
        assert_eq!(
            (loaded.width, loaded.height, loaded.format),
            (640, 480, ImageFormat::Png)
        );
        assert_eq!(loaded.source, format!("upload ({} bytes)", 40 * 1024));
        assert!(loaded.stored_url.is_none(), "stored as input-… when the jobs start");
        let junk = uploaded("image[1]".into(), InputRole::Image, b"GIF89a....".to_vec())
            .err()
            .unwrap();
        assert_eq!(
            junk.to_string(),
            "image[1]: the bytes are not a PNG, JPEG or WebP image"
        );
        let mut huge = png_header(64, 64);
        huge.resize(INPUT_IMAGE_MAX_BYTES + 1, 0);
        let refused = uploaded("mask".into(), InputRole::Mask, huge)
            .err()
            .unwrap()
            .to_string();
        assert!(refused.starts_with("mask: the file holds 10485761 bytes"), "{refused}");
    }

    #[test]
    fn data_payloads_are_decoded_within_the_limit() {
        let png = crate::media::base64_encode(b"\x89PNG\r\n\x1a\nrest");
        assert_eq!(decode_data(&png).unwrap(), b"\x89PNG\r\n\x1a\nrest");
        assert!(decode_data("***").unwrap_err().contains("unreadable"));
        let limit_payload = "A".repeat(INPUT_IMAGE_MAX_BYTES.div_ceil(3) * 4 + 4);
        assert!(decode_data(&limit_payload).unwrap_err().contains("at most 10485760"));
        // Just over the limit once decoded, though the text is within the length check.
        let over = crate::media::base64_encode(&vec![0u8; INPUT_IMAGE_MAX_BYTES + 1]);
        assert!(over.len() <= INPUT_IMAGE_MAX_BYTES.div_ceil(3) * 4 + 4);
        let error = decode_data(&over).unwrap_err();
        assert!(error.contains("10 MiB"), "{error}");
        let exact = crate::media::base64_encode(&vec![0u8; INPUT_IMAGE_MAX_BYTES]);
        assert_eq!(decode_data(&exact).unwrap().len(), INPUT_IMAGE_MAX_BYTES);
    }
}
