//! Camera RAW files through the JPEG the camera stored in them: the camera's own rendering
//! of the picture (often full size), what photo managers show while they import, and an
//! honest source for a thumbnail that needs no demosaicing. No RAW decoder is linked (the
//! Rust ones are LGPL or AGPL). Every JPEG the container holds is found ([`tiff_walk`] for
//! the TIFF-based ones, [`cr3`], [`ciff`] for CRW, the RAF and MRW headers here); the
//! largest that libjpeg can read is decoded by imgpar's JPEG path (DCT scaling and all),
//! turned by the RAW's orientation, which wins over the preview's own: the camera writes
//! the preview as the sensor saw it and records the turn in the RAW.
//!
//! TIFF-based RAWs are known by their name or, without one (bytes handed to the library),
//! by the sensor data their structure holds ([`is_tiff_raw`]).
//!
//! A preview smaller than the output asked for fails, naming its size: it is never scaled
//! up, and never stands in for the picture at a size it cannot give. The record says the
//! output came from the embedded preview.

mod bytes;
mod ciff;
mod cr3;
mod tiff_walk;

use image::ImageFormat;
use image::metadata::Orientation;

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::codecs::generic;
use crate::image::decoded::{Decoded, DecodedFrom, upright};
use crate::image::pixels::color::Tone;
use crate::image::pixels::resize::geometry;
use bytes::{Order, slice, u32_at};
use tiff_walk::{Candidate, Walked};

/// The RAW containers that do not start like a TIFF: CR3, RAF, CRW, MRW, ORF, RW2, X3F.
/// (TIFF-based RAWs, CR2, NEF, ARW, DNG and most others, start like any TIFF: their name
/// sends them here.)
pub(crate) fn is_raw_container(head: &[u8]) -> bool {
    cr3::is_cr3(head)
        || head.starts_with(b"FUJIFILMCCD-RAW ")
        || ciff::is_crw(head)
        || head.starts_with(b"\0MRM")
        || matches!(
            head.get(..4),
            Some(b"IIRO" | b"IIRS" | b"MMOR" | b"IIU\0" | b"FOVb")
        )
}

/// Whether `bytes` (a file that starts like a TIFF) are a camera RAW's: its structure holds
/// the sensor's data (a CFA or linear-raw image, a DNG version) or its header says CR2.
pub(crate) fn is_tiff_raw(bytes: &[u8]) -> bool {
    bytes.get(8..10) == Some(b"CR") || tiff_walk::walk(bytes, 0).sensor_data
}

/// The JPEGs a RAW holds and its orientation, whatever its container.
fn walk(bytes: &[u8]) -> Walked {
    if cr3::is_cr3(bytes) {
        return cr3::walk(bytes);
    }
    if ciff::is_crw(bytes) {
        return ciff::walk(bytes);
    }
    if bytes.starts_with(b"FUJIFILMCCD-RAW ") {
        // The header gives the JPEG's place; the JPEG carries the camera's EXIF.
        let mut walked = Walked::default();
        if let (Some(start), Some(len)) =
            (u32_at(bytes, 84, Order::Big), u32_at(bytes, 88, Order::Big))
        {
            walked.candidates.push(Candidate {
                start: u64::from(start),
                len: u64::from(len),
            });
        }
        return walked;
    }
    if bytes.starts_with(b"\0MRM") {
        return mrw(bytes);
    }
    tiff_walk::walk(bytes, 0)
}

/// Minolta's MRW: blocks after an `\0MRM` header; `\0TTW` is a TIFF holding the EXIF and
/// the maker note with the preview's place.
fn mrw(bytes: &[u8]) -> Walked {
    let mut at = 8u64;
    let end = u32_at(bytes, 4, Order::Big).map_or(0, |len| 8 + u64::from(len));
    while at + 8 <= end {
        let (Some(name), Some(len)) = (slice(bytes, at, 4), u32_at(bytes, at + 4, Order::Big))
        else {
            break;
        };
        if name == b"\0TTW" {
            return tiff_walk::walk(bytes, at + 8);
        }
        at += 8 + u64::from(len);
    }
    Walked::default()
}

/// A JPEG's size from its frame header, when libjpeg decodes it (baseline, extended or
/// progressive Huffman: not lossless, hierarchical or arithmetic coding).
fn jpeg_size(jpeg: &[u8]) -> Option<(u32, u32)> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2usize;
    loop {
        while *jpeg.get(at)? == 0xFF && *jpeg.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *jpeg.get(at)? != 0xFF {
            return None;
        }
        let marker = *jpeg.get(at + 1)?;
        let length = usize::from(u16::from_be_bytes([*jpeg.get(at + 2)?, *jpeg.get(at + 3)?]));
        match marker {
            0xC0..=0xC2 => {
                let height = u16::from_be_bytes([*jpeg.get(at + 5)?, *jpeg.get(at + 6)?]);
                let width = u16::from_be_bytes([*jpeg.get(at + 7)?, *jpeg.get(at + 8)?]);
                return (width > 0 && height > 0).then_some((u32::from(width), u32::from(height)));
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF | 0xDA | 0xD9 => return None,
            _ => at += 2 + length,
        }
    }
}

/// Decodes the largest JPEG the RAW in `bytes` holds, upright by the RAW's orientation.
/// A RAW without one fails: its TIFF structure's own image is a small thumbnail at best,
/// never the picture.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    let walked = walk(bytes);
    let previews: Vec<(&[u8], (u32, u32))> = walked
        .candidates
        .iter()
        .filter_map(|c| {
            let jpeg = slice(bytes, c.start, c.len)?;
            Some((jpeg, jpeg_size(jpeg)?))
        })
        .collect();
    let largest = previews
        .iter()
        .max_by_key(|(_, (w, h))| u64::from(*w) * u64::from(*h));
    let Some(&(jpeg, size)) = largest else {
        return Err(Failure::new(
            ErrorKind::Unsupported,
            "camera RAW without an embedded JPEG preview imgpar can read; develop it first \
             (with darktable, RawTherapee or the camera maker's software)",
        ));
    };
    let orientation = walked
        .orientation
        .and_then(|o| u8::try_from(o).ok())
        .and_then(Orientation::from_exif);
    let shown = upright(size, orientation.unwrap_or(Orientation::NoTransforms));
    let asked = geometry(
        shown,
        &Conversion {
            upscale: true,
            ..spec.clone()
        },
    );
    if asked.width > shown.0 || asked.height > shown.1 {
        return Err(Failure::new(
            ErrorKind::Unsupported,
            format!(
                "camera RAW whose largest embedded preview is {}x{}, smaller than the {}x{} \
                 output; develop it first (with darktable, RawTherapee or the camera maker's \
                 software) or ask for a smaller --size",
                shown.0, shown.1, asked.width, asked.height
            ),
        ));
    }
    let decoded = match orientation {
        Some(turn) => crate::image::codecs::jpeg::decode_shrunk_turned(jpeg, spec, turn)?,
        None => crate::image::codecs::jpeg::decode_shrunk(jpeg, spec)?,
    };
    let decoded = match decoded {
        Some(decoded) => decoded,
        None => {
            let picture = generic::decode_full(jpeg, ImageFormat::Jpeg, spec.max_pixels)?;
            let size = (picture.image.width(), picture.image.height());
            let turn = orientation.unwrap_or(picture.orientation);
            let tone = Tone::for_picture(spec, picture.icc.as_deref());
            generic::upright(picture.image, turn, size, tone).in_profile(picture.icc)
        }
    };
    Ok(decoded.from(DecodedFrom::EmbeddedPreview))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_size_is_read_from_its_frame_header_and_lossless_ones_are_not_previews() {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8];
        jpeg.extend_from_slice(&[0x01, 0x40, 0x02, 0x80, 1, 1, 0x11, 0]);
        assert_eq!(jpeg_size(&jpeg), Some((640, 320)));
        jpeg[9] = 0xC3;
        assert_eq!(jpeg_size(&jpeg), None);
        assert_eq!(jpeg_size(&jpeg[..10]), None);
        assert_eq!(jpeg_size(b"not a jpeg"), None);
    }
}
