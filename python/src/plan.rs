//! The plan as data: `plan` plans once and returns the plan's lines (what `imgpar plan`
//! writes into shard files); `merge_reports` merges reports in memory as `imgpar
//! merge-reports` merges report files.

use std::ffi::OsString;

use imgpar::ReportInput;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::errors::run_error;

/// Rows handed over to Python at a time while the plan is made: the plan's rows are held
/// once (as Python strings), not twice.
const ROWS_AT_ONCE: usize = 1 << 16;

/// Plans the run `args` describe (inputs, output, conversion and existing-output flags)
/// and returns its lines: `(header, rows, end, plan id)`, `rows` a list of strings. The
/// GIL is released while it plans (a bucket listed, a URL list read), taken only to hand
/// over each [`ROWS_AT_ONCE`] rows.
#[pyfunction]
pub fn plan(py: Python<'_>, args: Vec<OsString>) -> PyResult<(String, Py<PyList>, String, String)> {
    let rows = PyList::empty(py).unbind();
    let mut pending: Vec<String> = Vec::with_capacity(ROWS_AT_ONCE);
    let mut handed: PyResult<()> = Ok(());
    let mut hand_over = |pending: &mut Vec<String>| {
        Python::attach(|py| {
            let list = rows.bind(py);
            for line in pending.drain(..) {
                if let Err(error) = list.append(line) {
                    handed = Err(error);
                    return;
                }
            }
        })
    };
    let planned = py.detach(|| {
        let planned = imgpar::cli::plan_from_flags(&args, &mut |line| {
            pending.push(line);
            if pending.len() == ROWS_AT_ONCE {
                hand_over(&mut pending);
            }
        });
        hand_over(&mut pending);
        planned
    });
    handed?;
    match planned {
        Ok(lines) => Ok((lines.header, rows, lines.end, lines.plan.id)),
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
