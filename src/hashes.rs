//! Compact multisets of hashes (64-bit by default): what the naming passes remember of a
//! plan instead of its jobs, what `merge-reports` remembers of the outputs, what a run
//! remembers of an output prefix's listing. The size of a hash an entry (8 bytes for
//! 64 bits), stored in chunks that are allocated at their final size (no doubling, no
//! copy of the whole set), each sorted once it is complete.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

/// The first chunk's entries; each later chunk doubles, up to [`LARGEST_CHUNK`].
const FIRST_CHUNK: usize = 4 * 1024;
/// Entries in the largest chunk (8 MiB).
const LARGEST_CHUNK: usize = 1024 * 1024;

/// Hashes gathered during one pass, in no order.
#[derive(Debug, Default)]
pub(crate) struct HashLog<T = u64> {
    chunks: Vec<Vec<T>>,
}

impl<T: Ord + Copy> HashLog<T> {
    /// Adds one entry.
    pub fn push(&mut self, hash: T) {
        let full = self.chunks.last().is_none_or(|c| c.len() == c.capacity());
        if full {
            let size = self
                .chunks
                .last()
                .map_or(FIRST_CHUNK, |c| (c.capacity() * 2).min(LARGEST_CHUNK));
            self.chunks.push(Vec::with_capacity(size));
        }
        self.chunks
            .last_mut()
            .expect("a chunk with room was just ensured")
            .push(hash);
    }

    /// The entries, ready to be counted.
    pub fn seal(mut self) -> HashCounts<T> {
        for chunk in &mut self.chunks {
            chunk.sort_unstable();
        }
        HashCounts {
            chunks: self.chunks,
        }
    }
}

/// A sealed [`HashLog`]: how often each hash occurs.
#[derive(Debug, Default)]
pub(crate) struct HashCounts<T = u64> {
    chunks: Vec<Vec<T>>,
}

impl<T: Ord + Copy + std::hash::Hash> HashCounts<T> {
    /// How many entries equal `hash`.
    pub fn count(&self, hash: T) -> usize {
        self.chunks
            .iter()
            .map(|c| c.partition_point(|&h| h <= hash) - c.partition_point(|&h| h < hash))
            .sum()
    }

    /// Whether some entry equals `hash`.
    pub fn contains(&self, hash: T) -> bool {
        self.chunks.iter().any(|c| c.binary_search(&hash).is_ok())
    }

    /// The hashes that occur more than once.
    pub fn repeated(&self) -> HashSet<T> {
        let mut repeated = HashSet::new();
        let mut last: Option<T> = None;
        self.each_in_order(|hash| {
            if last == Some(hash) {
                repeated.insert(hash);
            }
            last = Some(hash);
        });
        repeated
    }

    /// Calls `f` with every entry, smallest first (a k-way merge of the chunks).
    pub fn each_in_order(&self, mut f: impl FnMut(T)) {
        let mut heads: BinaryHeap<Reverse<(T, usize, usize)>> = self
            .chunks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some(Reverse((*c.first()?, i, 0))))
            .collect();
        while let Some(Reverse((hash, chunk, at))) = heads.pop() {
            f(hash);
            if let Some(&next) = self.chunks[chunk].get(at + 1) {
                heads.push(Reverse((next, chunk, at + 1)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_repeats_span_chunks() {
        let mut log = HashLog::default();
        for i in 0..(FIRST_CHUNK as u64 * 3) {
            log.push(i % 5000);
        }
        log.push(1_000_000);
        assert!(log.chunks.len() > 1);
        let counts = log.seal();
        assert_eq!(counts.count(7), 3);
        assert_eq!(counts.count(4999), 2);
        assert_eq!(counts.count(1_000_000), 1);
        assert!(!counts.contains(999_999));
        let repeated = counts.repeated();
        assert!(repeated.contains(&7) && repeated.contains(&4999));
        assert!(!repeated.contains(&1_000_000));
        let mut sorted = Vec::new();
        counts.each_in_order(|h| sorted.push(h));
        assert!(sorted.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(sorted.len(), FIRST_CHUNK * 3 + 1);
    }
}
