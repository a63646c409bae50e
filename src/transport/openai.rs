//! The OpenAI-compatible images API at its HTTP edge: the route, then the same admission as
//! `/mcp` (Origin, bearer token, rate limit), the route's scope, the same body limit, and the
//! answer or refusal in OpenAI's shape.

use worker::{Env, Request, Response};

use super::{admit, request_head, Refused};
use crate::http::body::{read_limited_bytes, BodyError};
use crate::openai::{self, ApiError, Body};

/// The routes as the discovery page lists them.
pub fn routes_for_people() -> Vec<crate::pages::home::ApiRoute> {
    openai::ROUTES
        .iter()
        .map(|route| crate::pages::home::ApiRoute {
            method: route.method,
            path: route.shown_path(),
            summary: route.summary,
        })
        .collect()
}

pub async fn serve(mut req: Request, path: &str, env: Env) -> worker::Result<Response> {
    let method = req.method().to_string();
    let (route, id) = match openai::find(&method, path) {
        Ok(found) => found,
        Err(error) => {
            let mut response = error_response(&error)?;
            if error.status == 405 {
                response
                    .headers_mut()
                    .set("Allow", &openai::allowed_methods(path).join(", "))?;
            }
            return Ok(response);
        }
    };
    // The caller's scopes: all of them for `AUTH_TOKEN` and the `API_KEYS` tokens; an OAuth
    // access token's are the ones its grant holds.
    let (ctx, principal) = match admit(&request_head(&req), &env).await {
        Ok(admitted) => admitted,
        Err(Refused {
            status,
            message,
            challenge,
            retry_after,
        }) => return error_response(&ApiError::refused(status, &message, challenge, retry_after)),
    };
    if let Err(error) = openai::authorize(principal.scopes, route.scope) {
        return error_response(&error);
    }
    let content_type = req.headers().get("Content-Type")?;
    let body = match route.body {
        // A GET's body is never read.
        Body::None => Ok(Vec::new()),
        Body::Json | Body::Form => read_limited_bytes(&mut req, crate::catalog::REQUEST_BODY_MAX_BYTES).await,
    };
    let body = match body {
        Ok(body) => body,
        Err(BodyError::TooLarge(too_large)) => {
            return error_response(&ApiError::refused(413, &too_large.to_string(), None, None))
        }
        Err(BodyError::Read(error)) => return Err(error),
    };
    match openai::handle(&ctx, route, id, content_type.as_deref(), body).await {
        Ok(value) => crate::http::json_response(200, &value),
        Err(error) => error_response(&error),
    }
}

/// An error in OpenAI's shape, with its headers: `WWW-Authenticate` (401), `Retry-After` (429),
/// and `x-should-retry`, which the OpenAI SDKs obey instead of retrying by status.
fn error_response(error: &ApiError) -> worker::Result<Response> {
    let mut response = crate::http::json_response(error.status, &error.body())?;
    let headers = response.headers_mut();
    if let Some(challenge) = &error.challenge {
        headers.set("WWW-Authenticate", challenge)?;
    }
    if let Some(seconds) = error.retry_after {
        headers.set("Retry-After", &seconds.to_string())?;
    }
    headers.set("x-should-retry", if error.should_retry() { "true" } else { "false" })?;
    Ok(response)
}
