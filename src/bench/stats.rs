//! The arithmetic of speedup: medians, speedup and efficiency, Amdahl's law fitted to the
//! measured points, and the Karp-Flatt serial fraction of each point.

/// The median of `values` (the mean of the middle two for an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// How far apart repeated measurements are, relative to their median: `(max - min) /
/// median` (0 for none). For wall times it is also the relative spread of the speedup.
pub fn relative_spread(values: &[f64]) -> f64 {
    let median = median(values);
    if values.is_empty() || median <= 0.0 {
        return 0.0;
    }
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    (max - min) / median
}

/// How many times faster than the baseline: `baseline / time`.
pub fn speedup(baseline_s: f64, time_s: f64) -> f64 {
    if time_s > 0.0 {
        baseline_s / time_s
    } else {
        0.0
    }
}

/// Speedup per worker: 1.0 is perfect scaling.
pub fn efficiency(speedup: f64, workers: usize) -> f64 {
    speedup / workers.max(1) as f64
}

/// The speedup Amdahl's law predicts on `workers` workers for serial fraction `f`.
pub fn amdahl(f: f64, workers: usize) -> f64 {
    1.0 / (f + (1.0 - f) / workers.max(1) as f64)
}

/// The Karp-Flatt metric, the serial fraction implied by one measured point:
/// `(1/speedup - 1/p) / (1 - 1/p)`. `None` for one worker (it says nothing there).
pub fn karp_flatt(speedup: f64, workers: usize) -> Option<f64> {
    if workers < 2 || speedup <= 0.0 {
        return None;
    }
    let p = workers as f64;
    Some((1.0 / speedup - 1.0 / p) / (1.0 - 1.0 / p))
}

/// Amdahl's law fitted to `(workers, speedup)` points.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct AmdahlFit {
    /// The fraction of the work that does not parallelise, between 0 and 1.
    pub serial_fraction: f64,
    /// The speedup no number of workers can pass: 1 / serial_fraction (`None` when the
    /// fit finds no serial part at all).
    pub ceiling: Option<f64>,
}

/// Least-squares fit of the serial fraction `f` in `1/S = f + (1 - f)/p`, which is linear
/// in `f`: `1/S - 1/p = f (1 - 1/p)`. Needs two or more distinct worker counts, one of them
/// above 1; `f` is clamped to [0, 1].
pub fn fit_amdahl(points: &[(usize, f64)]) -> Option<AmdahlFit> {
    let mut counts: Vec<usize> = points.iter().map(|p| p.0).collect();
    counts.sort_unstable();
    counts.dedup();
    if counts.len() < 2 {
        return None;
    }
    let (mut xy, mut xx) = (0.0, 0.0);
    for &(workers, speedup) in points {
        if speedup <= 0.0 {
            continue;
        }
        let p = workers as f64;
        let x = 1.0 - 1.0 / p;
        let y = 1.0 / speedup - 1.0 / p;
        xy += x * y;
        xx += x * x;
    }
    if xx == 0.0 {
        return None;
    }
    let f = (xy / xx).clamp(0.0, 1.0);
    Some(AmdahlFit {
        serial_fraction: f,
        ceiling: (f > 0.0).then(|| 1.0 / f),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn speedup_and_efficiency() {
        assert_eq!(speedup(10.0, 4.0), 2.5);
        assert_eq!(efficiency(2.5, 4), 0.625);
        assert_eq!(speedup(10.0, 0.0), 0.0);
    }

    #[test]
    fn amdahl_fit_recovers_a_known_serial_fraction() {
        let f = 0.1;
        let points: Vec<(usize, f64)> = [1, 2, 4, 8, 16]
            .iter()
            .map(|&p| (p, amdahl(f, p)))
            .collect();
        let fit = fit_amdahl(&points).unwrap();
        assert!((fit.serial_fraction - f).abs() < 1e-12, "{fit:?}");
        assert!((fit.ceiling.unwrap() - 10.0).abs() < 1e-9);
        // Noisy points still land close.
        let noisy: Vec<(usize, f64)> = points
            .iter()
            .enumerate()
            .map(|(i, &(p, s))| (p, s * if i % 2 == 0 { 1.02 } else { 0.98 }))
            .collect();
        assert!((fit_amdahl(&noisy).unwrap().serial_fraction - f).abs() < 0.02);
        // Perfect scaling has no ceiling; one worker count has no fit.
        let perfect = fit_amdahl(&[(1, 1.0), (2, 2.0), (4, 4.0)]).unwrap();
        assert_eq!(perfect.serial_fraction, 0.0);
        assert_eq!(perfect.ceiling, None);
        assert!(fit_amdahl(&[(2, 1.8), (2, 1.9)]).is_none());
    }

    #[test]
    fn karp_flatt_matches_amdahl_on_amdahl_points() {
        for p in [2, 4, 8] {
            let e = karp_flatt(amdahl(0.25, p), p).unwrap();
            assert!((e - 0.25).abs() < 1e-12);
        }
        assert_eq!(karp_flatt(1.0, 1), None);
    }
}
