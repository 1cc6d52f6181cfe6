//! One job after another on the calling thread: the baseline every speedup is measured
//! against.

use std::sync::atomic::AtomicBool;

use crate::config::Spec;
use crate::events::Collector;
use crate::job::{Job, process_job};

/// Runs every job in plan order on this thread, as worker 0.
pub fn run(jobs: &[Job], spec: &Spec, events: &Collector, cancel: &AtomicBool) {
    for job in jobs {
        if events.must_stop(cancel) {
            break;
        }
        events.started(job, 0);
        let outcome = process_job(job, spec);
        events.finished(job, 0, &outcome);
    }
}
