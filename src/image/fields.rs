//! Little-endian fields of a file's headers, read straight from its bytes: `None` past the
//! end of the bytes, never a panic. The one place the header readers of BMP, DDS, ICO and
//! the repairs take them from.

/// The 16-bit little-endian field at byte `at`.
pub(super) fn le16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// The 32-bit little-endian field at byte `at`.
pub(super) fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}
