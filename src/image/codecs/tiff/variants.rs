//! TIFF sample layouts the `image` crate refuses, read here and reduced to gray: palette
//! colour at any depth, gray of 2, 4, 12 or 24 bits, signed-integer and floating-point
//! samples, YCbCr (JPEG-compressed or not: its Y is the gray), CIE L*a*b* (its lightness is
//! the gray), several samples beyond gray or RGB, and bilevel CCITT G3 (`fax.rs`).
//! Compressions imgpar cannot decode are named in the failure.
//!
//! Two readers share the conversion to gray: the `tiff` crate's, for every layout it
//! decodes (its chunk reader handles every compression, predictor and tile it knows), and
//! a small strip and tile reader here for the layouts it refuses (palette, 12- and 24-bit
//! samples, L*a*b*, subsampled YCbCr without JPEG).

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, GrayAlphaImage, GrayImage};
use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;

use crate::failure::{ErrorKind, Failure};
use crate::image::codecs::tiff::chunks::{bit_field, compression_name};
use crate::image::decoded::check_pixels;
use crate::image::pixels::gray::luma601;

mod reduce;
use reduce::{pixels_of_decoded, pixels_of_raw};

/// What a TIFF's first image says about its samples.
struct Samples {
    width: u32,
    height: u32,
    /// PhotometricInterpretation: 0 white is zero, 1 black is zero, 2 RGB, 3 palette,
    /// 5 CMYK, 6 YCbCr, 8 CIE L*a*b*, 9 ICC L*a*b*, 10 ITU L*a*b*.
    photometric: u16,
    bits: u16,
    samples_per_pixel: u16,
    /// SampleFormat: 1 unsigned, 2 signed, 3 floating point.
    format: u16,
    compression: u16,
    predictor: u16,
    planar: bool,
    subsampling: (u16, u16),
    /// The first extra sample is alpha (associated or not).
    alpha: bool,
}

/// Compressions the `tiff` crate decodes in imgpar's build.
const DECODED_COMPRESSIONS: &[u16] = &[1, 4, 5, 7, 8, 32773, 32946, 50001];

/// Decodes the first image of a TIFF whose samples the `image` crate does not read,
/// reduced to 8-bit gray, or RGB with `color` (with alpha where the file has it). `Ok(None)` when the `image`
/// crate reads it (the usual path goes on) or the header cannot be read (the usual path
/// says what is wrong). The size is checked against `max_pixels` before pixels are
/// allocated. With `color`, gray, RGB (any depth), palette and YCbCr pictures keep their
/// colour; an L*a*b* one is read in gray only, and refused by name.
pub(crate) fn decode(
    bytes: &[u8],
    max_pixels: u64,
    color: bool,
) -> Result<Option<(DynamicImage, Orientation)>, Failure> {
    let Ok(mut decoder) = Decoder::new(Cursor::new(bytes)) else {
        return Ok(None);
    };
    let Some(samples) = samples_of(&mut decoder) else {
        return Ok(None);
    };
    // Bilevel CCITT G3, which the `tiff` crate does not decode, is read here.
    let fax_g3 = samples.compression == 3 && samples.bits == 1 && samples.samples_per_pixel == 1;
    if !fax_g3 && !DECODED_COMPRESSIONS.contains(&samples.compression) {
        return Err(unsupported(format!(
            "TIFF with {} compression is not supported",
            compression_name(samples.compression)
        )));
    }
    if !fax_g3 && image_crate_reads(&samples) {
        return Ok(None);
    }
    if color && matches!(samples.photometric, 8..=10) {
        return Err(unsupported(format!(
            "{} is read in gray only: --color cannot keep its colour yet (without --color it \
             is read)",
            variant_name(&samples).trim_end_matches(" is not supported")
        )));
    }
    check_pixels(
        u64::from(samples.width),
        u64::from(samples.height),
        max_pixels,
    )?;
    let orientation = crate::image::codecs::tiff::layout::orientation_of(&mut decoder);
    if fax_g3 {
        let (w, h) = (samples.width, samples.height);
        let white_is_zero = samples.photometric == 0;
        let gray =
            crate::image::codecs::tiff::fax::decode(bytes, &mut decoder, w, h, white_is_zero)?;
        return Ok(Some((DynamicImage::ImageLuma8(gray), orientation)));
    }
    let pixels = if crate_decodes(&samples) {
        // The pixel limit is checked above; the decoder's own buffer limit (256 MiB) would
        // refuse a large float picture the limit allows.
        let mut decoder = decoder.with_limits(decoding_limits(max_pixels));
        let result = decoder.read_image().map_err(corrupt)?;
        let per_pixel = match samples.photometric {
            6 => 3,
            _ => usize::from(samples.samples_per_pixel.max(1)),
        };
        pixels_of_decoded(&samples, result, per_pixel, color)?
    } else {
        if !raw_reads(&samples) {
            return Err(unsupported(variant_name(&samples)));
        }
        let layout = crate::image::codecs::tiff::chunks::Layout {
            width: samples.width,
            height: samples.height,
            samples_per_pixel: samples.samples_per_pixel,
            bits_per_sample: samples.bits,
            compression: samples.compression,
            predictor: samples.predictor,
        };
        crate::image::codecs::tiff::chunks::reads(&layout).map_err(unsupported)?;
        let raw = crate::image::codecs::tiff::chunks::read(bytes, &mut decoder, &layout)?;
        pixels_of_raw(&samples, &mut decoder, raw, color)?
    };
    Ok(Some((pixels.into_image(&samples)?, orientation)))
}

fn samples_of<R: std::io::Read + std::io::Seek>(decoder: &mut Decoder<R>) -> Option<Samples> {
    let (width, height) = decoder.dimensions().ok()?;
    let tag = |decoder: &mut Decoder<R>, tag: Tag, default: u16| -> Option<u16> {
        Some(decoder.find_tag_unsigned(tag).ok()?.unwrap_or(default))
    };
    let first = |decoder: &mut Decoder<R>, tag: Tag, default: u16| -> Option<u16> {
        let values: Vec<u16> = decoder.find_tag_unsigned_vec(tag).ok()?.unwrap_or_default();
        Some(values.first().copied().unwrap_or(default))
    };
    let subsampling: Vec<u16> = decoder
        .find_tag_unsigned_vec(Tag::ChromaSubsampling)
        .ok()?
        .unwrap_or_else(|| vec![2, 2]);
    let extra: Vec<u16> = decoder
        .find_tag_unsigned_vec(Tag::ExtraSamples)
        .ok()?
        .unwrap_or_default();
    Some(Samples {
        width,
        height,
        photometric: tag(decoder, Tag::PhotometricInterpretation, 1)?,
        bits: first(decoder, Tag::BitsPerSample, 1)?,
        samples_per_pixel: tag(decoder, Tag::SamplesPerPixel, 1)?,
        format: first(decoder, Tag::SampleFormat, 1)?,
        compression: tag(decoder, Tag::Compression, 1)?,
        predictor: tag(decoder, Tag::Predictor, 1)?,
        planar: tag(decoder, Tag::PlanarConfiguration, 1)? == 2,
        subsampling: (
            subsampling.first().copied().unwrap_or(2),
            subsampling.get(1).copied().unwrap_or(2),
        ),
        alpha: matches!(extra.first(), Some(1 | 2)),
    })
}

/// Room for `max_pixels` pixels of the widest samples (four of 64 bits), or no limit.
fn decoding_limits(max_pixels: u64) -> tiff::decoder::Limits {
    if max_pixels == 0 {
        return tiff::decoder::Limits::unlimited();
    }
    let mut limits = tiff::decoder::Limits::default();
    let room = usize::try_from(max_pixels.saturating_mul(32)).unwrap_or(usize::MAX);
    limits.decoding_buffer_size = limits.decoding_buffer_size.max(room);
    limits.intermediate_buffer_size = limits.intermediate_buffer_size.max(room);
    limits
}

/// Whether the `image` crate reads these samples (then imgpar's usual TIFF path does).
fn image_crate_reads(s: &Samples) -> bool {
    match (s.photometric, s.format, s.bits) {
        (0 | 1, 1, 1 | 8 | 16) => s.samples_per_pixel <= 2,
        (2, 1, 8 | 16) | (2, 3, 32) => matches!(s.samples_per_pixel, 3 | 4),
        (5, 1, 8 | 16) => s.samples_per_pixel == 4,
        _ => false,
    }
}

/// Whether the `tiff` crate decodes these samples (else the strip reader here does).
fn crate_decodes(s: &Samples) -> bool {
    if s.planar && s.samples_per_pixel > 1 {
        return false;
    }
    let whole_bytes = matches!(s.bits, 8 | 16 | 32 | 64);
    match s.photometric {
        0 | 1 => whole_bytes || ((1..8).contains(&s.bits) && s.samples_per_pixel == 1),
        2 => whole_bytes,
        6 => s.bits == 8 && (s.compression == 7 || s.subsampling == (1, 1)),
        _ => false,
    }
}

/// Whether the strip reader here reads these samples: unsigned, interleaved, up to 32
/// bits, of a colour model it turns into gray.
fn raw_reads(s: &Samples) -> bool {
    let chunky = !s.planar || s.samples_per_pixel == 1;
    let enough = match s.photometric {
        2 => s.samples_per_pixel >= 3,
        8 | 9 => s.samples_per_pixel >= 3 && matches!(s.bits, 8 | 16),
        _ => s.samples_per_pixel >= 1,
    };
    chunky
        && enough
        && s.format == 1
        && (1..=32).contains(&s.bits)
        && matches!(s.photometric, 0..=3 | 8 | 9)
}

/// Samples of `bits` bits (1, 2 or 4), packed from the highest bit, each row starting on a
/// whole byte: one value per sample.
pub(crate) fn unpack_rows(packed: &[u8], width: u32, height: u32, bits: u16) -> Vec<u32> {
    let width = width as usize;
    let row_bytes = (width * usize::from(bits)).div_ceil(8);
    let mut values = Vec::with_capacity(width * height as usize);
    for row in packed.chunks(row_bytes.max(1)).take(height as usize) {
        values.extend((0..width).map(|x| bit_field(row, x * usize::from(bits), bits)));
    }
    values
}

/// The name of a sample layout imgpar does not read, for the failure.
fn variant_name(s: &Samples) -> String {
    let format = match s.format {
        2 => "signed ",
        3 => "floating-point ",
        _ => "",
    };
    let colour = match s.photometric {
        0 | 1 => "gray",
        2 => "RGB",
        3 => "palette",
        4 => "transparency mask",
        5 => "CMYK",
        6 => "YCbCr",
        8 => "CIE L*a*b*",
        9 => "ICC L*a*b*",
        10 => "ITU L*a*b*",
        32844 | 32845 => "LogLuv",
        _ => "an unknown colour model",
    };
    format!(
        "TIFF with {}-bit {format}{colour} samples ({} per pixel) is not supported",
        s.bits, s.samples_per_pixel
    )
}

fn unsupported(message: impl Into<String>) -> Failure {
    Failure::new(ErrorKind::Unsupported, message)
}

fn corrupt(detail: impl std::fmt::Display) -> Failure {
    Failure::new(
        ErrorKind::Corrupt,
        format!("corrupt or truncated TIFF: {detail}"),
    )
}
