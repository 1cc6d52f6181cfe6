//! Pixels (gray, gray and alpha, RGB, RGBA) to file bytes: PNG, JPEG, WebP and AVIF. Colour
//! outputs are sRGB and carry no profile (untagged, which readers take as sRGB).

mod avif;
pub(crate) mod metadata;
pub(crate) mod tag;
mod webp;

use image::DynamicImage;

use crate::config::{Conversion, OutputFormat};
use crate::image::metadata::Metadata;

/// Encodes a gray, gray-with-alpha, RGB or RGBA image (8 bits a sample). PNG, WebP and
/// AVIF keep the alpha channel; JPEG cannot hold one, so the image is laid on the spec's
/// background (its luma for a gray thumbnail, the colour itself for a colour one). The bytes depend only on the pixels, the format and the spec's quality (and
/// AVIF speed, and the background for JPEG).
pub fn encode(
    image: &DynamicImage,
    format: OutputFormat,
    spec: &Conversion,
) -> Result<Vec<u8>, String> {
    encode_with(image, format, spec, &Metadata::default())
}

/// [`encode`], with `metadata` (cleaned for an output) written into the file where the
/// format holds it (see `encode::metadata`).
pub fn encode_with(
    image: &DynamicImage,
    format: OutputFormat,
    spec: &Conversion,
    metadata: &Metadata,
) -> Result<Vec<u8>, String> {
    let quality = spec.quality;
    let encoded = match format {
        OutputFormat::Png => encode_png(image),
        OutputFormat::Jpeg => encode_jpeg(&flattened(image, spec), quality),
        OutputFormat::Webp => crate::image::encode::webp::encode(image, Some(quality)),
        OutputFormat::WebpLossless => crate::image::encode::webp::encode(image, None),
        OutputFormat::Avif => {
            let exif = metadata.exif.as_deref();
            crate::image::encode::avif::encode(image, quality, spec.avif_speed, exif)
        }
    }?;
    metadata::insert(encoded, format, metadata)
}

/// `value` at opacity `alpha` laid on `background`, rounded to nearest.
fn over(value: u8, alpha: u8, background: u8) -> u8 {
    let (value, alpha, background) = (u32::from(value), u32::from(alpha), u32::from(background));
    ((value * alpha + background * (255 - alpha) + 127) / 255) as u8
}

/// `image` without alpha, laid on the spec's background where it has some: gray on the
/// background's luma; in colour, on the colour itself (a gray picture on a coloured
/// background becomes colour).
fn flattened<'a>(image: &'a DynamicImage, spec: &Conversion) -> std::borrow::Cow<'a, DynamicImage> {
    let [r, g, b] = spec.background.0;
    let neutral = r == g && g == b;
    let sized = "one output pixel for each input pixel";
    let (width, height) = (image.width(), image.height());
    match image {
        DynamicImage::ImageLumaA8(la) if !spec.color || neutral => {
            let luma = spec.background.luma();
            let gray = la
                .as_raw()
                .chunks_exact(2)
                .map(|p| over(p[0], p[1], luma))
                .collect();
            let gray = image::GrayImage::from_raw(width, height, gray).expect(sized);
            std::borrow::Cow::Owned(DynamicImage::ImageLuma8(gray))
        }
        DynamicImage::ImageLumaA8(_) | DynamicImage::ImageRgba8(_) => {
            let rgba = image.to_rgba8();
            let rgb = rgba
                .as_raw()
                .chunks_exact(4)
                .flat_map(|p| {
                    [
                        over(p[0], p[3], r),
                        over(p[1], p[3], g),
                        over(p[2], p[3], b),
                    ]
                })
                .collect();
            let rgb = image::RgbImage::from_raw(width, height, rgb).expect(sized);
            std::borrow::Cow::Owned(DynamicImage::ImageRgb8(rgb))
        }
        _ => std::borrow::Cow::Borrowed(image),
    }
}

fn encode_png(image: &DynamicImage) -> Result<Vec<u8>, String> {
    let color = match image {
        DynamicImage::ImageLuma8(_) => png::ColorType::Grayscale,
        DynamicImage::ImageLumaA8(_) => png::ColorType::GrayscaleAlpha,
        DynamicImage::ImageRgb8(_) => png::ColorType::Rgb,
        DynamicImage::ImageRgba8(_) => png::ColorType::Rgba,
        other => return Err(format!("internal: cannot write {:?} as PNG", other.color())),
    };
    let mut out = Vec::with_capacity(image.as_bytes().len() / 2 + 1024);
    let mut encoder = png::Encoder::new(&mut out, image.width(), image.height());
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let fail = |e: png::EncodingError| format!("PNG encoding failed: {e}");
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(image.as_bytes()).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out)
}

/// A gray or RGB image (alpha already laid on the background) as baseline JPEG.
fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, String> {
    let (width, height) = (image.width(), image.height());
    let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(format!(
            "{width}x{height} is too large for JPEG (65535 pixels a side at most); use --format png"
        ));
    };
    let color = match image {
        DynamicImage::ImageLuma8(_) => jpeg_encoder::ColorType::Luma,
        DynamicImage::ImageRgb8(_) => jpeg_encoder::ColorType::Rgb,
        other => {
            return Err(format!(
                "internal: cannot write {:?} as JPEG",
                other.color()
            ));
        }
    };
    let pixels = image.as_bytes();
    let mut out = Vec::with_capacity(pixels.len() / 4 + 1024);
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(pixels, w, h, color)
        .map_err(|e| format!("JPEG encoding failed: {e}"))?;
    Ok(out)
}
