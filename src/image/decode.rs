//! Bytes in, an upright 8-bit image out in the tone asked for (gray, or colour with its ICC
//! profile): format sniffing, the pixel limit, the choice of decoder (JPEG and WebP have
//! their own), and EXIF orientation.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::decoded::Decoded;
use crate::image::formats::{self, Decoder, Format, Sniffed};

/// Decodes `bytes` into an upright image in the tone `spec` asks for, refusing images over `spec.max_pixels`
/// (0: no limit) before any pixel buffer is allocated. A JPEG, PNG or WebP is decoded already
/// shrunk as far as [`crate::image::pixels::resize::reduction_allowed`] permits for `spec`. The error says
/// what is wrong with the file in words a user can act on.
pub fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    decode_hinted(bytes, spec, None)
}

/// [`decode`], for a file whose name ends in `extension`: used for formats without a
/// signature to sniff (TGA), to name the format of a file imgpar does not read, and to read
/// a TIFF named as a camera RAW (CR2, NEF, ARW, DNG, ...) through its embedded preview;
/// never to read an image as other than its bytes say (a JPEG named `.nef` is a JPEG).
pub fn decode_hinted(
    bytes: &[u8],
    spec: &Conversion,
    extension: Option<&str>,
) -> Result<Decoded, Failure> {
    let mut decoded = decode_pixels(bytes, spec, extension)?;
    if spec.keep_metadata {
        decoded.metadata = crate::image::metadata::read(bytes);
    }
    Ok(decoded)
}

/// [`decode_hinted`]'s pixels.
fn decode_pixels(
    bytes: &[u8],
    spec: &Conversion,
    extension: Option<&str>,
) -> Result<Decoded, Failure> {
    if bytes.is_empty() {
        return Err(Failure::new(ErrorKind::Read, "file is empty"));
    }
    if extension.is_some_and(|e| e.eq_ignore_ascii_case("dib"))
        && crate::image::codecs::bmp::is_headerless_dib(bytes)
    {
        return decode_pixels(
            &crate::image::codecs::bmp::with_file_header(bytes),
            spec,
            Some("bmp"),
        );
    }
    let decoder = match sniff(bytes, extension) {
        // TGA has no signature: its name alone says it is one.
        Err(_) if let Some(Decoder::Tga) = hinted_decoder(extension) => Decoder::Tga,
        // Most RAWs are TIFFs inside: their name, or their sensor data, says so.
        Ok(Decoder::Tiff)
            if hinted_decoder(extension) == Some(Decoder::RawPreview)
                || crate::image::codecs::raw::is_tiff_raw(bytes) =>
        {
            Decoder::RawPreview
        }
        sniffed => sniffed?,
    };
    crate::image::codecs::decode(decoder, bytes, spec)
}

/// Why a file whose first bytes are `head` (its first few kilobytes) and whose name ends
/// in `extension` would be refused before decoding, as a run would say it; `None` when a
/// decoder would take it (whether the data then decodes is not known).
pub fn refusal_of(head: &[u8], extension: Option<&str>) -> Option<Failure> {
    if head.is_empty() {
        return Some(Failure::new(ErrorKind::Read, "file is empty"));
    }
    match sniff(head, extension) {
        Ok(_) => None,
        Err(_) if let Some(Decoder::Tga) = hinted_decoder(extension) => None,
        Err(refused) => Some(refused),
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
pub fn decode_file(
    file: File,
    spec: &Conversion,
    extension: Option<&str>,
) -> Result<Decoded, Failure> {
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
    let sniffed = formats::by_content(head);
    let streams = matches!(&sniffed, Some(Sniffed::Known(format)) if matches!(format.decoder(), Some(Decoder::Jpeg | Decoder::Png)));
    let metadata = match spec.keep_metadata && streams {
        true => crate::image::metadata::read_head(&mut reader).map_err(cannot_read)?,
        false => Default::default(),
    };
    let head = reader.fill_buf().map_err(cannot_read)?;
    let streamed = match formats::by_content(head) {
        Some(Sniffed::Known(format)) => match format.decoder() {
            Some(Decoder::Jpeg) => {
                crate::image::codecs::jpeg::decode_shrunk_from(&mut reader, spec)?
            }
            Some(Decoder::Png) if crate::image::repair::png_streams_as_is(head) == Some(true) => {
                Some(crate::image::codecs::png::decode_from(&mut reader, spec)?)
            }
            _ => None,
        },
        _ => None,
    };
    if let Some(mut decoded) = streamed {
        decoded.metadata = metadata;
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

/// The decoder for a file from its first bytes; when they say nothing imgpar reads, the
/// reason names the format they (or the file's `extension`) show.
fn sniff(bytes: &[u8], extension: Option<&str>) -> Result<Decoder, Failure> {
    let named = extension.and_then(formats::by_extension);
    match formats::by_content(bytes) {
        Some(Sniffed::Known(format)) => match format.decoder() {
            Some(decoder) => Ok(decoder),
            None => Err(unsupported(format.refusal().unwrap_or_default())),
        },
        Some(Sniffed::Unread(format)) => Err(unsupported(format!(
            "{} images are not supported",
            format
                .extensions_str()
                .first()
                .unwrap_or(&"this kind of")
                .to_uppercase()
        ))),
        None if let Some(refusal) = named.and_then(Format::refusal) => Err(unsupported(refusal)),
        None if named.and_then(Format::decoder) == Some(Decoder::RawPreview) => {
            Err(unsupported(format!(
                "camera RAW ({}) in a container imgpar does not know: its embedded preview \
                 cannot be found; develop it first (with darktable, RawTherapee or the camera \
                 maker's software)",
                extension.unwrap_or_default().to_uppercase()
            )))
        }
        None if crate::image::unsupported::looks_like_text(bytes) => {
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
