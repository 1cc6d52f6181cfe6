//! TIFF variants the `image` crate reads wrong, put right around it: bits stored in
//! reverse order (FillOrder 2), samples stored plane by plane (planar configuration 2,
//! tiled or in strips, which it cannot assemble), and associated (premultiplied) alpha,
//! which it takes for plain alpha. The tags are read with the `tiff` crate, the same
//! decoder the `image` crate uses inside.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer};
use tiff::decoder::{ChunkType, Decoder, DecodingResult};
use tiff::tags::Tag;

use crate::failure::Failure;

/// What imgpar needs to know about a TIFF's first image beyond what the `image` crate
/// gives.
pub(crate) struct TiffLayout {
    /// Bits within each byte run from the lowest to the highest (FillOrder 2).
    pub reversed_bits: bool,
    /// Samples are stored one plane after another (PlanarConfiguration 2).
    pub planar: bool,
    /// The alpha channel is associated (premultiplied) alpha (ExtraSamples 1).
    pub premultiplied: bool,
    /// Where each strip or tile lies in the file: (offset, length).
    chunks: Vec<(u64, u64)>,
}

/// Reads the layout of the first image, or `None` when the `tiff` crate cannot read the
/// header at all (the generic path then says what is wrong).
pub(crate) fn layout(bytes: &[u8]) -> Option<TiffLayout> {
    let mut decoder = Decoder::new(Cursor::new(bytes)).ok()?;
    let fill_order: u16 = decoder.find_tag_unsigned(Tag::FillOrder).ok()?.unwrap_or(1);
    let planar: u16 = decoder
        .find_tag_unsigned(Tag::PlanarConfiguration)
        .ok()?
        .unwrap_or(1);
    let extra: Vec<u16> = decoder
        .find_tag_unsigned_vec(Tag::ExtraSamples)
        .ok()?
        .unwrap_or_default();
    let (offsets, lengths) = match decoder.get_chunk_type() {
        ChunkType::Strip => (Tag::StripOffsets, Tag::StripByteCounts),
        ChunkType::Tile => (Tag::TileOffsets, Tag::TileByteCounts),
    };
    let offsets: Vec<u64> = decoder
        .find_tag_unsigned_vec(offsets)
        .ok()?
        .unwrap_or_default();
    let lengths: Vec<u64> = decoder
        .find_tag_unsigned_vec(lengths)
        .ok()?
        .unwrap_or_default();
    Some(TiffLayout {
        reversed_bits: fill_order == 2,
        planar: planar == 2,
        premultiplied: extra.first() == Some(&1),
        chunks: offsets.into_iter().zip(lengths).collect(),
    })
}

/// A copy of `bytes` with the bits of every byte of image data put in the usual order, for
/// a FillOrder 2 file: the order applies to the stored (compressed) data, as libtiff
/// reads it.
pub(crate) fn with_bits_in_order(bytes: &[u8], layout: &TiffLayout) -> Vec<u8> {
    let mut fixed = bytes.to_vec();
    for &(offset, length) in &layout.chunks {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(fixed.len());
        let end = start
            .saturating_add(usize::try_from(length).unwrap_or(usize::MAX))
            .min(fixed.len());
        for byte in &mut fixed[start..end] {
            *byte = byte.reverse_bits();
        }
    }
    fixed
}

/// Decodes a planar (one plane per sample) TIFF of 8- or 16-bit gray, gray+alpha, RGB or
/// RGBA, chunk by chunk, into an interleaved image. `Ok(None)` for sample layouts this does
/// not assemble (the generic path is tried instead).
pub(crate) fn decode_planar(
    bytes: &[u8],
    max_pixels: u64,
) -> Result<Option<(DynamicImage, Orientation)>, Failure> {
    let corrupt = |e: tiff::TiffError| Failure::corrupt(format!("corrupt or truncated TIFF: {e}"));
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(corrupt)?;
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    crate::image::decoded::check_pixels(u64::from(width), u64::from(height), max_pixels)?;
    let (channels, bits) = match decoder.colortype().map_err(corrupt)? {
        tiff::ColorType::Gray(b) => (1, b),
        tiff::ColorType::GrayA(b) => (2, b),
        tiff::ColorType::RGB(b) => (3, b),
        tiff::ColorType::RGBA(b) => (4, b),
        _ => return Ok(None),
    };
    if bits != 8 && bits != 16 {
        return Ok(None);
    }
    let orientation = orientation_of(&mut decoder);
    let (chunk_w, chunk_h) = decoder.chunk_dimensions();
    if chunk_w == 0 || chunk_h == 0 {
        return Err(Failure::corrupt(
            "corrupt TIFF: a strip or tile of zero size",
        ));
    }
    let across = width.div_ceil(chunk_w);
    let per_plane = across * height.div_ceil(chunk_h);
    let (w, h) = (width as usize, height as usize);
    let mut samples = vec![0u16; w * h * channels];
    for plane in 0..channels {
        for chunk in 0..per_plane {
            let x0 = (chunk % across * chunk_w) as usize;
            let y0 = (chunk / across * chunk_h) as usize;
            let data = decoder
                .read_chunk(plane as u32 * per_plane + chunk)
                .map_err(corrupt)?;
            let values: Vec<u16> = match data {
                DecodingResult::U8(v) => v.into_iter().map(u16::from).collect(),
                DecodingResult::U16(v) => v,
                _ => return Ok(None),
            };
            // The chunk's rows are as wide as its part of the image; a tile at the bottom
            // may come with padding rows, which are dropped.
            let row = (chunk_w as usize).min(w - x0);
            let rows = (chunk_h as usize).min(h - y0);
            if values.len() < row * rows {
                return Err(Failure::corrupt(format!(
                    "corrupt TIFF: strip or tile {chunk} of plane {plane} holds {} samples, \
                     {} expected",
                    values.len(),
                    row * rows
                )));
            }
            for (dy, line) in values.chunks_exact(row).enumerate().take(h - y0) {
                for (dx, &value) in line.iter().enumerate() {
                    samples[((y0 + dy) * w + x0 + dx) * channels + plane] = value;
                }
            }
        }
    }
    let image = if bits == 8 {
        let samples: Vec<u8> = samples.into_iter().map(|v| v as u8).collect();
        u8::image(width, height, channels, samples)
    } else {
        u16::image(width, height, channels, samples)
    };
    Ok(image.map(|image| (image, orientation)))
}

/// The orientation a TIFF's first image states (none when it states none or nonsense).
pub(crate) fn orientation_of<R: std::io::Read + std::io::Seek>(
    decoder: &mut Decoder<R>,
) -> Orientation {
    decoder
        .find_tag_unsigned::<u8>(Tag::Orientation)
        .ok()
        .flatten()
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms)
}

/// 8- or 16-bit samples, made into the `DynamicImage` of their depth.
trait Sample: Sized {
    fn image(width: u32, height: u32, channels: usize, samples: Vec<Self>) -> Option<DynamicImage>;
}

impl Sample for u8 {
    fn image(width: u32, height: u32, channels: usize, samples: Vec<u8>) -> Option<DynamicImage> {
        Some(match channels {
            1 => DynamicImage::ImageLuma8(ImageBuffer::from_raw(width, height, samples)?),
            2 => DynamicImage::ImageLumaA8(ImageBuffer::from_raw(width, height, samples)?),
            3 => DynamicImage::ImageRgb8(ImageBuffer::from_raw(width, height, samples)?),
            _ => DynamicImage::ImageRgba8(ImageBuffer::from_raw(width, height, samples)?),
        })
    }
}

impl Sample for u16 {
    fn image(width: u32, height: u32, channels: usize, samples: Vec<u16>) -> Option<DynamicImage> {
        Some(match channels {
            1 => DynamicImage::ImageLuma16(ImageBuffer::from_raw(width, height, samples)?),
            2 => DynamicImage::ImageLumaA16(ImageBuffer::from_raw(width, height, samples)?),
            3 => DynamicImage::ImageRgb16(ImageBuffer::from_raw(width, height, samples)?),
            _ => DynamicImage::ImageRgba16(ImageBuffer::from_raw(width, height, samples)?),
        })
    }
}

/// Turns premultiplied colour back into plain colour (colour divided by alpha, rounded),
/// so that the gray of a half-transparent pixel is its own, not darkened by its alpha.
pub(crate) fn unpremultiply(image: &mut DynamicImage) {
    fn divide<const N: usize>(samples: &mut [impl Copy + Into<u32> + TryFrom<u32>], max: u32) {
        for pixel in samples.chunks_exact_mut(N) {
            let alpha: u32 = pixel[N - 1].into();
            if alpha == 0 {
                continue;
            }
            for sample in &mut pixel[..N - 1] {
                let value: u32 = (*sample).into();
                let plain = ((value * max + alpha / 2) / alpha).min(max);
                if let Ok(plain) = plain.try_into() {
                    *sample = plain;
                }
            }
        }
    }
    match image {
        DynamicImage::ImageLumaA8(i) => divide::<2>(i, 255),
        DynamicImage::ImageRgba8(i) => divide::<4>(i, 255),
        DynamicImage::ImageLumaA16(i) => divide::<2>(i, 65535),
        DynamicImage::ImageRgba16(i) => divide::<4>(i, 65535),
        _ => {}
    }
}
