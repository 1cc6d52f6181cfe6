//! A grid image decoded a tile at a time: each tile's rows go to gray and into a box
//! average of the whole picture, so what is held is one tile and the shrunk picture, never
//! the full one (a 200 MP phone photo is 768 tiles of 512x512). The tiles' pixels are
//! `heifer`'s own (its colour conversion and 10/12-bit rounding), so the result is the
//! whole decode's, averaged.

use heifer::heifer_isobmff::boxes::Property;
use heifer::heifer_isobmff::{HeifFile, ItemId};

use super::layout::Layout;
use crate::config::Conversion;
use crate::image::decoded::Decoded;
use crate::image::pixels::color::Tone;
use crate::image::pixels::gray::luma601;
use crate::image::pixels::resize::reduction_allowed;
use crate::image::pixels::shrink::BoxShrink;

/// Item `id` of `file`, a grid, decoded tile by tile, or `None` when it is not a grid this
/// reads (a coded image, an overlay; a grid with an alpha plane or with tiles that carry
/// transforms of their own): the caller decodes those whole.
pub(super) fn decode(
    file: &HeifFile<'_>,
    id: ItemId,
    layout: &Layout,
    spec: &Conversion,
    tone: Tone,
) -> Result<Option<Decoded>, heifer::Error> {
    if file.item(id)?.item_type.0 != *b"grid" || layout.crop_after_turn || has_alpha(file, id)? {
        return Ok(None);
    }
    let grid = file.grid(id)?;
    let tiles = file.referenced_items(id, b"dimg");
    if tiles.len() != usize::from(grid.rows) * usize::from(grid.columns) {
        return Err(heifer::Error::Invalid(
            "grid tile count does not match its rows and columns",
        ));
    }
    for &tile in tiles {
        if !is_plain(file, tile)? {
            return Ok(None);
        }
    }
    let (left, top, width, height) = layout
        .crop
        .unwrap_or((0, 0, layout.coded.0, layout.coded.1));
    let factor = reduction_allowed(layout.upright_size(), spec);
    let channels = match tone {
        Tone::Gray => 1,
        Tone::Color => 3,
    };
    let mut shrink = BoxShrink::new((width, height), factor, channels, false);
    let mut gray = Vec::new();
    let mut tile_size = None;
    for (index, &tile) in tiles.iter().enumerate() {
        let column = index as u32 % u32::from(grid.columns);
        let row = index as u32 / u32::from(grid.columns);
        let picture = heifer::decode_item(file, tile, 1)?;
        // Every tile of a grid has one size; the grid places them by it.
        let (tw, th) = *tile_size.get_or_insert((picture.width, picture.height));
        if (picture.width, picture.height) != (tw, th) {
            return Err(heifer::Error::Invalid("grid tiles have different sizes"));
        }
        let (x0, y0) = (
            u64::from(column) * u64::from(tw),
            u64::from(row) * u64::from(th),
        );
        let levels = u32::from(picture.max_value());
        for (y, samples) in picture.data.chunks_exact(tw as usize * 4).enumerate() {
            let picture_y = y0 + y as u64;
            // The part of this tile row inside the crop, in picture columns.
            let from = x0.max(u64::from(left));
            let to = (x0 + u64::from(tw)).min(u64::from(left) + u64::from(width));
            if picture_y < u64::from(top)
                || picture_y >= u64::from(top) + u64::from(height)
                || from >= to
            {
                continue;
            }
            let pixels = &samples[(from - x0) as usize * 4..(to - x0) as usize * 4];
            let narrow = |v: u16| ((u32::from(v) * 255 + levels / 2) / levels) as u8;
            gray.clear();
            match tone {
                Tone::Gray => gray.extend(
                    pixels
                        .chunks_exact(4)
                        .map(|p| luma601(narrow(p[0]), narrow(p[1]), narrow(p[2]))),
                ),
                Tone::Color => gray.extend(
                    pixels
                        .chunks_exact(4)
                        .flat_map(|p| [narrow(p[0]), narrow(p[1]), narrow(p[2])]),
                ),
            }
            shrink.push(
                (picture_y - u64::from(top)) as u32,
                (from - u64::from(left)) as u32,
                1,
                &gray,
            );
        }
    }
    let image = layout.turn(shrink.finish());
    let mut decoded = Decoded::whole(image, (width, height));
    decoded.full_size = layout.upright_size();
    Ok(Some(decoded))
}

/// Whether item `id` has an alpha plane (an auxiliary image of the alpha type).
pub(super) fn has_alpha(file: &HeifFile<'_>, id: ItemId) -> Result<bool, heifer::Error> {
    for aux in file.referencing_items(id, b"auxl") {
        let alpha = file.item_properties(aux)?.any(|p| {
            matches!(p, Property::AuxiliaryType(t)
                if t == "urn:mpeg:hevc:2015:auxid:1"
                    || t == "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha")
        });
        if alpha {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether tile `id` is a coded picture used as it is: no transform and no plane of its own.
fn is_plain(file: &HeifFile<'_>, id: ItemId) -> Result<bool, heifer::Error> {
    if file.item(id)?.item_type.0 != *b"hvc1" || !file.referencing_items(id, b"auxl").is_empty() {
        return Ok(false);
    }
    Ok(!file.item_properties(id)?.any(|p| {
        matches!(
            p,
            Property::CleanAperture { .. } | Property::Rotation(_) | Property::Mirror(_)
        )
    }))
}
