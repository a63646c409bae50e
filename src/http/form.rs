//! `application/x-www-form-urlencoded` decoding and encoding: the gallery's sign-in form and
//! query strings, and the legacy SSE `sessionId` parameter.

/// The name/value pairs of an urlencoded string, in order. `+` is a space and `%XX` a byte;
/// a malformed escape is kept as written (what browsers and the URL standard do), and byte
/// sequences that are not UTF-8 become U+FFFD.
pub fn parse(encoded: &str) -> Vec<(String, String)> {
    encoded
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// The first value given for `name`, if any.
pub fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1).and_then(hex), bytes.get(i + 2).and_then(hex)) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: &u8) -> Option<u8> {
    (*byte as char).to_digit(16).map(|d| d as u8)
}

/// Percent-encodes a value for a query string: everything but unreserved characters.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(encoded: &str) -> Vec<(String, String)> {
        parse(encoded)
    }

    #[test]
    fn decodes_plus_percent_and_utf8() {
        assert_eq!(
            pairs("token=a+b%2Bc%26d&next=%2Fgallery%3Fpage%3D2&x=%E2%9C%93"),
            vec![
                ("token".into(), "a b+c&d".into()),
                ("next".into(), "/gallery?page=2".into()),
                ("x".into(), "✓".into()),
            ]
        );
    }

    #[test]
    fn keeps_malformed_escapes_and_handles_missing_values() {
        assert_eq!(
            pairs("a=%&b=%zz&c=%4&d&&=e"),
            vec![
                ("a".into(), "%".into()),
                ("b".into(), "%zz".into()),
                ("c".into(), "%4".into()),
                ("d".into(), "".into()),
                ("".into(), "e".into()),
            ]
        );
        assert_eq!(pairs(""), vec![]);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        assert_eq!(pairs("a=%FF%FE"), vec![("a".into(), "\u{FFFD}\u{FFFD}".into())]);
    }

    #[test]
    fn first_value_wins() {
        let p = pairs("page=2&page=3");
        assert_eq!(first(&p, "page"), Some("2"));
        assert_eq!(first(&p, "model"), None);
    }

    #[test]
    fn encode_round_trips_through_parse() {
        let value = "a b&c=d/é?%+";
        let encoded = encode(value);
        assert!(encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)));
        assert_eq!(pairs(&format!("v={encoded}")), vec![("v".into(), value.into())]);
    }
}
