//! HTTP helpers shared by the MCP transports and the pages: JSON responses, the request's own
//! origin and URL parts, the request head (URL and headers) the checks read, browser Origin
//! validation and the bounded body reader.

pub mod answer;
pub mod body;
pub mod form;
pub mod head;
pub mod origin;
pub mod url;

use worker::{Request, Response};

pub fn json_response(status: u16, value: &impl serde::Serialize) -> worker::Result<Response> {
    Ok(Response::from_json(value)?.with_status(status))
}

/// `scheme://host[:port]` of the request, for absolute URLs that point back at this worker.
pub fn request_origin(req: &Request) -> String {
    url::RequestUrl::of(req).origin()
}
