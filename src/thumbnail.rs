//! One image as a library call: bytes (or a file) in, the encoded thumbnail out, exactly
//! as a batch would write it: the same [`crate::pipeline`] runs.

use crate::config::{OutputFormat, Spec};
use crate::error::Error;
use crate::failure::{ErrorKind, Failure};
use crate::job::Input;
use crate::outcome::JobEnding;
use crate::pipeline::{self, Content};
use image::DynamicImage;

/// An encoded thumbnail and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// The file's bytes, ready to be written.
    pub bytes: Vec<u8>,
    /// Its format.
    pub format: OutputFormat,
    /// Its width and height in pixels.
    pub size: (u32, u32),
    /// The width and height of the input as stored, before orientation.
    pub input_size: (u32, u32),
}

/// Converts one image (any format imgpar reads, as bytes) to gray, resizes it as `spec`
/// says and encodes it as `format`: the same bytes a batch writes for this image with
/// these settings. `spec.existing` and `spec.fetch` play no part. Never panics on bad
/// input: every problem is an [`Error::Image`] whose [`Failure`] says what kind of
/// problem it is and what is wrong.
///
/// ```
/// use imgpar::{Conversion, OutputFormat, Spec, thumbnail};
/// let png = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/images/red.png"))?;
/// let spec = Spec::converting(Conversion { width: Some(32), height: Some(32), ..Conversion::default() });
/// let small = thumbnail(&png, &spec, OutputFormat::Png)?;
/// assert!(small.size.0 <= 32 && small.size.1 <= 32);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn thumbnail(bytes: &[u8], spec: &Spec, format: OutputFormat) -> Result<Thumbnail, Error> {
    thumbnail_of(|| Ok((Content::Bytes(bytes.into()), None)), spec, format)
}

/// [`thumbnail`] of an image file, read as it decodes: a JPEG or PNG is never held whole
/// in memory (neither its bytes nor its full-size pixels), so a 400-megapixel scan needs
/// about the memory of its thumbnail. The same bytes a batch writes for this file: its
/// name's extension counts as it does in a batch (a `.tga` is read as TGA, a camera RAW
/// name is refused). A file that cannot be opened or read is an [`Error::Image`] of kind
/// [`ErrorKind::Read`].
pub fn thumbnail_file(
    path: &std::path::Path,
    spec: &Spec,
    format: OutputFormat,
) -> Result<Thumbnail, Error> {
    let input = Input::File(path.to_path_buf());
    let open = || Ok((input.obtain_blocking(spec).body?, input.extension()));
    thumbnail_of(open, spec, format)
}

/// A thumbnail's pixels before encoding: gray, gray and alpha, RGB or RGBA, interleaved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 1 (gray), 2 (gray, then alpha), 3 (red, green, blue: sRGB) or 4 (RGB, then alpha),
    /// per pixel.
    pub channels: u8,
    /// The rows top to bottom, each `width * channels` bytes.
    pub data: Vec<u8>,
}

/// The pixels [`thumbnail`] encodes for these bytes and settings: decoding its PNG gives
/// exactly these (alpha is kept where the input has it). Same errors as [`thumbnail`].
pub fn thumbnail_pixels(bytes: &[u8], spec: &Spec) -> Result<Pixels, Error> {
    guarded(|| {
        let mut outcome = JobEnding::default();
        let image = pipeline::resized(Content::Bytes(bytes.into()), None, spec, &mut outcome)?;
        let channels = match &image {
            DynamicImage::ImageLuma8(_) => 1,
            DynamicImage::ImageLumaA8(_) => 2,
            DynamicImage::ImageRgb8(_) => 3,
            DynamicImage::ImageRgba8(_) => 4,
            other => {
                return Err(Failure::new(
                    ErrorKind::Internal,
                    format!("the pipeline gave {:?} pixels", other.color()),
                ));
            }
        };
        Ok(Pixels {
            width: image.width(),
            height: image.height(),
            channels,
            data: image.into_bytes(),
        })
    })
}

fn thumbnail_of<'a>(
    content: impl FnOnce() -> Result<(Content<'a>, Option<&'a str>), Failure>,
    spec: &Spec,
    format: OutputFormat,
) -> Result<Thumbnail, Error> {
    guarded(|| {
        let (content, hint) = content()?;
        let mut outcome = JobEnding::default();
        let bytes = pipeline::convert(content, hint, spec, format, &mut outcome)?;
        let (Some(input_size), Some(size)) = (outcome.size_in, outcome.size_out) else {
            return Err(Failure::new(
                ErrorKind::Internal,
                "the pipeline gave no sizes",
            ));
        };
        Ok(Thumbnail {
            bytes,
            format,
            size,
            input_size,
        })
    })
}

/// Runs `work`, a panic inside it becoming an internal error of the image.
fn guarded<T>(work: impl FnOnce() -> Result<T, Failure>) -> Result<T, Error> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(result) => result.map_err(Error::Image),
        Err(panic) => Err(Error::Image(Failure::new(
            ErrorKind::Internal,
            format!(
                "internal error (panic): {}",
                crate::job::panic_text(&*panic)
            ),
        ))),
    }
}
