//! A progressive JPEG decoded to its luma at 1/8, 2/8 or 4/8 scale without libjpeg. A gray
//! thumbnail needs only the luma's coefficients, and a reduced decode only some of them:
//! its DC scans at 1/8 (one pixel a block), and the luma's AC scans besides at 2/8 and
//! 4/8 (the chroma's AC scans are stepped over). libjpeg would allocate and zero the
//! coefficients of every block of every component (about 100 MB for a 16.8 MP 4:4:4
//! photo) and Huffman-decode what it is given; here a luma block keeps the coefficients
//! its reduced IDCT reads ([`ac`]), and each pixel is computed exactly as libjpeg's reduced
//! IDCT computes it ([`idct`]), so the output is byte for byte libjpeg's. Anything this
//! reader is not sure of (arithmetic coding, 12-bit samples, a luma that is not the largest
//! component, RGB (as libjpeg tells it: JFIF, Adobe's transform, the component ids) or
//! CMYK, a progression libjpeg warns of or would smooth over, a damaged scan, no end of
//! image) answers `None`, and the caller hands the file to libjpeg from its start.

use std::io::BufRead;

use crate::image::codecs::jpeg::bits::{Bits, Huffman, Source};
use crate::image::codecs::jpeg::progressive::ac::{Band, Coefficients, Restarts};
pub(crate) use header::read_header;
use header::{libjpeg_reads, needed};

/// One component of the frame.
#[derive(Clone, Copy)]
struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
}

/// The state of a decode between segments.
pub(crate) struct Decoder {
    width: usize,
    height: usize,
    components: Vec<Component>,
    /// Quantisation tables in natural order.
    quant: [Option<[u16; 64]>; 4],
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    restart_interval: usize,
    /// The luma's coefficients, allocated by `decode`.
    luma: Option<Coefficients>,
    /// Per component, the low bit its DC scans have reached (-1: none yet).
    dc_bits: [i8; 4],
    /// Per zigzag position, the low bit the luma's AC scans have reached (-1: none yet).
    ac_bits: [i8; 64],
    /// The luma's quantisation table, latched at its first scan as libjpeg does.
    luma_quant: Option<[u16; 64]>,
    pending_scan: Option<Vec<u8>>,
}

/// A progressive JPEG's luma, decoded: its pixels at the scale asked for come a row at a
/// time from [`Luma::rows`].
pub(crate) struct Luma {
    coefficients: Coefficients,
    quant: [i64; 64],
    eighths: u32,
    /// The output's size: libjpeg's `ceil(size * eighths / 8)`.
    pub width: u32,
    pub height: u32,
}

impl Decoder {
    fn new() -> Decoder {
        Decoder {
            width: 0,
            height: 0,
            components: Vec::new(),
            quant: [None; 4],
            dc_tables: Default::default(),
            ac_tables: Default::default(),
            restart_interval: 0,
            luma: None,
            dc_bits: [-1; 4],
            ac_bits: [-1; 64],
            luma_quant: None,
            pending_scan: None,
        }
    }

    /// Decodes every scan to the end of the image for a decode at `eighths`/8 (1, 2 or 4).
    /// Call it only once the picture's size has been held against the pixel limit: it
    /// allocates 2 bytes a luma block at 1/8, 58 at 2/8, 106 at 4/8.
    pub(crate) fn decode<R: BufRead>(mut self, reader: &mut R, eighths: u32) -> Option<Luma> {
        if !matches!(eighths, 1 | 2 | 4) {
            return None;
        }
        self.luma = Some(Coefficients::new(
            self.blocks_across(),
            self.blocks_down(),
            eighths,
        )?);
        let mut source = Source { reader };
        let mut next = self.pending_scan.take();
        loop {
            let after = match next.take() {
                Some(sos) => self.scan(&sos, &mut source)?,
                None => source.next_marker()?,
            };
            match after {
                0xd9 => break,
                0xda => {
                    let length = usize::from(source.u16()?).checked_sub(2)?;
                    next = Some(source.take(length)?);
                }
                0xc0..=0xcf if !matches!(after, 0xc4 | 0xcc) => return None,
                code if !libjpeg_reads(code) => return None,
                code => {
                    let length = usize::from(source.u16()?).checked_sub(2)?;
                    if needed(code) {
                        let body = source.take(length)?;
                        self.table(code, &body)?;
                    } else {
                        source.skip(length)?;
                    }
                }
            }
        }
        let coefficients = self.luma.take()?;
        // libjpeg smooths the blocks of a luma whose first AC coefficients are not all
        // known (its block smoothing): not this reader's to reproduce.
        if coefficients.keeps_ac() && self.ac_bits[1..=9].iter().any(|&bits| bits != 0) {
            return None;
        }
        let table = self.luma_quant?;
        Some(Luma {
            coefficients,
            quant: table.map(i64::from),
            eighths,
            width: (self.width * eighths as usize).div_ceil(8) as u32,
            height: (self.height * eighths as usize).div_ceil(8) as u32,
        })
    }

    /// One scan: decoded if it holds the luma's coefficients the decode needs, stepped
    /// over if not. Returns the marker after it.
    fn scan<R: BufRead>(&mut self, sos: &[u8], source: &mut Source<'_, R>) -> Option<u8> {
        let count = usize::from(*sos.first()?);
        // libjpeg refuses a scan header of another length, and a component twice.
        if sos.len() != 4 + 2 * count {
            return None;
        }
        let mut members: Vec<(usize, u8)> = Vec::with_capacity(count);
        for i in 0..count {
            let (id, tables) = (sos[1 + 2 * i], sos[2 + 2 * i]);
            let index = self.components.iter().position(|c| c.id == id)?;
            if members.iter().any(|&(seen, _)| seen == index) {
                return None;
            }
            members.push((index, tables));
        }
        let (ss, se) = (
            usize::from(*sos.get(1 + 2 * count)?),
            usize::from(*sos.get(2 + 2 * count)?),
        );
        let a = *sos.get(3 + 2 * count)?;
        let (ah, al) = (a >> 4, u32::from(a & 15));
        if ss == 0 {
            return self.dc_scan(&members, se, ah, al, source);
        }
        // An AC scan: one component (the standard's rule). An AC scan before its
        // component's first DC scan is a progression libjpeg warns of.
        if count != 1 || se < ss || se > 63 || self.dc_bits[members[0].0] < 0 {
            return None;
        }
        let (index, tables) = members[0];
        let luma = self.luma.as_mut()?;
        if index != 0 || !luma.keeps_ac() {
            return source.next_marker();
        }
        // libjpeg's checks of a scan it decodes: a bad one is an error, a refinement of
        // bits not yet had a warning (and the image fails).
        if al > 13 || (ah != 0 && u32::from(ah) != al + 1) {
            return None;
        }
        for bits in &mut self.ac_bits[ss..=se] {
            if i32::from(ah) != i32::from((*bits).max(0)) {
                return None;
            }
            *bits = al as i8;
        }
        let table = self.ac_tables.get(usize::from(tables & 15))?.as_ref()?;
        let band = Band {
            start: ss,
            end: se,
            low: al,
        };
        let mut bits = Bits::new(source);
        if ah == 0 {
            luma.first_scan(&mut bits, table, band, self.restart_interval)?;
        } else {
            luma.refine_scan(&mut bits, table, band, self.restart_interval)?;
        }
        bits.end()
    }

    /// A DC scan, first (`ah` 0) or refining, of the components `members` (index, table
    /// selectors). Returns the marker after it.
    fn dc_scan<R: BufRead>(
        &mut self,
        members: &[(usize, u8)],
        se: usize,
        ah: u8,
        al: u32,
        source: &mut Source<'_, R>,
    ) -> Option<u8> {
        let count = members.len();
        if se != 0 || count == 0 || count > 4 || al > 13 || (ah != 0 && u32::from(ah) != al + 1) {
            return None;
        }
        // libjpeg's progression check: a DC scan refines what the last one left (a first
        // scan, nothing); anything else it warns of, and the warning fails the image.
        for &(index, _) in members {
            if i32::from(ah) != i32::from(self.dc_bits[index].max(0)) {
                return None;
            }
            self.dc_bits[index] = al as i8;
        }
        // libjpeg latches each member's quantisation table at its first scan, and fails
        // when it is not defined by then.
        for &(index, _) in members {
            let table = self.quant[self.components[index].quant]?;
            if index == 0 && self.luma_quant.is_none() {
                self.luma_quant = Some(table);
            }
        }
        let mut tables = Vec::with_capacity(count);
        for &(_, selectors) in members {
            tables.push(match ah {
                0 => Some(self.dc_tables.get(usize::from(selectors >> 4))?.clone()?),
                _ => None,
            });
        }
        let (hmax, vmax) = (self.h_max(), self.v_max());
        let luma = self.luma.as_mut()?;
        let (across, down) = (luma.across, luma.down);
        // Alone, a component's own blocks in rows; interleaved, MCUs of every member's
        // blocks (h x v of each, in rows), padding blocks past the edge included. Each
        // block of an MCU: its member, its place in the MCU (in blocks of its component),
        // and whether it is the luma's.
        let single = count == 1;
        let own = self.components[members[0].0];
        let (mcus_across, mcus_down) = if single {
            (
                (self.width * own.h).div_ceil(hmax).div_ceil(8),
                (self.height * own.v).div_ceil(vmax).div_ceil(8),
            )
        } else {
            (
                self.width.div_ceil(8 * hmax),
                self.height.div_ceil(8 * vmax),
            )
        };
        let mut pattern = Vec::new();
        for (m, &(index, _)) in members.iter().enumerate() {
            let c = self.components[index];
            let (h, v) = if single { (1, 1) } else { (c.h, c.v) };
            for by in 0..v {
                for bx in 0..h {
                    pattern.push((m, (h, v), (bx, by), index == 0));
                }
            }
        }
        let mut bits = Bits::new(source);
        let mut predictions = [0i32; 4];
        let mut restarts = Restarts::new(self.restart_interval);
        for my in 0..mcus_down {
            for mx in 0..mcus_across {
                if let Some(marker) = restarts.before_mcu() {
                    bits.restart(marker)?;
                    predictions = [0; 4];
                }
                for &(m, (h, v), (bx, by), is_luma) in &pattern {
                    let (x, y) = (mx * h + bx, my * v + by);
                    let stored = (is_luma && x < across && y < down).then(|| y * across + x);
                    if let Some(table) = &tables[m] {
                        let category = bits.decode(table)?;
                        let diff = bits.signed(u32::from(category))?;
                        // libjpeg's ints wrap, and it keeps coefficients as 16 bits.
                        predictions[m] = predictions[m].wrapping_add(diff);
                        if let Some(at) = stored {
                            luma.dc[at] = ((predictions[m] as u32) << al) as i16;
                        }
                    } else {
                        let bit = bits.bit()? as i16;
                        if let Some(at) = stored {
                            luma.dc[at] |= bit << al;
                        }
                    }
                }
            }
        }
        // The scan's data ends with its last block: a marker, perhaps after fill bytes.
        bits.end()
    }
}

impl Luma {
    /// Each row of pixels, top first, `width` bytes each, exactly as libjpeg's reduced IDCT
    /// makes them (the blocks' padding past the picture's edge cut off).
    pub(crate) fn rows(&self, mut row: impl FnMut(&[u8])) {
        let m = self.eighths as usize;
        let across = self.coefficients.across;
        let mut band = vec![0u8; across * m * m];
        let mut dequantised = [0i64; 64];
        let (mut two, mut four) = ([[0u8; 2]; 2], [[0u8; 4]; 4]);
        let width = self.width as usize;
        let mut emitted = 0;
        for by in 0..self.coefficients.down {
            for bx in 0..across {
                let block = by * across + bx;
                let mut put = |y: usize, pixels: &[u8]| {
                    let at = y * across * m + bx * m;
                    band[at..at + m].copy_from_slice(pixels);
                };
                match m {
                    1 => put(
                        0,
                        &[idct::idct_1x1(
                            i64::from(self.coefficients.dc[block]) * self.quant[0],
                        )],
                    ),
                    2 => {
                        self.coefficients
                            .dequantised(block, &self.quant, &mut dequantised);
                        idct::idct_2x2(&dequantised, &mut two);
                        two.iter().enumerate().for_each(|(y, p)| put(y, p));
                    }
                    _ => {
                        self.coefficients
                            .dequantised(block, &self.quant, &mut dequantised);
                        idct::idct_4x4(&dequantised, &mut four);
                        four.iter().enumerate().for_each(|(y, p)| put(y, p));
                    }
                }
            }
            for line in band.chunks_exact(across * m) {
                if emitted < self.height {
                    row(&line[..width]);
                    emitted += 1;
                }
            }
        }
    }
}

mod ac;
mod header;
mod idct;
mod segments;
#[cfg(test)]
mod tests;
