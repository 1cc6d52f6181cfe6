//! Bytes in, an upright 8-bit gray image out: format sniffing, the pixel limit, the
//! choice of decoder (JPEG and WebP have their own), and EXIF orientation.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek};

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::decoded::{Decoded, check_pixels};
use super::formats::{self, Decoder, Reading, Sniffed};
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
    refuse_unread(extension)?;
    if bytes.is_empty() {
        return Err(Failure::new(ErrorKind::Read, "file is empty"));
    }
    if extension.is_some_and(|e| e.eq_ignore_ascii_case("dib"))
        && super::bmp::is_headerless_dib(bytes)
    {
        return decode_hinted(&super::bmp::with_file_header(bytes), spec, Some("bmp"));
    }
    let decoder = match sniff(bytes, extension) {
        // TGA has no signature: its name alone says it is one.
        Err(_) if let Some(Decoder::Tga) = hinted_decoder(extension) => Decoder::Tga,
        sniffed => sniffed?,
    };
    match decoder {
        Decoder::Jxl => super::jxl::decode(bytes, max_pixels),
        Decoder::Jpeg2000 => super::jpeg2000::decode(bytes, spec),
        Decoder::Avif => super::avif::decode(bytes, max_pixels),
        Decoder::Pfm => {
            let image = super::pfm::decode(bytes, max_pixels)?;
            let size = (image.width(), image.height());
            Ok(upright_gray(image, Orientation::NoTransforms, size))
        }
        Decoder::Jpeg => match super::jpeg::decode_luma(bytes, spec)? {
            Some(decoded) => Ok(decoded),
            None => decode_generic(bytes, ImageFormat::Jpeg, max_pixels),
        },
        Decoder::Webp => match super::webp::decode_luma(bytes, spec)? {
            Some(decoded) => Ok(decoded),
            None => decode_generic(bytes, ImageFormat::WebP, max_pixels),
        },
        Decoder::Gif => {
            if let Some(image) = super::gif_frame::decode_oversized_first_frame(bytes, max_pixels)?
            {
                let size = (image.width(), image.height());
                return Ok(upright_gray(image, Orientation::NoTransforms, size));
            }
            decode_generic(bytes, ImageFormat::Gif, max_pixels)
        }
        Decoder::Tiff => decode_tiff(bytes, max_pixels),
        Decoder::Png => {
            let repaired = super::repair::png_transparent_gray_in_range(bytes);
            super::png_rows::decode(Cursor::new(&repaired[..]), spec)
        }
        Decoder::Bmp => {
            let bytes = super::bmp::lenient(bytes);
            super::repair::bmp_pixels_after_palette(&bytes)?;
            match super::bmp::decode_rle(&bytes, max_pixels)? {
                Some(image) => {
                    let size = (image.width(), image.height());
                    Ok(upright_gray(image, Orientation::NoTransforms, size))
                }
                None => decode_generic(&bytes, ImageFormat::Bmp, max_pixels),
            }
        }
        Decoder::Tga => {
            let format = ImageFormat::Tga;
            let whole = || decode_full(bytes, format, max_pixels).map(|(image, _)| image);
            match super::tga::decode(bytes, max_pixels, whole)? {
                Some(image) => {
                    let size = (image.width(), image.height());
                    Ok(upright_gray(image, Orientation::NoTransforms, size))
                }
                None => decode_generic(bytes, format, max_pixels),
            }
        }
        Decoder::Dds => {
            let image = super::dds::decode(bytes, max_pixels)?;
            let size = (image.width(), image.height());
            Ok(upright_gray(image, Orientation::NoTransforms, size))
        }
        Decoder::Ico => {
            let format = ImageFormat::Ico;
            let icon = super::ico::directory_from_bitmaps(bytes);
            match super::ico::is_cursor(&icon) {
                true => decode_generic(&super::ico::cursor_as_icon(&icon), format, max_pixels),
                false => decode_generic(&icon, format, max_pixels),
            }
        }
        Decoder::Qoi => decode_generic(
            &super::repair::qoi_with_end_marker(bytes),
            ImageFormat::Qoi,
            max_pixels,
        ),
        Decoder::ImageCrate(format) => decode_generic(bytes, format, max_pixels),
    }
}

/// Refuses a file whose name says it is in a format imgpar refuses unread (camera RAW).
fn refuse_unread(extension: Option<&str>) -> Result<(), Failure> {
    let Some(extension) = extension else {
        return Ok(());
    };
    match formats::by_extension(extension) {
        Some(format) if matches!(format.reading, Reading::RefusedUnread) => {
            Err(unsupported(format.refusal(extension).unwrap_or_default()))
        }
        _ => Ok(()),
    }
}

/// The decoder a file's extension names, if it names a format imgpar reads.
fn hinted_decoder(extension: Option<&str>) -> Option<Decoder> {
    formats::by_extension(extension?)?.decoder()
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
    refuse_unread(extension)?;
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
    // JPEG and PNG are read as they decode; everything else whole.
    let streamed = match formats::by_content(head) {
        Some(Sniffed::Known(format)) => match format.decoder() {
            Some(Decoder::Jpeg) => super::jpeg::decode_luma_from(&mut reader, spec)?,
            Some(Decoder::Png) if super::repair::png_streams_as_is(head) == Some(true) => {
                Some(super::png_rows::decode(&mut reader, spec)?)
            }
            _ => None,
        },
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

/// The decoder for a file from its first bytes; when they say nothing imgpar reads, the
/// reason names the format they (or the file's `extension`) show.
fn sniff(bytes: &[u8], extension: Option<&str>) -> Result<Decoder, Failure> {
    let named = extension.and_then(formats::by_extension);
    match formats::by_content(bytes) {
        Some(Sniffed::Known(format)) => match format.decoder() {
            Some(decoder) => Ok(decoder),
            None => Err(unsupported(format.refusal("").unwrap_or_default())),
        },
        Some(Sniffed::Unread(format)) => Err(unsupported(format!(
            "{} images are not supported",
            format
                .extensions_str()
                .first()
                .unwrap_or(&"this kind of")
                .to_uppercase()
        ))),
        None if let Some(refusal) = named.and_then(|f| f.refusal(extension.unwrap_or(""))) => {
            Err(unsupported(refusal))
        }
        None if super::unsupported::looks_like_text(bytes) => {
            Err(unsupported("not an image: the file holds text"))
        }
        None => Err(unsupported(
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
