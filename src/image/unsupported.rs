//! Files imgpar recognises but does not read: image formats it names when it refuses them
//! (by extension or by their first bytes), and the non-images a folder walk passes over,
//! with the reason it gives for each.

/// Image formats imgpar does not read, by file extension (lower case), with their names.
const NAMED: &[(&[&str], &str)] = &[
    (&["psd", "psb"], "Photoshop (PSD)"),
    (&["svg", "svgz"], "SVG (vector image)"),
    (&["heic", "heif", "hif"], "HEIC/HEIF"),
    (&["pdf"], "PDF"),
    (&["jpm"], "JPEG 2000 compound (JPM)"),
    (&["jxr", "wdp", "hdp"], "JPEG XR"),
    (&["pcx"], "PCX"),
    (&["sgi", "rgb", "rgba", "bw"], "SGI"),
    (&["xpm"], "XPM"),
    (&["xbm"], "XBM"),
    (&["icns"], "Apple icon (ICNS)"),
    (&["xcf"], "GIMP (XCF)"),
    (&["kra"], "Krita (KRA)"),
    (&["ora"], "OpenRaster (ORA)"),
];

/// Camera RAW extensions. Most RAW files are TIFF inside, so their bytes alone would pass
/// for a TIFF and give its small embedded preview: they are refused by name, unread.
const RAW: &[&str] = &[
    "3fr", "arw", "cr2", "cr3", "crw", "dcr", "dng", "erf", "iiq", "kdc", "mrw", "nef", "nrw",
    "orf", "pef", "raf", "raw", "rw2", "rwl", "sr2", "srf", "srw", "x3f",
];

/// Whether a file with extension `extension` (any case) is an image imgpar names but does
/// not read: a folder walk plans it, so that it fails with its format's name.
pub fn is_named_extension(extension: &str) -> bool {
    let extension = extension.to_ascii_lowercase();
    RAW.contains(&extension.as_str()) || format_of_extension(&extension).is_some()
}

/// The reason a camera RAW file is refused without reading it, from its extension.
pub fn raw_refusal(extension: &str) -> Option<String> {
    let extension = extension.to_ascii_lowercase();
    RAW.contains(&extension.as_str()).then(|| {
        format!(
            "camera RAW files ({}) are not supported: develop them to TIFF or JPEG first (with \
             darktable, RawTherapee or the camera maker's software)",
            extension.to_uppercase()
        )
    })
}

/// The name of the image format a file's extension says it holds, among those imgpar does
/// not read.
pub fn format_of_extension(extension: &str) -> Option<&'static str> {
    let extension = extension.to_ascii_lowercase();
    NAMED
        .iter()
        .find(|(extensions, _)| extensions.contains(&extension.as_str()))
        .map(|(_, name)| *name)
}

/// The name of the image format that `bytes` start like, among those imgpar does not read.
pub fn format_of_content(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(1024)];
    let brand = bytes.get(4..12);
    if head.starts_with(b"8BPS") {
        Some("Photoshop (PSD)")
    } else if head.starts_with(b"%PDF-") {
        Some("PDF")
    } else if matches!(
        brand,
        Some(b"ftypheic" | b"ftypheix" | b"ftyphevc" | b"ftypmif1" | b"ftypmsf1")
    ) {
        Some("HEIC/HEIF")
    } else if head.starts_with(b"II\xBC\x01") {
        Some("JPEG XR")
    } else if head.starts_with(b"icns") {
        Some("Apple icon (ICNS)")
    } else if head.starts_with(b"gimp xcf") {
        Some("GIMP (XCF)")
    } else if head.windows(4).any(|w| w == b"<svg") {
        Some("SVG (vector image)")
    } else {
        None
    }
}

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
    fn formats_are_named_by_extension_and_by_content() {
        assert_eq!(format_of_extension("JPM"), Some("JPEG 2000 compound (JPM)"));
        assert_eq!(format_of_extension("png"), None);
        assert_eq!(format_of_content(b"8BPS\0\x01"), Some("Photoshop (PSD)"));
        let mut heic = vec![0, 0, 0, 0x18];
        heic.extend(b"ftypheic\0\0\0\0mif1heic");
        assert_eq!(format_of_content(&heic), Some("HEIC/HEIF"));
        assert!(is_named_extension("NEF") && is_named_extension("pcx"));
        assert!(raw_refusal("Cr2").unwrap().contains("(CR2)"));
        assert_eq!(raw_refusal("tif"), None);
    }

    #[test]
    fn non_images_are_told_apart() {
        assert_eq!(not_an_image(b"PK\x03\x04rest"), "a ZIP archive");
        assert_eq!(not_an_image(b"# notes\n"), "text");
        assert_eq!(not_an_image(&[0, 1, 2, 3]), "no image signature");
        assert_eq!(not_an_image(b""), "empty");
    }
}
