//! The samples of a TIFF the readers decoded, reduced to gray: whatever their depth,
//! sign, floating point or colour space.

use super::*;

/// Gray (and alpha) values, one per pixel, before they become an image.
pub(crate) struct GrayPixels {
    gray: Vec<u8>,
    alpha: Option<Vec<u8>>,
}

impl GrayPixels {
    pub(crate) fn into_image(self, samples: &Samples) -> Result<DynamicImage, Failure> {
        let (w, h) = (samples.width, samples.height);
        let short = || corrupt("fewer samples than the image size needs");
        let gray = match self.alpha {
            Some(alpha) => {
                let pairs = self.gray.into_iter().zip(alpha).flat_map(|(g, a)| [g, a]);
                DynamicImage::ImageLumaA8(
                    GrayAlphaImage::from_raw(w, h, pairs.collect()).ok_or_else(short)?,
                )
            }
            None => {
                DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, self.gray).ok_or_else(short)?)
            }
        };
        Ok(crate::image::gray::to_gray(gray))
    }
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

/// Gray from what the `tiff` crate decoded: `per_pixel` samples for each pixel, gray or
/// gray-and-more (the first sample), RGB, or YCbCr (the first sample, Y, is the gray).
pub(crate) fn gray_of_decoded(
    samples: &Samples,
    result: DecodingResult,
    per_pixel: usize,
) -> Result<GrayPixels, Failure> {
    if samples.bits < 8 {
        // Whole bytes per row, samples packed from the highest bit.
        let DecodingResult::U8(packed) = result else {
            return Err(corrupt("packed samples of an unexpected type"));
        };
        let gray = unpack_rows(&packed, samples.width, samples.height, samples.bits)
            .into_iter()
            .map(|v| scale_to_u8(v, samples.bits))
            .collect();
        return Ok(GrayPixels { gray, alpha: None });
    }
    let pixels = sample_count(&result) / per_pixel;
    let level = |pixel: usize, sample: usize| level_at(&result, pixel * per_pixel + sample);
    let alpha_at = match samples.photometric {
        2 if samples.alpha && per_pixel > 3 => Some(3),
        0 | 1 if samples.alpha && per_pixel > 1 => Some(1),
        _ => None,
    };
    let gray = (0..pixels)
        .map(|p| match samples.photometric {
            2 => luma601(
                level(p, 0).to_u8(),
                level(p, 1).to_u8(),
                level(p, 2).to_u8(),
            ),
            _ => level(p, 0).to_u8(),
        })
        .collect();
    let alpha = alpha_at.map(|at| {
        (0..pixels)
            .map(|p| match level(p, at) {
                // Alpha is a coverage fraction, never gamma-encoded.
                Level::Linear(v) | Level::Encoded(v) => (v.clamp(0.0, 1.0) * 255.0).round() as u8,
            })
            .collect()
    });
    Ok(GrayPixels { gray, alpha })
}

/// Gray from raw samples the strip reader read (`raw`: one `u32` per sample, in order):
/// palette indices through the colour map, gray of any depth, L*a*b* lightness, YCbCr's Y.
pub(crate) fn gray_of_raw<R: std::io::Read + std::io::Seek>(
    samples: &Samples,
    decoder: &mut Decoder<R>,
    raw: crate::image::codecs::tiff::chunks::Raw,
) -> Result<GrayPixels, Failure> {
    let per_pixel = usize::from(samples.samples_per_pixel.max(1));
    let bits = samples.bits;
    let gray = match samples.photometric {
        3 => {
            let map: Vec<u16> = decoder
                .find_tag_unsigned_vec(Tag::ColorMap)
                .ok()
                .flatten()
                .ok_or_else(|| corrupt("a palette image without a colour map"))?;
            let entries = map.len() / 3;
            // 16-bit map entries; the high byte is the 8-bit value (for v * 257 and v << 8).
            let colour = |index: usize, channel: usize| (map[channel * entries + index] >> 8) as u8;
            let mut gray = Vec::with_capacity(raw.values.len() / per_pixel);
            for pixel in raw.values.chunks_exact(per_pixel) {
                let index = pixel[0] as usize;
                if index >= entries {
                    return Err(corrupt(format!(
                        "palette index {index} beyond the colour map's {entries} entries"
                    )));
                }
                gray.push(luma601(
                    colour(index, 0),
                    colour(index, 1),
                    colour(index, 2),
                ));
            }
            gray
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
        2 if samples.format == 1 => raw
            .values
            .chunks_exact(per_pixel)
            .map(|p| {
                luma601(
                    scale_to_u8(p[0], bits),
                    scale_to_u8(p[1], bits),
                    scale_to_u8(p[2], bits),
                )
            })
            .collect(),
        8 | 9 if samples.format == 1 && matches!(bits, 8 | 16) => raw
            .values
            .chunks_exact(per_pixel)
            .map(|p| lightness_to_gray(f64::from(p[0]) * 100.0 / f64::from(max_of(bits))))
            .collect(),
        _ => return Err(unsupported(variant_name(samples))),
    };
    Ok(GrayPixels { gray, alpha: None })
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
