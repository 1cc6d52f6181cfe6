//! A JPEG in colour through libjpeg (a progressive one that imgpar's own reader does not
//! take, see `progressive`): its DCT scaling (a 1/8 decode reads each block's DC, and of a
//! progressive file only the DC scans),
//! RGB from its own YCbCr conversion and chroma upsampling, then a box average as rows come
//! (as the gray path). CMYK and YCCK pictures are turned to sRGB row by row: through their
//! ICC profile when they carry one, else by the usual naive rule (each ink taken away from
//! white, black multiplied in: what the `image` crate and Pillow do).

use std::cell::Cell;
use std::io::BufRead;
use std::rc::Rc;

use image::metadata::Orientation;
use mozjpeg::{Decompress, Marker};
use mozjpeg_sys as ffi;

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::codecs::jpeg::scans::{Choice, Keep, ScanFilter};
use crate::image::decoded::{Decoded, check_pixels, upright};
use crate::image::pixels::profile;
use crate::image::pixels::resize;
use crate::image::pixels::shrink::BoxShrink;

/// Decodes the JPEG `reader` yields in colour (a gray JPEG stays gray), upright (by `turn`
/// when given, else by its EXIF orientation), shrunk as far as `spec` allows; `icc` is the
/// profile its APP2 segments carry. `Ok(None)` for a colour space libjpeg cannot convert
/// (the generic path then reads it).
pub(super) fn decode<R: BufRead>(
    reader: R,
    spec: &Conversion,
    turn: Option<Orientation>,
    icc: Option<Vec<u8>>,
) -> Result<Option<Decoded>, Failure> {
    super::guarded(|| {
        // A 1/8 decode reads the DC scans alone (see `scans`), chosen once the header says
        // the scale.
        let choice = Choice::new(Cell::new(Keep::Everything));
        let filtered = ScanFilter::new(reader, Rc::clone(&choice));
        let mut decompress = Decompress::with_err(super::error_manager())
            .with_markers(&[Marker::APP(1), Marker::APP(14)])
            .from_reader(filtered)
            .map_err(|e| Failure::corrupt(format!("corrupt JPEG: {e}")))?;
        let (width, height) = decompress.size();
        check_pixels(width as u64, height as u64, spec.max_pixels)?;
        let orientation = turn.unwrap_or_else(|| super::exif_orientation(&decompress));
        let stored = (width as u32, height as u32);
        let reduction = resize::reduction_allowed(upright(stored, orientation), spec);
        let eighths = 8u32.div_ceil(reduction.min(8));
        decompress.scale(eighths as u8);
        if eighths == 1 {
            // Without its AC scans libjpeg would smooth the blocks from their neighbours.
            choice.set(Keep::DcOnly);
            decompress.do_block_smoothing(false);
        }
        let inverted = decompress
            .markers()
            .any(|marker| marker.marker == Marker::APP(14) && marker.data.starts_with(b"Adobe"));
        let (space, channels) = match decompress.color_space() {
            ffi::J_COLOR_SPACE::JCS_GRAYSCALE => (ffi::J_COLOR_SPACE::JCS_GRAYSCALE, 1),
            ffi::J_COLOR_SPACE::JCS_YCbCr | ffi::J_COLOR_SPACE::JCS_RGB => {
                (ffi::J_COLOR_SPACE::JCS_RGB, 3)
            }
            ffi::J_COLOR_SPACE::JCS_CMYK | ffi::J_COLOR_SPACE::JCS_YCCK => {
                (ffi::J_COLOR_SPACE::JCS_CMYK, 4)
            }
            _ => return Ok(None),
        };
        let io_error = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::OutOfMemory => {
                Failure::new(ErrorKind::OutOfMemory, "out of memory decoding this JPEG")
            }
            _ => Failure::corrupt(format!("corrupt or truncated JPEG: {e}")),
        };
        let mut started = decompress.to_colorspace(space).map_err(io_error)?;
        let size = (started.width() as u32, started.height() as u32);
        let factor = (reduction * eighths / 8).max(1);
        let cmyk_profile = icc.as_deref().filter(|icc| profile::is_cmyk(icc));
        let out_channels = if channels == 4 { 3 } else { channels };
        let mut shrink = BoxShrink::new(size, factor, out_channels, true);
        let row_bytes = size.0 as usize * channels;
        let mut rows = vec![0u8; row_bytes * factor as usize];
        let mut rgb = Vec::new();
        let mut y = 0;
        while y < size.1 {
            let count = factor.min(size.1 - y) as usize;
            let band = started
                .read_scanlines_into(&mut rows[..count * row_bytes])
                .map_err(io_error)?;
            for row in band.chunks_exact(row_bytes) {
                if channels == 4 {
                    rgb.clear();
                    cmyk_row_to_rgb(row, inverted, cmyk_profile, &mut rgb);
                    shrink.push(y, 0, 1, &rgb);
                } else {
                    shrink.push(y, 0, 1, row);
                }
                y += 1;
            }
        }
        started.finish().map_err(io_error)?;
        let decoded = Decoded::turned(shrink.finish(), orientation, stored);
        // CMYK rows are sRGB already; other pixels are in the profile's space.
        Ok(Some(match channels {
            4 => decoded,
            _ => decoded.in_profile(icc),
        }))
    })
}

/// A row of CMYK pixels as libjpeg gives them (inverted, as Adobe writes them, when
/// `inverted`: 255 no ink) as sRGB, through `icc` when it is a usable CMYK profile.
fn cmyk_row_to_rgb(row: &[u8], inverted: bool, icc: Option<&[u8]>, out: &mut Vec<u8>) {
    if let Some(icc) = icc {
        let inks: Vec<u8> = match inverted {
            true => row.iter().map(|&v| 255 - v).collect(),
            false => row.to_vec(),
        };
        if profile::cmyk_to_srgb(icc, &inks, out) {
            return;
        }
    }
    for pixel in row.chunks_exact(4) {
        // How much of each is left uncovered: 255 no ink.
        let open = |v: u8| u32::from(if inverted { v } else { 255 - v });
        let k = open(pixel[3]);
        out.extend([0, 1, 2].map(|i| ((open(pixel[i]) * k + 127) / 255) as u8));
    }
}
