//! The files of `bench --out DIR`: bench.csv (one row per mode and worker count),
//! bench.json (everything, fits included) and speedup.svg.

use std::fmt::Write as _;
use std::path::Path;

use super::BenchResult;

/// Writes the three files into `dir`, creating it if needed.
pub fn write_all(dir: &Path, result: &BenchResult) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("bench.csv", csv(result))?;
    write(
        "bench.json",
        serde_json::to_string_pretty(result).expect("a bench result always serialises"),
    )?;
    write("speedup.svg", super::plot::speedup_svg(result)?)
}

/// One line per mode and worker count, with a header.
pub fn csv(result: &BenchResult) -> String {
    let mut s = String::from(
        "mode,workers,oversubscribed,wall_median_s,wall_min_s,wall_max_s,images_per_s,speedup,efficiency,karp_flatt,cpu_s,peak_mib\n",
    );
    for r in &result.rows {
        let _ = writeln!(
            s,
            "{},{},{},{:.6},{:.6},{:.6},{:.3},{:.4},{:.4},{},{:.3},{:.1}",
            r.mode,
            r.workers,
            r.oversubscribed,
            r.wall_median_s,
            r.wall_min_s,
            r.wall_max_s,
            r.images_per_s,
            r.speedup,
            r.efficiency,
            r.karp_flatt.map_or(String::new(), |e| format!("{e:.4}")),
            r.cpu_s,
            r.peak_mib
        );
    }
    s
}
