//! Files whose bytes the decoders would read as a different picture, or refuse: a PNG whose
//! tRNS colour is out of range for its bit depth (so no pixel would match it), a BMP whose
//! pixel data offset points into its own colour table, a QOI without its end marker. The
//! first and last are repaired the way Pillow reads them; the second is refused with the
//! reason.

use std::borrow::Cow;

use crate::failure::Failure;

/// `bytes` as the PNG decoder should see them: a gray PNG of 1, 2 or 4 bits whose tRNS
/// colour is given on the 8-bit scale (255 for white in a 1-bit image, as some writers do)
/// gets that colour on its own scale, so the pixels it names come out transparent as in
/// Pillow. A value that matches no level is left as it is (then no pixel is transparent).
pub(super) fn png_transparent_gray_in_range(bytes: &[u8]) -> Cow<'_, [u8]> {
    let Scan::Repair { at, value } = scan_transparent_gray(bytes) else {
        return Cow::Borrowed(bytes);
    };
    let mut fixed = bytes.to_vec();
    fixed[at + 8..at + 10].copy_from_slice(&value.to_be_bytes());
    let crc = crc32fast::hash(&fixed[at + 4..at + 10]);
    fixed[at + 10..at + 14].copy_from_slice(&crc.to_be_bytes());
    Cow::Owned(fixed)
}

/// Whether a PNG that starts with `head` can be decoded as it is read: `Some(true)` when
/// its first chunks show nothing to repair, `Some(false)` when its tRNS colour needs
/// [`png_transparent_gray_in_range`], `None` when `head` ends before its image data.
pub(super) fn png_streams_as_is(head: &[u8]) -> Option<bool> {
    match scan_transparent_gray(head) {
        Scan::Fine => Some(true),
        Scan::Repair { .. } => Some(false),
        Scan::Undecided => None,
    }
}

/// What the chunks before a PNG's image data say about its tRNS colour.
enum Scan {
    /// Nothing to repair.
    Fine,
    /// The tRNS chunk at `at` needs `value` instead.
    Repair { at: usize, value: u16 },
    /// The bytes end before the image data.
    Undecided,
}

fn scan_transparent_gray(bytes: &[u8]) -> Scan {
    let be32 = |at: usize| {
        bytes
            .get(at..at + 4)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    // IHDR: length at 8, type at 12, data from 16; bit depth at 24, colour type at 25.
    let (Some(&depth), Some(&colour)) = (bytes.get(24), bytes.get(25)) else {
        return Scan::Undecided;
    };
    if colour != 0 || depth >= 8 {
        return Scan::Fine;
    }
    let mut at = 8;
    while at + 12 <= bytes.len() {
        let (length, kind) = (be32(at), &bytes[at + 4..at + 8]);
        if kind == b"IDAT" {
            return Scan::Fine;
        }
        if kind == b"tRNS" && length == 2 && at + 14 <= bytes.len() {
            let value = u16::from_be_bytes([bytes[at + 8], bytes[at + 9]]);
            let top = (1u16 << depth) - 1;
            let step = 255 / top;
            if value <= top || value > 255 || !value.is_multiple_of(step) {
                return Scan::Fine;
            }
            return Scan::Repair {
                at,
                value: value / step,
            };
        }
        at = at.saturating_add(12).saturating_add(length);
    }
    Scan::Undecided
}

/// Refuses a BMP whose pixel data offset points inside its header or colour table: the
/// decoder would draw the table's bytes as pixels.
pub(super) fn bmp_pixels_after_palette(bytes: &[u8]) -> Result<(), Failure> {
    let le32 = |at: usize| crate::image::fields::le32(bytes, at).map(u64::from);
    let le16 = |at: usize| crate::image::fields::le16(bytes, at).map(u64::from);
    let (Some(offset), Some(header), Some(bits)) = (le32(10), le32(14), le16(28)) else {
        return Ok(());
    };
    if header < 40 || bits > 8 {
        return Ok(());
    }
    let colours = match le32(46) {
        Some(0) | None => 1u64 << bits,
        Some(n) => n,
    };
    let table_end = 14 + header + 4 * colours;
    if offset < table_end {
        return Err(Failure::corrupt(format!(
            "corrupt BMP: its pixel data offset ({offset}) points inside its header and \
             colour table, which end at byte {table_end}"
        )));
    }
    Ok(())
}

/// A QOI whose data holds every pixel but lacks the 8-byte end marker, with the marker put
/// back (the `qoi` crate reads past the last pixel for it). A file whose data ends before
/// its last pixel is left as it is, to fail as truncated.
pub(super) fn qoi_with_end_marker(bytes: &[u8]) -> Cow<'_, [u8]> {
    const END: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];
    let (Some(width), Some(height)) = (bytes.get(4..8), bytes.get(8..12)) else {
        return Cow::Borrowed(bytes);
    };
    let pixels = |b: &[u8]| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let wanted = pixels(width) * pixels(height);
    if bytes.ends_with(&END) || bytes.len() < 14 {
        return Cow::Borrowed(bytes);
    }
    // Count the pixels the operations give, by their lengths alone.
    let (mut at, mut decoded) = (14, 0u64);
    while decoded < wanted && at < bytes.len() {
        let op = bytes[at];
        let (length, count) = match op {
            0xfe => (4, 1),
            0xff => (5, 1),
            _ if op >> 6 == 3 => (1, u64::from(op & 0x3f) + 1),
            _ if op >> 6 == 2 => (2, 1),
            _ => (1, 1),
        };
        if at + length > bytes.len() {
            break;
        }
        at += length;
        decoded += count;
    }
    if decoded < wanted {
        return Cow::Borrowed(bytes);
    }
    let mut whole = bytes[..at].to_vec();
    whole.extend(END);
    Cow::Owned(whole)
}
