//! The non-images a folder walk passes over, with the reason it gives for each. (The image
//! formats imgpar names to refuse are in the format table, [`crate::image::formats`].)

/// Why a file whose name and first bytes do not say "image" is passed over: a short phrase
/// for the summary ("text", "a ZIP archive", ...).
pub fn not_an_image(head: &[u8]) -> &'static str {
    const ARCHIVES: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (b"Rar!", "a RAR archive"),
        (b"\xFD7zXZ\0", "an xz archive"),
        (b"BZh", "a bzip2 archive"),
        (b"\x28\xB5\x2F\xFD", "a zstd archive"),
    ];
    if head.is_empty() {
        return "empty";
    }
    if let Some((_, kind)) = ARCHIVES.iter().find(|(magic, _)| head.starts_with(magic)) {
        return kind;
    }
    if looks_like_text(head) {
        "text"
    } else {
        "no image signature"
    }
}

/// Whether the first bytes of a file look like text (printable ASCII, whitespace, UTF-8).
pub fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(512)];
    head.iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace() || b >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_images_are_told_apart() {
        assert_eq!(not_an_image(b"PK\x03\x04rest"), "a ZIP archive");
        assert_eq!(not_an_image(b"# notes\n"), "text");
        assert_eq!(not_an_image(&[0, 1, 2, 3]), "no image signature");
        assert_eq!(not_an_image(b""), "empty");
    }
}
