//! A pool of worker threads, each taking the next job when it becomes idle, so a slow image
//! never holds up the images queued behind it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::config::Spec;
use crate::events::Collector;
use crate::job::{Job, process_job};

/// Runs the jobs on `workers` threads (no more threads than jobs). Dispatch is dynamic: a
/// shared counter hands each idle worker the next job in plan order. Hand-written rather
/// than a rayon pool because the scheduler needs exactly this (one job at a time, a stable
/// worker id, a cancel check between jobs) and nothing more.
pub fn run(jobs: &[Job], spec: &Spec, workers: usize, events: &Collector, cancel: &AtomicBool) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for worker in 0..workers.min(jobs.len()) {
            let next = &next;
            std::thread::Builder::new()
                .name(format!("imgpar-worker-{worker}"))
                .spawn_scoped(scope, move || {
                    while !cancel.load(Ordering::Relaxed) {
                        let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            break;
                        };
                        events.started(job, worker);
                        let outcome = process_job(job, spec);
                        events.finished(job, worker, &outcome);
                    }
                })
                .expect("the system can start a worker thread");
        }
    });
}
