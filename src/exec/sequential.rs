//! One job after another on the calling thread: the baseline every speedup is measured
//! against.

use std::sync::atomic::AtomicBool;

use super::JobFeed;
use crate::config::Spec;
use crate::events::Collector;
use crate::job::convert_job;

/// Runs every job of the feed, in the order it hands them out, on this thread, as
/// worker 0.
pub fn run(jobs: &JobFeed, spec: &Spec, events: &Collector, cancel: &AtomicBool) {
    while !events.must_stop(cancel) {
        let Some(job) = jobs.next() else {
            break;
        };
        events.started(&job, 0);
        let outcome = convert_job(&job, spec);
        events.finished(&job, 0, &outcome);
    }
}
