//! HEIC/HEIF through `heifer` (pure Rust, no unsafe, no C: the container and an HEVC
//! decoder checked against the conformance streams). The primary image is read, never an
//! auxiliary one (depth, HDR gain map); its crop, rotation and mirroring (`clap`, `irot`,
//! `imir`) are applied once, here, and the EXIF orientation is ignored, as HEIF says.
//!
//! Phone photos are grids of independently coded tiles (a 200 MP photo is hundreds of
//! 512x512 tiles): those are decoded a tile at a time into a box average, so memory follows
//! the output, not the picture ([`tiles`]). A file whose thumbnail (the 320 px preview
//! iPhones store) is at least as large as the output is read from the thumbnail unless the
//! settings say not to ([`thumbnail`]), as libvips does. Anything else (a single coded
//! image, an overlay, a grid with alpha) is decoded whole at 8 bits.

mod layout;
mod thumbnail;
mod tiles;

use heifer::heifer_isobmff::{HeifFile, ItemId};

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::decoded::{Decoded, check_pixels};
use crate::image::pixels::color::Tone;
use layout::Layout;

/// Whether `head` starts like a HEIF file: an ISO base media file whose major brand is one
/// of HEIF's (AVIF files, `avif` among their brands, are recognised before this is asked).
pub(crate) fn is_heif(head: &[u8]) -> bool {
    matches!(
        head.get(4..12),
        Some(b"ftypheic" | b"ftypheix" | b"ftyphevc" | b"ftypheim" | b"ftypheis")
            | Some(b"ftypmif1" | b"ftypmsf1" | b"ftypmif2")
    )
}

/// Decodes the primary image of a HEIF file to upright gray or colour as `spec` and its ICC
/// profile say (see [`Tone::for_picture`]), with alpha where it has some, refusing more than
/// `spec.max_pixels` from the container's sizes before any pixel is decoded.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    let file = HeifFile::parse(bytes).map_err(|e| failure(heifer::Error::Container(e)))?;
    let picture = picture_item(&file);
    let layout = Layout::of(&file, picture).map_err(failure)?;
    let stored = layout.cropped_size();
    check_pixels(u64::from(stored.0), u64::from(stored.1), spec.max_pixels)?;
    let icc = icc_of(&file, picture);
    let tone = Tone::for_picture(spec, icc.as_deref());
    if spec.embedded_thumbnails
        && let Some(decoded) = thumbnail::decode(&file, picture, &layout, spec, tone)
    {
        return Ok(decoded);
    }
    if let Some(decoded) = tiles::decode(&file, picture, &layout, spec, tone).map_err(failure)? {
        return Ok(decoded.in_profile(icc));
    }
    Ok(whole(bytes, &file, picture, spec, tone)?.in_profile(icc))
}

/// The ICC profile item `id` carries (its `colr` property), if any.
fn icc_of(file: &HeifFile<'_>, id: ItemId) -> Option<Vec<u8>> {
    file.icc_profile(id).ok().flatten().map(<[u8]>::to_vec)
}

/// The item that is the picture: the primary item, unless the file declares that item a
/// thumbnail of another image (an inconsistent file; libheif shows the other image too):
/// then that image, which the thumbnail stands for.
fn picture_item(file: &HeifFile<'_>) -> ItemId {
    match file.referenced_items(file.primary_id, b"thmb") {
        [master, ..] if Layout::of(file, *master).is_ok() => *master,
        _ => file.primary_id,
    }
}

/// Item `picture` decoded whole at 8 bits, its transforms applied by `heifer`.
fn whole(
    bytes: &[u8],
    file: &HeifFile<'_>,
    picture: ItemId,
    spec: &Conversion,
    tone: Tone,
) -> Result<Decoded, Failure> {
    let options = heifer::Options {
        // imgpar runs an image per worker; a picture's tiles are not spread over threads.
        max_threads: 1,
        max_pixels: spec.max_pixels,
    };
    let (size, rgba, has_alpha) = if picture == file.primary_id {
        let decoded = heifer::decode_rgba8(bytes, &options).map_err(failure)?;
        (
            (decoded.width, decoded.height),
            decoded.data,
            decoded.has_alpha,
        )
    } else {
        let decoded = heifer::decode_item(file, picture, 0).map_err(failure)?;
        (
            (decoded.width, decoded.height),
            decoded.to_rgba8(),
            decoded.has_alpha,
        )
    };
    let pixels = pixels_of(size, rgba, has_alpha, tone)
        .ok_or_else(|| Failure::corrupt("HEIF: the decoded picture has the wrong size"))?;
    Ok(Decoded::whole(pixels, size))
}

/// `size` pixels of 8-bit RGBA in `tone`, alpha kept when `has_alpha`; `None` when the
/// samples do not fill the size.
fn pixels_of(
    size: (u32, u32),
    rgba: Vec<u8>,
    has_alpha: bool,
    tone: Tone,
) -> Option<image::DynamicImage> {
    let image = image::DynamicImage::ImageRgba8(image::RgbaImage::from_raw(size.0, size.1, rgba)?);
    Some(tone.of(match has_alpha {
        true => image,
        false => image::DynamicImage::ImageRgb8(image.into_rgb8()),
    }))
}

/// `heifer`'s error as the image's failure, in words a user can act on.
fn failure(error: heifer::Error) -> Failure {
    match error {
        heifer::Error::Unsupported(what) => Failure::new(
            ErrorKind::Unsupported,
            format!("HEIF file uses what imgpar cannot decode: {what}"),
        ),
        heifer::Error::Invalid(why) if why.contains("too large") => Failure::new(
            ErrorKind::TooManyPixels,
            format!("HEIF picture too large to decode within the --max-pixels limit: {why}"),
        ),
        other => Failure::corrupt(format!(
            "corrupt or truncated HEIF: {}",
            crate::image::wording::readable(&other.to_string())
        )),
    }
}
