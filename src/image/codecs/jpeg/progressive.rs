//! A progressive JPEG decoded at 1/8, 2/8 or 4/8 scale without libjpeg: its luma alone
//! for a gray thumbnail, every component for a colour one. A reduced decode needs only
//! some coefficients: the DC scans at 1/8 (one pixel a block), and the kept components' AC
//! scans besides at 2/8 and 4/8 (the others are stepped over: the chroma's, in gray).
//! libjpeg would allocate and zero the coefficients of every block of every component
//! (about 100 MB for a 16.8 MP 4:4:4 photo) and Huffman-decode what it is given; here a
//! block keeps the coefficients its IDCT reads ([`ac`]), and each pixel is computed
//! exactly as libjpeg computes it: its reduced IDCTs ([`idct`]), chroma at twice the scale
//! where libjpeg scales it up (4:2:0), its upsampling and YCbCr conversion otherwise
//! ([`colour`]), so the output is byte for byte libjpeg's. Anything this reader is not sure
//! of (arithmetic coding, 12-bit samples, a luma that is not the largest component, RGB
//! (as libjpeg tells it: JFIF, Adobe's transform, the component ids) or CMYK, chroma
//! libjpeg would upsample in a way not reproduced here, a progression libjpeg warns of or
//! would smooth over, a damaged scan, no end of image) answers `None`, and the caller
//! hands the file to libjpeg from its start.

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
    /// Per component, its coefficients when the decode keeps them (the luma alone for
    /// gray, every component for colour), allocated by `decode`.
    planes: Vec<Option<Coefficients>>,
    /// Per component, the low bit its DC scans have reached (-1: none yet).
    dc_bits: [i8; 4],
    /// Per component and zigzag position, the low bit its AC scans have reached (-1: none
    /// yet).
    ac_bits: [[i8; 64]; 4],
    /// Per component, its quantisation table, latched at its first scan as libjpeg does.
    latched: [Option<[u16; 64]>; 4],
    pending_scan: Option<Vec<u8>>,
}

/// Which components a decode keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// The luma alone (a gray thumbnail).
    Luma,
    /// Every component (a colour one).
    Every,
}

/// One component of a progressive JPEG, decoded: its pixels at the scale asked for come a
/// row at a time from [`Plane::rows`].
pub(crate) struct Plane {
    coefficients: Coefficients,
    quant: [i64; 64],
    eighths: u32,
    /// The plane's size at that scale: libjpeg's `ceil(size * eighths / 8)` of the
    /// component's own size.
    pub width: u32,
    pub height: u32,
    /// The luma pixels across and down that one of its pixels covers (its sampling
    /// against the luma's: 1 for the luma).
    pub covers: (usize, usize),
    /// Whether it is brought to the luma's width by libjpeg's "fancy" upsampling (each
    /// pair of outputs 3/4 of the nearer pixel and 1/4 of the further one), not by
    /// repeating each pixel: chroma at half the luma's width, decoded at 2/8 or 4/8.
    pub smooth: bool,
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
            planes: Vec::new(),
            dc_bits: [-1; 4],
            ac_bits: [[-1; 64]; 4],
            latched: [None; 4],
            pending_scan: None,
        }
    }

    /// Decodes every scan to the end of the image for a decode at `eighths`/8 (1, 2 or 4),
    /// keeping the components `kept`: their planes, in the frame's order. Call it only
    /// once the picture's size has been held against the pixel limit: it allocates 2 bytes
    /// a kept block at 1/8, 58 at 2/8, 106 at 4/8.
    pub(crate) fn decode<R: BufRead>(
        mut self,
        reader: &mut R,
        eighths: u32,
        kept: Kept,
    ) -> Option<Vec<Plane>> {
        if !matches!(eighths, 1 | 2 | 4) {
            return None;
        }
        let count = match kept {
            Kept::Luma => 1,
            Kept::Every => self.components.len(),
        };
        let mut scales = Vec::with_capacity(count);
        for index in 0..self.components.len() {
            let (across, down) = self.blocks(index);
            let plane = if index < count {
                let scale = self.scale_of(index, eighths)?;
                scales.push(scale);
                Some(Coefficients::new(across, down, scale)?)
            } else {
                None
            };
            self.planes.push(plane);
        }
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
        let mut planes = Vec::with_capacity(count);
        for (index, &scale) in scales.iter().enumerate() {
            let coefficients = self.planes[index].take()?;
            // libjpeg smooths the blocks of a component whose first AC coefficients are
            // not all known (its block smoothing): not this reader's to reproduce.
            if coefficients.keeps_ac() && self.ac_bits[index][1..=9].iter().any(|&b| b != 0) {
                return None;
            }
            let c = self.components[index];
            let (hmax, vmax) = (self.h_max(), self.v_max());
            let scale = scale as usize;
            // libjpeg's `downsampled_width` and `downsampled_height` at the scale.
            let size = |length: usize, own: usize, max: usize| {
                (length * own * scale).div_ceil(max * 8) as u32
            };
            planes.push(Plane {
                coefficients,
                quant: self.latched[index]?.map(i64::from),
                eighths: scale as u32,
                width: size(self.width, c.h, hmax),
                height: size(self.height, c.v, vmax),
                covers: (
                    hmax * eighths as usize / (c.h * scale),
                    vmax * eighths as usize / (c.v * scale),
                ),
                smooth: false,
            });
            let plane = planes.last_mut()?;
            // libjpeg upsamples smoothly past 1/8, where the plane is wider than 2.
            plane.smooth = plane.covers == (2, 1) && eighths > 1 && plane.width > 2;
        }
        Some(planes)
    }

    /// The scale component `index` is decoded at, in eighths, for a decode at `eighths`
    /// (libjpeg's `DCT_scaled_size`): chroma that libjpeg would upsample by two is
    /// decoded at twice the scale instead, as libjpeg does, up to 8/8. At 1/8 every
    /// component keeps its DC alone (the AC scans are what a 1/8 decode leaves out), and
    /// chroma is repeated over the luma pixels it covers, as libjpeg's plain upsampling
    /// does. Past 1/8, chroma left at half the luma's width (4:2:2) is upsampled as
    /// libjpeg does (see [`Plane::smooth`]); any other chroma libjpeg would upsample
    /// (4:4:0, 4:1:1) answers `None`: not this reader's to reproduce.
    fn scale_of(&self, index: usize, eighths: u32) -> Option<u32> {
        let c = self.components[index];
        let (hmax, vmax) = (self.h_max() as u32, self.v_max() as u32);
        let (h, v) = (c.h as u32, c.v as u32);
        if eighths == 1 {
            return (hmax % h == 0 && vmax % v == 0).then_some(1);
        }
        let mut scale = eighths;
        while scale < 8
            && (hmax * eighths).is_multiple_of(h * scale * 2)
            && (vmax * eighths).is_multiple_of(v * scale * 2)
        {
            scale *= 2;
        }
        let across = hmax * eighths / (h * scale);
        let whole = hmax * eighths == across * h * scale && vmax * eighths == v * scale;
        (whole && matches!(across, 1 | 2)).then_some(scale)
    }

    /// One scan: decoded if it holds coefficients of a kept component that the decode
    /// needs, stepped over if not. Returns the marker after it.
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
        let Some(plane) = self.planes[index].as_mut().filter(|plane| plane.keeps_ac()) else {
            return source.next_marker();
        };
        // libjpeg's checks of a scan it decodes: a bad one is an error, a refinement of
        // bits not yet had a warning (and the image fails).
        if al > 13 || (ah != 0 && u32::from(ah) != al + 1) {
            return None;
        }
        for bits in &mut self.ac_bits[index][ss..=se] {
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
            plane.first_scan(&mut bits, table, band, self.restart_interval)?;
        } else {
            plane.refine_scan(&mut bits, table, band, self.restart_interval)?;
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
            self.latched[index].get_or_insert(table);
        }
        let mut tables = Vec::with_capacity(count);
        for &(_, selectors) in members {
            tables.push(match ah {
                0 => Some(self.dc_tables.get(usize::from(selectors >> 4))?.clone()?),
                _ => None,
            });
        }
        let (hmax, vmax) = (self.h_max(), self.v_max());
        // Alone, a component's own blocks in rows; interleaved, MCUs of every member's
        // blocks (h x v of each, in rows), padding blocks past the edge included. Each
        // block of an MCU: its member, its place in the MCU (in blocks of its component),
        // and its component.
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
                    pattern.push((m, (h, v), (bx, by), index));
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
                for &(m, (h, v), (bx, by), index) in &pattern {
                    let (x, y) = (mx * h + bx, my * v + by);
                    let plane = self.planes[index].as_mut();
                    let stored = plane
                        .filter(|p| x < p.across && y < p.down)
                        .map(|p| (&mut p.dc, y * p.across + x));
                    if let Some(table) = &tables[m] {
                        let category = bits.decode(table)?;
                        let diff = bits.signed(u32::from(category))?;
                        // libjpeg's ints wrap, and it keeps coefficients as 16 bits.
                        predictions[m] = predictions[m].wrapping_add(diff);
                        if let Some((dc, at)) = stored {
                            dc[at] = ((predictions[m] as u32) << al) as i16;
                        }
                    } else {
                        let bit = bits.bit()? as i16;
                        if let Some((dc, at)) = stored {
                            dc[at] |= bit << al;
                        }
                    }
                }
            }
        }
        // The scan's data ends with its last block: a marker, perhaps after fill bytes.
        bits.end()
    }
}

impl Plane {
    /// Each row of pixels, top first, `width` bytes each, exactly as libjpeg's reduced IDCT
    /// makes them (the blocks' padding past the picture's edge cut off).
    pub(crate) fn rows(&self, mut row: impl FnMut(&[u8])) {
        let m = self.eighths as usize;
        let across = self.coefficients.across;
        let mut band = vec![0u8; across * m * m];
        let mut dequantised = [0i64; 64];
        let (mut two, mut four, mut eight) = ([[0u8; 2]; 2], [[0u8; 4]; 4], [[0u8; 8]; 8]);
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
                    4 => {
                        self.coefficients
                            .dequantised(block, &self.quant, &mut dequantised);
                        idct::idct_4x4(&dequantised, &mut four);
                        four.iter().enumerate().for_each(|(y, p)| put(y, p));
                    }
                    _ => {
                        self.coefficients
                            .dequantised(block, &self.quant, &mut dequantised);
                        idct::idct_8x8(&dequantised, &mut eight);
                        eight.iter().enumerate().for_each(|(y, p)| put(y, p));
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
pub(crate) mod colour;
mod header;
mod idct;
mod segments;
#[cfg(test)]
mod tests;
