//! The one pipeline every image goes through, whichever mode runs it and whether it comes
//! from a batch or from the library's [`crate::thumbnail`] / [`crate::thumbnail_file`]:
//! decode (to gray or colour, shrunk where the decoder can), resize to the output
//! geometry, bring to sRGB (a picture with an ICC profile), encode.
//! Getting the input and putting the output are the job's (see [`crate::job`]).

use std::borrow::Cow;
use std::time::Instant;

use image::DynamicImage;

use crate::config::{Conversion, OutputFormat};
use crate::failure::{ErrorKind, Failure};
use crate::image::metadata::Metadata;
use crate::image::pixels::profile;
use crate::image::{decode, encode, resize};
use crate::outcome::{JobEnding, lap};

/// An input's content: bytes in hand (the library caller's, borrowed; a download's or an
/// object's, owned), or a file opened to be read as it decodes (so a large JPEG or PNG is
/// never held whole in memory).
pub enum Content<'a> {
    /// The whole input, in memory.
    Bytes(Cow<'a, [u8]>),
    /// An open file of `len` bytes, not yet read.
    File {
        /// The file, at its start.
        file: std::fs::File,
        /// Its length in bytes.
        len: u64,
    },
}

/// Converts one image's content: decodes it (its name's extension `hint`, if any, names
/// formats that carry no signature or that imgpar refuses by name), resizes it as `spec`
/// says and encodes it as `format`; records sizes, bytes in and stage times in `outcome` as it goes. A decode
/// failure is the input's; a resize or encode failure is internal.
pub(crate) fn convert(
    content: Content<'_>,
    hint: Option<&str>,
    spec: &Conversion,
    format: OutputFormat,
    outcome: &mut JobEnding,
) -> Result<Vec<u8>, Failure> {
    let (resized, metadata) = prepared(content, hint, spec, outcome)?;
    let clock = Instant::now();
    let metadata = metadata.for_output();
    let encoded = encode::encode_with(&resized, format, spec, &metadata).map_err(internal)?;
    outcome.times.encode_ms = lap(clock);
    Ok(encoded)
}

/// The first two stages of [`convert`]: the thumbnail's pixels (gray or colour, with alpha
/// where it has some), in sRGB, exactly those it encodes.
pub(crate) fn resized(
    content: Content<'_>,
    hint: Option<&str>,
    spec: &Conversion,
    outcome: &mut JobEnding,
) -> Result<DynamicImage, Failure> {
    Ok(prepared(content, hint, spec, outcome)?.0)
}

/// [`resized`], with the picture's metadata when `spec` keeps it.
fn prepared(
    content: Content<'_>,
    hint: Option<&str>,
    spec: &Conversion,
    outcome: &mut JobEnding,
) -> Result<(DynamicImage, Metadata), Failure> {
    let clock = Instant::now();
    let decoded = match content {
        Content::Bytes(bytes) => {
            outcome.bytes_in = bytes.len() as u64;
            decode::decode_hinted(&bytes, spec, hint)
        }
        Content::File { file, len } => {
            outcome.bytes_in = len;
            decode::decode_file(file, spec, hint)
        }
    }?;
    outcome.size_in = Some(decoded.stored_size);
    outcome.decoded_from = decoded.from;
    outcome.times.decode_ms = lap(clock);

    let clock = Instant::now();
    // The limit bounds what is made, too: `--upscale` to a huge box must not allocate it.
    let planned = resize::geometry(decoded.full_size, spec);
    let pixels = u64::from(planned.width) * u64::from(planned.height);
    if spec.max_pixels != 0 && pixels > spec.max_pixels {
        return Err(Failure::new(
            ErrorKind::TooManyPixels,
            format!(
                "the output would be {}x{} ({:.1} MP), over the limit of {:.1} MP \
                 (--max-pixels)",
                planned.width,
                planned.height,
                pixels as f64 / 1e6,
                spec.max_pixels as f64 / 1e6
            ),
        ));
    }
    let image = in_srgb(decoded.image, decoded.icc.as_deref(), spec);
    let resized = resize::resize(image, decoded.full_size, spec).map_err(internal)?;
    outcome.size_out = Some((resized.width(), resized.height()));
    outcome.times.resize_ms = lap(clock);
    Ok((resized, decoded.metadata))
}

/// Decoded pixels in sRGB, in the tone `spec` asks for: brought from the profile `icc`
/// describes them in (on the decoder's shrunk pixels, before the final filter, as a
/// managed full decode would be), then turned gray when gray was asked for and the profile
/// alone made them colour.
fn in_srgb(image: DynamicImage, icc: Option<&[u8]>, spec: &Conversion) -> DynamicImage {
    let managed = match icc {
        Some(icc) => profile::to_srgb(image, icc),
        None => image,
    };
    match managed {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) if !spec.color => {
            crate::image::pixels::gray::to_gray(managed)
        }
        managed => managed,
    }
}

fn internal(message: String) -> Failure {
    Failure::new(ErrorKind::Internal, message)
}
