//! libjpeg's reduced inverse DCTs (`jidctred.c`, 8-bit samples, no SIMD: the build has
//! none), reproduced operation for operation so that each block's pixels are byte for
//! byte libjpeg's: a block to 1x1 (its DC alone), 2x2 and 4x4 pixels. Coefficients come
//! dequantised, in natural (row-major) order.

/// libjpeg's `CONST_BITS` and `PASS1_BITS` for the reduced IDCTs.
const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

// libjpeg's fixed-point constants, FIX(x) = round(x * 2^13).
const FIX_0_211164243: i64 = 1730;
const FIX_0_509795579: i64 = 4176;
const FIX_0_601344887: i64 = 4926;
const FIX_0_720959822: i64 = 5906;
const FIX_0_765366865: i64 = 6270;
const FIX_0_850430095: i64 = 6967;
const FIX_0_899976223: i64 = 7373;
const FIX_1_061594337: i64 = 8697;
const FIX_1_272758580: i64 = 10426;
const FIX_1_451774981: i64 = 11893;
const FIX_1_847759065: i64 = 15137;
const FIX_2_172734803: i64 = 17799;
const FIX_2_562915447: i64 = 20995;
const FIX_3_624509785: i64 = 29692;

/// The rows and columns of a block each reduced IDCT reads, in natural order: the 2x2 reads
/// the odd ones and the DC's, the 4x4 all but the fifth (libjpeg skips them too).
pub(crate) fn used(eighths: u32) -> &'static [usize] {
    match eighths {
        2 => &[0, 1, 3, 5, 7],
        4 => &[0, 1, 2, 3, 5, 6, 7],
        _ => &[0],
    }
}

/// libjpeg's DESCALE(x, n): add half, shift right (arithmetically).
#[inline]
pub(crate) fn descale(x: i64, n: u32) -> i64 {
    (x + (1 << (n - 1))) >> n
}

/// libjpeg's post-IDCT range limit, `range_limit[x & 1023]` for 8-bit samples: 128 is
/// added, values past the ends clamp, and values far past them wrap as its table does.
#[inline]
pub(crate) fn range_limit(x: i64) -> u8 {
    match x & 1023 {
        i @ 0..=127 => (i + 128) as u8,
        128..=511 => 255,
        512..=895 => 0,
        i => (i - 896) as u8,
    }
}

/// libjpeg's LEFT_SHIFT of a dequantised value into its `int` workspace.
#[inline]
fn shifted(value: i64, n: u32) -> i64 {
    i64::from((value << n) as i32)
}

/// `jpeg_idct_1x1`: the block's one pixel.
#[inline]
pub(crate) fn idct_1x1(dc: i64) -> u8 {
    range_limit(descale(dc, 3))
}

/// `jpeg_idct_2x2`: the block's 2x2 pixels, rows top first, from `c` (dequantised).
pub(crate) fn idct_2x2(c: &[i64; 64], out: &mut [[u8; 2]; 2]) {
    let mut ws = [0i64; 16];
    for col in [0, 1, 3, 5, 7] {
        let at = |row: usize| c[row * 8 + col];
        if at(1) == 0 && at(3) == 0 && at(5) == 0 && at(7) == 0 {
            let dc = shifted(at(0), PASS1_BITS);
            ws[col] = dc;
            ws[8 + col] = dc;
            continue;
        }
        let tmp10 = at(0) << (CONST_BITS + 2);
        let tmp0 = at(7) * -FIX_0_720959822
            + at(5) * FIX_0_850430095
            + at(3) * -FIX_1_272758580
            + at(1) * FIX_3_624509785;
        let n = CONST_BITS - PASS1_BITS + 2;
        ws[col] = i64::from(descale(tmp10 + tmp0, n) as i32);
        ws[8 + col] = i64::from(descale(tmp10 - tmp0, n) as i32);
    }
    for (row, pixels) in out.iter_mut().enumerate() {
        let w = &ws[row * 8..row * 8 + 8];
        if w[1] == 0 && w[3] == 0 && w[5] == 0 && w[7] == 0 {
            *pixels = [range_limit(descale(w[0], PASS1_BITS + 3)); 2];
            continue;
        }
        let tmp10 = w[0] << (CONST_BITS + 2);
        let tmp0 = w[7] * -FIX_0_720959822
            + w[5] * FIX_0_850430095
            + w[3] * -FIX_1_272758580
            + w[1] * FIX_3_624509785;
        let n = CONST_BITS + PASS1_BITS + 3 + 2;
        *pixels = [
            range_limit(descale(tmp10 + tmp0, n)),
            range_limit(descale(tmp10 - tmp0, n)),
        ];
    }
}

/// The even and odd halves of the 4-point output stage, from one column or row of a
/// block: `(tmp10, tmp12)` and `(tmp0, tmp2)` in libjpeg's names.
#[inline]
fn four_point(at: impl Fn(usize) -> i64, dc_shift: u32) -> [i64; 4] {
    let tmp0 = at(0) << dc_shift;
    let tmp2 = at(2) * FIX_1_847759065 + at(6) * -FIX_0_765366865;
    let (tmp10, tmp12) = (tmp0 + tmp2, tmp0 - tmp2);
    let (z1, z2, z3, z4) = (at(7), at(5), at(3), at(1));
    let odd0 =
        z1 * -FIX_0_211164243 + z2 * FIX_1_451774981 + z3 * -FIX_2_172734803 + z4 * FIX_1_061594337;
    let odd2 =
        z1 * -FIX_0_509795579 + z2 * -FIX_0_601344887 + z3 * FIX_0_899976223 + z4 * FIX_2_562915447;
    // Outputs 0 to 3 before descaling.
    [tmp10 + odd2, tmp12 + odd0, tmp12 - odd0, tmp10 - odd2]
}

/// `jpeg_idct_4x4`: the block's 4x4 pixels, rows top first, from `c` (dequantised).
pub(crate) fn idct_4x4(c: &[i64; 64], out: &mut [[u8; 4]; 4]) {
    let mut ws = [0i64; 32];
    for col in [0, 1, 2, 3, 5, 6, 7] {
        let at = |row: usize| c[row * 8 + col];
        if [1, 2, 3, 5, 6, 7].iter().all(|&row| at(row) == 0) {
            let dc = shifted(at(0), PASS1_BITS);
            for row in 0..4 {
                ws[row * 8 + col] = dc;
            }
            continue;
        }
        let outputs = four_point(at, CONST_BITS + 1);
        for (row, value) in outputs.into_iter().enumerate() {
            ws[row * 8 + col] = i64::from(descale(value, CONST_BITS - PASS1_BITS + 1) as i32);
        }
    }
    for (row, pixels) in out.iter_mut().enumerate() {
        let w = &ws[row * 8..row * 8 + 8];
        if [1, 2, 3, 5, 6, 7].iter().all(|&i| w[i] == 0) {
            *pixels = [range_limit(descale(w[0], PASS1_BITS + 3)); 4];
            continue;
        }
        let outputs = four_point(|i| w[i], CONST_BITS + 1);
        for (pixel, value) in pixels.iter_mut().zip(outputs) {
            *pixel = range_limit(descale(value, CONST_BITS + PASS1_BITS + 3 + 1));
        }
    }
}
