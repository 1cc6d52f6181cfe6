//! A progressive JPEG's planes, decoded at a reduced scale, as RGB rows: the chroma brought
//! to the luma's size as libjpeg brings it (repeated over the luma pixels each chroma
//! pixel covers, or its "fancy" 4:2:2 upsampling, `jdsample.c`), then libjpeg's YCbCr to
//! RGB conversion (`jdcolor.c`, its fixed point and rounding).

use super::Plane;

/// libjpeg's `SCALEBITS`: the conversion's fixed point.
const SCALE_BITS: u32 = 16;

/// libjpeg's FIX(x) at [`SCALE_BITS`].
const fn fix(x: f64) -> i32 {
    (x * (1 << SCALE_BITS) as f64 + 0.5) as i32
}

/// libjpeg's YCbCr to RGB tables, per Cb or Cr value: Cr's share of red, Cb's of blue, and
/// their shares of green (before the final shift).
struct Tables {
    cr_r: [i32; 256],
    cb_b: [i32; 256],
    cr_g: [i32; 256],
    cb_g: [i32; 256],
}

impl Tables {
    const fn new() -> Tables {
        let half = 1 << (SCALE_BITS - 1);
        let mut t = Tables {
            cr_r: [0; 256],
            cb_b: [0; 256],
            cr_g: [0; 256],
            cb_g: [0; 256],
        };
        let mut i = 0;
        while i < 256 {
            let x = i as i32 - 128;
            t.cr_r[i] = (fix(1.40200) * x + half) >> SCALE_BITS;
            t.cb_b[i] = (fix(1.77200) * x + half) >> SCALE_BITS;
            t.cr_g[i] = -fix(0.71414) * x;
            t.cb_g[i] = -fix(0.34414) * x + half;
            i += 1;
        }
        t
    }
}

static TABLES: Tables = Tables::new();

/// The picture as RGB rows, top first, `luma.width` pixels each, from its luma and chroma
/// planes at one scale (each chroma pixel over the luma pixels its plane's `covers` says).
pub(crate) fn rgb_rows(luma: &Plane, cb: &Plane, cr: &Plane, mut row: impl FnMut(&[u8])) {
    let chroma = |plane: &Plane| {
        let mut pixels = Vec::with_capacity(plane.width as usize * plane.height as usize);
        plane.rows(|line| pixels.extend_from_slice(line));
        pixels
    };
    let (cb_pixels, cr_pixels) = (chroma(cb), chroma(cr));
    let width = luma.width as usize;
    let (mut cb_row, mut cr_row) = (vec![0u8; width], vec![0u8; width]);
    let mut rgb = vec![0u8; width * 3];
    let mut y = 0;
    luma.rows(|line| {
        upsampled(cb, &cb_pixels, y, &mut cb_row);
        upsampled(cr, &cr_pixels, y, &mut cr_row);
        for (x, out) in rgb.chunks_exact_mut(3).enumerate() {
            let luma = i32::from(line[x]);
            let (cb, cr) = (usize::from(cb_row[x]), usize::from(cr_row[x]));
            let t = &TABLES;
            out[0] = (luma + t.cr_r[cr]).clamp(0, 255) as u8;
            out[1] = (luma + ((t.cb_g[cb] + t.cr_g[cr]) >> SCALE_BITS)).clamp(0, 255) as u8;
            out[2] = (luma + t.cb_b[cb]).clamp(0, 255) as u8;
        }
        row(&rgb);
        y += 1;
    });
}

/// Into `out` (the luma's width): the row of chroma `plane` (its pixels `pixels`, in rows)
/// that luma row `y` falls in, brought to the luma's width.
fn upsampled(plane: &Plane, pixels: &[u8], y: usize, out: &mut [u8]) {
    let width = plane.width as usize;
    let at = (y / plane.covers.1).min(plane.height as usize - 1) * width;
    let row = &pixels[at..at + width];
    if plane.smooth {
        // libjpeg's `h2v1_fancy_upsample`: two outputs a pixel, each 3/4 of it and 1/4 of
        // its neighbour on that side (the end pixels as they are), rounded alternately
        // down and up.
        let mut wide = Vec::with_capacity(2 * width);
        for x in 0..width {
            let near = 3 * u32::from(row[x]);
            let left = u32::from(row[x.saturating_sub(1)]);
            let right = u32::from(row[(x + 1).min(width - 1)]);
            wide.push(if x == 0 {
                row[0]
            } else {
                ((near + left + 1) >> 2) as u8
            });
            wide.push(if x == width - 1 {
                row[x]
            } else {
                ((near + right + 2) >> 2) as u8
            });
        }
        let used = out.len().min(wide.len());
        out[..used].copy_from_slice(&wide[..used]);
        return;
    }
    let across = plane.covers.0;
    for (x, value) in out.iter_mut().enumerate() {
        *value = row[(x / across).min(width - 1)];
    }
}
