//! The segments of a progressive JPEG the reader needs besides its scans: the frame
//! (components and their sampling) and the quantisation and Huffman tables.

use super::{Component, Decoder};
use crate::image::codecs::jpeg::bits::Huffman;
use crate::image::codecs::jpeg::progressive::ac::NATURAL;

impl Decoder {
    pub(crate) fn frame(&mut self, body: &[u8]) -> Option<()> {
        if body.first() != Some(&8) || !self.components.is_empty() {
            return None;
        }
        self.height = usize::from(u16::from_be_bytes([*body.get(1)?, *body.get(2)?]));
        self.width = usize::from(u16::from_be_bytes([*body.get(3)?, *body.get(4)?]));
        let count = usize::from(*body.get(5)?);
        // libjpeg refuses a frame header of another length.
        if body.len() != 6 + 3 * count {
            return None;
        }
        for i in 0..count {
            let c = body.get(6 + 3 * i..9 + 3 * i)?;
            self.components.push(Component {
                id: c[0],
                h: usize::from(c[1] >> 4),
                v: usize::from(c[1] & 15),
                quant: usize::from(c[2]),
            });
        }
        let (hmax, vmax) = (self.h_max(), self.v_max());
        let luma = self.components.first()?;
        let fine = matches!(count, 1 | 3)
            && self.width > 0
            && luma.h == hmax
            && luma.v == vmax
            && self
                .components
                .iter()
                .all(|c| (1..=4).contains(&c.h) && (1..=4).contains(&c.v) && c.quant < 4);
        // The coefficients are allocated in `decode`, once the caller has held the size
        // against the pixel limit.
        fine.then_some(())
    }

    pub(crate) fn h_max(&self) -> usize {
        self.components.iter().map(|c| c.h).max().unwrap_or(1)
    }

    pub(crate) fn v_max(&self) -> usize {
        self.components.iter().map(|c| c.v).max().unwrap_or(1)
    }

    /// Component `index`'s own size: the picture's, scaled by its sampling against the
    /// largest (libjpeg's `downsampled_width` and `downsampled_height`).
    pub(crate) fn sampled_size(&self, index: usize) -> (usize, usize) {
        let c = self.components[index];
        (
            (self.width * c.h).div_ceil(self.h_max()),
            (self.height * c.v).div_ceil(self.v_max()),
        )
    }

    /// Component `index`'s blocks across and down.
    pub(crate) fn blocks(&self, index: usize) -> (usize, usize) {
        let (width, height) = self.sampled_size(index);
        (width.div_ceil(8), height.div_ceil(8))
    }

    /// A table segment (quantisation, Huffman, restart interval) or one to step over.
    pub(crate) fn table(&mut self, code: u8, body: &[u8]) -> Option<()> {
        match code {
            0xdb => {
                let mut at = 0;
                while at < body.len() {
                    let (precision, id) = (body[at] >> 4, usize::from(body[at] & 15));
                    let size = if precision == 0 { 64 } else { 128 };
                    let values = body.get(at + 1..at + 1 + size)?;
                    let mut q = [0u16; 64];
                    // Stored in zigzag order; kept, as libjpeg keeps it, in natural order.
                    for (i, &natural) in NATURAL.iter().enumerate() {
                        q[natural] = if precision == 0 {
                            u16::from(values[i])
                        } else {
                            u16::from_be_bytes([values[2 * i], values[2 * i + 1]])
                        };
                    }
                    *self.quant.get_mut(id)? = Some(q);
                    at += 1 + size;
                }
            }
            0xc4 => {
                let mut at = 0;
                while at < body.len() {
                    let (class, id) = (body[at] >> 4, usize::from(body[at] & 15));
                    let counts = body.get(at + 1..at + 17)?;
                    let total: usize = counts.iter().map(|&n| usize::from(n)).sum();
                    let symbols = body.get(at + 17..at + 17 + total)?;
                    let table = Some(Huffman::new(counts, symbols, class == 0)?);
                    match class {
                        0 => *self.dc_tables.get_mut(id)? = table,
                        1 => *self.ac_tables.get_mut(id)? = table,
                        _ => return None,
                    }
                    at += 17 + total;
                }
            }
            // libjpeg refuses a restart interval segment of another length.
            0xdd if body.len() != 2 => return None,
            0xdd => self.restart_interval = usize::from(u16::from_be_bytes([body[0], body[1]])),
            // Arithmetic conditioning, a line count: not for this reader.
            0xcc | 0xdc => return None,
            _ => {}
        }
        Some(())
    }
}
