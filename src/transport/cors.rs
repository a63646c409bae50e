//! CORS as the original: any origin may read responses (Origin validation guards the MCP routes).

use worker::{Headers, Response};

use crate::http::answer::Answer;

const ALLOW_METHODS: &str = "GET, POST, OPTIONS";
/// The MCP headers, then the ones the OpenAI SDKs send from a browser (`OpenAI-*`, Stainless'
/// `X-Stainless-*` telemetry and retry headers) so they can call /v1/.
const ALLOW_HEADERS: &str = "Content-Type, Authorization, Accept, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, \
     Mcp-Session-Id, Last-Event-ID, OpenAI-Organization, OpenAI-Project, OpenAI-Beta, X-Stainless-Arch, \
     X-Stainless-Lang, X-Stainless-OS, X-Stainless-Package-Version, X-Stainless-Runtime, \
     X-Stainless-Runtime-Version, X-Stainless-Retry-Count, X-Stainless-Timeout, X-Stainless-Async, \
     X-Stainless-Helper-Method, X-Stainless-Poll-Helper, X-Stainless-Custom-Poll-Interval";
const EXPOSE_HEADERS: &str = "WWW-Authenticate, Mcp-Protocol-Version, Retry-After, x-should-retry";

/// The headers every answer carries. The methods and request headers allowed are a preflight's
/// answer alone (Fetch standard, CORS protocol), as in the original: on every other answer they
/// were some 600 bytes that no browser reads.
pub const HEADERS: [(&str, &str); 2] = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
];

pub fn apply(response: &mut Response) {
    let headers: &mut Headers = response.headers_mut();
    for (name, value) in HEADERS {
        let _ = headers.set(name, value);
    }
}

/// The answer to a preflight request ([`HEADERS`] are added to it as to every answer).
pub fn preflight() -> worker::Result<Response> {
    preflight_answer().into_response()
}

/// [`preflight`] as an [`Answer`], for the entry module.
pub fn preflight_answer() -> Answer {
    Answer::empty(204)
        .header("Access-Control-Allow-Methods", ALLOW_METHODS)
        .header("Access-Control-Allow-Headers", ALLOW_HEADERS)
        .header("Access-Control-Max-Age", "86400")
}
