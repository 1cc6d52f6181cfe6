//! The per-image records of the report, and the per-process records of process mode.

use std::path::Path;

use serde::Serialize;

use crate::failure::ErrorKind;
use crate::job::Input;
use crate::outcome::{JobEnding, Outcome, StageTimes};

/// The first line of a report written as the run went: its records follow, one a line.
pub const REPORT_HEAD: &str = r#"{"format":"imgpar-report-2","images":["#;

/// One image in the JSON report.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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
    pub status: Outcome,
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
    /// Present when the output was made not from the picture but from a rendering its file
    /// stores: `embedded_thumbnail` (a HEIF thumbnail) or `embedded_preview` (a camera
    /// RAW's JPEG). `width_in` and `height_in` are then that rendering's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded_from: Option<crate::image::DecodedFrom>,
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
        outcome: &JobEnding,
        worker: Option<usize>,
        (start_ms, end_ms): (f64, f64),
        fetch: Option<(f64, f64)>,
    ) -> Record {
        let (input, input_bytes) = match input {
            Input::File(path) => path_text(path),
            Input::Url(url) => (url.clone(), None),
            Input::Object(url) => (url.to_string(), None),
        };
        let (output, output_bytes) = path_text(output);
        Record {
            input,
            input_bytes,
            output: Some(output),
            output_bytes,
            status: outcome.ending.outcome(),
            error: outcome.ending.reason().map(str::to_string),
            error_kind: outcome.ending.error_kind(),
            bytes_in: outcome.bytes_in,
            bytes_out: outcome.bytes_out,
            width_in: outcome.size_in.map(|s| s.0),
            height_in: outcome.size_in.map(|s| s.1),
            width_out: outcome.size_out.map(|s| s.0),
            height_out: outcome.size_out.map(|s| s.1),
            decoded_from: Some(outcome.decoded_from)
                .filter(|from| *from != crate::image::DecodedFrom::Picture),
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
            status: Outcome::Failed,
            error: Some(reason),
            error_kind: Some(ErrorKind::Read),
            bytes_in: 0,
            bytes_out: 0,
            width_in: None,
            height_in: None,
            width_out: None,
            height_out: None,
            decoded_from: None,
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

    /// `input: reason`, as a failure is listed for people.
    pub fn failure_line(&self) -> String {
        format!(
            "{}: {}",
            self.input,
            self.error.as_deref().unwrap_or(self.status.word())
        )
    }

    /// When its input was being downloaded (or read by the async mode), if ever.
    pub(super) fn fetch_span(&self) -> Option<(f64, f64)> {
        Some((self.fetch_start_ms?, self.fetch_end_ms?))
    }

    /// When a worker was processing it, its download excluded.
    pub(super) fn work_span(&self) -> Option<(f64, f64)> {
        let from = self
            .fetch_end_ms
            .map_or(self.start_ms, |f| f.max(self.start_ms));
        (self.worker.is_some() && self.end_ms > from).then_some((from, self.end_ms))
    }

    pub(super) fn pixels_in(&self) -> u64 {
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
