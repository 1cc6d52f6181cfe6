//! Parsers for flag values that clap has no parser for: sizes, seconds, byte counts and
//! worker-count lists.

use std::fmt;
use std::time::Duration;

pub use crate::config::MIN_WORKER_MEMORY;

/// `WIDTHxHEIGHT`, both at least 1.
pub fn size(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("expected WIDTHxHEIGHT with both at least 1, like 256x256, not `{text}`");
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    if w == 0 || h == 0 {
        return Err(bad());
    }
    Ok((w, h))
}

/// A positive number of seconds, fractions allowed.
/// A rate in requests a second: a number above 0, at most 10,000.
pub fn rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of requests a second"))?;
    if rate.is_finite() && rate > 0.0 && rate <= 10_000.0 {
        Ok(rate)
    } else {
        Err(format!(
            "{text} is not a rate above 0 and up to 10000 a second"
        ))
    }
}

pub fn seconds(text: &str) -> Result<Seconds, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of seconds, like 30 or 2.5, not `{text}`"))?;
    if !(secs > 0.0 && secs <= 1e6) {
        return Err(format!(
            "expected seconds between 0 and 1000000, not `{text}`"
        ));
    }
    Ok(Seconds(Duration::from_secs_f64(secs)))
}

/// A size in bytes with an optional binary suffix: `512M`, `2G`, `65536`, `800K`.
pub fn bytes(text: &str) -> Result<Bytes, String> {
    byte_count(text).map(Bytes)
}

fn byte_count(text: &str) -> Result<u64, String> {
    let bad = || format!("expected a size like 512M or 2G, not `{text}`");
    let t = text.trim();
    let (digits, shift) = match t.char_indices().last().ok_or_else(bad)? {
        (i, 'k' | 'K') => (&t[..i], 10),
        (i, 'm' | 'M') => (&t[..i], 20),
        (i, 'g' | 'G') => (&t[..i], 30),
        (i, 't' | 'T') => (&t[..i], 40),
        _ => (t, 0),
    };
    let n: u64 = digits.trim().parse().map_err(|_| bad())?;
    let bytes = n
        .checked_shl(shift)
        .filter(|b| b >> shift == n)
        .ok_or_else(bad)?;
    if bytes == 0 {
        return Err(bad());
    }
    Ok(bytes)
}

/// A `--worker-memory` size: at least [`MIN_WORKER_MEMORY`].
pub fn worker_memory(text: &str) -> Result<u64, String> {
    let bytes = byte_count(text)?;
    if bytes < MIN_WORKER_MEMORY {
        return Err(format!(
            "{text} is too small for a worker to start; give at least {}M",
            MIN_WORKER_MEMORY >> 20
        ));
    }
    Ok(bytes)
}

/// Worker counts for `bench --jobs`: a comma list (`1,2,4`) or a range (`1..8`), each
/// between 1 and 4096, returned sorted without repeats.
pub fn worker_counts(text: &str) -> Result<Vec<usize>, String> {
    let bad = || format!("expected worker counts like 1,2,4 or 1..8, not `{text}`");
    let number = |s: &str| -> Result<usize, String> {
        let n: usize = s.trim().parse().map_err(|_| bad())?;
        if (1..=4096).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        }
    };
    let mut counts: Vec<usize> = match text.split_once("..") {
        Some((from, to)) => {
            let to = to.strip_prefix('=').unwrap_or(to);
            let (from, to) = (number(from)?, number(to)?);
            if from > to {
                return Err(bad());
            }
            (from..=to).collect()
        }
        None => text.split(',').map(number).collect::<Result<_, _>>()?,
    };
    counts.sort_unstable();
    counts.dedup();
    Ok(counts)
}

/// A duration given in seconds, shown in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(pub Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

/// A byte count, shown with a binary suffix where it is exact (`64M`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        match ["", "K", "M", "G", "T"]
            .iter()
            .enumerate()
            .rev()
            .find(|(i, _)| n != 0 && n.is_multiple_of(1u64 << (10 * i)))
        {
            Some((i, suffix)) => write!(f, "{}{suffix}", n >> (10 * i)),
            None => write!(f, "{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_count_lists_and_ranges() {
        assert_eq!(worker_counts("4,1,2,2").unwrap(), vec![1, 2, 4]);
        assert_eq!(worker_counts("1..4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(worker_counts("2..=3").unwrap(), vec![2, 3]);
        assert!(worker_counts("0,1").is_err());
        assert!(worker_counts("4..1").is_err());
        assert!(worker_counts("a").is_err());
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(bytes("64M").unwrap().0, 64 << 20);
        assert_eq!(bytes("2g").unwrap().0, 2 << 30);
        assert_eq!(bytes("1000").unwrap().0, 1000);
        // Shown as typed where exact, so `bench` relays the same size.
        assert_eq!(bytes("64M").unwrap().to_string(), "64M");
        assert_eq!(bytes("1000").unwrap().to_string(), "1000");
        assert_eq!(bytes("2048").unwrap().to_string(), "2K");
        assert!(bytes("0").is_err());
        assert!(bytes("99999999999T").is_err());
        assert!(worker_memory("1M").is_err());
    }
}
