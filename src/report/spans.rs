//! Lengths of time covered by sets of intervals on one clock.
/// Sorts and merges overlapping intervals (empty ones dropped).
pub(super) fn merged(spans: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = spans.iter().copied().filter(|s| s.1 > s.0).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(sorted.len());
    for (start, end) in sorted {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Time covered by at least one interval.
pub fn covered(spans: &[(f64, f64)]) -> f64 {
    super::total(merged(spans).iter().map(|(a, b)| b - a))
}

/// Time covered by at least one interval of each set.
pub fn overlap(a: &[(f64, f64)], b: &[(f64, f64)]) -> f64 {
    let (a, b) = (merged(a), merged(b));
    let (mut i, mut j, mut total) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        let from = a[i].0.max(b[j].0);
        let to = a[i].1.min(b[j].1);
        if to > from {
            total += to - from;
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    #[test]
    fn coverage_and_overlap_count_each_instant_once() {
        let network = [(0.0, 10.0), (5.0, 12.0), (20.0, 30.0)];
        let work = [(10.0, 25.0), (11.0, 13.0)];
        assert_eq!(super::covered(&network), 22.0);
        assert_eq!(super::covered(&work), 15.0);
        // 10-12 and 20-25.
        assert_eq!(super::overlap(&network, &work), 7.0);
        assert_eq!(super::overlap(&network, &[]), 0.0);
    }
}
