//! A small strip and tile reader for the TIFF sample layouts the `tiff` crate refuses
//! (palette colour, 12- or 24-bit samples, L*a*b*): each strip or tile is taken from the
//! file, decompressed (none, PackBits, LZW or Deflate), its horizontal prediction undone
//! (8-bit samples), and its samples unpacked into one value per sample.

use std::io::Read;

use tiff::decoder::{ChunkType, Decoder};
use tiff::tags::Tag;

use crate::failure::{ErrorKind, Failure};

/// How the samples of one chunky (interleaved) image are stored.
pub(crate) struct Layout {
    pub width: u32,
    pub height: u32,
    pub samples_per_pixel: u16,
    pub bits_per_sample: u16,
    pub compression: u16,
    pub predictor: u16,
}

/// Every sample of the image, one value each, row after row, pixel after pixel.
pub(crate) struct Raw {
    pub values: Vec<u32>,
}

/// Whether [`read`] reads samples stored this way.
pub(crate) fn reads(layout: &Layout) -> Result<(), String> {
    if !matches!(layout.compression, 1 | 5 | 8 | 32773 | 32946) {
        return Err(format!(
            "TIFF with {} compression on these samples is not supported",
            compression_name(layout.compression)
        ));
    }
    match layout.predictor {
        1 => Ok(()),
        2 if layout.bits_per_sample == 8 => Ok(()),
        _ => Err(format!(
            "TIFF with predictor {} on {}-bit samples is not supported",
            layout.predictor, layout.bits_per_sample
        )),
    }
}

/// Reads every strip or tile of the first image of `bytes` (already opened by `decoder`).
pub(crate) fn read<R: std::io::Read + std::io::Seek>(
    bytes: &[u8],
    decoder: &mut Decoder<R>,
    layout: &Layout,
) -> Result<Raw, Failure> {
    let stored = stored_chunks(bytes, decoder)?;
    let (chunk_w, chunk_h) = decoder.chunk_dimensions();
    if chunk_w == 0 || chunk_h == 0 {
        return Err(corrupt("a strip or tile of zero size"));
    }
    let (w, h) = (layout.width as usize, layout.height as usize);
    let spp = usize::from(layout.samples_per_pixel.max(1));
    let bits = usize::from(layout.bits_per_sample);
    let row_bytes = (chunk_w as usize * spp * bits).div_ceil(8);
    let across = layout.width.div_ceil(chunk_w) as usize;
    let little_endian = bytes.starts_with(b"II");
    let mut values = vec![0u32; w * h * spp];
    for (index, stored) in stored.into_iter().enumerate() {
        let (x0, y0) = (
            index % across * chunk_w as usize,
            index / across * chunk_h as usize,
        );
        if y0 >= h {
            break;
        }
        let rows = (chunk_h as usize).min(h - y0);
        let mut data = decompress(stored, layout.compression, row_bytes * rows)
            .map_err(|e| corrupt(format!("strip or tile {index}: {e}")))?;
        if data.len() < row_bytes * rows {
            return Err(corrupt(format!(
                "strip or tile {index} holds {} bytes, {} expected",
                data.len(),
                row_bytes * rows
            )));
        }
        for (dy, row) in data.chunks_exact_mut(row_bytes).take(rows).enumerate() {
            if layout.predictor == 2 {
                for i in spp..row.len() {
                    row[i] = row[i].wrapping_add(row[i - spp]);
                }
            }
            let columns = (chunk_w as usize).min(w.saturating_sub(x0));
            let start = ((y0 + dy) * w + x0) * spp;
            let line = &mut values[start..start + columns * spp];
            for (i, value) in line.iter_mut().enumerate() {
                *value = sample(row, i, bits, little_endian);
            }
        }
    }
    Ok(Raw { values })
}

/// Sample `i` of a row of `bits`-bit samples: whole bytes in the file's byte order, other
/// sizes as a bit stream from the highest bit (as libtiff writes them).
fn sample(row: &[u8], i: usize, bits: usize, little_endian: bool) -> u32 {
    match bits {
        8 => u32::from(row[i]),
        16 | 24 | 32 => {
            let bytes = &row[i * bits / 8..(i + 1) * bits / 8];
            let fold = |v: u32, &b: &u8| (v << 8) | u32::from(b);
            if little_endian {
                bytes.iter().rev().fold(0, fold)
            } else {
                bytes.iter().fold(0, fold)
            }
        }
        _ => bit_field(row, i * bits, bits as u16),
    }
}

/// The stored (compressed) bytes of each strip or tile of the first image, in order.
pub(crate) fn stored_chunks<'a, R: std::io::Read + std::io::Seek>(
    bytes: &'a [u8],
    decoder: &mut Decoder<R>,
) -> Result<Vec<&'a [u8]>, Failure> {
    let (offsets, lengths) = match decoder.get_chunk_type() {
        ChunkType::Strip => (Tag::StripOffsets, Tag::StripByteCounts),
        ChunkType::Tile => (Tag::TileOffsets, Tag::TileByteCounts),
    };
    let offsets: Vec<u64> = decoder
        .find_tag_unsigned_vec(offsets)
        .map_err(corrupt)?
        .ok_or_else(|| corrupt("no strip or tile offsets"))?;
    let lengths: Vec<u64> = decoder
        .find_tag_unsigned_vec(lengths)
        .map_err(corrupt)?
        .ok_or_else(|| corrupt("no strip or tile byte counts"))?;
    let chunk = |offset: u64, length: u64| -> Option<&'a [u8]> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(length).ok()?)?;
        bytes.get(start..end.min(bytes.len()))
    };
    offsets
        .iter()
        .zip(&lengths)
        .enumerate()
        .map(|(index, (&offset, &length))| {
            chunk(offset, length)
                .ok_or_else(|| corrupt(format!("strip or tile {index} lies outside the file")))
        })
        .collect()
}

/// The data of one chunk, decompressed, at most `expected` bytes.
fn decompress(stored: &[u8], compression: u16, expected: usize) -> Result<Vec<u8>, String> {
    match compression {
        1 => Ok(stored[..stored.len().min(expected)].to_vec()),
        32773 => Ok(unpack_bits(stored, expected)),
        5 => {
            let mut out = vec![0u8; expected];
            let mut decoder =
                weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
            let (mut read, mut written) = (0, 0);
            while written < expected && read < stored.len() {
                let step = decoder.decode_bytes(&stored[read..], &mut out[written..]);
                read += step.consumed_in;
                written += step.consumed_out;
                match step.status {
                    Ok(weezl::LzwStatus::Ok) if step.consumed_in + step.consumed_out > 0 => {}
                    Ok(_) => break,
                    Err(e) => return Err(format!("LZW data is damaged ({e})")),
                }
            }
            out.truncate(written);
            Ok(out)
        }
        8 | 32946 => {
            let mut out = Vec::with_capacity(expected);
            flate2::read::ZlibDecoder::new(stored)
                .take(expected as u64)
                .read_to_end(&mut out)
                .map_err(|e| format!("Deflate data is damaged ({e})"))?;
            Ok(out)
        }
        other => Err(format!("compression {other} is not supported")),
    }
}

/// PackBits (Apple's run-length code), at most `expected` bytes out.
fn unpack_bits(mut stored: &[u8], expected: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(expected);
    while out.len() < expected
        && let Some((&header, rest)) = stored.split_first()
    {
        let header = header as i8;
        if header >= 0 {
            let count = (header as usize + 1).min(rest.len());
            out.extend_from_slice(&rest[..count]);
            stored = &rest[count..];
        } else if header != -128 {
            let Some((&byte, rest)) = rest.split_first() else {
                break;
            };
            out.extend(std::iter::repeat_n(
                byte,
                1 + header.unsigned_abs() as usize,
            ));
            stored = rest;
        } else {
            stored = rest;
        }
    }
    out.truncate(expected);
    out
}

fn corrupt(detail: impl std::fmt::Display) -> Failure {
    Failure::new(
        ErrorKind::Corrupt,
        format!("corrupt or truncated TIFF: {detail}"),
    )
}

/// `bits` bits (up to 32) starting `at` bits into `bytes`, the highest bit first; bits
/// past the end read as zero.
pub(crate) fn bit_field(bytes: &[u8], at: usize, bits: u16) -> u32 {
    let mut value = 0u32;
    for bit in at..at + usize::from(bits) {
        let byte = bytes.get(bit / 8).copied().unwrap_or(0);
        value = (value << 1) | u32::from((byte >> (7 - bit % 8)) & 1);
    }
    value
}

/// The name of a TIFF compression, for the failure.
pub(crate) fn compression_name(code: u16) -> String {
    match code {
        2 => "CCITT RLE (modified Huffman)".into(),
        3 => "CCITT G3 on more than one bit a pixel".into(),
        6 => "old-style JPEG".into(),
        34712 => "JPEG 2000".into(),
        34925 => "LZMA".into(),
        50000 => "Zstandard".into(),
        50001 => "WebP".into(),
        34887 => "LERC".into(),
        34892 => "lossy JPEG (DNG)".into(),
        32908 | 32909 => "Pixar log".into(),
        34661 | 34715 => "JBIG".into(),
        34676 | 34677 => "LogLuv".into(),
        _ => format!("unknown ({code})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packbits_runs_and_literals() {
        // A literal run of 3, a repeat of 4, a no-op, a literal of 1.
        let stored = [2, 1, 2, 3, 0xFD, 9, 0x80, 0, 7];
        assert_eq!(unpack_bits(&stored, 100), vec![1, 2, 3, 9, 9, 9, 9, 7]);
        assert_eq!(unpack_bits(&stored, 5), vec![1, 2, 3, 9, 9]);
    }

    #[test]
    fn samples_of_odd_sizes_are_read_as_a_bit_stream() {
        // Two 12-bit samples: 0xABC, 0xDEF.
        let row = [0xAB, 0xCD, 0xEF];
        assert_eq!(sample(&row, 0, 12, true), 0xABC);
        assert_eq!(sample(&row, 1, 12, true), 0xDEF);
        assert_eq!(sample(&[0x34, 0x12], 0, 16, true), 0x1234);
        assert_eq!(sample(&[0x12, 0x34], 0, 16, false), 0x1234);
    }
}
