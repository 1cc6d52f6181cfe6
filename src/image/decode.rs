//! Bytes in, an upright 8-bit gray image out: format sniffing, the pixel limit, the
//! luma-only JPEG fast path, and EXIF orientation.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::gray::to_gray;
use crate::config::Spec;

/// A decoded image: luma (`ImageLuma8`) or luma with alpha (`ImageLumaA8`), with its EXIF
/// orientation already applied.
#[derive(Debug)]
pub struct Decoded {
    pub image: DynamicImage,
    /// The format the bytes turned out to hold.
    pub format: ImageFormat,
    /// Width and height as stored in the file, before orientation.
    pub stored_size: (u32, u32),
    /// Width and height of the whole image, upright. `image` may be smaller: a decoder
    /// that can shrink while decoding does so as far as `spec` allows.
    pub full_size: (u32, u32),
}

impl Decoded {
    /// An image decoded at full size, now upright.
    fn whole(image: DynamicImage, format: ImageFormat, stored_size: (u32, u32)) -> Decoded {
        Decoded {
            full_size: (image.width(), image.height()),
            image,
            format,
            stored_size,
        }
    }
}

/// Decodes `bytes` into an upright gray image, refusing images over `spec.max_pixels`
/// (0: no limit) before any pixel buffer is allocated. A WebP is decoded already shrunk as
/// far as [`ops::reduction_allowed`] permits for `spec`. The error says what is wrong with
/// the file in words a user can act on.
pub fn decode(bytes: &[u8], spec: &Spec) -> Result<Decoded, String> {
    let max_pixels = spec.max_pixels;
    if bytes.is_empty() {
        return Err("file is empty".into());
    }
    let format = sniff(bytes)?;
    if format == ImageFormat::Jpeg
        && let Some(decoded) = decode_jpeg_luma(bytes, max_pixels)?
    {
        return Ok(decoded);
    }
    if format == ImageFormat::WebP
        && let Some(decoded) = super::webp::decode_luma(bytes, spec)?
    {
        return Ok(decoded);
    }
    decode_generic(bytes, format, max_pixels)
}

/// Recognises the image format from the first bytes of the file.
fn sniff(bytes: &[u8]) -> Result<ImageFormat, String> {
    match image::guess_format(bytes) {
        Ok(format) if format.reading_enabled() => Ok(format),
        Ok(format) => Err(format!(
            "{} images are not supported",
            format
                .extensions_str()
                .first()
                .unwrap_or(&"this kind of")
                .to_uppercase()
        )),
        Err(_) if let Some(kind) = unsupported_kind(bytes) => {
            Err(format!("{kind} files are not supported"))
        }
        Err(_) if looks_like_text(bytes) => Err("not an image: the file holds text".into()),
        Err(_) => {
            Err("not a recognised image format (no known image signature at the start)".into())
        }
    }
}

/// Names the formats a user may well feed in that the `image` crate does not recognise.
fn unsupported_kind(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(1024)];
    let brand = bytes.get(4..12);
    if head.starts_with(b"8BPS") {
        Some("Photoshop (PSD)")
    } else if head.starts_with(b"%PDF-") {
        Some("PDF")
    } else if matches!(
        brand,
        Some(b"ftypheic" | b"ftypheix" | b"ftyphevc" | b"ftypmif1" | b"ftypmsf1")
    ) {
        Some("HEIC/HEIF")
    } else if head.starts_with(&[0xFF, 0x0A]) || brand == Some(b"JXL \r\n\x87\n") {
        Some("JPEG XL")
    } else if head.windows(4).any(|w| w == b"<svg") {
        Some("SVG (vector image)")
    } else {
        None
    }
}

fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(512)];
    head.iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace() || b >= 0x80)
}

/// Refuses a `width` x `height` image when it has more than `max_pixels` (0: no limit).
pub(super) fn check_pixels(width: u64, height: u64, max_pixels: u64) -> Result<(), String> {
    let pixels = width * height;
    if max_pixels != 0 && pixels > max_pixels {
        return Err(format!(
            "image is {width}x{height}, {} MP, over the {} MP limit (--max-pixels)",
            megapixels(pixels),
            megapixels(max_pixels)
        ));
    }
    Ok(())
}

fn megapixels(pixels: u64) -> String {
    let mp = pixels as f64 / 1e6;
    if mp >= 10.0 {
        format!("{mp:.0}")
    } else {
        format!("{mp:.1}")
    }
}

/// Decodes only the Y channel of a YCbCr or gray JPEG: no chroma upsampling, no colour
/// conversion, and exactly BT.601 luma. Returns `None` for JPEGs in other colour spaces
/// (CMYK, YCCK, RGB), which take the generic road.
fn decode_jpeg_luma(bytes: &[u8], max_pixels: u64) -> Result<Option<Decoded>, String> {
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::Luma)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX))
        .set_strict_mode(true);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder
        .decode_headers()
        .map_err(|e| format!("corrupt JPEG header: {e}"))?;
    let (width, height) = decoder
        .dimensions()
        .ok_or("corrupt JPEG header: no dimensions")?;
    check_pixels(width as u64, height as u64, max_pixels)?;
    if !matches!(
        decoder.input_colorspace(),
        Some(ColorSpace::YCbCr | ColorSpace::Luma)
    ) {
        return Ok(None);
    }
    let orientation = decoder
        .exif()
        .and_then(|exif| Orientation::from_exif_chunk(exif))
        .unwrap_or(Orientation::NoTransforms);
    let luma = decoder
        .decode()
        .map_err(|e| format!("corrupt or truncated JPEG: {e}"))?;
    let (w, h) = (width as u32, height as u32);
    let buffer = image::GrayImage::from_raw(w, h, luma)
        .ok_or("corrupt JPEG: decoder returned too few pixels")?;
    let mut image = DynamicImage::ImageLuma8(buffer);
    image.apply_orientation(orientation);
    Ok(Some(Decoded::whole(image, ImageFormat::Jpeg, (w, h))))
}

/// Decodes any format the `image` crate reads, then reduces it to gray.
fn decode_generic(bytes: &[u8], format: ImageFormat, max_pixels: u64) -> Result<Decoded, String> {
    let name = format
        .extensions_str()
        .first()
        .unwrap_or(&"image")
        .to_uppercase();
    let corrupt = |e: image::ImageError| {
        // The decoder's own words, without the wrapper's "Format error decoding ..." prefix.
        let detail = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
        format!("corrupt or truncated {name}: {detail}")
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
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let decoded = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    let mut image = to_gray(decoded);
    image.apply_orientation(orientation);
    Ok(Decoded::whole(image, format, (width, height)))
}

/// The size a PNG (IHDR) or BMP (bitmap header) claims, read straight from the bytes. The
/// PNG decoder reads on to the first image data before it reports a size, and the BMP
/// decoder refuses large sizes in its own words, so reading the header here refuses a
/// decompression bomb early and with the usual message.
fn header_size(bytes: &[u8], format: ImageFormat) -> Option<(u32, u32)> {
    let be = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let le = |at: usize| Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    match format {
        ImageFormat::Png if bytes.get(12..16)? == b"IHDR" => Some((be(16)?, be(20)?)),
        // BITMAPINFOHEADER and later: signed 32-bit sizes (a negative height is top-down).
        ImageFormat::Bmp if le(14)? >= 40 => Some((
            (le(18)? as i32).unsigned_abs(),
            (le(22)? as i32).unsigned_abs(),
        )),
        _ => None,
    }
}
