//! Where a HEIF image's pixels go: its size as coded (a grid's output size, or `ispe`), the
//! `clap` crop, and the `irot`/`imir` turns after it, read from its properties in the order
//! they are associated (the order HEIF applies them in).

use heifer::heifer_isobmff::boxes::Property;
use heifer::heifer_isobmff::{HeifFile, ItemId};
use image::DynamicImage;

/// A quarter turn or a mirror, as HEIF says them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// `irot`: this many quarter turns anticlockwise.
    Anticlockwise(u8),
    /// `imir`: `true` exchanges top and bottom, `false` left and right.
    Mirror(bool),
}

/// An image item's geometry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layout {
    /// The item's size before any transform.
    pub(super) coded: (u32, u32),
    /// The `clap` crop in coded pixels: left, top, width, height.
    pub(super) crop: Option<(u32, u32, u32, u32)>,
    turns: Vec<Turn>,
    /// A crop after a turn (no writer does this): only a whole decode places it right.
    pub(super) crop_after_turn: bool,
}

impl Layout {
    /// The geometry of item `id`; an error when its size cannot be known.
    pub(super) fn of(file: &HeifFile<'_>, id: ItemId) -> Result<Layout, heifer::Error> {
        let coded = match &file.item(id)?.item_type.0 {
            b"grid" => {
                let grid = file.grid(id)?;
                (grid.output_width, grid.output_height)
            }
            _ => file
                .image_size(id)?
                .ok_or(heifer::Error::Invalid("the image has no size (ispe)"))?,
        };
        let mut layout = Layout {
            coded,
            crop: None,
            turns: Vec::new(),
            crop_after_turn: false,
        };
        for property in file.item_properties(id)? {
            match *property {
                Property::CleanAperture {
                    width,
                    height,
                    horiz_offset,
                    vert_offset,
                } => {
                    layout.crop_after_turn |= !layout.turns.is_empty();
                    let size = layout.cropped_size();
                    layout.crop = Some(clean_aperture(
                        size,
                        width,
                        height,
                        horiz_offset,
                        vert_offset,
                    )?);
                }
                Property::Rotation(0) => {}
                Property::Rotation(q) => layout.turns.push(Turn::Anticlockwise(q % 4)),
                Property::Mirror(top_bottom) => layout.turns.push(Turn::Mirror(top_bottom)),
                _ => {}
            }
        }
        if coded.0 == 0
            || coded.1 == 0
            || layout.cropped_size().0 == 0
            || layout.cropped_size().1 == 0
        {
            return Err(heifer::Error::Invalid("the image's size is zero"));
        }
        Ok(layout)
    }

    /// The size once cropped, before the turns.
    pub(super) fn cropped_size(&self) -> (u32, u32) {
        self.crop.map_or(self.coded, |(_, _, w, h)| (w, h))
    }

    /// The size once cropped and turned: the picture as it is shown.
    pub(super) fn upright_size(&self) -> (u32, u32) {
        let (w, h) = self.cropped_size();
        let quarters: u8 = self
            .turns
            .iter()
            .map(|turn| match turn {
                Turn::Anticlockwise(q) => *q,
                Turn::Mirror(_) => 0,
            })
            .sum();
        if quarters % 2 == 1 { (h, w) } else { (w, h) }
    }

    /// `image` (the cropped picture, at any scale) turned as the item says.
    pub(super) fn turn(&self, mut image: DynamicImage) -> DynamicImage {
        for turn in &self.turns {
            image = match turn {
                Turn::Anticlockwise(1) => image.rotate270(),
                Turn::Anticlockwise(2) => image.rotate180(),
                Turn::Anticlockwise(3) => image.rotate90(),
                Turn::Anticlockwise(_) => image,
                Turn::Mirror(true) => image.flipv(),
                Turn::Mirror(false) => image.fliph(),
            };
        }
        image
    }
}

/// A `clap` crop of a `size` picture, centred as ISO/IEC 14496-12 says, clamped to it.
fn clean_aperture(
    size: (u32, u32),
    width: (u32, u32),
    height: (u32, u32),
    horizontal: (i32, u32),
    vertical: (i32, u32),
) -> Result<(u32, u32, u32, u32), heifer::Error> {
    if width.1 == 0 || height.1 == 0 || horizontal.1 == 0 || vertical.1 == 0 {
        return Err(heifer::Error::Invalid("clap with a zero denominator"));
    }
    let fraction = |(n, d): (u32, u32)| f64::from(n) / f64::from(d);
    let offset = |(n, d): (i32, u32)| f64::from(n) / f64::from(d);
    let (cw, ch) = (fraction(width), fraction(height));
    let cx = offset(horizontal) + (f64::from(size.0) - 1.0) / 2.0;
    let cy = offset(vertical) + (f64::from(size.1) - 1.0) / 2.0;
    let left = ((cx - (cw - 1.0) / 2.0).round().max(0.0) as u32).min(size.0);
    let top = ((cy - (ch - 1.0) / 2.0).round().max(0.0) as u32).min(size.1);
    let w = (cw.round() as u32).min(size.0 - left);
    let h = (ch.round() as u32).min(size.1 - top);
    Ok((left, top, w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_centred_clap_crops_evenly_and_is_clamped_to_the_picture() {
        // 100x80 cropped to 90x70 about the centre.
        assert_eq!(
            clean_aperture((100, 80), (90, 1), (70, 1), (0, 1), (0, 1)).unwrap(),
            (5, 5, 90, 70)
        );
        // A crop larger than the picture keeps the picture.
        assert_eq!(
            clean_aperture((10, 10), (30, 1), (30, 1), (0, 1), (0, 1)).unwrap(),
            (0, 0, 10, 10)
        );
        assert!(clean_aperture((10, 10), (3, 0), (3, 1), (0, 1), (0, 1)).is_err());
    }

    #[test]
    fn turns_swap_the_sides_once_per_odd_quarter() {
        let layout = Layout {
            coded: (40, 30),
            crop: Some((0, 0, 40, 20)),
            turns: vec![Turn::Anticlockwise(3), Turn::Mirror(false)],
            crop_after_turn: false,
        };
        assert_eq!(layout.cropped_size(), (40, 20));
        assert_eq!(layout.upright_size(), (20, 40));
        let turned = layout.turn(DynamicImage::new_luma8(40, 20));
        assert_eq!((turned.width(), turned.height()), (20, 40));
    }
}
