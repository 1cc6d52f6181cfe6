//! DDS textures through the `dds` crate (image-rs, pure Rust): every block-compressed
//! format (BC1 to BC7, ATI1/ATI2), the DX10 header's DXGI formats (sRGB and typeless
//! ones included), uncompressed pixels described by bit masks, YUV layouts; and 8-bit
//! palette textures and pixel masks the crate does not know, read here. The first surface
//! is the picture: the largest mipmap of the first texture, cube face or depth slice.
//! Float formats (BC6H, half and single floats) are clamped to 0..1 and taken as stored,
//! as texture tools (DirectXTex, Pillow) convert them.

mod masks;

use std::io::Cursor;

use dds::header::ParseOptions;
use dds::{ColorFormat, DecodingError, ImageViewMut};
use image::{DynamicImage, RgbaImage};

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::Decoded;
use crate::image::decoded::check_pixels;

/// Decodes the first surface of the DDS `bytes`, refusing more than `max_pixels` from the
/// header, before any pixel buffer exists.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    let image = decode_pixels(bytes, spec.max_pixels)?;
    Ok(crate::image::codecs::generic::as_stored(image, spec))
}

/// The first surface of a DDS as pixels, refusing more than `max_pixels`.
fn decode_pixels(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage, Failure> {
    if let Some(image) = palette(bytes, max_pixels)? {
        return Ok(image);
    }
    let bytes = &with_texture_dimension(bytes)[..];
    let mut options = ParseOptions::default();
    // Older writers leave header fields wrong (a missing pitch, flags), and the crate can
    // put them right when it knows the file's length.
    options.permissive = true;
    options.file_len = Some(bytes.len() as u64);
    let mut decoder = match dds::Decoder::new_with_options(Cursor::new(bytes), &options) {
        Ok(decoder) => decoder,
        Err(DecodingError::Format(format)) => {
            return match crate::image::codecs::dds::masks::decode(bytes, max_pixels)? {
                Some(image) => Ok(image),
                None => Err(failure(DecodingError::Format(format))),
            };
        }
        Err(other) => return Err(failure(other)),
    };
    let size = decoder.main_size();
    check_pixels(u64::from(size.width), u64::from(size.height), max_pixels)?;
    let mut data = zeroed(size.pixels() as usize * 4).ok_or_else(out_of_memory)?;
    let view =
        ImageViewMut::new(&mut data, size, ColorFormat::RGBA_U8).ok_or_else(out_of_memory)?;
    decoder.read_surface(view).map_err(failure)?;
    let image = RgbaImage::from_raw(size.width, size.height, data).ok_or_else(out_of_memory)?;
    Ok(DynamicImage::ImageRgba8(image))
}

fn out_of_memory() -> Failure {
    Failure::new(ErrorKind::OutOfMemory, "out of memory decoding the DDS")
}

fn zeroed(length: usize) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    data.try_reserve_exact(length).ok()?;
    data.resize(length, 0);
    Some(data)
}

/// `bytes` with a DX10 header's resource dimension of 0 (unknown, as some writers leave
/// it) taken for a 2D texture, as Pillow and DirectXTex take it.
fn with_texture_dimension(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if bytes.get(84..88) == Some(b"DX10") && bytes.get(132..136) == Some(&[0; 4]) {
        let mut fixed = bytes.to_vec();
        fixed[132] = 3;
        return std::borrow::Cow::Owned(fixed);
    }
    std::borrow::Cow::Borrowed(bytes)
}

/// An 8-bit palette texture (pixel format flag DDPF_PALETTEINDEXED8): 256 RGBA entries
/// after the header, then one index a pixel. `None` for any other DDS.
fn palette(bytes: &[u8], max_pixels: u64) -> Result<Option<DynamicImage>, Failure> {
    let le32 = |at: usize| crate::image::fields::le32(bytes, at);
    let (Some(flags), Some(bits)) = (le32(80), le32(88)) else {
        return Ok(None);
    };
    // Writers put 8 or the palette's depth in the bit count: the flag decides.
    if flags & 0x20 == 0 || bits == 0 {
        return Ok(None);
    }
    let (height, width) = (le32(12).unwrap_or(0), le32(16).unwrap_or(0));
    check_pixels(u64::from(width), u64::from(height), max_pixels)?;
    let table = bytes.get(128..128 + 1024);
    let indices = bytes.get(128 + 1024..128 + 1024 + width as usize * height as usize);
    let (Some(table), Some(indices)) = (table, indices) else {
        return Err(Failure::new(
            ErrorKind::Corrupt,
            "corrupt or truncated DDS: the palette texture ends early",
        ));
    };
    let rgba = indices
        .iter()
        .flat_map(|&i| <[u8; 4]>::try_from(&table[usize::from(i) * 4..][..4]).unwrap_or_default())
        .collect();
    Ok(RgbaImage::from_raw(width, height, rgba).map(DynamicImage::ImageRgba8))
}

/// A decoder error in words: a format the crate does not decode is named and
/// unsupported, never "corrupt"; anything else is a damaged file.
fn failure(error: DecodingError) -> Failure {
    match error {
        DecodingError::Format(format) => {
            let variant = match format {
                dds::FormatError::UnsupportedDxgiFormat(dxgi) => format!("DXGI format {dxgi:?}"),
                dds::FormatError::UnsupportedFourCC(four_cc) => {
                    let code = four_cc.0.to_le_bytes();
                    match code.iter().all(u8::is_ascii_alphanumeric) {
                        true => format!("FourCC {}", String::from_utf8_lossy(&code)),
                        false => format!("FourCC code 0x{:x}", four_cc.0),
                    }
                }
                _ => "this pixel format".to_string(),
            };
            Failure::new(
                ErrorKind::Unsupported,
                format!("DDS textures in {variant} are not supported"),
            )
        }
        DecodingError::MemoryLimitExceeded => {
            Failure::new(ErrorKind::OutOfMemory, "out of memory decoding the DDS")
        }
        other => Failure::new(
            ErrorKind::Corrupt,
            format!(
                "corrupt or truncated DDS: {}",
                crate::image::wording::readable(&other.to_string())
            ),
        ),
    }
}
