//! Metadata read from a picture's container, without decoding it: JPEG segments before the
//! first scan (APP1 EXIF and XMP, APP13 IPTC), PNG chunks before the image data (`eXIf`,
//! the `iTXt` XMP packet), WebP chunks (`EXIF`, `XMP `), HEIF items (`Exif`, XMP). Other
//! formats give none. A container that cannot be walked gives what was found before.

use std::io::{BufRead, Cursor, Seek, SeekFrom};

use super::Metadata;

/// The metadata of the picture whose bytes are `bytes`.
pub fn read(bytes: &[u8]) -> Metadata {
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return webp(bytes);
    }
    if crate::image::codecs::heif::is_heif(bytes) {
        return heif(bytes);
    }
    read_head(&mut Cursor::new(bytes)).unwrap_or_default()
}

/// The metadata of a JPEG or PNG read from `reader` (its segments or chunks before the
/// image data; others: none), which is put back at its start.
pub fn read_head<R: BufRead + Seek>(reader: &mut R) -> std::io::Result<Metadata> {
    let mut head = [0u8; 8];
    let found = match reader.read_exact(&mut head) {
        Ok(()) if head.starts_with(&[0xFF, 0xD8]) => {
            reader.seek(SeekFrom::Start(2))?;
            jpeg(reader)
        }
        Ok(()) if head == *b"\x89PNG\r\n\x1a\n" => png(reader),
        _ => Metadata::default(),
    };
    reader.rewind()?;
    Ok(found)
}

const XMP_JPEG: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const PHOTOSHOP: &[u8] = b"Photoshop 3.0\0";

fn jpeg<R: BufRead>(reader: &mut R) -> Metadata {
    let mut found = Metadata::default();
    for (marker, body) in crate::image::codecs::jpeg::header_segments(reader, &[0xE1, 0xED]) {
        match marker {
            0xE1 if body.starts_with(b"Exif\0\0") && found.exif.is_none() => {
                found.exif = Some(body[6..].to_vec());
            }
            0xE1 if body.starts_with(XMP_JPEG) && found.xmp.is_none() => {
                found.xmp = Some(body[XMP_JPEG.len()..].to_vec());
            }
            0xED if body.starts_with(PHOTOSHOP) && found.iptc.is_none() => {
                found.iptc = iptc_resource(&body[PHOTOSHOP.len()..]);
            }
            _ => {}
        }
    }
    found
}

/// The IPTC-IIM records of Photoshop's image resources (`8BIM`, id `0x0404`).
fn iptc_resource(mut resources: &[u8]) -> Option<Vec<u8>> {
    while resources.len() >= 12 && resources.starts_with(b"8BIM") {
        let id = u16::from_be_bytes([resources[4], resources[5]]);
        // A Pascal string padded to an even length, then the size and the data, padded.
        let name = (1 + usize::from(resources[6])).next_multiple_of(2);
        let at = 6 + name;
        let size = u32::from_be_bytes(resources.get(at..at + 4)?.try_into().ok()?) as usize;
        let data = resources.get(at + 4..at + 4 + size)?;
        if id == 0x0404 {
            return Some(data.to_vec());
        }
        resources = resources.get((at + 4 + size).next_multiple_of(2)..)?;
    }
    None
}

const XMP_PNG: &[u8] = b"XML:com.adobe.xmp\0";

/// The largest PNG chunk read for its metadata: a chunk that claims more is stepped over
/// (a damaged or hostile file must not make the reader allocate what it claims).
const LARGEST_CHUNK: usize = 16 << 20;

fn png<R: BufRead + Seek>(reader: &mut R) -> Metadata {
    let mut found = Metadata::default();
    let mut header = [0u8; 8];
    while reader.read_exact(&mut header).is_ok() {
        let length = u32::from_be_bytes(header[..4].try_into().expect("four bytes")) as usize;
        let kind = &header[4..8];
        if kind == b"IDAT" || kind == b"IEND" {
            break;
        }
        let wanted = (kind == b"eXIf" || kind == b"iTXt") && length <= LARGEST_CHUNK;
        if !wanted {
            if reader.seek(SeekFrom::Current(length as i64 + 4)).is_err() {
                break;
            }
            continue;
        }
        let mut body = vec![0u8; length + 4];
        if reader.read_exact(&mut body).is_err() {
            break;
        }
        body.truncate(length);
        if kind == b"eXIf" {
            found.exif.get_or_insert(body);
        } else if let Some([0, _, rest @ ..]) = body.strip_prefix(XMP_PNG) {
            // Uncompressed only: method, language and translated keyword (both NUL-ended),
            // then the text.
            let mut parts = rest.splitn(3, |&b| b == 0);
            if let (Some(_), Some(_), Some(text)) = (parts.next(), parts.next(), parts.next()) {
                found.xmp.get_or_insert(text.to_vec());
            }
        }
    }
    found
}

fn webp(bytes: &[u8]) -> Metadata {
    let mut found = Metadata::default();
    let mut at = 12;
    while let (Some(tag), Some(size)) = (bytes.get(at..at + 4), bytes.get(at + 4..at + 8)) {
        let size = u32::from_le_bytes(size.try_into().expect("four bytes")) as usize;
        let Some(body) = bytes.get(at + 8..at + 8 + size) else {
            break;
        };
        match tag {
            b"EXIF" => {
                let tiff = body.strip_prefix(b"Exif\0\0").unwrap_or(body);
                found.exif.get_or_insert(tiff.to_vec());
            }
            b"XMP " => {
                found.xmp.get_or_insert(body.to_vec());
            }
            _ => {}
        }
        at += 8 + size + (size & 1);
    }
    found
}

fn heif(bytes: &[u8]) -> Metadata {
    use heifer::heifer_isobmff::HeifFile;
    let Ok(file) = HeifFile::parse(bytes) else {
        return Metadata::default();
    };
    let id = file.primary_id;
    Metadata {
        exif: file.exif(id).ok().flatten().map(|exif| {
            // Some writers keep JPEG's `Exif\0\0` before the TIFF header.
            exif.strip_prefix(b"Exif\0\0".as_slice())
                .map(<[u8]>::to_vec)
                .unwrap_or(exif)
        }),
        xmp: file.xmp(id).ok().flatten(),
        iptc: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_chunk_larger_than_any_metadata_is_stepped_over_not_read() {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut out = (data.len() as u32).to_be_bytes().to_vec();
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&[0; 4]);
            out
        };
        let mut huge = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
        huge.resize(LARGEST_CHUNK + 1, b' ');
        let png = [
            b"\x89PNG\r\n\x1a\n".to_vec(),
            chunk(b"iTXt", &huge),
            chunk(b"eXIf", b"II*\0"),
        ]
        .concat();
        let found = read(&png);
        assert_eq!(found.xmp, None, "a 16 MiB XMP chunk is not read");
        assert_eq!(
            found.exif,
            Some(b"II*\0".to_vec()),
            "the reader went on past it"
        );
    }

    #[test]
    fn photoshop_resources_give_their_iptc_records() {
        let mut resources = b"8BIM\x04\x0c\0\0".to_vec();
        resources.extend_from_slice(&3u32.to_be_bytes());
        resources.extend_from_slice(b"abc\0");
        resources.extend_from_slice(b"8BIM\x04\x04\x03ab\0");
        resources.extend_from_slice(&2u32.to_be_bytes());
        resources.extend_from_slice(b"\x1c\x02");
        assert_eq!(iptc_resource(&resources), Some(b"\x1c\x02".to_vec()));
        assert_eq!(iptc_resource(b"8BIM\x04\x04"), None);
    }
}
