//! GET /images/<key>: serves generated images from R2 when no public bucket URL is configured.

use worker::{Env, Method, Request, Response};

use crate::urls::{key_from_image_path, IMMUTABLE_CACHE};

/// `path` is the request's path, already parsed by the router.
pub async fn serve(req: &Request, path: &str, env: &Env) -> worker::Result<Response> {
    let Some((key, format)) = key_from_image_path(path) else {
        return not_found();
    };
    let bucket = crate::bindings::bucket(env)?;
    let Some(object) = bucket.get(key).execute().await? else {
        return not_found();
    };
    let etag = object.http_etag();
    if req.headers().get("If-None-Match")?.is_some_and(|tag| tag == etag) {
        let mut response = Response::empty()?.with_status(304);
        response.headers_mut().set("ETag", &etag)?;
        return Ok(response);
    }
    let bytes = match object.body() {
        Some(body) if req.method() != Method::Head => body.bytes().await?,
        _ => Vec::new(),
    };
    let mut response = Response::from_bytes(bytes)?;
    let headers = response.headers_mut();
    // The format comes from the key we wrote, which came from the sniffed bytes.
    headers.set("Content-Type", format.content_type())?;
    headers.set("ETag", &etag)?;
    headers.set("Cache-Control", IMMUTABLE_CACHE)?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    Ok(response)
}

fn not_found() -> worker::Result<Response> {
    Ok(Response::from_json(&serde_json::json!({"error": "image not found"}))?.with_status(404))
}
