//! The luma's coefficients as a reduced decode needs them, and the AC scans that fill them
//! (first scans and refinements, libjpeg's `decode_mcu_AC_first` and
//! `decode_mcu_AC_refine` step for step). A block keeps its DC, the AC coefficients its
//! reduced IDCT reads (24 of 63 at 2/8, 48 at 4/8) and one bit a coefficient saying which
//! are nonzero (a refinement scan needs that of all of them): 58 or 106 bytes a block, where
//! libjpeg holds 128 for every block of every component. Whatever libjpeg would do that
//! this reader does not (a coefficient written outside its band, a refinement bit of the
//! wrong size) answers `None`, and the file goes to libjpeg.

use std::io::BufRead;

use crate::image::codecs::jpeg::bits::{Bits, Huffman};
use crate::image::codecs::jpeg::progressive::idct;

/// `NATURAL[k]`: the row-major position of the `k`th coefficient in zigzag order.
pub(crate) const NATURAL: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// A zigzag position whose value no reduced IDCT reads.
const UNKEPT: u8 = u8::MAX;

/// The luma's coefficients, block by block in rows (the component's own blocks, not the
/// padding of an interleaved scan's last MCUs).
pub(crate) struct Coefficients {
    /// Blocks across and down.
    pub across: usize,
    pub down: usize,
    /// Each block's DC coefficient.
    pub dc: Vec<i16>,
    /// Each block's kept AC coefficients, `slots` a block, in the order of `slot_of`.
    ac: Vec<i16>,
    slots: usize,
    /// Per zigzag position, its slot or [`UNKEPT`].
    slot_of: [u8; 64],
    /// Bit `k`: the `k`th coefficient (zigzag) is kept.
    kept: u64,
    /// The kept AC coefficients' slots and natural positions.
    kept_natural: Vec<(usize, usize)>,
    /// Per block, bit `k`: the `k`th AC coefficient (zigzag) is nonzero.
    nonzero: Vec<u64>,
}

/// What an AC scan codes: zigzag positions `start..=end`, at bit `low` (`Al`).
#[derive(Clone, Copy)]
pub(crate) struct Band {
    pub start: usize,
    pub end: usize,
    pub low: u32,
}

impl Coefficients {
    /// Zeroed coefficients for `across` x `down` blocks and a decode to `eighths`/8 (1: DC
    /// only, 2 or 4); `None` when memory cannot be had.
    pub(crate) fn new(across: usize, down: usize, eighths: u32) -> Option<Coefficients> {
        let blocks = across.checked_mul(down)?;
        let used = idct::used(eighths);
        let (mut slot_of, mut kept, mut kept_natural) = ([UNKEPT; 64], 0u64, Vec::new());
        for (k, &natural) in NATURAL.iter().enumerate().skip(1) {
            if used.contains(&(natural / 8)) && used.contains(&(natural % 8)) {
                slot_of[k] = kept_natural.len() as u8;
                kept |= 1 << k;
                kept_natural.push((kept_natural.len(), natural));
            }
        }
        let slots = kept_natural.len();
        let zeroed = |n: usize| -> Option<Vec<i16>> {
            let mut v = Vec::new();
            v.try_reserve_exact(n).ok()?;
            v.resize(n, 0);
            Some(v)
        };
        let mut nonzero = Vec::new();
        if slots > 0 {
            nonzero.try_reserve_exact(blocks).ok()?;
            nonzero.resize(blocks, 0);
        }
        Some(Coefficients {
            across,
            down,
            dc: zeroed(blocks)?,
            ac: zeroed(blocks.checked_mul(slots)?)?,
            slots,
            slot_of,
            kept,
            kept_natural,
            nonzero,
        })
    }

    /// Whether AC coefficients are kept (a decode finer than 1/8).
    pub(crate) fn keeps_ac(&self) -> bool {
        self.slots > 0
    }

    /// Block `block`'s coefficients dequantised by `quant` (natural order) into `out`, at
    /// the positions kept (the others are left as they are: no reduced IDCT reads them).
    #[inline]
    pub(crate) fn dequantised(&self, block: usize, quant: &[i64; 64], out: &mut [i64; 64]) {
        out[0] = i64::from(self.dc[block]) * quant[0];
        let kept = &self.ac[block * self.slots..(block + 1) * self.slots];
        for &(slot, natural) in &self.kept_natural {
            out[natural] = i64::from(kept[slot]) * quant[natural];
        }
    }

    #[inline]
    fn set(&mut self, block: usize, k: usize, value: i16) {
        let slot = self.slot_of[k];
        if slot != UNKEPT {
            self.ac[block * self.slots + usize::from(slot)] = value;
        }
    }

    /// A first AC scan of `band`, its blocks in rows, restarts every `interval` blocks.
    pub(crate) fn first_scan<R: BufRead>(
        &mut self,
        bits: &mut Bits<'_, '_, R>,
        table: &Huffman,
        band: Band,
        interval: usize,
    ) -> Option<()> {
        let mut eob_run = 0u32;
        let mut restarts = Restarts::new(interval);
        for block in 0..self.across * self.down {
            if let Some(marker) = restarts.before_mcu() {
                bits.restart(marker)?;
                eob_run = 0;
            }
            if eob_run > 0 {
                eob_run -= 1;
                continue;
            }
            let mut nonzero = self.nonzero[block];
            let mut k = band.start;
            while k <= band.end {
                // Most coefficients: code and value in one lookup.
                let whole = table.coefficient(bits.lookahead());
                if whole.length != 0 {
                    bits.skip(u32::from(whole.length))?;
                    k += usize::from(whole.run);
                    if k > band.end {
                        return None;
                    }
                    let value = (i32::from(whole.value) << band.low) as i16;
                    if value == 0 {
                        return None;
                    }
                    nonzero |= 1 << k;
                    self.set(block, k, value);
                    k += 1;
                    continue;
                }
                let symbol = bits.decode(table)?;
                let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 15));
                if size != 0 {
                    k += run;
                    if k > band.end {
                        return None;
                    }
                    let value = (bits.signed(size)? << band.low) as i16;
                    // A value shifted out of 16 bits would clear a coefficient.
                    if value == 0 {
                        return None;
                    }
                    nonzero |= 1 << k;
                    self.set(block, k, value);
                } else if run == 15 {
                    k += 15;
                } else {
                    eob_run = (1 << run) + bits.bits(run as u32)? - 1;
                    break;
                }
                k += 1;
            }
            self.nonzero[block] = nonzero;
        }
        Some(())
    }

    /// A refinement AC scan of `band`: a bit more of each nonzero coefficient, and
    /// coefficients that become nonzero (+-1 at bit `band.low`).
    pub(crate) fn refine_scan<R: BufRead>(
        &mut self,
        bits: &mut Bits<'_, '_, R>,
        table: &Huffman,
        band: Band,
        interval: usize,
    ) -> Option<()> {
        // Counting and finding a block's nonzero coefficients is most of the work: with
        // the CPU's population count and bit deposit where it has them (the default
        // target assumes neither).
        #[cfg(target_arch = "x86_64")]
        if fast_bit_deposit() {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { self.refine_scan_bmi2(bits, table, band, interval) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU has the feature the function is compiled for.
            return unsafe { self.refine_scan_popcnt(bits, table, band, interval) };
        }
        self.refine::<R, false>(bits, table, band, interval)
    }

    /// [`Coefficients::refine_scan`] compiled for CPUs with `popcnt`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn refine_scan_popcnt<R: BufRead>(
        &mut self,
        bits: &mut Bits<'_, '_, R>,
        table: &Huffman,
        band: Band,
        interval: usize,
    ) -> Option<()> {
        self.refine::<R, false>(bits, table, band, interval)
    }

    /// [`Coefficients::refine_scan`] compiled for CPUs with `popcnt` and a fast `pdep`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt,bmi2")]
    fn refine_scan_bmi2<R: BufRead>(
        &mut self,
        bits: &mut Bits<'_, '_, R>,
        table: &Huffman,
        band: Band,
        interval: usize,
    ) -> Option<()> {
        self.refine::<R, true>(bits, table, band, interval)
    }

    #[inline(always)]
    fn refine<R: BufRead, const DEPOSIT: bool>(
        &mut self,
        bits: &mut Bits<'_, '_, R>,
        table: &Huffman,
        band: Band,
        interval: usize,
    ) -> Option<()> {
        let p1 = 1i16 << band.low;
        let in_band = positions(band.start, band.end + 1);
        let mut eob_run = 0u32;
        let mut restarts = Restarts::new(interval);
        for block in 0..self.across * self.down {
            if let Some(marker) = restarts.before_mcu() {
                bits.restart(marker)?;
                eob_run = 0;
            }
            let mut nonzero = self.nonzero[block];
            let mut k = band.start;
            if eob_run == 0 {
                while k <= band.end {
                    let (run, new);
                    // A new coefficient's code and its sign bit, mostly in one lookup (a
                    // value of 1 or -1 is a size of 1).
                    let whole = table.coefficient(bits.lookahead());
                    if whole.length != 0 && whole.value.abs() == 1 {
                        bits.skip(u32::from(whole.length))?;
                        (run, new) = (u32::from(whole.run), whole.value * p1);
                    } else {
                        let symbol = bits.decode(table)?;
                        let size = symbol & 15;
                        run = u32::from(symbol >> 4);
                        new = if size != 0 {
                            // libjpeg warns of any other size: the image fails there.
                            if size != 1 {
                                return None;
                            }
                            if bits.bit()? == 1 { p1 } else { -p1 }
                        } else if run != 15 {
                            eob_run = (1 << run) + bits.bits(run)?;
                            break;
                        } else {
                            0
                        };
                    }
                    // Past nonzero coefficients (each takes a correction bit) and `run`
                    // zero ones, to the one that becomes nonzero (64: past the band).
                    let rest = in_band & (u64::MAX << k);
                    let target = nth_position::<DEPOSIT>(!nonzero & rest, run);
                    let passed = nonzero & rest & below::<DEPOSIT>(target);
                    self.corrections::<R, DEPOSIT>(bits, block, passed, p1)?;
                    if target >= 64 {
                        // libjpeg would write a new coefficient past the band.
                        if new != 0 {
                            return None;
                        }
                        k = band.end + 1;
                        break;
                    }
                    k = target;
                    if new != 0 {
                        nonzero |= 1 << k;
                        self.set(block, k, new);
                    }
                    k += 1;
                }
            }
            if eob_run > 0 {
                // The band's rest: correction bits of its nonzero coefficients.
                if k <= band.end {
                    let rest = nonzero & in_band & (u64::MAX << k);
                    self.corrections::<R, DEPOSIT>(bits, block, rest, p1)?;
                }
                eob_run -= 1;
            }
            self.nonzero[block] = nonzero;
        }
        Some(())
    }

    /// A correction bit for each coefficient of `which` (bits by zigzag position), lowest
    /// position first; only the kept coefficients' bits are looked at.
    #[inline(always)]
    fn corrections<R: BufRead, const DEPOSIT: bool>(
        &mut self,
        bits: &mut Bits<'_, '_, R>,
        block: usize,
        mut which: u64,
        p1: i16,
    ) -> Option<()> {
        while which != 0 {
            let count = which.count_ones();
            let n = count.min(32);
            let chunk = if count <= 32 {
                which
            } else {
                which & below::<DEPOSIT>(nth_position::<DEPOSIT>(which, n))
            };
            which &= !chunk;
            // The chunk's first coefficient has the word's highest bit.
            let word = bits.bits(n)?;
            let spread = if DEPOSIT { deposit(word, n, chunk) } else { 0 };
            let base = block * self.slots;
            let mut kept = chunk & self.kept;
            while kept != 0 {
                let k = kept.trailing_zeros() as usize;
                kept &= kept - 1;
                let bit = if DEPOSIT {
                    (spread >> k) as i16 & 1
                } else {
                    // The bit of the `i`th coefficient of the chunk.
                    let i = (chunk & below::<false>(k)).count_ones();
                    (word >> (n - 1 - i)) as i16 & 1
                };
                // A set bit adds `p1` away from zero, unless it is there already (no
                // branch: the bits are as good as random).
                let value = &mut self.ac[base + usize::from(self.slot_of[k])];
                let sign = *value >> 15;
                let away = (p1 ^ sign) - sign;
                let unset = i16::from(*value & p1 == 0);
                *value = value.wrapping_add(away * (bit & unset));
            }
        }
        Some(())
    }
}

/// The bits of zigzag positions `from..to` (`from` < 64, `to` <= 64), without a branch.
#[inline(always)]
fn positions(from: usize, to: usize) -> u64 {
    let below_to = ((1u128 << to) - 1) as u64;
    below_to & (u64::MAX << from)
}

/// The bits of zigzag positions below `to` (0 to 64): by `bzhi` when `DEPOSIT`.
#[inline(always)]
fn below<const DEPOSIT: bool>(to: usize) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if DEPOSIT {
        // SAFETY: as in `nth_position` (BMI2).
        return unsafe { std::arch::x86_64::_bzhi_u64(u64::MAX, to as u32) };
    }
    ((1u128 << to) - 1) as u64
}

/// The position of the `n`th (from 0) set bit of `bits`, 64 when it has fewer: by `pdep`
/// when `DEPOSIT` (the caller is compiled for BMI2), else one set bit cleared at a time.
#[inline(always)]
fn nth_position<const DEPOSIT: bool>(mut bits: u64, n: u32) -> usize {
    #[cfg(target_arch = "x86_64")]
    if DEPOSIT {
        if n >= 64 {
            return 64;
        }
        // SAFETY: `DEPOSIT` is only set in functions compiled for BMI2, called where the
        // CPU has it.
        return unsafe { std::arch::x86_64::_pdep_u64(1 << n, bits) }.trailing_zeros() as usize;
    }
    for _ in 0..n {
        bits &= bits.wrapping_sub(1);
    }
    bits.trailing_zeros() as usize
}

/// The `n` bits of `word` (1 to 32, the first the highest) placed at the set bits of
/// `chunk` (`n` of them), the first at the lowest, by `pdep`. Only called where the CPU
/// has BMI2 (`DEPOSIT`), from functions compiled for it.
#[inline(always)]
fn deposit(word: u32, n: u32, chunk: u64) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        let reversed = u64::from(word.reverse_bits() >> (32 - n));
        // SAFETY: as in `nth_position`.
        unsafe { std::arch::x86_64::_pdep_u64(reversed, chunk) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let (mut spread, mut left) = (0u64, chunk);
        for i in (0..n).rev() {
            spread |= u64::from(word >> i & 1) << left.trailing_zeros();
            left &= left.wrapping_sub(1);
        }
        spread
    }
}

/// Whether the CPU has BMI2's `pdep` and runs it fast: AMD's (and Hygon's) cores before
/// Zen 3 (family 0x19) have it in microcode, many times slower than the loop it replaces.
#[cfg(target_arch = "x86_64")]
fn fast_bit_deposit() -> bool {
    use std::sync::OnceLock;
    static FAST: OnceLock<bool> = OnceLock::new();
    *FAST.get_or_init(|| {
        if !std::arch::is_x86_feature_detected!("bmi2")
            || !std::arch::is_x86_feature_detected!("popcnt")
        {
            return false;
        }
        // CPUID is there on every x86_64 CPU.
        let vendor = std::arch::x86_64::__cpuid(0);
        let name = [vendor.ebx, vendor.edx, vendor.ecx]
            .map(u32::to_le_bytes)
            .concat();
        let signature = std::arch::x86_64::__cpuid(1).eax;
        let base = (signature >> 8) & 0xf;
        let family = if base == 0xf {
            base + ((signature >> 20) & 0xff)
        } else {
            base
        };
        !(matches!(&name[..], b"AuthenticAMD" | b"HygonGenuine") && family < 0x19)
    })
}

/// Where a scan's restart markers fall: every `interval` MCUs, RST0 to RST7 in turn.
pub(crate) struct Restarts {
    interval: usize,
    /// MCUs until the next marker.
    left: usize,
    next: u8,
}

impl Restarts {
    pub(crate) fn new(interval: usize) -> Restarts {
        Restarts {
            interval,
            left: interval,
            next: 0,
        }
    }

    /// Called before each MCU of the scan, in order: the code of the restart marker that
    /// comes before this one, if any.
    #[inline]
    pub(crate) fn before_mcu(&mut self) -> Option<u8> {
        if self.interval == 0 {
            return None;
        }
        if self.left > 0 {
            self.left -= 1;
            return None;
        }
        self.left = self.interval - 1;
        let code = 0xd0 + self.next;
        self.next = (self.next + 1) % 8;
        Some(code)
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// The BMI2 forms of the bit helpers agree with the plain ones, on masks like a
    /// block's (runs, gaps, both ends).
    #[test]
    fn the_bit_deposit_forms_agree_with_the_plain_ones() {
        if !std::arch::is_x86_feature_detected!("bmi2") {
            return;
        }
        let masks = [
            0u64,
            1,
            0b1011_0110,
            u64::MAX,
            u64::MAX << 1,
            0x8000_0000_0000_0001,
            0x00f0_0ff0_f00f_0ff0,
            0xdead_beef_0bad_cafe,
        ];
        for mask in masks {
            for n in 0..=64u32 {
                let plain = nth_position::<false>(mask, n.min(63));
                // SAFETY (each call): the CPU has BMI2, checked above.
                assert_eq!(
                    unsafe { nth_with_bmi2(mask, n.min(63)) },
                    plain,
                    "{mask:x} {n}"
                );
                let to = n as usize;
                assert_eq!(unsafe { below_with_bmi2(to) }, below::<false>(to), "{to}");
            }
            let count = mask.count_ones().min(32);
            if count > 0 {
                let chunk = mask & below::<false>(nth_position::<false>(mask, count));
                let word = 0xa5a5_5a5a_u32 >> (32 - count);
                let mut expected = 0u64;
                for (i, k) in (0..64).filter(|k| chunk >> k & 1 == 1).enumerate() {
                    expected |= u64::from(word >> (count - 1 - i as u32) & 1) << k;
                }
                assert_eq!(unsafe { deposit_with_bmi2(word, count, chunk) }, expected);
            }
        }
    }

    #[target_feature(enable = "bmi2")]
    fn nth_with_bmi2(mask: u64, n: u32) -> usize {
        nth_position::<true>(mask, n)
    }

    #[target_feature(enable = "bmi2")]
    fn below_with_bmi2(to: usize) -> u64 {
        below::<true>(to)
    }

    #[target_feature(enable = "bmi2")]
    fn deposit_with_bmi2(word: u32, n: u32, chunk: u64) -> u64 {
        deposit(word, n, chunk)
    }
}
