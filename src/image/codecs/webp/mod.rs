//! WebP through libwebp (C, compiled by the `cc` crate): its decoder is about 2.5 times as
//! fast as the pure-Rust one on photos, it shrinks while decoding, and it hands over the
//! luma plane directly (gray) or RGB(A) already scaled (colour). Animated files are left to
//! the generic path (first frame).

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, GrayAlphaImage, GrayImage, ImageDecoder, ImageFormat, ImageReader};
use libwebp_sys as ffi;

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::decoded::{Decoded, check_pixels, upright};
use crate::image::pixels::color::{Tone, to_color};
use crate::image::pixels::resize;

mod row_shrink;

/// Decodes a still WebP to gray, or to RGB in colour (with alpha when it has some that is
/// not opaque), upright, shrunk while decoding by the factor `spec` allows, its ICC profile
/// kept. `Ok(None)` hands the file to the
/// generic path: animated, or a header libwebp does not take (the generic path then says
/// what is wrong).
pub(crate) fn decode_shrunk(bytes: &[u8], spec: &Conversion) -> Result<Option<Decoded>, Failure> {
    let Some(features) = features(bytes) else {
        return Ok(None);
    };
    if features.has_animation != 0 {
        return Ok(None);
    }
    let stored = (features.width as u32, features.height as u32);
    check_pixels(u64::from(stored.0), u64::from(stored.1), spec.max_pixels)?;
    let (orientation, icc) = ImageReader::with_format(Cursor::new(bytes), ImageFormat::WebP)
        .into_decoder()
        .ok()
        .map_or((Orientation::NoTransforms, None), |mut decoder| {
            let orientation = crate::image::decoded::orientation_of(&mut decoder);
            (orientation, decoder.icc_profile().ok().flatten())
        });
    let full = upright(stored, orientation);
    let factor = resize::reduction_allowed(full, spec);
    let target = (stored.0.div_ceil(factor), stored.1.div_ceil(factor));
    let with_alpha = features.has_alpha != 0;
    let image = match Tone::for_picture(spec, icc.as_deref()) {
        Tone::Gray => decode_planes(bytes, target, with_alpha)?.into_image(),
        Tone::Color => to_color(decode_rgb(bytes, target, with_alpha)?),
    };
    Ok(Some(
        Decoded::turned(image, orientation, stored).in_profile(icc),
    ))
}

/// The WebP entry point ([`crate::image::codecs::decode`]): [`decode_shrunk`], or the
/// generic path for an animated file (its first frame).
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    match decode_shrunk(bytes, spec)? {
        Some(decoded) => Ok(decoded),
        None => crate::image::codecs::generic::decode_generic(bytes, ImageFormat::WebP, spec),
    }
}

fn features(bytes: &[u8]) -> Option<ffi::WebPBitstreamFeatures> {
    // SAFETY: a plain C struct that libwebp fills; all-zero is a valid value.
    let mut features: ffi::WebPBitstreamFeatures = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer and length describe `bytes`, which outlives the call.
    let status = unsafe { ffi::WebPGetFeatures(bytes.as_ptr(), bytes.len(), &mut features) };
    (status == ffi::VP8StatusCode::VP8_STATUS_OK && features.width > 0 && features.height > 0)
        .then_some(features)
}

/// The luma plane (and alpha plane) of a decoded WebP, full range.
struct Planes {
    width: u32,
    height: u32,
    luma: Vec<u8>,
    alpha: Option<Vec<u8>>,
}

impl Planes {
    fn into_image(self) -> DynamicImage {
        let Planes {
            width,
            height,
            luma,
            alpha,
        } = self;
        match alpha {
            Some(alpha) if alpha.iter().any(|&a| a != 255) => {
                let interleaved = luma
                    .iter()
                    .zip(&alpha)
                    .flat_map(|(&l, &a)| [l, a])
                    .collect();
                DynamicImage::ImageLumaA8(
                    GrayAlphaImage::from_raw(width, height, interleaved).expect("2 bytes a pixel"),
                )
            }
            _ => DynamicImage::ImageLuma8(
                GrayImage::from_raw(width, height, luma).expect("1 byte a pixel"),
            ),
        }
    }
}

/// Decodes to YUV(A) at `size` (libwebp rescales when it differs from the stored size)
/// and keeps the Y plane, stretched from WebP's limited range (16-235) to full range, and
/// the A plane.
fn decode_planes(bytes: &[u8], size: (u32, u32), with_alpha: bool) -> Result<Planes, Failure> {
    let mode = if with_alpha {
        ffi::WEBP_CSP_MODE::MODE_YUVA
    } else {
        ffi::WEBP_CSP_MODE::MODE_YUV
    };
    // SAFETY: after a successful decode into a YUV mode the YUVA member is the live one,
    // and its planes hold `height` rows of `stride` bytes (at least `width` used).
    decode_into(bytes, size, mode, |output| unsafe {
        copy_planes(output, with_alpha)
    })
}

/// Decodes to RGB (or RGBA) at `size`, libwebp's own conversion and rescaling.
fn decode_rgb(bytes: &[u8], size: (u32, u32), with_alpha: bool) -> Result<DynamicImage, Failure> {
    let (mode, channels) = if with_alpha {
        (ffi::WEBP_CSP_MODE::MODE_RGBA, 4)
    } else {
        (ffi::WEBP_CSP_MODE::MODE_RGB, 3)
    };
    decode_into(bytes, size, mode, |output| {
        let (width, height) = (output.width as usize, output.height as usize);
        // SAFETY: after a successful decode into an RGB mode the RGBA member is the live
        // one, `height` rows of `stride` bytes, `width * channels` of them used.
        let rgba = unsafe { output.u.RGBA };
        let mut pixels = Vec::with_capacity(width * height * channels);
        for row in 0..height {
            // SAFETY: as above, inside the buffer libwebp allocated.
            let line = unsafe {
                std::slice::from_raw_parts(
                    rgba.rgba.add(row * rgba.stride as usize),
                    width * channels,
                )
            };
            pixels.extend_from_slice(line);
        }
        let (w, h) = (width as u32, height as u32);
        let sized = "a pixel's bytes each";
        match channels {
            4 => DynamicImage::ImageRgba8(image::RgbaImage::from_raw(w, h, pixels).expect(sized)),
            _ => DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, pixels).expect(sized)),
        }
    })
}

/// Decodes into libwebp's own buffer in `mode` at `size` (rescaled when it differs from
/// the stored size), hands it to `copy` and frees it.
fn decode_into<T>(
    bytes: &[u8],
    size: (u32, u32),
    mode: ffi::WEBP_CSP_MODE,
    copy: impl FnOnce(&ffi::WebPDecBuffer) -> T,
) -> Result<T, Failure> {
    // SAFETY: a plain C struct; WebPInitDecoderConfig sets it up before use.
    let mut config: ffi::WebPDecoderConfig = unsafe { std::mem::zeroed() };
    // SAFETY: `config` is a valid, writable WebPDecoderConfig.
    if !unsafe { ffi::WebPInitDecoderConfig(&mut config) } {
        return Err(Failure::new(
            ErrorKind::Internal,
            "internal: libwebp version mismatch",
        ));
    }
    if size != (config.input.width as u32, config.input.height as u32) {
        config.options.use_scaling = 1;
        config.options.scaled_width = size.0 as i32;
        config.options.scaled_height = size.1 as i32;
    }
    config.output.colorspace = mode;
    row_shrink::install();
    // SAFETY: `bytes` outlives the call; libwebp allocates the output buffer itself and
    // records it in `config.output`, which is freed below on every path.
    let status = unsafe { ffi::WebPDecode(bytes.as_ptr(), bytes.len(), &mut config) };
    let decoded = if status == ffi::VP8StatusCode::VP8_STATUS_OK {
        Ok(copy(&config.output))
    } else if status == ffi::VP8StatusCode::VP8_STATUS_OUT_OF_MEMORY {
        Err(Failure::new(
            ErrorKind::OutOfMemory,
            "out of memory decoding this WebP",
        ))
    } else {
        Err(Failure::corrupt(format!(
            "corrupt or truncated WEBP: {}",
            status_text(status)
        )))
    };
    // SAFETY: frees what WebPDecode allocated (a no-op when it allocated nothing).
    unsafe { ffi::WebPFreeDecBuffer(&mut config.output) };
    decoded
}

/// # Safety
/// `output` must hold a successfully decoded YUV or YUVA picture.
unsafe fn copy_planes(output: &ffi::WebPDecBuffer, with_alpha: bool) -> Planes {
    let (width, height) = (output.width as usize, output.height as usize);
    // SAFETY: per the caller, YUVA is the live member.
    let yuva = unsafe { output.u.YUVA };
    let plane = |start: *const u8, stride: i32| -> Vec<u8> {
        let mut out = Vec::with_capacity(width * height);
        for row in 0..height {
            // SAFETY: row `row` of the plane starts `row * stride` bytes in and holds
            // `width` bytes, inside the buffer libwebp allocated.
            let line =
                unsafe { std::slice::from_raw_parts(start.add(row * stride as usize), width) };
            out.extend_from_slice(line);
        }
        out
    };
    let mut luma = plane(yuva.y, yuva.y_stride);
    let table = full_range_table();
    luma.iter_mut().for_each(|v| *v = table[usize::from(*v)]);
    let alpha = (with_alpha && !yuva.a.is_null()).then(|| plane(yuva.a, yuva.a_stride));
    Planes {
        width: width as u32,
        height: height as u32,
        luma,
        alpha,
    }
}

/// Limited-range luma (16 black, 235 white) to full range, rounded and clamped: the value
/// BT.601 luma of the decoded RGB would have.
fn full_range_table() -> [u8; 256] {
    std::array::from_fn(|y| {
        ((y as f64 - 16.0) * 255.0 / 219.0)
            .round()
            .clamp(0.0, 255.0) as u8
    })
}

fn status_text(status: ffi::VP8StatusCode) -> &'static str {
    use ffi::VP8StatusCode::*;
    match status {
        VP8_STATUS_NOT_ENOUGH_DATA => "the data ends too soon",
        VP8_STATUS_BITSTREAM_ERROR => "bitstream error",
        VP8_STATUS_UNSUPPORTED_FEATURE => "a feature this decoder does not support",
        VP8_STATUS_INVALID_PARAM => "invalid parameters",
        _ => "decoding failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_range_luma_is_stretched_to_full_range() {
        let table = full_range_table();
        assert_eq!(
            (table[0], table[16], table[126], table[235], table[255]),
            (0, 0, 128, 255, 255)
        );
    }
}
