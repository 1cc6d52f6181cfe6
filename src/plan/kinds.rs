//! Which files are images: by extension, or else by their first bytes (both from the
//! format table, [`crate::image::formats`]); and the broken links the walk meets.

use std::io::Read;
use std::path::Path;

use crate::config::OutputFormat;
use crate::image::formats::{self, Format, Sniffed};
use crate::image::unsupported;

/// Whether `path` is a symbolic link whose target does not exist.
pub(super) fn is_link_to_nothing(path: &Path) -> bool {
    path.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
        && !path.exists()
}

/// What the plan knows of an input's format: its entry in the format table, when its
/// name or first bytes say (`None` for a file named directly that says nothing: planned
/// all the same, so that the user hears why it fails).
#[derive(Debug, Clone, Copy)]
pub(super) struct InputKind(Option<&'static Format>);

impl InputKind {
    /// An input whose format nothing says.
    pub(super) const OTHER: InputKind = InputKind(None);

    /// What `--format same` writes for it.
    pub(super) fn same_writes(self) -> OutputFormat {
        self.0
            .map_or(OutputFormat::Png, |format| format.same_writes)
    }
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

/// Decides whether bytes starting with `head` are an image, by their signature (a format
/// imgpar reads, or one it names to refuse); `force` as for [`input_kind`].
pub(super) fn kind_by_content(head: &[u8], force: bool) -> Option<InputKind> {
    match formats::by_content(head) {
        Some(Sniffed::Known(format)) => Some(InputKind(Some(format))),
        Some(Sniffed::Unread(_)) | None => force.then_some(InputKind::OTHER),
    }
}

/// The input's format going by its extension alone; `None` for names that do not say
/// they are images.
pub(super) fn kind_by_extension(path: &Path) -> Option<InputKind> {
    let extension = path.extension()?.to_str()?;
    formats::by_extension(extension).map(|format| InputKind(Some(format)))
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
