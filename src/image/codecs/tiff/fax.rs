//! TIFF strips in CCITT Group 3 one-dimensional coding (modified Huffman with end-of-line
//! codes, as scanners and fax software write it), which the `tiff` crate does not decode,
//! through the `fax` crate's Group 3 decoder (the one the `tiff` crate uses for Group 4).

use std::io::{Read, Seek};

use image::GrayImage;
use tiff::decoder::Decoder;
use tiff::tags::Tag;

use crate::failure::{ErrorKind, Failure};

/// Decodes a bilevel Group 3 TIFF to gray (0 or 255). A white run is a 0 bit, a black run
/// a 1 bit, as libtiff stores them; the photometric interpretation then says which bit
/// is black.
pub(crate) fn decode<R: Read + Seek>(
    bytes: &[u8],
    decoder: &mut Decoder<R>,
    width: u32,
    height: u32,
    white_is_zero: bool,
) -> Result<GrayImage, Failure> {
    let options: u32 = decoder
        .find_tag_unsigned(Tag::Unknown(292))
        .ok()
        .flatten()
        .unwrap_or(0);
    if options & 1 != 0 {
        return Err(Failure::new(
            ErrorKind::Unsupported,
            "TIFF with two-dimensional CCITT G3 compression is not supported",
        ));
    }
    let Ok(line_width) = u16::try_from(width) else {
        return Err(corrupt("a fax line wider than 65535 pixels"));
    };
    let rows_per_strip = decoder.chunk_dimensions().1.max(1) as usize;
    let (w, h) = (width as usize, height as usize);
    let mut gray = vec![0u8; w * h];
    let (black, white) = if white_is_zero { (0, 255) } else { (255, 0) };
    for (index, strip) in crate::image::codecs::tiff::chunks::stored_chunks(bytes, decoder)?
        .into_iter()
        .enumerate()
    {
        let first = index * rows_per_strip;
        let rows = rows_per_strip.min(h.saturating_sub(first));
        let mut row = 0;
        fax::decoder::decode_g3(strip.iter().copied(), |transitions| {
            if row < rows {
                let line = &mut gray[(first + row) * w..(first + row + 1) * w];
                for (pixel, colour) in line
                    .iter_mut()
                    .zip(fax::decoder::pels(transitions, line_width))
                {
                    *pixel = if colour == fax::Color::Black {
                        black
                    } else {
                        white
                    };
                }
            }
            row += 1;
        });
        if row < rows {
            return Err(corrupt(format!(
                "strip {index} holds {row} of its {rows} lines"
            )));
        }
    }
    Ok(GrayImage::from_raw(width, height, gray).expect("one byte per pixel"))
}

fn corrupt(detail: impl std::fmt::Display) -> Failure {
    Failure::new(
        ErrorKind::Corrupt,
        format!("corrupt or truncated TIFF: {detail}"),
    )
}
