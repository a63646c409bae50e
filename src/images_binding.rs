//! The Cloudflare Images binding (`bindings::IMAGES`), the only place it is called: thumbnails of
//! finished images, input images scaled down or re-encoded for a model that cannot take them as
//! they are, and background removal (`segment: "foreground"`, declared by
//! `@cloudflare/workers-types`' `ImageTransform`; Miniflare runs only rotate and resize locally
//! and ignores it, so the e2e tests check the transform asked for through a recording wrapper).
//!
//! workers-rs has no typed Images binding, so three small `wasm_bindgen` externs describe the
//! calls used: `IMAGES.input(stream).transform({...}).output({...})`, then `.response()`.
//! Locally wrangler and Miniflare run the same binding with the npm package `sharp`.

use worker::js_sys::{Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{ReadableStream, Response};
use worker::Env;

use crate::bindings::IMAGES as IMAGES_BINDING;
use crate::catalog::{THUMBNAIL_MAX_SIDE, THUMBNAIL_WEBP_QUALITY};
use crate::media::{sniff, ImageFormat};

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
extern "C" {
    type ImagesBinding;
    #[wasm_bindgen(method, catch)]
    fn input(this: &ImagesBinding, stream: &ReadableStream) -> Result<ImageTransformer, JsValue>;

    type ImageTransformer;
    #[wasm_bindgen(method, catch)]
    fn transform(this: &ImageTransformer, options: &Object) -> Result<ImageTransformer, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn output(this: &ImageTransformer, options: &Object) -> Result<Promise, JsValue>;

    type ImageTransformationResult;
    #[wasm_bindgen(method, catch)]
    fn response(this: &ImageTransformationResult) -> Result<Response, JsValue>;
}

/// Why the binding did not give the image asked for.
#[derive(Debug, thiserror::Error)]
pub enum ImagesError {
    #[error("the {IMAGES_BINDING} binding (Cloudflare Images) is not configured")]
    NoBinding,
    #[error("the Images binding failed: {0}")]
    Binding(String),
    #[error("the Images binding returned {len} bytes that are not a {} image", .format.content_type())]
    WrongFormat { format: ImageFormat, len: usize },
}

/// `image` scaled down to fit THUMBNAIL_MAX_SIDE (never enlarged) and encoded as WebP. The job
/// completes without one if this fails; the consumer logs why.
///
/// Takes the image already in JS memory: the consumer hands the same array to the R2 put.
pub async fn make_thumbnail(env: &Env, image: &Uint8Array) -> Result<Vec<u8>, ImagesError> {
    fit_array(env, image, THUMBNAIL_MAX_SIDE, ImageFormat::Webp).await
}

/// `image` scaled down to fit `max_side` × `max_side` (never enlarged, aspect ratio kept) and
/// encoded as `format` (WebP at THUMBNAIL_WEBP_QUALITY).
pub async fn fit(env: &Env, image: &[u8], max_side: u32, format: ImageFormat) -> Result<Vec<u8>, ImagesError> {
    fit_array(env, &Uint8Array::from(image), max_side, format).await
}

async fn fit_array(env: &Env, image: &Uint8Array, max_side: u32, format: ImageFormat) -> Result<Vec<u8>, ImagesError> {
    let binding: ImagesBinding = crate::bindings::images(env)
        .ok_or(ImagesError::NoBinding)?
        .unchecked_into();
    let bytes = transform(&binding, image, max_side, format)
        .await
        .map_err(|e| ImagesError::Binding(describe(&e)))?;
    match sniff(&bytes) {
        Some(got) if got == format => Ok(bytes),
        _ => Err(ImagesError::WrongFormat {
            format,
            len: bytes.len(),
        }),
    }
}

/// `image` with its background made transparent: the subject kept by the binding's
/// `segment: "foreground"` transform, as a PNG (the format that keeps transparency).
pub async fn remove_background(env: &Env, image: &[u8]) -> Result<Vec<u8>, ImagesError> {
    let binding: ImagesBinding = crate::bindings::images(env)
        .ok_or(ImagesError::NoBinding)?
        .unchecked_into();
    let transform = options(&[("segment", "foreground".into())]).map_err(|e| ImagesError::Binding(describe(&e)))?;
    let output = options(&[("format", ImageFormat::Png.content_type().into())])
        .map_err(|e| ImagesError::Binding(describe(&e)))?;
    let bytes = run(&binding, &Uint8Array::from(image), &transform, &output)
        .await
        .map_err(|e| ImagesError::Binding(describe(&e)))?;
    match sniff(&bytes) {
        Some(ImageFormat::Png) => Ok(bytes),
        _ => Err(ImagesError::WrongFormat {
            format: ImageFormat::Png,
            len: bytes.len(),
        }),
    }
}

async fn transform(
    binding: &ImagesBinding,
    image: &Uint8Array,
    max_side: u32,
    format: ImageFormat,
) -> Result<Vec<u8>, JsValue> {
    let transform = options(&[
        ("width", max_side.into()),
        ("height", max_side.into()),
        ("fit", "scale-down".into()),
    ])?;
    let output = options(&[
        ("format", format.content_type().into()),
        ("quality", THUMBNAIL_WEBP_QUALITY.into()),
    ])?;
    run(binding, image, &transform, &output).await
}

/// `IMAGES.input(image).transform(transform).output(output)`, read to bytes.
async fn run(
    binding: &ImagesBinding,
    image: &Uint8Array,
    transform: &Object,
    output: &Object,
) -> Result<Vec<u8>, JsValue> {
    // A Response over the bytes is the simplest way to get the ReadableStream `input` takes.
    let source = Response::new_with_opt_buffer_source(Some(image))?;
    let stream = source
        .body()
        .ok_or_else(|| JsValue::from_str("could not stream the image to the binding"))?;
    let promise = binding.input(&stream)?.transform(transform)?.output(output)?;
    let result: ImageTransformationResult = JsFuture::from(promise).await?.unchecked_into();
    let response = result.response()?;
    if !response.ok() {
        return Err(JsValue::from_str(&format!("HTTP status {}", response.status())));
    }
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

fn options(pairs: &[(&str, JsValue)]) -> Result<Object, JsValue> {
    let object = Object::new();
    for (name, value) in pairs {
        Reflect::set(&object, &JsValue::from_str(name), value)?;
    }
    Ok(object)
}

/// A thrown value's message (never whole objects), cut short for the log.
fn describe(value: &JsValue) -> String {
    let message = match value.dyn_ref::<worker::js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => value.as_string().unwrap_or_else(|| "unknown error".to_string()),
    };
    crate::catalog::echo(&message)
}
