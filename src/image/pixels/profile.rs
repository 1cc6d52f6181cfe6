//! Colour management: pixels tagged with an ICC profile brought to sRGB, with `moxcms`
//! (the colour-management crate the `image` crate itself uses: pure Rust, matrix-shaper and
//! LUT profiles, RGB, gray and CMYK sources). An untagged picture is taken as sRGB, and so
//! is one whose profile cannot be read (a damaged profile does not lose the picture).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};
use moxcms::{
    ColorProfile, DataColorSpace, Layout, RenderingIntent, Transform8BitExecutor, TransformOptions,
};

use crate::image::pixels::gray::luma601;

/// A transform from a profile to sRGB, from pixels laid out as `from` to `to`.
type Transform = Arc<Transform8BitExecutor>;

/// Transforms already built on this thread, by profile and layouts: photos of one camera
/// share their profile, and building one costs more than applying it to a thumbnail.
const CACHED: usize = 32;

thread_local! {
    static TRANSFORMS: RefCell<HashMap<(u64, u8, u8), Option<Transform>>> =
        RefCell::new(HashMap::new());
}

/// What the source pixels are, for a transform: which profiles describe them and how
/// they are laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Rgb,
    Rgba,
    Gray,
    GrayAlpha,
    /// Four inks a pixel, 0 no ink.
    Cmyk,
}

impl Source {
    fn layout(self) -> Layout {
        match self {
            Source::Rgb => Layout::Rgb,
            // moxcms lays four-ink pixels out as RGBA.
            Source::Rgba | Source::Cmyk => Layout::Rgba,
            Source::Gray => Layout::Gray,
            Source::GrayAlpha => Layout::GrayAlpha,
        }
    }

    fn described_by(self, space: DataColorSpace) -> bool {
        match self {
            Source::Rgb | Source::Rgba => space == DataColorSpace::Rgb,
            Source::Gray | Source::GrayAlpha => space == DataColorSpace::Gray,
            Source::Cmyk => space == DataColorSpace::Cmyk,
        }
    }
}

/// The transform from `icc` to sRGB for `from` pixels, laid out `to`; `None` when the
/// profile cannot be read or does not describe such pixels.
fn transform(icc: &[u8], from: Source, to: Layout) -> Option<Transform> {
    let key = (xxhash_rust::xxh3::xxh3_64(icc), from as u8, to as u8);
    if let Some(found) = TRANSFORMS.with(|cache| cache.borrow().get(&key).cloned()) {
        return found;
    }
    let built = build(icc, from, to);
    TRANSFORMS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHED {
            cache.clear();
        }
        cache.insert(key, built.clone());
    });
    built
}

fn build(icc: &[u8], from: Source, to: Layout) -> Option<Transform> {
    let source = ColorProfile::new_from_slice(icc).ok()?;
    if !from.described_by(source.color_space) {
        return None;
    }
    let srgb = ColorProfile::new_srgb();
    // Relative colorimetric, as libvips (and Photoshop) default to: white maps to white,
    // colours inside sRGB stay as they are, those outside are clipped.
    let options = TransformOptions {
        rendering_intent: RenderingIntent::RelativeColorimetric,
        ..TransformOptions::default()
    };
    source
        .create_transform_8bit(from.layout(), &srgb, to, options)
        .ok()
}

/// Whether `icc` describes CMYK pixels.
pub fn is_cmyk(icc: &[u8]) -> bool {
    ColorProfile::new_from_slice(icc).is_ok_and(|p| p.color_space == DataColorSpace::Cmyk)
}

/// CMYK pixels (four inks a pixel, 0 no ink) described by `icc` as sRGB, three bytes a
/// pixel appended to `out`; `false` (nothing appended) when the profile cannot be used.
pub fn cmyk_to_srgb(icc: &[u8], cmyk: &[u8], out: &mut Vec<u8>) -> bool {
    let Some(transform) = transform(icc, Source::Cmyk, Layout::Rgb) else {
        return false;
    };
    let start = out.len();
    out.resize(start + cmyk.len() / 4 * 3, 0);
    if transform.transform(cmyk, &mut out[start..]).is_err() {
        out.truncate(start);
        return false;
    }
    true
}

/// Whether pixels tagged `icc` change when brought to sRGB: false for an sRGB profile
/// (each of a grid of colours, every gray level, lands within one level of itself), and
/// for a profile that cannot be read or used (the picture is then taken as sRGB).
pub fn needs_managing(icc: &[u8]) -> bool {
    let key = xxhash_rust::xxh3::xxh3_64(icc);
    thread_local! {
        static ANSWERS: RefCell<HashMap<u64, bool>> = RefCell::new(HashMap::new());
    }
    if let Some(answer) = ANSWERS.with(|a| a.borrow().get(&key).copied()) {
        return answer;
    }
    let answer = differs_from_srgb(icc);
    ANSWERS.with(|answers| {
        let mut answers = answers.borrow_mut();
        if answers.len() >= CACHED {
            answers.clear();
        }
        answers.insert(key, answer);
    });
    answer
}

fn differs_from_srgb(icc: &[u8]) -> bool {
    let moved = |from: &[u8], to: &[u8]| from.iter().zip(to).any(|(a, b)| a.abs_diff(*b) > 1);
    if let Some(rgb) = transform(icc, Source::Rgb, Layout::Rgb) {
        let levels = (0..=255u8).step_by(15);
        let grid: Vec<u8> = levels
            .clone()
            .flat_map(|r| {
                let levels = levels.clone();
                levels.flat_map(move |g| (0..=255u8).step_by(15).flat_map(move |b| [r, g, b]))
            })
            .collect();
        let mut out = vec![0; grid.len()];
        return rgb.transform(&grid, &mut out).is_ok() && moved(&grid, &out);
    }
    if let Some(gray) = transform(icc, Source::Gray, Layout::Rgb) {
        let ramp: Vec<u8> = (0..=255).collect();
        let mut out = vec![0; 3 * ramp.len()];
        if gray.transform(&ramp, &mut out).is_err() {
            return false;
        }
        let lumas: Vec<u8> = out
            .chunks_exact(3)
            .map(|p| luma601(p[0], p[1], p[2]))
            .collect();
        return moved(&ramp, &lumas);
    }
    // A CMYK picture is always managed (there is no sRGB to compare with); a profile of
    // another kind is not used.
    is_cmyk(icc)
}

/// `image` (gray, gray and alpha, RGB or RGBA, 8 bits) in sRGB, its pixels described by
/// `icc`: RGB pixels stay RGB, gray pixels stay gray (the luma of their sRGB rendering),
/// alpha is kept as it is. Pixels the profile does not describe (an RGB profile on gray
/// pixels), or a profile that cannot be used, leave the image as it is.
pub fn to_srgb(image: DynamicImage, icc: &[u8]) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    let (from, to) = match &image {
        DynamicImage::ImageRgb8(_) => (Source::Rgb, Layout::Rgb),
        DynamicImage::ImageRgba8(_) => (Source::Rgba, Layout::Rgba),
        DynamicImage::ImageLuma8(_) => (Source::Gray, Layout::Rgb),
        DynamicImage::ImageLumaA8(_) => (Source::GrayAlpha, Layout::Rgba),
        _ => return image,
    };
    let Some(transform) = transform(icc, from, to) else {
        return image;
    };
    let channels = if to == Layout::Rgb { 3 } else { 4 };
    let mut out = vec![0u8; width as usize * height as usize * channels];
    if transform.transform(image.as_bytes(), &mut out).is_err() {
        return image;
    }
    match (from, to) {
        (Source::Rgb, _) => {
            DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, out).expect("sized"))
        }
        (Source::Rgba, _) => {
            DynamicImage::ImageRgba8(RgbaImage::from_raw(width, height, out).expect("sized"))
        }
        (_, Layout::Rgb) => {
            let gray = out
                .chunks_exact(3)
                .map(|p| luma601(p[0], p[1], p[2]))
                .collect();
            DynamicImage::ImageLuma8(GrayImage::from_raw(width, height, gray).expect("sized"))
        }
        _ => {
            let gray = out
                .chunks_exact(4)
                .flat_map(|p| [luma601(p[0], p[1], p[2]), p[3]])
                .collect();
            DynamicImage::ImageLumaA8(GrayAlphaImage::from_raw(width, height, gray).expect("sized"))
        }
    }
}

/// The bytes of an sRGB ICC profile (moxcms's own), for tests.
#[cfg(test)]
pub(crate) fn srgb_bytes() -> Vec<u8> {
    ColorProfile::new_srgb().encode().expect("sRGB encodes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(pixel: [u8; 3]) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_pixel(1, 1, image::Rgb(pixel)))
    }

    #[test]
    fn srgb_is_left_alone_and_wide_gamut_is_brought_in() {
        assert!(!needs_managing(&srgb_bytes()));
        let p3 = ColorProfile::new_display_p3().encode().unwrap();
        assert!(needs_managing(&p3));
        // P3's pure red lies outside sRGB: it clips to sRGB's red; its mid gray stays gray.
        let red = to_srgb(rgb([255, 0, 0]), &p3);
        assert_eq!(red.as_bytes()[0], 255);
        assert!(red.as_bytes()[1] < 10 && red.as_bytes()[2] < 10, "{red:?}");
        let gray = to_srgb(rgb([128, 128, 128]), &p3);
        assert!(
            gray.as_bytes().iter().all(|&v| v.abs_diff(128) <= 1),
            "{gray:?}"
        );
        // A P3 orange is a different sRGB orange.
        let orange = to_srgb(rgb([230, 120, 40]), &p3);
        assert_ne!(orange.as_bytes(), &[230, 120, 40]);
    }

    #[test]
    fn a_damaged_or_unsuitable_profile_leaves_the_picture_as_it_is() {
        assert!(!needs_managing(b"not a profile"));
        let picture = rgb([1, 2, 3]);
        assert_eq!(
            to_srgb(picture.clone(), b"junk").as_bytes(),
            picture.as_bytes()
        );
        let gray_profile = ColorProfile::new_gray_with_gamma(2.2).encode().unwrap();
        assert_eq!(
            to_srgb(picture.clone(), &gray_profile).as_bytes(),
            picture.as_bytes()
        );
    }
}
