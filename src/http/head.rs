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
    /// pair of strings per header.
    headers: String,
    /// Where each header's name and value lie in `headers` (name start, value start, value end),
    /// found in one pass when the head is made: a request looks up its few headers half a dozen
    /// times, and splitting the text again for each was a tenth of `ping`'s time in Wasm
    /// (bench/README.md, twenty-first pass).
    fields: Vec<(usize, usize, usize)>,
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
        RequestHead::with_headers(RequestUrl::of(req), text)
    }

    /// The head the entry module sends: the absolute URL, and the headers it hands over
    /// (`transport::ENTRY_HEADERS`) as `name\nvalue\n` pairs (header names and values never
    /// contain a line feed).
    pub fn from_wire(url: &str, headers: &str) -> RequestHead {
        RequestHead::with_headers(
            RequestUrl::parse(url).unwrap_or_else(RequestUrl::unparsable),
            headers.to_string(),
        )
    }

    /// A head over `headers` in the wire form, its fields found once: the text split in
    /// name/value pairs, as each lookup split it before (a last name without its value, never
    /// sent, is left out).
    fn with_headers(url: RequestUrl, headers: String) -> RequestHead {
        let mut fields = Vec::new();
        let mut lines = headers.split('\n');
        let mut start = 0;
        while let (Some(name), Some(value)) = (lines.next(), lines.next()) {
            let value_start = start + name.len() + 1;
            let value_end = value_start + value.len();
            fields.push((start, value_start, value_end));
            start = value_end + 1;
        }
        RequestHead { url, headers, fields }
    }

    /// The value of header `name` (any case), if the request has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.fields.iter().find_map(|&(start, value_start, value_end)| {
            let have = &self.headers[start..value_start - 1];
            have.eq_ignore_ascii_case(name)
                .then(|| &self.headers[value_start..value_end])
        })
    }

    /// `scheme://host[:port]` of the request, for absolute URLs that point back at this worker.
    pub fn origin(&self) -> String {
        self.url.origin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The lookup as it was before the fields were indexed: the text split in name/value pairs.
    fn by_splitting<'a>(text: &'a str, name: &str) -> Option<&'a str> {
        let mut lines = text.split('\n');
        while let (Some(have), Some(value)) = (lines.next(), lines.next()) {
            if have.eq_ignore_ascii_case(name) {
                return Some(value);
            }
        }
        None
    }

    proptest! {
        /// Any text, with or without a last line feed, empty names and values, repeated names:
        /// every lookup finds what splitting the text in pairs finds.
        #[test]
        fn indexed_fields_find_what_splitting_finds(
            lines in proptest::collection::vec("[aAbB\\-]{0,3}|[ -~]{0,12}", 0..9),
            trailing in any::<bool>(),
            name in "[aAbB\\-]{0,3}",
        ) {
            let mut text = lines.join("\n");
            if trailing {
                text.push('\n');
            }
            let head = RequestHead::from_wire("https://example.com/mcp", &text);
            prop_assert_eq!(head.header(&name), by_splitting(&text, &name));
            for line in &lines {
                prop_assert_eq!(head.header(line), by_splitting(&text, line));
            }
        }
    }

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
