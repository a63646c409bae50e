//! Image backends: the Workers AI binding (production) and the offline preview renderer.
//!
//! Workers AI answers in two shapes: FLUX returns `{image: <base64 JPEG>}`, the SDXL models a
//! stream of PNG bytes. Both become checked image bytes here.

use futures::StreamExt;
use worker::js_sys::{self, Object, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::web_sys::ReadableStream;
use worker::{ByteStream, Env};

use super::image::{check_image, decode_base64_image, ImageError, ImageFormat};
use super::preview::render_default_preview_png;
use crate::catalog::ImageModel;
use crate::config::ImageBackend;

/// Why an image could not be generated in this attempt.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("Workers AI binding unavailable: {0}")]
    Binding(String),
    #[error("{model} failed: {message}")]
    Model { model: &'static str, message: String },
    #[error(transparent)]
    Output(#[from] ImageError),
}

/// Generates one image for `prompt` with the configured backend.
pub async fn generate(
    env: &Env,
    backend: ImageBackend,
    model: ImageModel,
    prompt: &str,
) -> Result<(Vec<u8>, ImageFormat), GenerateError> {
    match backend {
        ImageBackend::Preview => Ok(check_image(render_default_preview_png(prompt, model.name()))?),
        ImageBackend::WorkersAi => run_workers_ai(env, model, prompt).await,
    }
}

async fn run_workers_ai(env: &Env, model: ImageModel, prompt: &str) -> Result<(Vec<u8>, ImageFormat), GenerateError> {
    let ai = env.ai("AI").map_err(|e| GenerateError::Binding(e.to_string()))?;
    let model_error = |message: String| GenerateError::Model {
        model: model.name(),
        message,
    };
    // A plain object, so the binding sees {prompt} (a serde Map would arrive as an empty JS Map).
    let input = Object::new();
    Reflect::set(&input, &JsValue::from_str("prompt"), &JsValue::from_str(prompt))
        .map_err(|e| model_error(describe_js_error(&e)))?;
    let binding: &worker::worker_sys::Ai = ai.as_ref().unchecked_ref();
    let promise = binding.run(model.workers_ai_id(), input.into());
    let output = worker::wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| model_error(describe_js_error(&e)))?;
    let bytes = output_bytes(output).await.map_err(|e| match e {
        OutputError::Image(image) => GenerateError::Output(image),
        OutputError::Stream(message) => model_error(message),
    })?;
    Ok(check_image(bytes)?)
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
        return match image.as_string() {
            Some(encoded) => decode_base64_image(&encoded).map_err(OutputError::Image),
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

/// The message of a thrown JS value, without dumping whole objects into job rows.
fn describe_js_error(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| "unknown error".to_string())
}
