//! Pixels to WebP through libwebp's encoder (already built for decoding). WebP has no
//! gray mode: each gray value is written as the colour with equal red, green and blue,
//! which decodes back to the same gray (lossless) or close to it (lossy, neutral chroma).

use image::DynamicImage;
use libwebp_sys as ffi;

/// The largest side WebP can store.
const MAX_SIDE: u32 = 16383;

/// Encodes a gray, gray-with-alpha, RGB or RGBA image as WebP: lossy at `quality` (0-100), or
/// lossless when `quality` is `None`, which keeps every gray and alpha value exactly.
pub(crate) fn encode(image: &DynamicImage, quality: Option<u8>) -> Result<Vec<u8>, String> {
    let (width, height) = (image.width(), image.height());
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!(
            "{width}x{height} is too large for WebP ({MAX_SIDE} pixels a side at most); use --format png"
        ));
    }
    let (pixels, channels): (std::borrow::Cow<[u8]>, usize) = match image {
        DynamicImage::ImageLuma8(gray) => (gray.as_raw().iter().flat_map(|&v| [v; 3]).collect(), 3),
        DynamicImage::ImageLumaA8(la) => (
            la.as_raw()
                .chunks_exact(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
            4,
        ),
        DynamicImage::ImageRgb8(rgb) => (rgb.as_raw().into(), 3),
        DynamicImage::ImageRgba8(rgba) => (rgba.as_raw().into(), 4),
        other => {
            return Err(format!(
                "internal: cannot write {:?} as WebP",
                other.color()
            ));
        }
    };
    let config = config(quality)?;
    // SAFETY: a plain C struct; `WebPPicture::new` runs libwebp's initialiser on it.
    let mut picture = ffi::WebPPicture::new().map_err(|()| "WebP encoder version mismatch")?;
    picture.use_argb = i32::from(quality.is_none());
    picture.width = width as i32;
    picture.height = height as i32;
    let stride = width as i32 * channels as i32;
    // SAFETY: `pixels` holds `height` rows of `stride` bytes and outlives the import, which
    // copies them into buffers the picture owns (freed below).
    let imported = unsafe {
        if channels == 3 {
            ffi::WebPPictureImportRGB(&mut picture, pixels.as_ptr(), stride)
        } else {
            ffi::WebPPictureImportRGBA(&mut picture, pixels.as_ptr(), stride)
        }
    };
    // SAFETY: all-zero is the state `WebPMemoryWriterInit` sets; the writer outlives the
    // encode that appends to it through `custom_ptr`, and is cleared once, after copying.
    let mut writer: ffi::WebPMemoryWriter = unsafe { std::mem::zeroed() };
    let encoded = unsafe {
        ffi::WebPMemoryWriterInit(&mut writer);
        picture.writer = Some(ffi::WebPMemoryWrite);
        picture.custom_ptr = (&raw mut writer).cast();
        let ok = imported != 0 && ffi::WebPEncode(&config, &mut picture) != 0;
        let bytes = ok.then(|| std::slice::from_raw_parts(writer.mem, writer.size).to_vec());
        let error = picture.error_code;
        ffi::WebPMemoryWriterClear(&mut writer);
        ffi::WebPPictureFree(&mut picture);
        bytes.ok_or(error)
    };
    encoded.map_err(|error| format!("WebP encoding failed ({error:?})"))
}

/// libwebp's settings: lossy at `quality`, or lossless keeping the gray under fully
/// transparent pixels too (libwebp's `exact`).
fn config(quality: Option<u8>) -> Result<ffi::WebPConfig, String> {
    let preset = ffi::WebPPreset::WEBP_PRESET_DEFAULT;
    let mut config = ffi::WebPConfig::new_with_preset(preset, f32::from(quality.unwrap_or(75)))
        .map_err(|()| "WebP encoder version mismatch")?;
    if quality.is_none() {
        config.lossless = 1;
        config.exact = 1;
    }
    // SAFETY: `config` is an initialised struct that outlives the call.
    if unsafe { ffi::WebPValidateConfig(&config) } == 0 {
        return Err("internal: invalid WebP settings".into());
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayAlphaImage, GrayImage};

    #[test]
    fn lossless_gray_and_alpha_come_back_exactly() {
        let gray = GrayImage::from_fn(37, 21, |x, y| image::Luma([(x * 7 + y * 3) as u8]));
        let bytes = encode(&DynamicImage::ImageLuma8(gray.clone()), None).unwrap();
        let back = image::load_from_memory(&bytes).unwrap();
        assert_eq!(back.to_luma8(), gray);
        let la =
            GrayAlphaImage::from_fn(9, 5, |x, y| image::LumaA([(x * 20) as u8, (y * 60) as u8]));
        let bytes = encode(&DynamicImage::ImageLumaA8(la.clone()), None).unwrap();
        assert_eq!(
            image::load_from_memory(&bytes).unwrap().to_luma_alpha8(),
            la
        );
    }

    #[test]
    fn too_large_a_side_is_refused_by_name() {
        let wide = DynamicImage::ImageLuma8(GrayImage::new(MAX_SIDE + 1, 1));
        assert!(
            encode(&wide, Some(80))
                .unwrap_err()
                .contains("too large for WebP")
        );
    }
}
