//! The entropy-coded side of a JPEG for the progressive reader
//! ([`crate::image::codecs::jpeg::progressive`]): its bytes from a buffered reader
//! (markers found, segments taken whole), the bits of a scan's data (stuffed zeros taken
//! out, a marker ending it, restart markers checked) read 64 at a time, and canonical
//! Huffman tables with a 9-bit lookahead.

use std::io::BufRead;

/// Bits looked up at once; longer codes take the canonical code's limits.
const LOOKAHEAD: u32 = 9;

/// A Huffman table, as libjpeg builds it for decoding: the canonical code's largest code
/// of each length, where its symbols start, and the codes of up to [`LOOKAHEAD`] bits
/// found in one lookup.
#[derive(Clone)]
pub(crate) struct Huffman {
    max_code: [i32; 18],
    offset: [i32; 17],
    symbols: Vec<u8>,
    /// Indexed by the next 9 bits: the code's length << 8 | its symbol; 0 for a code
    /// that is longer (or none).
    fast: Box<[u16; 1 << LOOKAHEAD]>,
    /// An AC table's: indexed by the next 9 bits, a coefficient whose code and value
    /// bits both lie in them (empty for a DC table).
    coefficients: Vec<Coefficient>,
}

/// A nonzero AC coefficient read whole from a lookahead: the zeros before it, its value
/// (before the scan's shift) and the bits its code and value take; `length` 0 when they
/// do not fit.
#[derive(Clone, Copy, Default)]
pub(crate) struct Coefficient {
    pub(crate) run: u8,
    pub(crate) length: u8,
    pub(crate) value: i16,
}

impl Huffman {
    /// The table of the code lengths `counts` (16 of them) and `symbols`; `None` for a
    /// table libjpeg refuses: codes that overflow their length, counts that disagree with
    /// the symbols, and for a DC table (`dc`) a difference category over 15.
    pub(crate) fn new(counts: &[u8], symbols: &[u8], dc: bool) -> Option<Huffman> {
        if dc && symbols.iter().any(|&s| s > 15) {
            return None;
        }
        let (mut max_code, mut offset) = ([-1i32; 18], [0i32; 17]);
        let mut fast = Box::new([0u16; 1 << LOOKAHEAD]);
        let (mut code, mut k) = (0i32, 0usize);
        for length in 1..=16 {
            let n = usize::from(*counts.get(length - 1)?);
            offset[length] = k as i32 - code;
            for _ in 0..n {
                // libjpeg: the codes of a length must fit in it...
                if code >= 1 << length {
                    return None;
                }
                let symbol = *symbols.get(k)?;
                if length as u32 <= LOOKAHEAD {
                    // Every 9-bit pattern that starts with this code.
                    let spare = LOOKAHEAD - length as u32;
                    let first = (code as usize) << spare;
                    for entry in &mut fast[first..first + (1 << spare)] {
                        *entry = (length as u16) << 8 | u16::from(symbol);
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                max_code[length] = code - 1;
            }
            // Nor may the last of them be all ones.
            if code >= 1 << length {
                return None;
            }
            code <<= 1;
        }
        // A sentinel: no code is longer than 16 bits.
        max_code[17] = i32::MAX;
        if k != symbols.len() {
            return None;
        }
        let coefficients = if dc {
            Vec::new()
        } else {
            (0..1usize << LOOKAHEAD)
                .map(|bits| whole_coefficient(fast[bits], bits as u32))
                .collect()
        };
        Some(Huffman {
            max_code,
            offset,
            symbols: symbols.to_vec(),
            fast,
            coefficients,
        })
    }

    /// The coefficient (AC tables only) that the next [`LOOKAHEAD`] bits `bits` hold
    /// whole, if any.
    #[inline(always)]
    pub(crate) fn coefficient(&self, bits: usize) -> Coefficient {
        self.coefficients[bits]
    }
}

/// The nonzero coefficient whose code (`entry`, as in [`Huffman::fast`]) starts
/// `lookahead` and whose value bits follow it within it; a zero `length` when there is
/// none (a longer code, a run code, or value bits past the lookahead).
fn whole_coefficient(entry: u16, lookahead: u32) -> Coefficient {
    let (length, symbol) = (u32::from(entry >> 8), entry as u8);
    let size = u32::from(symbol & 15);
    if entry == 0 || size == 0 || length + size > LOOKAHEAD {
        return Coefficient::default();
    }
    let raw = (lookahead >> (LOOKAHEAD - length - size)) & ((1 << size) - 1);
    Coefficient {
        run: symbol >> 4,
        length: (length + size) as u8,
        value: extend(raw as i32, size) as i16,
    }
}

/// A coefficient of `size` bits as the standard codes it, extended to its sign (without
/// a branch: the signs are as good as random).
#[inline(always)]
fn extend(raw: i32, size: u32) -> i32 {
    let (half, all) = ((1i32 << size) >> 1, (1i32 << size) - 1);
    raw - i32::from(raw < half) * all
}

/// Bytes of the file, one at a time or in runs, from a buffered reader.
pub(crate) struct Source<'a, R> {
    pub(crate) reader: &'a mut R,
}

impl<R: BufRead> Source<'_, R> {
    #[inline]
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

/// Entropy-coded bits of one scan: stuffed zeros taken out; a marker ends the data. Past
/// the end, zeros are supplied so a lookahead may run over it, but reading any of them is
/// an error (`None`): libjpeg would make them up and warn that data is missing.
pub(crate) struct Bits<'s, 'a, R> {
    source: &'s mut Source<'a, R>,
    /// The next `count` bits, from the top.
    value: u64,
    count: u32,
    /// How many of the lowest of those `count` bits are made-up zeros past the end.
    made_up: u32,
    /// A marker was met (its code is kept for after the scan).
    marker: Option<u8>,
    /// The file ended inside the scan.
    ended: bool,
}

impl<'s, 'a, R: BufRead> Bits<'s, 'a, R> {
    /// The bits of the scan whose data `source` is at.
    pub(crate) fn new(source: &'s mut Source<'a, R>) -> Self {
        Bits {
            source,
            value: 0,
            count: 0,
            made_up: 0,
            marker: None,
            ended: false,
        }
    }

    /// The code of the marker after the scan's data, once its last block is read: the
    /// one already met, or the next one (fill and extraneous bytes stepped over).
    pub(crate) fn end(self) -> Option<u8> {
        match self.marker {
            Some(code) => Some(code),
            None if self.ended => None,
            None => self.source.next_marker(),
        }
    }

    /// The next byte of the scan's data, or `None` at its end (a marker, or the file's).
    #[inline]
    fn data_byte(&mut self) -> Option<u8> {
        if self.marker.is_some() || self.ended {
            return None;
        }
        let Some(b) = self.source.byte() else {
            self.ended = true;
            return None;
        };
        if b != 0xff {
            return Some(b);
        }
        match self.source.byte() {
            Some(0) => Some(0xff),
            Some(code) => {
                self.marker = Some(code);
                None
            }
            None => {
                self.ended = true;
                None
            }
        }
    }

    /// At least 57 bits ahead, made-up zeros past the end.
    #[inline]
    fn refill(&mut self) {
        // Bytes straight from the reader's buffer while they are plain data; a 0xFF (a
        // stuffed zero or a marker) and the buffer's end take the byte-by-byte way.
        if self.marker.is_none()
            && !self.ended
            && let Ok(buf) = self.source.reader.fill_buf()
        {
            let mut used = 0;
            while self.count <= 56 {
                match buf.get(used) {
                    Some(&b) if b != 0xff => {
                        self.value |= u64::from(b) << (56 - self.count);
                        self.count += 8;
                        used += 1;
                    }
                    _ => break,
                }
            }
            self.source.reader.consume(used);
        }
        while self.count <= 56 {
            match self.data_byte() {
                Some(b) => {
                    self.value |= u64::from(b) << (56 - self.count);
                    self.count += 8;
                }
                None => {
                    self.made_up += 64 - self.count;
                    self.count = 64;
                }
            }
        }
    }

    /// The next `n` bits (0 to 32) without using them.
    #[inline(always)]
    fn peek(&mut self, n: u32) -> u32 {
        if self.count < n {
            self.refill();
        }
        // Two shifts, so that 0 bits are 0 without a branch.
        ((self.value >> 1) >> (63 - n)) as u32
    }

    /// Uses `n` bits; `None` if any of them is past the end of the data.
    #[inline(always)]
    fn drop_bits(&mut self, n: u32) -> Option<()> {
        self.value <<= n;
        self.count -= n;
        (self.count >= self.made_up).then_some(())
    }

    #[inline(always)]
    pub(crate) fn bit(&mut self) -> Option<u32> {
        self.bits(1)
    }

    /// The next `n` bits (0 to 32) as a number.
    #[inline(always)]
    pub(crate) fn bits(&mut self, n: u32) -> Option<u32> {
        let v = self.peek(n);
        self.drop_bits(n)?;
        Some(v)
    }

    /// The next symbol of `table`; `None` for bits that are no code of it.
    #[inline(always)]
    pub(crate) fn decode(&mut self, table: &Huffman) -> Option<u8> {
        if self.count < 16 {
            self.refill();
        }
        let entry = table.fast[(self.value >> (64 - LOOKAHEAD)) as usize];
        if entry != 0 {
            self.drop_bits(u32::from(entry >> 8))?;
            return Some(entry as u8);
        }
        self.decode_long(table)
    }

    /// [`Bits::decode`] for a code longer than the lookahead (or no code).
    #[cold]
    fn decode_long(&mut self, table: &Huffman) -> Option<u8> {
        let mut length = LOOKAHEAD as usize + 1;
        let mut code = (self.value >> (64 - length)) as i32;
        while code > table.max_code[length] {
            length += 1;
            code = (self.value >> (64 - length.min(16))) as i32;
        }
        if length > 16 {
            return None;
        }
        self.drop_bits(length as u32)?;
        table
            .symbols
            .get((code + table.offset[length]) as usize)
            .copied()
    }

    /// A coefficient of `size` bits (its category, 0 to 16), extended to its sign as the
    /// standard codes it (without a branch: the signs are as good as random).
    #[inline(always)]
    pub(crate) fn signed(&mut self, size: u32) -> Option<i32> {
        Some(extend(self.bits(size)? as i32, size))
    }

    /// The next [`LOOKAHEAD`] bits, as [`Bits::decode`] looks them up (none used).
    #[inline(always)]
    pub(crate) fn lookahead(&mut self) -> usize {
        if self.count < 16 {
            self.refill();
        }
        (self.value >> (64 - LOOKAHEAD)) as usize
    }

    /// Uses `n` bits of the lookahead; `None` if any is past the end of the data.
    #[inline(always)]
    pub(crate) fn skip(&mut self, n: u32) -> Option<()> {
        self.drop_bits(n)
    }

    /// Past the restart marker `expected`: the rest of the byte dropped, bytes that are no
    /// marker stepped over (libjpeg does, with a warning that loses nothing).
    pub(crate) fn restart(&mut self, expected: u8) -> Option<()> {
        // Whole bytes read ahead were data of this interval, the libjpeg way: dropped.
        self.value = 0;
        self.count = 0;
        self.made_up = 0;
        if self.ended {
            return None;
        }
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
