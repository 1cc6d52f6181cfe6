//! The one step of libwebp's scaled decoding with no vector form for the planes imgpar
//! asks for: the horizontal shrink of a row (`WebPRescalerImportRowShrink`), which libwebp
//! runs in plain C for one channel (it scales the luma, chroma and alpha planes one by
//! one; its SSE2 form takes only four interleaved channels). Where a plane shrinks by a
//! whole number of pixels (4096 to 256, the usual case: imgpar scales by a whole factor),
//! each output is that many inputs added up, which [`import_row_shrink`] computes with
//! whole-vector sums, the same numbers as libwebp's bit for bit; any other shrink goes to
//! libwebp's own function. It is hooked in through the function pointer libwebp's DSP
//! setup fills (`WebPRescalerDspInit`), once, before the first decode.
//!
//! The [`Rescaler`] below mirrors `WebPRescaler` of the libwebp that `libwebp-sys` builds
//! (`src/utils/rescaler_utils.h`); the tests hold it against libwebp's C function, so a
//! libwebp that changes it fails them.

use std::ffi::c_int;
use std::sync::{Once, OnceLock};

/// libwebp's `WebPRescaler` (`rescaler_t` is `uint32_t`).
#[repr(C)]
pub(super) struct Rescaler {
    x_expand: c_int,
    y_expand: c_int,
    num_channels: c_int,
    fx_scale: u32,
    fy_scale: u32,
    fxy_scale: u32,
    y_accum: c_int,
    y_add: c_int,
    y_sub: c_int,
    x_add: c_int,
    x_sub: c_int,
    src_width: c_int,
    src_height: c_int,
    dst_width: c_int,
    dst_height: c_int,
    src_y: c_int,
    dst_y: c_int,
    dst: *mut u8,
    dst_stride: c_int,
    irow: *mut u32,
    frow: *mut u32,
}

/// libwebp's `WebPRescalerImportRowFunc`.
type ImportRow = unsafe extern "C" fn(*mut Rescaler, *const u8);

unsafe extern "C" {
    /// The row shrink libwebp calls, set by `WebPRescalerDspInit`.
    static mut WebPRescalerImportRowShrink: Option<ImportRow>;
    /// Fills libwebp's rescaling function pointers for this CPU; later calls do nothing.
    fn WebPRescalerDspInit();
    /// libwebp's row shrink in plain C, for any rescaler.
    fn WebPRescalerImportRowShrink_C(wrk: *mut Rescaler, src: *const u8);
    #[cfg(test)]
    fn WebPRescalerInit(
        rescaler: *mut Rescaler,
        src_width: c_int,
        src_height: c_int,
        dst: *mut u8,
        dst_width: c_int,
        dst_height: c_int,
        dst_stride: c_int,
        num_channels: c_int,
        work: *mut u32,
    ) -> c_int;
}

/// The row shrink libwebp chose for this CPU, which [`import_row_shrink`] hands every
/// shrink it does not take itself; set before the hook is.
static LIBWEBPS_OWN: OnceLock<ImportRow> = OnceLock::new();

/// Hooks [`import_row_shrink`] into libwebp, once; every scaled decode after this returns
/// uses it.
pub(super) fn install() {
    static HOOKED: Once = Once::new();
    HOOKED.call_once(|| {
        // SAFETY: libwebp's DSP setup runs (once: it records that it ran), then its
        // pointer is read and replaced before any decode of this process has scaled
        // anything: every decode calls this first, and waits here while it runs.
        unsafe {
            WebPRescalerDspInit();
            let own = std::ptr::read(&raw const WebPRescalerImportRowShrink);
            LIBWEBPS_OWN.get_or_init(|| own.unwrap_or(WebPRescalerImportRowShrink_C));
            std::ptr::write(
                &raw mut WebPRescalerImportRowShrink,
                Some(import_row_shrink),
            );
        }
    });
}

/// libwebp's row shrink for one channel shrunk by a whole factor k: `frow[x]` is the sum
/// of the k inputs `src[k x ..][..k]` times `x_sub`, which is what libwebp's loop comes to
/// when its accumulator lands on 0 at each output (no fraction carried over).
///
/// # Safety
/// `wrk` is a rescaler libwebp set up for shrinking (`x_expand` 0) and `src` holds its
/// `src_width * num_channels` bytes, as libwebp calls it.
unsafe extern "C" fn import_row_shrink(wrk: *mut Rescaler, src: *const u8) {
    // SAFETY: per the caller.
    let w = unsafe { &*wrk };
    let whole = w.num_channels == 1
        && w.x_sub > 0
        && w.x_add == w.src_width
        && w.x_add % w.x_sub == 0
        && w.dst_width == w.x_sub;
    if !whole {
        let own = LIBWEBPS_OWN
            .get()
            .copied()
            .unwrap_or(WebPRescalerImportRowShrink_C);
        // SAFETY: the same call libwebp made.
        return unsafe { own(wrk, src) };
    }
    let factor = (w.x_add / w.x_sub) as usize;
    let outputs = w.dst_width as usize;
    // SAFETY: per the caller, `src` holds `src_width` bytes (one channel) and `frow`
    // `dst_width` values; neither overlaps the other.
    let (src, frow) = unsafe {
        (
            std::slice::from_raw_parts(src, outputs * factor),
            std::slice::from_raw_parts_mut(w.frow, outputs),
        )
    };
    let scale = w.x_sub as u32;
    // The usual factors each get their own copy of the loop, with the run's length known
    // to the compiler, so that its sums are whole vectors.
    match factor {
        2 => sums(src, frow, scale, 2),
        4 => sums(src, frow, scale, 4),
        8 => sums(src, frow, scale, 8),
        16 => sums(src, frow, scale, 16),
        32 => sums(src, frow, scale, 32),
        _ => sums(src, frow, scale, factor),
    }
}

/// `frow[x]` = the sum of the `factor` inputs `src[factor x ..]` times `scale`.
#[inline(always)]
fn sums(src: &[u8], frow: &mut [u32], scale: u32, factor: usize) {
    for (out, run) in frow.iter_mut().zip(src.chunks_exact(factor)) {
        *out = run.iter().map(|&v| u32::from(v)).sum::<u32>() * scale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rescaler libwebp sets up for `src_width` to `dst_width`, one channel, with its
    /// work rows.
    fn rescaler(src_width: usize, dst_width: usize, work: &mut Vec<u32>) -> Rescaler {
        work.resize(2 * dst_width, 0);
        // SAFETY: a plain C struct that WebPRescalerInit fills.
        let mut rescaler: Rescaler = unsafe { std::mem::zeroed() };
        let mut dst = vec![0u8; dst_width];
        // SAFETY: live buffers of the sizes libwebp asks for; `dst` is not written here.
        let made = unsafe {
            WebPRescalerInit(
                &mut rescaler,
                src_width as c_int,
                8,
                dst.as_mut_ptr(),
                dst_width as c_int,
                1,
                dst_width as c_int,
                1,
                work.as_mut_ptr(),
            )
        };
        assert_ne!(made, 0);
        rescaler.dst = std::ptr::null_mut();
        rescaler
    }

    #[test]
    fn the_row_shrink_gives_libwebps_numbers_for_every_shrink() {
        install();
        let row: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        for (src_width, dst_width) in [
            (4096, 256),
            (4096, 128),
            (4096, 512),
            (4096, 1024),
            (4096, 2048),
            (4095, 273),
            (3000, 1000),
            (4096, 255),
            (1366, 171),
            (7, 1),
        ] {
            let (mut theirs_work, mut ours_work) = (Vec::new(), Vec::new());
            let mut theirs = rescaler(src_width, dst_width, &mut theirs_work);
            let mut ours = rescaler(src_width, dst_width, &mut ours_work);
            // SAFETY: rescalers libwebp set up for shrinking, rows of `src_width` bytes.
            unsafe {
                WebPRescalerImportRowShrink_C(&mut theirs, row.as_ptr());
                import_row_shrink(&mut ours, row.as_ptr());
            }
            // SAFETY: `frow` is the second half of each work buffer, `dst_width` long.
            let (theirs, ours) = unsafe {
                (
                    std::slice::from_raw_parts(theirs.frow, dst_width).to_vec(),
                    std::slice::from_raw_parts(ours.frow, dst_width).to_vec(),
                )
            };
            assert_eq!(ours, theirs, "{src_width} to {dst_width}");
            assert!(ours.iter().any(|&v| v != 0));
        }
    }
}
