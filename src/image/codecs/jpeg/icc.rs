//! The segments of a JPEG before its first scan, read without decoding anything: the ICC
//! profile its APP2 segments carry (`ICC_PROFILE`, in numbered chunks of up to 64 KB), so
//! the decoder can be chosen by it (a gray thumbnail of an sRGB picture keeps the
//! luma-only fast paths), and the application segments metadata is read from.

use std::io::{BufRead, Seek};

/// The profile a JPEG read from `reader` carries, or `None` (none, or chunks missing or
/// out of number: a damaged profile is not used). `reader` is put back at its start.
pub(super) fn scan<R: BufRead + Seek>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let chunks = chunks(reader);
    reader.rewind()?;
    Ok(assemble(chunks))
}

/// The `ICC_PROFILE` chunks of the segments before the first scan, as (number, of how
/// many, data).
fn chunks<R: BufRead>(reader: &mut R) -> Vec<(u8, u8, Vec<u8>)> {
    let mut two = [0u8; 2];
    if reader.read_exact(&mut two).is_err() || two != [0xFF, 0xD8] {
        return Vec::new();
    }
    header_segments(reader, &[0xE2])
        .into_iter()
        .filter_map(|(_, body)| match body.strip_prefix(b"ICC_PROFILE\0")? {
            [number, count, data @ ..] => Some((*number, *count, data.to_vec())),
            _ => None,
        })
        .collect()
}

/// The most segment bytes kept (an ICC profile's 255 chunks of 64 KB fit): a file of
/// endless application segments is not held whole.
const KEPT: usize = 16 << 20;

/// The segments of the kinds `wanted` (markers, e.g. `0xE2` for APP2: marker and body)
/// from `reader`, which is just past the start-of-image marker, up to the first scan;
/// reading stops at the first thing that is not a well-formed segment, and once
/// [`KEPT`] bytes are held.
pub(crate) fn header_segments<R: BufRead>(reader: &mut R, wanted: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut found = Vec::new();
    let mut kept = 0;
    let mut two = [0u8; 2];
    loop {
        let mut marker = [0u8; 1];
        // Fill bytes (0xFF) may come before a marker.
        loop {
            if reader.read_exact(&mut marker).is_err() {
                return found;
            }
            if marker[0] != 0xFF {
                break;
            }
        }
        match marker[0] {
            // Start of scan, end of image: no more header segments.
            0xDA | 0xD9 => return found,
            // Markers that stand alone.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        if reader.read_exact(&mut two).is_err() {
            return found;
        }
        let length = usize::from(u16::from_be_bytes(two)).saturating_sub(2);
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return found;
        }
        if wanted.contains(&marker[0]) {
            kept += body.len();
            if kept > KEPT {
                return found;
            }
            found.push((marker[0], body));
        }
    }
}

/// The chunks joined in their order, when every one of them is there once.
fn assemble(mut chunks: Vec<(u8, u8, Vec<u8>)>) -> Option<Vec<u8>> {
    let count = chunks.first()?.1;
    chunks.sort_by_key(|(number, _, _)| *number);
    let whole = chunks.len() == usize::from(count)
        && chunks
            .iter()
            .enumerate()
            .all(|(i, (number, of, _))| usize::from(*number) == i + 1 && *of == count);
    whole.then(|| chunks.into_iter().flat_map(|(_, _, data)| data).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn icc_chunk(number: u8, count: u8, data: &[u8]) -> Vec<u8> {
        segment(
            0xE2,
            &[b"ICC_PROFILE\0".as_slice(), &[number, count], data].concat(),
        )
    }

    #[test]
    fn endless_application_segments_are_not_held_whole() {
        let body = vec![7u8; 65_000];
        let mut jpeg = Vec::new();
        for _ in 0..300 {
            jpeg.extend_from_slice(&segment(0xE2, &body));
        }
        let kept = header_segments(&mut std::io::Cursor::new(&jpeg), &[0xE2]);
        let held: usize = kept.iter().map(|(_, body)| body.len()).sum();
        assert!(held <= KEPT && held > KEPT - 65_000, "{held} bytes held");
        // Segments of other kinds are read past, not kept.
        assert!(header_segments(&mut std::io::Cursor::new(&jpeg), &[0xE1]).is_empty());
    }

    #[test]
    fn chunks_are_joined_in_their_numbered_order_and_a_gap_drops_the_profile() {
        let jpeg = [
            vec![0xFF, 0xD8],
            segment(0xE1, b"Exif\0\0"),
            icc_chunk(2, 2, b"world"),
            icc_chunk(1, 2, b"hello "),
            vec![0xFF, 0xDA, 0, 2],
        ]
        .concat();
        let mut reader = std::io::Cursor::new(&jpeg);
        assert_eq!(scan(&mut reader).unwrap(), Some(b"hello world".to_vec()));
        assert_eq!(reader.position(), 0);
        let missing = [vec![0xFF, 0xD8], icc_chunk(2, 2, b"world")].concat();
        assert_eq!(scan(&mut std::io::Cursor::new(&missing)).unwrap(), None);
        assert_eq!(
            scan(&mut std::io::Cursor::new(b"not a jpeg")).unwrap(),
            None
        );
    }
}
