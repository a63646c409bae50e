//! A request's URL and the headers the checks read (`transport::ENTRY_HEADERS`) as plain Rust
//! values, whichever way the request arrived: from a workers-rs `Request` (one crossing per listed
//! header) or from the one-crossing entry (`src/entry.mjs`), which hands over the URL and those
//! headers as one text.

use worker::Request;

use super::url::RequestUrl;

/// What the checks before any work read of a request: its URL and the headers they read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub url: RequestUrl,
    /// `name\nvalue\n` per header, the entry module's form: values as the runtime gives them
    /// (repeated headers already joined with ", ", as `Headers.get` joins them). One text, not a
    /// pair of strings per header: a request's few lookups scan it.
    headers: String,
}

impl RequestHead {
    /// The head of a workers-rs request with only the headers in `names` (lower case; one
    /// `Headers.get` each): the transport passes the headers its checks read
    /// (`transport::ENTRY_HEADERS`), so the rest are never copied.
    pub fn of(req: &Request, names: &[&str]) -> RequestHead {
        let headers = req.headers();
        let mut text = String::new();
        for name in names {
            // `get` fails only for an invalid header name.
            if let Some(value) = headers.get(name).ok().flatten() {
                for part in [name, "\n", value.as_str(), "\n"] {
                    text.push_str(part);
                }
            }
        }
        RequestHead {
            url: RequestUrl::of(req),
            headers: text,
        }
    }

    /// The head the entry module sends: the absolute URL, and the headers it hands over
    /// (`transport::ENTRY_HEADERS`) as `name\nvalue\n` pairs (header names and values never
    /// contain a line feed).
    pub fn from_wire(url: &str, headers: &str) -> RequestHead {
        RequestHead {
            url: RequestUrl::parse(url).unwrap_or_else(RequestUrl::unparsable),
            headers: headers.to_string(),
        }
    }

    /// The value of header `name` (any case), if the request has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut lines = self.headers.split('\n');
        while let (Some(have), Some(value)) = (lines.next(), lines.next()) {
            if have.eq_ignore_ascii_case(name) {
                return Some(value);
            }
        }
        None
    }

    /// `scheme://host[:port]` of the request, for absolute URLs that point back at this worker.
    pub fn origin(&self) -> String {
        self.url.origin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_form_gives_every_header_by_any_case() {
        let head = RequestHead::from_wire(
            "https://example.com/mcp?x=1",
            "authorization\nBearer t\nmcp-protocol-version\n2025-11-25\naccept\napplication/json, text/event-stream\n",
        );
        assert_eq!(head.url.path, "/mcp");
        assert_eq!(head.origin(), "https://example.com");
        assert_eq!(head.header("Authorization"), Some("Bearer t"));
        assert_eq!(head.header("MCP-Protocol-Version"), Some("2025-11-25"));
        assert_eq!(head.header("accept"), Some("application/json, text/event-stream"));
        assert_eq!(head.header("Origin"), None);
    }

    #[test]
    fn empty_values_and_an_empty_header_list_read_as_such() {
        let head = RequestHead::from_wire("http://127.0.0.1:8787/mcp", "x-empty\n\n");
        assert_eq!(head.header("x-empty"), Some(""));
        let none = RequestHead::from_wire("http://127.0.0.1:8787/mcp", "");
        assert_eq!(none.header("x-empty"), None);
        let unparsable = RequestHead::from_wire("not a url", "");
        assert_eq!(unparsable.url.path, "/");
    }
}
