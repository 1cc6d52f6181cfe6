//! A pool of worker processes: one slot per worker, each slot keeping one live worker
//! process fed with jobs (the one it runs and at most one queued behind it). A worker that
//! dies costs only the job it held, which is retried once on a fresh worker; a job past
//! `--timeout` is stopped with its worker.

mod handle;
pub(crate) mod own_command;
mod protocol;
pub(crate) mod serve;
mod slot;

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::time::Duration;

use super::JobFeed;
use crate::config::{Spec, WorkerLimits};
use crate::events::Collector;
use crate::job::Job;
use own_command::OwnCommand;
use slot::ProcessSlot;

/// Jobs a worker holds at most: the one it runs and one queued behind it, so it never
/// waits for imgpar between two images.
const DEPTH: usize = 2;

/// Worker processes that die before their first image, one after another with none
/// starting in between, before the run gives up: the worker program cannot start (from an
/// embedding program, say, whose `imgpar` is importable only through its own search
/// path), and every image would fail the same way.
const DEATHS_BEFORE_READY: usize = 3;

/// How often a waiting slot looks at the cancel flag.
const POLL: Duration = Duration::from_millis(50);

/// Runs the jobs on `workers` worker processes (no more than there are jobs), each
/// started as imgpar's own program ([`own_command::own_command`]) with the hidden `worker`
/// argument.
/// Every job ends in one outcome reported to `events`, whatever happens to the workers.
pub fn run(
    jobs: &JobFeed,
    spec: &Spec,
    workers: usize,
    limits: &WorkerLimits,
    events: &Collector,
    cancel: &AtomicBool,
) {
    let workers = workers.min(jobs.total());
    // Each worker process keeps its own pace per host: together they keep the rate. What
    // a host's robots.txt says is read by the first worker that needs it, for all.
    let robots_shared = spec
        .fetch
        .robots
        .then(|| {
            tempfile::Builder::new()
                .prefix("imgpar-robots-")
                .tempdir()
                .ok()
        })
        .flatten();
    let mut fetch = spec.fetch.shared_by(workers);
    fetch.robots_shared = robots_shared.as_ref().map(|dir| dir.path().to_path_buf());
    let spec = &Spec {
        fetch,
        ..spec.clone()
    };
    let pool = Pool {
        jobs,
        workers,
        spec,
        limits,
        events,
        cancel,
        program: own_command::own_command(),
        deaths_before_ready: AtomicUsize::new(0),
    };
    std::thread::scope(|scope| {
        for id in 0..pool.workers {
            let pool = &pool;
            std::thread::Builder::new()
                .name(format!("imgpar-slot-{id}"))
                .spawn_scoped(scope, move || ProcessSlot::new(id, pool).run())
                .expect("the system can start a thread");
        }
    });
}

/// What all slots share: the jobs and the settings.
struct Pool<'a> {
    jobs: &'a JobFeed,
    workers: usize,
    spec: &'a Spec,
    limits: &'a WorkerLimits,
    events: &'a Collector<'a>,
    cancel: &'a AtomicBool,
    program: Result<OwnCommand, String>,
    /// Workers that died before they said they were ready, since one last did.
    deaths_before_ready: AtomicUsize,
}

impl Pool<'_> {
    /// The next job from the feed, if any. A job to queue behind a running one (`ahead`)
    /// is only handed out while plenty remain, so that near the end no job waits behind a
    /// long one while another worker sits idle, and only if one is at hand.
    fn take(&self, ahead: bool) -> Option<Job> {
        if !ahead {
            return self.jobs.next();
        }
        if self.jobs.remaining() <= self.workers {
            return None;
        }
        // Never wait for a job to queue: the running one's answer must be read.
        match self.jobs.next_at_hand() {
            crate::exec::Next::Job(job) => Some(job),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
