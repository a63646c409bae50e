//! Plain HTTP pages: the discovery page, the health check, the image route and the gallery.

pub mod gallery;
pub mod home;
pub mod images;

use serde::Serialize;
use worker::{Env, Request, Response};

use crate::catalog::{SERVER_NAME, SERVER_VERSION};
use crate::config::{Config, ImageBackend};
use crate::models::MODELS;

/// The discovery page. `images_api` lists the OpenAI-compatible routes (method, path, what it
/// does), handed down by the router, which knows them.
pub fn home(req: &Request, env: &Env, images_api: &[home::ApiRoute]) -> worker::Result<Response> {
    let origin = crate::http::request_origin(req);
    let protocol_versions: Vec<&str> = crate::protocol::version::all().collect();
    let preview_backend = Config::from_env(env).is_ok_and(|c| c.image_backend == ImageBackend::Preview);
    let html = home::render(&home::HomePage {
        origin: &origin,
        server_name: SERVER_NAME,
        server_version: SERVER_VERSION,
        tools: crate::tools::TOOLS,
        models: &MODELS,
        prompts: crate::prompts::PROMPTS,
        protocol_versions: &protocol_versions,
        preview_backend,
        images_api,
    });
    Response::from_html(html)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    architecture: &'static str,
    timestamp: String,
}

pub fn health() -> worker::Result<Response> {
    Response::from_json(&Health {
        status: "healthy",
        version: SERVER_VERSION,
        architecture: "stateless-workers",
        timestamp: crate::time::now_iso(),
    })
}
