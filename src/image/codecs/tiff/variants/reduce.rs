//! The samples of a TIFF the readers decoded, reduced to 8-bit gray or RGB: whatever
//! their depth, sign, floating point or colour space.

use super::*;

/// 8-bit values, one (gray) or three (RGB) a pixel, and alpha, before they become an
/// image.
pub(crate) struct Pixels8 {
    values: Vec<u8>,
    /// 1 or 3.
    channels: usize,
    alpha: Option<Vec<u8>>,
}

impl Pixels8 {
    pub(crate) fn into_image(self, samples: &Samples) -> Result<DynamicImage, Failure> {
        let (w, h) = (samples.width, samples.height);
        let short = || corrupt("fewer samples than the image size needs");
        let values = self.values;
        let image = match (self.channels, self.alpha) {
            (1, Some(alpha)) => {
                let pairs = values.into_iter().zip(alpha).flat_map(|(g, a)| [g, a]);
                DynamicImage::ImageLumaA8(
                    GrayAlphaImage::from_raw(w, h, pairs.collect()).ok_or_else(short)?,
                )
            }
            (1, None) => {
                DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, values).ok_or_else(short)?)
            }
            (_, Some(alpha)) => {
                let rgba = values
                    .chunks_exact(3)
                    .zip(alpha)
                    .flat_map(|(p, a)| [p[0], p[1], p[2], a]);
                DynamicImage::ImageRgba8(
                    image::RgbaImage::from_raw(w, h, rgba.collect()).ok_or_else(short)?,
                )
            }
            (_, None) => {
                DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, values).ok_or_else(short)?)
            }
        };
        Ok(crate::image::pixels::color::to_color(image))
    }
}

/// One pixel's colour appended to `out`: its RGB in colour, its BT.601 luma in gray.
fn push_pixel(out: &mut Vec<u8>, [r, g, b]: [u8; 3], colour: bool) {
    if colour {
        out.extend([r, g, b]);
    } else {
        out.push(luma601(r, g, b));
    }
}

/// A TIFF's full-range YCbCr (the default ReferenceBlackWhite, BT.601 coefficients) as RGB.
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (y, cb, cr) = (f64::from(y), f64::from(cb) - 128.0, f64::from(cr) - 128.0);
    let clamp = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    [
        clamp(y + 1.402 * cr),
        clamp(y - 0.344_136 * cb - 0.714_136 * cr),
        clamp(y + 1.772 * cb),
    ]
}

/// One decoded sample, scaled to 0..1 by its type: unsigned over its full range, signed
/// over its positive range (negative is black), floating point as linear light.
#[derive(Clone, Copy)]
enum Level {
    /// Stored (gamma-encoded) value, 0..1.
    Encoded(f64),
    /// Linear light (floating-point samples), clipped to 0..1 when encoded.
    Linear(f64),
}

impl Level {
    /// The 8-bit gamma-encoded value: linear light through the sRGB curve, by the same
    /// rule as HDR and OpenEXR inputs.
    fn to_u8(self) -> u8 {
        match self {
            Level::Encoded(v) => (v.clamp(0.0, 1.0) * 255.0).round() as u8,
            Level::Linear(v) => crate::image::gray::linear_to_srgb8(v as f32),
        }
    }
}

/// Sample `i` of a `tiff` crate result as a level, whatever its sample type.
fn level_at(result: &DecodingResult, i: usize) -> Level {
    let scaled = |v: f64, max: f64| Level::Encoded(v.max(0.0) / max);
    match result {
        DecodingResult::U8(v) => scaled(f64::from(v[i]), 255.0),
        DecodingResult::U16(v) => scaled(f64::from(v[i]), 65535.0),
        DecodingResult::U32(v) => scaled(f64::from(v[i]), f64::from(u32::MAX)),
        DecodingResult::U64(v) => scaled(v[i] as f64, u64::MAX as f64),
        DecodingResult::I8(v) => scaled(f64::from(v[i]), 127.0),
        DecodingResult::I16(v) => scaled(f64::from(v[i]), 32767.0),
        DecodingResult::I32(v) => scaled(f64::from(v[i]), f64::from(i32::MAX)),
        DecodingResult::I64(v) => scaled(v[i] as f64, i64::MAX as f64),
        DecodingResult::F16(v) => Level::Linear(f64::from(v[i].to_f32())),
        DecodingResult::F32(v) => Level::Linear(f64::from(v[i])),
        DecodingResult::F64(v) => Level::Linear(v[i]),
    }
}

/// How many samples a `tiff` crate result holds.
fn sample_count(result: &DecodingResult) -> usize {
    match result {
        DecodingResult::U8(v) => v.len(),
        DecodingResult::U16(v) => v.len(),
        DecodingResult::U32(v) => v.len(),
        DecodingResult::U64(v) => v.len(),
        DecodingResult::I8(v) => v.len(),
        DecodingResult::I16(v) => v.len(),
        DecodingResult::I32(v) => v.len(),
        DecodingResult::I64(v) => v.len(),
        DecodingResult::F16(v) => v.len(),
        DecodingResult::F32(v) => v.len(),
        DecodingResult::F64(v) => v.len(),
    }
}

/// Gray, or RGB when `colour` and the picture has colour, from what the `tiff` crate
/// decoded: `per_pixel` samples for each pixel, gray or gray-and-more (the first sample),
/// RGB, or YCbCr (in gray, the first sample, Y, is the gray).
pub(crate) fn pixels_of_decoded(
    samples: &Samples,
    result: DecodingResult,
    per_pixel: usize,
    colour: bool,
) -> Result<Pixels8, Failure> {
    if samples.bits < 8 {
        // Whole bytes per row, samples packed from the highest bit.
        let DecodingResult::U8(packed) = result else {
            return Err(corrupt("packed samples of an unexpected type"));
        };
        let gray = unpack_rows(&packed, samples.width, samples.height, samples.bits)
            .into_iter()
            .map(|v| scale_to_u8(v, samples.bits))
            .collect();
        return Ok(Pixels8 {
            values: gray,
            channels: 1,
            alpha: None,
        });
    }
    let pixels = sample_count(&result) / per_pixel;
    let level = |pixel: usize, sample: usize| level_at(&result, pixel * per_pixel + sample);
    let alpha_at = match samples.photometric {
        2 if samples.alpha && per_pixel > 3 => Some(3),
        0 | 1 if samples.alpha && per_pixel > 1 => Some(1),
        _ => None,
    };
    let in_colour = colour && matches!(samples.photometric, 2 | 6);
    let mut values = Vec::with_capacity(pixels * if in_colour { 3 } else { 1 });
    for p in 0..pixels {
        let sample = |i: usize| level(p, i).to_u8();
        match samples.photometric {
            2 => push_pixel(&mut values, [sample(0), sample(1), sample(2)], colour),
            6 if colour => values.extend(ycbcr_to_rgb(sample(0), sample(1), sample(2))),
            _ => values.push(sample(0)),
        }
    }
    let alpha = alpha_at.map(|at| {
        (0..pixels)
            .map(|p| match level(p, at) {
                // Alpha is a coverage fraction, never gamma-encoded.
                Level::Linear(v) | Level::Encoded(v) => (v.clamp(0.0, 1.0) * 255.0).round() as u8,
            })
            .collect()
    });
    Ok(Pixels8 {
        values,
        channels: if in_colour { 3 } else { 1 },
        alpha,
    })
}

/// Gray, or RGB when `colour` and the picture has colour, from raw samples the strip
/// reader read (`raw`: one `u32` per sample, in order): palette indices through the
/// colour map, gray of any depth, RGB of any depth, L*a*b* lightness (gray only).
pub(crate) fn pixels_of_raw<R: std::io::Read + std::io::Seek>(
    samples: &Samples,
    decoder: &mut Decoder<R>,
    raw: crate::image::codecs::tiff::chunks::Raw,
    colour: bool,
) -> Result<Pixels8, Failure> {
    let per_pixel = usize::from(samples.samples_per_pixel.max(1));
    let bits = samples.bits;
    let values = match samples.photometric {
        3 => {
            let map: Vec<u16> = decoder
                .find_tag_unsigned_vec(Tag::ColorMap)
                .ok()
                .flatten()
                .ok_or_else(|| corrupt("a palette image without a colour map"))?;
            let entries = map.len() / 3;
            // 16-bit map entries; the high byte is the 8-bit value (for v * 257 and v << 8).
            let map_colour =
                |index: usize, channel: usize| (map[channel * entries + index] >> 8) as u8;
            let mut values = Vec::with_capacity(raw.values.len() / per_pixel);
            for pixel in raw.values.chunks_exact(per_pixel) {
                let index = pixel[0] as usize;
                if index >= entries {
                    return Err(corrupt(format!(
                        "palette index {index} beyond the colour map's {entries} entries"
                    )));
                }
                let rgb = [0, 1, 2].map(|channel| map_colour(index, channel));
                push_pixel(&mut values, rgb, colour);
            }
            values
        }
        0 | 1 if samples.format == 1 => {
            let white_is_zero = samples.photometric == 0;
            raw.values
                .chunks_exact(per_pixel)
                .map(|p| {
                    let v = scale_to_u8(p[0], bits);
                    if white_is_zero { 255 - v } else { v }
                })
                .collect()
        }
        2 if samples.format == 1 => {
            let mut values = Vec::with_capacity(raw.values.len() / per_pixel * 3);
            for p in raw.values.chunks_exact(per_pixel) {
                let rgb = [0, 1, 2].map(|i| scale_to_u8(p[i], bits));
                push_pixel(&mut values, rgb, colour);
            }
            values
        }
        8 | 9 if samples.format == 1 && matches!(bits, 8 | 16) => raw
            .values
            .chunks_exact(per_pixel)
            .map(|p| lightness_to_gray(f64::from(p[0]) * 100.0 / f64::from(max_of(bits))))
            .collect(),
        _ => return Err(unsupported(variant_name(samples))),
    };
    let channels = if colour && matches!(samples.photometric, 2 | 3) {
        3
    } else {
        1
    };
    Ok(Pixels8 {
        values,
        channels,
        alpha: None,
    })
}

/// A sample of `bits` bits scaled to 8 bits, rounded to nearest.
fn scale_to_u8(value: u32, bits: u16) -> u8 {
    let max = u64::from(max_of(bits));
    ((u64::from(value).min(max) * 255 + max / 2) / max) as u8
}

fn max_of(bits: u16) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    }
}

/// CIE lightness L* (0..100) as the 8-bit sRGB gray of the same lightness: L* to relative
/// luminance, then the sRGB transfer curve. a* and b* (the colour) do not change it.
fn lightness_to_gray(lightness: f64) -> u8 {
    let l = lightness.clamp(0.0, 100.0);
    let f = (l + 16.0) / 116.0;
    let luminance = if f > 6.0 / 29.0 {
        f * f * f
    } else {
        3.0 * (6.0f64 / 29.0).powi(2) * (f - 4.0 / 29.0)
    };
    Level::Linear(luminance).to_u8()
}
