//! What a run did: the run's totals over the per-image records, and the JSON report.
//! Nothing here measures; it adds up what the executors and `convert_job` measured.

mod identity;
mod merge;
mod record;
mod spans;
mod text;
mod totals;

use serde::Serialize;

use crate::worker_count::WorkersFrom;

pub use identity::PlanIdentity;
#[cfg(feature = "cli")]
pub(crate) use merge::MERGED_HEAD;
pub use merge::{MergedReport, MergedShard, ReportInput, merge};
pub use record::{REPORT_HEAD, Record, WorkerRecord};
pub use totals::Totals;

/// The sum of `values`, 0.0 when there are none (`Iterator::sum` gives -0.0, which the
/// report would print as "-0.0").
pub(crate) fn total(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |sum, value| sum + value)
}

/// `1 image`, `3 images`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        let ending = if noun.ends_with('s') { "es" } else { "s" };
        format!("{n} {noun}{ending}")
    }
}

/// A file the walk passed over, and why it is not an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassedOver {
    /// The file (or object address).
    pub input: String,
    /// Why it is not taken for an image: "text", "a ZIP archive", "no image signature",
    /// "empty", "a broken link".
    pub reason: String,
}

/// The whole run: settings and totals. The records of its images went to the run's
/// observer as each image ended (the command line's `--report` file holds them all).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The mode's name (`sequential`, `threaded`, `process`, `async`).
    pub mode: &'static str,
    /// Workers used.
    pub workers: usize,
    /// What decided the worker count: `flag` (`--jobs`), `variable` (`IMGPAR_JOBS`),
    /// `cpu_quota` or `cpu_affinity` (the CPU share this process was given), `cores`,
    /// or `task_allotment` (an engine's task).
    pub workers_from: WorkersFrom,
    /// Images planned (folder entries that failed before planning included).
    pub planned: usize,
    /// Images converted.
    pub ok: usize,
    /// Images that failed (inputs that failed before planning included).
    pub failed: usize,
    /// Images skipped (their output existed, with `ExistingOutput::Skip`).
    pub skipped: usize,
    /// Of those, images whose output carries no provenance (made by an older imgpar or
    /// another tool), trusted as theirs.
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped_unverified: usize,
    /// Of the images converted, those made from the thumbnail their HEIF file stores
    /// rather than from the picture.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub from_thumbnails: usize,
    /// Of the images converted, those made from the JPEG preview their camera RAW stores.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub from_previews: usize,
    /// Images never started because the run was interrupted or stopped.
    pub not_started: usize,
    /// The run was cancelled (Ctrl-C, SIGTERM, or the cancel flag).
    pub interrupted: bool,
    /// Why the run stopped before the end, when the output became unusable (full disk,
    /// read-only folder).
    pub stopped: Option<String>,
    /// Why the inputs could not be read to their end once the run had started (a URL
    /// list removed, a bucket listing that failed on a later page): the images after that
    /// point were never planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs_cut: Option<String>,
    /// Why the run could not go on at all (process mode's workers die before their first
    /// image): `Run::execute` turns it into its error.
    #[serde(skip)]
    pub(crate) unworkable: Option<String>,
    /// Wall time of the run, from the first job handed out to the last one finished
    /// (monotonic clock).
    pub wall_s: f64,
    /// Time workers spent inside `convert_job`, summed over workers.
    pub busy_s: f64,
    /// User plus system CPU time during the run: this process and its worker processes.
    pub cpu_s: f64,
    /// Peak resident memory of this process, in MiB (worker processes not included).
    pub peak_rss_mib: f64,
    /// CPU seconds of the worker processes alone (`--mode process`; else 0).
    pub workers_cpu_s: f64,
    /// Peak resident memory of the worker processes in MiB: per worker slot the largest of
    /// its processes, summed over slots (`--mode process`; else 0).
    pub workers_peak_rss_mib: f64,
    /// Images written per second of wall time.
    pub images_per_s: f64,
    /// Megapixels decoded per second of wall time.
    pub megapixels_per_s: f64,
    /// busy / (workers x wall): 1.0 means every worker was busy the whole time.
    pub parallel_efficiency: f64,
    /// Bytes read or downloaded.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Body bytes received from servers.
    pub bytes_downloaded: u64,
    /// Wall seconds during which at least one download (or async file read) was in flight.
    pub network_s: f64,
    /// Wall seconds during which at least one worker was processing an image.
    pub processing_s: f64,
    /// Wall seconds during which both were happening at once.
    pub overlap_s: f64,
    /// Files the walk passed over as not images.
    pub passed_over: usize,
    /// The first 1,000 files passed over, with why each is not an image, in walk order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passed_over_files: Vec<PassedOver>,
    /// The shard this run took, when it took one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// What the run found worth saying that did not stop it (a store that ignores
    /// create-only writes, a probe object left behind).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `--mode async`: the downloads it kept in flight, as `[ms since the start, limit]`
    /// at the start and at each change (the limit adapts unless `--concurrency` pins it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub concurrency: Vec<(f64, usize)>,
    /// The identity of the whole plan (all shards): reports of one plan carry the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanIdentity>,
    /// The first 1,000 failures, as `input: reason`, in the order they ended.
    #[serde(skip)]
    pub failures_kept: Vec<String>,
    /// One record per worker process started (`--mode process` only), in slot order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub worker_processes: Vec<WorkerRecord>,
}

/// The shard a run took: which one, what chose it, and how the plan splits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ShardRecord {
    /// This shard, 0-based.
    pub index: u64,
    /// Shards in all.
    pub count: u64,
    /// What chose it: `--shard`, or the environment variables read.
    pub source: String,
    /// Images in the whole plan (all shards).
    pub plan_images: usize,
    /// Images in this shard.
    pub shard_images: usize,
}

/// What an executor hands over for the totals besides the records.
#[derive(Debug, Clone, Copy)]
pub struct RunMeasures {
    pub mode: &'static str,
    pub workers: usize,
    pub wall_s: f64,
    pub cpu_s: f64,
    pub peak_rss_mib: f64,
    pub interrupted: bool,
    pub planned: usize,
}

impl RunReport {
    /// The report of a run whose records add up to `totals`, with `worker_processes` (one
    /// per worker process started, if any).
    pub fn new(
        measures: RunMeasures,
        totals: &Totals,
        mut worker_processes: Vec<WorkerRecord>,
    ) -> RunReport {
        worker_processes.sort_by_key(|w| w.worker);
        let workers_cpu_s = total(worker_processes.iter().map(|w| w.cpu_s));
        let mut slot_peaks: Vec<f64> = Vec::new();
        for w in &worker_processes {
            if slot_peaks.len() <= w.worker {
                slot_peaks.resize(w.worker + 1, 0.0);
            }
            slot_peaks[w.worker] = slot_peaks[w.worker].max(w.peak_rss_mib);
        }
        let (ok, failed, skipped) = (totals.ok, totals.failed, totals.skipped);
        let busy_ms = totals.busy_ms.max(0.0);
        let (network_ms, work_ms, overlap_ms) = totals.covered_ms();
        let pixels = totals.pixels;
        let wall = measures.wall_s;
        let per_s = |v: f64| if wall > 0.0 { v / wall } else { 0.0 };
        RunReport {
            mode: measures.mode,
            workers: measures.workers,
            workers_from: WorkersFrom::default(),
            planned: measures.planned,
            ok,
            failed,
            skipped,
            skipped_unverified: totals.skipped_unverified,
            from_thumbnails: totals.from_thumbnails,
            from_previews: totals.from_previews,
            not_started: measures.planned.saturating_sub(totals.records),
            interrupted: measures.interrupted,
            stopped: None,
            inputs_cut: None,
            unworkable: None,
            wall_s: wall,
            busy_s: busy_ms / 1e3,
            cpu_s: measures.cpu_s + workers_cpu_s,
            peak_rss_mib: measures.peak_rss_mib,
            workers_cpu_s,
            workers_peak_rss_mib: total(slot_peaks.into_iter()),
            images_per_s: per_s(ok as f64),
            megapixels_per_s: per_s(pixels as f64 / 1e6),
            parallel_efficiency: per_s(busy_ms / 1e3) / measures.workers.max(1) as f64,
            bytes_in: totals.bytes_in,
            bytes_out: totals.bytes_out,
            bytes_downloaded: totals.bytes_downloaded,
            network_s: network_ms / 1e3,
            processing_s: work_ms / 1e3,
            overlap_s: overlap_ms / 1e3,
            passed_over: 0,
            passed_over_files: Vec::new(),
            shard: None,
            plan: None,
            warnings: Vec::new(),
            concurrency: Vec::new(),
            failures_kept: Vec::new(),
            worker_processes,
        }
    }

    /// The failures as `input: reason`, in the order they ended: all of them, or the
    /// first 1,000 when there were more (`failed` counts them all).
    pub fn failures(&self) -> impl Iterator<Item = String> + '_ {
        self.failures_kept.iter().cloned()
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::failure::ErrorKind;
    use crate::job::Input;
    use crate::outcome::{Ending, JobEnding, Outcome};

    fn record(ending: Ending, start: f64, end: f64) -> Record {
        let outcome = JobEnding {
            ending,
            size_in: Some((1000, 1000)),
            ..JobEnding::default()
        };
        Record::from_outcome(
            &Input::File("in".into()),
            Path::new("out"),
            &outcome,
            Some(0),
            (start, end),
            None,
        )
    }

    #[test]
    fn totals_add_up() {
        let records = [
            record(Ending::Ok, 0.0, 500.0),
            record(Ending::Ok, 0.0, 500.0),
            record(Ending::failed(ErrorKind::Corrupt, "bad"), 500.0, 1000.0),
            record(Ending::Skipped("exists".into()), 1000.0, 1000.0),
        ];
        let measures = RunMeasures {
            mode: "threaded",
            workers: 2,
            wall_s: 1.0,
            cpu_s: 1.0,
            peak_rss_mib: 10.0,
            interrupted: false,
            planned: 5,
        };
        let mut totals = Totals::default();
        records.iter().for_each(|r| totals.add(r));
        let mut report = RunReport::new(measures, &totals, Vec::new());
        report.failures_kept = records
            .iter()
            .filter(|r| r.status == Outcome::Failed)
            .map(Record::failure_line)
            .collect();
        assert_eq!((report.ok, report.failed, report.skipped), (2, 1, 1));
        assert_eq!(report.not_started, 1);
        assert!((report.busy_s - 1.5).abs() < 1e-9);
        assert!((report.parallel_efficiency - 0.75).abs() < 1e-9);
        assert!((report.images_per_s - 2.0).abs() < 1e-9);
        assert!((report.megapixels_per_s - 4.0).abs() < 1e-9);
        assert_eq!(report.failures().collect::<Vec<_>>(), vec!["in: bad"]);
    }
}
