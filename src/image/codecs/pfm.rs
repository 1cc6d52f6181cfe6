//! PFM, the floating-point member of the PNM family ("PF" colour, "Pf" gray): a text
//! header, then 32-bit floats, bottom row first, little-endian when the scale is negative.
//! The `image` crate does not read it. Samples are linear light, as for HDR and OpenEXR.

use image::{DynamicImage, Rgb32FImage};

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::Decoded;
use crate::image::decoded::check_pixels;

/// Whether `bytes` start like a PFM file.
pub(crate) fn is_pfm(bytes: &[u8]) -> bool {
    (bytes.starts_with(b"PF") || bytes.starts_with(b"Pf"))
        && bytes.get(2).is_some_and(u8::is_ascii_whitespace)
}

/// Decodes a PFM to linear-light RGB floats (gray replicated), refusing more than
/// `max_pixels` before the pixels are allocated.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    let image = decode_pixels(bytes, spec.max_pixels)?;
    Ok(crate::image::codecs::generic::as_stored(image, spec))
}

/// The picture of a PFM, as stored (it is upright), refusing more than `max_pixels`.
fn decode_pixels(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage, Failure> {
    let corrupt = |what: &str| {
        Failure::new(
            ErrorKind::Corrupt,
            format!("corrupt or truncated PFM: {what}"),
        )
    };
    let channels = if bytes.starts_with(b"PF") { 3 } else { 1 };
    // Three fields after the magic, each followed by one whitespace byte.
    let mut at = 2;
    let mut field = || -> Option<&str> {
        while bytes.get(at)?.is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes.get(at)?.is_ascii_whitespace() {
            at += 1;
        }
        std::str::from_utf8(&bytes[start..at]).ok()
    };
    let width: u32 = field()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| corrupt("no width"))?;
    let height: u32 = field()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| corrupt("no height"))?;
    let scale: f32 = field()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| corrupt("no scale"))?;
    if width == 0 || height == 0 || !scale.is_finite() || scale == 0.0 {
        return Err(corrupt("a zero size or scale"));
    }
    check_pixels(u64::from(width), u64::from(height), max_pixels)?;
    let data = bytes.get(at + 1..).unwrap_or_default();
    let (w, h) = (width as usize, height as usize);
    let needed = w * h * channels * 4;
    if data.len() < needed {
        return Err(corrupt(&format!(
            "{} bytes of pixels, {needed} expected",
            data.len()
        )));
    }
    let little_endian = scale < 0.0;
    let sample = |i: usize| {
        let four: [u8; 4] = data[i * 4..i * 4 + 4].try_into().expect("four bytes");
        if little_endian {
            f32::from_le_bytes(four)
        } else {
            f32::from_be_bytes(four)
        }
    };
    let image = Rgb32FImage::from_fn(width, height, |x, y| {
        // Rows are stored bottom first.
        let pixel = ((h - 1 - y as usize) * w + x as usize) * channels;
        let rgb = if channels == 3 {
            [sample(pixel), sample(pixel + 1), sample(pixel + 2)]
        } else {
            [sample(pixel); 3]
        };
        image::Rgb(rgb)
    });
    Ok(DynamicImage::ImageRgb32F(image))
}
