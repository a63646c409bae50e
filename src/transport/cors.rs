//! CORS as the original: any origin may read responses (Origin validation guards the MCP routes).

use worker::{Headers, Response};

const ALLOW_METHODS: &str = "GET, POST, OPTIONS";
const ALLOW_HEADERS: &str =
    "Content-Type, Authorization, Accept, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Session-Id, Last-Event-ID";
const EXPOSE_HEADERS: &str = "WWW-Authenticate, Mcp-Protocol-Version";

pub fn apply(response: &mut Response) {
    let headers: &mut Headers = response.headers_mut();
    let _ = headers.set("Access-Control-Allow-Origin", "*");
    let _ = headers.set("Access-Control-Allow-Methods", ALLOW_METHODS);
    let _ = headers.set("Access-Control-Allow-Headers", ALLOW_HEADERS);
    let _ = headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS);
}

/// The answer to a preflight request.
pub fn preflight() -> worker::Result<Response> {
    let mut response = Response::empty()?.with_status(204);
    let _ = response.headers_mut().set("Access-Control-Max-Age", "86400");
    Ok(response)
}
