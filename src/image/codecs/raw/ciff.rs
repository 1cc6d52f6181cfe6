//! Canon's CRW (CIFF): a heap of records, some of them heaps in turn; the JPEG the camera
//! made is the `JpgFromRaw` record (0x2007). Heaps are read within their parents' bounds,
//! at most [`MAX_RECORDS`] records in all.

use super::bytes::{Order, u16_at, u32_at};
use super::tiff_walk::{Candidate, Walked};

const MAX_RECORDS: usize = 4096;
const MAX_DEPTH: u32 = 8;

/// Whether `head` starts like a CRW.
pub(super) fn is_crw(head: &[u8]) -> bool {
    matches!(head.get(..2), Some(b"II" | b"MM")) && head.get(6..14) == Some(b"HEAPCCDR")
}

/// The JPEG records of a CRW.
pub(super) fn walk(bytes: &[u8]) -> Walked {
    let mut walked = Walked::default();
    let order = if bytes.starts_with(b"MM") {
        Order::Big
    } else {
        Order::Little
    };
    if let Some(header) = u32_at(bytes, 2, order) {
        let mut budget = MAX_RECORDS;
        heap(
            bytes,
            order,
            u64::from(header),
            bytes.len() as u64,
            0,
            &mut budget,
            &mut walked,
        );
    }
    walked
}

fn heap(
    bytes: &[u8],
    order: Order,
    start: u64,
    end: u64,
    depth: u32,
    budget: &mut usize,
    walked: &mut Walked,
) {
    if depth > MAX_DEPTH || end < start + 4 {
        return;
    }
    let Some(directory) = u32_at(bytes, end - 4, order) else {
        return;
    };
    let directory = start + u64::from(directory);
    let Some(count) = u16_at(bytes, directory, order) else {
        return;
    };
    for i in 0..u64::from(count) {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let at = directory + 2 + 10 * i;
        let (Some(tag), Some(size), Some(offset)) = (
            u16_at(bytes, at, order),
            u32_at(bytes, at + 2, order),
            u32_at(bytes, at + 6, order),
        ) else {
            return;
        };
        // Records kept in the directory entry itself hold no JPEG.
        if tag & 0xC000 != 0 {
            continue;
        }
        let (record, record_end) = (
            start + u64::from(offset),
            start + u64::from(offset) + u64::from(size),
        );
        if record_end > end {
            continue;
        }
        match tag & 0x3FFF {
            0x2007 => walked.candidates.push(Candidate {
                start: record,
                len: u64::from(size),
            }),
            kind if matches!((kind >> 8) & 0x38, 0x28 | 0x30) => {
                heap(bytes, order, record, record_end, depth + 1, budget, walked);
            }
            _ => {}
        }
    }
}
