//! Canon's CR3, an ISO base media file: its JPEGs are the first track's sample (full size),
//! the `PRVW` box in the preview UUID box (1620x1080) and the `THMB` box (160x120); the
//! camera's orientation is in `CMT1`, a TIFF IFD0. Boxes are walked within their parents'
//! bounds, at most [`MAX_BOXES`] of them.

use super::bytes::{Order, slice, u32_at, u64_be_at};
use super::tiff_walk::{self, Candidate, Walked};

const MAX_BOXES: usize = 4096;
/// Canon's box in `moov` holding CMT1-4 and THMB.
const CANON: [u8; 16] = [
    0x85, 0xc0, 0xb6, 0x87, 0x82, 0x0f, 0x11, 0xe0, 0x81, 0x11, 0xf4, 0xce, 0x46, 0x2b, 0x6a, 0x48,
];
/// The top-level box holding PRVW.
const PREVIEW: [u8; 16] = [
    0xea, 0xf4, 0x2b, 0x5e, 0x1c, 0x98, 0x4b, 0x88, 0xb9, 0xfb, 0xb7, 0xdc, 0x40, 0x6e, 0x4d, 0x16,
];

/// Whether `head` starts like a CR3.
pub(super) fn is_cr3(head: &[u8]) -> bool {
    head.get(4..12) == Some(b"ftypcrx ")
}

/// One box: its type, and where its content is.
#[derive(Debug, Clone, Copy)]
struct Box4 {
    kind: [u8; 4],
    content: u64,
    end: u64,
}

/// The boxes between `start` and `end`.
fn boxes(bytes: &[u8], start: u64, end: u64, budget: &mut usize) -> Vec<Box4> {
    let mut found = Vec::new();
    let mut at = start;
    while at + 8 <= end && *budget > 0 {
        *budget -= 1;
        let Some(size) = u32_at(bytes, at, Order::Big) else {
            break;
        };
        let Some(kind) = slice(bytes, at + 4, 4).and_then(|k| <[u8; 4]>::try_from(k).ok()) else {
            break;
        };
        let (header, size) = match size {
            0 => (8, end - at),
            1 => match u64_be_at(bytes, at + 8) {
                Some(large) => (16, large),
                None => break,
            },
            n => (8, u64::from(n)),
        };
        let Some(box_end) = at.checked_add(size).filter(|&e| e <= end && size >= header) else {
            break;
        };
        found.push(Box4 {
            kind,
            content: at + header,
            end: box_end,
        });
        at = box_end;
    }
    found
}

/// The content of the `uuid` box among `list` whose UUID is `uuid`, as a box.
fn uuid_box(bytes: &[u8], list: &[Box4], uuid: &[u8; 16]) -> Option<Box4> {
    list.iter()
        .filter(|b| &b.kind == b"uuid")
        .find(|b| slice(bytes, b.content, 16) == Some(uuid.as_slice()))
        .map(|b| Box4 {
            content: b.content + 16,
            ..*b
        })
}

fn child(list: &[Box4], kind: &[u8; 4]) -> Option<Box4> {
    list.iter().find(|b| &b.kind == kind).copied()
}

/// The JPEGs of a CR3 and its orientation.
pub(super) fn walk(bytes: &[u8]) -> Walked {
    let mut walked = Walked::default();
    let mut budget = MAX_BOXES;
    let top = boxes(bytes, 0, bytes.len() as u64, &mut budget);
    if let Some(moov) = child(&top, b"moov") {
        let inside = boxes(bytes, moov.content, moov.end, &mut budget);
        if let Some(canon) = uuid_box(bytes, &inside, &CANON) {
            let parts = boxes(bytes, canon.content, canon.end, &mut budget);
            if let Some(cmt1) = child(&parts, b"CMT1") {
                walked.orientation = tiff_walk::walk(bytes, cmt1.content).orientation;
            }
            if let Some(thumb) = child(&parts, b"THMB") {
                push_jpeg_in(bytes, thumb, &mut walked);
            }
        }
        // The first track's first sample: the full-size JPEG.
        if let Some(trak) = child(&inside, b"trak")
            && let Some(sample) = first_sample(bytes, trak, &mut budget)
        {
            walked.candidates.push(sample);
        }
    }
    if let Some(preview) = uuid_box(bytes, &top, &PREVIEW) {
        // 8 bytes of its own, then PRVW.
        for prvw in boxes(bytes, preview.content + 8, preview.end, &mut budget) {
            if &prvw.kind == b"PRVW" {
                push_jpeg_in(bytes, prvw, &mut walked);
            }
        }
    }
    walked
}

/// The JPEG inside a box: from its start-of-image marker (within the box's first 64 bytes)
/// to the box's end.
fn push_jpeg_in(bytes: &[u8], container: Box4, walked: &mut Walked) {
    let head = slice(
        bytes,
        container.content,
        64.min(container.end - container.content),
    );
    if let Some(offset) = head.and_then(|h| h.windows(3).position(|w| w == [0xFF, 0xD8, 0xFF])) {
        let start = container.content + offset as u64;
        walked.candidates.push(Candidate {
            start,
            len: container.end - start,
        });
    }
}

/// Where a track's first sample is: `stco`/`co64` and `stsz` of its sample table.
fn first_sample(bytes: &[u8], trak: Box4, budget: &mut usize) -> Option<Candidate> {
    let mut level = trak;
    for kind in [b"mdia", b"minf", b"stbl"] {
        level = child(&boxes(bytes, level.content, level.end, budget), kind)?;
    }
    let table = boxes(bytes, level.content, level.end, budget);
    let sizes = child(&table, b"stsz")?;
    let len = match u32_at(bytes, sizes.content + 4, Order::Big)? {
        0 => u32_at(bytes, sizes.content + 12, Order::Big)?,
        fixed => fixed,
    };
    let start = match (child(&table, b"co64"), child(&table, b"stco")) {
        (Some(co64), _) => u64_be_at(bytes, co64.content + 8)?,
        (None, Some(stco)) => u64::from(u32_at(bytes, stco.content + 8, Order::Big)?),
        (None, None) => return None,
    };
    slice(bytes, start, u64::from(len))?;
    Some(Candidate {
        start,
        len: u64::from(len),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
        let mut made = ((content.len() + 8) as u32).to_be_bytes().to_vec();
        made.extend_from_slice(kind);
        made.extend_from_slice(content);
        made
    }

    #[test]
    fn the_track_jpeg_prvw_thmb_and_cmt1_orientation_are_found_within_their_boxes() {
        let thumbnail = [0xFF, 0xD8, 0xFF, 0xDB, 1, 2];
        let preview = [0xFF, 0xD8, 0xFF, 0xC4, 3, 4, 5];
        let full = [0xFF, 0xD8, 0xFF, 0xE1, 6, 7, 8, 9];
        // CMT1: a TIFF whose IFD0 has one entry, Orientation 6.
        let mut cmt1 = b"II*\0\x08\0\0\0\x01\0".to_vec();
        cmt1.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
        let mut canon = CANON.to_vec();
        canon.extend(boxed(b"CMT1", &cmt1));
        canon.extend(boxed(b"THMB", &[&[0u8; 16][..], &thumbnail].concat()));
        let ftyp = boxed(b"ftyp", b"crx \0\0\0\x01crx isom");
        let trak_with = |offset: u64| {
            let mut sizes = vec![0u8; 8];
            sizes.extend_from_slice(&1u32.to_be_bytes());
            sizes.extend_from_slice(&(full.len() as u32).to_be_bytes());
            let mut offsets = vec![0u8, 0, 0, 0, 0, 0, 0, 1];
            offsets.extend_from_slice(&offset.to_be_bytes());
            let table = [boxed(b"stsz", &sizes), boxed(b"co64", &offsets)].concat();
            boxed(
                b"trak",
                &boxed(b"mdia", &boxed(b"minf", &boxed(b"stbl", &table))),
            )
        };
        let mut prvw_box = PREVIEW.to_vec();
        prvw_box.extend_from_slice(&[0; 8]);
        prvw_box.extend(boxed(b"PRVW", &[&[0u8; 12][..], &preview].concat()));
        let layout = |offset: u64| {
            let moov = boxed(
                b"moov",
                &[boxed(b"uuid", &canon), trak_with(offset)].concat(),
            );
            [ftyp.clone(), moov, boxed(b"uuid", &prvw_box)].concat()
        };
        let before_mdat = layout(0).len() as u64;
        let mut file = layout(before_mdat + 8);
        file.extend(boxed(b"mdat", &full));

        assert!(is_cr3(&file));
        let walked = walk(&file);
        assert_eq!(walked.orientation, Some(6));
        let found: Vec<&[u8]> = walked
            .candidates
            .iter()
            .map(|c| slice(&file, c.start, c.len).unwrap())
            .collect();
        assert_eq!(found, vec![&thumbnail[..], &full[..], &preview[..]]);
        // Cut anywhere, the walk finds less and reads nothing outside the file.
        for cut in 0..file.len() {
            for c in walk(&file[..cut]).candidates {
                assert!(c.start + c.len <= cut as u64);
            }
        }
    }
}
