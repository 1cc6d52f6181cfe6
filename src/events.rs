//! The one place executor events arrive: a job started, a job finished. From them it
//! builds the per-image records of the report and tells the caller's [`Observer`] (the
//! command line draws its progress bar from it). Executors call it from any worker
//! thread; they never print. It also says when a run must stop: on Ctrl-C, or once an
//! outcome shows the output cannot take more files.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use crate::job::{Input, Job};
use crate::outcome::JobOutcome;
use crate::report::{Record, WorkerRecord};

/// Something that happened during a run, as an [`Observer`] sees it.
#[non_exhaustive]
#[derive(Debug)]
pub enum Event<'a> {
    /// The run is planned: this many images will be tried.
    Planned {
        /// Images in the plan, including inputs that failed before planning.
        images: usize,
    },
    /// A worker took an image.
    Started {
        /// Where the image comes from.
        input: &'a Input,
        /// The worker (0-based) that took it.
        worker: usize,
    },
    /// An image ended: converted, failed or skipped (its record says which and why).
    Finished {
        /// The image's record, as it will appear in the report.
        record: &'a Record,
        /// Images ended so far in this run, this one included.
        done: usize,
        /// Images the run will try.
        total: usize,
    },
}

/// Receives a run's events as they happen. Events come from the run's worker threads, in
/// the order they happen, so an observer must be `Sync` and should return quickly.
pub trait Observer: Sync {
    /// Called once per event.
    fn event(&self, event: Event<'_>);
}

/// An observer that ignores every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unobserved;

impl Observer for Unobserved {
    fn event(&self, _event: Event<'_>) {}
}

/// Collects the events of one run. All times are offsets from the moment it was created,
/// on the monotonic clock. (Public for the executors' signatures only; a library user
/// hands an [`Observer`] to [`crate::Run::execute_with`] instead.)
pub struct Collector<'o> {
    start: Instant,
    started_ms: Mutex<Vec<f64>>,
    records: Mutex<Vec<Option<Record>>>,
    worker_processes: Mutex<Vec<WorkerRecord>>,
    /// Why the run stops early, once an image found the output unusable (the first one).
    halt: OnceLock<String>,
    observer: &'o dyn Observer,
    done: AtomicUsize,
    total: usize,
}

/// What a [`Collector`] gathered over a run.
pub(crate) struct Collected {
    /// One record per job that finished, in plan order.
    pub images: Vec<Record>,
    /// One record per worker process that ended (`--mode process`), in the order they ended.
    pub worker_processes: Vec<WorkerRecord>,
    /// Why the run stopped before the end, if the output became unusable.
    pub stopped: Option<String>,
}

impl<'o> Collector<'o> {
    /// A collector for `jobs` jobs, telling `observer`.
    pub(crate) fn new(jobs: usize, observer: &'o dyn Observer) -> Collector<'o> {
        Collector {
            start: Instant::now(),
            started_ms: Mutex::new(vec![0.0; jobs]),
            records: Mutex::new(vec![None; jobs]),
            worker_processes: Mutex::new(Vec::new()),
            halt: OnceLock::new(),
            observer,
            done: AtomicUsize::new(0),
            total: jobs,
        }
    }

    /// Whether executors must stop handing out jobs: `cancel` is set (Ctrl-C, SIGTERM) or
    /// an image found the output unusable (full disk, read-only folder), so every further
    /// image would fail the same way.
    pub fn must_stop(&self, cancel: &AtomicBool) -> bool {
        cancel.load(Ordering::Relaxed) || self.halt.get().is_some()
    }

    /// Milliseconds since the collector was created.
    pub fn now_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1e3
    }

    /// Seconds since the collector was created.
    pub fn elapsed_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// A worker took `job`.
    pub fn started(&self, job: &Job, worker: usize) {
        let now = self.now_ms();
        if let Some(slot) = lock(&self.started_ms).get_mut(job.index) {
            *slot = now;
        }
        self.observer.event(Event::Started {
            input: &job.input,
            worker,
        });
    }

    /// `worker` finished `job` with `outcome` (a download, if any, was its first stage).
    pub fn finished(&self, job: &Job, worker: usize, outcome: &JobOutcome) {
        let end = self.now_ms();
        let start = self.started_at(job, end);
        let fetch = outcome
            .fetch
            .map(|_| (start, (start + outcome.times.fetch_ms).min(end)));
        self.record(job, Some(worker), outcome, (start, end), fetch);
    }

    /// `job` ended with `outcome` after its input was downloaded (or read) from
    /// `fetch.0` to `fetch.1` ms, ahead of any worker; `worker` is the one that processed
    /// it, if it got that far.
    #[cfg(feature = "http")]
    pub fn finished_after_fetch(
        &self,
        job: &Job,
        worker: Option<usize>,
        outcome: &JobOutcome,
        fetch: (f64, f64),
    ) {
        self.finished_after_fetch_at(job, worker, outcome, fetch, self.now_ms());
    }

    /// [`Collector::finished_after_fetch`] for a job whose worker was done with it at `end`
    /// ms (its output upload went on without the worker: async mode, object outputs).
    #[cfg(feature = "http")]
    pub fn finished_after_fetch_at(
        &self,
        job: &Job,
        worker: Option<usize>,
        outcome: &JobOutcome,
        fetch: (f64, f64),
        end: f64,
    ) {
        let start = match worker {
            Some(_) => self.started_at(job, end),
            None => fetch.1,
        };
        self.record(job, worker, outcome, (start, end), Some(fetch));
    }

    fn started_at(&self, job: &Job, otherwise: f64) -> f64 {
        lock(&self.started_ms)
            .get(job.index)
            .copied()
            .unwrap_or(otherwise)
    }

    fn record(
        &self,
        job: &Job,
        worker: Option<usize>,
        outcome: &JobOutcome,
        span: (f64, f64),
        fetch: Option<(f64, f64)>,
    ) {
        let record = Record::from_outcome(&job.input, &job.output, outcome, worker, span, fetch);
        if outcome.output_unusable {
            let _ = self.halt.set(record.error.clone().unwrap_or_default());
        }
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.observer.event(Event::Finished {
            record: &record,
            done,
            total: self.total,
        });
        if let Some(slot) = lock(&self.records).get_mut(job.index) {
            *slot = Some(record);
        }
    }

    /// A worker process ended (`--mode process`).
    pub fn worker_ended(&self, record: WorkerRecord) {
        lock(&self.worker_processes).push(record);
    }

    /// Hands over what was collected.
    pub(crate) fn finish(self) -> Collected {
        let records = self.records.into_inner().unwrap_or_else(|p| p.into_inner());
        Collected {
            images: records.into_iter().flatten().collect(),
            worker_processes: self
                .worker_processes
                .into_inner()
                .unwrap_or_else(|p| p.into_inner()),
            stopped: self.halt.into_inner(),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these vectors half-updated: keep going.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
