//! The gallery sign-in cookie: format, signature check, cookie attributes, and the same-origin
//! check on the sign-in and sign-out forms.
//!
//! Value: `v1.<subject>.<expires, Unix seconds>.<signature>`, where the subject is the caller's
//! name (`admin` or an API key's name) and the signature is
//! HMAC-SHA256 over [`SIGNING_CONTEXT`] + `v1.<subject>.<expires>` keyed with `AUTH_TOKEN`,
//! in lower-case hex. Rotating the token therefore signs everyone out. The token itself is never
//! in the cookie, and the HMAC is computed by the runtime's Web Crypto (`crypto.subtle`), which
//! costs no Wasm size.

use crate::access::constant_time_eq;
use crate::catalog::GALLERY_SESSION_SECONDS;

pub const COOKIE_NAME: &str = "gallery_session";
/// The cookie is only sent to the gallery's own routes.
const COOKIE_PATH: &str = "/gallery";
const FORMAT_VERSION: &str = "v1";
/// Prefixed to every signed payload, so a signature made for anything else never verifies here.
pub const SIGNING_CONTEXT: &str = "mcp-image-generator gallery session\n";
const SUBJECT_MAX_CHARS: usize = 64;
/// Clock slack allowed for an expiry further ahead than a fresh session's.
const CLOCK_SKEW_SECONDS: i64 = 60;
/// HMAC-SHA256 output.
const SIGNATURE_BYTES: usize = 32;

/// Who is signed in, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub subject: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl Session {
    /// A fresh session for `subject`, starting `now` (Unix seconds).
    pub fn new(subject: &str, now: i64) -> Session {
        Session {
            subject: subject.to_string(),
            expires_at: now + GALLERY_SESSION_SECONDS,
        }
    }

    /// The bytes the signature covers.
    pub fn payload(&self) -> String {
        format!("{FORMAT_VERSION}.{}.{}", self.subject, self.expires_at)
    }

    /// Still valid at `now`, and not claiming a longer life than any session we issue.
    pub fn is_current(&self, now: i64) -> bool {
        now < self.expires_at && self.expires_at <= now + GALLERY_SESSION_SECONDS + CLOCK_SKEW_SECONDS
    }
}

/// A cookie value split into what was signed, what it claims, and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedValue {
    pub session: Session,
    pub signature: Vec<u8>,
}

/// The message the HMAC runs over.
pub fn signing_input(payload: &str) -> String {
    format!("{SIGNING_CONTEXT}{payload}")
}

/// The cookie value for a session and its signature.
pub fn encode(session: &Session, signature: &[u8]) -> String {
    format!("{}.{}", session.payload(), to_hex(signature))
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// Lower-case hex only, so each signature has exactly one spelling.
fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Splits a cookie value; None for anything not in our format (the signature is not checked here).
pub fn decode(value: &str) -> Option<SignedValue> {
    let mut parts = value.split('.');
    let (version, subject, expires, signature) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || version != FORMAT_VERSION || !valid_subject(subject) {
        return None;
    }
    // Digits only: `+5` or ` 5` would parse but make a second spelling of the same payload.
    if expires.is_empty() || expires.len() > 12 || !expires.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let signature = from_hex(signature)?;
    if signature.len() != SIGNATURE_BYTES {
        return None;
    }
    Some(SignedValue {
        session: Session {
            subject: subject.to_string(),
            expires_at: expires.parse().ok()?,
        },
        signature,
    })
}

fn valid_subject(subject: &str) -> bool {
    (1..=SUBJECT_MAX_CHARS).contains(&subject.len())
        && subject
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Accepts a decoded value whose signature equals `expected` (compared in constant time) and
/// whose session is current.
pub fn accept(value: &SignedValue, expected_signature: &[u8], now: i64) -> Option<Session> {
    (constant_time_eq(&value.signature, expected_signature) && value.session.is_current(now))
        .then(|| value.session.clone())
}

/// Every value of our cookie in a `Cookie` request header (a browser may send more than one
/// when cookies of the same name exist for several paths); at most a few are considered.
pub fn cookie_values(header: &str) -> Vec<&str> {
    const MAX_CANDIDATES: usize = 4;
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .take(MAX_CANDIDATES)
        .collect()
}

/// `Set-Cookie` for a new session: HttpOnly (no script reads it), SameSite=Strict (never sent
/// on cross-site requests), Secure unless the request came to a loopback host over plain HTTP.
pub fn set_cookie(value: &str, secure: bool) -> String {
    cookie_header(value, GALLERY_SESSION_SECONDS, secure)
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    cookie_header("", 0, secure)
}

fn cookie_header(value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={value}; Max-Age={max_age}; Path={COOKIE_PATH}; HttpOnly; SameSite=Strict{secure}")
}

/// Whether the cookie needs `Secure`: always, except for plain HTTP to localhost, 127.0.0.1
/// or [::1] (local development, where a Secure cookie could not be set).
pub fn needs_secure(scheme: &str, host: &str) -> bool {
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1") || host.ends_with(".localhost");
    !(scheme == "http" && loopback)
}

/// Whether a state-changing form POST comes from the gallery's own pages. Browsers send
/// `Sec-Fetch-Site` and `Origin` on form POSTs; either one naming another site refuses it.
/// A request with neither is not from a browser page, so it cannot be a cross-site forgery.
pub fn same_origin_post(request_origin: &str, origin: Option<&str>, sec_fetch_site: Option<&str>) -> bool {
    let fetch_site_ok = sec_fetch_site.is_none_or(|site| site.trim().eq_ignore_ascii_case("same-origin"));
    let origin_ok = origin.is_none_or(|origin| {
        origin
            .trim()
            .trim_end_matches('/')
            .eq_ignore_ascii_case(request_origin.trim_end_matches('/'))
    });
    fetch_site_ok && origin_ok
}

/// HMAC-SHA256 through the runtime's Web Crypto. Only callable inside the Workers runtime.
pub mod web_crypto {
    use worker::js_sys::{Array, Object, Promise, Reflect, Uint8Array};
    use worker::wasm_bindgen::prelude::wasm_bindgen;
    use worker::wasm_bindgen::JsValue;
    use worker::wasm_bindgen_futures::JsFuture;

    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
    extern "C" {
        #[wasm_bindgen(catch, js_namespace = ["crypto", "subtle"], js_name = importKey)]
        fn import_key(
            format: &str,
            key_data: &Uint8Array,
            algorithm: &Object,
            extractable: bool,
            usages: &Array,
        ) -> Result<Promise, JsValue>;

        #[wasm_bindgen(catch, js_namespace = ["crypto", "subtle"], js_name = sign)]
        fn sign(algorithm: &str, key: &JsValue, data: &Uint8Array) -> Result<Promise, JsValue>;
    }

    /// A Web Crypto failure (it only fails for arguments this module controls).
    #[derive(Debug, thiserror::Error)]
    #[error("Web Crypto HMAC failed: {0}")]
    pub struct CryptoError(String);

    fn js_error(value: JsValue) -> CryptoError {
        CryptoError(
            value
                .as_string()
                .or_else(|| Reflect::get(&value, &"message".into()).ok().and_then(|m| m.as_string()))
                .unwrap_or_else(|| "unknown error".to_string()),
        )
    }

    /// HMAC-SHA256 of `message` under `key`.
    pub async fn hmac_sha256(key: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let algorithm = Object::new();
        Reflect::set(&algorithm, &"name".into(), &"HMAC".into()).map_err(js_error)?;
        Reflect::set(&algorithm, &"hash".into(), &"SHA-256".into()).map_err(js_error)?;
        let usages = Array::of1(&"sign".into());
        let key_promise = import_key("raw", &Uint8Array::from(key), &algorithm, false, &usages).map_err(js_error)?;
        let crypto_key = JsFuture::from(key_promise).await.map_err(js_error)?;
        let sign_promise = sign("HMAC", &crypto_key, &Uint8Array::from(message)).map_err(js_error)?;
        let signature = JsFuture::from(sign_promise).await.map_err(js_error)?;
        Ok(Uint8Array::new(&signature).to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_760_000_000;

    fn signed(session: &Session) -> String {
        encode(session, &[7u8; SIGNATURE_BYTES])
    }

    #[test]
    fn a_new_session_lasts_twelve_hours_and_round_trips() {
        let session = Session::new(crate::access::ADMIN_NAME, NOW);
        assert_eq!(session.expires_at - NOW, 12 * 3600);
        let value = signed(&session);
        assert!(value.starts_with(&format!("v1.admin.{}.", NOW + 12 * 3600)));
        let decoded = decode(&value).unwrap();
        assert_eq!(decoded.session, session);
        assert_eq!(decoded.signature, vec![7u8; SIGNATURE_BYTES]);
        assert!(value.ends_with(&"07".repeat(SIGNATURE_BYTES)));
        // Cookie-safe characters only: no quoting, separators or spaces.
        assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
    }

    #[test]
    fn the_signed_message_has_the_context_and_the_whole_payload() {
        let session = Session::new("admin", NOW);
        assert_eq!(
            signing_input(&session.payload()),
            format!("mcp-image-generator gallery session\nv1.admin.{}", NOW + 12 * 3600)
        );
    }

    #[test]
    fn malformed_values_are_not_decoded() {
        let good = signed(&Session::new("admin", NOW));
        let sig = good.rsplit('.').next().unwrap().to_string();
        for bad in [
            String::new(),
            "v1.admin.123".to_string(),
            format!("v2.admin.123.{sig}"),
            format!("v1.Admin.123.{sig}"),
            format!("v1..123.{sig}"),
            format!("v1.admin.+123.{sig}"),
            format!("v1.admin.-5.{sig}"),
            format!("v1.admin.12a.{sig}"),
            format!("v1.admin.1234567890123.{sig}"),
            format!("v1.admin.123.{sig}.extra"),
            "v1.admin.123.abcd".to_string(),
            format!("v1.admin.123.{}", "A".repeat(64)),
            format!("v1.admin.123.{}", "g".repeat(64)),
            format!("v1.admin.123.{}", &sig[..63]),
            format!("v1.{}.123.{sig}", "a".repeat(65)),
        ] {
            assert_eq!(decode(&bad), None, "{bad}");
        }
    }

    #[test]
    fn accept_needs_the_right_signature_and_a_current_session() {
        let session = Session::new("admin", NOW);
        let value = decode(&signed(&session)).unwrap();
        assert_eq!(accept(&value, &[7u8; 32], NOW), Some(session.clone()));
        assert_eq!(accept(&value, &[8u8; 32], NOW), None);
        assert_eq!(accept(&value, &[7u8; 31], NOW), None);
        // Expired at the expiry second and after.
        assert_eq!(accept(&value, &[7u8; 32], session.expires_at), None);
        assert_eq!(accept(&value, &[7u8; 32], session.expires_at - 1), Some(session));
    }

    #[test]
    fn sessions_claiming_more_than_a_fresh_lifetime_are_refused() {
        let far = Session {
            subject: "admin".into(),
            expires_at: NOW + GALLERY_SESSION_SECONDS + 3600,
        };
        assert!(!far.is_current(NOW));
        let skewed = Session {
            subject: "admin".into(),
            expires_at: NOW + GALLERY_SESSION_SECONDS + 30,
        };
        assert!(skewed.is_current(NOW));
    }

    #[test]
    fn cookie_values_are_found_among_others() {
        assert_eq!(
            cookie_values("a=1; gallery_session=v1.x; gallery_sessionx=2;gallery_session=\"q\""),
            vec!["v1.x", "q"]
        );
        assert!(cookie_values("other=1").is_empty());
        assert!(cookie_values("").is_empty());
        assert_eq!(cookie_values(&"gallery_session=a;".repeat(50)).len(), 4);
    }

    #[test]
    fn set_cookie_has_every_protective_attribute() {
        let header = set_cookie("v1.admin.1.sig", true);
        assert_eq!(
            header,
            "gallery_session=v1.admin.1.sig; Max-Age=43200; Path=/gallery; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!set_cookie("v", false).contains("Secure"));
        assert_eq!(
            clear_cookie(true),
            "gallery_session=; Max-Age=0; Path=/gallery; HttpOnly; SameSite=Strict; Secure"
        );
    }

    #[test]
    fn secure_is_dropped_only_for_plain_http_to_loopback() {
        assert!(!needs_secure("http", "localhost"));
        assert!(!needs_secure("http", "127.0.0.1"));
        assert!(!needs_secure("http", "[::1]"));
        assert!(!needs_secure("http", "app.localhost"));
        assert!(needs_secure("https", "localhost"));
        assert!(needs_secure("https", "images.example.com"));
        assert!(needs_secure("http", "images.example.com"));
        assert!(needs_secure("http", "localhost.evil.example"));
    }

    #[test]
    fn cross_site_form_posts_are_refused() {
        let me = "https://img.example.com";
        assert!(same_origin_post(
            me,
            Some("https://img.example.com"),
            Some("same-origin")
        ));
        assert!(same_origin_post(me, Some("https://IMG.example.com"), None));
        assert!(same_origin_post(me, None, Some("same-origin")));
        assert!(same_origin_post(me, None, None), "non-browser clients send neither");
        assert!(!same_origin_post(me, Some("https://evil.example"), Some("same-origin")));
        assert!(!same_origin_post(
            me,
            Some("https://img.example.com"),
            Some("cross-site")
        ));
        assert!(!same_origin_post(me, None, Some("same-site")));
        assert!(!same_origin_post(me, None, Some("none")));
        assert!(!same_origin_post(me, Some("null"), None));
        assert!(!same_origin_post(me, Some("http://img.example.com"), None));
    }
}
