//! PNG read a row at a time from a stream (the `png` crate's `next_row`): each row goes
//! to gray (or stays in colour, 8 bits a sample) as it is decoded and into a [`BoxShrink`], so neither the file nor the full
//! picture is ever held. Interlaced files give their rows pass by pass; they are
//! accumulated into the shrunk image's sums, which grow with the output, not the picture.

use std::io::{BufRead, Seek};

use image::metadata::Orientation;
use png::{BitDepth, ColorType, Decoder, Limits, Transformations};

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::decoded::{Decoded, check_pixels, upright};
use crate::image::pixels::color::Tone;
use crate::image::pixels::gray::luma601;
use crate::image::pixels::shrink::{BoxShrink, adam7_rows};

/// Decodes the PNG that `reader` yields to upright gray, or to colour in
/// [`Tone::Color`] (gray pictures stay gray; alpha kept where it is not opaque; the iCCP
/// profile kept), shrunk by a
/// box average as rows arrive by as much as [`crate::image::pixels::resize::reduction_allowed`] permits
/// for `spec`. Gray conversion is the same as for a PNG decoded whole (BT.601 luma,
/// 16-bit samples rounded to 8). The caller repairs what needs it first (a low-bit gray
/// tRNS colour on the 8-bit scale, see `repair::png_transparent_gray_in_range`).
pub(crate) fn decode_from<R: BufRead + Seek>(
    reader: R,
    spec: &Conversion,
) -> Result<Decoded, Failure> {
    let mut limits = Limits::default();
    if spec.max_pixels != 0 {
        // Room for a row of the widest pixels within the limit, as the whole-file path.
        limits.bytes = limits
            .bytes
            .max(spec.max_pixels.saturating_mul(32) as usize);
    } else {
        limits.bytes = usize::MAX;
    }
    let mut decoder = Decoder::new_with_limits(reader, limits);
    decoder.set_transformations(Transformations::EXPAND);
    let header = decoder.read_header_info().map_err(corrupt)?;
    let stored = (header.width, header.height);
    check_pixels(u64::from(stored.0), u64::from(stored.1), spec.max_pixels)?;
    let mut reader = decoder.read_info().map_err(corrupt)?;
    let info = reader.info();
    let interlaced = info.interlaced;
    let orientation = info
        .exif_metadata
        .as_deref()
        .and_then(|exif| {
            let tiff = exif.strip_prefix(b"Exif\0\0".as_slice()).unwrap_or(exif);
            Orientation::from_exif_chunk(tiff)
        })
        .unwrap_or(Orientation::NoTransforms);
    let icc = info.icc_profile.as_deref().map(<[u8]>::to_vec);
    let tone = Tone::for_picture(spec, icc.as_deref());
    let full = upright(stored, orientation);
    let factor = crate::image::pixels::resize::reduction_allowed(full, spec);
    let (colour, depth) = reader.output_color_type();
    let samples = colour.samples();
    let wide = depth == BitDepth::Sixteen;
    let alpha = matches!(colour, ColorType::GrayscaleAlpha | ColorType::Rgba);
    let channels = match tone {
        Tone::Color => samples,
        Tone::Gray if alpha => 2,
        Tone::Gray => 1,
    };
    let mut shrink = BoxShrink::new(stored, factor, channels, !interlaced);
    let mut rows: Box<dyn Iterator<Item = (u32, u32, u32)>> = if interlaced {
        Box::new(adam7_rows(stored.0, stored.1))
    } else {
        Box::new((0..stored.1).map(|y| (y, 0, 1)))
    };
    let mut gray = Vec::with_capacity(stored.0 as usize * channels);
    while let Some(row) = reader.next_row().map_err(corrupt)? {
        let Some((y, x0, step)) = rows.next() else {
            break;
        };
        let pixels = match (tone, wide) {
            (Tone::Color, false) => row.data(),
            (Tone::Color, true) => {
                gray.clear();
                gray.extend(row.data().chunks_exact(2).map(narrow));
                &gray
            }
            (Tone::Gray, _) => {
                gray.clear();
                to_gray_row(row.data(), samples, wide, alpha, &mut gray);
                &gray
            }
        };
        shrink.push(y, x0, step, pixels);
    }
    if rows.next().is_some() {
        return Err(Failure::corrupt(
            "corrupt or truncated PNG: the image data ends early",
        ));
    }
    Ok(Decoded::turned(shrink.finish(), orientation, stored).in_profile(icc))
}

/// The PNG entry point ([`crate::image::codecs::decode`]): [`decode_from`] the bytes,
/// a low-bit gray tRNS colour given on the 8-bit scale put right first.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    let repaired = crate::image::repair::png_transparent_gray_in_range(bytes);
    decode_from(std::io::Cursor::new(&repaired[..]), spec)
}

/// A 16-bit sample (big-endian) to 8 bits, as the `image` crate rounds it.
fn narrow(sample: &[u8]) -> u8 {
    ((u32::from(u16::from_be_bytes([sample[0], sample[1]])) + 128) / 257) as u8
}

/// One decoded row (`samples` channels of 8 or 16 bits, after expansion) as gray, or gray
/// and alpha, bytes appended to `out`.
fn to_gray_row(data: &[u8], samples: usize, wide: bool, alpha: bool, out: &mut Vec<u8>) {
    if !wide {
        // Written into a row sized up front, a pixel at a time: a loop the compiler can
        // keep in registers (and vectorise), not an iterator extending a vector.
        let start = out.len();
        match samples {
            1 | 2 => out.extend_from_slice(data),
            3 => {
                out.resize(start + data.len() / 3, 0);
                for (gray, p) in out[start..].iter_mut().zip(data.chunks_exact(3)) {
                    *gray = luma601(p[0], p[1], p[2]);
                }
            }
            _ => {
                out.resize(start + data.len() / 2, 0);
                for (pair, p) in out[start..].chunks_exact_mut(2).zip(data.chunks_exact(4)) {
                    pair[0] = luma601(p[0], p[1], p[2]);
                    pair[1] = p[3];
                }
            }
        }
        return;
    }
    for pixel in data.chunks_exact(2 * samples) {
        let value = |i: usize| narrow(&pixel[2 * i..2 * i + 2]);
        let gray = if samples >= 3 {
            luma601(value(0), value(1), value(2))
        } else {
            value(0)
        };
        out.push(gray);
        if alpha {
            out.push(value(samples - 1));
        }
    }
}

fn corrupt(error: png::DecodingError) -> Failure {
    let kind = match error {
        png::DecodingError::LimitsExceeded => ErrorKind::TooManyPixels,
        _ => ErrorKind::Corrupt,
    };
    let detail = crate::image::wording::readable(&error.to_string());
    let message = match kind {
        ErrorKind::TooManyPixels => {
            format!("PNG too large to decode within the --max-pixels limit: {detail}")
        }
        _ => format!("corrupt or truncated PNG: {detail}"),
    };
    Failure::new(kind, message)
}
