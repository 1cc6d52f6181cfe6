//! The transformative properties of an AVIF (HEIF) primary item, which `avif-parse` does
//! not read: the clean aperture crop (`clap`), rotation (`irot`) and mirroring (`imir`).
//! AVIF carries its orientation here, not in EXIF. Read by hand: a walk over `meta` for
//! `pitm`, `ipco` and `ipma`, the few fields the HEIF standard (ISO/IEC 23008-12) gives.

use image::DynamicImage;

/// One transformative property of the primary item, in the order `ipma` lists them, which
/// is the order they are applied in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transform {
    /// Keep the `width` x `height` rectangle whose top left corner is at (`left`, `top`).
    Crop {
        left: u32,
        top: u32,
        width: u32,
        height: u32,
    },
    /// Rotate anti-clockwise by this many quarter turns (1 to 3).
    Rotate(u8),
    /// Mirror: `true` exchanges left and right, `false` top and bottom (`imir` axis 1 and 0,
    /// as the 2022 edition of the standard words them).
    Mirror { left_right: bool },
}

/// The transforms of the primary item of the AVIF `file` (`width` x `height` as coded),
/// in order. A clean aperture that is not whole pixels inside the picture is ignored, as
/// are properties that cannot be read: they never stop the picture from converting.
pub(crate) fn primary_transforms(file: &[u8], width: u32, height: u32) -> Vec<Transform> {
    let mut size = (width, height);
    let mut transforms = Vec::new();
    for (kind, body) in primary_properties(file) {
        let transform = match kind {
            b"clap" => clean_aperture(body, size),
            b"irot" => body
                .first()
                .map(|a| a & 3)
                .filter(|&a| a != 0)
                .map(Transform::Rotate),
            b"imir" => body.first().map(|a| Transform::Mirror {
                left_right: a & 1 == 1,
            }),
            _ => None,
        };
        if let Some(transform) = transform {
            size = match transform {
                Transform::Crop { width, height, .. } => (width, height),
                Transform::Rotate(1 | 3) => (size.1, size.0),
                _ => size,
            };
            transforms.push(transform);
        }
    }
    transforms
}

/// The ICC profile of the primary item of the AVIF `file` (a `colr` property of type
/// `prof` or `rICC`), if it has one.
pub(crate) fn primary_icc(file: &[u8]) -> Option<Vec<u8>> {
    primary_properties(file)
        .into_iter()
        .filter(|(kind, _)| *kind == b"colr")
        .find_map(|(_, body)| match body.split_at_checked(4)? {
            (b"prof" | b"rICC", profile) => Some(profile.to_vec()),
            _ => None,
        })
}

/// The properties of the primary item of `file` (type and body), in the order `ipma`
/// lists them; none when the boxes cannot be read.
fn primary_properties(file: &[u8]) -> Vec<(&[u8; 4], &[u8])> {
    let Some(meta) = child(file, b"meta").map(|meta| meta.get(4..).unwrap_or_default()) else {
        return Vec::new();
    };
    let (Some(primary), Some(iprp)) = (
        child(meta, b"pitm").and_then(primary_id),
        child(meta, b"iprp"),
    ) else {
        return Vec::new();
    };
    let (Some(ipco), Some(ipma)) = (child(iprp, b"ipco"), child(iprp, b"ipma")) else {
        return Vec::new();
    };
    let properties: Vec<(&[u8; 4], &[u8])> = boxes(ipco).collect();
    associations(ipma, primary)
        .into_iter()
        .filter_map(|index| properties.get(index.checked_sub(1)?).copied())
        .collect()
}

/// The orientation an XMP packet in `file` gives (`tiff:Orientation`, as attribute or
/// element), for files that carry it there instead of in `irot`/`imir` (Pillow reads it so).
/// XMP packets are made to be found by scanning bytes (the XMP standard, part 3).
pub(crate) fn xmp_orientation(file: &[u8]) -> Option<image::metadata::Orientation> {
    let start = find(file, b"<?xpacket begin")?;
    let length = find(&file[start..], b"<?xpacket end")?;
    let packet = &file[start..start + length];
    let at = find(packet, b"tiff:Orientation")? + b"tiff:Orientation".len();
    let value = packet[at..]
        .iter()
        .find(|b| !matches!(b, b'=' | b'"' | b'\'' | b'>' | b' '))?;
    image::metadata::Orientation::from_exif(value.checked_sub(b'0')?)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `image` with `transforms` applied in order.
pub(crate) fn apply(mut image: DynamicImage, transforms: &[Transform]) -> DynamicImage {
    for transform in transforms {
        image = match *transform {
            Transform::Crop {
                left,
                top,
                width,
                height,
            } => image.crop_imm(left, top, width, height),
            // The `image` crate turns clockwise.
            Transform::Rotate(1) => image.rotate270(),
            Transform::Rotate(2) => image.rotate180(),
            Transform::Rotate(_) => image.rotate90(),
            Transform::Mirror { left_right: true } => image.fliph(),
            Transform::Mirror { left_right: false } => image.flipv(),
        };
    }
    image
}

/// The crop a `clap` box asks of a picture of `size`: its centre is offset from the
/// picture's by the (signed, fractional) offsets the box gives. `None` unless every edge
/// falls on a whole pixel inside the picture.
fn clean_aperture(body: &[u8], size: (u32, u32)) -> Option<Transform> {
    let word = |i: usize| {
        Some(u32::from_be_bytes(
            body.get(i * 4..i * 4 + 4)?.try_into().ok()?,
        ))
    };
    // In 128 bits: products of 32-bit numerators and denominators cannot overflow.
    let ratio = |n: usize| -> Option<(i128, i128)> {
        let (numerator, denominator) = (word(n)?, word(n + 1)?);
        (denominator != 0).then_some((i128::from(numerator), i128::from(denominator)))
    };
    // Width and height are unsigned; the offsets signed.
    let (clean_w, clean_h) = (ratio(0)?, ratio(2)?);
    let signed = |(n, d): (i128, i128)| (i128::from(n as u32 as i32), d);
    let (offset_x, offset_y) = (signed(ratio(4)?), signed(ratio(6)?));
    // left = offset + (size - clean) / 2, kept exact by a common denominator.
    let edge = |offset: (i128, i128), clean: (i128, i128), full: u32| -> Option<(u32, u32)> {
        let denominator = 2 * offset.1 * clean.1;
        let left2 = 2 * offset.0 * clean.1 + (i128::from(full) * clean.1 - clean.0) * offset.1;
        let (left, extent) = (exact(left2, denominator)?, exact(clean.0, clean.1)?);
        (left >= 0 && extent > 0 && left + extent <= i128::from(full))
            .then_some((left as u32, extent as u32))
    };
    let (left, width) = edge(offset_x, clean_w, size.0)?;
    let (top, height) = edge(offset_y, clean_h, size.1)?;
    Some(Transform::Crop {
        left,
        top,
        width,
        height,
    })
}

fn exact(numerator: i128, denominator: i128) -> Option<i128> {
    (denominator != 0 && numerator % denominator == 0).then(|| numerator / denominator)
}

/// The item id a `pitm` box names (version 0: 16 bits, else 32).
fn primary_id(pitm: &[u8]) -> Option<u32> {
    match pitm.first()? {
        0 => Some(u32::from(u16::from_be_bytes(
            pitm.get(4..6)?.try_into().ok()?,
        ))),
        _ => Some(u32::from_be_bytes(pitm.get(4..8)?.try_into().ok()?)),
    }
}

/// The 1-based property indices `ipma` associates with `item`, in order (0: none).
fn associations(ipma: &[u8], item: u32) -> Vec<usize> {
    let read = || -> Option<Vec<usize>> {
        let (version, flags) = (*ipma.first()?, *ipma.get(3)?);
        let mut at = 4;
        let take = |at: &mut usize, n: usize| -> Option<u32> {
            let bytes = ipma.get(*at..*at + n)?;
            *at += n;
            Some(bytes.iter().fold(0u32, |v, &b| v << 8 | u32::from(b)))
        };
        let entries = take(&mut at, 4)?;
        for _ in 0..entries {
            let id = take(&mut at, if version < 1 { 2 } else { 4 })?;
            let count = take(&mut at, 1)?;
            let mut indices = Vec::new();
            for _ in 0..count {
                let index = if flags & 1 == 1 {
                    take(&mut at, 2)? & 0x7fff
                } else {
                    take(&mut at, 1)? & 0x7f
                };
                indices.push(index as usize);
            }
            if id == item {
                return Some(indices);
            }
        }
        None
    };
    read().unwrap_or_default()
}

/// The body of the first box of `kind` among the boxes that fill `bytes`.
fn child<'a>(bytes: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(bytes).find(|(k, _)| *k == kind).map(|(_, body)| body)
}

/// The boxes that fill `bytes`, as (type, body); stops at the first that does not fit.
fn boxes(bytes: &[u8]) -> impl Iterator<Item = (&[u8; 4], &[u8])> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let size = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let kind: &[u8; 4] = rest.get(4..8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, rest.len()),
            1 => (
                16,
                usize::try_from(u64::from_be_bytes(rest.get(8..16)?.try_into().ok()?)).ok()?,
            ),
            _ => (8, size),
        };
        if size < header || size > rest.len() {
            return None;
        }
        let body = &rest[header..size];
        rest = &rest[size..];
        Some((kind, body))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A box of `kind` around `body`.
    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend(kind);
        out.extend(body);
        out
    }

    /// A file of one `meta` box: item 1 primary; properties irot (1 turn), ispe, imir (axis
    /// 1); `items` lists each item's associated property indices.
    fn meta_with(items: &[(u16, &[u8])]) -> Vec<u8> {
        let pitm = boxed(b"pitm", &[0, 0, 0, 0, 0, 1]);
        let mut ispe = vec![0; 4];
        ispe.extend(100u32.to_be_bytes());
        ispe.extend(80u32.to_be_bytes());
        let ipco = [
            boxed(b"irot", &[1]),
            boxed(b"ispe", &ispe),
            boxed(b"imir", &[1]),
        ]
        .concat();
        let mut ipma = vec![0, 0, 0, 0];
        ipma.extend((items.len() as u32).to_be_bytes());
        for (id, indices) in items {
            ipma.extend(id.to_be_bytes());
            ipma.push(indices.len() as u8);
            ipma.extend(indices.iter().map(|i| 0x80 | i));
        }
        let iprp = boxed(
            b"iprp",
            &[boxed(b"ipco", &ipco), boxed(b"ipma", &ipma)].concat(),
        );
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(pitm);
        meta.extend(iprp);
        [boxed(b"ftyp", b"avif\0\0\0\0avif"), boxed(b"meta", &meta)].concat()
    }

    #[test]
    fn a_clean_aperture_centred_or_offset_crops_whole_pixels_only() {
        let clap = |values: [u32; 8]| {
            values
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect::<Vec<u8>>()
        };
        // 60x40 out of 100x80, centred.
        assert_eq!(
            clean_aperture(&clap([60, 1, 40, 1, 0, 1, 0, 1]), (100, 80)),
            Some(Transform::Crop {
                left: 20,
                top: 20,
                width: 60,
                height: 40
            })
        );
        // Moved 10 left and 5 down from the centre (a negative offset as two's complement).
        assert_eq!(
            clean_aperture(&clap([60, 1, 40, 1, (-10i32) as u32, 1, 10, 2]), (100, 80)),
            Some(Transform::Crop {
                left: 10,
                top: 25,
                width: 60,
                height: 40
            })
        );
        // Half a pixel off, outside the picture, or a zero denominator: no crop.
        assert_eq!(
            clean_aperture(&clap([61, 1, 40, 1, 0, 1, 0, 1]), (100, 80)),
            None
        );
        assert_eq!(
            clean_aperture(&clap([60, 1, 40, 1, 30, 1, 0, 1]), (100, 80)),
            None
        );
        assert_eq!(
            clean_aperture(&clap([60, 0, 40, 1, 0, 1, 0, 1]), (100, 80)),
            None
        );
    }

    #[test]
    fn the_primary_items_properties_are_applied_in_the_order_ipma_lists_them() {
        let meta = meta_with(&[(1, &[3, 1]), (2, &[2])]);
        let transforms = primary_transforms(&meta, 100, 80);
        // Item 1 is primary: its properties 3 (imir axis 1) then 1 (irot 1).
        assert_eq!(
            transforms,
            vec![Transform::Mirror { left_right: true }, Transform::Rotate(1)]
        );
        let image = DynamicImage::ImageLuma8(image::GrayImage::from_fn(3, 2, |x, y| {
            image::Luma([(y * 3 + x) as u8])
        }));
        // Mirrored left-right: [2 1 0 / 5 4 3]; then a quarter turn anti-clockwise.
        let turned = apply(image, &transforms).to_luma8();
        assert_eq!(turned.dimensions(), (2, 3));
        assert_eq!(turned.as_raw(), &[0, 3, 1, 4, 2, 5]);
    }
}
