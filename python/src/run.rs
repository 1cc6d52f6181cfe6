//! `run`: a whole batch from the command line's arguments, in this process, printing
//! nothing; and `convert_rows`: some rows of a plan (a task's batch), converted as a
//! shard file's are. Either goes on a thread of its own with the GIL released; the calling
//! thread wakes when the work ends, or every 100 ms to let Python handle signals, so
//! Ctrl-C winds the run down (the images in progress end) and then raises
//! `KeyboardInterrupt`.

use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use imgpar::shard_files::{ShardFile, ShardRunSettings};
use imgpar::{Event, Mode, Observer, RunReport};
use pyo3::prelude::*;

use crate::errors::run_error;

/// How often the waiting thread lets Python look at its signals.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// What `run` and `convert_rows` return: the report's totals as JSON, every image's
/// record as JSON when kept (in the order they ended), and the exit code the command
/// gives for the same run.
type Ran = (String, Vec<String>, i32);

/// Runs the conversion `args` describe (inputs, output, flags). `progress`, if given, is
/// called with each record (a dict) as its image ends, from the worker thread that ended
/// it; an exception it raises stops the run and is raised here once the run has wound
/// down.
#[pyfunction]
#[pyo3(signature = (args, progress=None, keep_images=true))]
pub fn run(
    py: Python<'_>,
    args: Vec<OsString>,
    progress: Option<Py<PyAny>>,
    keep_images: bool,
) -> PyResult<Ran> {
    observed(py, progress, keep_images, |records, cancel| {
        imgpar::cli::run_from_flags(&args, records, cancel).map_err(|f| (f.message, f.code))
    })
}

/// Converts `rows` (lines of the plan whose `header` and `end` lines are given, as
/// `imgpar.plan` made them) as shard `index` of `count`, in `mode` with `jobs` workers:
/// every guarantee of `imgpar run --plan`. Returns as `run` does; the report is that
/// shard's of the plan.
#[pyfunction]
#[pyo3(signature = (header, end, rows, index, count, mode, jobs, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn convert_rows(
    py: Python<'_>,
    header: String,
    end: String,
    rows: Vec<String>,
    index: u64,
    count: u64,
    mode: String,
    jobs: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<Ran> {
    let Some(mode) = Mode::ALL.into_iter().find(|m| m.name() == mode) else {
        return Err(run_error(py, format!("no mode named {mode:?}"), 2));
    };
    let name = format!("batch {index} of {count}");
    let file = ShardFile::of_rows(&name, &header, &end, rows, (index, count))
        .map_err(|message| run_error(py, message, 2))?;
    let settings = ShardRunSettings {
        mode,
        workers: imgpar::WorkerCount {
            count: jobs.max(1),
            from: imgpar::WorkersFrom::TaskAllotment,
        },
        limits: Default::default(),
        async_settings: Default::default(),
    };
    observed(py, progress, true, |records, cancel| {
        imgpar::shard_files::convert(&file, &settings, records, cancel).map_err(|m| (m, 2))
    })
}

/// Runs `work` on a thread of its own, the GIL released, with the observer that keeps
/// the records and calls `progress`, and a cancel flag that Ctrl-C raises.
fn observed(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    keep_images: bool,
    work: impl FnOnce(&Records, Arc<AtomicBool>) -> Result<RunReport, (String, i32)> + Send,
) -> PyResult<Ran> {
    let cancel = Arc::new(AtomicBool::new(false));
    let records = Records {
        keep: keep_images,
        kept: Mutex::new(Vec::new()),
        progress,
        raised: Mutex::new(None),
        cancel: Arc::clone(&cancel),
    };
    let mut interrupted = None;
    let ended = (Mutex::new(false), Condvar::new());
    let outcome = std::thread::scope(|scope| {
        let running = scope.spawn(|| {
            let done = work(&records, Arc::clone(&cancel));
            *ended.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
            ended.1.notify_all();
            done
        });
        // Woken when the work ends, or every SIGNAL_CHECK (a panicking work never says
        // it ended: its thread's end is looked at too).
        let wait = || {
            let guard = ended.0.lock().unwrap_or_else(|p| p.into_inner());
            let (done, _) = ended
                .1
                .wait_timeout_while(guard, SIGNAL_CHECK, |done| !*done)
                .unwrap_or_else(|p| p.into_inner());
            *done
        };
        while !py.detach(wait) && !running.is_finished() {
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
        Ok(Err((message, code))) => return Err(run_error(py, message, code)),
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
