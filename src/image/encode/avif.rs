//! Pixels to AVIF through `ravif` (the rav1e AV1 encoder, pure Rust, its assembly and
//! threads off). Gray goes straight into the luma plane at full range, with neutral
//! chroma (AVIF readers do not all take monochrome AV1), so it decodes back as gray; RGB
//! goes through ravif's own YCbCr conversion.

use image::DynamicImage;
use ravif::{BitDepth, Encoder, MatrixCoefficients, PixelRange};

/// Encodes a gray, gray-with-alpha, RGB or RGBA image as AVIF at `quality` (1-100) and `speed` (1,
/// slowest and smallest, to 10, fastest), with `exif` (a TIFF structure) as its `Exif`
/// item when given. Alpha is kept.
pub(crate) fn encode(
    image: &DynamicImage,
    quality: u8,
    speed: u8,
    exif: Option<&[u8]>,
) -> Result<Vec<u8>, String> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let encoder = Encoder::new()
        .with_quality(f32::from(quality.clamp(1, 100)))
        .with_alpha_quality(f32::from(quality.clamp(1, 100)))
        .with_speed(speed.clamp(1, 10))
        .with_bit_depth(BitDepth::Eight)
        .with_num_threads(Some(1));
    let encoder = match exif {
        Some(exif) => encoder.with_exif(exif),
        None => encoder,
    };
    let planes = |gray: &[u8], step: usize| {
        gray.iter()
            .step_by(step)
            .map(|&v| [v, 128, 128])
            .collect::<Vec<_>>()
    };
    let encoded = match image {
        DynamicImage::ImageLuma8(gray) => encoder.encode_raw_planes_8_bit(
            width,
            height,
            planes(gray.as_raw(), 1),
            None::<[u8; 0]>,
            PixelRange::Full,
            MatrixCoefficients::BT601,
        ),
        DynamicImage::ImageLumaA8(la) => encoder.encode_raw_planes_8_bit(
            width,
            height,
            planes(la.as_raw(), 2),
            Some(
                la.as_raw()
                    .iter()
                    .skip(1)
                    .step_by(2)
                    .copied()
                    .collect::<Vec<_>>(),
            ),
            PixelRange::Full,
            MatrixCoefficients::BT601,
        ),
        DynamicImage::ImageRgb8(rgb) => {
            let pixels: Vec<ravif::RGB8> = rgb
                .as_raw()
                .chunks_exact(3)
                .map(|p| ravif::RGB8::new(p[0], p[1], p[2]))
                .collect();
            encoder.encode_rgb(ravif::Img::new(&pixels[..], width, height))
        }
        DynamicImage::ImageRgba8(rgba) => {
            let pixels: Vec<ravif::RGBA8> = rgba
                .as_raw()
                .chunks_exact(4)
                .map(|p| ravif::RGBA8::new(p[0], p[1], p[2], p[3]))
                .collect();
            encoder.encode_rgba(ravif::Img::new(&pixels[..], width, height))
        }
        other => {
            return Err(format!(
                "internal: cannot write {:?} as AVIF",
                other.color()
            ));
        }
    };
    encoded
        .map(|encoded| encoded.avif_file)
        .map_err(|e| format!("AVIF encoding failed: {e}"))
}
