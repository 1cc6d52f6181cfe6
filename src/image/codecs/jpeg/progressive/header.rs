//! The segments of a progressive JPEG before its first scan: the frame, the tables, the
//! orientation, and whether this reader takes the file at all (else libjpeg does).

use std::io::BufRead;

use image::metadata::Orientation;

use super::Decoder;
use crate::image::codecs::jpeg::bits::Source;

/// What the frame header and the segments before the first scan say.
pub(crate) struct Header {
    /// The picture's size as stored.
    pub width: u32,
    pub height: u32,
    /// The EXIF orientation (not applied).
    pub orientation: Orientation,
}

/// Reads the segments before the first scan. `None` when the file is not a progressive,
/// Huffman-coded, 8-bit YCbCr or gray JPEG whose luma is its largest component.
pub(crate) fn read_header<R: BufRead>(reader: &mut R) -> Option<(Header, Decoder)> {
    let mut source = Source { reader };
    if source.u16()? != 0xffd8 {
        return None;
    }
    let mut decoder = Decoder::new();
    let mut orientation = Orientation::NoTransforms;
    let mut exif_seen = false;
    let (mut jfif, mut adobe) = (false, None);
    loop {
        let code = source.next_marker()?;
        if !libjpeg_reads(code) {
            return None;
        }
        let length = usize::from(source.u16()?).checked_sub(2)?;
        if code == 0xe1 {
            // The first EXIF block decides, as on the libjpeg path; other APP1 blocks (XMP,
            // often hundreds of kilobytes) are stepped over, not read into memory.
            let prefix = source.take(length.min(6))?;
            if exif_seen || prefix != b"Exif\0\0" {
                source.skip(length - prefix.len())?;
                continue;
            }
            exif_seen = true;
            let exif = source.take(length - prefix.len())?;
            orientation = Orientation::from_exif_chunk(&exif).unwrap_or(orientation);
            continue;
        }
        if !needed(code) {
            source.skip(length)?;
            continue;
        }
        let body = source.take(length)?;
        match code {
            0xe0 if body.starts_with(b"JFIF\0") => jfif = true,
            // Adobe's colour transform: 0 is RGB (for three components), 1 YCbCr.
            0xee if body.starts_with(b"Adobe") => adobe = body.get(11).copied(),
            0xc2 => decoder.frame(&body)?,
            // Any other frame: baseline, lossless, arithmetic, hierarchical.
            0xc0..=0xcf if !matches!(code, 0xc4 | 0xc8 | 0xcc) => return None,
            0xda => {
                // libjpeg's reading of three components: JFIF says YCbCr, else Adobe's
                // transform, else the component ids (R, G, B is RGB).
                let ids: Vec<u8> = decoder.components.iter().map(|c| c.id).collect();
                let rgb = decoder.components.len() == 3
                    && !jfif
                    && match adobe {
                        Some(transform) => transform == 0,
                        None => ids == [82, 71, 66],
                    };
                if rgb {
                    return None;
                }
                let header = Header {
                    width: decoder.width as u32,
                    height: decoder.height as u32,
                    orientation,
                };
                decoder.pending_scan = Some(body);
                return (decoder.height > 0).then_some((header, decoder));
            }
            _ => decoder.table(code, &body)?,
        }
    }
}

/// Whether `code` is a segment with a length that libjpeg reads or steps over, where a
/// segment may come (it refuses the reserved codes, and a second start of image or end of
/// image is no segment).
pub(super) fn libjpeg_reads(code: u8) -> bool {
    matches!(code, 0xc0..=0xcf | 0xda..=0xdd | 0xe0..=0xef | 0xfe) && code != 0xc8
}

/// Whether this reader needs the body of segment `code` (frames, scans, tables, JFIF and
/// Adobe markers); every other body is stepped over.
pub(super) fn needed(code: u8) -> bool {
    matches!(code, 0xc0..=0xcf | 0xda..=0xdd | 0xe0 | 0xee)
}
