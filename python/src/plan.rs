//! The plan as data: `plan` plans once and returns the plan's lines (what `imgpar plan`
//! writes into shard files); `merge_reports` merges reports in memory as `imgpar
//! merge-reports` merges report files.

use std::ffi::OsString;

use imgpar::ReportInput;
use pyo3::prelude::*;

use crate::errors::run_error;

/// Plans the run `args` describe (inputs, output, conversion and existing-output flags)
/// and returns its lines: `(header, rows, end, plan id)`. The GIL is released while it
/// plans (a bucket listed, a URL list read).
#[pyfunction]
pub fn plan(
    py: Python<'_>,
    args: Vec<OsString>,
) -> PyResult<(String, Vec<String>, String, String)> {
    match py.detach(|| imgpar::cli::plan_from_flags(&args)) {
        Ok(lines) => Ok((lines.header, lines.rows, lines.end, lines.plan.id)),
        Err(failure) => Err(run_error(py, failure.message, failure.code)),
    }
}

/// Merges reports given as `(name, JSON text)` pairs (each a report as `--report` writes
/// it, or as one JSON document) as `imgpar merge-reports` does. Returns the merged
/// report's JSON (without its records), every record as JSON in the order the reports
/// were given, and the exit code `merge-reports` gives. `RunError` (code 2) when a report
/// is not an imgpar report.
#[pyfunction]
pub fn merge_reports(
    py: Python<'_>,
    reports: Vec<(String, String)>,
) -> PyResult<(String, Vec<String>, i32)> {
    let mut records = Vec::new();
    let merged = py.detach(|| {
        let inputs: Vec<ReportInput> = reports
            .into_iter()
            .map(|(name, text)| ReportInput {
                name,
                open: Box::new(move || {
                    Ok(Box::new(std::io::Cursor::new(text.clone().into_bytes()))
                        as Box<dyn std::io::BufRead>)
                }),
                listed: false,
            })
            .collect();
        imgpar::merge(&inputs, &mut |record| records.push(record.to_owned()))
    });
    let merged = merged.map_err(|message| run_error(py, message, 2))?;
    let json = serde_json::to_string(&merged)
        .map_err(|e| run_error(py, format!("internal error: the merged report: {e}"), 70))?;
    Ok((
        json,
        records,
        imgpar::cli::ExitCode::of_merged(&merged).code(),
    ))
}
