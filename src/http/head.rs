//! A request's URL and the headers the checks read (`transport::ENTRY_HEADERS`) as plain Rust
//! values, whichever way the request arrived: from a workers-rs `Request` (one crossing per listed
//! header) or from the one-crossing entry (`src/entry.mjs`), which hands over the URL and those
//! headers as one text.

use std::borrow::Cow;

use worker::Request;

use super::url::RequestUrl;

/// What the checks before any work read of a request: its URL and the headers they read,
/// borrowed from the text the entry module wrote (`'a`), or owned for a workers-rs request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead<'a> {
    pub url: RequestUrl<'a>,
    /// `name\nvalue\n` per header, the entry module's form: values as the runtime gives them
    /// (repeated headers already joined with ", ", as `Headers.get` joins them). One text, not a
    /// pair of strings per header.
    headers: Cow<'a, str>,
    /// Where each header's name and value lie in `headers` (name start, value start, value end),
    /// found in one pass when the head is made: a request looks up its few headers half a dozen
    /// times, and splitting the text again for each was a tenth of `ping`'s time in Wasm
    /// (bench/README.md, twenty-first pass). The first [`INDEXED`] headers, in place: a request
    /// brings at most `transport::ENTRY_HEADERS`, fewer than that, so the head allocates nothing.
    fields: [(u32, u32, u32); INDEXED],
    /// How many of `fields` are found.
    indexed: usize,
    /// Where the text beyond the indexed headers begins (its length when there is none), read
    /// by splitting should a text ever hold more.
    unindexed: usize,
}

/// How many headers a head indexes.
const INDEXED: usize = 8;

/// The `name\nvalue\n` pairs of a header text in order (a last name without its value, never
/// sent, is left out): what the head indexes, and reads beyond its index.
fn pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut lines = text.split('\n');
    std::iter::from_fn(move || Some((lines.next()?, lines.next()?)))
}

impl RequestHead<'_> {
    /// The head of a workers-rs request with only the headers in `names` (lower case; one
    /// `Headers.get` each): the transport passes the headers its checks read
    /// (`transport::ENTRY_HEADERS`), so the rest are never copied.
    pub fn of(req: &Request, names: &[&str]) -> RequestHead<'static> {
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
        RequestHead::with_headers(RequestUrl::of(req), Cow::Owned(text))
    }

    /// The head the entry module sends: the absolute URL, and the headers it hands over
    /// (`transport::ENTRY_HEADERS`) as `name\nvalue\n` pairs (header names and values never
    /// contain a line feed), both borrowed.
    pub fn from_wire<'a>(url: &'a str, headers: &'a str) -> RequestHead<'a> {
        RequestHead::with_headers(
            RequestUrl::parse(url).unwrap_or_else(RequestUrl::unparsable),
            Cow::Borrowed(headers),
        )
    }

    /// A head over `headers` in the wire form, its fields found once ([`pairs`]), as each
    /// lookup split the text before.
    fn with_headers<'a>(url: RequestUrl<'a>, headers: Cow<'a, str>) -> RequestHead<'a> {
        let mut fields = [(0, 0, 0); INDEXED];
        let mut indexed = 0;
        let mut start = 0;
        for (name, value) in pairs(&headers).take(INDEXED) {
            let value_start = start + name.len() + 1;
            let value_end = value_start + value.len();
            // A head is a few hundred bytes; one beyond 4 GiB is left to the split in `header`.
            let (Ok(at), Ok(from), Ok(to)) = (start.try_into(), value_start.try_into(), value_end.try_into()) else {
                break;
            };
            fields[indexed] = (at, from, to);
            indexed += 1;
            start = value_end + 1;
        }
        let unindexed = start.min(headers.len());
        RequestHead {
            url,
            headers,
            fields,
            indexed,
            unindexed,
        }
    }

    /// The value of header `name` (any case), if the request has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        let text = &*self.headers;
        let indexed = self.fields[..self.indexed]
            .iter()
            .find_map(|&(start, value_start, value_end)| {
                let (start, value_start, value_end) = (start as usize, value_start as usize, value_end as usize);
                text[start..value_start - 1]
                    .eq_ignore_ascii_case(name)
                    .then(|| &text[value_start..value_end])
            });
        if indexed.is_some() || self.unindexed == text.len() {
            return indexed;
        }
        pairs(&text[self.unindexed..]).find_map(|(have, value)| have.eq_ignore_ascii_case(name).then_some(value))
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
            lines in proptest::collection::vec("[aAbB\\-]{0,3}|[ -~]{0,12}", 0..24),
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
        // Nothing of a written request is copied: the URL's parts and the headers are borrowed.
        assert!(matches!(head.url.scheme, Cow::Borrowed(_)) && matches!(head.url.path, Cow::Borrowed(_)));
        assert!(matches!(head.url.query, Some(Cow::Borrowed("x=1"))));
        assert!(matches!(head.headers, Cow::Borrowed(_)));
    }

    #[test]
    fn headers_beyond_the_indexed_ones_are_found_too() {
        let text: String = (0..INDEXED + 3).map(|n| format!("x-{n}\nvalue {n}\n")).collect();
        let head = RequestHead::from_wire("https://example.com/mcp", &text);
        assert_eq!(head.indexed, INDEXED);
        for n in 0..INDEXED + 3 {
            assert_eq!(head.header(&format!("X-{n}")), Some(format!("value {n}").as_str()));
        }
        assert_eq!(head.header("x-99"), None);
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
