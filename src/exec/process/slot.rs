//! One slot of the pool: it keeps one live worker process fed with the jobs it holds, and
//! turns everything that happens to that worker (an answer, a death, a timeout) into job
//! outcomes.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::handle::{Received, WorkerExit, WorkerProcess};
use super::protocol::{FromWorker, ToWorker};
use super::{DEATHS_BEFORE_READY, DEPTH, POLL, Pool};
use crate::config::Spec;
use crate::failure::{ErrorKind, Failure};
use crate::job::{Job, WireJob};
use crate::outcome::JobEnding;
use crate::report::WorkerRecord;

/// A job a slot holds.
struct Held {
    job: Job,
    /// Sent to the current worker.
    sent: bool,
    /// When the current worker said it began.
    started: Option<Instant>,
    /// Why the workers it ran on died, one entry per death.
    deaths: Vec<Failure>,
}

/// The slot's live worker and what it has done so far.
struct Live {
    process: WorkerProcess,
    pid: u32,
    jobs: usize,
    busy: Duration,
    startup_ms: Option<f64>,
}

/// One worker slot: keeps a worker process alive while there is work, and turns
/// everything that happens to it into job outcomes.
pub(super) struct ProcessSlot<'a> {
    id: usize,
    pool: &'a Pool<'a>,
    worker: Option<Live>,
    held: VecDeque<Held>,
    stopping: bool,
}

impl<'a> ProcessSlot<'a> {
    /// The spec this slot's workers get: the pool's, with this slot's turns at each host.
    fn spec(&self) -> Spec {
        let mut spec = self.pool.spec.clone();
        spec.fetch.pace_slot = self.id as u32;
        spec
    }

    pub(super) fn new(id: usize, pool: &'a Pool<'a>) -> Self {
        ProcessSlot {
            id,
            pool,
            worker: None,
            held: VecDeque::new(),
            stopping: false,
        }
    }

    pub(super) fn run(mut self) {
        loop {
            if !self.stopping && self.pool.events.must_stop(self.pool.cancel) {
                self.stop();
            }
            if !self.stopping {
                while self.held.len() < DEPTH {
                    let Some(job) = self.pool.take(!self.held.is_empty()) else {
                        break;
                    };
                    self.held.push_back(Held {
                        job,
                        sent: false,
                        started: None,
                        deaths: Vec::new(),
                    });
                }
            }
            if self.stopping && self.worker.is_none() {
                self.abandon_held();
                break;
            }
            if self.held.is_empty() && !self.stopping {
                break;
            }
            if !self.stopping && !self.ensure_worker() {
                continue;
            }
            self.wait_for_worker();
        }
        self.end_worker(End::Finish);
    }

    /// Cancel: tell the worker to finish its running job and start no other.
    fn stop(&mut self) {
        self.stopping = true;
        if let Some(live) = self.worker.as_mut() {
            // A worker that is already gone shows up as closed below.
            let _ = live.process.send(&ToWorker::Stop);
        }
    }

    /// Makes sure a live worker has every held job; false when none could be started (the
    /// front job then failed).
    fn ensure_worker(&mut self) -> bool {
        if self.worker.is_none() {
            let started = self.pool.program.clone().and_then(|program| {
                WorkerProcess::spawn(&program, &self.spec(), self.pool.limits)
                    .map_err(|e| format!("cannot start a worker process: {e}"))
            });
            match started {
                Ok(process) => {
                    self.worker = Some(Live {
                        pid: process.pid(),
                        process,
                        jobs: 0,
                        busy: Duration::ZERO,
                        startup_ms: None,
                    });
                }
                Err(reason) => {
                    if self.gave_up_after_death_before_ready(&reason) {
                        return false;
                    }
                    if let Some(held) = self.held.pop_front() {
                        self.fail(&held.job, Failure::new(ErrorKind::WorkerDied, reason));
                    }
                    return false;
                }
            }
        }
        let live = self.worker.as_mut().expect("a worker was just ensured");
        for held in self.held.iter_mut().filter(|h| !h.sent) {
            let message = ToWorker::Job(WireJob::from(&held.job));
            if live.process.send(&message).is_err() {
                // The worker is gone; waiting for it shows how it ended.
                break;
            }
            held.sent = true;
        }
        true
    }

    /// Waits for the worker's next message (or its deadline) and acts on it.
    fn wait_for_worker(&mut self) {
        let Some(live) = self.worker.as_mut() else {
            return;
        };
        let deadline = self.pool.limits.timeout.and_then(|limit| {
            let front = self.held.front()?;
            Some(front.started? + limit)
        });
        let wait = match deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()).min(POLL),
            None => POLL,
        };
        match live.process.receive(wait) {
            Received::Message(FromWorker::Ready) => {
                live.startup_ms = Some(live.process.spawned.elapsed().as_secs_f64() * 1e3);
                self.pool.deaths_before_ready.store(0, Ordering::Relaxed);
            }
            // Workers name a job by its index in the run.
            Received::Message(FromWorker::Started { index }) => {
                if let Some(held) = self.held.iter_mut().find(|h| h.job.index == index) {
                    held.started = Some(Instant::now());
                    self.pool.events.started(&held.job, self.id);
                }
            }
            Received::Message(FromWorker::Done { index, mut outcome }) => {
                name_the_memory_limit(&mut outcome, self.pool.limits.memory);
                if let Some(at) = self.held.iter().position(|h| h.job.index == index) {
                    let held = self.held.remove(at).expect("the position was just found");
                    live.jobs += 1;
                    live.busy += held.started.map_or(Duration::ZERO, |s| s.elapsed());
                    self.pool.events.finished(&held.job, self.id, &outcome);
                }
            }
            Received::Nothing => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    self.time_out_front();
                }
            }
            Received::Closed => self.worker_died(),
        }
    }

    /// The front job ran past `--timeout`: stop it with its worker; a fresh worker takes
    /// the jobs queued behind it.
    fn time_out_front(&mut self) {
        let limit = self.pool.limits.timeout.unwrap_or_default().as_secs_f64();
        let how = format!("stopped: an image ran over --timeout {limit} s");
        if self.end_worker(End::Kill(how)).is_none() {
            return;
        }
        if let Some(held) = self.held.pop_front() {
            self.fail(
                &held.job,
                Failure::new(
                    ErrorKind::Timeout,
                    format!("timed out after {limit} s (its worker was stopped and replaced)"),
                ),
            );
        }
        self.unsend_held();
    }

    /// The worker closed its output: it exited or died. The job it was running is retried
    /// once on a fresh worker (unless the run is stopping); jobs queued behind it go to the
    /// fresh worker as they are.
    fn worker_died(&mut self) {
        let never_ready = self
            .worker
            .as_ref()
            .is_some_and(|live| live.startup_ms.is_none());
        let Some(ended) = self.end_worker(End::Finish) else {
            return;
        };
        let cause = ended.cause.unwrap_or_else(|| {
            Failure::new(
                ErrorKind::WorkerDied,
                "worker ended before finishing its image",
            )
        });
        if never_ready && self.gave_up_after_death_before_ready(&cause.message) {
            return;
        }
        // The job it held: the one it began, or (not stopping) the first one it was sent,
        // since a worker that dies before it begins anything must not be restarted forever.
        let held_by_it = match self.held.front() {
            Some(front) if self.stopping => front.started.is_some(),
            Some(front) => front.sent,
            None => false,
        };
        if held_by_it {
            let mut front = self.held.pop_front().expect("there is a front job");
            front.deaths.push(cause);
            if front.deaths.len() >= 2 || self.stopping {
                self.fail_after_deaths(front);
            } else {
                self.held.push_front(front);
            }
        }
        self.unsend_held();
    }

    /// Counts a worker that died (or could not be started) before its first image; after
    /// [`DEATHS_BEFORE_READY`] in a row the run gives up: not the images' fault, so they are
    /// left unstarted and the run ends in one error. True when it gave up.
    fn gave_up_after_death_before_ready(&mut self, cause: &str) -> bool {
        let deaths = self
            .pool
            .deaths_before_ready
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        if deaths < DEATHS_BEFORE_READY {
            return false;
        }
        self.pool.events.unworkable(format!(
            "process mode cannot start its worker processes: {deaths} died before their \
             first image ({cause}); the other modes run in this process"
        ));
        self.stopping = true;
        self.held.clear();
        true
    }

    /// The run is stopping and this slot has no worker: jobs that never ran are left
    /// unstarted; a job whose worker died is reported with that death.
    fn abandon_held(&mut self) {
        while let Some(held) = self.held.pop_front() {
            if !held.deaths.is_empty() {
                self.fail_after_deaths(held);
            }
        }
    }

    fn fail_after_deaths(&self, held: Held) {
        let Some(mut last) = held.deaths.last().cloned() else {
            return;
        };
        match held.deaths.len() {
            1 if self.stopping => last
                .message
                .push_str(" (not retried: the run was interrupted)"),
            1 => {}
            n => last.message = format!("{} (the image was tried on {n} workers)", last.message),
        }
        self.fail(&held.job, last);
    }

    /// How long the front job has been running on the current worker.
    fn front_running_for(&self) -> Duration {
        self.held
            .front()
            .and_then(|h| h.started)
            .map_or(Duration::ZERO, |s| s.elapsed())
    }

    fn unsend_held(&mut self) {
        for held in &mut self.held {
            held.sent = false;
            held.started = None;
        }
    }

    fn fail(&self, job: &Job, failure: Failure) {
        let outcome = JobEnding::failed(failure);
        self.pool.events.finished(job, self.id, &outcome);
    }

    /// Ends the slot's worker, if it has one, and reports what it did; the time the front
    /// job has been running counts as busy.
    fn end_worker(&mut self, end: End) -> Option<WorkerExit> {
        let live = self.worker.take()?;
        let busy = live.busy + self.front_running_for();
        let (ended, how) = match end {
            End::Finish => (live.process.finish(), None),
            End::Kill(how) => (live.process.kill(), Some(how)),
        };
        let how = how
            .or_else(|| ended.cause.as_ref().map(|c| c.message.clone()))
            .unwrap_or_else(|| "finished".into());
        self.pool.events.worker_ended(WorkerRecord {
            worker: self.id,
            pid: live.pid,
            jobs: live.jobs,
            busy_s: busy.as_secs_f64(),
            cpu_s: ended.cpu_s,
            peak_rss_mib: ended.peak_rss_mib,
            startup_ms: live.startup_ms,
            ended: how,
        });
        Some(ended)
    }
}

/// How a slot ends its worker.
enum End {
    /// Close its input and wait: it finishes what it holds, or has already exited.
    Finish,
    /// Kill it at once, for the reason given.
    Kill(String),
}

/// An image that ran out of memory inside a worker under `--worker-memory` says so: the
/// decoder only knows that an allocation failed.
pub(super) fn name_the_memory_limit(outcome: &mut JobEnding, limit: Option<u64>) {
    if let (crate::outcome::Ending::Failed(failure), Some(bytes)) = (&mut outcome.ending, limit)
        && failure.kind == crate::failure::ErrorKind::OutOfMemory
        && !failure.message.contains("--worker-memory")
    {
        failure.message = format!(
            "{} (under --worker-memory {} MiB)",
            failure.message,
            bytes >> 20
        );
    }
}
