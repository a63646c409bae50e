//! Differential property tests: the hand-written codecs and parsers (written out to keep generic
//! crates out of the Wasm) against well-kept crates, used here as dev-dependencies only.
//!
//! | property | cases | reference |
//! |---|---|---|
//! | `base64_decode` on arbitrary strings | 10,000 | `base64` 0.22 (Indifferent padding, trailing bits allowed) |
//! | `base64_decode` on near-base64 strings | 10,000 | `base64` 0.22, same engine |
//! | `base64_encode` on arbitrary bytes, and back | 10,000 | `base64` 0.22 `STANDARD` |
//! | `RequestUrl::parse`, `http_origin`, `query_param` | 10,000 | `url` 2.5 |
//! | `form::parse` on arbitrary strings | 10,000 | `form_urlencoded` 1.2 |
//! | `form::parse` after the gallery's lossy read, arbitrary bytes | 10,000 | `form_urlencoded` 1.2 |
//! | `civil_from_days`, ±1,000,000 days (and every day of that range once) | 10,000 | `chrono` 0.4 |
//! | the gallery's `utc_datetime`, years 0000–9999 | 10,000 | `chrono` 0.4 |
//! | `time::iso_from_ms` (task times), years 0000–9999 | 10,000 | `chrono` 0.4 |

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use chrono::{DateTime, Datelike};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

use crate::http::form;
use crate::http::url::{http_origin, query_param, RequestUrl};
use crate::media::{base64_decode, base64_encode};

// --- base64 ---------------------------------------------------------------------------------

/// The rule documented on [`base64_decode`], as the `base64` crate spells it: the standard
/// alphabet, padding optional (none, partial or canonical, never past the final group of four)
/// and the unused low bits of the last symbol ignored.
fn reference_engine() -> GeneralPurpose {
    GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

/// The crate has no option for it, so the test removes what our decoder skips (space, tab, CR,
/// LF, anywhere) before handing the text to the crate.
fn reference_decode(text: &str) -> Option<Vec<u8>> {
    let stripped: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
        .collect();
    reference_engine().decode(stripped).ok()
}

/// Strings close to base64: alphabet symbols, `=` in any number and place, the skipped
/// whitespace, the URL-safe `-_`, other ASCII and non-ASCII characters, and any character.
fn near_base64() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        12 => proptest::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".chars().collect::<Vec<_>>()
        ),
        3 => Just('='),
        1 => proptest::sample::select(vec![' ', '\t', '\n', '\r']),
        1 => proptest::sample::select(vec!['-', '_', '.', '%', '\u{0c}', '\0', 'é', '😀']),
        1 => any::<char>(),
    ];
    proptest::collection::vec(ch, 0..40).prop_map(|chars| chars.into_iter().collect())
}

/// Valid standard base64 of some bytes, then mangled: padding cut or lengthened, a symbol
/// dropped, whitespace inserted, a character replaced.
fn mangled_base64() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(any::<u8>(), 0..40),
        0u8..6,
        any::<proptest::sample::Index>(),
        proptest::sample::select(vec!['=', ' ', '\n', 'A', '/', '-', '!']),
    )
        .prop_map(|(bytes, mode, at, ch)| {
            let mut text = STANDARD.encode(bytes);
            let at = at.index(text.len() + 1);
            match mode {
                0 => text = text.trim_end_matches('=').to_string(),
                1 => text.push('='),
                2 => text.push_str("=="),
                3 => text.insert(at, ch),
                4 if at < text.len() => {
                    text.remove(at);
                }
                _ => {}
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Same accept/refuse and same bytes as the crate on arbitrary strings.
    #[test]
    fn base64_decode_matches_the_crate_on_arbitrary_strings(text in any::<String>()) {
        prop_assert_eq!(base64_decode(&text), reference_decode(&text), "{:?}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Arbitrary strings are nearly always refused by both; these mostly are not, so padding,
    /// group lengths, whitespace and trailing bits are exercised.
    #[test]
    fn base64_decode_matches_the_crate_near_valid_base64(
        text in prop_oneof![near_base64(), mangled_base64()],
    ) {
        prop_assert_eq!(base64_decode(&text), reference_decode(&text), "{:?}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// The encoder writes what the crate's padded standard engine writes, and both decoders
    /// read it back to the same bytes.
    #[test]
    fn base64_encode_matches_the_crate_and_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let ours = base64_encode(&bytes);
        prop_assert_eq!(&ours, &STANDARD.encode(&bytes));
        prop_assert_eq!(base64_decode(&ours), Some(bytes.clone()));
        prop_assert_eq!(STANDARD.decode(&ours).ok(), Some(bytes.clone()));
        let unpadded = ours.trim_end_matches('=');
        prop_assert_eq!(base64_decode(unpadded), Some(bytes));
    }
}

#[test]
fn base64_padding_rule_examples() {
    let cases: [(&str, Option<&[u8]>); 14] = [
        ("", Some(b"")),
        ("aGk", Some(b"hi")),
        ("aGk=", Some(b"hi")),
        ("aA", Some(b"h")),
        ("aA=", Some(b"h")),
        ("aA==", Some(b"h")),
        // Non-zero unused bits in the last symbol are ignored.
        ("aB==", Some(b"h")),
        ("aG k=\r\n", Some(b"hi")),
        ("aGk==", None),
        ("aGlo=", None),
        ("=", None),
        ("a", None),
        ("aA=A", None),
        ("aA-_", None),
    ];
    for (text, expected) in cases {
        assert_eq!(base64_decode(text).as_deref(), expected, "{text:?}");
        assert_eq!(reference_decode(text).as_deref(), expected, "{text:?} (crate)");
    }
}

// --- request URLs ---------------------------------------------------------------------------

/// A host as a client may write it: a DNS name (labels start with a letter, so the name is
/// never read as an IPv4 address; mixed case; no `--`, which would make `xn--…` a punycode label
/// the runtime refuses unless it decodes), `localhost`, an IPv4 or an IPv6 address.
fn host() -> impl Strategy<Value = String> {
    let label = "[a-zA-Z][a-zA-Z0-9]{0,4}(-[a-zA-Z0-9]{1,4})?";
    prop_oneof![
        4 => proptest::collection::vec(label, 1..4).prop_map(|labels| labels.join(".")),
        1 => Just("localhost".to_string()),
        1 => any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}")),
        1 => any::<[u16; 8]>().prop_map(|parts| {
            let zeroed = parts.map(|p| if p % 3 == 0 { 0 } else { p });
            format!("[{}]", zeroed.map(|p| format!("{p:x}")).join(":"))
        }),
        1 => Just("[::1]".to_string()),
    ]
}

/// Text for a path, query or fragment: `extra` are the delimiters allowed in that part, plus
/// unreserved and sub-delimiter characters, percent-escapes (valid, malformed, lower case),
/// characters the parser escapes (space, quotes, `<>`, non-ASCII) and `.`/`..` segments.
fn part(extra: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    const PIECES: &str =
        "a Z 0 - _ . ~ ! $ & ' ( ) * + , ; = : @ %20 %2F %2e %E2%9C%93 %zz %4 % \" < > é ✓ 😀 .. ` { } | ^ [ ]";
    let mut pieces: Vec<&'static str> = PIECES.split(' ').collect();
    pieces.push(" ");
    pieces.extend_from_slice(extra);
    proptest::collection::vec(proptest::sample::select(pieces), 0..max).prop_map(|p| p.concat())
}

/// A request URL as a client may write it: http or https (either case), a host, maybe a port
/// (sometimes the scheme's default), a path, maybe a query and a fragment.
fn written_url() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(vec!["http", "https", "HTTP", "Https"]),
        host(),
        proptest::option::of(prop_oneof![Just(80u16), Just(443u16), any::<u16>()]),
        proptest::collection::vec(part(&["\\"], 6), 0..5),
        proptest::option::of(part(&["/", "?", "&", "="], 12)),
        proptest::option::of(part(&["/", "?", "#"], 8)),
    )
        .prop_map(|(scheme, host, port, segments, query, fragment)| {
            let mut url = format!("{scheme}://{host}");
            if let Some(port) = port {
                url.push_str(&format!(":{port}"));
            }
            for segment in segments {
                url.push('/');
                url.push_str(&segment);
            }
            if let Some(query) = query {
                url.push('?');
                url.push_str(&query);
            }
            if let Some(fragment) = fragment {
                url.push('#');
                url.push_str(&fragment);
            }
            url
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// A Worker receives `request.url` already parsed and serialised by the runtime (WHATWG
    /// URL): absolute, valid, http(s), no user info (a request line and Host header carry
    /// none). So each written URL is parsed and serialised by the `url` crate (which implements
    /// the same standard), and our split of that text must give the crate's parts.
    #[test]
    fn request_urls_split_as_the_url_crate_parses_them(written in written_url()) {
        let url = url::Url::parse(&written);
        prop_assert!(url.is_ok(), "the generator wrote an invalid URL: {:?} ({:?})", written, url);
        let url = url.unwrap();
        let received = url.as_str();
        let ours = RequestUrl::parse(received);
        prop_assert!(ours.is_some(), "{}", received);
        let ours = ours.unwrap();
        let host = url.host_str().unwrap();
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let origin = url.origin().ascii_serialization();
        prop_assert_eq!(&ours.scheme, url.scheme(), "{}", received);
        prop_assert_eq!(&ours.authority, &authority, "{}", received);
        prop_assert_eq!(ours.host(), host, "{}", received);
        prop_assert_eq!(&ours.path, url.path(), "{}", received);
        prop_assert_eq!(ours.query.as_deref(), url.query(), "{}", received);
        prop_assert_eq!(&ours.origin(), &origin, "{}", received);
        prop_assert_eq!(http_origin(received), Some(origin), "{}", received);
        if let Some(query) = url.query() {
            for (name, _) in url.query_pairs() {
                let first = url.query_pairs().find(|(n, _)| *n == name).map(|(_, v)| v.into_owned());
                prop_assert_eq!(query_param(query, &name), first, "{} {}", received, name);
            }
        }
    }
}

// --- form / urlencoded ----------------------------------------------------------------------

/// Urlencoded-looking text: separators, `+`, escapes of any byte (either case), malformed
/// escapes, ASCII, non-ASCII and any character.
fn urlencoded() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(vec!["a", "b", "Z", "0", "&", "=", "+", "%", " ", "é", "✓", "%zz", "%4", "&&", "=="])
            .prop_map(str::to_string),
        2 => any::<u8>().prop_map(|b| format!("%{b:02X}")),
        1 => any::<u8>().prop_map(|b| format!("%{b:02x}")),
        1 => any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
}

fn reference_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Same pairs, in the same order, as the crate; escapes that decode to invalid UTF-8 become
    /// U+FFFD in both.
    #[test]
    fn form_parse_matches_the_crate_on_arbitrary_strings(
        text in prop_oneof![urlencoded(), any::<String>()],
    ) {
        prop_assert_eq!(form::parse(&text), reference_pairs(text.as_bytes()), "{:?}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Our parser takes text; the gallery's sign-in form reads its body bytes with
    /// `String::from_utf8_lossy` first. For any bytes that gives the crate's pairs, except when
    /// raw invalid UTF-8 and `%` escapes meet (see `form_lossy_read_difference_is_pinned`).
    #[test]
    fn form_parse_after_a_lossy_read_matches_the_crate_on_arbitrary_bytes(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            urlencoded().prop_map(String::into_bytes),
            (urlencoded(), proptest::collection::vec(128u8..=255, 1..4), any::<proptest::sample::Index>())
                .prop_map(|(text, raw, at)| {
                    let mut bytes = text.into_bytes();
                    let at = at.index(bytes.len() + 1);
                    bytes.splice(at..at, raw);
                    bytes
                }),
        ],
    ) {
        let ours = form::parse(&String::from_utf8_lossy(&bytes));
        let reference = reference_pairs(&bytes);
        if std::str::from_utf8(&bytes).is_ok() || !bytes.contains(&b'%') {
            prop_assert_eq!(ours, reference, "{:?}", bytes);
        } else {
            // Splitting on the ASCII `&` and `=` is never affected by the lossy read.
            prop_assert_eq!(ours.len(), reference.len(), "{:?}", bytes);
        }
    }
}

/// The one deliberate difference: the lossy read replaces a raw byte that is not UTF-8 before
/// the escapes are decoded, the crate after, so a raw lead byte followed by escaped
/// continuation bytes is one character for the crate and three U+FFFD for us. Browsers send
/// form bodies ASCII-only (everything else escaped), so only hand-made requests can differ, and
/// then only in a field that was never valid text.
#[test]
fn form_lossy_read_difference_is_pinned() {
    let bytes = b"token=\xE2%9C%93";
    assert_eq!(reference_pairs(bytes), [("token".to_string(), "✓".to_string())]);
    assert_eq!(
        form::parse(&String::from_utf8_lossy(bytes)),
        [("token".to_string(), "\u{FFFD}\u{FFFD}\u{FFFD}".to_string())]
    );
}

// --- dates ----------------------------------------------------------------------------------

const DAY_RANGE: i64 = 1_000_000;

/// (year, month, day) of a day counted from 1970-01-01, by chrono.
fn chrono_civil(days: i64) -> (i64, i64, i64) {
    let date = DateTime::from_timestamp(days * 86_400, 0).unwrap().date_naive();
    (i64::from(date.year()), i64::from(date.month()), i64::from(date.day()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn civil_from_days_matches_chrono(days in -DAY_RANGE..=DAY_RANGE) {
        prop_assert_eq!(crate::time::civil_from_days(days), chrono_civil(days), "day {}", days);
    }
}

/// Every day of the range once (two million days, about a second): chrono's date, stepped a day
/// at a time, against ours.
#[test]
fn civil_from_days_matches_chrono_on_every_day_of_the_range() {
    let mut date = DateTime::from_timestamp(-DAY_RANGE * 86_400, 0).unwrap().date_naive();
    for days in -DAY_RANGE..=DAY_RANGE {
        let expected = (i64::from(date.year()), i64::from(date.month()), i64::from(date.day()));
        assert_eq!(crate::time::civil_from_days(days), expected, "day {days}");
        date = date.succ_opt().unwrap();
    }
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z in ms: the four-digit years that ISO 8601
/// writes without a sign. (Beyond them chrono writes `+10000` and `-0001`, we `10000` and `-001`;
/// a stored time is a job's creation time, so no such year reaches the gallery.)
const MS_YEAR_0: i64 = -62_167_219_200_000;
const MS_YEAR_9999_END: i64 = 253_402_300_799_999;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// The gallery's `<time>` text: ISO 8601 to the second, and the display form to the minute.
    #[test]
    fn gallery_times_match_chrono(
        ms in prop_oneof![
            MS_YEAR_0..=MS_YEAR_9999_END,
            // 1970..2100 at random, and around midnights to the millisecond.
            0i64..4_102_444_800_000,
            (0i64..50_000, -2i64..=2).prop_map(|(day, off)| day * 86_400_000 + off),
        ],
    ) {
        let time = DateTime::from_timestamp_millis(ms).unwrap();
        let (iso, display) = crate::pages::gallery::utc_datetime(ms);
        prop_assert_eq!(iso, time.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        prop_assert_eq!(display, time.format("%Y-%m-%d %H:%M UTC").to_string());
    }

    /// A task's `createdAt`/`lastUpdatedAt`: ISO 8601 UTC to the millisecond, as `toISOString`.
    #[test]
    fn task_times_match_chrono(
        ms in prop_oneof![
            MS_YEAR_0..=MS_YEAR_9999_END,
            (0i64..50_000, -2i64..=2).prop_map(|(day, off)| day * 86_400_000 + off),
        ],
    ) {
        let time = DateTime::from_timestamp_millis(ms).unwrap();
        prop_assert_eq!(crate::time::iso_from_ms(ms), time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
    }
}
