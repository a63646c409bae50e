//! Reading a request body without ever holding more than a limit (JSON-RPC bodies on the MCP
//! routes, the gallery's sign-in form).
//!
//! A declared Content-Length over the limit is refused before a byte is read; one within it is
//! read in one call; a body without one (chunked) is read chunk by chunk and refused as soon as
//! it passes the limit.

use futures::StreamExt;
use worker::Request;

/// A UTF-8 byte order mark, which a body as text goes without (as `Request.text()` drops it).
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A body larger than the limit, or declaring itself so: answered with 413.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Request body too large: the limit is {limit} bytes ({} MiB)", limit / (1024 * 1024))]
pub struct TooLarge {
    pub limit: usize,
}

/// Why a request body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    /// The runtime failed to deliver the body.
    #[error("could not read the request body: {0}")]
    Read(#[from] worker::Error),
}

/// Why a body the entry module handed over is not used ([`text_within`]).
#[derive(Debug, thiserror::Error)]
pub enum HandedOverError {
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    /// The text the entry module wrote is not UTF-8, which only a defect of the module can
    /// cause (`Request.text()` gives text): answered as a JSON-RPC parse error.
    #[error("the request body is not valid UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
}

/// The body's declared length, refused when over `max`. An absent or unreadable header is
/// `None`: the read is then capped as it goes.
pub fn declared_length(content_length: Option<&str>, max: usize) -> Result<Option<usize>, TooLarge> {
    let Some(declared) = content_length.and_then(|v| v.trim().parse::<u64>().ok()) else {
        return Ok(None);
    };
    match usize::try_from(declared) {
        Ok(length) if length <= max => Ok(Some(length)),
        _ => Err(TooLarge { limit: max }),
    }
}

/// Collects body chunks, refusing the one that takes the total past the limit.
#[derive(Debug)]
pub struct LimitedBody {
    max: usize,
    bytes: Vec<u8>,
}

impl LimitedBody {
    /// `expected` (a declared length within the limit) only sizes the buffer up front.
    pub fn new(max: usize, expected: Option<usize>) -> Self {
        LimitedBody {
            max,
            bytes: Vec::with_capacity(expected.unwrap_or(0).min(max)),
        }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        if chunk.len() > self.max - self.bytes.len() {
            return Err(TooLarge { limit: self.max });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The body as text, as the entry module hands it over ([`text_within`]): a leading byte
    /// order mark dropped, and each sequence that is not UTF-8 made U+FFFD as `Request.text()`
    /// does (the WHATWG decoder's replacement of maximal subparts, which Rust's lossy decoding
    /// follows; tests/e2e/16-request-limits holds the two paths together).
    pub fn into_text(self) -> String {
        let mut bytes = self.bytes;
        if bytes.starts_with(UTF8_BOM) {
            bytes.drain(..UTF8_BOM.len());
        }
        String::from_utf8(bytes).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
    }
}

/// A body the entry module already read in full (it reads only bodies that declare a length
/// within the limit) as text and wrote as UTF-8, under the same rules as [`read_limited`]:
/// `Request.text()` replaced what is not UTF-8 as [`LimitedBody::into_text`] does, and kept a byte
/// order mark (it does at this worker's compatibility date), dropped here.
pub fn text_within(bytes: &[u8], max: usize) -> Result<&str, HandedOverError> {
    if bytes.len() > max {
        return Err(TooLarge { limit: max }.into());
    }
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(HandedOverError::NotUtf8)
}

/// Reads the whole body as text ([`LimitedBody::into_text`]), holding at most `max` bytes of it.
pub async fn read_limited(req: &mut Request, max: usize) -> Result<String, BodyError> {
    Ok(read_limited_body(req, max).await?.into_text())
}

/// Reads the whole body as bytes, holding at most `max` bytes of it.
pub async fn read_limited_bytes(req: &mut Request, max: usize) -> Result<Vec<u8>, BodyError> {
    Ok(read_limited_body(req, max).await?.into_bytes())
}

async fn read_limited_body(req: &mut Request, max: usize) -> Result<LimitedBody, BodyError> {
    let expected = declared_length(req.headers().get("Content-Length")?.as_deref(), max)?;
    let mut body = LimitedBody::new(max, expected);
    // A request without a body (`null` stream) reads as empty, as `Request.text()` gave.
    if req.inner().body().is_none() {
        return Ok(body);
    }
    // A declared length within the limit frames the body (the runtime delivers no more than
    // it): one `arrayBuffer()` call, instead of a reader and a JS round trip per chunk, which
    // the cpu bench showed costing more than the JSON-RPC work of a small request.
    if expected.is_some() {
        let promise = req.inner().array_buffer().map_err(worker::Error::from)?;
        let buffer = worker::wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(worker::Error::from)?;
        body.push(&worker::js_sys::Uint8Array::new(&buffer).to_vec())?;
        return Ok(body);
    }
    let mut chunks = req.stream()?;
    while let Some(chunk) = chunks.next().await {
        // Dropping the stream on refusal stops reading the rest.
        body.push(&chunk?)?;
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_read_by_the_entry_follows_the_same_rules() {
        assert_eq!(text_within(b"\xEF\xBB\xBF{}", 10).unwrap(), "{}");
        assert_eq!(
            text_within(b"\xEF\xBB\xBF\xEF\xBB\xBF", 10).unwrap(),
            "\u{feff}",
            "one mark dropped"
        );
        assert!(matches!(
            text_within(&[b' '; 11], 10),
            Err(HandedOverError::TooLarge(TooLarge { limit: 10 }))
        ));
        assert!(matches!(text_within(&[0xff], 10), Err(HandedOverError::NotUtf8(_))));
        assert_eq!(text_within(&[], 10).unwrap(), "");
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        assert!(matches!(
            declared_length(Some("101"), 100),
            Err(TooLarge { limit: 100 })
        ));
        assert!(matches!(
            declared_length(Some("18446744073709551615"), 100),
            Err(TooLarge { .. })
        ));
        assert_eq!(declared_length(Some("100"), 100).unwrap(), Some(100));
        assert_eq!(declared_length(Some(" 0 "), 100).unwrap(), Some(0));
    }

    #[test]
    fn an_absent_or_unreadable_length_leaves_the_cap_to_the_read() {
        for header in [None, Some(""), Some("-1"), Some("12abc"), Some("1e9")] {
            assert_eq!(declared_length(header, 100).unwrap(), None, "{header:?}");
        }
    }

    #[test]
    fn chunks_are_refused_once_the_total_passes_the_limit() {
        let mut body = LimitedBody::new(10, None);
        body.push(b"{\"a\":").unwrap();
        body.push(b"1}").unwrap();
        body.push(b"   ").unwrap();
        assert_eq!(body.bytes.len(), 10, "exactly the limit is fine");
        assert_eq!(body.push(b" "), Err(TooLarge { limit: 10 }));
        assert_eq!(body.bytes.len(), 10, "the refused chunk is not kept");
        let mut body = LimitedBody::new(10, Some(4));
        assert!(body.push(&[b' '; 11]).is_err(), "one chunk over the limit");
    }

    #[test]
    fn the_buffer_is_never_sized_past_the_limit() {
        assert!(LimitedBody::new(16, Some(usize::MAX)).bytes.capacity() <= 16);
    }

    #[test]
    fn text_is_utf8_without_a_byte_order_mark() {
        let text = |bytes: &[u8]| {
            let mut body = LimitedBody::new(100, None);
            body.push(bytes).unwrap();
            body.into_text()
        };
        assert_eq!(text(b"\xEF\xBB\xBF{\"k\":\"\xC3\xBC\"}"), "{\"k\":\"ü\"}");
        assert_eq!(text(b"\xEF\xBB\xBF\xEF\xBB\xBF"), "\u{feff}", "one mark dropped");
        // Sequences that are not UTF-8, one U+FFFD for each maximal subpart (the WHATWG
        // decoder's; tests/e2e/16-request-limits holds workerd's `text()` to this read): a lone
        // continuation byte, a sequence cut short, an overlong form, a surrogate, past U+10FFFF.
        assert_eq!(text(b"{\"k\":\"\xFF\"}"), "{\"k\":\"\u{fffd}\"}");
        assert_eq!(text(b"a\x80b\xE2\x82c\xF0\x9F\x98"), "a\u{fffd}b\u{fffd}c\u{fffd}");
        assert_eq!(text(b"\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80"), "\u{fffd}".repeat(9));
    }

    #[test]
    fn the_too_large_message_states_the_limit() {
        let too_large = TooLarge {
            limit: crate::catalog::REQUEST_BODY_MAX_BYTES,
        };
        let message = too_large.to_string();
        assert_eq!(message, "Request body too large: the limit is 16777216 bytes (16 MiB)");
        // Both paths (read here, or handed over by the entry module) refuse with these words.
        assert_eq!(BodyError::from(too_large).to_string(), message);
        assert_eq!(HandedOverError::from(too_large).to_string(), message);
    }
}
