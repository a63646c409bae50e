//! Image backends: the Workers AI binding (production) and the offline preview renderer.
//!
//! Inputs are encoded the way each model takes them (JSON, or multipart for FLUX.2). Workers AI
//! answers in two shapes: `{image: <base64>}` (FLUX, Lucid Origin) or a stream of image bytes
//! (Phoenix, the Stable Diffusion models). Both become checked image bytes here.

use futures::StreamExt;
use worker::js_sys::{self, JsString, Object, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::web_sys::{self, FormData, ReadableStream};
use worker::{ByteStream, Env};

use super::preview::{render_preview_png, SizeError};
use crate::catalog::PREVIEW_SIDE;
use crate::config::ImageBackend;
use crate::media::{base64_encode, check_image, decode_base64_image, ImageError, ImageFormat};
use crate::models::{ImageModel, InputEncoding};
use serde_json::{Map, Value};

/// Why an image could not be generated in this attempt.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("Workers AI binding unavailable: {0}")]
    Binding(#[source] worker::Error),
    #[error("{model} failed: {message}")]
    Model { model: &'static str, message: String },
    #[error("{model} did not answer within {seconds} s (AI_TIMEOUT_SECONDS); the attempt was abandoned")]
    Timeout { model: &'static str, seconds: u64 },
    #[error(transparent)]
    Output(#[from] ImageError),
    #[error(transparent)]
    PreviewSize(#[from] SizeError),
}

/// What one job asks of its model.
pub struct Request<'a> {
    pub model: ImageModel,
    pub prompt: &'a str,
    /// Every parameter besides the prompt, in the model's own input names (from the job row).
    pub parameters: &'a Map<String, Value>,
    /// Input images' bytes (edits and variations), in the order the job lists them.
    pub images: &'a [Vec<u8>],
    pub mask: Option<&'a [u8]>,
}

/// Generates one image with the configured backend; a Workers AI call (answer and bytes) that
/// takes longer than `timeout_seconds` is abandoned with [`GenerateError::Timeout`].
pub async fn generate(
    env: &Env,
    backend: ImageBackend,
    request: &Request<'_>,
    timeout_seconds: u64,
) -> Result<(Vec<u8>, ImageFormat), GenerateError> {
    match backend {
        ImageBackend::Preview => Ok(check_image(preview(request)?)?),
        ImageBackend::WorkersAi => {
            let call = run_workers_ai(env, request);
            let timer = crate::time::sleep_ms(timeout_seconds.saturating_mul(1000));
            futures::pin_mut!(call, timer);
            match futures::future::select(call, timer).await {
                futures::future::Either::Left((result, _)) => result,
                futures::future::Either::Right(_) => Err(GenerateError::Timeout {
                    model: request.model.spec().name,
                    seconds: timeout_seconds,
                }),
            }
        }
    }
}

async fn run_workers_ai(env: &Env, request: &Request<'_>) -> Result<(Vec<u8>, ImageFormat), GenerateError> {
    let ai = crate::bindings::ai(env).map_err(|e| GenerateError::Binding(e.source))?;
    let spec = request.model.spec();
    let model_error = |message: String| GenerateError::Model {
        model: spec.name,
        message,
    };
    let input = model_input(spec.input, request).map_err(|e| model_error(describe_js_error(&e)))?;
    let binding: &worker::worker_sys::Ai = ai.as_ref().unchecked_ref();
    let promise = binding.run(spec.workers_ai_id, input);
    let output = worker::wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| model_error(describe_js_error(&e)))?;
    let bytes = output_bytes(output).await.map_err(|e| match e {
        OutputError::Image(image) => GenerateError::Output(image),
        OutputError::Stream(message) => model_error(message),
    })?;
    Ok(check_image(bytes)?)
}

/// The offline preview at the size and seed the job would have sent to the model: the requested
/// size, else the model's default size (512² for a model with a fixed size), and seed 0 when the
/// model takes none.
fn preview(request: &Request<'_>) -> Result<Vec<u8>, GenerateError> {
    let number = |name: &str| request.parameters.get(name).and_then(Value::as_u64);
    let default = request
        .model
        .spec()
        .size
        .map_or((PREVIEW_SIDE.default as u32, PREVIEW_SIDE.default as u32), |rule| {
            (rule.default_width, rule.default_height)
        });
    let width = number("width").map_or(default.0, |w| w as u32);
    let height = number("height").map_or(default.1, |h| h as u32);
    let seed = number("seed").unwrap_or(0);
    Ok(render_preview_png(
        request.prompt,
        request.model.name(),
        width,
        height,
        seed,
    )?)
}

/// The binding's input: a plain JS object (a serde Map would arrive as an empty JS Map), or for
/// FLUX.2 `{multipart: {body, contentType}}` from a FormData serialised through a Response, which
/// is how the binding learns the form's boundary.
fn model_input(encoding: InputEncoding, request: &Request<'_>) -> Result<JsValue, JsValue> {
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    match encoding {
        InputEncoding::Json => {
            let input = Object::new();
            Reflect::set(&input, &"prompt".into(), &request.prompt.into())?;
            for (name, value) in request.parameters {
                let js = match value {
                    Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or_default()),
                    other => JsValue::from_str(&text(other)),
                };
                Reflect::set(&input, &name.as_str().into(), &js)?;
            }
            // The SD 1.5 editing models: the image as base64 (a third of the size of the byte
            // array JSON the binding would send otherwise); the mask has only the array form.
            if let Some(image) = request.images.first() {
                Reflect::set(&input, &"image_b64".into(), &base64_encode(image).into())?;
            }
            if let Some(mask) = request.mask {
                Reflect::set(&input, &"mask".into(), &js_sys::Array::from(&Uint8Array::from(mask)))?;
            }
            Ok(input.into())
        }
        InputEncoding::Multipart => {
            let form = FormData::new()?;
            form.append_with_str("prompt", request.prompt)?;
            for (name, value) in request.parameters {
                form.append_with_str(name, &text(value))?;
            }
            // FLUX.2 references: binary file parts named input_image_0 … input_image_3.
            for (i, image) in request.images.iter().enumerate() {
                let name = format!("input_image_{i}");
                let blob =
                    web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&Uint8Array::from(&image[..])))?;
                form.append_with_blob_and_filename(&name, &blob, &name)?;
            }
            let serialised = web_sys::Response::new_with_opt_form_data(Some(&form))?;
            let content_type = serialised.headers().get("content-type")?.unwrap_or_default();
            let multipart = Object::new();
            Reflect::set(
                &multipart,
                &"body".into(),
                &serialised.body().map_or(JsValue::NULL, JsValue::from),
            )?;
            Reflect::set(&multipart, &"contentType".into(), &content_type.into())?;
            let input = Object::new();
            Reflect::set(&input, &"multipart".into(), &multipart)?;
            Ok(input.into())
        }
    }
}

enum OutputError {
    Image(ImageError),
    Stream(String),
}

/// Reads the bytes out of whichever shape the model returned.
async fn output_bytes(output: JsValue) -> Result<Vec<u8>, OutputError> {
    if output.is_instance_of::<ReadableStream>() {
        let mut stream = ByteStream::from(ReadableStream::unchecked_from_js(output));
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.map_err(|e| OutputError::Stream(format!("reading the image stream: {e}")))?);
        }
        return Ok(bytes);
    }
    if let Some(array) = output.dyn_ref::<Uint8Array>() {
        return Ok(array.to_vec());
    }
    if let Some(buffer) = output.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(Uint8Array::new(buffer).to_vec());
    }
    if output.is_object() {
        let image = Reflect::get(&output, &JsValue::from_str("image")).unwrap_or(JsValue::UNDEFINED);
        return match image.dyn_ref::<JsString>() {
            Some(encoded) => decode_base64_output(encoded).map_err(OutputError::Image),
            None => Err(OutputError::Image(ImageError::Missing(
                "expected {image: <base64>} or a byte stream, got an object without a string \"image\"".to_string(),
            ))),
        };
    }
    Err(OutputError::Image(ImageError::Missing(format!(
        "expected {{image: <base64>}} or a byte stream, got {}",
        output.js_typeof().as_string().unwrap_or_default()
    ))))
}

#[worker::wasm_bindgen::prelude::wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
extern "C" {
    /// `Uint8Array.fromBase64(text)`: the platform's base64 decoder (forgiving: ASCII whitespace
    /// and missing padding are accepted), reading a JS string where it is.
    #[wasm_bindgen(js_namespace = Uint8Array, js_name = fromBase64, catch)]
    fn platform_base64_decode(text: &JsString) -> Result<Uint8Array, JsValue>;
}

/// The bytes of a `{image: <base64>}` output. The platform decodes the text where it is, so the
/// text (a third larger than the image) is never copied into Wasm memory, which never shrinks:
/// the largest allocation of a job is then the image itself. Text the platform refuses, and an
/// empty result, go through [`decode_base64_image`], whose rules and messages decide what is
/// refused.
fn decode_base64_output(encoded: &JsString) -> Result<Vec<u8>, ImageError> {
    let marker = encoded.index_of(";base64,", 0);
    let payload = match marker >= 0 && encoded.starts_with("data:", 0) {
        true => encoded.slice(marker as u32 + 8, encoded.length()),
        false => encoded.clone(),
    };
    match platform_base64_decode(&payload) {
        Ok(bytes) if bytes.length() > 0 => Ok(bytes.to_vec()),
        _ => decode_base64_image(&String::from(encoded)),
    }
}

/// The message of a thrown JS value, without dumping whole objects into job rows.
fn describe_js_error(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| "unknown error".to_string())
}
