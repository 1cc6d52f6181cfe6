//! The sweep as text: the table `imgpar bench` prints, with its warnings and fits.

use std::fmt::Write as _;

use super::{BenchResult, Row, load};

impl BenchResult {
    /// The table and the fits, as printed at the end of `imgpar bench`.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "imgpar bench: {}{}, {} cores; median of {} after {} warm-up",
            crate::report::count(self.images, "image"),
            if self.failed > 0 {
                format!(" ({} fail in every run)", self.failed)
            } else {
                String::new()
            },
            self.cores,
            crate::report::count(self.repeat, "run"),
            self.warmup
        );
        let _ = writeln!(
            s,
            "{:<11} {:>8}  {:>22}  {:>8}  {:>7}  {:>7}  {:>10}  {:>10}  {:>7}  {:>8}  {:>6}",
            "mode",
            "workers",
            "wall s (min-max)",
            "images/s",
            "speedup",
            "spread",
            "efficiency",
            "Karp-Flatt",
            "CPU s",
            "peak MiB",
            "others"
        );
        for row in &self.rows {
            let workers = format!(
                "{}{}",
                row.workers,
                if row.oversubscribed { "*" } else { "" }
            );
            let _ = writeln!(
                s,
                "{:<11} {:>8}  {:>22}  {:>8.1}  {:>6.2}x  {:>6.0}%  {:>9.0}%  {:>10}  {:>7.2}  {:>8.0}  {:>6.1}",
                row.mode,
                workers,
                format!(
                    "{:.3} ({:.3}-{:.3})",
                    row.wall_median_s, row.wall_min_s, row.wall_max_s
                ),
                row.images_per_s,
                row.speedup,
                row.spread * 100.0,
                row.efficiency * 100.0,
                row.karp_flatt.map_or("-".into(), |e| format!("{e:.3}")),
                row.cpu_s,
                row.peak_mib,
                row.other_cores
            );
        }
        let _ = writeln!(
            s,
            "spread: (max - min) / median wall time, the relative spread of the speedup; \
             others: cores other processes kept busy during the busiest run"
        );
        let busy: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| r.other_cores > load::BUSY_CORES)
            .collect();
        if !busy.is_empty() {
            let worst = busy.iter().map(|r| r.other_cores).fold(0.0, f64::max);
            let _ = writeln!(
                s,
                "warning: other processes competed for the {} cores during {} of {} points (up \
                 to {worst:.1} cores busy{}); their speedups understate imgpar: run again on an \
                 idle machine",
                self.cores,
                busy.len(),
                self.rows.len(),
                self.load_average_before.map_or(String::new(), |l| format!(
                    ", load average {l:.2} before the sweep"
                ))
            );
        }
        if self.rows.iter().any(|r| r.oversubscribed) {
            let _ = writeln!(s, "* more workers than this machine's {} cores", self.cores);
        }
        if !self.fits.is_empty() {
            let _ = writeln!(
                s,
                "Amdahl's law (speedup = 1 / (f + (1 - f) / workers)) fitted to the points with \
                 no more workers than cores:"
            );
            for fit in &self.fits {
                let ceiling = fit
                    .fit
                    .ceiling
                    .map_or("no ceiling".into(), |c| format!("speedup ceiling {c:.1}x"));
                let _ = writeln!(
                    s,
                    "  {:<10} serial fraction f = {:.3}, {}",
                    fit.mode, fit.fit.serial_fraction, ceiling
                );
            }
        }
        s
    }
}
