//! The two tones a thumbnail comes in, and colour pixels in the four layouts the rest of
//! the pipeline knows: gray, gray and alpha, RGB, RGBA, 8 bits a sample.

use image::DynamicImage;

use crate::config::Conversion;
use crate::image::pixels::gray::{drop_opaque_alpha, float_to_srgb8, to_gray};
use crate::image::pixels::profile;

/// What a decoder hands on: gray (luma, BT.601, as it always was), or colour (the
/// picture's own channels, a gray picture staying gray).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// One channel, plus alpha where the picture has some.
    Gray,
    /// RGB, or gray for a gray picture, plus alpha where the picture has some.
    Color,
}

impl Tone {
    /// The tone a picture tagged with `icc` (none: untagged, taken as sRGB) is decoded in
    /// for `spec`: colour when colour is asked for; and colour too when a gray thumbnail
    /// is asked for but the profile is not sRGB, so that the gray is that of the
    /// picture's sRGB rendering (the pipeline turns it gray once it is managed).
    pub fn for_picture(spec: &Conversion, icc: Option<&[u8]>) -> Tone {
        if spec.color || icc.is_some_and(profile::needs_managing) {
            Tone::Color
        } else {
            Tone::Gray
        }
    }

    /// `image` (any layout a decoder gives) in this tone, 8 bits a sample, alpha dropped
    /// where it is opaque everywhere.
    pub fn of(self, image: DynamicImage) -> DynamicImage {
        match self {
            Tone::Gray => to_gray(image),
            Tone::Color => to_color(image),
        }
    }
}

/// Reduces any decoded image to 8-bit gray, gray and alpha, RGB or RGBA, keeping its
/// channels: a gray picture stays gray; 16-bit samples are rounded to 8; float pixels
/// (linear light) are encoded as sRGB by the rule gray uses; an alpha channel that is
/// opaque everywhere is dropped.
pub fn to_color(image: DynamicImage) -> DynamicImage {
    let color = match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => image,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_) => {
            DynamicImage::ImageRgba8(float_to_srgb8(image))
        }
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.into_rgba8()),
        other => DynamicImage::ImageRgb8(other.into_rgb8()),
    };
    drop_opaque_alpha(color)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_keeps_channels_and_drops_only_opaque_alpha() {
        let rgba = image::RgbaImage::from_pixel(2, 1, image::Rgba([10, 20, 30, 255]));
        let DynamicImage::ImageRgb8(rgb) = to_color(DynamicImage::ImageRgba8(rgba)) else {
            panic!("opaque alpha kept")
        };
        assert_eq!(rgb.get_pixel(1, 0).0, [10, 20, 30]);
        let gray16 = image::ImageBuffer::from_pixel(1, 1, image::Luma([257 * 9u16]));
        assert_eq!(
            to_color(DynamicImage::ImageLuma16(gray16)).as_bytes(),
            &[9],
            "gray stays gray"
        );
    }

    #[test]
    fn gray_is_asked_for_unless_colour_or_a_profile_needs_it() {
        let gray = Conversion::default();
        assert_eq!(Tone::for_picture(&gray, None), Tone::Gray);
        let color = Conversion {
            color: true,
            ..Conversion::default()
        };
        assert_eq!(Tone::for_picture(&color, None), Tone::Color);
        let srgb = profile::srgb_bytes();
        assert_eq!(Tone::for_picture(&gray, Some(&srgb)), Tone::Gray);
    }
}
