//! An OpenAI-compatible images API beside MCP (`/v1/images/generations`, `/edits`,
//! `/variations`, `/v1/models`), on the same keys, quotas, jobs and gallery.
//!
//! [`ROUTES`] declares each route once: method, path, what it needs of the caller ([`Scope`])
//! and how its body is read. `transport` admits a request as it does for `/mcp` (Origin, bearer
//! token, rate limit, body limit) and calls [`handle`]; [`request`] reads the bodies (forms
//! through [`multipart`]), [`images`] starts and waits for the jobs through the services the MCP
//! tools use (an OpenAI mask converted by [`mask`]), [`listing`] lists the models, and every refusal is an [`error::ApiError`] in
//! OpenAI's shape.

pub mod error;
mod images;
mod listing;
mod mask;
mod multipart;
mod request;

use serde_json::Value;

use crate::access::Scopes;
use crate::promise::cold;
use crate::tools::{Scope, ToolContext};
pub use error::ApiError;

/// Paths under this prefix are this API's.
pub const PREFIX: &str = "/v1/";

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Generations,
    Edits,
    Variations,
    ListModels,
    /// `/v1/models/{id}`.
    GetModel,
}

/// How a route's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    Json,
    Form,
}

/// One route: the method and path it answers, and what it needs.
#[derive(Debug)]
pub struct Route {
    pub method: &'static str,
    /// A path, or a prefix ending in `/` followed by one path segment (`/v1/models/{id}`).
    pub path: &'static str,
    pub endpoint: Endpoint,
    /// What the caller must be allowed: starting work, or reading.
    pub scope: Scope,
    pub body: Body,
    /// What it does, for the discovery page.
    pub summary: &'static str,
}

impl Route {
    /// The path as documentation writes it (`/v1/models/{id}`).
    pub fn shown_path(&self) -> String {
        match self.path.ends_with('/') {
            true => format!("{}{{id}}", self.path),
            false => self.path.to_string(),
        }
    }
}

pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/v1/images/generations",
        endpoint: Endpoint::Generations,
        scope: Scope::Write,
        body: Body::Json,
        summary: "OpenAI images API: images from a prompt (JSON), answered when they are ready.",
    },
    Route {
        method: "POST",
        path: "/v1/images/edits",
        endpoint: Endpoint::Edits,
        scope: Scope::Write,
        body: Body::Form,
        summary: "OpenAI images API: images from uploaded images and a prompt, with an optional mask (multipart).",
    },
    Route {
        method: "POST",
        path: "/v1/images/variations",
        endpoint: Endpoint::Variations,
        scope: Scope::Write,
        body: Body::Form,
        summary: "OpenAI images API: variations of an uploaded image (multipart).",
    },
    Route {
        method: "GET",
        path: "/v1/models",
        endpoint: Endpoint::ListModels,
        scope: Scope::Read,
        body: Body::None,
        summary: "OpenAI models list: every model and the OpenAI names the images endpoints take.",
    },
    Route {
        method: "GET",
        path: "/v1/models/",
        endpoint: Endpoint::GetModel,
        scope: Scope::Read,
        body: Body::None,
        summary: "One model of that list.",
    },
];

/// Whether `path` belongs to this API.
pub fn owns(path: &str) -> bool {
    path == "/v1" || path.starts_with(PREFIX)
}

/// The route for `method` and `path`, with the `{id}` segment of a prefix route. A known path
/// with another method is 405; an unknown path 404, as OpenAI answers.
pub fn find<'a>(method: &str, path: &'a str) -> Result<(&'static Route, Option<&'a str>), ApiError> {
    let matches = |route: &Route| -> Option<Option<&'a str>> {
        if route.path.ends_with('/') {
            let id = path.strip_prefix(route.path)?;
            (!id.is_empty() && !id.contains('/')).then_some(Some(id))
        } else {
            (path == route.path).then_some(None)
        }
    };
    let mut path_known = false;
    for route in ROUTES {
        if let Some(id) = matches(route) {
            if route.method == method {
                return Ok((route, id));
            }
            path_known = true;
        }
    }
    if path_known {
        return Err(ApiError::method_not_allowed(method, path));
    }
    Err(ApiError::not_found(
        format!(
            "Invalid URL ({} {})",
            crate::catalog::echo(method),
            crate::catalog::echo(path)
        ),
        None,
    ))
}

/// The methods a known path answers, for a 405's `Allow`.
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    ROUTES
        .iter()
        .filter(|route| find(route.method, path).is_ok_and(|(found, _)| std::ptr::eq(found, *route)))
        .map(|route| route.method)
        .collect()
}

/// The one check of what a caller may do: the scopes its credentials grant must include the
/// route's.
pub fn authorize(granted: Scopes, needed: Scope) -> Result<(), ApiError> {
    if granted.contains(needed) {
        return Ok(());
    }
    Err(ApiError::insufficient_scope(needed.name()))
}

/// Runs an admitted request: reads its body as the route says and answers with the JSON of a
/// 200, or the refusal.
pub async fn handle(
    ctx: &ToolContext,
    route: &Route,
    id: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Result<Value, ApiError> {
    // Each endpoint's reading and work in a future of its own (`cold`): V8 then compiles only the
    // endpoint a request names, not all three, on its first request (bench/README.md,
    // twenty-seventh pass).
    match route.endpoint {
        Endpoint::Generations => cold(async { images::generate(ctx, request::generation(&body)?).await }).await,
        Endpoint::Edits => cold(async { images::edit(ctx, request::edit(form(content_type, body)?)?).await }).await,
        Endpoint::Variations => {
            cold(async { images::vary(ctx, request::variation(form(content_type, body)?)?).await }).await
        }
        Endpoint::ListModels => Ok(listing::list()),
        Endpoint::GetModel => listing::one(id.unwrap_or_default()),
    }
}

/// The parts of a `multipart/form-data` body.
fn form(content_type: Option<&str>, body: Vec<u8>) -> Result<Vec<multipart::Part>, ApiError> {
    let bad = |error: multipart::FormError| ApiError::bad_request(error.to_string());
    let boundary = multipart::boundary(content_type).map_err(bad)?;
    multipart::parts(body, &boundary).map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_is_found_by_method_and_path() {
        let found = |method, path| find(method, path).map(|(route, id)| (route.endpoint, id));
        assert_eq!(
            found("POST", "/v1/images/generations"),
            Ok((Endpoint::Generations, None))
        );
        assert_eq!(found("POST", "/v1/images/edits"), Ok((Endpoint::Edits, None)));
        assert_eq!(found("POST", "/v1/images/variations"), Ok((Endpoint::Variations, None)));
        assert_eq!(found("GET", "/v1/models"), Ok((Endpoint::ListModels, None)));
        assert_eq!(
            found("GET", "/v1/models/dall-e-3"),
            Ok((Endpoint::GetModel, Some("dall-e-3")))
        );
        for (method, path) in [
            ("GET", "/v1/models/a/b"),
            ("GET", "/v1/models/"),
            ("POST", "/v1/chat/completions"),
            ("GET", "/v1"),
        ] {
            let error = find(method, path).unwrap_err();
            assert_eq!(error.status, 404, "{method} {path}");
            assert_eq!(error.message, format!("Invalid URL ({method} {path})"));
        }
        let wrong = find("GET", "/v1/images/generations").unwrap_err();
        assert_eq!(wrong.status, 405);
        assert_eq!(allowed_methods("/v1/images/generations"), ["POST"]);
        assert_eq!(allowed_methods("/v1/models/x"), ["GET"]);
        assert!(owns("/v1/models") && owns("/v1") && !owns("/v10") && !owns("/mcp"));
    }

    #[test]
    fn starting_work_needs_write_and_listing_needs_read() {
        for route in ROUTES {
            let expected = match route.endpoint {
                Endpoint::Generations | Endpoint::Edits | Endpoint::Variations => Scope::Write,
                Endpoint::ListModels | Endpoint::GetModel => Scope::Read,
            };
            assert_eq!(route.scope, expected, "{}", route.path);
            assert_eq!(route.body == Body::None, route.method == "GET", "{}", route.path);
        }
        assert_eq!(authorize(Scopes::ALL, Scope::Write), Ok(()));
        assert_eq!(authorize(Scopes::of(&[Scope::Read]), Scope::Read), Ok(()));
        let refused = authorize(Scopes::of(&[Scope::Read]), Scope::Write).unwrap_err();
        assert_eq!((refused.status, refused.code), (403, Some("insufficient_scope")));
        assert!(refused.message.contains("images:write scope"), "{}", refused.message);
        assert!(authorize(Scopes::of(&[]), Scope::Read).is_err());
    }
}
