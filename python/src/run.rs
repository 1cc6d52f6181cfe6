//! `run`: a whole batch from the command line's arguments, in this process, printing
//! nothing. The run goes on a thread of its own with the GIL released; the calling
//! thread wakes every 100 ms to let Python handle signals, so Ctrl-C winds the run down
//! (the images in progress end) and then raises `KeyboardInterrupt`.

use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use imgpar::{Event, Observer};
use pyo3::prelude::*;

use crate::errors::run_error;

/// How often the waiting thread lets Python look at its signals.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Runs the conversion `args` describe (inputs, output, flags). Returns the report's
/// totals as JSON, every image's record as JSON when `keep_images` (in the order they
/// ended), and the exit code the command gives for the same run. `progress`, if given, is called with each record (a dict) as its image
/// ends, from the worker thread that ended it; an exception it raises stops the run and
/// is raised here once the run has wound down.
#[pyfunction]
#[pyo3(signature = (args, progress=None, keep_images=true))]
pub fn run(
    py: Python<'_>,
    args: Vec<OsString>,
    progress: Option<Py<PyAny>>,
    keep_images: bool,
) -> PyResult<(String, Vec<String>, i32)> {
    let cancel = Arc::new(AtomicBool::new(false));
    let records = Records {
        keep: keep_images,
        kept: Mutex::new(Vec::new()),
        progress,
        raised: Mutex::new(None),
        cancel: Arc::clone(&cancel),
    };
    let mut interrupted = None;
    let outcome = std::thread::scope(|scope| {
        let running =
            scope.spawn(|| imgpar::cli::run_from_flags(&args, &records, Arc::clone(&cancel)));
        while !running.is_finished() {
            py.detach(|| std::thread::sleep(SIGNAL_CHECK));
            if interrupted.is_none()
                && let Err(error) = py.check_signals()
            {
                cancel.store(true, Ordering::Relaxed);
                interrupted = Some(error);
            }
        }
        py.detach(|| running.join())
    });
    if let Some(error) = interrupted {
        return Err(error);
    }
    if let Some(error) = records
        .raised
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        return Err(error);
    }
    let report = match outcome {
        Ok(Ok(report)) => report,
        Ok(Err(failure)) => return Err(run_error(py, failure.message, failure.code)),
        Err(_) => return Err(run_error(py, "internal error: the run panicked".into(), 70)),
    };
    let totals = serde_json::to_string(&report)
        .map_err(|e| run_error(py, format!("internal error: the report: {e}"), 70))?;
    let kept = std::mem::take(&mut *records.kept.lock().unwrap_or_else(|p| p.into_inner()));
    Ok((
        totals,
        kept,
        imgpar::cli::ExitCode::of_report(&report).code(),
    ))
}

/// The observer the run reports to: keeps the records, calls `progress`.
struct Records {
    keep: bool,
    kept: Mutex<Vec<String>>,
    progress: Option<Py<PyAny>>,
    /// The first exception `progress` raised.
    raised: Mutex<Option<PyErr>>,
    cancel: Arc<AtomicBool>,
}

impl Observer for Records {
    fn event(&self, event: Event<'_>) {
        let Event::Finished { record, .. } = event else {
            return;
        };
        let Ok(line) = serde_json::to_string(record) else {
            return;
        };
        if let Some(progress) = &self.progress {
            Python::attach(|py| {
                let called = py
                    .import("json")
                    .and_then(|json| json.call_method1("loads", (line.as_str(),)))
                    .and_then(|record| progress.call1(py, (record,)));
                if let Err(error) = called {
                    let mut raised = self.raised.lock().unwrap_or_else(|p| p.into_inner());
                    if raised.is_none() {
                        *raised = Some(error);
                    }
                    self.cancel.store(true, Ordering::Relaxed);
                }
            });
        }
        if self.keep {
            self.kept
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(line);
        }
    }
}
