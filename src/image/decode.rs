//! Bytes in, an upright 8-bit gray image out: format sniffing, the pixel limit, the
//! choice of decoder (JPEG and WebP have their own), and EXIF orientation.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek};

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::decoded::{Decoded, check_pixels};
use super::gray::to_gray;
use crate::config::Spec;
use crate::failure::{ErrorKind, Failure};

/// Decodes `bytes` into an upright gray image, refusing images over `spec.max_pixels`
/// (0: no limit) before any pixel buffer is allocated. A JPEG, PNG or WebP is decoded already
/// shrunk as far as [`super::resize::reduction_allowed`] permits for `spec`. The error says
/// what is wrong with the file in words a user can act on.
pub fn decode(bytes: &[u8], spec: &Spec) -> Result<Decoded, Failure> {
    decode_hinted(bytes, spec, None)
}

/// [`decode`], for a file whose name ends in `extension`: used for formats without a
/// signature to sniff (TGA), to name the format of a file imgpar does not read, and to
/// refuse camera RAW files (TIFF inside) unread; never to read an image as other than its
/// bytes say.
pub fn decode_hinted(
    bytes: &[u8],
    spec: &Spec,
    extension: Option<&str>,
) -> Result<Decoded, Failure> {
    let max_pixels = spec.max_pixels;
    if let Some(reason) = extension.and_then(super::unsupported::raw_refusal) {
        return Err(unsupported(reason));
    }
    if bytes.is_empty() {
        return Err(Failure::new(ErrorKind::Read, "file is empty"));
    }
    if super::jxl::is_jxl(bytes) {
        return super::jxl::decode(bytes, max_pixels);
    }
    if super::jpeg2000::is_jpeg2000(bytes) {
        return super::jpeg2000::decode(bytes, spec);
    }
    if super::avif::is_avif(bytes) {
        return super::avif::decode(bytes, max_pixels);
    }
    if super::pfm::is_pfm(bytes) {
        let image = super::pfm::decode(bytes, max_pixels)?;
        let size = (image.width(), image.height());
        return Ok(upright_gray(image, Orientation::NoTransforms, size));
    }
    if extension.is_some_and(|e| e.eq_ignore_ascii_case("dib"))
        && super::bmp::is_headerless_dib(bytes)
    {
        return decode_hinted(&super::bmp::with_file_header(bytes), spec, Some("bmp"));
    }
    let tga = extension.and_then(ImageFormat::from_extension) == Some(ImageFormat::Tga);
    let format = match sniff(bytes, extension) {
        Err(_) if tga => ImageFormat::Tga,
        sniffed => sniffed?,
    };
    if format == ImageFormat::Jpeg
        && let Some(decoded) = super::jpeg::decode_luma(bytes, spec)?
    {
        return Ok(decoded);
    }
    if format == ImageFormat::WebP
        && let Some(decoded) = super::webp::decode_luma(bytes, spec)?
    {
        return Ok(decoded);
    }
    match format {
        ImageFormat::Gif => {
            if let Some(image) = super::gif_frame::decode_oversized_first_frame(bytes, max_pixels)?
            {
                let size = (image.width(), image.height());
                return Ok(upright_gray(image, Orientation::NoTransforms, size));
            }
            decode_generic(bytes, format, max_pixels)
        }
        ImageFormat::Tiff => decode_tiff(bytes, max_pixels),
        ImageFormat::Png => {
            let repaired = super::repair::png_transparent_gray_in_range(bytes);
            super::png_rows::decode(Cursor::new(&repaired[..]), spec)
        }
        ImageFormat::Bmp => {
            let bytes = super::bmp::lenient(bytes);
            super::repair::bmp_pixels_after_palette(&bytes)?;
            match super::bmp::decode_rle(&bytes, max_pixels)? {
                Some(image) => {
                    let size = (image.width(), image.height());
                    Ok(upright_gray(image, Orientation::NoTransforms, size))
                }
                None => decode_generic(&bytes, format, max_pixels),
            }
        }
        ImageFormat::Tga => {
            let whole = || decode_full(bytes, format, max_pixels).map(|(image, _)| image);
            match super::tga::decode(bytes, max_pixels, whole)? {
                Some(image) => {
                    let size = (image.width(), image.height());
                    Ok(upright_gray(image, Orientation::NoTransforms, size))
                }
                None => decode_generic(bytes, format, max_pixels),
            }
        }
        ImageFormat::Dds => {
            let image = super::dds::decode(bytes, max_pixels)?;
            let size = (image.width(), image.height());
            Ok(upright_gray(image, Orientation::NoTransforms, size))
        }
        ImageFormat::Ico => {
            let icon = super::ico::directory_from_bitmaps(bytes);
            match super::ico::is_cursor(&icon) {
                true => decode_generic(&super::ico::cursor_as_icon(&icon), format, max_pixels),
                false => decode_generic(&icon, format, max_pixels),
            }
        }
        ImageFormat::Qoi => decode_generic(
            &super::repair::qoi_with_end_marker(bytes),
            format,
            max_pixels,
        ),
        _ => decode_generic(bytes, format, max_pixels),
    }
}

/// How much of a file is read at a time when it is decoded as it is read.
const FILE_BUFFER: usize = 64 << 10;

/// [`decode_hinted`] on an open file, read as it decodes where the format allows: a JPEG or
/// a PNG is never held whole (neither its bytes nor, for a baseline JPEG or any PNG, its
/// full-size pixels), so memory follows the output size, not the picture's. Other formats,
/// and anything that is not a regular file (a pipe, a device), are read whole first, as
/// [`decode`] takes them. A read error is a
/// [`ErrorKind::Read`] failure.
pub fn decode_file(file: File, spec: &Spec, extension: Option<&str>) -> Result<Decoded, Failure> {
    if let Some(reason) = extension.and_then(super::unsupported::raw_refusal) {
        return Err(unsupported(reason));
    }
    let regular = file.metadata().is_ok_and(|m| m.is_file());
    let mut reader = BufReader::with_capacity(FILE_BUFFER, file);
    if !regular {
        // A pipe or device cannot go back to its start: read whole, as `decode` takes it.
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(cannot_read)?;
        return decode_hinted(&bytes, spec, extension);
    }
    let head = reader.fill_buf().map_err(cannot_read)?;
    if head.is_empty() {
        return Err(Failure::new(ErrorKind::Read, "file is empty"));
    }
    let streamed = match guess_format(head) {
        _ if super::jxl::is_jxl(head) => None,
        Some(ImageFormat::Jpeg) => super::jpeg::decode_luma_from(&mut reader, spec)?,
        Some(ImageFormat::Png) if super::repair::png_streams_as_is(head) == Some(true) => {
            Some(super::png_rows::decode(&mut reader, spec)?)
        }
        _ => None,
    };
    if let Some(decoded) = streamed {
        return Ok(decoded);
    }
    reader.rewind().map_err(cannot_read)?;
    let size = reader.get_ref().metadata().map_or(0, |m| m.len());
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(size).unwrap_or(usize::MAX))
        .map_err(|_| Failure::new(ErrorKind::OutOfMemory, "out of memory reading the file"))?;
    reader.read_to_end(&mut bytes).map_err(cannot_read)?;
    decode_hinted(&bytes, spec, extension)
}

fn cannot_read(error: std::io::Error) -> Failure {
    Failure::new(ErrorKind::Read, format!("cannot read: {error}"))
}

/// A TIFF, with the variants the `image` crate reads wrong put right (bits in reverse
/// order, planes stored apart, premultiplied alpha) and those it refuses read here
/// (palette, odd depths, signed and float samples, YCbCr, L*a*b*).
fn decode_tiff(bytes: &[u8], max_pixels: u64) -> Result<Decoded, Failure> {
    let Some(layout) = super::tiff_layout::layout(bytes) else {
        return decode_generic(bytes, ImageFormat::Tiff, max_pixels);
    };
    let reordered;
    let bytes = if layout.reversed_bits {
        reordered = super::tiff_layout::with_bits_in_order(bytes, &layout);
        &reordered[..]
    } else {
        bytes
    };
    if let Some((image, orientation)) = super::tiff_variants::decode(bytes, max_pixels)? {
        let size = (image.width(), image.height());
        return Ok(upright_gray(image, orientation, size));
    }
    let planar = if layout.planar {
        super::tiff_layout::decode_planar(bytes, max_pixels)?
    } else {
        None
    };
    let (mut image, orientation) = match planar {
        Some(decoded) => decoded,
        None => decode_full(bytes, ImageFormat::Tiff, max_pixels)?,
    };
    if layout.premultiplied {
        super::tiff_layout::unpremultiply(&mut image);
    }
    let size = (image.width(), image.height());
    Ok(upright_gray(image, orientation, size))
}

/// The image format of a file from its first bytes, as far as imgpar reads it: what the
/// `image` crate recognises, plus BigTIFF and Windows cursors (read as icons).
pub fn guess_format(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"II\x2B\0") || bytes.starts_with(b"MM\0\x2B") {
        return Some(ImageFormat::Tiff);
    }
    if super::ico::is_cursor(bytes) {
        return Some(ImageFormat::Ico);
    }
    image::guess_format(bytes).ok()
}

/// Whether imgpar reads `format` through the `image` crate: what it enables, and DDS,
/// whose decoder it builds (feature `dds`) but no longer lists as enabled.
pub fn reads(format: ImageFormat) -> bool {
    format.reading_enabled() || format == ImageFormat::Dds
}

/// Whether `bytes` start like an image the `image` crate does not know but imgpar reads:
/// JPEG XL (codestream or container), JPEG 2000 (JP2 or codestream), AVIF or PFM.
pub fn is_beyond_image_crate(bytes: &[u8]) -> bool {
    super::jxl::is_jxl(bytes)
        || super::jpeg2000::is_jpeg2000(bytes)
        || super::avif::is_avif(bytes)
        || super::pfm::is_pfm(bytes)
}

/// Recognises the image format from the first bytes of the file; when they say nothing
/// imgpar reads, the reason names the format they (or the file's `extension`) show.
fn sniff(bytes: &[u8], extension: Option<&str>) -> Result<ImageFormat, Failure> {
    match guess_format(bytes).ok_or(()) {
        Ok(format) if reads(format) => Ok(format),
        Ok(format) => Err(unsupported(format!(
            "{} images are not supported",
            format
                .extensions_str()
                .first()
                .unwrap_or(&"this kind of")
                .to_uppercase()
        ))),
        Err(_) if let Some(kind) = super::unsupported::format_of_content(bytes) => {
            Err(unsupported(format!("{kind} files are not supported")))
        }
        Err(_) if let Some(kind) = extension.and_then(super::unsupported::format_of_extension) => {
            Err(unsupported(format!("{kind} files are not supported")))
        }
        Err(_) if super::unsupported::looks_like_text(bytes) => {
            Err(unsupported("not an image: the file holds text"))
        }
        Err(_) => Err(unsupported(
            "not a recognised image format (no known image signature at the start)",
        )),
    }
}

fn unsupported(message: impl Into<String>) -> Failure {
    Failure::new(ErrorKind::Unsupported, message)
}

/// Decodes any format the `image` crate reads, then reduces it to gray.
fn decode_generic(bytes: &[u8], format: ImageFormat, max_pixels: u64) -> Result<Decoded, Failure> {
    let (image, orientation) = decode_full(bytes, format, max_pixels)?;
    let size = (image.width(), image.height());
    Ok(upright_gray(image, orientation, size))
}

/// `image` in gray, turned upright.
fn upright_gray(image: DynamicImage, orientation: Orientation, stored_size: (u32, u32)) -> Decoded {
    let mut image = to_gray(image);
    image.apply_orientation(orientation);
    Decoded::whole(image, stored_size)
}

/// The EXIF orientation a decoder reports, also when the EXIF block starts with the
/// `Exif\0\0` header that JPEG's APP1 uses (some WebP and PNG writers keep it, and the
/// `image` crate then finds no orientation).
pub(super) fn orientation_of(decoder: &mut impl ImageDecoder) -> Orientation {
    if let Ok(orientation) = decoder.orientation()
        && orientation != Orientation::NoTransforms
    {
        return orientation;
    }
    decoder
        .exif_metadata()
        .ok()
        .flatten()
        .and_then(|exif| {
            let tiff = exif.strip_prefix(b"Exif\0\0".as_slice()).unwrap_or(&exif);
            Orientation::from_exif_chunk(tiff)
        })
        .unwrap_or(Orientation::NoTransforms)
}

/// Decodes any format the `image` crate reads, in its own colour type, with its EXIF
/// orientation (not applied).
fn decode_full(
    bytes: &[u8],
    format: ImageFormat,
    max_pixels: u64,
) -> Result<(DynamicImage, Orientation), Failure> {
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
        let detail = super::wording::readable(&detail);
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
    let orientation = orientation_of(&mut decoder);
    let decoded = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    Ok((decoded, orientation))
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
