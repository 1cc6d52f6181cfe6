//! What every decoder hands back, and the checks they share: the pixel limit and the
//! upright size.

use image::DynamicImage;
use image::metadata::Orientation;

use crate::failure::{ErrorKind, Failure};

/// A decoded image, 8 bits a sample, with its EXIF orientation already applied: gray or
/// gray with alpha (a gray thumbnail, or a gray picture), or RGB or RGBA (a colour picture
/// decoded in colour).
#[derive(Debug)]
pub struct Decoded {
    /// The pixels: gray, gray with alpha, RGB or RGBA.
    pub image: DynamicImage,
    /// The ICC profile the pixels are in, when it is not sRGB (they are brought to sRGB
    /// once resized); `None`: they are sRGB already.
    pub icc: Option<Vec<u8>>,
    /// Width and height as stored in the file, before orientation.
    pub stored_size: (u32, u32),
    /// Width and height of the whole image, upright. `image` may be smaller: a decoder
    /// that can shrink while decoding does so as far as `spec` allows.
    pub full_size: (u32, u32),
    /// Whether the pixels are the picture's own or a smaller rendering the file carries.
    pub from: DecodedFrom,
    /// The picture's EXIF, XMP and IPTC, as its container holds them, when the settings
    /// keep metadata (else empty).
    pub metadata: crate::image::metadata::Metadata,
}

/// Where a decoded image's pixels came from: the picture itself, or a rendering of it
/// stored in the file (the record says so, so a preview is never passed off as the
/// picture).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecodedFrom {
    /// The picture's own data.
    #[default]
    Picture,
    /// The thumbnail a HEIF file stores for its primary image.
    EmbeddedThumbnail,
    /// The JPEG preview a camera RAW file carries (the camera's own rendering).
    EmbeddedPreview,
}

impl Decoded {
    /// An image of a picture stored `stored_size` large, decoded already shrunk (or not),
    /// turned upright by `orientation` here.
    pub(super) fn turned(
        mut image: DynamicImage,
        orientation: Orientation,
        stored_size: (u32, u32),
    ) -> Decoded {
        image.apply_orientation(orientation);
        Decoded {
            image,
            icc: None,
            stored_size,
            full_size: upright(stored_size, orientation),
            from: DecodedFrom::Picture,
            metadata: Default::default(),
        }
    }

    /// An image decoded at full size, now upright.
    pub(super) fn whole(image: DynamicImage, stored_size: (u32, u32)) -> Decoded {
        Decoded {
            full_size: (image.width(), image.height()),
            image,
            icc: None,
            stored_size,
            from: DecodedFrom::Picture,
            metadata: Default::default(),
        }
    }

    /// This image, its pixels in the colour space `icc` describes: kept only when the
    /// pixels are in colour (or gray that a gray profile describes) and the profile is
    /// not sRGB's, so that sRGB pictures are never touched.
    pub(super) fn in_profile(self, icc: Option<Vec<u8>>) -> Decoded {
        let icc = icc.filter(|icc| crate::image::pixels::profile::needs_managing(icc));
        Decoded { icc, ..self }
    }

    /// This image, its pixels having come `from` there.
    pub(super) fn from(self, from: DecodedFrom) -> Decoded {
        Decoded { from, ..self }
    }
}

/// Refuses a `width` x `height` image when it has more than `max_pixels` (0: no limit).
pub(super) fn check_pixels(width: u64, height: u64, max_pixels: u64) -> Result<(), Failure> {
    let pixels = width * height;
    if max_pixels != 0 && pixels > max_pixels {
        return Err(Failure::new(
            ErrorKind::TooManyPixels,
            format!(
                "image is {width}x{height}, {} MP, over the {} MP limit (--max-pixels)",
                megapixels(pixels),
                megapixels(max_pixels)
            ),
        ));
    }
    Ok(())
}

fn megapixels(pixels: u64) -> String {
    let mp = pixels as f64 / 1e6;
    if mp >= 10.0 {
        format!("{mp:.0}")
    } else {
        format!("{mp:.1}")
    }
}

/// The size of an image of `size` pixels as stored, once turned upright.
pub(super) fn upright(size: (u32, u32), orientation: Orientation) -> (u32, u32) {
    match orientation {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => (size.1, size.0),
        _ => size,
    }
}

/// The EXIF orientation a decoder reports, also when the EXIF block starts with the
/// `Exif\0\0` header that JPEG's APP1 uses (some WebP and PNG writers keep it, and the
/// `image` crate then finds no orientation).
pub(crate) fn orientation_of(
    decoder: &mut impl image::ImageDecoder,
) -> image::metadata::Orientation {
    if let Ok(orientation) = decoder.orientation()
        && orientation != image::metadata::Orientation::NoTransforms
    {
        return orientation;
    }
    decoder
        .exif_metadata()
        .ok()
        .flatten()
        .and_then(|exif| {
            let tiff = exif.strip_prefix(b"Exif\0\0".as_slice()).unwrap_or(&exif);
            image::metadata::Orientation::from_exif_chunk(tiff)
        })
        .unwrap_or(image::metadata::Orientation::NoTransforms)
}
