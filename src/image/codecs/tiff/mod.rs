//! TIFF (and BigTIFF) through the `image` crate's decoder, with what it gets wrong put
//! right and what it refuses read here: `layout` (the first page's layout: reversed bits,
//! planes stored apart, premultiplied alpha), `variants` (palette, odd depths, signed and
//! float samples, YCbCr, L*a*b*, with `chunks` reading the strips and tiles and `fax` the
//! CCITT ones).

mod chunks;
mod fax;
mod layout;
mod variants;

use image::ImageFormat;

use crate::failure::Failure;
use crate::image::Decoded;
use crate::image::codecs::generic;

/// A TIFF, with the variants the `image` crate reads wrong put right (bits in reverse
/// order, planes stored apart, premultiplied alpha) and those it refuses read here
/// (palette, odd depths, signed and float samples, YCbCr, L*a*b*).
pub(crate) fn decode(bytes: &[u8], max_pixels: u64) -> Result<Decoded, Failure> {
    let Some(layout) = layout::layout(bytes) else {
        return generic::decode_generic(bytes, ImageFormat::Tiff, max_pixels);
    };
    let reordered;
    let bytes = if layout.reversed_bits {
        reordered = layout::with_bits_in_order(bytes, &layout);
        &reordered[..]
    } else {
        bytes
    };
    if let Some((image, orientation)) = variants::decode(bytes, max_pixels)? {
        let size = (image.width(), image.height());
        return Ok(generic::upright_gray(image, orientation, size));
    }
    let planar = if layout.planar {
        layout::decode_planar(bytes, max_pixels)?
    } else {
        None
    };
    let (mut image, orientation) = match planar {
        Some(decoded) => decoded,
        None => generic::decode_full(bytes, ImageFormat::Tiff, max_pixels)?,
    };
    if layout.premultiplied {
        layout::unpremultiply(&mut image);
    }
    let size = (image.width(), image.height());
    Ok(generic::upright_gray(image, orientation, size))
}
