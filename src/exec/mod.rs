//! Schedulers: they decide when and on which worker `process_job` runs for each job, and
//! report to the [`Collector`]. They never decide what is done to an image, and never print.

mod sequential;
mod threaded;

use std::sync::atomic::AtomicBool;

use crate::config::{Mode, Spec};
use crate::events::Collector;
use crate::job::Job;

/// Runs `jobs` in `mode` with `workers` workers (sequential always uses one). Stops handing
/// out jobs once `cancel` is set; jobs already running finish. Returns the worker count
/// actually used.
pub fn execute(
    mode: Mode,
    workers: usize,
    jobs: &[Job],
    spec: &Spec,
    events: &Collector,
    cancel: &AtomicBool,
) -> usize {
    match mode {
        Mode::Sequential => {
            sequential::run(jobs, spec, events, cancel);
            1
        }
        Mode::Threaded => {
            threaded::run(jobs, spec, workers, events, cancel);
            workers
        }
    }
}
