//! GIFs whose first frame reaches past the logical screen: the `image` crate clips the
//! frame to the screen; Pillow (and a user) expects the whole frame, so the canvas grows
//! to hold it. Every other GIF takes the generic path unchanged.

use std::io::Cursor;

use image::{DynamicImage, RgbaImage};

use crate::config::Conversion;
use crate::failure::Failure;
use crate::image::Decoded;
use crate::image::decoded::check_pixels;

/// The GIF entry point ([`crate::image::codecs::decode`]): the first frame, read here
/// when it reaches past the logical screen, else by the `image` crate.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    match decode_oversized_first_frame(bytes, spec.max_pixels)? {
        Some(image) => Ok(crate::image::codecs::generic::as_stored(image, spec)),
        None => crate::image::codecs::generic::decode_generic(bytes, image::ImageFormat::Gif, spec),
    }
}

/// The first frame on a canvas grown to hold it, as RGBA (transparent where the frame
/// does not cover the screen), when that frame reaches past the logical screen; `Ok(None)`
/// for every other GIF, and for a header the `gif` crate cannot read (the generic path
/// then says what is wrong). The canvas size is checked against `max_pixels` before any
/// pixel is decoded.
fn decode_oversized_first_frame(
    bytes: &[u8],
    max_pixels: u64,
) -> Result<Option<DynamicImage>, Failure> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let Ok(mut decoder) = options.read_info(Cursor::new(bytes)) else {
        return Ok(None);
    };
    let screen = (u32::from(decoder.width()), u32::from(decoder.height()));
    let Ok(Some(frame)) = decoder.next_frame_info() else {
        return Ok(None);
    };
    let (left, top) = (u32::from(frame.left), u32::from(frame.top));
    let (width, height) = (u32::from(frame.width), u32::from(frame.height));
    let canvas = (screen.0.max(left + width), screen.1.max(top + height));
    if canvas == screen {
        return Ok(None);
    }
    check_pixels(u64::from(canvas.0), u64::from(canvas.1), max_pixels)?;
    let mut pixels = vec![0u8; decoder.buffer_size()];
    decoder
        .read_into_buffer(&mut pixels)
        .map_err(|e| Failure::corrupt(format!("corrupt or truncated GIF: {e}")))?;
    let frame = RgbaImage::from_raw(width, height, pixels).ok_or_else(|| {
        Failure::corrupt("corrupt GIF: the first frame's data does not match its size")
    })?;
    let mut whole = RgbaImage::new(canvas.0, canvas.1);
    image::imageops::replace(&mut whole, &frame, i64::from(left), i64::from(top));
    Ok(Some(DynamicImage::ImageRgba8(whole)))
}
