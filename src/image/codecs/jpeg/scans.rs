//! The scans of a progressive JPEG that a gray thumbnail never uses, taken out of the byte
//! stream before libjpeg sees them: libjpeg Huffman-decodes every scan it is given, and the
//! AC scans of the chroma components (a gray output never reads them) and, for a decode at
//! 1/8 scale (one pixel a block, from its DC coefficient alone), every AC scan, are most of
//! a progressive file's decoding time. The DC scans, first and refining, always stay (an
//! interleaved DC scan holds chroma too and cannot be cut without re-encoding it), and so
//! does every other segment, so a damaged file still fails as libjpeg finds it: a cut inside
//! a kept scan, a missing end of image, markers out of order. Baseline files pass through
//! untouched. AC scans hold one component each (the standard's rule), so no kept scan
//! refines a dropped one.

use std::cell::Cell;
use std::io::{BufRead, Read};
use std::rc::Rc;

/// Which scans a filter may drop, decided once the header is read (the scale needs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Not decided yet: every scan passes.
    Everything,
    /// The luma's scans, and the DC scans of every component.
    Luma,
    /// The DC scans alone (a 1/8 decode).
    DcOnly,
}

/// Where the filter's owner says what to keep, after the header.
pub(crate) type Choice = Rc<Cell<Keep>>;

/// A [`BufRead`] of a JPEG that leaves out the scans [`Keep`] allows it to.
pub(crate) struct ScanFilter<R> {
    inner: R,
    choice: Choice,
    state: State,
    /// Filtered bytes not yet read, from `at`.
    out: Vec<u8>,
    at: usize,
    /// The last `fill_buf` handed out `inner`'s own buffer (a baseline file: no copy).
    direct: bool,
    /// The first component of the frame (the luma), once the frame header is read.
    luma: Option<u8>,
    /// The filter has waited once for the choice, at the first scan.
    waited: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Between segments; `ff`: a 0xFF was read, the marker's code comes next.
    Marker { ff: bool },
    /// The two length bytes of marker `code`, `have` so far.
    Length { code: u8, have: Vec<u8> },
    /// The body of marker `code`, `length` bytes long.
    Body {
        code: u8,
        length: usize,
        body: Vec<u8>,
    },
    /// Entropy-coded data of a scan, copied or left out; `ff`: a 0xFF was read.
    Scan { keep: bool, ff: bool },
    /// Everything else passes as it is (a baseline file, or after the end of image).
    Pass,
}

impl<R: BufRead> ScanFilter<R> {
    /// A filter over `inner`, keeping what `choice` says when a scan starts.
    pub(crate) fn new(inner: R, choice: Choice) -> ScanFilter<R> {
        ScanFilter {
            inner,
            choice,
            state: State::Marker { ff: false },
            out: Vec::new(),
            at: 0,
            direct: false,
            luma: None,
            waited: false,
        }
    }

    /// Runs the bytes of `input` through, appending what is kept to `out`; returns how
    /// many were used. While nothing is decided it stops after the first scan's header
    /// (where libjpeg's header reading ends), so that the choice made then applies to every
    /// scan after it however the bytes arrive (a whole file in memory, or read in chunks).
    fn process(&mut self, input: &[u8]) -> usize {
        let mut i = 0;
        while i < input.len() {
            if self.choice.get() == Keep::Everything
                && !self.waited
                && matches!(self.state, State::Scan { .. })
            {
                return i;
            }
            match &mut self.state {
                State::Pass => {
                    self.out.extend_from_slice(&input[i..]);
                    i = input.len();
                }
                State::Marker { ff: false } => {
                    let b = input[i];
                    i += 1;
                    if b == 0xff {
                        self.state = State::Marker { ff: true };
                    } else {
                        // Bytes between segments: libjpeg skips them (and warns).
                        self.out.push(b);
                    }
                }
                State::Marker { ff: true } => {
                    let code = input[i];
                    i += 1;
                    match code {
                        // A fill byte: the marker's code is still to come.
                        0xff => self.out.push(0xff),
                        // No marker: stray bytes, which libjpeg steps over (and warns).
                        0x00 => {
                            self.out.extend_from_slice(&[0xff, 0x00]);
                            self.state = State::Marker { ff: false };
                        }
                        // Markers without a length.
                        0x01 | 0xd0..=0xd8 => {
                            self.out.extend_from_slice(&[0xff, code]);
                            self.state = State::Marker { ff: false };
                        }
                        0xd9 => {
                            self.out.extend_from_slice(&[0xff, code]);
                            self.state = State::Pass;
                        }
                        _ => {
                            self.state = State::Length {
                                code,
                                have: Vec::new(),
                            }
                        }
                    }
                }
                State::Length { code, have } => {
                    have.push(input[i]);
                    i += 1;
                    if have.len() == 2 {
                        let length = usize::from(u16::from_be_bytes([have[0], have[1]]));
                        let code = *code;
                        if length < 2 {
                            // Not a segment libjpeg reads: hand it over as it is.
                            self.out.extend_from_slice(&[0xff, code, have[0], have[1]]);
                            self.state = State::Pass;
                        } else {
                            self.state = State::Body {
                                code,
                                length: length - 2,
                                body: Vec::with_capacity(length - 2),
                            };
                            if length == 2 {
                                self.end_segment();
                            }
                        }
                    }
                }
                State::Body { length, body, .. } => {
                    let take = (*length - body.len()).min(input.len() - i);
                    body.extend_from_slice(&input[i..i + take]);
                    i += take;
                    if body.len() == *length {
                        self.end_segment();
                    }
                }
                State::Scan { keep, ff } => {
                    let (keep, was_ff) = (*keep, *ff);
                    if was_ff {
                        let b = input[i];
                        match b {
                            // Stuffed zero or a restart marker: still the scan's data.
                            0x00 | 0xd0..=0xd7 => {
                                i += 1;
                                if keep {
                                    self.out.extend_from_slice(&[0xff, b]);
                                }
                                self.state = State::Scan { keep, ff: false };
                            }
                            0xff => {
                                i += 1;
                                if keep {
                                    self.out.push(0xff);
                                }
                            }
                            // Another marker: the scan has ended; the code is read again.
                            _ => self.state = State::Marker { ff: true },
                        }
                        continue;
                    }
                    let rest = &input[i..];
                    let run = rest.iter().position(|&b| b == 0xff).unwrap_or(rest.len());
                    if keep {
                        self.out.extend_from_slice(&rest[..run]);
                    }
                    i += run;
                    if run < rest.len() {
                        i += 1;
                        self.state = State::Scan { keep, ff: true };
                    }
                }
            }
        }
        i
    }

    /// A whole segment has been read: pass it on, or start the scan it opens.
    fn end_segment(&mut self) {
        let State::Body { code, body, .. } = std::mem::replace(&mut self.state, State::Pass) else {
            return;
        };
        let emit = |out: &mut Vec<u8>, body: &[u8]| {
            out.extend_from_slice(&[0xff, code]);
            out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
            out.extend_from_slice(body);
        };
        self.state = State::Marker { ff: false };
        match code {
            // Start of frame (not DHT, JPG or DAC, which share the range).
            0xc0..=0xcf if !matches!(code, 0xc4 | 0xc8 | 0xcc) => {
                emit(&mut self.out, &body);
                let progressive = matches!(code, 0xc2 | 0xc6 | 0xca | 0xce);
                self.luma = body.get(6).copied();
                if !progressive {
                    self.state = State::Pass;
                }
            }
            0xda => {
                let keep = self.keeps(&body);
                if keep {
                    emit(&mut self.out, &body);
                }
                self.state = State::Scan { keep, ff: false };
            }
            _ => emit(&mut self.out, &body),
        }
    }

    /// Whether the scan whose header is `sos` is kept.
    fn keeps(&self, sos: &[u8]) -> bool {
        let components = usize::from(sos.first().copied().unwrap_or(0));
        let (Some(&first), Some(&spectral_start)) = (sos.get(1), sos.get(1 + 2 * components))
        else {
            return true;
        };
        if spectral_start == 0 || components != 1 || self.luma.is_none() {
            return true;
        }
        match self.choice.get() {
            Keep::Everything => true,
            Keep::Luma => Some(first) == self.luma,
            Keep::DcOnly => false,
        }
    }
}

impl<R: BufRead> Read for ScanFilter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for ScanFilter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.direct = false;
        while self.at >= self.out.len() {
            self.out.clear();
            self.at = 0;
            if self.state == State::Pass {
                self.direct = true;
                return self.inner.fill_buf();
            }
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                self.flush_partial();
                if self.out.is_empty() {
                    return Ok(&[]);
                }
                break;
            }
            let chunk = chunk.to_vec();
            let used = self.process(&chunk);
            self.inner.consume(used);
            if used == 0 {
                // Still undecided when more is asked for: every scan passes.
                self.waited = true;
            }
        }
        Ok(&self.out[self.at..])
    }

    fn consume(&mut self, amount: usize) {
        if self.direct {
            self.inner.consume(amount);
        } else {
            self.at += amount;
        }
    }
}

impl<R> ScanFilter<R> {
    /// The input ended: whatever was held back goes on as it was, so libjpeg sees the file
    /// end where it ends.
    fn flush_partial(&mut self) {
        match std::mem::replace(&mut self.state, State::Pass) {
            State::Marker { ff: true } => self.out.push(0xff),
            State::Length { code, have } => {
                self.out.extend_from_slice(&[0xff, code]);
                self.out.extend_from_slice(&have);
            }
            State::Body { code, length, body } => {
                self.out.extend_from_slice(&[0xff, code]);
                self.out
                    .extend_from_slice(&((length + 2) as u16).to_be_bytes());
                self.out.extend_from_slice(&body);
            }
            State::Scan {
                keep: true,
                ff: true,
            } => self.out.push(0xff),
            _ => {}
        }
    }
}
