//! `imgpar bench`: runs the same inputs in each mode and worker count (each run a fresh
//! imgpar process, so its memory and CPU are its own), then reports speedup over
//! sequential measured in the same sweep, efficiency, an Amdahl fit and the Karp-Flatt
//! serial fraction of each point.

mod export;
mod load;
mod plot;
pub mod stats;
mod table;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::config::Mode;
use stats::AmdahlFit;

/// What to sweep and how to run each point.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub inputs: Vec<PathBuf>,
    pub url_lists: Vec<PathBuf>,
    /// Modes in the order they are run; sequential first.
    pub modes: Vec<Mode>,
    /// Worker counts for every mode but sequential (which always has one).
    pub worker_counts: Vec<usize>,
    /// Counted runs per point.
    pub repeat: usize,
    /// Uncounted runs before them.
    pub warmup: usize,
    /// Where to write bench.csv, bench.json and speedup.svg.
    pub out: Option<PathBuf>,
    /// Flags passed to every run (image and download settings).
    pub run_args: Vec<String>,
    /// Flags passed to runs in async mode (`--concurrency`, `--per-host`).
    pub async_args: Vec<String>,
    /// Flags passed to runs in process mode (worker limits).
    pub process_args: Vec<String>,
}

/// One mode and worker count, measured `repeat` times.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub mode: &'static str,
    pub workers: usize,
    /// More workers than the machine has cores.
    pub oversubscribed: bool,
    pub wall_median_s: f64,
    pub wall_min_s: f64,
    pub wall_max_s: f64,
    /// Images written per second, at the median wall time.
    pub images_per_s: f64,
    /// Median sequential wall time over this row's median wall time.
    pub speedup: f64,
    /// Speedup per worker.
    pub efficiency: f64,
    /// The Karp-Flatt serial fraction of this point (none for one worker).
    pub karp_flatt: Option<f64>,
    /// Median CPU seconds (user plus system), worker processes included.
    pub cpu_s: f64,
    /// Largest peak resident memory over the runs, in MiB: imgpar itself, plus for
    /// process mode the sum of its workers' peaks.
    pub peak_mib: f64,
    /// Wall time of every counted run, in order.
    pub walls_s: Vec<f64>,
    /// The relative spread of the speedup over the runs: (max - min) / median wall time.
    pub spread: f64,
    /// The most cores other processes kept busy during one of the runs (0 when unknown).
    pub other_cores: f64,
}

/// Amdahl's law fitted to one mode's points.
#[derive(Debug, Clone, Serialize)]
pub struct ModeFit {
    pub mode: &'static str,
    #[serde(flatten)]
    pub fit: AmdahlFit,
}

/// What a sweep found.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub cores: usize,
    /// Images each run handled (planned).
    pub images: usize,
    /// Images that failed in each run (the same inputs fail the same way every time).
    pub failed: usize,
    pub repeat: usize,
    pub warmup: usize,
    pub rows: Vec<Row>,
    /// Amdahl fits, on each mode's points with no more workers than cores.
    pub fits: Vec<ModeFit>,
    /// The machine's one-minute load average when the sweep began (Linux).
    pub load_average_before: Option<f64>,
}

/// One run's figures: the fields of its JSON report (`RunReport`) the sweep uses, read
/// by name and type; the rest is ignored.
#[derive(Debug, Deserialize)]
struct RunFigures {
    wall_s: f64,
    cpu_s: f64,
    /// imgpar's own peak (with threads, the whole run's).
    peak_rss_mib: f64,
    /// The worker processes' peaks summed over slots (process mode; else 0).
    workers_peak_rss_mib: f64,
    ok: usize,
    failed: usize,
    planned: usize,
    /// Cores other processes kept busy during the run (measured around it, not reported).
    #[serde(skip)]
    other_cores: f64,
}

impl RunFigures {
    /// Peak memory of the run: imgpar's own plus its worker processes'.
    fn peak_mib(&self) -> f64 {
        self.peak_rss_mib + self.workers_peak_rss_mib
    }
}

/// Why a sweep did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BenchError {
    /// Ctrl-C or SIGTERM, in imgpar or in one of its runs.
    #[error("interrupted")]
    Interrupted,
    /// A run could not start or failed: what went wrong.
    #[error("{0}")]
    Failed(String),
}

impl From<String> for BenchError {
    fn from(message: String) -> BenchError {
        BenchError::Failed(message)
    }
}

/// Runs the sweep, printing a line on stderr per point as it goes, and writes the files of
/// `--out`. `Err` when a run cannot start (bad input, say) or the sweep is interrupted.
pub fn run(config: &BenchConfig, cancel: &AtomicBool) -> Result<BenchResult, BenchError> {
    if config.inputs.iter().any(|i| i.as_os_str() == "-") {
        return Err(BenchError::Failed(
            "bench runs its inputs many times: save the URL list to a file".into(),
        ));
    }
    if let Some(dir) = &config.out {
        export::check_out(dir)?;
    }
    let program = crate::exec::process::own_command::own_command()?;
    let scratch = tempfile::tempdir().map_err(|e| format!("cannot make a scratch folder: {e}"))?;
    let cores = crate::worker_count::cores();
    let load_average_before = load::load_average();
    if let Some(load) = load_average_before.filter(|&l| l > load::BUSY_CORES * 2.0) {
        eprintln!(
            "bench: warning: the machine is busy before the sweep (load average {load:.2} on \
             {cores} cores); other work will slow some runs more than others"
        );
    }
    let mut measured: Vec<(Mode, usize, Vec<RunFigures>)> = Vec::new();
    let swept = sweep(config, cancel, &program, scratch.path(), &mut measured);
    if let Err(BenchError::Interrupted) = swept
        && !measured.is_empty()
        && let Some(dir) = &config.out
    {
        // What was measured before the interruption is kept, each point whole.
        let result = summarise(config, cores, measured);
        export::write_all(dir, &result)?;
        eprintln!(
            "bench: interrupted; the {} measured are in {}",
            crate::report::count(result.rows.len(), "point"),
            dir.display()
        );
        return Err(BenchError::Interrupted);
    }
    swept?;
    let mut result = summarise(config, cores, measured);
    result.load_average_before = load_average_before;
    if let Some(dir) = &config.out {
        export::write_all(dir, &result)?;
    }
    Ok(result)
}

/// Measures every point of the sweep into `measured`, in order; stops at the first
/// interruption or failure.
fn sweep(
    config: &BenchConfig,
    cancel: &AtomicBool,
    program: &crate::exec::process::own_command::OwnCommand,
    scratch: &std::path::Path,
    measured: &mut Vec<(Mode, usize, Vec<RunFigures>)>,
) -> Result<(), BenchError> {
    for &mode in &config.modes {
        let counts = match mode {
            Mode::Sequential => vec![1],
            _ => config.worker_counts.clone(),
        };
        for workers in counts {
            let mut runs = Vec::new();
            for i in 0..config.warmup + config.repeat {
                if cancel.load(Ordering::Relaxed) {
                    return Err(BenchError::Interrupted);
                }
                // A run that fails while a Ctrl-C is winding the sweep down was interrupted.
                let figures = run_once(program, config, mode, workers, scratch).map_err(
                    |error| match cancel.load(Ordering::Relaxed) {
                        true => BenchError::Interrupted,
                        false => error,
                    },
                )?;
                if i >= config.warmup {
                    runs.push(figures);
                }
            }
            let walls: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
            let others = runs.iter().map(|r| r.other_cores).fold(0.0, f64::max);
            eprintln!(
                "bench: {} with {workers} worker{}: median {:.3} s{}",
                mode.name(),
                if workers == 1 { "" } else { "s" },
                stats::median(&walls),
                if others > load::BUSY_CORES {
                    format!(" (other processes kept {others:.1} cores busy)")
                } else {
                    String::new()
                }
            );
            measured.push((mode, workers, runs));
        }
    }
    Ok(())
}

/// Runs imgpar once, into a fresh folder removed afterwards, and reads its report.
fn run_once(
    program: &crate::exec::process::own_command::OwnCommand,
    config: &BenchConfig,
    mode: Mode,
    workers: usize,
    scratch: &Path,
) -> Result<RunFigures, BenchError> {
    let out = scratch.join("out");
    let report = scratch.join("report.json");
    let mut command = program.command();
    command.args(&config.inputs);
    for list in &config.url_lists {
        command.arg("--urls").arg(list);
    }
    command
        .arg(&out)
        .args(["--mode", mode.name(), "-j", &workers.to_string(), "--quiet"])
        .arg(OsString::from("--report"))
        .arg(&report)
        .args(&config.run_args);
    match mode {
        Mode::Process => {
            command.args(&config.process_args);
        }
        Mode::Async => {
            command.args(&config.async_args);
        }
        Mode::Sequential | Mode::Threaded => {}
    }
    let busy_before = load::machine_busy_s();
    let output = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.program.display()))?;
    let busy_after = load::machine_busy_s();
    let removed = std::fs::remove_dir_all(&out);
    match output.status.code() {
        Some(0 | 1) => {}
        Some(130) => return Err(BenchError::Interrupted),
        _ => {
            return Err(BenchError::Failed(format!(
                "a {} run failed: {}",
                mode.name(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
    }
    removed.map_err(|e| format!("cannot clear the scratch folder: {e}"))?;
    let text = std::fs::read(&report).map_err(|e| format!("a run left no report: {e}"))?;
    let mut figures: RunFigures =
        serde_json::from_slice(&text).map_err(|e| format!("a run's report is unreadable: {e}"))?;
    if let (Some(before), Some(after)) = (busy_before, busy_after) {
        figures.other_cores = load::other_cores(after - before, figures.cpu_s, figures.wall_s);
    }
    Ok(figures)
}

fn summarise(
    config: &BenchConfig,
    cores: usize,
    measured: Vec<(Mode, usize, Vec<RunFigures>)>,
) -> BenchResult {
    let median_of = |runs: &[RunFigures], f: fn(&RunFigures) -> f64| {
        stats::median(&runs.iter().map(f).collect::<Vec<_>>())
    };
    let baseline = measured
        .iter()
        .find(|(mode, _, _)| *mode == Mode::Sequential)
        .map_or(0.0, |(_, _, runs)| median_of(runs, |r| r.wall_s));
    let rows: Vec<Row> = measured
        .iter()
        .map(|(mode, workers, runs)| {
            let walls: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
            let wall = stats::median(&walls);
            let speedup = stats::speedup(baseline, wall);
            let ok = runs.first().map_or(0, |r| r.ok);
            Row {
                mode: mode.name(),
                workers: *workers,
                oversubscribed: *workers > cores,
                wall_median_s: wall,
                wall_min_s: walls.iter().copied().fold(f64::INFINITY, f64::min),
                wall_max_s: walls.iter().copied().fold(0.0, f64::max),
                images_per_s: if wall > 0.0 { ok as f64 / wall } else { 0.0 },
                speedup,
                efficiency: stats::efficiency(speedup, *workers),
                karp_flatt: stats::karp_flatt(speedup, *workers),
                cpu_s: median_of(runs, |r| r.cpu_s),
                peak_mib: runs.iter().map(RunFigures::peak_mib).fold(0.0, f64::max),
                spread: stats::relative_spread(&walls),
                other_cores: runs.iter().map(|r| r.other_cores).fold(0.0, f64::max),
                walls_s: walls,
            }
        })
        .collect();
    // Points with more workers than cores measure the machine, not the program: they are
    // left out of the fit (and shown in the table).
    let mut fits = Vec::new();
    for &mode in &config.modes {
        let points: Vec<(usize, f64)> = rows
            .iter()
            .filter(|r| r.mode == mode.name() && !r.oversubscribed)
            .map(|r| (r.workers, r.speedup))
            .collect();
        if let Some(fit) = stats::fit_amdahl(&points) {
            fits.push(ModeFit {
                mode: mode.name(),
                fit,
            });
        }
    }
    let first = measured.first().and_then(|(_, _, runs)| runs.first());
    BenchResult {
        cores,
        images: first.map_or(0, |r| r.planned),
        failed: first.map_or(0, |r| r.failed),
        repeat: config.repeat,
        warmup: config.warmup,
        rows,
        fits,
        load_average_before: None,
    }
}
