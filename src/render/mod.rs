//! Everything imgpar renders from its results, behind one trait: the run's JSON report,
//! its Chrome trace and its SVG timeline here; `bench`'s CSV, JSON and speedup plot in
//! `bench/export.rs`. The command line writes whichever the user asked for.

#[cfg(feature = "cli")]
mod timeline;
#[cfg(feature = "cli")]
mod trace;

use crate::report::RunReport;

/// Renders a result (`T`: a run's report, a bench sweep) as the text of one file.
pub trait Render<T: ?Sized> {
    /// What it renders, in a word for messages (`report`, `trace`) or as a file name.
    fn name(&self) -> &'static str;

    /// The file's text, or why it cannot be made.
    fn render(&self, of: &T) -> Result<String, String>;
}

/// The JSON report: every field of the summary plus one record per image.
pub struct JsonReport;

impl Render<RunReport> for JsonReport {
    fn name(&self) -> &'static str {
        "report"
    }

    fn render(&self, report: &RunReport) -> Result<String, String> {
        Ok(report.to_json())
    }
}

/// The run as Chrome trace events (Perfetto, chrome://tracing).
#[cfg(feature = "cli")]
pub struct ChromeTrace;

#[cfg(feature = "cli")]
impl Render<RunReport> for ChromeTrace {
    fn name(&self) -> &'static str {
        "trace"
    }

    fn render(&self, report: &RunReport) -> Result<String, String> {
        Ok(trace::chrome_trace(report))
    }
}

/// The run as an SVG timeline, a row per worker.
#[cfg(feature = "cli")]
pub struct Timeline;

#[cfg(feature = "cli")]
impl Render<RunReport> for Timeline {
    fn name(&self) -> &'static str {
        "timeline"
    }

    fn render(&self, report: &RunReport) -> Result<String, String> {
        timeline::timeline_svg(report)
    }
}
