//! Resizing: where the output box lands (a pure computation) and the SIMD resample itself.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};

use crate::config::{Conversion, Filter, Fit};

/// Where the resize goes: the output size, and the part of the source that is used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    /// Output width in pixels.
    pub width: u32,
    /// Output height in pixels.
    pub height: u32,
    /// `(left, top, width, height)` of the source region that is resampled; `None` means
    /// the whole source.
    pub crop: Option<(f64, f64, f64, f64)>,
}

impl Geometry {
    /// True when the output is the source, pixel for pixel.
    pub fn is_identity(&self, source: (u32, u32)) -> bool {
        self.crop.is_none() && (self.width, self.height) == source
    }
}

/// Computes the output geometry for a source of `source` pixels under `spec`: the box,
/// the fit, and the no-upscale rule. Every side of the result is at least 1.
pub fn geometry(source: (u32, u32), spec: &Conversion) -> Geometry {
    let (sw, sh) = (f64::from(source.0), f64::from(source.1));
    let limit = |scale: f64| if spec.upscale { scale } else { scale.min(1.0) };
    let side = |v: f64| (v.round() as u32).max(1);
    match (spec.width, spec.height, spec.fit) {
        (Some(bw), Some(bh), Fit::Cover) => {
            let (bw, bh) = (f64::from(bw), f64::from(bh));
            let scale = (bw / sw).max(bh / sh);
            // Without upscaling, a source smaller than the box keeps its scale and is only
            // cropped to the box's aspect ratio.
            let (ow, oh) = if scale > 1.0 && !spec.upscale {
                (
                    side(bw / scale).min(source.0),
                    side(bh / scale).min(source.1),
                )
            } else {
                (side(bw), side(bh))
            };
            let aspect = f64::from(ow) / f64::from(oh);
            let cw = sw.min(sh * aspect);
            let ch = sh.min(sw / aspect);
            let crop = ((sw - cw) / 2.0, (sh - ch) / 2.0, cw, ch);
            Geometry {
                width: ow,
                height: oh,
                crop: (cw < sw || ch < sh).then_some(crop),
            }
        }
        (Some(bw), Some(bh), Fit::Fill) => {
            let (ow, oh) = if spec.upscale {
                (bw, bh)
            } else {
                (bw.min(source.0), bh.min(source.1))
            };
            Geometry {
                width: ow,
                height: oh,
                crop: None,
            }
        }
        // Contain, or only one side given: scale to fit, keeping the aspect ratio.
        (bw, bh, _) => {
            let sx = bw.map_or(f64::INFINITY, |w| f64::from(w) / sw);
            let sy = bh.map_or(f64::INFINITY, |h| f64::from(h) / sh);
            let scale = limit(sx.min(sy));
            let scale = if scale.is_finite() { scale } else { 1.0 };
            Geometry {
                width: side(sw * scale),
                height: side(sh * scale),
                crop: None,
            }
        }
    }
}

/// The largest whole factor by which a decoder may shrink an image of `full` pixels (as
/// upright) before the resize: the part of the image that is used keeps at least twice the
/// output's pixels on each side, so the final filter still works on real detail (as
/// Pillow's `reducing_gap=2`). 1 means decode at full size.
pub fn reduction_allowed(full: (u32, u32), spec: &Conversion) -> u32 {
    let geometry = geometry(full, spec);
    let (used_w, used_h) = geometry
        .crop
        .map_or((f64::from(full.0), f64::from(full.1)), |(_, _, w, h)| {
            (w, h)
        });
    let factor = (used_w / (2.0 * f64::from(geometry.width)))
        .min(used_h / (2.0 * f64::from(geometry.height)))
        .floor();
    factor.clamp(1.0, 64.0) as u32
}

fn algorithm(filter: Filter) -> ResizeAlg {
    match filter {
        Filter::Lanczos3 => ResizeAlg::Convolution(FilterType::Lanczos3),
        Filter::CatmullRom => ResizeAlg::Convolution(FilterType::CatmullRom),
        Filter::Bilinear => ResizeAlg::Convolution(FilterType::Bilinear),
        Filter::Box => ResizeAlg::Convolution(FilterType::Box),
        Filter::Nearest => ResizeAlg::Nearest,
    }
}

/// Resizes a gray, gray-with-alpha, RGB or RGBA image (8 bits a sample) as `spec` says
/// for an image of `full` pixels: `image` is that image, or that image already shrunk by
/// the decoder (see [`reduction_allowed`]), and the output size and crop are those of the
/// full image either way. Alpha is resampled premultiplied, so transparent pixels do not
/// bleed their colour.
pub fn resize(
    image: DynamicImage,
    full: (u32, u32),
    spec: &Conversion,
) -> Result<DynamicImage, String> {
    let source = (image.width(), image.height());
    let mut geometry = geometry(full, spec);
    if source == full && geometry.is_identity(source) {
        return Ok(image);
    }
    if source != full {
        let sx = f64::from(source.0) / f64::from(full.0);
        let sy = f64::from(source.1) / f64::from(full.1);
        geometry.crop = geometry
            .crop
            .map(|(left, top, w, h)| (left * sx, top * sy, w * sx, h * sy));
    }
    let pixel_type = match &image {
        DynamicImage::ImageLuma8(_) => PixelType::U8,
        DynamicImage::ImageLumaA8(_) => PixelType::U8x2,
        DynamicImage::ImageRgb8(_) => PixelType::U8x3,
        DynamicImage::ImageRgba8(_) => PixelType::U8x4,
        other => return Err(format!("internal: cannot resize {:?}", other.color())),
    };
    let src = ImageRef::new(source.0, source.1, image.as_bytes(), pixel_type)
        .map_err(|e| format!("internal: {e}"))?;
    let mut dst = Image::new(geometry.width, geometry.height, pixel_type);
    let mut options = ResizeOptions::new().resize_alg(algorithm(spec.filter));
    if let Some((left, top, width, height)) = geometry.crop {
        options = options.crop(left, top, width, height);
    }
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| format!("resize failed: {e}"))?;
    let (w, h, pixels) = (dst.width(), dst.height(), dst.into_vec());
    let sized = "the resizer returns a pixel's bytes for each pixel";
    Ok(match pixel_type {
        PixelType::U8 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels).expect(sized)),
        PixelType::U8x2 => {
            DynamicImage::ImageLumaA8(GrayAlphaImage::from_raw(w, h, pixels).expect(sized))
        }
        PixelType::U8x3 => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels).expect(sized)),
        _ => DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, pixels).expect(sized)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(width: Option<u32>, height: Option<u32>, fit: Fit, upscale: bool) -> Conversion {
        Conversion {
            width,
            height,
            fit,
            upscale,
            ..Conversion::default()
        }
    }

    fn size(g: Geometry) -> (u32, u32) {
        (g.width, g.height)
    }

    #[test]
    fn contain_keeps_aspect_and_never_upscales_by_default() {
        let s = spec(Some(256), Some(256), Fit::Contain, false);
        assert_eq!(size(geometry((400, 300), &s)), (256, 192));
        assert_eq!(size(geometry((300, 400), &s)), (192, 256));
        assert_eq!(size(geometry((100, 50), &s)), (100, 50));
        assert!(geometry((100, 50), &s).is_identity((100, 50)));
        let up = spec(Some(256), Some(256), Fit::Contain, true);
        assert_eq!(size(geometry((100, 50), &up)), (256, 128));
    }

    #[test]
    fn one_side_alone_sets_the_scale() {
        let w = spec(Some(200), None, Fit::Contain, false);
        assert_eq!(size(geometry((400, 300), &w)), (200, 150));
        let h = spec(None, Some(100), Fit::Cover, false);
        assert_eq!(size(geometry((400, 300), &h)), (133, 100));
    }

    #[test]
    fn cover_fills_the_box_and_crops_the_centre() {
        let s = spec(Some(100), Some(100), Fit::Cover, false);
        let g = geometry((400, 200), &s);
        assert_eq!(size(g), (100, 100));
        assert_eq!(g.crop, Some((100.0, 0.0, 200.0, 200.0)));
        // Smaller than the box: cropped to the box's shape, not enlarged.
        let small = spec(Some(256), Some(128), Fit::Cover, false);
        let g = geometry((100, 100), &small);
        assert_eq!(size(g), (100, 50));
        assert_eq!(g.crop, Some((0.0, 25.0, 100.0, 50.0)));
    }

    #[test]
    fn fill_ignores_aspect() {
        let s = spec(Some(100), Some(30), Fit::Fill, false);
        assert_eq!(size(geometry((400, 300), &s)), (100, 30));
        assert_eq!(size(geometry((50, 300), &s)), (50, 30));
    }

    #[test]
    fn tiny_results_keep_one_pixel() {
        let s = spec(Some(10), Some(10), Fit::Contain, false);
        assert_eq!(size(geometry((10000, 1), &s)), (10, 1));
    }
}
