//! JPEG XL through `jxl-oxide` (pure Rust): the first keyframe, rendered in the colour
//! encoding the decoder picks for display (sRGB unless the file says otherwise), with its
//! orientation applied, as 8-bit samples, with the ICC profile of what it rendered; then
//! in the tone asked for as any other image.

use std::io::Cursor;

use image::{DynamicImage, ImageBuffer};
use jxl_oxide::{AllocTracker, JxlImage, PixelFormat};

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::decoded::{Decoded, check_pixels};
use crate::image::pixels::color::Tone;

/// Decodes a JPEG XL codestream or container in the tone `spec` asks for, refusing images
/// over `spec.max_pixels`
/// (0: no limit) from the header, before any frame is decoded; the decoder's allocations
/// are capped by the same limit as a second line.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    let max_pixels = spec.max_pixels;
    let corrupt = |e: Box<dyn std::error::Error + Send + Sync>| {
        Failure::corrupt(format!("corrupt or truncated JPEG XL: {e}"))
    };
    let mut builder = JxlImage::builder();
    if max_pixels != 0 {
        // Room for four float channels per pixel plus scratch space.
        let cap = usize::try_from(max_pixels.saturating_mul(32)).unwrap_or(usize::MAX);
        builder = builder.alloc_tracker(AllocTracker::with_limit(cap));
    }
    let image = builder.read(Cursor::new(bytes)).map_err(corrupt)?;
    let (width, height) = (image.width(), image.height());
    check_pixels(u64::from(width), u64::from(height), max_pixels)?;
    let stored = (
        image.image_header().size.width,
        image.image_header().size.height,
    );
    if image.num_loaded_keyframes() == 0 {
        return Err(Failure::corrupt(
            "corrupt or truncated JPEG XL: no complete frame",
        ));
    }
    let format = image.pixel_format();
    let render = image.render_frame(0).map_err(corrupt)?;
    let mut stream = render.stream();
    let (w, h, channels) = (stream.width(), stream.height(), stream.channels() as usize);
    let mut samples = vec![0u8; w as usize * h as usize * channels];
    stream.write_to_buffer(&mut samples);
    let pixels = match format {
        PixelFormat::Gray => ImageBuffer::from_raw(w, h, samples).map(DynamicImage::ImageLuma8),
        PixelFormat::Graya => ImageBuffer::from_raw(w, h, samples).map(DynamicImage::ImageLumaA8),
        PixelFormat::Rgb => ImageBuffer::from_raw(w, h, samples).map(DynamicImage::ImageRgb8),
        PixelFormat::Rgba => ImageBuffer::from_raw(w, h, samples).map(DynamicImage::ImageRgba8),
        PixelFormat::Cmyk | PixelFormat::Cmyka => {
            return Err(Failure::new(
                ErrorKind::Unsupported,
                "CMYK JPEG XL images are not supported",
            ));
        }
    };
    let pixels = pixels
        .ok_or_else(|| Failure::corrupt("corrupt JPEG XL: the frame does not match its size"))?;
    let icc = Some(image.rendered_icc());
    let tone = Tone::for_picture(spec, icc.as_deref());
    Ok(Decoded::whole(tone.of(pixels), stored).in_profile(icc))
}

/// Whether `bytes` start like a JPEG XL file: a bare codestream (`FF 0A`) or the ISO BMFF
/// container (`JXL ` signature box).
pub(crate) fn is_jxl(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0x0A]) || bytes.starts_with(b"\0\0\0\x0CJXL \r\n\x87\n")
}
