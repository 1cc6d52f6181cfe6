//! Uncompressed DDS pixels that the `dds` crate does not recognise by their masks (15-bit
//! colour, luminance with a mask in the wrong byte, luminance and alpha in any layout):
//! each channel is cut out by its mask and widened to 8 bits. The first surface starts
//! right after the 128-byte header, rows byte-aligned.

use image::{DynamicImage, RgbaImage};

use crate::failure::{ErrorKind, Failure};
use crate::image::decoded::check_pixels;

const ALPHA_PIXELS: u32 = 0x1;
const ALPHA_ONLY: u32 = 0x2;
const FOUR_CC: u32 = 0x4;
const RGB: u32 = 0x40;
const LUMINANCE: u32 = 0x20000;

/// Decodes a DDS of mask-described pixels (`None`: not such a file). A bit count other
/// than 8, 16, 24 or 32, or a luminance of more than 16 bits, fails by name.
pub(crate) fn decode(bytes: &[u8], max_pixels: u64) -> Result<Option<DynamicImage>, Failure> {
    let le32 = |at: usize| crate::image::fields::le32(bytes, at);
    let (Some(height), Some(width), Some(flags), Some(bits)) =
        (le32(12), le32(16), le32(80), le32(88))
    else {
        return Ok(None);
    };
    if flags & FOUR_CC != 0 || flags & (RGB | LUMINANCE | ALPHA_ONLY) == 0 {
        return Ok(None);
    }
    let unsupported = |what: String| {
        Failure::new(
            ErrorKind::Unsupported,
            format!("DDS textures of {what} are not supported"),
        )
    };
    if !matches!(bits, 8 | 16 | 24 | 32) || (flags & LUMINANCE != 0 && bits > 16) {
        return Err(unsupported(format!(
            "{bits}-bit pixels with pixel format flags 0x{flags:x}"
        )));
    }
    check_pixels(u64::from(width), u64::from(height), max_pixels)?;
    // A mask beyond the pixel's bits is taken as standing at the top of the pixel: some
    // writers (Pillow among them) give an 8-bit luminance 0xff000000, a 16-bit
    // luminance+alpha's alpha 0xff000000.
    let masks = [le32(92), le32(96), le32(100), le32(104)].map(|mask| {
        let mask = mask.unwrap_or_default();
        if bits < 32 && mask >> bits != 0 {
            mask >> (32 - bits)
        } else {
            mask
        }
    });
    let mut masks = masks;
    if flags & LUMINANCE != 0 {
        // Luminance is the first mask.
        masks[1] = masks[0];
        masks[2] = masks[0];
    }
    if flags & ALPHA_ONLY != 0 && flags & (RGB | LUMINANCE) == 0 {
        masks = [0, 0, 0, if masks[3] == 0 { 0xff } else { masks[3] }];
    }
    let alpha = flags & (ALPHA_PIXELS | ALPHA_ONLY) != 0 && masks[3] != 0;
    let step = bits as usize / 8;
    let count = width as usize * height as usize;
    let data = bytes.get(128..128 + count * step).ok_or_else(|| {
        Failure::new(
            ErrorKind::Corrupt,
            "corrupt or truncated DDS: the pixel data ends early",
        )
    })?;
    let widen = |value: u32, mask: u32| -> u8 {
        if mask == 0 {
            return 0;
        }
        let top = mask >> mask.trailing_zeros();
        (((value & mask) >> mask.trailing_zeros()) as u64 * 255 / u64::from(top)) as u8
    };
    let rgba = data
        .chunks_exact(step)
        .flat_map(|pixel| {
            let value = pixel.iter().rev().fold(0u32, |v, &b| v << 8 | u32::from(b));
            let a = if alpha { widen(value, masks[3]) } else { 255 };
            [
                widen(value, masks[0]),
                widen(value, masks[1]),
                widen(value, masks[2]),
                a,
            ]
        })
        .collect();
    Ok(RgbaImage::from_raw(width, height, rgba).map(DynamicImage::ImageRgba8))
}
