//! A progressive JPEG at 1/8 scale (one pixel a block) without libjpeg: a thumbnail needs
//! only the luma's DC coefficients, which progressive files keep in scans of their own.
//! libjpeg would still allocate and zero the coefficients of every block of every
//! component (about 100 MB for a 16.8 MP 4:4:4 photo); here the DC scans are decoded into
//! one value a luma block and every other scan is stepped over, so memory follows the
//! thumbnail. Each pixel is computed exactly as libjpeg's 1x1 inverse DCT computes it
//! (dequantise, descale by 3 with rounding, its range-limit table), so the output is byte
//! for byte libjpeg's. Anything this reader is not sure of (arithmetic coding, 12-bit
//! samples, a luma that is not the largest component, RGB (as libjpeg tells it: JFIF,
//! Adobe's transform, the component ids) or CMYK, a damaged scan, no end of image) answers
//! `None`, and the caller hands the file to libjpeg from its start.

use std::io::BufRead;

use crate::image::codecs::jpeg::bits::{Bits, Huffman, Source};

use image::metadata::Orientation;

/// The luma of a progressive JPEG decoded at 1/8: one byte a block, rows top first.
pub(crate) struct DcPlane {
    /// Blocks across (the picture's width / 8, rounded up) and down.
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// What the frame header and the segments before the first scan say.
pub(crate) struct Header {
    /// The picture's size as stored.
    pub width: u32,
    pub height: u32,
    /// The EXIF orientation (not applied).
    pub orientation: Orientation,
}

/// One component of the frame.
#[derive(Clone, Copy)]
struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
}

/// Reads the segments before the first scan. `None` when the file is not a progressive,
/// Huffman-coded, 8-bit YCbCr or gray JPEG whose luma is its largest component.
pub(crate) fn read_header<R: BufRead>(reader: &mut R) -> Option<(Header, Decoder)> {
    let mut source = Source { reader };
    if source.u16()? != 0xffd8 {
        return None;
    }
    let mut decoder = Decoder {
        dc_bits: [-1; 4],
        ..Decoder::default()
    };
    let mut orientation = Orientation::NoTransforms;
    let mut exif_seen = false;
    let (mut jfif, mut adobe) = (false, None);
    loop {
        let code = source.next_marker()?;
        match code {
            0xd8 | 0xd9 | 0xd0..=0xd7 | 0x01 => return None,
            _ => {}
        }
        let length = usize::from(source.u16()?).checked_sub(2)?;
        if code == 0xe1 {
            // The first EXIF block decides, as on the libjpeg path; other APP1 blocks (XMP,
            // often hundreds of kilobytes) are stepped over, not read into memory.
            let prefix = source.take(length.min(6))?;
            if exif_seen || prefix != b"Exif\0\0" {
                source.skip(length - prefix.len())?;
                continue;
            }
            exif_seen = true;
            let exif = source.take(length - prefix.len())?;
            orientation = Orientation::from_exif_chunk(&exif).unwrap_or(orientation);
            continue;
        }
        if !needed(code) {
            source.skip(length)?;
            continue;
        }
        let body = source.take(length)?;
        match code {
            0xe0 if body.starts_with(b"JFIF\0") => jfif = true,
            // Adobe's colour transform: 0 is RGB (for three components), 1 YCbCr.
            0xee if body.starts_with(b"Adobe") => adobe = body.get(11).copied(),
            0xc2 => decoder.frame(&body)?,
            // Any other frame: baseline, lossless, arithmetic, hierarchical.
            0xc0..=0xcf if !matches!(code, 0xc4 | 0xc8 | 0xcc) => return None,
            0xda => {
                // libjpeg's reading of three components: JFIF says YCbCr, else Adobe's
                // transform, else the component ids (R, G, B is RGB).
                let ids: Vec<u8> = decoder.components.iter().map(|c| c.id).collect();
                let rgb = decoder.components.len() == 3
                    && !jfif
                    && match adobe {
                        Some(transform) => transform == 0,
                        None => ids == [82, 71, 66],
                    };
                if rgb {
                    return None;
                }
                let header = Header {
                    width: decoder.width as u32,
                    height: decoder.height as u32,
                    orientation,
                };
                decoder.pending_scan = Some(body);
                return (decoder.height > 0).then_some((header, decoder));
            }
            _ => decoder.table(code, &body)?,
        }
    }
}

/// Whether this reader needs the body of segment `code` (frames, scans, tables, JFIF and
/// Adobe markers); every other body is stepped over.
fn needed(code: u8) -> bool {
    matches!(code, 0xc0..=0xcf | 0xda..=0xdd | 0xe0 | 0xee)
}

/// The state of a DC-only decode between segments.
#[derive(Default)]
pub(crate) struct Decoder {
    width: usize,
    height: usize,
    components: Vec<Component>,
    quant: [Option<[u16; 64]>; 4],
    dc_tables: [Option<Huffman>; 4],
    restart_interval: usize,
    /// The luma's DC coefficients, block by block.
    dc: Vec<i16>,
    /// Per component, the low bit its DC scans have reached (-1: none yet).
    dc_bits: [i8; 4],
    /// The luma's quantiser for its DC, latched at its first scan as libjpeg does.
    luma_q: Option<u16>,
    pending_scan: Option<Vec<u8>>,
}

impl Decoder {
    /// Decodes every scan to the end of the image and returns the luma at 1/8. Call it
    /// only once the picture's size has been held against the pixel limit: it allocates
    /// two bytes a luma block.
    pub(crate) fn decode<R: BufRead>(mut self, reader: &mut R) -> Option<DcPlane> {
        let blocks = self.blocks_across() * self.blocks_down();
        let mut dc = Vec::new();
        dc.try_reserve_exact(blocks).ok()?;
        dc.resize(blocks, 0);
        self.dc = dc;
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
                0xd8 | 0xd0..=0xd7 | 0x01 => return None,
                0xc0..=0xcf if !matches!(after, 0xc4 | 0xc8 | 0xcc) => return None,
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
        Some(self.plane())
    }

    /// One scan: a DC scan decoded, any other stepped over. Returns the marker after it.
    fn scan<R: BufRead>(&mut self, sos: &[u8], source: &mut Source<'_, R>) -> Option<u8> {
        let count = usize::from(*sos.first()?);
        let mut members = Vec::with_capacity(count);
        for i in 0..count {
            let (id, tables) = (*sos.get(1 + 2 * i)?, *sos.get(2 + 2 * i)?);
            let index = self.components.iter().position(|c| c.id == id)?;
            members.push((index, usize::from(tables >> 4)));
        }
        let (ss, se) = (*sos.get(1 + 2 * count)?, *sos.get(2 + 2 * count)?);
        let a = *sos.get(3 + 2 * count)?;
        let (ah, al) = (a >> 4, u32::from(a & 15));
        if ss > 0 {
            // An AC scan: one component (the standard's rule), its data stepped over. An AC
            // scan before its component's first DC scan is a progression libjpeg warns of.
            if count != 1 || se < ss || se > 63 || self.dc_bits[members[0].0] < 0 {
                return None;
            }
            return source.next_marker();
        }
        if se != 0 || count == 0 || count > 4 || al > 13 || (ah != 0 && u32::from(ah) != al + 1) {
            return None;
        }
        // libjpeg's progression check: a DC scan refines what the last one left (a first
        // scan, nothing); anything else it warns of, and the warning fails the image.
        for &(index, _) in &members {
            if i32::from(ah) != i32::from(self.dc_bits[index].max(0)) {
                return None;
            }
            self.dc_bits[index] = al as i8;
        }
        if members.iter().any(|&(index, _)| index == 0) && self.luma_q.is_none() {
            self.luma_q = Some(self.quant[self.components[0].quant]?[0]);
        }
        let mut tables = Vec::with_capacity(count);
        for &(_, table) in &members {
            tables.push(match ah {
                0 => Some(self.dc_tables.get(table)?.clone()?),
                _ => None,
            });
        }
        let (hmax, vmax) = (self.h_max(), self.v_max());
        let across = self.blocks_across();
        // Alone, a component's own blocks in rows; interleaved, MCUs of every member's
        // blocks (h x v of each, in rows), padding blocks past the edge included.
        let single = count == 1;
        let own = self.components[members[0].0];
        let own_across = (self.width * own.h).div_ceil(hmax).div_ceil(8);
        let own_down = (self.height * own.v).div_ceil(vmax).div_ceil(8);
        let mcus_across = self.width.div_ceil(8 * hmax);
        let mcus = if single {
            own_across * own_down
        } else {
            mcus_across * self.height.div_ceil(8 * vmax)
        };
        let mut pattern = Vec::new();
        for (m, &(index, _)) in members.iter().enumerate() {
            let c = self.components[index];
            for by in 0..c.v {
                for bx in 0..c.h {
                    pattern.push((m, c.h, c.v, bx, by));
                }
            }
        }
        if single {
            pattern = vec![(0, 1, 1, 0, 0)];
        }
        let mut bits = Bits::new(source);
        let mut predictions = [0i32; 4];
        let mut restarts = 0u8;
        let down = self.blocks_down();
        for mcu in 0..mcus {
            if self.restart_interval > 0 && mcu > 0 && mcu % self.restart_interval == 0 {
                bits.restart(0xd0 + restarts)?;
                restarts = (restarts + 1) % 8;
                predictions = [0; 4];
            }
            let (mx, my) = if single {
                (mcu % own_across, mcu / own_across)
            } else {
                (mcu % mcus_across, mcu / mcus_across)
            };
            for &(m, h, v, bx, by) in &pattern {
                let (x, y) = (mx * h + bx, my * v + by);
                let luma = members[m].0 == 0 && x < across && y < down;
                if let Some(table) = &tables[m] {
                    let category = bits.decode(table)?;
                    let raw = bits.bits(u32::from(category))? as i32;
                    let diff = if category > 0 && raw < 1 << (category - 1) {
                        raw - (1 << category) + 1
                    } else {
                        raw
                    };
                    // libjpeg's ints wrap, and it keeps coefficients as 16 bits.
                    predictions[m] = predictions[m].wrapping_add(diff);
                    if luma {
                        self.dc[y * across + x] = ((predictions[m] as u32) << al) as i16;
                    }
                } else if bits.bit()? == 1 && luma {
                    self.dc[y * across + x] |= 1 << al;
                }
            }
        }
        // The scan's data ends with its last block: a marker, perhaps after fill bytes.
        bits.end()
    }

    /// Every block's pixel as libjpeg's 1x1 inverse DCT makes it.
    fn plane(&self) -> DcPlane {
        let q = i32::from(self.luma_q.unwrap_or(0));
        let pixels = self
            .dc
            .iter()
            .map(|&dc| range_limit(descale(i32::from(dc) * q)))
            .collect();
        DcPlane {
            width: self.blocks_across() as u32,
            height: self.blocks_down() as u32,
            pixels,
        }
    }
}

/// libjpeg's DESCALE(x, 3): add half, shift right (arithmetically).
fn descale(x: i32) -> i32 {
    (x + 4) >> 3
}

/// libjpeg's post-IDCT range limit, `range_limit[x & 1023]` for 8-bit samples: 128 is
/// added, values past the ends clamp, and values far past them wrap as its table does.
fn range_limit(x: i32) -> u8 {
    match x & 1023 {
        i @ 0..=127 => (i + 128) as u8,
        128..=511 => 255,
        512..=895 => 0,
        i => (i - 896) as u8,
    }
}

mod segments;
#[cfg(test)]
mod tests;
