//! The thumbnail a HEIF file carries for its primary image (iPhones store a 320 px one):
//! used in place of the picture when it is at least as large as the output on both sides
//! and shows the same picture (the same aspect ratio once turned), as libvips does. The
//! record says so. `--no-embedded-thumbnails` decodes the full picture always.

use heifer::heifer_isobmff::{HeifFile, ItemId};

use super::layout::Layout;
use crate::config::Conversion;
use crate::image::decoded::{Decoded, DecodedFrom};
use crate::image::pixels::color::Tone;
use crate::image::pixels::resize::geometry;

/// The smallest thumbnail of item `picture` (laid out as `primary`) that is large enough
/// for `spec`'s output, decoded, or `None` (none is, none decodes, or it is not the same
/// picture).
pub(super) fn decode(
    file: &HeifFile<'_>,
    picture: ItemId,
    primary: &Layout,
    spec: &Conversion,
    tone: Tone,
) -> Option<Decoded> {
    if primary.crop_after_turn {
        return None;
    }
    let full = primary.upright_size();
    let output = geometry(full, spec);
    let used = output
        .crop
        .map_or((f64::from(full.0), f64::from(full.1)), |(_, _, w, h)| {
            (w, h)
        });
    let scale = (f64::from(output.width) / used.0).max(f64::from(output.height) / used.1);
    // A thumbnail of the picture's shape stands for it at `width / full.0` pixels a
    // picture pixel: enough when that is at least the output's scale.
    let large_enough = |size: (u32, u32)| f64::from(size.0) >= f64::from(full.0) * scale - 0.5;
    let mut candidates: Vec<(u64, Layout, ItemId)> = file
        .referencing_items(picture, b"thmb")
        .into_iter()
        .filter_map(|id| {
            let layout = Layout::of(file, id).ok()?;
            let size = layout.upright_size();
            let same_shape = (f64::from(size.0) / f64::from(size.1)
                - f64::from(full.0) / f64::from(full.1))
            .abs()
                * f64::from(size.1)
                <= 1.0;
            (same_shape && !layout.crop_after_turn && large_enough(size))
                .then(|| (u64::from(size.0) * u64::from(size.1), layout, id))
        })
        .collect();
    candidates.sort_by_key(|(pixels, _, _)| *pixels);
    let (_, layout, id) = candidates.into_iter().next()?;
    let thumbnail = heifer::decode_item(file, id, 0).ok()?;
    let size = (thumbnail.width, thumbnail.height);
    if size != layout.upright_size() {
        return None;
    }
    let pixels = super::pixels_of(size, thumbnail.to_rgba8(), thumbnail.has_alpha, tone)?;
    // The thumbnail stands for the whole picture: the resize scales it to the output. Its
    // own profile describes it, else the picture's.
    let icc = super::icc_of(file, id).or_else(|| super::icc_of(file, picture));
    let mut decoded = Decoded::whole(pixels, size)
        .from(DecodedFrom::EmbeddedThumbnail)
        .in_profile(icc);
    decoded.full_size = full;
    Some(decoded)
}
