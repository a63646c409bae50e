//! Plain HTTP pages: the discovery page, the health check and the image route.

pub mod home;
pub mod images;

use serde::Serialize;
use serde_json::Value;
use worker::{Env, Request, Response};

use crate::catalog::{ImageModel, SERVER_NAME, SERVER_VERSION};
use crate::config::{Config, ImageBackend};

pub fn home(req: &Request, env: &Env) -> worker::Result<Response> {
    let origin = crate::transport::request_origin(req);
    let tools: Vec<Value> = crate::tools::list()
        .iter()
        .filter_map(|t| serde_json::to_value(t).ok())
        .collect();
    let models: Vec<(&str, &str, &str)> = ImageModel::ALL
        .iter()
        .map(|m| (m.name(), m.workers_ai_id(), m.typical_time()))
        .collect();
    let preview_backend = Config::from_env(env).is_ok_and(|c| c.image_backend == ImageBackend::Preview);
    let html = home::render(&home::HomePage {
        origin: &origin,
        server_name: SERVER_NAME,
        server_version: SERVER_VERSION,
        tools: &tools,
        models: &models,
        protocol_versions: &crate::protocol::version::SUPPORTED,
        preview_backend,
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
        timestamp: crate::now_iso(),
    })
}
