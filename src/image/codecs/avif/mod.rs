//! AVIF through `avif-parse` (the HEIF container) and `rav1d-safe` (dav1d ported to safe
//! Rust, no assembly, so it builds with plain `cargo build`; its Rust API lets a panic on a
//! damaged file reach the panic guard as one failed image). The gray is the picture's own
//! luma plane (Y), range-expanded to 0..255; pictures stored as RGB (the identity matrix)
//! are turned to BT.601 luma like any RGB picture. An alpha item is kept. The item's crop,
//! rotation and mirroring are applied.

mod props;

use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};
use rav1d_safe::{ColorRange, Decoder, Frame, MatrixCoefficients, PixelLayout, Planes, Settings};

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::decoded::{Decoded, check_pixels};
use crate::image::pixels::color::Tone;
use crate::image::pixels::gray::luma601;

/// Whether `bytes` start like an AVIF file: an ISO base media file whose file type box
/// names an AVIF brand, as its major brand or among its compatible ones (a HEIF file of
/// major brand `mif1` may hold AVIF).
pub(crate) fn is_avif(bytes: &[u8]) -> bool {
    if bytes.get(4..8) != Some(b"ftyp") {
        return false;
    }
    let size = bytes[..4]
        .iter()
        .fold(0usize, |n, &b| n << 8 | usize::from(b));
    let brands = bytes
        .get(8..size.min(bytes.len()).min(256))
        .unwrap_or_default();
    brands
        .chunks_exact(4)
        .enumerate()
        // The second word is the minor version, not a brand.
        .any(|(i, brand)| i != 1 && matches!(brand, b"avif" | b"avis"))
}

/// Decodes the primary item of an AVIF file (and its alpha item) in the tone `spec` (and
/// the item's ICC profile) asks for, refusing more than `spec.max_pixels` from the AV1
/// sequence header, before decoding. Colour is converted from YCbCr with the frame's own
/// matrix and range, chroma taken from the nearest sample.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    let max_pixels = spec.max_pixels;
    if !boxes_fit(bytes) {
        return Err(corrupt(
            "a box runs past the end of the box or file holding it",
        ));
    }
    let data = avif_parse::read_avif(&mut &bytes[..]).map_err(corrupt)?;
    let header = data.primary_item_metadata().map_err(corrupt)?;
    let (width, height) = (header.max_frame_width.get(), header.max_frame_height.get());
    check_pixels(u64::from(width), u64::from(height), max_pixels)?;
    let limit = u32::try_from(max_pixels).unwrap_or(u32::MAX);
    let icc = crate::image::codecs::avif::props::primary_icc(bytes);
    let tone = Tone::for_picture(spec, icc.as_deref());
    let colour = Planes8::of(&decode_av1(&data.primary_item, limit)?, tone);
    let (width, height) = (colour.width, colour.height);
    let alpha = alpha_plane(&data, (width, height), limit)?;
    let image = match tone {
        Tone::Gray => gray_with(&data, colour.gray(), alpha, (width, height))?,
        Tone::Color => colour_image(&data, colour, alpha)?,
    };
    // Orientation and crop live in the item's properties (`irot`, `imir`, `clap`), not EXIF.
    let transforms = crate::image::codecs::avif::props::primary_transforms(bytes, width, height);
    let mut image = crate::image::codecs::avif::props::apply(tone.of(image), &transforms);
    let turned = transforms
        .iter()
        .any(|t| !matches!(t, crate::image::codecs::avif::props::Transform::Crop { .. }));
    if !turned && let Some(orientation) = crate::image::codecs::avif::props::xmp_orientation(bytes)
    {
        image.apply_orientation(orientation);
    }
    Ok(Decoded::whole(image, (width, height)).in_profile(icc))
}

/// The alpha item's samples, when the file has one of the picture's size.
fn alpha_plane(
    data: &avif_parse::AvifData,
    size: (u32, u32),
    limit: u32,
) -> Result<Option<Vec<u8>>, Failure> {
    let Some(alpha_item) = &data.alpha_item else {
        return Ok(None);
    };
    let alpha = Planes8::of(&decode_av1(alpha_item, limit)?, Tone::Gray);
    if (alpha.width, alpha.height) != size {
        return Err(corrupt("the alpha item's size differs from the picture's"));
    }
    Ok(Some(alpha.planes.into_iter().next().unwrap_or_default()))
}

/// The picture in colour (RGB, or gray for a monochrome frame), with its alpha.
fn colour_image(
    data: &avif_parse::AvifData,
    colour: Planes8,
    alpha: Option<Vec<u8>>,
) -> Result<DynamicImage, Failure> {
    let (width, height) = (colour.width, colour.height);
    let channels = colour.planes.len().min(3);
    let samples = colour.rgb();
    let unpremultiply = |value, a| unpremultiplied(value, a, data.premultiplied_alpha);
    Ok(match (channels, alpha) {
        (3, Some(alpha)) => {
            let rgba = samples.chunks_exact(3).zip(&alpha).flat_map(|(p, &a)| {
                [
                    unpremultiply(p[0], a),
                    unpremultiply(p[1], a),
                    unpremultiply(p[2], a),
                    a,
                ]
            });
            DynamicImage::ImageRgba8(
                RgbaImage::from_raw(width, height, rgba.collect()).ok_or_else(short)?,
            )
        }
        (3, None) => {
            DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, samples).ok_or_else(short)?)
        }
        (_, alpha) => return gray_with(data, samples, alpha, (width, height)),
    })
}

/// A sample stored multiplied by `alpha` (when `premultiplied`, the `prem` property) as it
/// is without.
fn unpremultiplied(value: u8, alpha: u8, premultiplied: bool) -> u8 {
    if premultiplied && alpha > 0 {
        ((u32::from(value) * 255 + u32::from(alpha) / 2) / u32::from(alpha)).min(255) as u8
    } else {
        value
    }
}

/// `gray` samples, with `alpha` where the file has it.
fn gray_with(
    data: &avif_parse::AvifData,
    gray: Vec<u8>,
    alpha: Option<Vec<u8>>,
    (width, height): (u32, u32),
) -> Result<DynamicImage, Failure> {
    Ok(match alpha {
        Some(alpha) => {
            let pairs = gray
                .iter()
                .zip(&alpha)
                .flat_map(|(&g, &a)| [unpremultiplied(g, a, data.premultiplied_alpha), a]);
            let pairs = pairs.collect();
            DynamicImage::ImageLumaA8(
                GrayAlphaImage::from_raw(width, height, pairs).ok_or_else(short)?,
            )
        }
        None => {
            DynamicImage::ImageLuma8(GrayImage::from_raw(width, height, gray).ok_or_else(short)?)
        }
    })
}

/// Whether every box at the top level, in `meta`, `iprp` and `ipco` ends inside the box (or
/// file) holding it. `avif-parse` reserves memory for a box's contents by its declared
/// size: without this check, a few kilobytes claiming a 4 GB box would ask for 4 GB.
fn boxes_fit(bytes: &[u8]) -> bool {
    fn fit(bytes: &[u8], start: usize, end: usize) -> bool {
        let mut at = start;
        while at + 8 <= end {
            let word =
                |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
            let (size, kind) = (word(at) as u64, &bytes[at + 4..at + 8]);
            let (size, header) = match size {
                0 => ((end - at) as u64, 8usize),
                1 if at + 16 <= end => (
                    u64::from_be_bytes(bytes[at + 8..at + 16].try_into().expect("eight bytes")),
                    16,
                ),
                _ => (size, 8),
            };
            if size < header as u64 || size > (end - at) as u64 {
                return false;
            }
            let box_end = at + size as usize;
            let children = match kind {
                // A full box: version and flags before its children.
                b"meta" => Some(at + header + 4),
                b"iprp" | b"ipco" => Some(at + header),
                _ => None,
            };
            if let Some(first) = children
                && (first > box_end || !fit(bytes, first, box_end))
            {
                return false;
            }
            at = box_end;
        }
        true
    }
    fit(bytes, 0, bytes.len())
}

/// Decodes one AV1 still picture, refusing frames over `limit` pixels.
fn decode_av1(obus: &[u8], limit: u32) -> Result<Frame, Failure> {
    let mut settings = Settings::default();
    // One image per worker: no threads of its own, no frame delay.
    settings.threads = 1;
    settings.max_frame_delay = 1;
    settings.frame_size_limit = limit;
    let mut decoder = Decoder::with_settings(settings).map_err(av1_error)?;
    if let Some(frame) = decoder.decode(obus).map_err(av1_error)? {
        return Ok(frame);
    }
    decoder
        .flush()
        .map_err(av1_error)?
        .into_iter()
        .next()
        .ok_or_else(|| corrupt("the AV1 data holds no complete picture"))
}

/// A frame's planes as 8-bit full-range samples: Y alone (gray), Y U V for RGB stored as
/// GBR, or Y U V at their own sizes (colour).
struct Planes8 {
    width: u32,
    height: u32,
    planes: Vec<Vec<u8>>,
    /// Whether the planes are G, B and R (the identity matrix).
    gbr: bool,
    /// How many times narrower and shorter the chroma planes are: (1 or 2, 1 or 2).
    subsampling: (usize, usize),
    /// The red and blue weights of the YCbCr matrix (Kr, Kb).
    weights: (f32, f32),
}

impl Planes8 {
    /// The planes `tone` needs: the luma plane, all three for GBR, all three in colour.
    fn of(frame: &Frame, tone: Tone) -> Planes8 {
        let colour = frame.color_info();
        let full_range = colour.color_range == ColorRange::Full;
        let gbr = colour.matrix_coefficients == MatrixCoefficients::Identity
            && frame.pixel_layout() == PixelLayout::I444;
        let wanted = if gbr || tone == Tone::Color { 3 } else { 1 };
        let subsampling = match frame.pixel_layout() {
            PixelLayout::I420 => (2, 2),
            PixelLayout::I422 => (2, 1),
            _ => (1, 1),
        };
        // As libavif: BT.709 and BT.2020 by name, BT.601 for everything else.
        let weights = match colour.matrix_coefficients {
            MatrixCoefficients::BT709 => (0.2126, 0.0722),
            MatrixCoefficients::BT2020NCL | MatrixCoefficients::BT2020CL => (0.2627, 0.0593),
            MatrixCoefficients::SMPTE240 => (0.212, 0.087),
            _ => (0.299, 0.114),
        };
        let bits = u32::from(frame.bit_depth());
        // Each plane's samples, 8-bit full range: luma (or G), then B and R for GBR.
        let scaled = |samples: &mut dyn Iterator<Item = u32>, luma: bool| -> Vec<u8> {
            samples.map(|v| expand(v, bits, full_range, luma)).collect()
        };
        let mut planes = Vec::with_capacity(3);
        match frame.planes() {
            Planes::Depth8(p) => {
                let views = [Some(p.y()), p.u(), p.v()];
                for (i, view) in views.iter().take(wanted).enumerate() {
                    let Some(view) = view else { break };
                    planes.push(scaled(
                        &mut view.rows().flatten().map(|&v| u32::from(v)),
                        i == 0,
                    ));
                }
            }
            Planes::Depth16(p) => {
                let views = [Some(p.y()), p.u(), p.v()];
                for (i, view) in views.iter().take(wanted).enumerate() {
                    let Some(view) = view else { break };
                    planes.push(scaled(
                        &mut view.rows().flatten().map(|&v| u32::from(v)),
                        i == 0,
                    ));
                }
            }
        }
        Planes8 {
            width: frame.width(),
            height: frame.height(),
            planes,
            gbr,
            subsampling,
            weights,
        }
    }

    /// The RGB of each pixel (gray when the frame has no chroma: one sample a pixel).
    fn rgb(&self) -> Vec<u8> {
        let [y, u, v] = &self.planes[..] else {
            return self.planes.first().cloned().unwrap_or_default();
        };
        let (width, height) = (self.width as usize, self.height as usize);
        if self.gbr {
            return (0..width * height)
                .flat_map(|i| [v[i], y[i], u[i]])
                .collect();
        }
        let (sx, sy) = self.subsampling;
        let chroma_width = width.div_ceil(sx);
        let (kr, kb) = self.weights;
        let kg = 1.0 - kr - kb;
        let mut rgb = Vec::with_capacity(width * height * 3);
        let clamp = |v: f32| v.round().clamp(0.0, 255.0) as u8;
        for row in 0..height {
            for column in 0..width {
                let luma = f32::from(y[row * width + column]);
                let at = (row / sy) * chroma_width + column / sx;
                let (cb, cr) = (
                    f32::from(*u.get(at).unwrap_or(&128)) - 128.0,
                    f32::from(*v.get(at).unwrap_or(&128)) - 128.0,
                );
                let r = luma + 2.0 * (1.0 - kr) * cr;
                let b = luma + 2.0 * (1.0 - kb) * cb;
                let g = (luma - kr * r - kb * b) / kg;
                rgb.extend([clamp(r), clamp(g), clamp(b)]);
            }
        }
        rgb
    }

    /// The gray of each pixel.
    fn gray(&self) -> Vec<u8> {
        match &self.planes[..] {
            // Identity matrix: Y holds green, U blue, V red.
            [g, b, r] => g
                .iter()
                .zip(b)
                .zip(r)
                .map(|((&g, &b), &r)| luma601(r, g, b))
                .collect(),
            [y, ..] => y.clone(),
            [] => Vec::new(),
        }
    }
}

/// A sample of `bits` bits to 8 bits, full range: limited-range luma spans 16..235 and
/// chroma 16..240 (scaled by the bit depth).
fn expand(value: u32, bits: u32, full_range: bool, luma: bool) -> u8 {
    let shift = bits.saturating_sub(8);
    let (low, span) = if full_range {
        (0.0, f64::from((1u32 << bits) - 1))
    } else {
        let span = if luma { 219 } else { 224 };
        (f64::from(16u32 << shift), f64::from(span << shift))
    };
    ((f64::from(value) - low) / span * 255.0)
        .round()
        .clamp(0.0, 255.0) as u8
}

fn short() -> Failure {
    corrupt("fewer samples than the picture's size")
}

fn av1_error(error: whereat::At<rav1d_safe::Error>) -> Failure {
    let (error, _trace) = error.decompose();
    if matches!(error, rav1d_safe::Error::OutOfMemory) {
        return Failure::new(ErrorKind::OutOfMemory, "out of memory decoding AV1");
    }
    corrupt(format!("the AV1 decoder failed ({error})"))
}

fn corrupt(detail: impl std::fmt::Display) -> Failure {
    Failure::new(
        ErrorKind::Corrupt,
        format!("corrupt or unsupported AVIF: {detail}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_claiming_more_than_its_container_holds_is_refused() {
        let mut file = b"\0\0\0\x10ftypavif\0\0\0\0".to_vec();
        // meta (full box) holding one 12-byte box, then one claiming 4 GB.
        let mut meta = b"\0\0\0\0".to_vec();
        meta.extend(b"\0\0\0\x0Cpitm\0\0\0\x01");
        meta.extend(b"\xFF\xAF\0\0iloc");
        file.extend(((meta.len() + 8) as u32).to_be_bytes());
        file.extend(b"meta");
        file.extend(&meta);
        assert!(!boxes_fit(&file));
        // The same meta without the oversized box fits.
        let fitting = &meta[..16];
        let mut file = b"\0\0\0\x10ftypavif\0\0\0\0".to_vec();
        file.extend(((fitting.len() + 8) as u32).to_be_bytes());
        file.extend(b"meta");
        file.extend(fitting);
        assert!(boxes_fit(&file));
    }

    #[test]
    fn avif_is_known_by_its_major_or_a_compatible_brand() {
        assert!(is_avif(b"\0\0\0\x1CftypavifXXXXmif1miafMA1B"));
        assert!(is_avif(b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif"));
        assert!(!is_avif(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"));
        // A minor version that spells a brand is not one.
        assert!(!is_avif(b"\0\0\0\x14ftypmif1avifmif1"));
    }
}
