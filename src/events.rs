//! The one place executor events arrive: a job started, a job finished. From them it
//! builds the per-image records, adds them to the run's totals and tells the caller's
//! [`Observer`] (the command line draws its progress bar and writes its report from it). Executors call it from any worker
//! thread; they never print. It also says when a run must stop: on Ctrl-C, or once an
//! outcome shows the output cannot take more files.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use crate::job::{Input, Job};
use crate::outcome::{JobEnding, Outcome};
use crate::report::{PassedOver, Record, Totals, WorkerRecord};

/// Something that happened during a run, as an [`Observer`] sees it.
#[non_exhaustive]
#[derive(Debug, Clone, Copy)]
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
        /// The image's number in the run (0-based, in plan order).
        index: usize,
        /// The worker (0-based) that took it.
        worker: usize,
    },
    /// An image ended: converted, failed or skipped (its record says which and why).
    Finished {
        /// The image's record, as it will appear in the report.
        record: &'a Record,
        /// The image's number in the run (as in `Started`); `None` for an input that failed
        /// before it became an image.
        index: Option<usize>,
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

/// Several observers told of every event, in order.
pub struct Observers<'a>(pub Vec<&'a dyn Observer>);

impl Observer for Observers<'_> {
    fn event(&self, event: Event<'_>) {
        for observer in &self.0 {
            observer.event(event);
        }
    }
}

/// An observer that ignores every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unobserved;

impl Observer for Unobserved {
    fn event(&self, _event: Event<'_>) {}
}

/// Failures a run keeps for [`crate::RunReport::failures`] (the report file has them all).
pub const FAILURES_KEPT: usize = 1000;

/// Files passed over that a run keeps by name (the count covers them all).
pub const PASSED_OVER_KEPT: usize = 1000;

/// Collects the events of one run into running totals, and tells the observer of each.
/// Nothing is kept per image once it ended, but a few failures and files passed over by
/// name. All times are offsets from the moment it was created, on the monotonic clock.
/// (Public for the executors' signatures only; a library user hands an [`Observer`] to
/// [`crate::Run::execute_with`] instead.)
pub struct Collector<'o> {
    start: Instant,
    in_flight: Mutex<InFlight>,
    totals: Mutex<Totals>,
    failures: Mutex<Vec<String>>,
    passed_over: Mutex<(usize, Vec<PassedOver>)>,
    worker_processes: Mutex<Vec<WorkerRecord>>,
    /// The async mode's download limit over the run.
    concurrency: Mutex<Vec<(f64, usize)>>,
    /// Why the run stops early, once an image found the output unusable (the first one).
    halt: OnceLock<String>,
    /// Why the run cannot go on at all: process mode's workers die before their first
    /// image, so every image would fail the same way.
    unworkable: OnceLock<String>,
    observer: &'o dyn Observer,
    done: AtomicUsize,
    total: AtomicUsize,
}

/// The images begun and not ended: when a worker took each, and when its download began.
#[derive(Default)]
struct InFlight {
    started: HashMap<usize, f64>,
    fetching: HashMap<usize, f64>,
}

impl InFlight {
    /// The earliest start of any image in flight: no span still to come begins before.
    fn horizon(&self, now: f64) -> f64 {
        self.started
            .values()
            .chain(self.fetching.values())
            .fold(now, |earliest, &at| earliest.min(at))
    }
}

/// What a [`Collector`] gathered over a run.
pub(crate) struct Collected {
    /// The sums over every record.
    pub totals: Totals,
    /// The first [`FAILURES_KEPT`] failures, as `input: reason`, in the order they ended.
    pub failures: Vec<String>,
    /// Files passed over: how many, and the first [`PASSED_OVER_KEPT`] of them.
    pub passed_over: (usize, Vec<PassedOver>),
    /// One record per worker process that ended (`--mode process`), in the order they ended.
    pub worker_processes: Vec<WorkerRecord>,
    /// Why the run stopped before the end, if the output became unusable.
    pub stopped: Option<String>,
    /// Why the run could not go on at all, if so (see [`Collector::unworkable`]).
    pub unworkable: Option<String>,
    /// The async mode's download limit over the run: (ms, limit) at each change.
    pub concurrency: Vec<(f64, usize)>,
}

impl<'o> Collector<'o> {
    /// A collector telling `observer`.
    pub(crate) fn new(observer: &'o dyn Observer) -> Collector<'o> {
        Collector {
            start: Instant::now(),
            in_flight: Mutex::default(),
            totals: Mutex::default(),
            failures: Mutex::default(),
            passed_over: Mutex::default(),
            worker_processes: Mutex::new(Vec::new()),
            concurrency: Mutex::default(),
            halt: OnceLock::new(),
            unworkable: OnceLock::new(),
            observer,
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
        }
    }

    /// The plan is counted: `images` will be tried (problems included).
    pub(crate) fn planned(&self, images: usize) {
        self.total.store(images, Ordering::Relaxed);
        self.observer.event(Event::Planned { images });
    }

    /// Whether executors must stop handing out jobs: `cancel` is set (Ctrl-C, SIGTERM) or
    /// an image found the output unusable (full disk, read-only folder), so every further
    /// image would fail the same way.
    pub fn must_stop(&self, cancel: &AtomicBool) -> bool {
        cancel.load(Ordering::Relaxed)
            || self.halt.get().is_some()
            || self.unworkable.get().is_some()
    }

    /// The run cannot go on at all (worker processes that die before their first image):
    /// executors stop handing out images, and the run ends in an error saying `why`.
    pub fn unworkable(&self, why: String) {
        let _ = self.unworkable.set(why);
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
        lock(&self.in_flight).started.insert(job.index, now);
        self.observer.event(Event::Started {
            input: &job.input,
            index: job.index,
            worker,
        });
    }

    /// The download (or async read) of `job`'s input begins now; returns the time, in ms.
    #[cfg(feature = "http")]
    pub fn fetch_started(&self, job: &Job) -> f64 {
        let now = self.now_ms();
        lock(&self.in_flight).fetching.insert(job.index, now);
        now
    }

    /// `worker` finished `job` with `outcome` (a download, if any, was its first stage).
    pub fn finished(&self, job: &Job, worker: usize, outcome: &JobEnding) {
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
        outcome: &JobEnding,
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
        outcome: &JobEnding,
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
        lock(&self.in_flight)
            .started
            .get(&job.index)
            .copied()
            .unwrap_or(otherwise)
    }

    /// An input that failed before it could become a job.
    pub(crate) fn problem(&self, path: &Path, reason: String) {
        self.add(Record::problem(path, reason));
    }

    /// An image ended without being tried (a queue's image whose workers kept dying):
    /// its record, counted and told as any other.
    #[cfg(feature = "queue")]
    pub(crate) fn ended_untried(&self, record: Record) {
        self.add(record);
    }

    /// The async mode's download limit over the run: when it was set, and to what.
    #[cfg(feature = "http")]
    pub(crate) fn concurrency(&self, changes: &[(Instant, usize)]) {
        let ms = |at: &Instant| at.saturating_duration_since(self.start).as_secs_f64() * 1e3;
        *lock(&self.concurrency) = changes.iter().map(|(at, n)| (ms(at), *n)).collect();
    }

    /// A file passed over as not an image.
    pub(crate) fn passed_over(&self, path: &Path, reason: &str) {
        let mut passed = lock(&self.passed_over);
        passed.0 += 1;
        if passed.1.len() < PASSED_OVER_KEPT {
            passed.1.push(PassedOver {
                input: path.display().to_string(),
                reason: reason.to_string(),
            });
        }
    }

    fn record(
        &self,
        job: &Job,
        worker: Option<usize>,
        outcome: &JobEnding,
        span: (f64, f64),
        fetch: Option<(f64, f64)>,
    ) {
        let record = Record::from_outcome(&job.input, &job.output, outcome, worker, span, fetch);
        if outcome.output_unusable {
            let _ = self.halt.set(record.error.clone().unwrap_or_default());
        }
        let horizon = {
            let mut in_flight = lock(&self.in_flight);
            in_flight.started.remove(&job.index);
            in_flight.fetching.remove(&job.index);
            in_flight.horizon(self.now_ms())
        };
        let mut totals = lock(&self.totals);
        totals.add(&record);
        if totals.wants_fold() {
            totals.fold(horizon);
        }
        drop(totals);
        self.tell(record, Some(job.index));
    }

    fn add(&self, record: Record) {
        lock(&self.totals).add(&record);
        self.tell(record, None);
    }

    fn tell(&self, record: Record, index: Option<usize>) {
        if record.status == Outcome::Failed {
            let mut failures = lock(&self.failures);
            if failures.len() < FAILURES_KEPT {
                failures.push(record.failure_line());
            }
        }
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.observer.event(Event::Finished {
            record: &record,
            index,
            done,
            total: self.total.load(Ordering::Relaxed),
        });
    }

    /// A worker process ended (`--mode process`).
    pub fn worker_ended(&self, record: WorkerRecord) {
        lock(&self.worker_processes).push(record);
    }

    /// Hands over what was collected.
    pub(crate) fn finish(self) -> Collected {
        fn inner<T>(m: Mutex<T>) -> T {
            m.into_inner().unwrap_or_else(|p| p.into_inner())
        }
        Collected {
            totals: inner(self.totals),
            failures: inner(self.failures),
            passed_over: inner(self.passed_over),
            worker_processes: inner(self.worker_processes),
            stopped: self.halt.into_inner(),
            unworkable: self.unworkable.into_inner(),
            concurrency: inner(self.concurrency),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these vectors half-updated: keep going.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
