//! What a run did: the outcome of each image, the run's totals, and their rendering as the
//! text summary on stderr and the JSON report. Nothing here measures; it adds up what the
//! executors and `process_job` measured.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::failure::{ErrorKind, Failure};
use crate::fetch::FetchInfo;
use crate::job::Input;

/// How one image ended. Every planned image ends in exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Status {
    #[default]
    Ok,
    /// It failed, for this reason.
    Failed(Failure),
    /// It was left alone, for this reason (its output exists).
    Skipped(String),
}

impl Status {
    /// The status as a word: `ok`, `failed` or `skipped`.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed(_) => "failed",
            Status::Skipped(_) => "skipped",
        }
    }

    /// The kind of failure, for a failure.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        match self {
            Status::Failed(failure) => Some(failure.kind),
            _ => None,
        }
    }

    /// A failure of `kind` saying `message`.
    pub fn failed(kind: ErrorKind, message: impl Into<String>) -> Status {
        Status::Failed(Failure::new(kind, message))
    }

    /// The reason for a failure or a skip.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Status::Ok => None,
            Status::Failed(failure) => Some(&failure.message),
            Status::Skipped(reason) => Some(reason),
        }
    }
}

/// Milliseconds spent in each stage of one image's work (0 for stages not reached).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimes {
    /// Downloading (URL inputs; in async mode, before a worker took the image).
    pub fetch_ms: f64,
    /// Reading the file.
    pub read_ms: f64,
    /// Decoding, down to gray (and shrunk, where the decoder can).
    pub decode_ms: f64,
    /// Resizing to the output geometry.
    pub resize_ms: f64,
    /// Encoding the output.
    pub encode_ms: f64,
    /// Writing the output file (atomically).
    pub write_ms: f64,
}

/// What `process_job` returns for one image: its status and what it measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobOutcome {
    pub status: Status,
    /// Bytes read or downloaded.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Width and height as stored in the input, once its header was read.
    pub size_in: Option<(u32, u32)>,
    /// Width and height of the output, once resized.
    pub size_out: Option<(u32, u32)>,
    /// Milliseconds in each stage.
    pub times: StageTimes,
    /// How the download went, for a URL input.
    pub fetch: Option<FetchInfo>,
    /// The write failed in a way every later write would too (full disk, read-only
    /// folder): the run should stop.
    #[serde(default)]
    pub output_unusable: bool,
}

impl JobOutcome {
    /// The outcome of an image that failed before anything was measured.
    pub fn failed(failure: Failure) -> JobOutcome {
        JobOutcome {
            status: Status::Failed(failure),
            ..JobOutcome::default()
        }
    }
}

/// One image in the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// The file path or URL, as given or found; a path that is not UTF-8 is shown with
    /// U+FFFD in place of its stray bytes, and `input_bytes` holds it exactly.
    pub input: String,
    /// The input path's bytes, only when it is not valid UTF-8 (names are bytes on Unix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_bytes: Option<Vec<u8>>,
    /// The output path, shown as `input` is.
    pub output: Option<String>,
    /// The output path's bytes, only when it is not valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_bytes: Option<Vec<u8>>,
    /// `ok`, `failed` or `skipped`.
    pub status: &'static str,
    /// Why it failed or was skipped, for people.
    pub error: Option<String>,
    /// What kind of failure, for programs (stable snake_case names), when it failed.
    pub error_kind: Option<ErrorKind>,
    /// Bytes read or downloaded.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Width as stored in the input, once its header was read.
    pub width_in: Option<u32>,
    /// Height as stored in the input.
    pub height_in: Option<u32>,
    /// Width of the output.
    pub width_out: Option<u32>,
    /// Height of the output.
    pub height_out: Option<u32>,
    /// Milliseconds from the run's start (monotonic clock) to when a worker took the image.
    pub start_ms: f64,
    /// Milliseconds from the run's start to when the worker finished it.
    pub end_ms: f64,
    /// Which worker ran it (0-based); `None` for problems found before any work started
    /// and for downloads that failed before reaching a worker (async mode).
    pub worker: Option<usize>,
    /// Milliseconds from the run's start to the start and end of the download, for URLs
    /// (and for files read by the async mode).
    pub fetch_start_ms: Option<f64>,
    /// Milliseconds from the run's start to the end of the download.
    pub fetch_end_ms: Option<f64>,
    /// The last HTTP status received, for URLs.
    pub http_status: Option<u16>,
    /// Download attempts made, for URLs.
    pub attempts: Option<u32>,
    /// Milliseconds in each stage.
    #[serde(flatten)]
    pub times: StageTimes,
}

impl Record {
    /// The record of a job that ran: on `worker` from `start_ms` to `end_ms`, with its
    /// download (or async read) from `fetch.0` to `fetch.1` if there was one.
    pub fn from_outcome(
        input: &Input,
        output: &Path,
        outcome: &JobOutcome,
        worker: Option<usize>,
        (start_ms, end_ms): (f64, f64),
        fetch: Option<(f64, f64)>,
    ) -> Record {
        let (input, input_bytes) = match input {
            Input::File(path) => path_text(path),
            Input::Url(url) => (url.clone(), None),
        };
        let (output, output_bytes) = path_text(output);
        Record {
            input,
            input_bytes,
            output: Some(output),
            output_bytes,
            status: outcome.status.word(),
            error: outcome.status.reason().map(str::to_string),
            error_kind: outcome.status.error_kind(),
            bytes_in: outcome.bytes_in,
            bytes_out: outcome.bytes_out,
            width_in: outcome.size_in.map(|s| s.0),
            height_in: outcome.size_in.map(|s| s.1),
            width_out: outcome.size_out.map(|s| s.0),
            height_out: outcome.size_out.map(|s| s.1),
            start_ms,
            end_ms,
            worker,
            fetch_start_ms: fetch.map(|f| f.0),
            fetch_end_ms: fetch.map(|f| f.1),
            http_status: outcome.fetch.and_then(|f| f.status),
            attempts: outcome.fetch.map(|f| f.attempts),
            times: outcome.times,
        }
    }

    /// The record of an input that failed before it could become a job (an unreadable
    /// folder entry, say).
    pub fn problem(input: &Path, reason: String) -> Record {
        let (input, input_bytes) = path_text(input);
        Record {
            input,
            input_bytes,
            output: None,
            output_bytes: None,
            status: "failed",
            error: Some(reason),
            error_kind: Some(ErrorKind::Read),
            bytes_in: 0,
            bytes_out: 0,
            width_in: None,
            height_in: None,
            width_out: None,
            height_out: None,
            start_ms: 0.0,
            end_ms: 0.0,
            worker: None,
            fetch_start_ms: None,
            fetch_end_ms: None,
            http_status: None,
            attempts: None,
            times: StageTimes::default(),
        }
    }

    /// When its input was being downloaded (or read by the async mode), if ever.
    fn fetch_span(&self) -> Option<(f64, f64)> {
        Some((self.fetch_start_ms?, self.fetch_end_ms?))
    }

    /// When a worker was processing it, its download excluded.
    fn work_span(&self) -> Option<(f64, f64)> {
        let from = self
            .fetch_end_ms
            .map_or(self.start_ms, |f| f.max(self.start_ms));
        (self.worker.is_some() && self.end_ms > from).then_some((from, self.end_ms))
    }

    fn pixels_in(&self) -> u64 {
        match (self.width_in, self.height_in) {
            (Some(w), Some(h)) => u64::from(w) * u64::from(h),
            _ => 0,
        }
    }
}

/// A path as report text: the string itself when it is UTF-8, else its lossy form plus
/// its exact bytes, so that no name is lost and none makes the report fail.
fn path_text(path: &Path) -> (String, Option<Vec<u8>>) {
    match path.to_str() {
        Some(text) => (text.to_string(), None),
        None => (
            path.to_string_lossy().into_owned(),
            Some(path.as_os_str().as_encoded_bytes().to_vec()),
        ),
    }
}

/// One worker process of `--mode process`, from its start to its end.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerRecord {
    /// The worker slot it filled (the `worker` of the images it ran); a replacement for a
    /// dead worker fills the same slot.
    pub worker: usize,
    /// Its process id.
    pub pid: u32,
    /// Images it finished, whatever their status.
    pub jobs: usize,
    /// Seconds from the start to the end of its images, as seen by imgpar.
    pub busy_s: f64,
    /// Its user plus system CPU seconds, from the kernel's accounting.
    pub cpu_s: f64,
    /// Its peak resident memory in MiB, from the kernel's accounting (which, for a worker
    /// that stays small, counts at least imgpar's own memory when the worker was started).
    pub peak_rss_mib: f64,
    /// Milliseconds from starting the process to its first message (ready for images);
    /// `None` if it never got that far.
    pub startup_ms: Option<f64>,
    /// How it ended: "finished", or why it was stopped or what killed it.
    pub ended: String,
}

/// The sum of `values`, 0.0 when there are none (`Iterator::sum` gives -0.0, which the
/// report would print as "-0.0").
fn total(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |sum, value| sum + value)
}

/// `1 image`, `3 images`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The whole run: settings, totals, and one record per image in plan order.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The mode's name (`sequential`, `threaded`, `process`, `async`).
    pub mode: &'static str,
    /// Workers used.
    pub workers: usize,
    /// Images planned (folder entries that failed before planning included).
    pub planned: usize,
    /// Images converted.
    pub ok: usize,
    /// Images that failed (inputs that failed before planning included).
    pub failed: usize,
    /// Images skipped (their output existed, with `ExistingOutput::Skip`).
    pub skipped: usize,
    /// Images never started because the run was interrupted or stopped.
    pub not_started: usize,
    /// The run was cancelled (Ctrl-C, SIGTERM, or the cancel flag).
    pub interrupted: bool,
    /// Why the run stopped before the end, when the output became unusable (full disk,
    /// read-only folder).
    pub stopped: Option<String>,
    /// Wall time of the run, from the first job handed out to the last one finished
    /// (monotonic clock).
    pub wall_s: f64,
    /// Time workers spent inside `process_job`, summed over workers.
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
    /// One record per image, in plan order.
    pub images: Vec<Record>,
    /// One record per worker process started (`--mode process` only), in slot order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub worker_processes: Vec<WorkerRecord>,
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
    /// Adds up `records` (one per image that ran or failed before running, in plan order)
    /// and `worker_processes` (one per worker process started, if any).
    pub fn new(
        measures: RunMeasures,
        records: Vec<Record>,
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
        let count = |word: &str| records.iter().filter(|r| r.status == word).count();
        let (ok, failed, skipped) = (count("ok"), count("failed"), count("skipped"));
        let busy_ms = total(records.iter().map(|r| r.end_ms - r.start_ms));
        let network: Vec<(f64, f64)> = records.iter().filter_map(Record::fetch_span).collect();
        let work: Vec<(f64, f64)> = records.iter().filter_map(Record::work_span).collect();
        let pixels: u64 = records.iter().map(Record::pixels_in).sum();
        let wall = measures.wall_s;
        let per_s = |v: f64| if wall > 0.0 { v / wall } else { 0.0 };
        RunReport {
            mode: measures.mode,
            workers: measures.workers,
            planned: measures.planned,
            ok,
            failed,
            skipped,
            not_started: measures.planned.saturating_sub(records.len()),
            interrupted: measures.interrupted,
            stopped: None,
            wall_s: wall,
            busy_s: busy_ms / 1e3,
            cpu_s: measures.cpu_s + workers_cpu_s,
            peak_rss_mib: measures.peak_rss_mib,
            workers_cpu_s,
            workers_peak_rss_mib: total(slot_peaks.into_iter()),
            images_per_s: per_s(ok as f64),
            megapixels_per_s: per_s(pixels as f64 / 1e6),
            parallel_efficiency: per_s(busy_ms / 1e3) / measures.workers.max(1) as f64,
            bytes_in: records.iter().map(|r| r.bytes_in).sum(),
            bytes_out: records.iter().map(|r| r.bytes_out).sum(),
            bytes_downloaded: records
                .iter()
                .filter(|r| r.http_status.is_some())
                .map(|r| r.bytes_in)
                .sum(),
            network_s: spans::covered(&network) / 1e3,
            processing_s: spans::covered(&work) / 1e3,
            overlap_s: spans::overlap(&network, &work) / 1e3,
            passed_over: 0,
            images: records,
            worker_processes,
        }
    }

    /// Every failure as `input: reason`, in plan order.
    pub fn failures(&self) -> impl Iterator<Item = String> + '_ {
        self.images
            .iter()
            .filter(|r| r.status == "failed")
            .map(|r| format!("{}: {}", r.input, r.error.as_deref().unwrap_or("failed")))
    }

    /// The human summary printed at the end of a run (without the failure list).
    pub fn summary_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "imgpar: {} ok, {} failed, {} skipped of {} images in {:.2} s ({} mode, {} worker{})",
            self.ok,
            self.failed,
            self.skipped,
            self.planned,
            self.wall_s,
            self.mode,
            self.workers,
            if self.workers == 1 { "" } else { "s" }
        );
        if self.interrupted {
            let _ = writeln!(
                s,
                "  interrupted: {} not started; re-run with --skip-existing to finish",
                count(self.not_started, "image")
            );
        }
        let _ = writeln!(
            s,
            "  throughput  {:.1} images/s, {:.1} MP/s decoded ({:.1} MB read, {:.1} MB written)",
            self.images_per_s,
            self.megapixels_per_s,
            self.bytes_in as f64 / 1e6,
            self.bytes_out as f64 / 1e6
        );
        let _ = writeln!(
            s,
            "  busy        {:.2} s summed over workers; parallel efficiency {:.0}% (busy / ({} x {:.2} s wall))",
            self.busy_s,
            self.parallel_efficiency * 100.0,
            self.workers,
            self.wall_s
        );
        if self.network_s > 0.0 {
            let _ = writeln!(
                s,
                "  network     {:.2} s with downloads (or async reads) in flight, {:.2} s with images in work, {:.2} s both at once ({:.1} MB downloaded)",
                self.network_s,
                self.processing_s,
                self.overlap_s,
                self.bytes_downloaded as f64 / 1e6
            );
        }
        if self.worker_processes.is_empty() {
            let _ = writeln!(
                s,
                "  cpu         {:.2} s user+system of this process; peak memory {:.0} MiB",
                self.cpu_s, self.peak_rss_mib
            );
        } else {
            self.write_process_lines(&mut s);
        }
        s
    }

    /// The summary lines of `--mode process`: what the parent and each worker cost.
    fn write_process_lines(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "  cpu         {:.2} s user+system: {:.2} s in imgpar, {:.2} s in worker processes",
            self.cpu_s,
            self.cpu_s - self.workers_cpu_s,
            self.workers_cpu_s
        );
        let _ = writeln!(
            s,
            "  memory      peak {:.0} MiB in imgpar, {:.0} MiB summed over worker slots",
            self.peak_rss_mib, self.workers_peak_rss_mib
        );
        let startups: Vec<f64> = self
            .worker_processes
            .iter()
            .filter_map(|w| w.startup_ms)
            .collect();
        if !startups.is_empty() {
            let _ = writeln!(
                s,
                "  start-up    {} worker processes, {:.1} ms each on average from start to ready",
                self.worker_processes.len(),
                startups.iter().sum::<f64>() / startups.len() as f64
            );
        }
        for w in &self.worker_processes {
            let _ = writeln!(
                s,
                "  worker {:<4} pid {:<8} {:>5} images  busy {:>7.2} s  cpu {:>7.2} s  peak {:>5.0} MiB  {}",
                w.worker, w.pid, w.jobs, w.busy_s, w.cpu_s, w.peak_rss_mib, w.ended
            );
        }
    }

    /// The JSON report: every field of the summary plus `images`, one record per image.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: Status, start: f64, end: f64) -> Record {
        let outcome = JobOutcome {
            status,
            size_in: Some((1000, 1000)),
            ..JobOutcome::default()
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
        let records = vec![
            record(Status::Ok, 0.0, 500.0),
            record(Status::Ok, 0.0, 500.0),
            record(Status::failed(ErrorKind::Corrupt, "bad"), 500.0, 1000.0),
            record(Status::Skipped("exists".into()), 1000.0, 1000.0),
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
        let report = RunReport::new(measures, records, Vec::new());
        assert_eq!((report.ok, report.failed, report.skipped), (2, 1, 1));
        assert_eq!(report.not_started, 1);
        assert!((report.busy_s - 1.5).abs() < 1e-9);
        assert!((report.parallel_efficiency - 0.75).abs() < 1e-9);
        assert!((report.images_per_s - 2.0).abs() < 1e-9);
        assert!((report.megapixels_per_s - 4.0).abs() < 1e-9);
        assert_eq!(report.failures().collect::<Vec<_>>(), vec!["in: bad"]);
    }
}

/// Lengths of time covered by sets of intervals on one clock.
mod spans {
    /// Sorts and merges overlapping intervals.
    fn merged(spans: &[(f64, f64)]) -> Vec<(f64, f64)> {
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
}
