//! The three image requests, read from a JSON body (generations) or a form (edits, variations)
//! into typed values, refusing what OpenAI's API would refuse with the field it is about.
//!
//! Fields follow https://platform.openai.com/docs/api-reference/images. `model` is one of our
//! models or an OpenAI name (`models::OPENAI_ALIASES`); `size` is `WxH` within the model's rules
//! or `auto`; `quality`, `style`, `user`, `background`, `moderation`, `output_format`,
//! `output_compression`, `input_fidelity` and `partial_images` are accepted and ignored (the
//! models have no such settings); `stream` must be false. Any other field is refused, as OpenAI does.

use serde_json::{Map, Value};

use super::error::ApiError;
use super::multipart::Part;
use crate::catalog::IntLimit;
use crate::catalog::{
    EDIT_IMAGES_MAX, OPENAI_DEFAULT_MODEL, OPENAI_IMAGES_N, OPENAI_VARIATION_PROMPT, PROMPT_MAX_CHARS,
    PROMPT_MIN_CHARS, VARIATIONS,
};
use crate::models::{edit_default, names, openai_alias, variation_fallback, ImageModel};

/// How the images come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    /// `data[].url`: the image's URL on this server (or the public bucket).
    Url,
    /// `data[].b64_json`: the image's bytes, base64.
    B64Json,
}

/// What every request shares once read.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub model: ImageModel,
    pub n: usize,
    /// None: the model's default size.
    pub size: Option<(i64, i64)>,
    pub response_format: ResponseFormat,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    pub prompt: String,
    pub output: Output,
}

/// An image given to an edit or a variation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Image {
    /// An uploaded file's bytes.
    File(Vec<u8>),
    /// A text field: a reference as edit_image takes it (job id, this server's image URL, data URL).
    Reference(String),
}

/// An image and the field it came in (`image`, `image[1]`, `mask`), for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    pub field: String,
    pub image: Image,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EditRequest {
    pub prompt: String,
    pub images: Vec<Given>,
    pub mask: Option<Given>,
    pub output: Output,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VariationRequest {
    pub prompt: String,
    pub image: Given,
    pub output: Output,
}

/// OpenAI's fields this server takes and ignores, per endpoint (besides the ones it reads).
const IGNORED_GENERATION: &[&str] = &[
    "quality",
    "style",
    "user",
    "background",
    "moderation",
    "output_format",
    "output_compression",
    "partial_images",
];
const IGNORED_EDIT: &[&str] = &[
    "quality",
    "user",
    "background",
    "input_fidelity",
    "output_format",
    "output_compression",
    "partial_images",
];
const IGNORED_VARIATION: &[&str] = &["user"];

/// `POST /v1/images/generations`: a JSON object.
pub fn generation(body: &[u8]) -> Result<GenerationRequest, ApiError> {
    let fields = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) => return Err(ApiError::bad_request("The request body must be a JSON object.")),
        Err(error) => {
            return Err(ApiError::bad_request(format!(
                "We could not parse the JSON body of your request: {error}"
            )))
        }
    };
    let read = ["prompt", "model", "n", "size", "response_format", "stream"];
    known_fields(&fields, &read, IGNORED_GENERATION)?;
    check_ignored(&fields, IGNORED_GENERATION)?;
    no_stream(&fields)?;
    let prompt = prompt(&fields)?;
    let (model, alias) = text_model(&fields)?;
    let output = output(&fields, model, alias, OPENAI_IMAGES_N)?;
    Ok(GenerationRequest { prompt, output })
}

/// `POST /v1/images/edits`: a form with `image` (or `image[]`, up to EDIT_IMAGES_MAX), an optional
/// `mask` and `prompt`.
pub fn edit(parts: Vec<Part>) -> Result<EditRequest, ApiError> {
    let (fields, mut images, mask) = split_form(parts)?;
    let read = ["prompt", "model", "n", "size", "response_format", "stream"];
    known_fields(&fields, &read, IGNORED_EDIT)?;
    check_ignored(&fields, IGNORED_EDIT)?;
    no_stream(&fields)?;
    if images.is_empty() {
        return Err(ApiError::missing("image"));
    }
    if images.len() > EDIT_IMAGES_MAX {
        return Err(ApiError::invalid(
            "image",
            "too_many_images",
            format!("At most {EDIT_IMAGES_MAX} images may be given; got {}.", images.len()),
        ));
    }
    if images.len() > 1 {
        for (i, given) in images.iter_mut().enumerate() {
            given.field = format!("image[{i}]");
        }
    }
    let prompt = prompt(&fields)?;
    // An OpenAI name, or none: the inputs decide, as edit_image does without a model.
    let model = match optional_text(&fields, "model")? {
        Some(name) if openai_alias(name).is_none() => image_model(name)?,
        _ => edit_default(images.len(), mask.is_some()),
    };
    let alias = optional_text(&fields, "model")?.filter(|name| openai_alias(name).is_some());
    let output = output(&fields, model, alias, OPENAI_IMAGES_N)?;
    Ok(EditRequest {
        prompt,
        images,
        mask,
        output,
    })
}

/// `POST /v1/images/variations`: a form with one `image`; `n` within generate_variations' range.
pub fn variation(parts: Vec<Part>) -> Result<VariationRequest, ApiError> {
    let (fields, mut images, mask) = split_form(parts)?;
    // `prompt` is ours: OpenAI's variations have none.
    let read = ["model", "n", "size", "response_format", "prompt"];
    known_fields(&fields, &read, IGNORED_VARIATION)?;
    check_ignored(&fields, IGNORED_VARIATION)?;
    if mask.is_some() {
        return Err(unknown_field("mask"));
    }
    let image = match images.len() {
        0 => return Err(ApiError::missing("image")),
        1 => images.remove(0),
        n => {
            return Err(ApiError::invalid(
                "image",
                "too_many_images",
                format!("A variation takes one image; got {n}."),
            ))
        }
    };
    let prompt = match fields.get("prompt") {
        Some(_) => prompt(&fields)?,
        None => OPENAI_VARIATION_PROMPT.to_string(),
    };
    let model = match optional_text(&fields, "model")? {
        Some(name) if openai_alias(name).is_none() => image_model(name)?,
        _ => variation_fallback(),
    };
    let alias = optional_text(&fields, "model")?.filter(|name| openai_alias(name).is_some());
    let limit = IntLimit {
        default: OPENAI_IMAGES_N.default,
        ..VARIATIONS
    };
    let output = output(&fields, model, alias, limit)?;
    Ok(VariationRequest { prompt, image, output })
}

/// A form's text fields (as JSON strings) and its images: files and text references named
/// `image`, `image[]` or `image[N]`, and `mask`.
type Form = (Map<String, Value>, Vec<Given>, Option<Given>);

fn split_form(parts: Vec<Part>) -> Result<Form, ApiError> {
    let mut fields = Map::new();
    let mut images = Vec::new();
    let mut mask = None;
    for part in parts {
        let image = match part.file_name {
            Some(_) => Image::File(part.bytes),
            None => match String::from_utf8(part.bytes) {
                Ok(text) => Image::Reference(text),
                Err(_) => {
                    return Err(ApiError::invalid(
                        &part.name,
                        "invalid_value",
                        format!("The field '{}' is not UTF-8 text.", crate::catalog::echo(&part.name)),
                    ))
                }
            },
        };
        let name = part.name;
        if is_image_field(&name) {
            images.push(Given {
                field: "image".to_string(),
                image,
            });
        } else if name == "mask" {
            if mask.is_some() {
                return Err(ApiError::invalid(
                    "mask",
                    "invalid_value",
                    "Only one mask may be given.",
                ));
            }
            mask = Some(Given { field: name, image });
        } else {
            match image {
                Image::Reference(text) => {
                    if fields.insert(name.clone(), Value::String(text)).is_some() {
                        return Err(ApiError::invalid(
                            &name,
                            "invalid_value",
                            format!("The field '{}' is given twice.", crate::catalog::echo(&name)),
                        ));
                    }
                }
                Image::File(_) => {
                    return Err(ApiError::invalid(
                        &name,
                        "invalid_value",
                        format!("The field '{}' must be text, not a file.", crate::catalog::echo(&name)),
                    ))
                }
            }
        }
    }
    Ok((fields, images, mask))
}

/// `image`, `image[]` and `image[N]` (how the SDKs name one file and a list of them).
fn is_image_field(name: &str) -> bool {
    match name.strip_prefix("image") {
        Some("") | Some("[]") => true,
        Some(rest) => rest
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .is_some_and(|index| !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

fn unknown_field(name: &str) -> ApiError {
    ApiError::invalid(
        name,
        "unknown_parameter",
        format!("Unrecognized request argument supplied: {}", crate::catalog::echo(name)),
    )
}

fn known_fields(fields: &Map<String, Value>, read: &[&str], ignored: &[&str]) -> Result<(), ApiError> {
    match fields
        .keys()
        .find(|name| !read.contains(&name.as_str()) && !ignored.contains(&name.as_str()))
    {
        Some(name) => Err(unknown_field(name)),
        None => Ok(()),
    }
}

/// Ignored fields must still have a plausible type (text or a number), or be null.
fn check_ignored(fields: &Map<String, Value>, ignored: &[&str]) -> Result<(), ApiError> {
    for name in ignored {
        match fields.get(*name) {
            None | Some(Value::Null | Value::String(_) | Value::Number(_)) => {}
            Some(_) => {
                return Err(ApiError::invalid(
                    name,
                    "invalid_type",
                    format!("Invalid type for '{name}': expected a string or a number."),
                ))
            }
        }
    }
    Ok(())
}

fn no_stream(fields: &Map<String, Value>) -> Result<(), ApiError> {
    match fields.get("stream") {
        None | Some(Value::Null | Value::Bool(false)) => Ok(()),
        Some(Value::String(text)) if text == "false" => Ok(()),
        Some(_) => Err(ApiError::invalid(
            "stream",
            "unsupported_value",
            "Streaming is not supported by this server: leave 'stream' out or false.",
        )),
    }
}

/// A text field, if present and not null.
fn optional_text<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::invalid(
            name,
            "invalid_type",
            format!("Invalid type for '{name}': expected a string."),
        )),
    }
}

fn prompt(fields: &Map<String, Value>) -> Result<String, ApiError> {
    let text = optional_text(fields, "prompt")?.ok_or_else(|| ApiError::missing("prompt"))?;
    let length = text.encode_utf16().count();
    if length < PROMPT_MIN_CHARS || text.trim().is_empty() {
        return Err(ApiError::invalid(
            "prompt",
            "string_below_min_length",
            format!("Invalid 'prompt': string too short. Expected a string with minimum length {PROMPT_MIN_CHARS}, but got a string with length {length} instead."),
        ));
    }
    if length > PROMPT_MAX_CHARS {
        return Err(ApiError::invalid(
            "prompt",
            "string_above_max_length",
            format!("Invalid 'prompt': string too long. Expected a string with maximum length {PROMPT_MAX_CHARS}, but got a string with length {length} instead."),
        ));
    }
    Ok(text.to_string())
}

/// The model a generation runs, and the OpenAI name it was asked by (if it was).
fn text_model(fields: &Map<String, Value>) -> Result<(ImageModel, Option<&str>), ApiError> {
    let name = optional_text(fields, "model")?.unwrap_or(OPENAI_DEFAULT_MODEL);
    if let Some(model) = openai_alias(name) {
        return Ok((model, Some(name)));
    }
    match ImageModel::from_name(name) {
        Some(model) if model.draws_from_text() => Ok((model, None)),
        Some(_) => Err(ApiError::invalid(
            "model",
            "invalid_value",
            format!("The model '{name}' edits images and cannot generate from a prompt alone: use /v1/images/edits."),
        )),
        None => Err(unknown_model(name)),
    }
}

/// One of our models that takes input images (edits and variations).
fn image_model(name: &str) -> Result<ImageModel, ApiError> {
    match ImageModel::from_name(name) {
        Some(model) if model.spec().inputs.is_some() => Ok(model),
        Some(_) => Err(ApiError::invalid(
            "model",
            "invalid_value",
            format!(
                "The model '{name}' does not take input images. Models that do: {}.",
                names(|spec| spec.inputs.is_some())
            ),
        )),
        None => Err(unknown_model(name)),
    }
}

fn unknown_model(name: &str) -> ApiError {
    ApiError::invalid(
        "model",
        "model_not_found",
        format!(
            "The model '{}' does not exist. GET /v1/models lists the models: {}, and the OpenAI names {}.",
            crate::catalog::echo(name),
            names(|_| true),
            crate::models::OPENAI_ALIASES.map(|(alias, _)| alias).join(", ")
        ),
    )
}

fn output(
    fields: &Map<String, Value>,
    model: ImageModel,
    alias: Option<&str>,
    n_limit: IntLimit,
) -> Result<Output, ApiError> {
    let n = count(fields, n_limit)?;
    let size = size(fields, model)?;
    let response_format = match optional_text(fields, "response_format")? {
        Some("url") => ResponseFormat::Url,
        Some("b64_json") => ResponseFormat::B64Json,
        // As OpenAI: gpt-image-1 always answers with base64, the DALL·E models with URLs.
        None if alias == Some("gpt-image-1") => ResponseFormat::B64Json,
        None => ResponseFormat::Url,
        Some(other) => {
            return Err(ApiError::invalid(
                "response_format",
                "invalid_value",
                format!(
                    "Invalid value: '{}'. Supported values are: 'url' and 'b64_json'.",
                    crate::catalog::echo(other)
                ),
            ))
        }
    };
    Ok(Output {
        model,
        n,
        size,
        response_format,
    })
}

/// `n`: a JSON integer, or a form field's digits.
fn count(fields: &Map<String, Value>, limit: IntLimit) -> Result<usize, ApiError> {
    let value = match fields.get("n") {
        None | Some(Value::Null) => return Ok(limit.default as usize),
        Some(Value::Number(number)) => number.as_i64(),
        Some(Value::String(text)) => text.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    let n =
        value.ok_or_else(|| ApiError::invalid("n", "invalid_type", "Invalid type for 'n': expected an integer."))?;
    let max = limit.max.unwrap_or(i64::MAX);
    if n < limit.min {
        return Err(ApiError::invalid(
            "n",
            "integer_below_min_value",
            format!(
                "Invalid 'n': integer below minimum value. Expected a value >= {}, but got {n} instead.",
                limit.min
            ),
        ));
    }
    if n > max {
        return Err(ApiError::invalid(
            "n",
            "integer_above_max_value",
            format!("Invalid 'n': integer above maximum value. Expected a value <= {max}, but got {n} instead."),
        ));
    }
    Ok(n as usize)
}

/// `size`: `auto` (or absent) for the model's default, else `WxH` the model takes.
fn size(fields: &Map<String, Value>, model: ImageModel) -> Result<Option<(i64, i64)>, ApiError> {
    let Some(text) = optional_text(fields, "size")?.filter(|text| *text != "auto") else {
        return Ok(None);
    };
    let parsed = text.split_once('x').and_then(|(w, h)| {
        let side = |s: &str| {
            (!s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i64>().ok())
                .flatten()
        };
        Some((side(w)?, side(h)?))
    });
    let spec = model.spec();
    let Some((width, height)) = parsed else {
        return Err(ApiError::invalid(
            "size",
            "invalid_value",
            format!(
                "Invalid size '{}': give WIDTHxHEIGHT in pixels (e.g. 1024x1024) or 'auto'.",
                crate::catalog::echo(text)
            ),
        ));
    };
    let Some(rule) = spec.size else {
        return Err(ApiError::invalid(
            "size",
            "invalid_value",
            format!(
                "The model {} makes images of one fixed size and takes no size: send 'auto' or leave size out, or use a model that takes one ({}).",
                spec.name,
                names(|spec| spec.size.is_some() && spec.model().draws_from_text())
            ),
        ));
    };
    rule.check(width, height).map_err(|problem| {
        ApiError::invalid(
            "size",
            "invalid_value",
            format!(
                "Invalid size {width}x{height} for {}: {problem}. It takes sides of {}-{} pixels, multiples of {}.",
                spec.name, rule.min, rule.max, rule.multiple_of
            ),
        )
    })?;
    Ok(Some((width, height)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn generate(value: Value) -> Result<GenerationRequest, ApiError> {
        generation(value.to_string().as_bytes())
    }

    fn param(error: ApiError) -> (u16, Option<String>, Option<&'static str>) {
        (error.status, error.param, error.code)
    }

    fn text(name: &str, value: &str) -> Part {
        Part {
            name: name.into(),
            file_name: None,
            bytes: value.as_bytes().to_vec(),
        }
    }

    fn file(name: &str, bytes: &[u8]) -> Part {
        Part {
            name: name.into(),
            file_name: Some("image.png".into()),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn a_bare_prompt_is_dall_e_2_one_url_at_the_default_size() {
        let request = generate(json!({"prompt": "a red fox"})).unwrap();
        assert_eq!(request.prompt, "a red fox");
        assert_eq!(
            request.output,
            Output {
                model: ImageModel::named("sdxl-lightning"),
                n: 1,
                size: None,
                response_format: ResponseFormat::Url
            }
        );
    }

    #[test]
    fn openai_names_our_names_sizes_and_formats_are_read() {
        let request = generate(
            json!({"prompt": "a red fox", "model": "dall-e-3", "n": 2, "size": "1792x1024",
            "response_format": "b64_json", "quality": "hd", "style": "vivid", "user": "u-1"}),
        )
        .unwrap();
        assert_eq!(request.output.model, ImageModel::named("flux-2-dev"));
        assert_eq!((request.output.n, request.output.size), (2, Some((1792, 1024))));
        assert_eq!(request.output.response_format, ResponseFormat::B64Json);
        let gpt = generate(json!({"prompt": "a red fox", "model": "gpt-image-1", "size": "auto"})).unwrap();
        assert_eq!(
            gpt.output.response_format,
            ResponseFormat::B64Json,
            "gpt-image-1 answers in base64"
        );
        assert_eq!(gpt.output.size, None);
        let ours =
            generate(json!({"prompt": "a red fox", "model": "phoenix", "size": "512x768", "stream": false})).unwrap();
        assert_eq!(
            (ours.output.model, ours.output.size, ours.output.response_format),
            (ImageModel::named("phoenix"), Some((512, 768)), ResponseFormat::Url)
        );
    }

    #[test]
    fn refusals_name_the_field_like_openai() {
        let cases = [
            (json!({"model": "dall-e-2"}), "prompt", "missing_required_parameter"),
            (json!({"prompt": "ab"}), "prompt", "string_below_min_length"),
            (json!({"prompt": "a".repeat(1001)}), "prompt", "string_above_max_length"),
            (json!({"prompt": 7}), "prompt", "invalid_type"),
            (
                json!({"prompt": "a red fox", "model": "dall-e-4"}),
                "model",
                "model_not_found",
            ),
            (
                json!({"prompt": "a red fox", "model": "sd-v1-5-inpainting"}),
                "model",
                "invalid_value",
            ),
            (json!({"prompt": "a red fox", "n": 11}), "n", "integer_above_max_value"),
            (json!({"prompt": "a red fox", "n": 0}), "n", "integer_below_min_value"),
            (json!({"prompt": "a red fox", "n": 1.5}), "n", "invalid_type"),
            (
                json!({"prompt": "a red fox", "size": "100x100"}),
                "size",
                "invalid_value",
            ),
            (
                json!({"prompt": "a red fox", "size": "1024x1025"}),
                "size",
                "invalid_value",
            ),
            (json!({"prompt": "a red fox", "size": "big"}), "size", "invalid_value"),
            (
                json!({"prompt": "a red fox", "model": "flux-schnell", "size": "1024x1024"}),
                "size",
                "invalid_value",
            ),
            (
                json!({"prompt": "a red fox", "response_format": "png"}),
                "response_format",
                "invalid_value",
            ),
            (
                json!({"prompt": "a red fox", "stream": true}),
                "stream",
                "unsupported_value",
            ),
            (
                json!({"prompt": "a red fox", "colour": "red"}),
                "colour",
                "unknown_parameter",
            ),
            (
                json!({"prompt": "a red fox", "quality": {"x": 1}}),
                "quality",
                "invalid_type",
            ),
        ];
        for (body, field, code) in cases {
            let refused = generate(body.clone()).unwrap_err();
            assert_eq!(
                param(refused.clone()),
                (400, Some(field.to_string()), Some(code)),
                "{body}: {}",
                refused.message
            );
        }
        let size = generate(json!({"prompt": "a red fox", "size": "100x100"}))
            .unwrap_err()
            .message;
        assert_eq!(
            size,
            "Invalid size 100x100 for sdxl-lightning: width must be between 256 and 2048 (got 100). It takes sides of 256-2048 pixels, multiples of 8."
        );
        let fixed = generate(json!({"prompt": "a red fox", "model": "flux-schnell", "size": "1024x1024"}))
            .unwrap_err()
            .message;
        assert!(
            fixed.starts_with("The model flux-schnell makes images of one fixed size"),
            "{fixed}"
        );
        let unknown = generate(json!({"prompt": "a red fox", "model": "dall-e-4"}))
            .unwrap_err()
            .message;
        assert!(
            unknown.contains("'dall-e-4' does not exist") && unknown.contains("gpt-image-1"),
            "{unknown}"
        );
        for body in ["", "[1]", "{\"prompt\":"] {
            let refused = generation(body.as_bytes()).unwrap_err();
            assert_eq!((refused.status, refused.param), (400, None), "{body:?}");
        }
        // flux-schnell without a size is fine.
        assert!(generate(json!({"prompt": "a red fox", "model": "flux-schnell", "size": "auto"})).is_ok());
    }

    #[test]
    fn an_edit_takes_files_references_and_a_mask_and_picks_the_model_by_its_inputs() {
        let request = edit(vec![
            file("image", b"png-bytes"),
            file("mask", b"mask-bytes"),
            text("prompt", "same but at night"),
            text("n", "2"),
            text("size", "512x512"),
            text("model", "dall-e-2"),
        ])
        .unwrap();
        assert_eq!(request.output.model, ImageModel::named("sd-v1-5-inpainting"));
        assert_eq!((request.output.n, request.output.size), (2, Some((512, 512))));
        assert_eq!(
            request.images,
            vec![Given {
                field: "image".into(),
                image: Image::File(b"png-bytes".to_vec())
            }]
        );
        assert_eq!(request.mask.unwrap().image, Image::File(b"mask-bytes".to_vec()));
        let several = edit(vec![
            file("image[]", b"a"),
            text("image[]", "0b7c6a1e-1f2d-4e3c-9a8b-7c6d5e4f3a2b"),
            text("prompt", "both together"),
        ])
        .unwrap();
        assert_eq!(several.output.model, ImageModel::named("flux-2-klein-4b"));
        assert_eq!(several.images[0].field, "image[0]");
        assert_eq!(
            several.images[1],
            Given {
                field: "image[1]".into(),
                image: Image::Reference("0b7c6a1e-1f2d-4e3c-9a8b-7c6d5e4f3a2b".into())
            }
        );
        let one = edit(vec![file("image", b"a"), text("prompt", "same but at night")]).unwrap();
        assert_eq!(one.output.model, ImageModel::named("sd-v1-5-img2img"));
        let named = edit(vec![
            file("image", b"a"),
            text("prompt", "at night"),
            text("model", "flux-2-dev"),
        ])
        .unwrap();
        assert_eq!(named.output.model, ImageModel::named("flux-2-dev"));
    }

    #[test]
    fn edit_refusals_name_the_field() {
        let base = || vec![file("image", b"a"), text("prompt", "at night")];
        let with = |extra: Vec<Part>| {
            let mut parts = base();
            parts.extend(extra);
            edit(parts).unwrap_err()
        };
        assert_eq!(
            param(edit(vec![text("prompt", "at night")]).unwrap_err()).1.as_deref(),
            Some("image")
        );
        assert_eq!(
            param(edit(vec![file("image", b"a")]).unwrap_err()).2,
            Some("missing_required_parameter")
        );
        let five = (0..5)
            .map(|_| file("image[]", b"a"))
            .chain([text("prompt", "at night")])
            .collect();
        assert_eq!(param(edit(five).unwrap_err()).2, Some("too_many_images"));
        assert_eq!(
            param(with(vec![text("model", "sdxl-base")])).1.as_deref(),
            Some("model")
        );
        assert_eq!(param(with(vec![text("model", "nope")])).2, Some("model_not_found"));
        assert_eq!(param(with(vec![text("n", "11")])).2, Some("integer_above_max_value"));
        assert_eq!(param(with(vec![text("n", "two")])).2, Some("invalid_type"));
        assert_eq!(
            param(with(vec![file("mask", b"m"), file("mask", b"m")])).1.as_deref(),
            Some("mask")
        );
        assert_eq!(
            param(with(vec![text("prompt", "again")])).2,
            Some("invalid_value"),
            "a field given twice"
        );
        assert_eq!(
            param(with(vec![file("n", b"2")])).1.as_deref(),
            Some("n"),
            "a file for a text field"
        );
        assert_eq!(param(with(vec![text("stream", "true")])).1.as_deref(), Some("stream"));
        assert_eq!(
            param(with(vec![text("style", "vivid")])).2,
            Some("unknown_parameter"),
            "no style on edits"
        );
    }

    #[test]
    fn a_variation_is_one_image_up_to_eight_through_the_fallback_model() {
        let request = variation(vec![
            file("image", b"a"),
            text("n", "8"),
            text("response_format", "b64_json"),
        ])
        .unwrap();
        assert_eq!(request.output.model, ImageModel::named("sd-v1-5-img2img"));
        assert_eq!(
            (request.output.n, request.output.response_format),
            (8, ResponseFormat::B64Json)
        );
        assert_eq!(request.prompt, OPENAI_VARIATION_PROMPT);
        let default = variation(vec![file("image", b"a"), text("model", "dall-e-2")]).unwrap();
        assert_eq!(default.output.n, 1, "OpenAI's default n");
        let nine = variation(vec![file("image", b"a"), text("n", "9")]).unwrap_err();
        assert_eq!(
            param(nine.clone()),
            (400, Some("n".into()), Some("integer_above_max_value"))
        );
        assert!(nine.message.contains("<= 8"), "{}", nine.message);
        let prompted = variation(vec![file("image", b"a"), text("prompt", "in autumn")]).unwrap();
        assert_eq!(prompted.prompt, "in autumn");
        assert_eq!(
            param(variation(vec![]).unwrap_err()).2,
            Some("missing_required_parameter")
        );
        assert_eq!(
            param(variation(vec![file("image", b"a"), file("image[]", b"b")]).unwrap_err()).2,
            Some("too_many_images")
        );
        assert_eq!(
            param(variation(vec![file("image", b"a"), file("mask", b"b")]).unwrap_err()).2,
            Some("unknown_parameter")
        );
    }

    #[test]
    fn image_field_names_are_the_sdks_spellings() {
        for name in ["image", "image[]", "image[0]", "image[12]"] {
            assert!(is_image_field(name), "{name}");
        }
        for name in ["images", "image[", "image[x]", "image[]]", "mask", "image[-1]"] {
            assert!(!is_image_field(name), "{name}");
        }
    }

    mod properties {
        use super::*;
        use crate::models::{Controls, MODELS, OPENAI_ALIASES};
        use proptest::prelude::*;

        fn model_names() -> Vec<&'static str> {
            MODELS
                .iter()
                .map(|spec| spec.name)
                .chain(OPENAI_ALIASES.iter().map(|(alias, _)| *alias))
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 3_000, ..ProptestConfig::default() })]

            /// Any bytes: read or refused with a 400 and a short message, never a panic.
            #[test]
            fn any_body_is_read_or_refused_briefly(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
                if let Err(error) = generation(&bytes) {
                    prop_assert_eq!(error.status, 400);
                    prop_assert!(error.message.len() < 600, "{}", error.message);
                }
            }

            /// A size is accepted exactly when the model's own planning takes it: what the API
            /// lets through never fails later, and what it refuses the model would refuse.
            #[test]
            fn sizes_are_accepted_exactly_when_the_model_takes_them(
                model in proptest::sample::select(model_names()),
                width in 0i64..3000,
                height in 0i64..3000,
            ) {
                let body = json!({"prompt": "a red fox", "model": model, "size": format!("{width}x{height}")});
                let planned = |model: ImageModel| {
                    let controls = Controls { width: Some(width), height: Some(height), ..Controls::default() };
                    model.spec().plan(&controls, 7).is_ok()
                };
                match generate(body) {
                    Ok(request) => {
                        prop_assert_eq!(request.output.size, Some((width, height)));
                        prop_assert!(planned(request.output.model), "{} {}x{}", model, width, height);
                    }
                    Err(error) if error.param.as_deref() == Some("size") => {
                        let resolved = openai_alias(model).or_else(|| ImageModel::from_name(model)).unwrap();
                        prop_assert!(!planned(resolved), "{} {}x{}: {}", model, width, height, error.message);
                    }
                    Err(error) => prop_assert_eq!(error.param.as_deref(), Some("model"), "{}", error.message),
                }
            }

            /// Forms of arbitrary bytes: parts or a malformed-body error, never a panic.
            #[test]
            fn any_form_body_is_split_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
                let _ = crate::openai::multipart::parts(bytes, "b0undary");
            }
        }
    }
}
