//! OpenAI's masks mark the area to edit as fully transparent (alpha 0); this server's inpainting
//! model repaints where its mask is white. A PNG mask with transparency (an alpha channel or a
//! `tRNS` chunk) becomes an 8-bit grayscale PNG of the same size: transparent → white (repaint),
//! anything else → black (keep). A mask without transparency is already this server's kind and
//! is left as it is. Rows are decoded and encoded one at a time (the `png` crate), so a large
//! mask costs a row of memory, not its whole canvas.
//! (https://platform.openai.com/docs/api-reference/images/createEdit: "fully transparent areas
//! (e.g. where alpha is zero) indicate where image should be edited".)

use std::io::{Cursor, Write};

use png::{BitDepth, ColorType, Decoder, Encoder, Transformations};

/// The mask in this server's convention, or None when `bytes` need no change (no transparency,
/// or not a PNG: the usual input checks then judge them). A PNG that cannot be decoded is an error.
pub fn from_openai(bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(None);
    }
    let unreadable = |error: png::DecodingError| format!("the mask PNG could not be decoded: {error}");
    let mut decoder = Decoder::new(Cursor::new(bytes));
    // Palettes and tRNS become alpha channels; 16-bit samples become 8-bit.
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(unreadable)?;
    let channels = match reader.output_color_type().0 {
        ColorType::Rgba => 4,
        ColorType::GrayscaleAlpha => 2,
        _ => return Ok(None),
    };
    let (width, height) = (reader.info().width, reader.info().height);
    let mut out = Vec::new();
    let written = |error: png::EncodingError| format!("the converted mask could not be written: {error}");
    let mut encoder = Encoder::new(&mut out, width, height);
    encoder.set_color(ColorType::Grayscale);
    encoder.set_depth(BitDepth::Eight);
    let mut header = encoder.write_header().map_err(written)?;
    let mut stream = header.stream_writer().map_err(written)?;
    let mut gray = vec![0u8; width as usize];
    while let Some(row) = reader.next_row().map_err(unreadable)? {
        for (pixel, value) in row.data().chunks_exact(channels).zip(gray.iter_mut()) {
            *value = if pixel[channels - 1] == 0 { 255 } else { 0 };
        }
        stream.write_all(&gray).map_err(|error| written(error.into()))?;
    }
    stream.finish().map_err(written)?;
    drop(header);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG of `color` and 8-bit samples, written by the png crate's encoder.
    fn encode(width: u32, height: u32, color: ColorType, data: &[u8], trns: Option<&[u8]>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(BitDepth::Eight);
        if let Some(trns) = trns {
            encoder.set_trns(trns.to_vec());
        }
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(data).unwrap();
        writer.finish().unwrap();
        out
    }

    /// (width, height, 8-bit grayscale pixels) of a PNG.
    fn gray_pixels(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = Decoder::new(Cursor::new(bytes)).read_info().unwrap();
        assert_eq!(reader.output_color_type(), (ColorType::Grayscale, BitDepth::Eight));
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut pixels).unwrap();
        (reader.info().width, reader.info().height, pixels)
    }

    #[test]
    fn transparent_pixels_become_white_and_the_rest_black() {
        // 3x2 RGBA: alpha 0 at (0,0) and (2,1); partly transparent (alpha 1) is kept.
        let rgba = [
            10, 20, 30, 0, 255, 255, 255, 255, 0, 0, 0, 1, //
            0, 0, 0, 255, 9, 9, 9, 128, 200, 100, 50, 0,
        ];
        let converted = from_openai(&encode(3, 2, ColorType::Rgba, &rgba, None))
            .unwrap()
            .unwrap();
        assert_eq!(gray_pixels(&converted), (3, 2, vec![255, 0, 0, 0, 0, 255]));
        let gray_alpha = [0, 0, 255, 255, 7, 0, 7, 1];
        let converted = from_openai(&encode(2, 2, ColorType::GrayscaleAlpha, &gray_alpha, None))
            .unwrap()
            .unwrap();
        assert_eq!(gray_pixels(&converted), (2, 2, vec![255, 0, 255, 0]));
    }

    #[test]
    fn a_palette_with_a_transparent_entry_counts_as_transparency() {
        // Palette: 0 = opaque red, 1 = transparent; tRNS gives entry 1 alpha 0.
        let mut out = Vec::new();
        let mut encoder = Encoder::new(&mut out, 2, 1);
        encoder.set_color(ColorType::Indexed);
        encoder.set_depth(BitDepth::Eight);
        encoder.set_palette(vec![255, 0, 0, 0, 0, 0]);
        encoder.set_trns(vec![255, 0]);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[1, 0]).unwrap();
        writer.finish().unwrap();
        let converted = from_openai(&out).unwrap().unwrap();
        assert_eq!(gray_pixels(&converted), (2, 1, vec![255, 0]));
    }

    #[test]
    fn masks_without_transparency_and_other_formats_are_left_alone() {
        let rgb = encode(2, 1, ColorType::Rgb, &[255, 255, 255, 0, 0, 0], None);
        assert_eq!(from_openai(&rgb), Ok(None));
        let gray = encode(2, 1, ColorType::Grayscale, &[255, 0], None);
        assert_eq!(from_openai(&gray), Ok(None));
        assert_eq!(from_openai(b"\xFF\xD8\xFF\xE0 a jpeg"), Ok(None));
        let cut = encode(2, 2, ColorType::Rgba, &[0; 16], None);
        let error = from_openai(&cut[..cut.len() - 30]).unwrap_err();
        assert!(error.starts_with("the mask PNG could not be decoded"), "{error}");
    }
}
