//! libjpeg's inverse DCTs (`jidctred.c` and `jidctint.c`'s `islow`, 8-bit samples, no
//! SIMD: the build has none), reproduced operation for operation so that each block's
//! pixels are byte for byte libjpeg's: a block to 1x1 (its DC alone), 2x2, 4x4 and 8x8
//! pixels (the last for chroma that libjpeg scales up rather than upsample). Coefficients
//! come dequantised, in natural (row-major) order.

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
const FIX_0_298631336: i64 = 2446;
const FIX_0_390180644: i64 = 3196;
const FIX_0_541196100: i64 = 4433;
const FIX_1_175875602: i64 = 9633;
const FIX_1_501321110: i64 = 12299;
const FIX_1_961570560: i64 = 16069;
const FIX_2_053119869: i64 = 16819;
const FIX_3_072711026: i64 = 25172;

/// The rows and columns of a block each IDCT reads, in natural order: the 2x2 reads the
/// odd ones and the DC's, the 4x4 all but the fifth (libjpeg skips them too), the 8x8 all.
pub(crate) fn used(eighths: u32) -> &'static [usize] {
    match eighths {
        2 => &[0, 1, 3, 5, 7],
        4 => &[0, 1, 2, 3, 5, 6, 7],
        8 => &[0, 1, 2, 3, 4, 5, 6, 7],
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

/// The 8-point output stage of `jpeg_idct_islow`, from one column or row of a block:
/// outputs 0 to 7 before descaling (scaled up by `CONST_BITS`).
#[inline]
fn eight_point(at: impl Fn(usize) -> i64) -> [i64; 8] {
    // The even part.
    let (z2, z3) = (at(2), at(6));
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (at(0) + at(4)) << CONST_BITS;
    let tmp1 = (at(0) - at(4)) << CONST_BITS;
    let (tmp10, tmp13) = (tmp0 + tmp3, tmp0 - tmp3);
    let (tmp11, tmp12) = (tmp1 + tmp2, tmp1 - tmp2);
    // The odd part.
    let (t0, t1, t2, t3) = (at(7), at(5), at(3), at(1));
    let z5 = (t0 + t2 + t1 + t3) * FIX_1_175875602;
    let z1 = (t0 + t3) * -FIX_0_899976223;
    let z2 = (t1 + t2) * -FIX_2_562915447;
    let z3 = (t0 + t2) * -FIX_1_961570560 + z5;
    let z4 = (t1 + t3) * -FIX_0_390180644 + z5;
    let t0 = t0 * FIX_0_298631336 + z1 + z3;
    let t1 = t1 * FIX_2_053119869 + z2 + z4;
    let t2 = t2 * FIX_3_072711026 + z2 + z3;
    let t3 = t3 * FIX_1_501321110 + z1 + z4;
    [
        tmp10 + t3,
        tmp11 + t2,
        tmp12 + t1,
        tmp13 + t0,
        tmp13 - t0,
        tmp12 - t1,
        tmp11 - t2,
        tmp10 - t3,
    ]
}

/// `jpeg_idct_islow`: the block's 8x8 pixels, rows top first, from `c` (dequantised).
pub(crate) fn idct_8x8(c: &[i64; 64], out: &mut [[u8; 8]; 8]) {
    let mut ws = [0i64; 64];
    for col in 0..8 {
        let at = |row: usize| c[row * 8 + col];
        if (1..8).all(|row| at(row) == 0) {
            let dc = shifted(at(0), PASS1_BITS);
            for row in 0..8 {
                ws[row * 8 + col] = dc;
            }
            continue;
        }
        for (row, value) in eight_point(at).into_iter().enumerate() {
            ws[row * 8 + col] = i64::from(descale(value, CONST_BITS - PASS1_BITS) as i32);
        }
    }
    for (row, pixels) in out.iter_mut().enumerate() {
        let w = &ws[row * 8..row * 8 + 8];
        if w[1..].iter().all(|&v| v == 0) {
            *pixels = [range_limit(descale(w[0], PASS1_BITS + 3)); 8];
            continue;
        }
        for (pixel, value) in pixels.iter_mut().zip(eight_point(|i| w[i])) {
            *pixel = range_limit(descale(value, CONST_BITS + PASS1_BITS + 3));
        }
    }
}
