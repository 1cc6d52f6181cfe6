//! TGA variants the `image` crate reads wrong or refuses: a fourth byte that its header
//! says is not alpha (32-bit pixels with no attribute bits, or a TGA 2.0 extension area
//! saying "no alpha"), and 15/16-bit true colour (5 bits a channel and an attribute bit),
//! raw or run-length encoded, which it refuses. Written by hand for 16 bits: no crate
//! reads them.

use image::{DynamicImage, RgbaImage};

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::Decoded;
use crate::image::decoded::check_pixels;

/// What the 18-byte header of a TGA says.
struct Header {
    id_length: usize,
    colour_map: bool,
    colour_map_bytes: usize,
    image_type: u8,
    width: u32,
    height: u32,
    depth: u8,
    descriptor: u8,
}

fn header(bytes: &[u8]) -> Option<Header> {
    let le16 = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    if bytes.len() < 18 {
        return None;
    }
    let entry_bits = usize::from(bytes[7]);
    Some(Header {
        id_length: usize::from(bytes[0]),
        colour_map: bytes[1] == 1,
        colour_map_bytes: usize::from(le16(5)) * entry_bits.div_ceil(8),
        image_type: bytes[2],
        width: u32::from(le16(12)),
        height: u32::from(le16(14)),
        depth: bytes[16],
        descriptor: bytes[17],
    })
}

/// Whether the alpha a TGA's pixels could hold is really alpha: its descriptor gives it
/// attribute bits, and a TGA 2.0 extension area, if there is one, does not call them
/// something else (attributes type 3, alpha, or 4, premultiplied alpha).
fn has_alpha(bytes: &[u8], header: &Header) -> bool {
    if header.descriptor & 0x0f == 0 {
        return false;
    }
    let Some(footer) = bytes.len().checked_sub(26).map(|at| &bytes[at..]) else {
        return true;
    };
    if !footer.ends_with(b"TRUEVISION-XFILE.\0") {
        return true;
    }
    let extension = u32::from_le_bytes([footer[0], footer[1], footer[2], footer[3]]) as usize;
    match bytes.get(extension.saturating_add(494)) {
        Some(&kind) if extension != 0 => matches!(kind, 3 | 4),
        _ => true,
    }
}

/// The TGA entry point ([`crate::image::codecs::decode`]): the variants this module
/// reads itself, the rest by the `image` crate.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    use crate::image::codecs::generic;
    let format = image::ImageFormat::Tga;
    let whole = || generic::decode_full(bytes, format, spec.max_pixels).map(|p| p.image);
    match decode_special(bytes, spec.max_pixels, whole)? {
        Some(image) => Ok(generic::as_stored(image, spec)),
        None => generic::decode_generic(bytes, format, spec),
    }
}

/// A TGA that this module reads itself, as an image (`None`: leave it to the `image`
/// crate as it is); a 32-bit TGA whose fourth byte is not alpha is decoded by `decode`
/// (the `image` crate) and made opaque.
fn decode_special(
    bytes: &[u8],
    max_pixels: u64,
    decode_generic: impl FnOnce() -> Result<DynamicImage, Failure>,
) -> Result<Option<DynamicImage>, Failure> {
    let Some(header) = header(bytes) else {
        return Ok(None);
    };
    let true_colour = matches!(header.image_type, 2 | 10);
    match header.depth {
        32 if true_colour && !has_alpha(bytes, &header) => {
            Ok(Some(DynamicImage::ImageRgb8(decode_generic()?.into_rgb8())))
        }
        15 | 16 if true_colour => {
            check_pixels(
                u64::from(header.width),
                u64::from(header.height),
                max_pixels,
            )?;
            let alpha = header.descriptor & 0x0f == 1 && has_alpha(bytes, &header);
            sixteen_bit(bytes, &header, alpha).map(Some)
        }
        _ => Ok(None),
    }
}

/// 5-5-5 pixels (blue in the low bits), the top bit alpha (set: opaque) when `alpha`.
fn sixteen_bit(bytes: &[u8], header: &Header, alpha: bool) -> Result<DynamicImage, Failure> {
    let truncated = || {
        Failure::new(
            ErrorKind::Corrupt,
            "corrupt or truncated TGA: the pixel data ends early",
        )
    };
    let start = 18
        + header.id_length
        + if header.colour_map {
            header.colour_map_bytes
        } else {
            0
        };
    let mut data = bytes.get(start..).ok_or_else(truncated)?;
    let count = header.width as usize * header.height as usize;
    let mut pixels: Vec<u16> = Vec::with_capacity(count);
    let take = |data: &mut &[u8]| -> Option<u16> {
        let (pixel, rest) = data.split_first_chunk::<2>()?;
        *data = rest;
        Some(u16::from_le_bytes(*pixel))
    };
    if header.image_type == 10 {
        while pixels.len() < count {
            let (&packet, rest) = data.split_first().ok_or_else(truncated)?;
            data = rest;
            let run = (usize::from(packet & 0x7f) + 1).min(count - pixels.len());
            if packet & 0x80 != 0 {
                let pixel = take(&mut data).ok_or_else(truncated)?;
                pixels.extend(std::iter::repeat_n(pixel, run));
            } else {
                for _ in 0..run {
                    pixels.push(take(&mut data).ok_or_else(truncated)?);
                }
            }
        }
    } else {
        for _ in 0..count {
            pixels.push(take(&mut data).ok_or_else(truncated)?);
        }
    }
    let widen = |v: u16| (u32::from(v & 31) * 255 / 31) as u8;
    let (width, height) = (header.width as usize, header.height as usize);
    let (right_to_left, top_down) = (header.descriptor & 0x10 != 0, header.descriptor & 0x20 != 0);
    let mut rgba = vec![0u8; count * 4];
    for (i, &pixel) in pixels.iter().enumerate() {
        let (x, y) = (i % width, i / width);
        let x = if right_to_left { width - 1 - x } else { x };
        let y = if top_down { y } else { height - 1 - y };
        let a = if !alpha || pixel & 0x8000 != 0 {
            255
        } else {
            0
        };
        let at = (y * width + x) * 4;
        rgba[at..at + 4].copy_from_slice(&[widen(pixel >> 10), widen(pixel >> 5), widen(pixel), a]);
    }
    let image = RgbaImage::from_raw(header.width, header.height, rgba).ok_or_else(truncated)?;
    Ok(DynamicImage::ImageRgba8(image))
}
