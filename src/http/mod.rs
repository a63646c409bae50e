//! HTTP helpers shared by the MCP transports and the pages: JSON responses, the request's own
//! origin, browser Origin validation, and the constant-time comparison for secrets.

pub mod body;
pub mod origin;

use worker::{Request, Response};

pub fn json_response(status: u16, value: &impl serde::Serialize) -> worker::Result<Response> {
    Ok(Response::from_json(value)?.with_status(status))
}

/// `scheme://host[:port]` of the request, for absolute URLs that point back at this worker.
pub fn request_origin(req: &Request) -> String {
    req.url()
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_default()
}

/// Compares without an early exit, so response time does not reveal how much of a guess matched.
/// (The length is not secret-dependent in a useful way: it only tells a guess is the wrong size.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        difference |= x ^ y;
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_matches_only_identical_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
        // 256 bytes longer must not wrap the length difference to zero.
        assert!(!constant_time_eq(&[0u8; 256], b""));
    }
}
