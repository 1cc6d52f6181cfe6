//! Colour to gray: ITU-R BT.601 luma on the stored (gamma-encoded) values, exactly as the
//! JPEG Y channel and Pillow's `convert("L")` compute it.

use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};

/// BT.601 luma of one 8-bit RGB pixel, in the 16.16 fixed point Pillow uses, rounded to
/// nearest. Written by hand because the `image` crate's own conversion uses BT.709 weights.
#[inline]
pub fn luma601(r: u8, g: u8, b: u8) -> u8 {
    ((u32::from(r) * 19595 + u32::from(g) * 38470 + u32::from(b) * 7471 + 0x8000) >> 16) as u8
}

/// Reduces any decoded image to 8-bit gray (`ImageLuma8`), or to gray with alpha
/// (`ImageLumaA8`) when it has an alpha channel that is not fully opaque.
pub fn to_gray(image: DynamicImage) -> DynamicImage {
    let gray = match image {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageLumaA8(_) => image,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        DynamicImage::ImageRgb8(rgb) => DynamicImage::ImageLuma8(rgb_to_luma(&rgb)),
        // Float pixels (Radiance HDR, OpenEXR, PFM) are linear light.
        DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_) => float_to_gray(image),
        other if other.color().has_alpha() => {
            DynamicImage::ImageLumaA8(rgba_to_luma_alpha(&other.into_rgba8()))
        }
        other => DynamicImage::ImageLuma8(rgb_to_luma(&other.into_rgb8())),
    };
    drop_opaque_alpha(gray)
}

/// Linear-light float pixels to gray by a fixed rule, no tone mapping: the 8-bit sRGB of
/// [`float_to_srgb8`], then BT.601 luma as for any other image.
fn float_to_gray(image: DynamicImage) -> DynamicImage {
    DynamicImage::ImageLumaA8(rgba_to_luma_alpha(&float_to_srgb8(image)))
}

/// Linear-light float pixels to 8-bit sRGB by a fixed rule, no tone mapping: each channel
/// clipped to 0..1 (brighter than diffuse white is white), encoded with the sRGB transfer
/// curve, rounded to 8 bits. The one rule for every floating-point input, gray or colour.
pub(crate) fn float_to_srgb8(image: DynamicImage) -> RgbaImage {
    let encode = linear_to_srgb8;
    let rgba = image.into_rgba32f();
    let (width, height) = rgba.dimensions();
    let pixels: Vec<u8> = rgba
        .pixels()
        .flat_map(|p| {
            [
                encode(p.0[0]),
                encode(p.0[1]),
                encode(p.0[2]),
                (p.0[3].clamp(0.0, 1.0) * 255.0).round() as u8,
            ]
        })
        .collect();
    RgbaImage::from_raw(width, height, pixels).expect("four bytes per pixel")
}

/// A linear-light value to 8-bit sRGB: clipped to 0..1 (NaN is black), the sRGB transfer
/// curve, rounded. The one rule for every floating-point input.
pub(crate) fn linear_to_srgb8(v: f32) -> u8 {
    let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    let srgb = if v <= 0.003_130_8 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    };
    (srgb * 255.0).round() as u8
}

fn rgb_to_luma(rgb: &RgbImage) -> GrayImage {
    let pixels = rgb
        .as_raw()
        .chunks_exact(3)
        .map(|p| luma601(p[0], p[1], p[2]))
        .collect();
    GrayImage::from_raw(rgb.width(), rgb.height(), pixels).expect("one byte per RGB pixel")
}

fn rgba_to_luma_alpha(rgba: &RgbaImage) -> GrayAlphaImage {
    let pixels = rgba
        .as_raw()
        .chunks_exact(4)
        .flat_map(|p| [luma601(p[0], p[1], p[2]), p[3]])
        .collect();
    GrayAlphaImage::from_raw(rgba.width(), rgba.height(), pixels).expect("two bytes per pixel")
}

/// An alpha channel that is 255 everywhere carries nothing: drop it so the output is plain
/// gray (or plain RGB), smaller and faster to write.
pub(crate) fn drop_opaque_alpha(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageRgba8(rgba) if rgba.as_raw().chunks_exact(4).all(|p| p[3] == 255) => {
            let rgb = rgba
                .as_raw()
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect();
            DynamicImage::ImageRgb8(
                RgbImage::from_raw(rgba.width(), rgba.height(), rgb).expect("three bytes a pixel"),
            )
        }
        DynamicImage::ImageLumaA8(la) if la.as_raw().chunks_exact(2).all(|p| p[1] == 255) => {
            let luma = la.as_raw().chunks_exact(2).map(|p| p[0]).collect();
            DynamicImage::ImageLuma8(
                GrayImage::from_raw(la.width(), la.height(), luma).expect("one byte per pixel"),
            )
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primaries_match_pillow() {
        // Pillow: Image.new("RGB", (1, 1), c).convert("L").getpixel((0, 0))
        assert_eq!(luma601(255, 0, 0), 76);
        assert_eq!(luma601(0, 255, 0), 150);
        assert_eq!(luma601(0, 0, 255), 29);
        assert_eq!(luma601(255, 255, 255), 255);
        assert_eq!(luma601(0, 0, 0), 0);
        assert_eq!(luma601(128, 128, 128), 128);
    }

    #[test]
    fn opaque_alpha_is_dropped_and_real_alpha_kept() {
        let opaque = RgbaImage::from_pixel(2, 2, image::Rgba([10, 20, 30, 255]));
        assert!(matches!(
            to_gray(DynamicImage::ImageRgba8(opaque)),
            DynamicImage::ImageLuma8(_)
        ));
        let mut clear = RgbaImage::from_pixel(2, 2, image::Rgba([10, 20, 30, 255]));
        clear.put_pixel(1, 1, image::Rgba([10, 20, 30, 0]));
        let gray = to_gray(DynamicImage::ImageRgba8(clear));
        let DynamicImage::ImageLumaA8(la) = gray else {
            panic!("alpha lost")
        };
        assert_eq!(la.get_pixel(1, 1).0, [luma601(10, 20, 30), 0]);
    }
}
