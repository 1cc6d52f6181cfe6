//! Icons and cursors as the `image` crate reads them: a cursor (type 2) is told from a TGA
//! that starts alike and handed over as an icon, and a directory that disagrees with the
//! bitmaps it holds is put right from them.

use std::borrow::Cow;

use crate::config::Conversion;
use crate::failure::Failure;
use crate::image::Decoded;

/// The ICO/CUR entry point ([`crate::image::codecs::decode`]): the directory put right
/// from its bitmaps, a cursor handed over as an icon, then the `image` crate.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    use crate::image::codecs::generic::decode_generic;
    let format = image::ImageFormat::Ico;
    let icon = directory_from_bitmaps(bytes);
    match is_cursor(&icon) {
        true => decode_generic(&cursor_as_icon(&icon), format, spec),
        false => decode_generic(&icon, format, spec),
    }
}

/// A Windows cursor: an icon directory of type 2 with at least one entry, whose first
/// entry has its reserved byte zero and its image after the directory (an uncompressed TGA
/// can start with the same four bytes).
pub(crate) fn is_cursor(bytes: &[u8]) -> bool {
    let le32 = |at: usize| crate::image::fields::le32(bytes, at);
    let count = crate::image::fields::le16(bytes, 4).map_or(0, u32::from);
    bytes.starts_with(&[0, 0, 2, 0])
        && count > 0
        && bytes.get(9) == Some(&0)
        && le32(18).is_some_and(|offset| offset >= 6 + 16 * count)
}

/// A cursor's bytes as an icon the `image` crate reads: its hotspot fields (where an icon
/// has planes and bit depth) zeroed, so that the largest entry is chosen, not the one
/// with the lowest hotspot.
pub(crate) fn cursor_as_icon(bytes: &[u8]) -> Vec<u8> {
    let mut icon = bytes.to_vec();
    icon[2] = 1;
    let count = usize::from(u16::from_le_bytes([bytes[4], bytes[5]]));
    for entry in 0..count {
        let fields = 6 + entry * 16 + 4;
        if let Some(hotspot) = icon.get_mut(fields..fields + 4) {
            hotspot.fill(0);
        }
    }
    icon
}

/// An icon or cursor whose directory disagrees with the bitmaps it holds, as the `image`
/// crate would refuse it, with the directory put right from each bitmap's own header: the
/// entry's width and height (a bitmap's header counts its mask rows too, so its height is
/// twice the picture's), and its byte count when that is too small for the bitmap.
pub(crate) fn directory_from_bitmaps(bytes: &[u8]) -> Cow<'_, [u8]> {
    let le = |b: &[u8], at: usize, n: usize| match n {
        2 => crate::image::fields::le16(b, at).map(u64::from),
        _ => crate::image::fields::le32(b, at).map(u64::from),
    };
    let count = le(bytes, 4, 2).unwrap_or(0) as usize;
    let mut fixed = Cow::Borrowed(bytes);
    for entry in 0..count {
        let at = 6 + 16 * entry;
        let (Some(size), Some(offset)) = (le(bytes, at + 8, 4), le(bytes, at + 12, 4)) else {
            break;
        };
        let bitmap = offset as usize;
        if le(bytes, bitmap, 4) != Some(40) {
            continue;
        }
        let (Some(width), Some(height), Some(bits)) = (
            le(bytes, bitmap + 4, 4),
            le(bytes, bitmap + 8, 4),
            le(bytes, bitmap + 14, 2),
        ) else {
            continue;
        };
        let (width, height) = (width as usize, height as usize / 2);
        if width == 0 || height == 0 || width > 256 || height > 256 || bits == 0 || bits > 32 {
            continue;
        }
        let colours = if bits <= 8 { 4usize << bits } else { 0 };
        let rows = |bits: usize| (width * bits).div_ceil(32) * 4 * height;
        let needed = 40 + colours + rows(bits as usize) + rows(1);
        let entry_size = [width as u8, height as u8];
        if bytes[at..at + 2] != entry_size {
            fixed.to_mut()[at..at + 2].copy_from_slice(&entry_size);
        }
        if (size as usize) < needed && bitmap + needed <= bytes.len() {
            fixed.to_mut()[at + 8..at + 12].copy_from_slice(&(needed as u32).to_le_bytes());
        }
    }
    fixed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_told_from_a_tga_that_starts_alike() {
        // One 16x16 entry, hotspot (7, 9), 40 bytes of image at offset 22.
        let mut cursor = vec![0, 0, 2, 0, 1, 0, 16, 16, 0, 0, 7, 0, 9, 0];
        cursor.extend(40u32.to_le_bytes());
        cursor.extend(22u32.to_le_bytes());
        assert!(is_cursor(&cursor));
        assert_eq!(
            crate::image::formats::guess_image_crate(&cursor),
            Some(image::ImageFormat::Ico)
        );
        // An uncompressed true-colour TGA with colour map fields that are not zero.
        let tga = [0, 0, 2, 0, 4, 0, 24, 0, 0, 0, 0, 0, 64, 0, 48, 0, 24, 0x20];
        assert!(!is_cursor(&tga));
    }
}
