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

use crate::config::Conversion;
use crate::failure::Failure;
use crate::image::Decoded;
use crate::image::codecs::generic;
use crate::image::pixels::color::Tone;

/// A TIFF, with the variants the `image` crate reads wrong put right (bits in reverse
/// order, planes stored apart, premultiplied alpha) and those it refuses read here
/// (palette, odd depths, signed and float samples, YCbCr, L*a*b*).
/// The variants read here are read in gray: in colour, a colour picture among them is
/// refused by name (a gray one is read, staying gray).
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    let max_pixels = spec.max_pixels;
    let Some(layout) = layout::layout(bytes) else {
        return generic::decode_generic(bytes, ImageFormat::Tiff, spec);
    };
    let reordered;
    let bytes = if layout.reversed_bits {
        reordered = layout::with_bits_in_order(bytes, &layout);
        &reordered[..]
    } else {
        bytes
    };
    if let Some((image, orientation)) = variants::decode(bytes, max_pixels, spec.color)? {
        let size = (image.width(), image.height());
        return Ok(generic::upright(
            image,
            orientation,
            size,
            Tone::for_picture(spec, None),
        ));
    }
    let planar = if layout.planar {
        layout::decode_planar(bytes, max_pixels)?
    } else {
        None
    };
    let (mut image, orientation, icc) = match planar {
        Some((image, orientation)) => (image, orientation, None),
        None => {
            let picture = generic::decode_full(bytes, ImageFormat::Tiff, max_pixels)?;
            (picture.image, picture.orientation, picture.icc)
        }
    };
    if layout.premultiplied {
        layout::unpremultiply(&mut image);
    }
    let size = (image.width(), image.height());
    let tone = Tone::for_picture(spec, icc.as_deref());
    Ok(generic::upright(image, orientation, size, tone).in_profile(icc))
}
