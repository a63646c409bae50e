//! `multipart/form-data` bodies (edits and variations), split into parts with the `multer` crate.
//! The body is already read within the request limit, so it is parsed from memory: one chunk,
//! always ready, which makes the parse a plain function.

use futures::FutureExt;

/// One part of a form: a field's text or a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// Present for files (`filename=` in the part's Content-Disposition).
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// Why a body is not a form this API reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("this endpoint takes a multipart/form-data body (Content-Type: multipart/form-data; boundary=…)")]
    NotMultipart,
    #[error("the multipart/form-data body is malformed: {0}")]
    Malformed(String),
}

/// The boundary named by a `multipart/form-data` Content-Type.
pub fn boundary(content_type: Option<&str>) -> Result<String, FormError> {
    multer::parse_boundary(content_type.ok_or(FormError::NotMultipart)?).map_err(|_| FormError::NotMultipart)
}

/// Every part of `body`, in order.
pub fn parts(body: Vec<u8>, boundary: &str) -> Result<Vec<Part>, FormError> {
    let chunk: Result<bytes::Bytes, std::convert::Infallible> = Ok(bytes::Bytes::from(body));
    let mut form = multer::Multipart::new(futures::stream::iter([chunk]), boundary);
    let malformed = |error: multer::Error| FormError::Malformed(error.to_string());
    // Every byte is in memory: no step waits, so each future is ready when first polled.
    let incomplete = || FormError::Malformed("the body ended inside a part".to_string());
    let mut parts = Vec::new();
    while let Some(field) = form
        .next_field()
        .now_or_never()
        .ok_or_else(incomplete)?
        .map_err(malformed)?
    {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field
            .bytes()
            .now_or_never()
            .ok_or_else(incomplete)?
            .map_err(malformed)?;
        parts.push(Part {
            name,
            file_name,
            bytes: bytes.to_vec(),
        });
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDARY: &str = "----formdata-test-7MA4YWxkTrZu0gW";

    /// A body as browsers and the OpenAI SDKs write it (CRLF line ends, quoted names).
    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, file_name, bytes) in parts {
            out.extend(format!("--{BOUNDARY}\r\n").as_bytes());
            match file_name {
                Some(file) => out.extend(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: image/png\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => out.extend(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            out.extend(*bytes);
            out.extend(b"\r\n");
        }
        out.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
        out
    }

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        let header = format!("multipart/form-data; boundary={BOUNDARY}");
        assert_eq!(boundary(Some(&header)).unwrap(), BOUNDARY);
        let quoted = format!("multipart/form-data; boundary=\"{BOUNDARY}\"");
        assert_eq!(boundary(Some(&quoted)).unwrap(), BOUNDARY);
        for wrong in [None, Some("application/json"), Some("multipart/form-data")] {
            assert_eq!(boundary(wrong), Err(FormError::NotMultipart), "{wrong:?}");
        }
    }

    #[test]
    fn fields_and_files_come_back_in_order_byte_for_byte() {
        let png: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let with_crlf = b"\r\n--not-the-boundary\r\n\x00\xff".to_vec();
        let parsed = parts(
            body(&[
                ("prompt", None, "a fox, at night ü".as_bytes()),
                ("image[]", Some("a.png"), &png),
                ("image[]", Some("b.png"), &with_crlf),
                ("n", None, b"2"),
            ]),
            BOUNDARY,
        )
        .unwrap();
        let names: Vec<&str> = parsed.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["prompt", "image[]", "image[]", "n"]);
        assert_eq!(parsed[0].bytes, "a fox, at night ü".as_bytes());
        assert_eq!(parsed[0].file_name, None);
        assert_eq!(
            (parsed[1].file_name.as_deref(), &parsed[1].bytes),
            (Some("a.png"), &png)
        );
        assert_eq!(
            parsed[2].bytes, with_crlf,
            "a CRLF and a look-alike boundary inside a file are data"
        );
        assert_eq!(parsed[3].bytes, b"2");
    }

    #[test]
    fn a_cut_off_or_foreign_body_is_malformed() {
        let whole = body(&[("prompt", None, b"a fox")]);
        let cut = whole[..whole.len() - 20].to_vec();
        assert!(matches!(parts(cut, BOUNDARY), Err(FormError::Malformed(_))));
        assert!(matches!(
            parts(b"{\"prompt\": \"a fox\"}".to_vec(), BOUNDARY),
            Err(FormError::Malformed(_))
        ));
        assert_eq!(parts(format!("--{BOUNDARY}--\r\n").into_bytes(), BOUNDARY), Ok(vec![]));
    }
}
