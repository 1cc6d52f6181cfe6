//! Which files are images: by extension, or else by their first bytes; and the broken
//! links the walk meets.

use std::io::Read;
use std::path::Path;

use crate::image::unsupported;

/// File extensions taken as images without looking inside (lower case).
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "apng", "gif", "webp", "bmp", "dib", "tif", "tiff", "pbm",
    "pgm", "ppm", "pnm", "pam", "tga", "ico", "cur", "qoi", "dds", "hdr", "exr", "ff", "jxl",
    "pfm", "jp2", "j2k", "j2c", "jpf", "jpx", "avif",
];

/// Whether `path` is a symbolic link whose target does not exist.
pub(super) fn is_link_to_nothing(path: &Path) -> bool {
    path.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
        && !path.exists()
}

/// The input's format family, as far as choosing the output format goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum InputKind {
    Jpeg,
    Png,
    Webp,
    Other,
}

/// Decides whether `path` is an image: by its extension, or else by its first bytes.
/// `Err` says why it is not an image (for an explicitly named file, `force` plans it anyway
/// so the user hears why it failed).
pub(super) fn input_kind(path: &Path, force: bool) -> Result<InputKind, &'static str> {
    if let Some(kind) = kind_by_extension(path) {
        return Ok(kind);
    }
    let head = read_head(path).unwrap_or_default();
    kind_by_content(&head, force).ok_or_else(|| unsupported::not_an_image(&head))
}

/// Decides whether bytes starting with `head` are an image, by their signature; `force`
/// as for [`input_kind`].
pub(super) fn kind_by_content(head: &[u8], force: bool) -> Option<InputKind> {
    if crate::image::decode::is_beyond_image_crate(head) {
        return Some(InputKind::Other);
    }
    let sniffed =
        crate::image::decode::guess_format(head).filter(|&f| crate::image::decode::reads(f));
    match sniffed {
        Some(image::ImageFormat::Jpeg) => Some(InputKind::Jpeg),
        Some(image::ImageFormat::Png) => Some(InputKind::Png),
        Some(image::ImageFormat::WebP) => Some(InputKind::Webp),
        Some(_) => Some(InputKind::Other),
        // A format imgpar names but does not read: planned, so it fails by name.
        None if force || unsupported::format_of_content(head).is_some() => Some(InputKind::Other),
        None => None,
    }
}

/// The input's format family going by its extension alone; `None` for names that do not
/// say they are images.
pub(super) fn kind_by_extension(path: &Path) -> Option<InputKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if !IMAGE_EXTENSIONS.contains(&ext.as_str()) && !unsupported::is_named_extension(&ext) {
        return None;
    }
    Some(match ext.as_str() {
        "jpg" | "jpeg" | "jpe" | "jfif" => InputKind::Jpeg,
        "png" => InputKind::Png,
        "webp" => InputKind::Webp,
        _ => InputKind::Other,
    })
}

/// The first 32 bytes of the file at `path` (fewer if it is shorter).
fn read_head(path: &Path) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(32);
    std::fs::File::open(path)
        .ok()?
        .take(32)
        .read_to_end(&mut head)
        .ok()?;
    Some(head)
}
