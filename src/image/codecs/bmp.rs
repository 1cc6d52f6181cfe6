//! BMP files the `image` crate refuses although they hold a picture, made readable here:
//! a DIB without its file header (as Windows puts a bitmap on the clipboard), a plane count
//! other than 1, the 64-byte OS/2 2.x header, and run-length encoded (RLE4/RLE8) pictures,
//! which are decoded here: top-down ones, runs that go past the end of a line (cut at the
//! line's end for a run of one value, on the next line for a run of values, as Pillow reads them), and pixels that the delta and end-of-line codes skip, which
//! are transparent (the format leaves them undefined; a viewer shows them as holes).

use std::borrow::Cow;

use image::{DynamicImage, RgbaImage};

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::Decoded;
use crate::image::decoded::check_pixels;
use crate::image::fields::{le16, le32};

/// The sizes of the bitmap headers a DIB may start with (core, info, the OS/2 2.x sizes,
/// V2 to V5).
const HEADER_SIZES: [u32; 8] = [12, 16, 40, 52, 56, 64, 108, 124];

/// Whether `bytes` start with a bitmap header and no file header: a `.dib` as the Windows
/// clipboard holds it.
pub(crate) fn is_headerless_dib(bytes: &[u8]) -> bool {
    let Some(size) = le32(bytes, 0) else {
        return false;
    };
    HEADER_SIZES.contains(&size) && size >= 40 && le16(bytes, 12) == Some(1)
}

/// A headerless DIB with the 14-byte file header put in front: the pixels follow the
/// header, the three colour masks of BI_BITFIELDS with a 40-byte header, and the colour table.
pub(crate) fn with_file_header(dib: &[u8]) -> Vec<u8> {
    let size = le32(dib, 0).unwrap_or(40);
    let bits = le16(dib, 14).unwrap_or(24);
    let compression = le32(dib, 16).unwrap_or(0);
    let masks = if size == 40 && matches!(compression, 3 | 6) {
        if compression == 6 { 16 } else { 12 }
    } else {
        0
    };
    let colours = match le32(dib, 32) {
        Some(0) | None if bits <= 8 => 1u32 << bits,
        Some(n) => n,
        None => 0,
    };
    let offset = 14 + size + masks + 4 * colours;
    let mut file = b"BM".to_vec();
    file.extend(((dib.len() + 14) as u32).to_le_bytes());
    file.extend([0; 4]);
    file.extend(offset.to_le_bytes());
    file.extend(dib);
    file
}

/// `bytes` as the `image` crate reads them: planes set to 1, and a 64-byte OS/2 2.x header
/// The BMP entry point ([`crate::image::codecs::decode`]): headers read leniently, pixels
/// that start inside the palette put right, RLE read here, the rest by the `image` crate.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    let bytes = lenient(bytes);
    crate::image::repair::bmp_pixels_after_palette(&bytes)?;
    match decode_rle(&bytes, spec.max_pixels)? {
        Some(image) => Ok(crate::image::codecs::generic::as_stored(image, spec)),
        None => {
            crate::image::codecs::generic::decode_generic(&bytes, image::ImageFormat::Bmp, spec)
        }
    }
}

/// cut to the 40-byte header it begins with (the rest is halftoning and rendering hints).
fn lenient(bytes: &[u8]) -> Cow<'_, [u8]> {
    let mut fixed = Cow::Borrowed(bytes);
    if le32(bytes, 14) == Some(64) && le32(bytes, 30).is_some_and(|c| c <= 2) {
        let mut cut = bytes[..14 + 40].to_vec();
        cut[14..18].copy_from_slice(&40u32.to_le_bytes());
        cut.extend(bytes.get(14 + 64..).unwrap_or_default());
        let offset = le32(bytes, 10).unwrap_or(0).saturating_sub(24);
        cut[10..14].copy_from_slice(&offset.to_le_bytes());
        fixed = Cow::Owned(cut);
    }
    if le32(&fixed, 14).is_some_and(|size| size >= 40) && le16(&fixed, 26).is_some_and(|p| p != 1) {
        fixed.to_mut()[26..28].copy_from_slice(&1u16.to_le_bytes());
    }
    fixed
}

/// Decodes an RLE4 or RLE8 BMP (`None` for any other kind), in RGB, or RGBA when some
/// pixels were skipped. Data that ends before the end-of-bitmap code with pixels still to
/// come is truncated, and fails.
fn decode_rle(bytes: &[u8], max_pixels: u64) -> Result<Option<DynamicImage>, Failure> {
    let (Some(header), Some(bits), Some(compression)) =
        (le32(bytes, 14), le16(bytes, 28), le32(bytes, 30))
    else {
        return Ok(None);
    };
    let rle4 = match (compression, bits) {
        (1, 8) => false,
        (2, 4) => true,
        _ => return Ok(None),
    };
    if header < 40 {
        return Ok(None);
    }
    let corrupt = |what: &str| {
        Failure::new(
            ErrorKind::Corrupt,
            format!("corrupt or truncated BMP: {what}"),
        )
    };
    let (Some(width), Some(height), Some(offset)) =
        (le32(bytes, 18), le32(bytes, 22), le32(bytes, 10))
    else {
        return Err(corrupt("the header ends early"));
    };
    let (width, height) = (width as i32, height as i32);
    if width <= 0 || height == 0 {
        return Err(corrupt("the picture has no pixels"));
    }
    let (width, top_down, height) = (width as usize, height < 0, height.unsigned_abs() as usize);
    check_pixels(width as u64, height as u64, max_pixels)?;
    let colours = match le32(bytes, 46) {
        Some(0) | None => 1usize << bits,
        Some(n) => (n as usize).min(256),
    };
    let table = 14 + header as usize;
    let palette: Vec<[u8; 3]> = (0..colours)
        .map(|i| {
            bytes
                .get(table + 4 * i..table + 4 * i + 3)
                .map_or([0; 3], |c| [c[2], c[1], c[0]])
        })
        .collect();
    let data = bytes
        .get(offset as usize..)
        .ok_or_else(|| corrupt("the pixel data offset is past the end of the file"))?;
    let indices = unpack(data, width, height, rle4)
        .ok_or_else(|| corrupt("the RLE data ends before the end-of-bitmap code"))?;
    let skipped = indices.iter().any(Option::is_none);
    let mut rgba = vec![0u8; width * height * 4];
    for (row, line) in indices.chunks_exact(width).enumerate() {
        let y = if top_down { row } else { height - 1 - row };
        for (x, index) in line.iter().enumerate() {
            if let Some(index) = index {
                let [r, g, b] = palette.get(usize::from(*index)).copied().unwrap_or([0; 3]);
                rgba[(y * width + x) * 4..][..4].copy_from_slice(&[r, g, b, 255]);
            }
        }
    }
    let image =
        RgbaImage::from_raw(width as u32, height as u32, rgba).ok_or_else(|| corrupt("size"))?;
    let image = DynamicImage::ImageRgba8(image);
    Ok(Some(if skipped {
        image
    } else {
        DynamicImage::ImageRgb8(image.into_rgb8())
    }))
}

/// The palette index of every pixel in stored row order (`None`: skipped), or `None` when
/// the data runs out first. Pixels are laid one after another as Pillow lays them: a run
/// of one value is cut at the line's end, a run of values goes on to the next line.
fn unpack(data: &[u8], width: usize, height: usize, rle4: bool) -> Option<Vec<Option<u8>>> {
    let total = width * height;
    let mut pixels = vec![None; total];
    // `at` in the data, `next` the next pixel, `x` where the line stands as the codes count it.
    let (mut at, mut next, mut x) = (0usize, 0usize, 0usize);
    let nibble = |byte: u8, i: usize| {
        if i.is_multiple_of(2) {
            byte >> 4
        } else {
            byte & 0x0f
        }
    };
    while next < total {
        let &[count, value] = data.get(at..at + 2)? else {
            return None;
        };
        at += 2;
        match (usize::from(count), value) {
            (0, 0) => {
                next = next.next_multiple_of(width);
                x = 0;
            }
            (0, 1) => break,
            (0, 2) => {
                let &[right, up] = data.get(at..at + 2)? else {
                    return None;
                };
                at += 2;
                next += usize::from(right) + usize::from(up) * width;
                x = next % width;
            }
            (0, n) => {
                let n = usize::from(n);
                let length = if rle4 { n.div_ceil(2) } else { n };
                let bytes = data.get(at..at + length)?;
                at += length.next_multiple_of(2);
                for i in 0..n.min(total - next) {
                    pixels[next] = Some(if rle4 {
                        nibble(bytes[i / 2], i)
                    } else {
                        bytes[i]
                    });
                    next += 1;
                }
                x += n;
            }
            (n, value) => {
                let n = n.min(width.saturating_sub(x)).min(total - next);
                for i in 0..n {
                    pixels[next] = Some(if rle4 { nibble(value, i) } else { value });
                    next += 1;
                }
                x += n;
            }
        }
    }
    Some(pixels)
}
