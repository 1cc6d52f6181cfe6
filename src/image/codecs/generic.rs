//! Formats the `image` crate reads as they are (and the fallback of the decoders that put
//! some of its variants right): decoded whole in their own colour type, the pixel limit
//! checked from the header first, then turned to the tone asked for and upright.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::decoded::{Decoded, check_pixels};
use crate::image::pixels::color::Tone;

/// Decodes any format the `image` crate reads, then reduces it to the tone `spec` asks
/// for (its embedded ICC profile deciding too, see [`Tone::for_picture`]).
pub(crate) fn decode_generic(
    bytes: &[u8],
    format: ImageFormat,
    spec: &Conversion,
) -> Result<Decoded, Failure> {
    let Picture {
        image,
        orientation,
        icc,
    } = decode_full(bytes, format, spec.max_pixels)?;
    let size = (image.width(), image.height());
    let tone = Tone::for_picture(spec, icc.as_deref());
    Ok(upright(image, orientation, size, tone).in_profile(icc))
}

/// `image` in `tone`, turned upright.
pub(crate) fn upright(
    image: DynamicImage,
    orientation: Orientation,
    stored_size: (u32, u32),
    tone: Tone,
) -> Decoded {
    let mut image = tone.of(image);
    image.apply_orientation(orientation);
    Decoded::whole(image, stored_size)
}

/// A QOI, its missing end marker put right first.
pub(crate) fn decode_qoi(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    let repaired = crate::image::repair::qoi_with_end_marker(bytes);
    decode_generic(&repaired, ImageFormat::Qoi, spec)
}

/// A picture its decoder already turned upright (or that has no orientation), untagged,
/// in the tone `spec` asks for, its stored size its own.
pub(crate) fn as_stored(image: DynamicImage, spec: &Conversion) -> Decoded {
    let size = (image.width(), image.height());
    let tone = Tone::for_picture(spec, None);
    upright(image, Orientation::NoTransforms, size, tone)
}

/// A picture as the `image` crate decodes it.
pub(crate) struct Picture {
    /// In its own colour type.
    pub(crate) image: DynamicImage,
    /// Its EXIF orientation, not applied.
    pub(crate) orientation: Orientation,
    /// Its embedded ICC profile.
    pub(crate) icc: Option<Vec<u8>>,
}

/// Decodes any format the `image` crate reads, in its own colour type, with its EXIF
/// orientation (not applied) and ICC profile.
pub(crate) fn decode_full(
    bytes: &[u8],
    format: ImageFormat,
    max_pixels: u64,
) -> Result<Picture, Failure> {
    let name = format
        .extensions_str()
        .first()
        .unwrap_or(&"image")
        .to_uppercase();
    let corrupt = |e: image::ImageError| {
        let kind = match &e {
            // The allocation cap is derived from the pixel limit.
            image::ImageError::Limits(_) => ErrorKind::TooManyPixels,
            image::ImageError::Unsupported(_) => ErrorKind::Unsupported,
            _ => ErrorKind::Corrupt,
        };
        // The decoder's own words, without the wrapper's "Format error decoding ..." prefix.
        let detail = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
        let detail = crate::image::wording::readable(&detail);
        let message = match kind {
            ErrorKind::TooManyPixels => {
                format!("{name} too large to decode within the --max-pixels limit: {detail}")
            }
            _ => format!("corrupt or truncated {name}: {detail}"),
        };
        Failure::new(kind, message)
    };
    if let Some((width, height)) = header_size(bytes, format) {
        check_pixels(u64::from(width), u64::from(height), max_pixels)?;
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::no_limits();
    if max_pixels != 0 {
        // Room for the widest pixel type (RGBA, 32-bit float) plus decoder scratch space.
        limits.max_alloc = Some(max_pixels.saturating_mul(32));
    }
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    check_pixels(u64::from(width), u64::from(height), max_pixels)?;
    let orientation = crate::image::decoded::orientation_of(&mut decoder);
    let icc = decoder.icc_profile().ok().flatten();
    let image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    Ok(Picture {
        image,
        orientation,
        icc,
    })
}

/// The size a BMP (bitmap header), QOI or farbfeld file claims, read straight from the
/// bytes: the BMP decoder refuses large sizes in its own words, and the QOI and farbfeld
/// decoders only once allocated, so reading the header here refuses a decompression bomb
/// early and with the usual message. (PNG and JPEG headers are read by their own paths.)
fn header_size(bytes: &[u8], format: ImageFormat) -> Option<(u32, u32)> {
    let be = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let le = |at: usize| Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    match format {
        // BITMAPINFOHEADER and later: signed 32-bit sizes (a negative height is top-down).
        ImageFormat::Bmp if le(14)? >= 40 => Some((
            (le(18)? as i32).unsigned_abs(),
            (le(22)? as i32).unsigned_abs(),
        )),
        // QOI ("qoif") and farbfeld: big-endian width and height right after the magic;
        // their decoders refuse large sizes in their own words, or only once allocated.
        ImageFormat::Qoi => Some((be(4)?, be(8)?)),
        ImageFormat::Farbfeld => Some((be(8)?, be(12)?)),
        _ => None,
    }
}
