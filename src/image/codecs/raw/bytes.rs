//! Reading numbers at offsets a file gives, never past its end: every read answers `None`
//! for an offset outside the bytes, so a header cannot make a walk read or allocate
//! anything the file does not hold.

/// A byte order, as a TIFF header (`II` or `MM`) says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    Little,
    Big,
}

/// `bytes[at..at + len]`, if it is all there.
pub(super) fn slice(bytes: &[u8], at: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(at).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(start..end)
}

/// The 16-bit number at `at`.
pub(super) fn u16_at(bytes: &[u8], at: u64, order: Order) -> Option<u16> {
    let b: [u8; 2] = slice(bytes, at, 2)?.try_into().ok()?;
    Some(match order {
        Order::Little => u16::from_le_bytes(b),
        Order::Big => u16::from_be_bytes(b),
    })
}

/// The 32-bit number at `at`.
pub(super) fn u32_at(bytes: &[u8], at: u64, order: Order) -> Option<u32> {
    let b: [u8; 4] = slice(bytes, at, 4)?.try_into().ok()?;
    Some(match order {
        Order::Little => u32::from_le_bytes(b),
        Order::Big => u32::from_be_bytes(b),
    })
}

/// The 64-bit big-endian number at `at` (ISOBMFF's large sizes and offsets).
pub(super) fn u64_be_at(bytes: &[u8], at: u64) -> Option<u64> {
    Some(u64::from_be_bytes(slice(bytes, at, 8)?.try_into().ok()?))
}
