//! Everything imgpar renders from its results. A run's files (the JSON report, the Chrome
//! trace, the SVG timeline) are [`RunFile`]s: observers that take each image's record as
//! it ends and are finished with the run's report. `bench`'s CSV, JSON and speedup plot
//! are [`Render`]s of the sweep, in `bench/export.rs`. The command line writes whichever
//! the user asked for.

#[cfg(feature = "cli")]
mod line_file;
#[cfg(feature = "cli")]
mod timeline;
#[cfg(feature = "cli")]
mod trace;

#[cfg(feature = "cli")]
use std::path::{Path, PathBuf};
#[cfg(feature = "cli")]
use std::sync::Mutex;

#[cfg(feature = "cli")]
use crate::events::{Event, Observer};
#[cfg(feature = "cli")]
use crate::report::{Record, RunReport};
#[cfg(feature = "cli")]
pub(crate) use line_file::LineFile;

/// Renders a result (`T`: a bench sweep) as the text of one file.
pub trait Render<T: ?Sized> {
    /// What it renders, in a word for messages (`report`, `trace`) or as a file name.
    fn name(&self) -> &'static str;

    /// The file's text, or why it cannot be made.
    fn render(&self, of: &T) -> Result<String, String>;
}

/// A file written from a run as it goes: each record as its image ends, then the end of
/// the file from the run's report.
#[cfg(feature = "cli")]
pub trait RunFile: Observer {
    /// What it is, in a word for messages (`report`, `trace`, `timeline`).
    fn name(&self) -> &'static str;

    /// Writes the end of the file (or the whole of it, for a file that cannot be written
    /// in pieces), or says why it could not be written.
    fn finish(&self, report: &RunReport) -> Result<(), String>;

    /// The process is ending at once (a second Ctrl-C), with no report to come: ends the
    /// file with what it holds, where its format can say that much. Does nothing by
    /// default (a file drawn only at the end is not written).
    fn close_at_once(&self) {}
}

#[cfg(feature = "cli")]
/// The JSON report, written as the run goes: one JSON document whose `images` array
/// comes first, one record a line as each image ends, and whose totals come last, once
/// the run is over. A report cut short (the run killed) still holds every record written
/// before, each whole on its line; `merge-reports` reads such a report too.
///
/// ```text
/// {"format":"imgpar-report-2","images":[
/// {"input":"a.jpg",...}
/// ,{"input":"b.jpg",...}
/// ],"mode":"threaded","ok":2,...}
/// ```
pub struct JsonReport {
    file: LineFile,
    /// Images planned, and the records written by how they ended (ok, failed, skipped):
    /// what a report closed at once says of itself.
    counts: [std::sync::atomic::AtomicUsize; 4],
}

#[cfg(feature = "cli")]
impl JsonReport {
    /// A report to be written at `path` (a file, or an object address: then it is kept in
    /// a temporary file and put at the end). Nothing is created before the run starts.
    pub fn new(path: &Path) -> JsonReport {
        JsonReport {
            file: LineFile::new(path, crate::report::REPORT_HEAD),
            counts: Default::default(),
        }
    }
}

#[cfg(feature = "cli")]
impl Observer for JsonReport {
    fn event(&self, event: Event<'_>) {
        use std::sync::atomic::Ordering::Relaxed;
        match event {
            Event::Planned { images } => {
                self.counts[0].store(images, Relaxed);
                self.file.open();
            }
            Event::Finished { record, .. } => {
                let line = serde_json::to_string(record).expect("a record always serialises");
                self.file.item(&line);
                let ended = match record.status {
                    crate::outcome::Outcome::Ok => 1,
                    crate::outcome::Outcome::Failed => 2,
                    crate::outcome::Outcome::Skipped => 3,
                };
                self.counts[ended].fetch_add(1, Relaxed);
            }
            Event::Started { .. } => {}
        }
    }
}

#[cfg(feature = "cli")]
impl RunFile for JsonReport {
    fn name(&self) -> &'static str {
        "report"
    }

    fn finish(&self, report: &RunReport) -> Result<(), String> {
        let totals = serde_json::to_string(report).expect("a report always serialises");
        let rest = totals.strip_prefix('{').unwrap_or(&totals);
        let tail = if rest == "}" {
            "]}".to_string()
        } else {
            format!("],{rest}")
        };
        self.file.finish(&tail)
    }

    fn close_at_once(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        let [planned, ok, failed, skipped] = self.counts.each_ref().map(|n| n.load(Relaxed));
        let tail = serde_json::json!({
            "interrupted": true,
            "ended_at_once": "a second Ctrl-C or SIGTERM: the images in progress were not finished",
            "planned": planned,
            "ok": ok,
            "failed": failed,
            "skipped": skipped,
            "not_started": planned.saturating_sub(ok + failed + skipped),
        })
        .to_string();
        let _ = self.file.finish(&format!("],{}", &tail[1..]));
    }
}

#[cfg(feature = "cli")]
/// `--dry-run --report FILE`: the plan as JSON, written as it is read: its `images`
/// first, one a line, then the problems, the plan's identity and its counts.
pub struct PlanFile {
    file: LineFile,
}

#[cfg(feature = "cli")]
impl PlanFile {
    /// A plan to be written at `path` (created with its first image).
    pub fn new(path: &Path) -> PlanFile {
        PlanFile {
            file: LineFile::new(path, r#"{"format":"imgpar-plan-2","images":["#),
        }
    }

    /// One image of the plan.
    pub fn image(&self, image: &crate::run::PlannedImage) {
        let line = serde_json::to_string(image).expect("a plan always serialises");
        self.file.item(&line);
    }

    /// The rest of the plan: `plan` with its problems, without its images.
    pub fn finish(&self, plan: &crate::run::DryRun) -> Result<(), String> {
        let rest = serde_json::to_string(plan).expect("a plan always serialises");
        let rest = rest.strip_prefix('{').unwrap_or(&rest);
        self.file.finish(&format!("],{rest}"))
    }
}

/// `--trace FILE.json`: the run as Chrome trace events (Perfetto, chrome://tracing),
/// written as the run goes, one event a line.
#[cfg(feature = "cli")]
pub struct ChromeTrace {
    file: LineFile,
    /// The track of async downloads: the one after the workers'.
    downloads: usize,
    ended: std::sync::atomic::AtomicUsize,
}

#[cfg(feature = "cli")]
impl ChromeTrace {
    /// A trace to be written at `path`, of a run on `workers` workers.
    pub fn new(path: &Path, workers: usize) -> ChromeTrace {
        ChromeTrace {
            file: LineFile::new(path, r#"{"displayTimeUnit":"ms","traceEvents":["#),
            downloads: workers,
            ended: Default::default(),
        }
    }
}

#[cfg(feature = "cli")]
impl Observer for ChromeTrace {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Planned { .. } => self.file.open(),
            Event::Finished { record, .. } => {
                let id = self
                    .ended
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                for event in trace::record_events(record, id, self.downloads) {
                    self.file.item(&event.to_string());
                }
            }
            Event::Started { .. } => {}
        }
    }
}

#[cfg(feature = "cli")]
impl RunFile for ChromeTrace {
    fn name(&self) -> &'static str {
        "trace"
    }

    fn finish(&self, report: &RunReport) -> Result<(), String> {
        for event in trace::metadata_events(report) {
            self.file.item(&event.to_string());
        }
        self.file.finish("]}")
    }

    fn close_at_once(&self) {
        let _ = self.file.finish("]}");
    }
}

/// Records a timeline keeps at most: past that it keeps every other one it holds, and
/// from then on every other image (then every fourth, ...): an even sample of the run.
#[cfg(feature = "cli")]
pub const TIMELINE_RECORDS: usize = 20_000;

/// `--timeline FILE.svg`: the run as a picture, a row per worker, drawn at the end from
/// the records of every image, or of an even sample of [`TIMELINE_RECORDS`] of them.
#[cfg(feature = "cli")]
pub struct Timeline {
    path: PathBuf,
    sample: Mutex<Sample>,
}

#[cfg(feature = "cli")]
#[derive(Default)]
struct Sample {
    records: Vec<Record>,
    /// Every `stride`-th image is kept.
    stride: usize,
    seen: usize,
}

#[cfg(feature = "cli")]
impl Timeline {
    /// A timeline to be drawn at `path`.
    pub fn new(path: &Path) -> Timeline {
        Timeline {
            path: path.to_path_buf(),
            sample: Mutex::new(Sample {
                stride: 1,
                ..Sample::default()
            }),
        }
    }
}

#[cfg(feature = "cli")]
impl Observer for Timeline {
    fn event(&self, event: Event<'_>) {
        let Event::Finished { record, .. } = event else {
            return;
        };
        let mut sample = self.sample.lock().unwrap_or_else(|p| p.into_inner());
        sample.seen += 1;
        if !sample.seen.is_multiple_of(sample.stride) {
            return;
        }
        if sample.records.len() == TIMELINE_RECORDS {
            let mut at = 0;
            sample.records.retain(|_| {
                at += 1;
                at % 2 == 0
            });
            sample.stride *= 2;
            if !sample.seen.is_multiple_of(sample.stride) {
                return;
            }
        }
        sample.records.push(record.clone());
    }
}

#[cfg(feature = "cli")]
impl RunFile for Timeline {
    fn name(&self) -> &'static str {
        "timeline"
    }

    fn finish(&self, report: &RunReport) -> Result<(), String> {
        let sample = self.sample.lock().unwrap_or_else(|p| p.into_inner());
        let svg = timeline::timeline_svg(report, &sample.records)?;
        crate::store::write_result_file(&self.path, svg.as_bytes())
    }
}
