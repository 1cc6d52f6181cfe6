//! The entropy-coded side of a JPEG for the DC reader ([`crate::image::codecs::jpeg::dc`]): its bytes
//! from a buffered reader (markers found, segments taken whole), the bits of a scan's data
//! (stuffed zeros taken out, a marker ending it, restart markers checked), and canonical
//! Huffman tables for DC differences.

use std::io::BufRead;

/// A Huffman table for DC differences: the canonical code's largest code of each length
/// and where its symbols start.
#[derive(Clone)]
pub(crate) struct Huffman {
    max_code: [i32; 17],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    /// The table of the code lengths `counts` (16 of them) and `symbols`; `None` for a
    /// table libjpeg refuses (a DC category over 15, counts that disagree with symbols).
    pub(crate) fn new(counts: &[u8], symbols: &[u8]) -> Option<Huffman> {
        // DC difference categories are 0 to 15 (libjpeg refuses other tables).
        if symbols.iter().any(|&s| s > 15) {
            return None;
        }
        let (mut max_code, mut offset) = ([-1i32; 17], [0i32; 17]);
        let (mut code, mut k) = (0i32, 0i32);
        for length in 1..=16 {
            let n = i32::from(counts[length - 1]);
            offset[length] = k - code;
            if n > 0 {
                code += n;
                k += n;
                max_code[length] = code - 1;
            }
            code <<= 1;
        }
        (k as usize == symbols.len()).then(|| Huffman {
            max_code,
            offset,
            symbols: symbols.to_vec(),
        })
    }
}

/// Bytes of the file, one at a time or in runs, from a buffered reader.
pub(crate) struct Source<'a, R> {
    pub(crate) reader: &'a mut R,
}

impl<R: BufRead> Source<'_, R> {
    pub(crate) fn byte(&mut self) -> Option<u8> {
        let b = *self.reader.fill_buf().ok()?.first()?;
        self.reader.consume(1);
        Some(b)
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        Some(u16::from(self.byte()?) << 8 | u16::from(self.byte()?))
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let buf = self.reader.fill_buf().ok()?;
            if buf.is_empty() {
                return None;
            }
            let k = buf.len().min(n - out.len());
            out.extend_from_slice(&buf[..k]);
            self.reader.consume(k);
        }
        Some(out)
    }

    /// Steps over `n` bytes; `None` when the file ends first.
    pub(crate) fn skip(&mut self, mut n: usize) -> Option<()> {
        while n > 0 {
            let buf = self.reader.fill_buf().ok()?;
            if buf.is_empty() {
                return None;
            }
            let k = buf.len().min(n);
            self.reader.consume(k);
            n -= k;
        }
        Some(())
    }

    /// The code of the next marker, stepping over anything before it (a scan's data,
    /// extraneous bytes, fill bytes); `None` at the end of the file.
    pub(crate) fn next_marker(&mut self) -> Option<u8> {
        let mut ff = false;
        loop {
            let buf = self.reader.fill_buf().ok()?;
            if buf.is_empty() {
                return None;
            }
            let mut used = 0;
            for &b in buf {
                used += 1;
                if ff && b != 0 && b != 0xff && !(0xd0..=0xd7).contains(&b) {
                    self.reader.consume(used);
                    return Some(b);
                }
                ff = b == 0xff;
            }
            self.reader.consume(used);
        }
    }
}

/// Entropy-coded bits of one scan: stuffed zeros taken out; a marker ends the data.
pub(crate) struct Bits<'s, 'a, R> {
    source: &'s mut Source<'a, R>,
    value: u32,
    count: u32,
    /// A marker was met (its code is kept for after the scan).
    marker: Option<u8>,
}

impl<'s, 'a, R: BufRead> Bits<'s, 'a, R> {
    /// The bits of the scan whose data `source` is at.
    pub(crate) fn new(source: &'s mut Source<'a, R>) -> Self {
        Bits {
            source,
            value: 0,
            count: 0,
            marker: None,
        }
    }

    /// The code of the marker after the scan's data, once its last block is read: the
    /// one already met, or the next one (fill and extraneous bytes stepped over).
    pub(crate) fn end(self) -> Option<u8> {
        match self.marker {
            Some(code) => Some(code),
            None => self.source.next_marker(),
        }
    }

    pub(crate) fn bit(&mut self) -> Option<u32> {
        if self.count == 0 {
            if self.marker.is_some() {
                // libjpeg would make up zeros here and warn: data missing.
                return None;
            }
            let b = self.source.byte()?;
            if b == 0xff {
                match self.source.byte()? {
                    0 => {}
                    code => {
                        self.marker = Some(code);
                        return None;
                    }
                }
            }
            self.value = u32::from(b);
            self.count = 8;
        }
        self.count -= 1;
        Some((self.value >> self.count) & 1)
    }

    pub(crate) fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0, |v, _| Some(v << 1 | self.bit()?))
    }

    pub(crate) fn decode(&mut self, table: &Huffman) -> Option<u8> {
        let mut code = 0i32;
        for length in 1..=16 {
            code = code << 1 | self.bit()? as i32;
            if code <= table.max_code[length] {
                return table
                    .symbols
                    .get((code + table.offset[length]) as usize)
                    .copied();
            }
        }
        None
    }

    /// Past the restart marker `expected`: the rest of the byte dropped, bytes that are no
    /// marker stepped over (libjpeg does, with a warning that loses nothing).
    pub(crate) fn restart(&mut self, expected: u8) -> Option<()> {
        self.count = 0;
        let found = match self.marker.take() {
            Some(code) => code,
            None => {
                let mut ff = false;
                loop {
                    let b = self.source.byte()?;
                    if ff && b != 0xff && b != 0 {
                        break b;
                    }
                    ff = b == 0xff;
                }
            }
        };
        (found == expected).then_some(())
    }
}
