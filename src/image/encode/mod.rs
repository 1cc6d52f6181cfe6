//! Gray pixels to file bytes: PNG (gray, or gray with alpha), JPEG (gray), WebP and AVIF.

mod avif;
pub(crate) mod tag;
mod webp;

use image::DynamicImage;

use crate::config::{OutputFormat, Spec};

/// Encodes a gray (`ImageLuma8`) or gray-with-alpha (`ImageLumaA8`) image. PNG, WebP and
/// AVIF keep the alpha channel; JPEG cannot hold one, so the image is laid on the spec's
/// background. The bytes depend only on the pixels, the format and the spec's quality (and
/// AVIF speed, and the background for JPEG).
pub fn encode(image: &DynamicImage, format: OutputFormat, spec: &Spec) -> Result<Vec<u8>, String> {
    let quality = spec.quality;
    match format {
        OutputFormat::Png => encode_png(image),
        OutputFormat::Jpeg => encode_jpeg(image, quality, spec.background.luma()),
        OutputFormat::Webp => crate::image::encode::webp::encode(image, Some(quality)),
        OutputFormat::WebpLossless => crate::image::encode::webp::encode(image, None),
        OutputFormat::Avif => crate::image::encode::avif::encode(image, quality, spec.avif_speed),
    }
}

/// `gray` at opacity `alpha` laid on `background`, rounded to nearest.
fn over(gray: u8, alpha: u8, background: u8) -> u8 {
    let (gray, alpha, background) = (u32::from(gray), u32::from(alpha), u32::from(background));
    ((gray * alpha + background * (255 - alpha) + 127) / 255) as u8
}

fn encode_png(image: &DynamicImage) -> Result<Vec<u8>, String> {
    let color = match image {
        DynamicImage::ImageLuma8(_) => png::ColorType::Grayscale,
        DynamicImage::ImageLumaA8(_) => png::ColorType::GrayscaleAlpha,
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

fn encode_jpeg(image: &DynamicImage, quality: u8, background: u8) -> Result<Vec<u8>, String> {
    let (width, height) = (image.width(), image.height());
    let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(format!(
            "{width}x{height} is too large for JPEG (65535 pixels a side at most); use --format png"
        ));
    };
    let luma: std::borrow::Cow<[u8]> = match image {
        DynamicImage::ImageLuma8(gray) => gray.as_raw().into(),
        DynamicImage::ImageLumaA8(la) => la
            .as_raw()
            .chunks_exact(2)
            .map(|p| over(p[0], p[1], background))
            .collect(),
        other => {
            return Err(format!(
                "internal: cannot write {:?} as JPEG",
                other.color()
            ));
        }
    };
    let mut out = Vec::with_capacity(luma.len() / 4 + 1024);
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(&luma, w, h, jpeg_encoder::ColorType::Luma)
        .map_err(|e| format!("JPEG encoding failed: {e}"))?;
    Ok(out)
}
