//! JPEG through libjpeg-turbo's decoder (the `mozjpeg` crate; C compiled by the `cc`
//! crate, no nasm): only the luma channel, shrunk while decoding in the DCT domain by as
//! much as the output allows (a 1/8 decode turns each 8x8 block into one pixel from its
//! first coefficient). A progressive file decoded at 1/8, 2/8 or 4/8 is read by imgpar's
//! own reader instead ([`progressive`]: the luma's scans alone, or every component's in
//! colour; libjpeg's pixels). CMYK, YCCK and RGB JPEGs are left to the generic path.

mod bits;
mod color;
mod icc;
pub(crate) use icc::header_segments;
mod progressive;
mod scans;

use std::ffi::c_int;
use std::io::{BufRead, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use image::metadata::Orientation;
use mozjpeg::{Decompress, Marker};
use mozjpeg_sys as ffi;

use std::cell::Cell;
use std::rc::Rc;

use crate::config::Conversion;
use crate::failure::{ErrorKind, Failure};
use crate::image::codecs::jpeg::progressive::Kept;
use crate::image::codecs::jpeg::scans::{Choice, Keep, ScanFilter};
use crate::image::decoded::{Decoded, check_pixels, upright};
use crate::image::pixels::color::Tone;
use crate::image::pixels::resize;
use crate::image::pixels::shrink::BoxShrink;

/// Decodes a YCbCr or gray JPEG to its luma (BT.601, as stored), upright, shrunk while
/// decoding to `m/8` of its size for the smallest `m` (1 to 8) that shrinks no more than
/// [`resize::reduction_allowed`] permits for `spec`, then box-averaged (cells laid evenly)
/// as rows come for the rest of that reduction (a 1/8 decode of a 16000-pixel-wide
/// picture for a 256-pixel thumbnail is averaged about 3x3 more). `Ok(None)` hands other
/// colour spaces to the generic path. A damaged file is an error naming what libjpeg found, including data
/// that ends early or does not decode (libjpeg would otherwise fill it in gray).
pub(crate) fn decode_shrunk(bytes: &[u8], spec: &Conversion) -> Result<Option<Decoded>, Failure> {
    decode_shrunk_from(std::io::Cursor::new(bytes), spec)
}

/// The JPEG entry point ([`crate::image::codecs::decode`]): [`decode_shrunk`], or the
/// generic path for the colour spaces it hands over.
pub(crate) fn decode(bytes: &[u8], spec: &Conversion) -> Result<Decoded, Failure> {
    match decode_shrunk(bytes, spec)? {
        Some(decoded) => Ok(decoded),
        None => {
            crate::image::codecs::generic::decode_generic(bytes, image::ImageFormat::Jpeg, spec)
        }
    }
}

/// [`decode_shrunk`] turned upright by `orientation` instead of the file's own EXIF
/// orientation: a camera RAW's preview, which the RAW's orientation governs.
pub(crate) fn decode_shrunk_turned(
    bytes: &[u8],
    spec: &Conversion,
    orientation: Orientation,
) -> Result<Option<Decoded>, Failure> {
    shrunk_from(std::io::Cursor::new(bytes), spec, Some(orientation))
}

/// [`decode_shrunk`] on a JPEG read from `reader` as it decodes: a baseline JPEG is never held
/// whole, neither its bytes nor its pixels (rows are box-shrunk as they come, see
/// [`BoxShrink`]); a progressive one holds the coefficients of its luma that the scale
/// reads (see [`progressive`]), or, when that reader is unsure of it, goes to libjpeg,
/// which holds every coefficient.
pub(crate) fn decode_shrunk_from<R: BufRead + Seek>(
    reader: R,
    spec: &Conversion,
) -> Result<Option<Decoded>, Failure> {
    shrunk_from(reader, spec, None)
}

/// [`decode_shrunk_from`], turned by `turn` when given, else by the file's EXIF orientation;
/// in colour instead when `spec` asks for it or the file's ICC profile is not sRGB (see
/// [`Tone::for_picture`]).
fn shrunk_from<R: BufRead + Seek>(
    mut reader: R,
    spec: &Conversion,
    turn: Option<Orientation>,
) -> Result<Option<Decoded>, Failure> {
    let icc = icc::scan(&mut reader)
        .map_err(|e| Failure::new(ErrorKind::Read, format!("cannot read: {e}")))?;
    let rewind = |reader: &mut R| {
        reader
            .rewind()
            .map_err(|e| Failure::new(ErrorKind::Read, format!("cannot read: {e}")))
    };
    if Tone::for_picture(spec, icc.as_deref()) == Tone::Color {
        if let Some(decoded) = progressive_shrunk(&mut reader, spec, turn, Kept::Every)? {
            return Ok(Some(decoded.in_profile(icc)));
        }
        rewind(&mut reader)?;
        return color::decode(reader, spec, turn, icc);
    }
    if let Some(decoded) = progressive_shrunk(&mut reader, spec, turn, Kept::Luma)? {
        return Ok(Some(decoded));
    }
    rewind(&mut reader)?;
    libjpeg_luma(reader, spec, turn)
}

/// [`decode_shrunk_from`] through libjpeg, the scans a gray thumbnail never reads left out
/// (see [`scans`]).
fn libjpeg_luma<R: BufRead>(
    reader: R,
    spec: &Conversion,
    turn: Option<Orientation>,
) -> Result<Option<Decoded>, Failure> {
    guarded(|| {
        // The scans the thumbnail needs are chosen once the header says the scale.
        let choice = Choice::new(Cell::new(Keep::Everything));
        let filtered = ScanFilter::new(reader, Rc::clone(&choice));
        let decompress = decompressor()
            .from_reader(filtered)
            .map_err(|e| Failure::corrupt(format!("corrupt JPEG: {e}")))?;
        decode_started(decompress, spec, &choice, turn)
    })
}

/// A progressive JPEG that a 1/8, 2/8 or 4/8 decode serves, decoded by imgpar's reader
/// (see [`progressive`]) from the scans of the components `kept`: for gray, the luma's
/// alone, the same pixels libjpeg gives without its coefficients of every component; for
/// colour, every component's, in RGB (see [`progressive::colour`]). `Ok(None)` for every
/// other file, and for any this reader is unsure of: the caller reads it again from its
/// start with libjpeg.
fn progressive_shrunk<R: BufRead>(
    reader: &mut R,
    spec: &Conversion,
    turn: Option<Orientation>,
    kept: Kept,
) -> Result<Option<Decoded>, Failure> {
    let Some((header, decoder)) = progressive::read_header(reader) else {
        return Ok(None);
    };
    let orientation = turn.unwrap_or(header.orientation);
    check_pixels(
        u64::from(header.width),
        u64::from(header.height),
        spec.max_pixels,
    )?;
    let stored = (header.width, header.height);
    let reduction = resize::reduction_allowed(upright(stored, orientation), spec);
    let eighths = 8u32.div_ceil(reduction.min(8));
    let Some(planes) = decoder.decode(reader, eighths, kept) else {
        return Ok(None);
    };
    // As the libjpeg path: the rest of the reduction is a box average of the rows.
    let factor = (reduction * eighths / 8).max(1);
    let size = (planes[0].width, planes[0].height);
    let mut y = 0;
    let shrunk = match &planes[..] {
        [luma] => {
            let mut shrink = BoxShrink::new(size, factor, 1, true);
            luma.rows(|row| {
                shrink.push(y, 0, 1, row);
                y += 1;
            });
            shrink.finish()
        }
        [luma, cb, cr] => {
            let mut shrink = BoxShrink::new(size, factor, 3, true);
            progressive::colour::rgb_rows(luma, cb, cr, |row| {
                shrink.push(y, 0, 1, row);
                y += 1;
            });
            shrink.finish()
        }
        _ => return Ok(None),
    };
    Ok(Some(Decoded::turned(shrunk, orientation, stored)))
}

/// Runs a libjpeg decode, turning its fatal errors (which unwind out of the C code with a
/// `LibjpegError`, see [`give_up`]) into failures; any other payload is a bug and goes on
/// unwinding.
fn guarded(
    decode: impl FnOnce() -> Result<Option<Decoded>, Failure>,
) -> Result<Option<Decoded>, Failure> {
    match catch_unwind(AssertUnwindSafe(decode)) {
        Ok(result) => result,
        Err(payload) => match payload.downcast::<LibjpegError>() {
            Ok(error) if error.code == ffi::JERR_OUT_OF_MEMORY => Err(Failure::new(
                ErrorKind::OutOfMemory,
                format!(
                    "out of memory decoding this JPEG (libjpeg: {})",
                    error.message
                ),
            )),
            // libjpeg says "Input file read error" when its source runs dry (a file cut
            // short): it is the file, not the disk.
            Ok(error) if error.code == ffi::JERR_FILE_READ => Err(Failure::corrupt(
                "corrupt or truncated JPEG: the data ends early",
            )),
            Ok(error) => Err(Failure::corrupt(format!(
                "corrupt or truncated JPEG: {}",
                error.message
            ))),
            Err(other) => resume_unwind(other),
        },
    }
}

/// libjpeg set up with imgpar's error manager, keeping the EXIF segment.
fn decompressor() -> mozjpeg::decompress::DecompressBuilder<'static> {
    Decompress::with_err(error_manager()).with_markers(&[Marker::APP(1)])
}

fn decode_started<R: BufRead>(
    mut decompress: Decompress<R>,
    spec: &Conversion,
    choice: &Choice,
    turn: Option<Orientation>,
) -> Result<Option<Decoded>, Failure> {
    let (width, height) = decompress.size();
    check_pixels(width as u64, height as u64, spec.max_pixels)?;
    if !matches!(
        decompress.color_space(),
        ffi::J_COLOR_SPACE::JCS_YCbCr | ffi::J_COLOR_SPACE::JCS_GRAYSCALE
    ) {
        return Ok(None);
    }
    let orientation = turn.unwrap_or_else(|| exif_orientation(&decompress));
    let stored = (width as u32, height as u32);
    let full = upright(stored, orientation);
    let reduction = resize::reduction_allowed(full, spec);
    // libjpeg shrinks to m/8 in the DCT domain; the rest of the reduction allowed is a
    // box average of its rows as they come (cells laid evenly, see `BoxShrink`).
    let eighths = 8u32.div_ceil(reduction.min(8));
    decompress.scale(eighths as u8);
    // Gray output never reads chroma; a 1/8 decode reads only each block's DC. Without
    // its AC scans libjpeg would take the AC coefficients for unfinished and smooth the
    // blocks from their neighbours (which moves the DC too): a whole file never needs it.
    if eighths == 1 {
        choice.set(Keep::DcOnly);
        decompress.do_block_smoothing(false);
    } else {
        choice.set(Keep::Luma);
    }
    let io_error = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::OutOfMemory => {
            Failure::new(ErrorKind::OutOfMemory, "out of memory decoding this JPEG")
        }
        _ => Failure::corrupt(format!("corrupt or truncated JPEG: {e}")),
    };
    let mut started = decompress.grayscale().map_err(io_error)?;
    let size = (started.width() as u32, started.height() as u32);
    let factor = (reduction * eighths / 8).max(1);
    let mut shrink = BoxShrink::new(size, factor, 1, true);
    let mut rows = vec![0u8; size.0 as usize * factor as usize];
    let mut y = 0;
    while y < size.1 {
        let count = factor.min(size.1 - y) as usize;
        let band = started
            .read_scanlines_into(&mut rows[..count * size.0 as usize])
            .map_err(io_error)?;
        for row in band.chunks_exact(size.0 as usize) {
            shrink.push(y, 0, 1, row);
            y += 1;
        }
    }
    started.finish().map_err(io_error)?;
    Ok(Some(Decoded::turned(shrink.finish(), orientation, stored)))
}

/// The orientation the EXIF segment (APP1, which the decompressor keeps) gives.
fn exif_orientation<R>(decompress: &Decompress<R>) -> Orientation {
    decompress
        .markers()
        .filter(|marker| marker.marker == Marker::APP(1))
        .find_map(|marker| marker.data.strip_prefix(b"Exif\0\0"))
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms)
}

/// What libjpeg said when it gave up on a file: its message code and text.
struct LibjpegError {
    code: c_int,
    message: String,
}

/// libjpeg's error manager with two changes: a fatal error unwinds with a
/// [`LibjpegError`] instead of exiting the process, and a warning that means pixels are
/// missing or wrong is fatal too (see [`warning_loses_pixels`]).
fn error_manager() -> ffi::jpeg_error_mgr {
    // SAFETY: a plain C struct that jpeg_std_error fills in completely.
    let mut manager: ffi::jpeg_error_mgr = unsafe { std::mem::zeroed() };
    // SAFETY: `manager` is a valid, writable jpeg_error_mgr.
    unsafe { ffi::jpeg_std_error(&mut manager) };
    manager.error_exit = Some(give_up);
    manager.emit_message = Some(on_message);
    manager
}

extern "C-unwind" fn give_up(cinfo: &mut ffi::jpeg_common_struct) {
    // SAFETY: libjpeg calls this with its `err` pointing at our live error manager.
    let code = unsafe { (*cinfo.err).msg_code };
    let message = message_text(cinfo);
    // resume_unwind, not panic!: no panic hook runs, nothing is printed.
    resume_unwind(Box::new(LibjpegError { code, message }));
}

extern "C-unwind" fn on_message(cinfo: &mut ffi::jpeg_common_struct, level: c_int) {
    // Levels 0 and up are trace messages; -1 is a warning.
    // SAFETY: libjpeg calls this with its `err` pointing at our live error manager.
    let code = unsafe { (*cinfo.err).msg_code };
    if level < 0 && warning_loses_pixels(code) {
        give_up(cinfo);
    }
}

/// Whether a warning means libjpeg carries on with made-up pixels (the data ended early
/// or does not decode). Only the warnings known to leave the picture intact are allowed:
/// extra bytes between segments, an unknown JFIF revision or Adobe transform code.
fn warning_loses_pixels(code: c_int) -> bool {
    ![
        ffi::JWRN_EXTRANEOUS_DATA,
        ffi::JWRN_JFIF_MAJOR,
        ffi::JWRN_ADOBE_XFORM,
    ]
    .contains(&code)
}

/// The current message in libjpeg's words.
fn message_text(cinfo: &mut ffi::jpeg_common_struct) -> String {
    // JMSG_LENGTH_MAX in jpeglib.h: libjpeg writes at most this much, NUL included.
    let mut buffer = [0u8; 200];
    // SAFETY: `err` points at our live error manager.
    if let Some(format) = unsafe { (*cinfo.err).format_message } {
        // The binding declares an 80-byte buffer, but libjpeg writes up to
        // JMSG_LENGTH_MAX bytes: call it with a pointer to a buffer that large.
        // SAFETY: same C function, same ABI; only the buffer's Rust type differs.
        let format: unsafe extern "C-unwind" fn(&mut ffi::jpeg_common_struct, *mut u8) =
            unsafe { std::mem::transmute(format) };
        // SAFETY: `buffer` is writable for JMSG_LENGTH_MAX bytes.
        unsafe { format(cinfo, buffer.as_mut_ptr()) };
    }
    let text = buffer.split(|&b| b == 0).next().unwrap_or_default();
    String::from_utf8_lossy(text).into_owned()
}

#[cfg(test)]
mod tests;
