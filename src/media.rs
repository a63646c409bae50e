//! Image bytes: the formats this server stores, magic-byte sniffing and base64 decoding, so junk is never stored.

/// The image formats this server stores: PNG and JPEG from the models, WebP for thumbnails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Webp => "webp",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Webp => "image/webp",
        }
    }

    pub fn from_extension(extension: &str) -> Option<ImageFormat> {
        match extension {
            "png" => Some(ImageFormat::Png),
            "jpg" => Some(ImageFormat::Jpeg),
            "webp" => Some(ImageFormat::Webp),
            _ => None,
        }
    }
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const JPEG_SIGNATURE: [u8; 3] = [0xFF, 0xD8, 0xFF];
/// A WebP file is a RIFF container (`RIFF`, 4 length bytes) of form type `WEBP`.
const RIFF_TAG: &[u8; 4] = b"RIFF";
const WEBP_TAG: &[u8; 4] = b"WEBP";
/// Smaller than any real picture: a bare signature is not an image.
const MIN_IMAGE_BYTES: usize = 64;

/// Why model output could not be turned into an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("model output has no image: {0}")]
    Missing(String),
    #[error("model output \"image\" is not valid base64: {0}")]
    InvalidBase64(String),
    #[error("model output is not a PNG or JPEG image ({len} bytes, starting {head})")]
    NotAnImage { len: usize, head: String },
}

/// Recognises PNG, JPEG and WebP by their magic bytes.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.len() < MIN_IMAGE_BYTES {
        None
    } else if bytes.starts_with(&PNG_SIGNATURE) {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&JPEG_SIGNATURE) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(RIFF_TAG) && bytes.get(8..12) == Some(WEBP_TAG) {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// The pixel size recorded in a PNG's IHDR or a JPEG's start-of-frame header.
pub fn dimensions(bytes: &[u8], format: ImageFormat) -> Option<(u32, u32)> {
    let be16 = |at: usize| Some(u32::from(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?)));
    let be32 = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    match format {
        // Signature (8), chunk length (4), "IHDR" (4), then width and height.
        ImageFormat::Png => (bytes.get(12..16) == Some(b"IHDR")).then(|| Some((be32(16)?, be32(20)?)))?,
        ImageFormat::Jpeg => {
            let mut at = 2;
            while at + 4 <= bytes.len() {
                if bytes[at] != 0xFF {
                    return None;
                }
                let marker = bytes[at + 1];
                match marker {
                    0xFF => at += 1,
                    0x01 | 0xD0..=0xD7 => at += 2,
                    // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
                    0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                        let (height, width) = (be16(at + 5)?, be16(at + 7)?);
                        return Some((width, height));
                    }
                    _ => at += 2 + be16(at + 2)? as usize,
                }
            }
            None
        }
        ImageFormat::Webp => webp_dimensions(bytes),
    }
}

/// The canvas size of a WebP: from the VP8X header (extended), the VP8L header (lossless) or
/// the VP8 key frame (lossy), whichever chunk comes first after `RIFF....WEBP`.
fn webp_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let le = |at: usize, len: usize| {
        let mut value = 0u32;
        for (i, byte) in bytes.get(at..at + len)?.iter().enumerate() {
            value |= u32::from(*byte) << (8 * i);
        }
        Some(value)
    };
    match bytes.get(12..16)? {
        b"VP8X" => Some((le(24, 3)? + 1, le(27, 3)? + 1)),
        b"VP8L" if bytes.get(20) == Some(&0x2F) => {
            let bits = le(21, 4)?;
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
        b"VP8 " if bytes.get(23..26) == Some(&[0x9D, 0x01, 0x2A][..]) => {
            Some((le(26, 2)? & 0x3FFF, le(28, 2)? & 0x3FFF))
        }
        _ => None,
    }
}

/// Accepts model output only if it really is a PNG or JPEG (the formats models produce).
pub fn check_image(bytes: Vec<u8>) -> Result<(Vec<u8>, ImageFormat), ImageError> {
    match sniff(&bytes) {
        Some(format @ (ImageFormat::Png | ImageFormat::Jpeg)) => Ok((bytes, format)),
        _ => Err(ImageError::NotAnImage {
            len: bytes.len(),
            head: bytes
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" "),
        }),
    }
}

/// Decodes the base64 `image` field FLUX returns; tolerates a data-URL prefix, line breaks and missing padding.
pub fn decode_base64_image(encoded: &str) -> Result<Vec<u8>, ImageError> {
    let payload = match encoded.split_once(";base64,") {
        Some((prefix, data)) if prefix.starts_with("data:") => data,
        _ => encoded,
    };
    if payload.trim().is_empty() {
        return Err(ImageError::Missing("\"image\" is an empty string".to_string()));
    }
    base64_decode(payload).ok_or_else(|| {
        ImageError::InvalidBase64("characters outside the standard alphabet, or a truncated group".to_string())
    })
}

/// Standard base64 (RFC 4648, section 4) to bytes, leniently. The rule, after spaces, tabs, CRs
/// and LFs are removed (wherever they are):
///
/// - only `A-Z a-z 0-9 + /` and a final `=` padding; no symbol after a `=`;
/// - a final group of one symbol (which holds no whole byte) is refused;
/// - padding is optional, and may be partial, but never longer than what completes the final
///   group to four characters: `aGk`, `aGk=`, `aA`, `aA=`, `aA==` are taken, `aGk==`, `aGlo=`
///   and a lone `=` are not;
/// - unused low bits of the last symbol need not be zero (`aB==` is `h`, like `aA==`).
///
/// That is the `base64` crate's standard alphabet with `DecodePaddingMode::Indifferent` and
/// `decode_allow_trailing_bits(true)` (src/differential_tests.rs compares the two on arbitrary
/// strings). Written out, like [`base64_encode`], so no generic codec is compiled into the Wasm.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let (mut group, mut bits, mut padding) = (0u32, 0u32, 0u32);
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\t' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        if padding > 0 {
            return None;
        }
        group = ((group << 6) | u32::from(value)) & 0xFF_FFFF;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((group >> bits) as u8);
        }
    }
    // Bits left over after the last symbol: 0, 4 or 2 for groups of 4, 2 or 3 symbols (6 for a
    // lone symbol). A group of 2 takes up to two `=`, a group of 3 one, a full group none.
    (bits < 6 && padding <= bits / 2).then_some(out)
}

/// Length of the padded base64 text of `bytes` bytes (what [`base64_encode`] returns).
pub fn base64_len(bytes: usize) -> usize {
    bytes.div_ceil(3) * 4
}

/// Standard base64 with padding (RFC 4648, section 4), for image bytes sent inside JSON. Written
/// out because the crate's generic encoding engine costs kilobytes of Wasm for a table lookup.
pub fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let group = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            // A chunk of n bytes fills n + 1 characters; '=' pads the group to four.
            out.push(match i <= chunk.len() {
                true => char::from(ALPHABET[(group >> (18 - 6 * i)) as usize & 63]),
                false => '=',
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_encoding_matches_the_standard_engine_at_every_padding() {
        use base64::Engine;
        let bytes: Vec<u8> = (0..=255u8).rev().chain(0..=255).collect();
        for len in [0, 1, 2, 3, 4, 5, 6, 7, 255, 511, 512] {
            let slice = &bytes[..len];
            assert_eq!(
                base64_encode(slice),
                base64::engine::general_purpose::STANDARD.encode(slice),
                "{len} bytes"
            );
        }
    }
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    #[test]
    fn dimensions_come_from_the_png_header_and_the_jpeg_frame() {
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend([0, 0, 0, 13]);
        png.extend(b"IHDR");
        png.extend(1216u32.to_be_bytes());
        png.extend(640u32.to_be_bytes());
        assert_eq!(dimensions(&png, ImageFormat::Png), Some((1216, 640)));
        // SOI, an APP0 segment to skip, then SOF0 with height 768 and width 1024.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB];
        jpeg.extend([0xFF, 0xC0, 0x00, 0x11, 0x08, 0x03, 0x00, 0x04, 0x00, 0x03]);
        assert_eq!(dimensions(&jpeg, ImageFormat::Jpeg), Some((1024, 768)));
        assert_eq!(
            dimensions(&jpeg[..12], ImageFormat::Jpeg),
            None,
            "a cut header has no size"
        );
        assert_eq!(dimensions(b"\x89PNG", ImageFormat::Png), None);
    }

    fn png() -> Vec<u8> {
        let mut bytes = PNG_SIGNATURE.to_vec();
        bytes.resize(100, 0);
        bytes
    }

    fn jpeg() -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
        bytes.resize(100, 7);
        bytes
    }

    #[test]
    fn sniffs_png_and_jpeg_by_magic_bytes() {
        assert_eq!(sniff(&png()), Some(ImageFormat::Png));
        assert_eq!(sniff(&jpeg()), Some(ImageFormat::Jpeg));
        assert_eq!(
            sniff(b"GIF89a and then some more bytes to pass the minimum length check........"),
            None
        );
        assert_eq!(
            sniff(&PNG_SIGNATURE),
            None,
            "a bare signature is too short to be an image"
        );
    }

    #[test]
    fn junk_bytes_are_refused_with_a_description() {
        let error = check_image(b"<html>not an image at all, just text pretending to be one......</html>".to_vec())
            .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("not a PNG or JPEG"), "{message}");
        assert!(message.contains("3c 68 74 6d"), "{message}");
    }

    #[test]
    fn base64_decodes_plain_padded_unpadded_and_data_urls() {
        let bytes = jpeg();
        let encoded = STANDARD.encode(&bytes);
        assert_eq!(decode_base64_image(&encoded).unwrap(), bytes);
        assert_eq!(decode_base64_image(encoded.trim_end_matches('=')).unwrap(), bytes);
        assert_eq!(
            decode_base64_image(&format!("data:image/jpeg;base64,{encoded}")).unwrap(),
            bytes
        );
        let wrapped: String = encoded
            .as_bytes()
            .chunks(20)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        assert_eq!(decode_base64_image(&wrapped).unwrap(), bytes);
    }

    #[test]
    fn the_decoder_agrees_with_the_base64_crate() {
        for len in 0..64usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            let encoded = STANDARD.encode(&bytes);
            assert_eq!(base64_decode(&encoded), Some(bytes.clone()), "{encoded}");
            assert_eq!(base64_encode(&bytes), encoded);
        }
        for bad in ["A", "AAAAA", "AA=A", "AA===", "AA-_", "AA\u{e9}"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
        assert_eq!(base64_decode("aGk"), Some(b"hi".to_vec()));
    }

    #[test]
    fn invalid_or_empty_base64_is_an_error() {
        assert!(matches!(
            decode_base64_image("not base64!!"),
            Err(ImageError::InvalidBase64(_))
        ));
        assert!(matches!(decode_base64_image(""), Err(ImageError::Missing(_))));
    }

    /// A lossy WebP header: RIFF, size, WEBP, a "VP8 " chunk, frame tag, start code, 14-bit sizes.
    fn webp(width: u16, height: u16) -> Vec<u8> {
        let mut bytes = b"RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00".to_vec();
        bytes.extend([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A]);
        bytes.extend(width.to_le_bytes());
        bytes.extend(height.to_le_bytes());
        bytes.resize(100, 0);
        bytes
    }

    #[test]
    fn webp_is_sniffed_and_sized_but_never_taken_as_model_output() {
        let lossy = webp(256, 192);
        assert_eq!(sniff(&lossy), Some(ImageFormat::Webp));
        assert_eq!(dimensions(&lossy, ImageFormat::Webp), Some((256, 192)));
        // Extended (VP8X): 24-bit width-1 and height-1.
        let mut extended = b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00".to_vec();
        extended.extend([0xFF, 0x00, 0x00, 0xAF, 0x00, 0x00]);
        extended.resize(100, 0);
        assert_eq!(dimensions(&extended, ImageFormat::Webp), Some((256, 176)));
        // Lossless (VP8L): signature 0x2f, then 14 bits width-1, 14 bits height-1.
        let bits: u32 = 255 | (143 << 14);
        let mut lossless = b"RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f".to_vec();
        lossless.extend(bits.to_le_bytes());
        lossless.resize(100, 0);
        assert_eq!(dimensions(&lossless, ImageFormat::Webp), Some((256, 144)));
        assert_eq!(
            dimensions(&lossy[..27], ImageFormat::Webp),
            None,
            "a cut header has no size"
        );
        let mut riff_wave = lossy.clone();
        riff_wave[8..12].copy_from_slice(b"WAVE");
        assert_eq!(sniff(&riff_wave), None);
        assert!(matches!(check_image(lossy), Err(ImageError::NotAnImage { .. })));
    }

    #[test]
    fn formats_map_to_real_extensions_and_content_types() {
        assert_eq!(
            (ImageFormat::Jpeg.extension(), ImageFormat::Jpeg.content_type()),
            ("jpg", "image/jpeg")
        );
        assert_eq!(
            (ImageFormat::Png.extension(), ImageFormat::Png.content_type()),
            ("png", "image/png")
        );
        assert_eq!(ImageFormat::from_extension("jpg"), Some(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::from_extension("webp"), Some(ImageFormat::Webp));
        assert_eq!(ImageFormat::Webp.content_type(), "image/webp");
        assert_eq!(ImageFormat::from_extension("gif"), None);
    }
}
