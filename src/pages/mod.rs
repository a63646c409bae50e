//! Plain HTTP pages: the discovery page, the health check, the image route and the gallery.

pub mod gallery;
pub mod home;
pub mod images;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use serde::Serialize;
use worker::{Env, Request, Response};

use crate::catalog::{SERVER_NAME, SERVER_VERSION};
use crate::config::{Config, ImageBackend};
use crate::http::answer::Answer;
use crate::models::MODELS;

/// The discovery page. `images_api` lists the OpenAI-compatible routes (method, path, what it
/// does), handed down by the router, which knows them; it is called only to render the page.
pub fn home(req: &Request, env: &Env, images_api: impl FnOnce() -> Vec<home::ApiRoute>) -> worker::Result<Response> {
    home_answer(&crate::http::request_origin(req), env, images_api).into_response()
}

/// [`home`] as an [`Answer`], for the entry module too.
pub fn home_answer(origin: &str, env: &Env, images_api: impl FnOnce() -> Vec<home::ApiRoute>) -> Answer {
    Answer::html(200, &home_page(origin, env, images_api))
}

/// The page for `origin`, rendered once per isolate for each origin it is asked on
/// ([`cached_page`]): it depends on nothing else that can change while an isolate lives, and
/// rendering its 45 KB on every request made it a third as fast as the original's static page
/// (bench/pages.mjs).
fn home_page(origin: &str, env: &Env, images_api: impl FnOnce() -> Vec<home::ApiRoute>) -> Rc<str> {
    let preview_backend = Config::from_env(env).is_ok_and(|c| c.image_backend == ImageBackend::Preview);
    cached_page(origin, preview_backend, || {
        let protocol_versions: Vec<&str> = crate::protocol::version::all().collect();
        home::render(&home::HomePage {
            origin,
            server_name: SERVER_NAME,
            server_version: SERVER_VERSION,
            tools: crate::tools::TOOLS,
            models: &MODELS,
            prompts: crate::prompts::PROMPTS,
            protocol_versions: &protocol_versions,
            preview_backend,
            images_api: &images_api(),
        })
    })
}

/// How many origins' pages an isolate keeps: a deployment answers on a few (its workers.dev
/// name, a custom domain); a request naming yet another origin replaces the oldest, so no
/// `Host` header can make the cache grow.
const PAGES_KEPT: usize = 4;

/// The page for `origin` (and the preview backend's notice or not), rendered by `render` the
/// first time it is asked for.
fn cached_page(origin: &str, preview_backend: bool, render: impl FnOnce() -> String) -> Rc<str> {
    thread_local! {
        static PAGES: RefCell<VecDeque<(String, bool, Rc<str>)>> = const { RefCell::new(VecDeque::new()) };
    }
    PAGES.with(|pages| {
        if let Some((_, _, html)) = pages
            .borrow()
            .iter()
            .find(|(o, p, _)| o == origin && *p == preview_backend)
        {
            return html.clone();
        }
        let html: Rc<str> = render().into();
        let mut pages = pages.borrow_mut();
        if pages.len() == PAGES_KEPT {
            pages.pop_front();
        }
        pages.push_back((origin.to_string(), preview_backend, html.clone()));
        html
    })
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    architecture: &'static str,
    timestamp: String,
}

pub fn health() -> worker::Result<Response> {
    health_answer().into_response()
}

/// [`health`] as an [`Answer`], for the entry module too.
pub fn health_answer() -> Answer {
    let health = Health {
        status: "healthy",
        version: SERVER_VERSION,
        architecture: "stateless-workers",
        timestamp: crate::time::now_iso(),
    };
    Answer::json(200, serde_json::to_string(&health).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_page_is_rendered_once_per_origin_and_backend_and_only_a_few_are_kept() {
        let renders = Cell::new(0);
        let page = |origin: &str, preview: bool| {
            cached_page(origin, preview, || {
                renders.set(renders.get() + 1);
                format!("{origin} {preview}")
            })
        };
        assert_eq!(&*page("https://a.example", false), "https://a.example false");
        assert_eq!(&*page("https://a.example", false), "https://a.example false");
        assert_eq!(renders.get(), 1, "the second request is served from the cache");
        assert_eq!(&*page("https://a.example", true), "https://a.example true");
        assert_eq!(&*page("https://b.example", false), "https://b.example false");
        assert_eq!(renders.get(), 3, "another backend or origin is a page of its own");
        // Filling the cache past PAGES_KEPT drops the oldest page, which is rendered again.
        for n in 0..PAGES_KEPT {
            page(&format!("https://{n}.example"), false);
        }
        assert_eq!(renders.get(), 3 + PAGES_KEPT);
        page("https://a.example", false);
        assert_eq!(renders.get(), 4 + PAGES_KEPT, "the oldest page was dropped");
        page(&format!("https://{}.example", PAGES_KEPT - 1), false);
        assert_eq!(renders.get(), 4 + PAGES_KEPT, "the newest is still kept");
    }
}
