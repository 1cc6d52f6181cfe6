//! A picture's metadata (`--keep-metadata`, already cleaned: see
//! [`crate::image::metadata`]) written into an encoded output where each format's readers
//! look for it: JPEG APP1 (EXIF, then XMP) and APP13 (IPTC, as Photoshop keeps it) after
//! the JFIF segment; PNG `eXIf` and an `iTXt` XMP packet after the header; WebP `EXIF` and
//! `XMP ` chunks (the file made extended). AVIF takes the EXIF from its encoder (an `Exif`
//! item); XMP and IPTC are not written into AVIF, nor IPTC into PNG and WebP, which have
//! no place for it every reader knows.

use crate::config::OutputFormat;
use crate::image::metadata::Metadata;

use super::tag::{extended, push_chunk, riff_webp};

/// `encoded` (a file of `format`, as imgpar's writers make it) with `metadata` inside.
pub fn insert(
    encoded: Vec<u8>,
    format: OutputFormat,
    metadata: &Metadata,
) -> Result<Vec<u8>, String> {
    if metadata.is_empty() {
        return Ok(encoded);
    }
    match format {
        OutputFormat::Jpeg => Ok(jpeg(encoded, metadata)),
        OutputFormat::Png => Ok(png(encoded, metadata)),
        OutputFormat::Webp | OutputFormat::WebpLossless => webp(&encoded, metadata),
        OutputFormat::Avif => Ok(encoded),
    }
}

/// The largest body a JPEG segment holds (its length field counts itself).
const SEGMENT: usize = 65533;

fn jpeg(encoded: Vec<u8>, metadata: &Metadata) -> Vec<u8> {
    let mut segments = Vec::new();
    let mut segment = |marker: u8, parts: &[&[u8]]| {
        let length: usize = parts.iter().map(|p| p.len()).sum();
        // A block too large for one segment is not written (JPEG's limit, 64 KB).
        if length <= SEGMENT {
            segments.extend_from_slice(&[0xFF, marker]);
            segments.extend_from_slice(&((length + 2) as u16).to_be_bytes());
            for part in parts {
                segments.extend_from_slice(part);
            }
        }
    };
    if let Some(exif) = &metadata.exif {
        segment(0xE1, &[b"Exif\0\0", exif]);
    }
    if let Some(xmp) = &metadata.xmp {
        segment(0xE1, &[b"http://ns.adobe.com/xap/1.0/\0", xmp]);
    }
    if let Some(iptc) = &metadata.iptc {
        let size = (iptc.len() as u32).to_be_bytes();
        let pad: &[u8] = if iptc.len() % 2 == 1 { &[0] } else { &[] };
        segment(
            0xED,
            &[b"Photoshop 3.0\0", b"8BIM\x04\x04\0\0", &size, iptc, pad],
        );
    }
    // JFIF wants its APP0 segment right after the start marker.
    let mut at = 2;
    if encoded.get(2..4) == Some(&[0xFF, 0xE0])
        && let Some(len) = encoded.get(4..6)
    {
        at = 4 + usize::from(u16::from_be_bytes([len[0], len[1]]));
    }
    let at = at.min(encoded.len());
    [&encoded[..at], &segments, &encoded[at..]].concat()
}

fn png(encoded: Vec<u8>, metadata: &Metadata) -> Vec<u8> {
    // Signature (8) and the IHDR chunk (4 + 4 + 13 + 4) always come first.
    const AFTER_IHDR: usize = 8 + 25;
    let mut chunks = Vec::new();
    let mut chunk = |kind: &[u8; 4], parts: &[&[u8]]| {
        let data = parts.concat();
        let start = chunks.len();
        chunks.extend_from_slice(&(data.len() as u32).to_be_bytes());
        chunks.extend_from_slice(kind);
        chunks.extend_from_slice(&data);
        let crc = crc32fast::hash(&chunks[start + 4..]);
        chunks.extend_from_slice(&crc.to_be_bytes());
    };
    if let Some(exif) = &metadata.exif {
        chunk(b"eXIf", &[exif]);
    }
    if let Some(xmp) = &metadata.xmp {
        // Keyword, uncompressed, no language, no translated keyword.
        chunk(b"iTXt", &[b"XML:com.adobe.xmp\0\0\0\0\0", xmp]);
    }
    let at = AFTER_IHDR.min(encoded.len());
    [&encoded[..at], &chunks, &encoded[at..]].concat()
}

/// WebP's extended-format flags for EXIF and XMP.
const EXIF_FLAG: u8 = 0x08;
const XMP_FLAG: u8 = 0x04;

fn webp(encoded: &[u8], metadata: &Metadata) -> Result<Vec<u8>, String> {
    let mut flags = 0;
    if metadata.exif.is_some() {
        flags |= EXIF_FLAG;
    }
    if metadata.xmp.is_some() {
        flags |= XMP_FLAG;
    }
    if flags == 0 {
        return Ok(encoded.to_vec());
    }
    let mut body = extended(encoded, flags)?;
    // After the image data, EXIF then XMP, as the container's specification orders them.
    if let Some(exif) = &metadata.exif {
        push_chunk(&mut body, b"EXIF", exif);
    }
    if let Some(xmp) = &metadata.xmp {
        push_chunk(&mut body, b"XMP ", xmp);
    }
    Ok(riff_webp(&body))
}
