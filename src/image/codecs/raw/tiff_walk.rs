//! The TIFF structure most camera RAWs are built on (CR2, NEF, NRW, ARW, SR2, DNG, ORF,
//! RW2, PEF, 3FR, ERF, SRW, MRW's TTW block, a CR3's CMT1), walked for the JPEGs the camera
//! stored: every IFD of the chain, their SubIFDs and EXIF IFD, and the maker notes where
//! vendors keep the large preview (Nikon's PreviewIFD, Olympus' CameraSettings, Pentax,
//! Minolta). Written here rather than with the `tiff` crate: it reads no vendor magic
//! (ORF's `IIRO`, RW2's `IIU`) and no maker note, and only offsets and lengths are needed.
//!
//! The walk is bounded: each IFD is visited once, at most [`MAX_IFDS`] of them, entries
//! past [`MAX_ENTRIES`] are not read, and every offset is checked against the file.

use super::bytes::{Order, slice, u16_at, u32_at};

/// IFDs read at most in one file.
const MAX_IFDS: usize = 64;
/// Entries read at most in one IFD.
const MAX_ENTRIES: u16 = 1024;
/// How deep SubIFDs, EXIF IFDs and maker notes may nest.
const MAX_DEPTH: u32 = 6;

/// A byte range of the file that may hold a JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Candidate {
    pub(super) start: u64,
    pub(super) len: u64,
}

/// What a walk found.
#[derive(Debug, Default)]
pub(super) struct Walked {
    /// Where JPEGs may be, in the order found.
    pub(super) candidates: Vec<Candidate>,
    /// IFD0's Orientation (1 to 8), the camera's own.
    pub(super) orientation: Option<u16>,
    /// Whether the sensor's data was seen (a CFA or linear-raw image, a DNG version): the
    /// file is a camera RAW whatever its name.
    pub(super) sensor_data: bool,
}

/// Whether `bytes` start like a TIFF-based file: `II*\0`, `MM\0*`, or a vendor's magic in
/// its place (Olympus `IIRO`/`IIRS`/`MMOR`, Panasonic `IIU\0`).
pub(super) fn header(bytes: &[u8]) -> Option<Order> {
    match bytes.get(..4)? {
        b"II*\0" | b"IIRO" | b"IIRS" | b"IIU\0" => Some(Order::Little),
        b"MM\0*" | b"MMOR" => Some(Order::Big),
        _ => None,
    }
}

/// Walks the TIFF structure whose header is at `base` in `bytes`.
pub(super) fn walk(bytes: &[u8], base: u64) -> Walked {
    let mut walker = Walker {
        bytes,
        visited: Vec::new(),
        walked: Walked::default(),
        make: String::new(),
    };
    if let Some(order) = header(slice(bytes, base, 4).unwrap_or_default())
        && let Some(first) = u32_at(bytes, base + 4, order)
    {
        walker.ifd(Ifd {
            at: u64::from(first),
            base,
            order,
            depth: 0,
            main: true,
        });
    }
    walker.walked
}

/// One IFD to read: `at` bytes after the TIFF header at `base`.
#[derive(Debug, Clone, Copy)]
struct Ifd {
    at: u64,
    base: u64,
    order: Order,
    depth: u32,
    /// In the main chain (IFD0, IFD1, ...), where the camera's Orientation is.
    main: bool,
}

/// One IFD entry: its tag, type, count and the 4 bytes that hold its value or offset.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    /// Where the entry's 4 value bytes are in the file.
    value_at: u64,
}

struct Walker<'a> {
    bytes: &'a [u8],
    visited: Vec<u64>,
    walked: Walked,
    /// IFD0's Make, for the maker notes that do not name their maker.
    make: String,
}

impl Walker<'_> {
    /// Where `ifd` starts in the file, if it may be read: not seen before, not too deep,
    /// within the budget of IFDs.
    fn enter(&mut self, ifd: &Ifd) -> Option<u64> {
        let start = ifd.base.saturating_add(ifd.at);
        if ifd.depth > MAX_DEPTH || self.visited.len() >= MAX_IFDS || self.visited.contains(&start)
        {
            return None;
        }
        self.visited.push(start);
        Some(start)
    }

    fn ifd(&mut self, mut ifd: Ifd) {
        let mut first = ifd.main;
        loop {
            let Some(start) = self.enter(&ifd) else {
                return;
            };
            let Some((count, entries)) = entries(self.bytes, start, ifd.order) else {
                return;
            };
            self.read_entries(&entries, ifd, first);
            first = false;
            // The next IFD of the chain.
            let next_at = start + 2 + 12 * u64::from(count);
            match u32_at(self.bytes, next_at, ifd.order) {
                Some(next) if next != 0 => ifd.at = u64::from(next),
                _ => return,
            }
        }
    }

    fn read_entries(&mut self, entries: &[Entry], ifd: Ifd, ifd0: bool) {
        let bytes = self.bytes;
        let one = |tag: u16| first_value(bytes, entries, tag, ifd);
        if ifd0 {
            self.walked.orientation = self.walked.orientation.or(one(0x0112).map(|v| v as u16));
            if let Some(make) = entries.iter().find(|e| e.tag == 0x010F) {
                self.make = text(self.bytes, make, ifd);
            }
        }
        // A CFA or linear-raw image is the sensor's data, even when JPEG-compressed.
        let photometric = one(0x0106);
        if matches!(photometric, Some(32803 | 34892)) || one(0xC612).is_some() {
            self.walked.sensor_data = true;
        }
        // JPEGInterchangeFormat and its length: IFD1 thumbnails, ARW and NEF previews.
        if let (Some(start), Some(len)) = (one(0x0201), one(0x0202)) {
            self.add(ifd.base + u64::from(start), u64::from(len));
        }
        // A single strip of JPEG data that is not the raw image (CR2's IFD0, DNG previews).
        let strips = entries
            .iter()
            .find(|e| e.tag == 0x0111)
            .map(|e| values(self.bytes, e, ifd));
        let counts = entries
            .iter()
            .find(|e| e.tag == 0x0117)
            .map(|e| values(self.bytes, e, ifd));
        if matches!(one(0x0103), Some(6 | 7))
            && !matches!(photometric, Some(32803 | 34892))
            && let (Some([start]), Some([len])) = (strips.as_deref(), counts.as_deref())
        {
            self.add(ifd.base + u64::from(*start), u64::from(*len));
        }
        // Panasonic's JpgFromRaw: the JPEG is the entry's value.
        if let Some(jpeg) = entries.iter().find(|e| e.tag == 0x002E && e.kind == 7)
            && let Some(offset) = u32_at(self.bytes, jpeg.value_at, ifd.order)
        {
            self.add(ifd.base + u64::from(offset), u64::from(jpeg.count));
        }
        let deeper = |at: u32| Ifd {
            at: u64::from(at),
            depth: ifd.depth + 1,
            main: false,
            ..ifd
        };
        for entry in entries {
            match entry.tag {
                // SubIFDs, the EXIF IFD.
                0x014A | 0x8769 => {
                    for at in values(self.bytes, entry, ifd) {
                        self.ifd(deeper(at));
                    }
                }
                0x927C if entry.kind == 7 => {
                    if let Some(offset) = u32_at(self.bytes, entry.value_at, ifd.order) {
                        self.maker_note(ifd.base + u64::from(offset), entry.count, ifd);
                    }
                }
                _ => {}
            }
        }
    }

    /// A maker note of `len` bytes at `start`, in the file whose TIFF header is `ifd.base`.
    fn maker_note(&mut self, start: u64, len: u32, ifd: Ifd) {
        let Some(note) = slice(self.bytes, start, u64::from(len)) else {
            return;
        };
        let depth = ifd.depth + 1;
        if note.starts_with(b"Nikon\0") {
            // A TIFF of its own 10 bytes in; its PreviewIFD (tag 0x0011) is read by the walk.
            let base = start + 10;
            if let Some(order) = header(slice(self.bytes, base, 4).unwrap_or_default())
                && let Some(first) = u32_at(self.bytes, base + 4, order)
            {
                self.vendor_ifd(
                    Ifd {
                        at: u64::from(first),
                        base,
                        order,
                        depth,
                        main: false,
                    },
                    Vendor::Nikon,
                );
            }
        } else if note.starts_with(b"OLYMPUS\0") || note.starts_with(b"OM SYSTEM\0") {
            // Offsets count from the note's start; the IFD follows a 12- or 16-byte header.
            let skip = if note.starts_with(b"OM SYSTEM\0") {
                16
            } else {
                12
            };
            let order = match note.get(skip - 4..skip - 2) {
                Some(b"MM") => Order::Big,
                _ => Order::Little,
            };
            self.vendor_ifd(
                Ifd {
                    at: skip as u64,
                    base: start,
                    order,
                    depth,
                    main: false,
                },
                Vendor::Olympus,
            );
        } else if note.starts_with(b"AOC\0") {
            let order = match note.get(4..6) {
                Some(b"II") => Order::Little,
                Some(b"MM") => Order::Big,
                _ => ifd.order,
            };
            self.vendor_ifd(
                Ifd {
                    at: start + 6 - ifd.base,
                    order,
                    depth,
                    main: false,
                    ..ifd
                },
                Vendor::Pentax,
            );
        } else if note.starts_with(b"OLYMP\0") {
            self.vendor_ifd(
                Ifd {
                    at: start + 8 - ifd.base,
                    depth,
                    main: false,
                    ..ifd
                },
                Vendor::Minolta,
            );
        } else if self.make.to_ascii_lowercase().contains("minolta") {
            self.vendor_ifd(
                Ifd {
                    at: start - ifd.base,
                    depth,
                    main: false,
                    ..ifd
                },
                Vendor::Minolta,
            );
        }
    }

    /// A maker note's IFD: the vendor's preview tags, then the IFD as any other.
    fn vendor_ifd(&mut self, ifd: Ifd, vendor: Vendor) {
        let Some(start) = self.enter(&ifd) else {
            return;
        };
        let Some((_, entries)) = entries(self.bytes, start, ifd.order) else {
            return;
        };
        let bytes = self.bytes;
        let one = |tag: u16| first_value(bytes, &entries, tag, ifd);
        match vendor {
            Vendor::Nikon => {
                if let Some(at) = one(0x0011) {
                    self.ifd(Ifd {
                        at: u64::from(at),
                        depth: ifd.depth + 1,
                        ..ifd
                    });
                }
            }
            Vendor::Olympus => {
                // CameraSettings: an IFD (or bytes holding one) with the preview's place.
                if let Some(settings) = entries.iter().find(|e| e.tag == 0x2020)
                    && let Some(at) = u32_at(self.bytes, settings.value_at, ifd.order)
                {
                    self.vendor_ifd(
                        Ifd {
                            at: u64::from(at),
                            depth: ifd.depth + 1,
                            ..ifd
                        },
                        Vendor::OlympusSettings,
                    );
                }
            }
            Vendor::OlympusSettings => {
                if let (Some(at), Some(len)) = (one(0x0101), one(0x0102)) {
                    self.add(ifd.base + u64::from(at), u64::from(len));
                }
            }
            Vendor::Pentax => {
                if let (Some(at), Some(len)) = (one(0x0004), one(0x0003)) {
                    self.add(ifd.base + u64::from(at), u64::from(len));
                }
            }
            Vendor::Minolta => {
                if let (Some(at), Some(len)) = (one(0x0088), one(0x0089)) {
                    self.add(ifd.base + u64::from(at), u64::from(len));
                }
            }
        }
    }

    fn add(&mut self, start: u64, len: u64) {
        let candidate = Candidate { start, len };
        if len >= 4 && !self.walked.candidates.contains(&candidate) {
            self.walked.candidates.push(candidate);
        }
    }
}

/// The IFD at `start`: its entry count, and its entries (at most [`MAX_ENTRIES`], those the
/// file holds whole).
fn entries(bytes: &[u8], start: u64, order: Order) -> Option<(u16, Vec<Entry>)> {
    let count = u16_at(bytes, start, order)?;
    let entries = (0..count.min(MAX_ENTRIES))
        .filter_map(|i| {
            let at = start + 2 + 12 * u64::from(i);
            Some(Entry {
                tag: u16_at(bytes, at, order)?,
                kind: u16_at(bytes, at + 2, order)?,
                count: u32_at(bytes, at + 4, order)?,
                value_at: at + 8,
            })
        })
        .collect();
    Some((count, entries))
}

/// The first value of the entry tagged `tag` among `entries`, when it is a SHORT, a LONG or
/// an IFD offset.
fn first_value(bytes: &[u8], entries: &[Entry], tag: u16, ifd: Ifd) -> Option<u32> {
    let entry = entries.iter().find(|e| e.tag == tag)?;
    values(bytes, entry, ifd).first().copied()
}

/// An entry's values, when they are SHORTs, LONGs or IFD offsets (at most 64).
fn values(bytes: &[u8], entry: &Entry, ifd: Ifd) -> Vec<u32> {
    let size = match entry.kind {
        3 => 2,
        4 | 13 => 4,
        _ => return Vec::new(),
    };
    let count = entry.count.min(64);
    let total = u64::from(count) * size;
    let at = if total <= 4 {
        entry.value_at
    } else {
        match u32_at(bytes, entry.value_at, ifd.order) {
            Some(offset) => ifd.base + u64::from(offset),
            None => return Vec::new(),
        }
    };
    (0..u64::from(count))
        .map_while(|i| match size {
            2 => u16_at(bytes, at + 2 * i, ifd.order).map(u32::from),
            _ => u32_at(bytes, at + 4 * i, ifd.order),
        })
        .collect()
}

/// An ASCII entry's text (at most 64 bytes).
fn text(bytes: &[u8], entry: &Entry, ifd: Ifd) -> String {
    let len = u64::from(entry.count.min(64));
    let at = if len <= 4 {
        Some(entry.value_at)
    } else {
        u32_at(bytes, entry.value_at, ifd.order).map(|o| ifd.base + u64::from(o))
    };
    at.and_then(|at| slice(bytes, at, len))
        .map(|text| {
            String::from_utf8_lossy(text)
                .trim_end_matches('\0')
                .to_string()
        })
        .unwrap_or_default()
}

/// Whose maker note an IFD belongs to: where its preview's place is kept.
#[derive(Debug, Clone, Copy)]
enum Vendor {
    Nikon,
    Olympus,
    OlympusSettings,
    Pentax,
    Minolta,
}
