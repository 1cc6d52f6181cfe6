//! JPEG 2000 (JP2 container or raw codestream) through `hayro-jpeg2000`, pure Rust. The
//! wavelet's resolution levels let it decode a picture already shrunk by a power of two,
//! never below twice the output size, as the JPEG path does with its DCT scaling.

use hayro_jpeg2000::{ColorSpace, DecodeSettings, DecoderContext, Image};
use image::metadata::Orientation;
use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::decoded::{Decoded, check_pixels};
use crate::image::pixels::color::Tone;
use crate::image::pixels::gray::luma601;

/// Whether `bytes` start like a JP2 file or a raw JPEG 2000 codestream.
pub(crate) fn is_jpeg2000(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\0\0\0\x0CjP  ") || bytes.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
}

/// Decodes a JPEG 2000 image in the tone `spec` (and its ICC profile) asks for, with
/// alpha when it has some, shrunk by the largest
/// power of two [`crate::image::pixels::resize::reduction_allowed`] permits, refusing more pixels than
/// `spec.max_pixels` from the header, before decoding.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    // The brand of the JP2 file type box: compound documents hold pages, not one picture.
    if bytes.get(16..24) == Some(b"ftypjpm ") {
        return Err(Failure::new(
            ErrorKind::Unsupported,
            "JPEG 2000 compound (JPM) files are not supported",
        ));
    }
    let settings = DecodeSettings {
        resolve_palette_indices: true,
        strict: false,
        target_resolution: None,
    };
    let whole = Image::new(bytes, &settings).map_err(corrupt)?;
    let stored = (whole.width(), whole.height());
    check_pixels(u64::from(stored.0), u64::from(stored.1), spec.max_pixels)?;
    let factor = crate::image::pixels::resize::reduction_allowed(stored, spec);
    let shrunk;
    let image = if factor > 1 {
        let target = (stored.0.div_ceil(factor), stored.1.div_ceil(factor));
        let settings = DecodeSettings {
            target_resolution: Some(target),
            ..settings
        };
        shrunk = Image::new(bytes, &settings).map_err(corrupt)?;
        &shrunk
    } else {
        &whole
    };
    let (width, height) = (image.width(), image.height());
    let colour = image.color_space().clone();
    let alpha = image.has_alpha();
    let mut context = DecoderContext::default();
    let samples = image.decode(&mut context).map_err(corrupt)?.data_u8();
    let per_pixel = usize::from(colour.num_channels()) + usize::from(alpha);
    if per_pixel == 0 || samples.len() != width as usize * height as usize * per_pixel {
        return Err(corrupt(format!(
            "{} samples decoded for a {width}x{height} image of {per_pixel} channels",
            samples.len()
        )));
    }
    let (icc, colour_channels) = match &colour {
        ColorSpace::Icc {
            profile,
            num_channels: channels @ (1 | 3),
        } => (Some(profile.clone()), *channels),
        ColorSpace::RGB | ColorSpace::CMYK => (None, 3),
        _ => (None, 1),
    };
    let tone = Tone::for_picture(spec, icc.as_deref());
    let rgb_of = |p: &[u8]| -> [u8; 3] {
        match &colour {
            // CMYK without a profile: the same naive conversion the `image` crate applies.
            ColorSpace::CMYK => {
                let k = 255 - u32::from(p[3]);
                [p[0], p[1], p[2]].map(|c| ((255 - u32::from(c)) * k / 255) as u8)
            }
            _ => [p[0], p[1], p[2]],
        }
    };
    let pixels = samples.chunks_exact(per_pixel);
    let sized = "a pixel's bytes each";
    let image = match (tone, colour_channels >= 3, alpha) {
        (Tone::Color, true, true) => {
            let rgba = pixels.flat_map(|p| {
                let [r, g, b] = rgb_of(p);
                [r, g, b, p[per_pixel - 1]]
            });
            DynamicImage::ImageRgba8(
                RgbaImage::from_raw(width, height, rgba.collect()).expect(sized),
            )
        }
        (Tone::Color, true, false) => {
            let rgb = pixels.flat_map(rgb_of).collect();
            DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, rgb).expect(sized))
        }
        (_, is_colour, alpha) => {
            // Gray, or an unknown colour model: its first channel.
            let gray_of = |p: &[u8]| match is_colour {
                true => {
                    let [r, g, b] = rgb_of(p);
                    luma601(r, g, b)
                }
                false => p[0],
            };
            if alpha {
                let pairs = pixels
                    .flat_map(|p| [gray_of(p), p[per_pixel - 1]])
                    .collect();
                DynamicImage::ImageLumaA8(
                    GrayAlphaImage::from_raw(width, height, pairs).expect(sized),
                )
            } else {
                DynamicImage::ImageLuma8(
                    GrayImage::from_raw(width, height, pixels.map(gray_of).collect()).expect(sized),
                )
            }
        }
    };
    let image = tone.of(image);
    Ok(Decoded::turned(image, Orientation::NoTransforms, stored).in_profile(icc))
}

fn corrupt(error: impl std::fmt::Display) -> Failure {
    Failure::new(
        ErrorKind::Corrupt,
        format!("corrupt or unsupported JPEG 2000: {error}"),
    )
}
