//! The request URL split by hand. The runtime gives every request an absolute URL already in
//! WHATWG form (lower-case scheme and host, default port dropped, path percent-encoded), so a
//! few splits give what the `url` crate did — and leaving that crate (and its IDNA tables) out
//! of the Wasm saves about 10 KB gzip.

use std::borrow::Cow;

use worker::Request;

/// The parts of an absolute `http(s)` URL this server reads, borrowed from the text they were
/// split from where they are as written (a request's URL, whose scheme and host the runtime has
/// already lower-cased, allocates nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestUrl<'a> {
    pub scheme: Cow<'a, str>,
    /// `host[:port]`, without any `user:password@`.
    pub authority: Cow<'a, str>,
    /// Always starts with `/`.
    pub path: Cow<'a, str>,
    /// The text after `?` (without the fragment), when there is one.
    pub query: Option<Cow<'a, str>>,
}

impl RequestUrl<'static> {
    /// The request's own URL. A request always has one; should the runtime ever give something
    /// unparsable, the result is an empty origin and the path `/`, which no route but the
    /// discovery page answers.
    pub fn of(req: &Request) -> RequestUrl<'static> {
        let text = req.inner().url();
        RequestUrl::parse(&text).map_or_else(RequestUrl::unparsable, RequestUrl::into_owned)
    }
}

impl<'a> RequestUrl<'a> {
    /// What an unparsable URL reads as: an empty origin and the path `/`.
    pub fn unparsable() -> RequestUrl<'a> {
        RequestUrl {
            scheme: Cow::Borrowed(""),
            authority: Cow::Borrowed(""),
            path: Cow::Borrowed("/"),
            query: None,
        }
    }

    pub fn parse(text: &'a str) -> Option<RequestUrl<'a>> {
        // The scheme ends at the first `:` (`split_once("://")` builds a substring searcher
        // for every request); a `:` in the scheme would make it invalid below anyway.
        let (scheme, rest) = text.split_once(':')?;
        let rest = rest.strip_prefix("//")?;
        let valid_scheme = !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !valid_scheme {
            return None;
        }
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(authority_end);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(Cow::Borrowed(query))),
            None => (rest, None),
        };
        Some(RequestUrl {
            scheme: lower_case(scheme),
            authority: lower_case(authority),
            path: Cow::Borrowed(if path.is_empty() { "/" } else { path }),
            query,
        })
    }

    /// The same URL, its parts copied out of the text it was split from.
    pub fn into_owned(self) -> RequestUrl<'static> {
        RequestUrl {
            scheme: Cow::Owned(self.scheme.into_owned()),
            authority: Cow::Owned(self.authority.into_owned()),
            path: Cow::Owned(self.path.into_owned()),
            query: self.query.map(|query| Cow::Owned(query.into_owned())),
        }
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        [&*self.scheme, "://", &*self.authority].concat()
    }

    /// The host without the port (an IPv6 address keeps its brackets).
    pub fn host(&self) -> &str {
        let authority = &*self.authority;
        if authority.starts_with('[') {
            return authority.find(']').map_or(authority, |end| &authority[..=end]);
        }
        authority.split_once(':').map_or(authority, |(host, _)| host)
    }
}

/// `text` in ASCII lower case, borrowed when it already is.
fn lower_case(text: &str) -> Cow<'_, str> {
    match text.bytes().any(|b| b.is_ascii_uppercase()) {
        true => Cow::Owned(text.to_ascii_lowercase()),
        false => Cow::Borrowed(text),
    }
}

/// The origin of an absolute `http(s)` URL (e.g. a configured bucket URL), or None.
pub fn http_origin(text: &str) -> Option<String> {
    let url = RequestUrl::parse(text)?;
    (matches!(&*url.scheme, "http" | "https") && !url.authority.is_empty()).then(|| url.origin())
}

/// The first value of `name` in a query string, decoded as a form field is.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    let pairs = super::form::parse(query);
    super::form::first(&pairs, name).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_origin_path_and_query() {
        let url = RequestUrl::parse("http://127.0.0.1:8787/gallery?model=phoenix&page=2#top").unwrap();
        assert_eq!(url.origin(), "http://127.0.0.1:8787");
        assert_eq!(url.host(), "127.0.0.1");
        assert_eq!(url.path, "/gallery");
        assert_eq!(url.query.as_deref(), Some("model=phoenix&page=2"));
        let bare = RequestUrl::parse("https://Example.COM").unwrap();
        assert_eq!(
            (bare.origin().as_str(), &*bare.path, bare.query),
            ("https://example.com", "/", None)
        );
        let v6 = RequestUrl::parse("http://[::1]:8787/mcp?").unwrap();
        assert_eq!(v6.host(), "[::1]");
        assert_eq!(v6.query.as_deref(), Some(""));
        let user = RequestUrl::parse("https://user:pw@host.example/x").unwrap();
        assert_eq!(user.origin(), "https://host.example");
        assert_eq!(RequestUrl::parse("no scheme here"), None);
        assert_eq!(RequestUrl::parse("://x"), None);
        assert_eq!(RequestUrl::parse("a:b://x"), None);
        assert_eq!(RequestUrl::parse("http:/x"), None);
    }

    proptest::proptest! {
        /// The scheme found at the first `:` splits as `split_once("://")` did, for any text
        /// made of the characters that matter here.
        #[test]
        fn the_scheme_splits_as_at_the_first_separator(text in "[a:/h+.@?#-]{0,12}") {
            let before = text.split_once("://").filter(|(scheme, _)| {
                !scheme.is_empty()
                    && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
            });
            let parsed = RequestUrl::parse(&text);
            proptest::prop_assert_eq!(parsed.is_some(), before.is_some());
            if let (Some(url), Some((scheme, _))) = (parsed, before) {
                proptest::prop_assert_eq!(url.scheme, scheme.to_ascii_lowercase());
            }
        }
    }

    #[test]
    fn bucket_origins_are_http_only() {
        assert_eq!(
            http_origin("https://img.example.com/some/prefix").as_deref(),
            Some("https://img.example.com")
        );
        assert_eq!(
            http_origin("http://localhost:9000").as_deref(),
            Some("http://localhost:9000")
        );
        assert_eq!(http_origin("ftp://img.example.com"), None);
        assert_eq!(http_origin("img.example.com"), None);
    }

    #[test]
    fn query_params_are_found_and_decoded() {
        let query = "a=1&sessionId=abc-123&x=%E2%9C%93+ok&bad=%zz&cut=%4";
        assert_eq!(query_param(query, "sessionId").as_deref(), Some("abc-123"));
        assert_eq!(query_param(query, "x").as_deref(), Some("✓ ok"));
        assert_eq!(query_param(query, "bad").as_deref(), Some("%zz"));
        assert_eq!(query_param(query, "cut").as_deref(), Some("%4"));
        assert_eq!(query_param(query, "missing"), None);
        assert_eq!(query_param("sessionId", "sessionId").as_deref(), Some(""));
        assert_eq!(query_param("s=%FF", "s").as_deref(), Some("\u{FFFD}"));
    }
}
