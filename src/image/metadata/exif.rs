//! An EXIF block made fit to travel with a thumbnail, edited in place so that every offset
//! inside it (maker notes' included) stays valid: the orientation set to 1 (the thumbnail
//! is upright already), the GPS directory taken out of IFD0 and its bytes zeroed (a
//! position is what people most often want kept private), the second directory (IFD1,
//! the embedded thumbnail) dropped and its bytes zeroed, and the block cut after the last
//! byte anything left refers to.

/// Tags of IFD0 and the EXIF directory this edits or follows.
const ORIENTATION: u16 = 0x0112;
const EXIF_IFD: u16 = 0x8769;
const GPS_IFD: u16 = 0x8825;
const INTEROP_IFD: u16 = 0xA005;

/// The EXIF block `tiff` (a TIFF structure) cleaned as the module says; `None` when it is
/// not one that can be walked safely.
pub fn cleaned(tiff: &[u8]) -> Option<Vec<u8>> {
    let mut block = Block {
        bytes: tiff.to_vec(),
        big_endian: match tiff.get(..4)? {
            b"II*\0" => false,
            b"MM\0*" => true,
            _ => return None,
        },
    };
    let ifd0 = block.u32_at(4)? as usize;
    // The GPS directory: zeroed, and its entry taken out of IFD0.
    if let Some(gps) = block.entry(ifd0, GPS_IFD)? {
        let at = block.value_u32(gps)? as usize;
        block.zero_directory(at)?;
        block.remove_entry(ifd0, gps)?;
    }
    if let Some(orientation) = block.entry(ifd0, ORIENTATION)? {
        block.set_u16(orientation + 8, 1)?;
    }
    // IFD1, the embedded thumbnail: zeroed and unlinked.
    let next_at = ifd0 + 2 + 12 * usize::from(block.u16_at(ifd0)?);
    let ifd1 = block.u32_at(next_at)? as usize;
    if ifd1 != 0 {
        block.zero_directory(ifd1)?;
        block.set_u32(next_at, 0)?;
    }
    // Cut after the last byte IFD0, the EXIF directory and the interoperability directory
    // (and their values) use.
    let mut end = block.directory_end(ifd0)?;
    for pointer in [EXIF_IFD, INTEROP_IFD] {
        if let Some(entry) = block.entry(ifd0, pointer)? {
            let at = block.value_u32(entry)? as usize;
            end = end.max(block.directory_end(at)?);
            if let Some(interop) = block.entry(at, INTEROP_IFD)? {
                let at = block.value_u32(interop)? as usize;
                end = end.max(block.directory_end(at)?);
            }
        }
    }
    block.bytes.truncate(end);
    Some(block.bytes)
}

/// The block being edited, and its byte order.
struct Block {
    bytes: Vec<u8>,
    big_endian: bool,
}

impl Block {
    fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn set_u16(&mut self, at: usize, value: u16) -> Option<()> {
        let bytes = if self.big_endian {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        };
        self.bytes.get_mut(at..at + 2)?.copy_from_slice(&bytes);
        Some(())
    }

    fn set_u32(&mut self, at: usize, value: u32) -> Option<()> {
        let bytes = if self.big_endian {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        };
        self.bytes.get_mut(at..at + 4)?.copy_from_slice(&bytes);
        Some(())
    }

    /// Where the entry for `tag` of the directory at `ifd` starts; `Some(None)` when it
    /// has none, `None` when the directory cannot be read.
    fn entry(&self, ifd: usize, tag: u16) -> Option<Option<usize>> {
        let count = usize::from(self.u16_at(ifd)?);
        for i in 0..count {
            let at = ifd + 2 + 12 * i;
            if self.u16_at(at)? == tag {
                return Some(Some(at));
            }
        }
        self.bytes.get(ifd + 2 + 12 * count + 3)?;
        Some(None)
    }

    /// The value of the entry at `entry`, read as one LONG (an offset).
    fn value_u32(&self, entry: usize) -> Option<u32> {
        self.u32_at(entry + 8)
    }

    /// Where the value of the entry at `entry` lies outside the entry, if it does.
    fn value_range(&self, entry: usize) -> Option<Option<std::ops::Range<usize>>> {
        let size = match self.u16_at(entry + 2)? {
            1 | 2 | 6 | 7 => 1,
            3 | 8 => 2,
            4 | 9 | 11 | 13 => 4,
            5 | 10 | 12 => 8,
            _ => return Some(None),
        };
        let length = size * self.u32_at(entry + 4)? as usize;
        if length <= 4 {
            return Some(None);
        }
        let start = self.value_u32(entry)? as usize;
        let end = start.checked_add(length)?;
        self.bytes.get(start..end)?;
        Some(Some(start..end))
    }

    /// Zeroes the directory at `ifd` and every value it holds outside its entries
    /// (a thumbnail's bytes included, which its offset and length entries point at).
    fn zero_directory(&mut self, ifd: usize) -> Option<()> {
        let count = usize::from(self.u16_at(ifd)?);
        let mut ranges = Vec::new();
        let (mut thumbnail_at, mut thumbnail_len) = (None, None);
        for i in 0..count {
            let entry = ifd + 2 + 12 * i;
            if let Some(range) = self.value_range(entry)? {
                ranges.push(range);
            }
            match self.u16_at(entry)? {
                0x0201 => thumbnail_at = self.value_u32(entry),
                0x0202 => thumbnail_len = self.value_u32(entry),
                _ => {}
            }
        }
        if let (Some(at), Some(len)) = (thumbnail_at, thumbnail_len) {
            let (at, len) = (at as usize, len as usize);
            let end = at.checked_add(len)?.min(self.bytes.len());
            ranges.push(at.min(end)..end);
        }
        ranges.push(ifd..(ifd + 2 + 12 * count + 4).min(self.bytes.len()));
        for range in ranges {
            self.bytes[range].fill(0);
        }
        Some(())
    }

    /// Takes the entry at `entry` out of the directory at `ifd`: the later entries and the
    /// next-directory offset move up, the freed 12 bytes are zeroed.
    fn remove_entry(&mut self, ifd: usize, entry: usize) -> Option<()> {
        let count = usize::from(self.u16_at(ifd)?);
        let end = ifd + 2 + 12 * count + 4;
        self.bytes.get(entry..end)?;
        self.bytes.copy_within(entry + 12..end, entry);
        self.bytes[end - 12..end].fill(0);
        self.set_u16(ifd, (count - 1) as u16)
    }

    /// One past the last byte of the directory at `ifd` and its values.
    fn directory_end(&self, ifd: usize) -> Option<usize> {
        let count = usize::from(self.u16_at(ifd)?);
        let mut end = ifd + 2 + 12 * count + 4;
        for i in 0..count {
            if let Some(range) = self.value_range(ifd + 2 + 12 * i)? {
                end = end.max(range.end);
            }
        }
        Some(end.min(self.bytes.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian EXIF block: IFD0 with the orientation, an artist and the GPS
    /// pointer; a GPS directory holding a latitude; IFD1 with a thumbnail.
    fn block() -> Vec<u8> {
        let mut b = b"II*\0".to_vec();
        b.extend_from_slice(&8u32.to_le_bytes());
        let entry = |b: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
            b.extend_from_slice(&tag.to_le_bytes());
            b.extend_from_slice(&kind.to_le_bytes());
            b.extend_from_slice(&count.to_le_bytes());
            b.extend_from_slice(&value.to_le_bytes());
        };
        // IFD0 at 8: 3 entries, ends at 8 + 2 + 36 + 4 = 50; the artist's text at 50.
        b.extend_from_slice(&3u16.to_le_bytes());
        entry(&mut b, ORIENTATION, 3, 1, 6);
        entry(&mut b, 0x013B, 2, 8, 50);
        entry(&mut b, GPS_IFD, 4, 1, 58);
        b.extend_from_slice(&88u32.to_le_bytes());
        b.extend_from_slice(b"Someone\0");
        // GPS at 58: one entry (latitude, 3 rationals at 76), ends at 58 + 18 = 76.
        b.extend_from_slice(&1u16.to_le_bytes());
        entry(&mut b, 0x0002, 5, 3, 76);
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&[7u8; 24][..12]);
        // IFD1 at 88: the thumbnail's offset and length, 4 bytes at 118.
        b.extend_from_slice(&2u16.to_le_bytes());
        entry(&mut b, 0x0201, 4, 1, 118);
        entry(&mut b, 0x0202, 4, 1, 4);
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&[9u8; 4]);
        b
    }

    #[test]
    fn orientation_gps_and_thumbnail_go_and_the_rest_stays() {
        let mut original = block();
        // The latitude's 24 bytes of rationals.
        original.splice(76..88, [7u8; 12]);
        let cleaned = cleaned(&original).unwrap();
        let block = Block {
            bytes: cleaned.clone(),
            big_endian: false,
        };
        assert_eq!(block.u16_at(8), Some(2), "two entries left");
        assert_eq!(block.u16_at(10), Some(ORIENTATION));
        assert_eq!(block.u16_at(18), Some(1), "orientation reset");
        assert_eq!(block.u16_at(22), Some(0x013B));
        assert_eq!(block.u32_at(34), Some(0), "no next directory");
        assert_eq!(&cleaned[50..58], b"Someone\0");
        assert_eq!(cleaned.len(), 58, "cut after the artist");
        assert!(!cleaned.contains(&7), "no GPS byte left");
        assert!(!cleaned.contains(&9), "no thumbnail byte left");
    }

    #[test]
    fn a_block_that_cannot_be_walked_is_not_kept() {
        assert_eq!(cleaned(b"not exif"), None);
        let mut truncated = block();
        truncated.truncate(20);
        assert_eq!(cleaned(&truncated), None);
    }
}
