//! The files of `bench --out DIR`: bench.csv (one row per mode and worker count),
//! bench.json (everything, fits included) and speedup.svg.

use std::fmt::Write as _;
use std::path::Path;

use super::BenchResult;
use crate::render::Render;

/// Writes the three files into `dir`, creating it if needed.
/// Proves before the sweep that `dir` can take the files: it is (or can be made) a folder
/// that takes new files. `--out` names a folder; an existing file there is refused.
pub fn check_out(dir: &Path) -> Result<(), String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!(
            "--out {} is a file: --out takes a folder, where bench.csv, bench.json and \
             speedup.svg are written",
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    crate::output::check_creatable(&dir.join("bench.json"))
        .map_err(|e| format!("cannot write in --out: {e}"))
}

pub fn write_all(dir: &Path, result: &BenchResult) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let renderers: [&dyn Render<BenchResult>; 3] = [&BenchCsv, &BenchJson, &SpeedupPlot];
    for renderer in renderers {
        let path = dir.join(renderer.name());
        std::fs::write(&path, renderer.render(result)?)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// `bench.csv`: one row per mode and worker count.
pub struct BenchCsv;

impl Render<BenchResult> for BenchCsv {
    fn name(&self) -> &'static str {
        "bench.csv"
    }

    fn render(&self, result: &BenchResult) -> Result<String, String> {
        Ok(csv(result))
    }
}

/// `bench.json`: everything the sweep measured, fits included.
pub struct BenchJson;

impl Render<BenchResult> for BenchJson {
    fn name(&self) -> &'static str {
        "bench.json"
    }

    fn render(&self, result: &BenchResult) -> Result<String, String> {
        serde_json::to_string_pretty(result).map_err(|e| format!("cannot write JSON: {e}"))
    }
}

/// `speedup.svg`: speedup against workers, a line per mode.
pub struct SpeedupPlot;

impl Render<BenchResult> for SpeedupPlot {
    fn name(&self) -> &'static str {
        "speedup.svg"
    }

    fn render(&self, result: &BenchResult) -> Result<String, String> {
        super::plot::speedup_svg(result)
    }
}

/// One line per mode and worker count, with a header.
pub fn csv(result: &BenchResult) -> String {
    let mut s = String::from(
        "mode,workers,oversubscribed,wall_median_s,wall_min_s,wall_max_s,images_per_s,speedup,efficiency,karp_flatt,cpu_s,peak_mib,spread,other_cores\n",
    );
    for r in &result.rows {
        let _ = writeln!(
            s,
            "{},{},{},{:.6},{:.6},{:.6},{:.3},{:.4},{:.4},{},{:.3},{:.1},{:.4},{:.2}",
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
            r.peak_mib,
            r.spread,
            r.other_cores
        );
    }
    s
}
