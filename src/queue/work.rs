//! `imgpar work`: a worker that takes images from a queue until none is pending or
//! leased, converts each with the queue's settings in the mode asked for, records its
//! outcome and acknowledges it. One thread talks to the broker (takes, lease renewals,
//! records and acks); the executors of a run take the jobs it hands over, as they would
//! from a plan, and their outcomes come back to it through an observer.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::address::QueueAddress;
use super::broker::{self, Broker, Delivery, retrying};
use super::messages::{ImageMessage, SETTINGS_FORMAT};
use crate::config::FormatChoice;
use crate::config::{AsyncSettings, ExistingOutput, Mode, RunConfig, WorkerLimits};
use crate::events::Observers;
use crate::events::{Collector, Event, Observer};
use crate::exec::{JobFeed, WINDOW};
use crate::failure::{ErrorKind, Failure};
use crate::job::{Input, Job};
use crate::outcome::JobEnding;
use crate::report::{Record, RunReport};
use crate::run::Run;
use crate::run::prepare::prepare_output;
use crate::run::result_files::refuse_clashes;
use crate::store::Location;
use crate::worker_count::WorkerCount;

/// How a worker runs: its own flags (the conversion settings come from the queue).
#[derive(Debug, Clone)]
pub struct WorkSettings {
    /// How the images it takes are scheduled.
    pub mode: Mode,
    /// Workers (threads or processes), and what decided their number.
    pub workers: WorkerCount,
    /// How long an image stays leased to a worker that stopped renewing it.
    pub lease: Duration,
    /// Deliveries after which an image whose workers all stopped is recorded failed.
    pub max_deliveries: u64,
    /// How long to keep trying a broker that does not answer before giving up.
    pub patience: Duration,
    /// Limits on worker processes, and per-image timeouts.
    pub limits: WorkerLimits,
    /// The async mode's fetching.
    pub async_settings: AsyncSettings,
    /// The files the worker writes besides images (`--report`), each with what it is:
    /// checked against the queue's output before the first image, as a run checks its own.
    pub result_files: Vec<(String, PathBuf)>,
}

/// Works the queue at `address` until no image is pending or leased (or `cancel` is set),
/// telling `observer` of each image as a run does. The report covers the images this
/// worker ended. `Err` when the queue cannot be used: no plan enqueued, the broker out
/// of reach for longer than `settings.patience`, the output unusable.
pub fn work(
    address: &QueueAddress,
    settings: &WorkSettings,
    observer: &dyn Observer,
    cancel: Arc<AtomicBool>,
) -> Result<RunReport, String> {
    let runtime = super::runtime()?;
    let broker = runtime.block_on(super::connect(address, settings.patience))?;
    let queued = runtime
        .block_on(retrying(settings.patience, || broker.settings()))
        .map_err(|e| format!("{address}: {e}"))?
        .ok_or_else(|| format!("{address} holds no plan: run imgpar enqueue first"))?;
    if queued.format != SETTINGS_FORMAT {
        return Err(format!(
            "{address} was enqueued by another imgpar (settings {}, this one reads {SETTINGS_FORMAT})",
            queued.format
        ));
    }
    let mut spec = queued.spec.clone();
    // An output that stands already is this image's, written by a worker that stopped
    // before it could acknowledge it, when it holds the same bytes: that is converted.
    if spec.existing == ExistingOutput::Fail {
        spec.existing = ExistingOutput::Identical;
    }
    let config = RunConfig {
        mode: settings.mode,
        jobs: settings.workers.count.max(1),
        workers_from: settings.workers.from,
        limits: settings.limits,
        async_settings: settings.async_settings,
        unconditional_store: queued.unconditional_store,
        format: FormatChoice::Same,
        ..RunConfig::new(Vec::new(), queued.output_path())
    };
    let output = Location::parse(&config.output)?;
    refuse_clashes(&config, &output, &settings.result_files)?;
    let warnings = prepare_output(&output, &config, &spec)?;
    runtime
        .block_on(retrying(settings.patience, || {
            broker.prepare_worker(settings.lease)
        }))
        .map_err(|e| format!("{address}: {e}"))?;
    let output = config.output.clone();
    let run = Run::from_config(config, spec).cancel_on(Arc::clone(&cancel));

    let (ended_sender, ended) = std::sync::mpsc::channel();
    let ends = Ends(Mutex::new(ended_sender));
    let observers = Observers(vec![observer, &ends]);
    let taker = Taker {
        runtime: &runtime,
        broker: broker.as_ref(),
        settings,
        capacity: capacity(settings).0,
        refill_at: capacity(settings).1,
        cancel: &cancel,
        output: &output,
    };
    let feed = |jobs, _| JobFeed::as_they_come(jobs);
    let (mut report, worked) = run.execute_fed(&observers, None, 0, feed, move |sender, events| {
        taker.work(sender, events, &ended)
    });
    worked.map_err(|e| format!("{address}: {e}"))?;
    if let Some(why) = report.unworkable.take() {
        // The images it held were never started: the broker gives them to other workers.
        return Err(why);
    }
    report.plan = Some(queued.plan.clone());
    report.warnings = warnings;
    Ok(report)
}

/// Images a worker holds at most, and the number at or below which it takes more: one
/// for each worker and one ready to start (async mode: its downloads in flight too), and
/// as many again taken ahead, so that small images are taken in batches.
fn capacity(settings: &WorkSettings) -> (usize, usize) {
    let workers = match settings.mode {
        Mode::Sequential => 1,
        Mode::Async => settings.workers.count + settings.async_settings.concurrency,
        _ => settings.workers.count,
    };
    let refill_at = (workers + 1).min(WINDOW / 2);
    (2 * refill_at, refill_at)
}

/// What the executors say of the jobs a worker handed them.
enum Happened {
    Started(usize),
    Finished(usize, Box<Record>),
}

/// The observer that passes each job's start and end to the broker's thread.
struct Ends(Mutex<Sender<Happened>>);

impl Observer for Ends {
    fn event(&self, event: Event<'_>) {
        let ended = match event {
            Event::Started { index, .. } => Happened::Started(index),
            Event::Finished {
                record,
                index: Some(index),
                ..
            } => Happened::Finished(index, Box::new(record.clone())),
            _ => return,
        };
        let sender = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let _ = sender.send(ended);
    }
}

/// The broker's side of a worker.
struct Taker<'a> {
    runtime: &'a tokio::runtime::Runtime,
    broker: &'a dyn Broker,
    settings: &'a WorkSettings,
    capacity: usize,
    /// Outstanding images at or below which it takes more.
    refill_at: usize,
    cancel: &'a AtomicBool,
    /// The queue's output: a message putting its output elsewhere is refused.
    output: &'a std::path::Path,
}

/// The images a worker holds: handed to its executors, not yet ended.
#[derive(Default)]
struct Outstanding {
    deliveries: HashMap<usize, Delivery>,
    started: HashSet<usize>,
    next_index: usize,
}

impl Taker<'_> {
    fn retry<T, F, Fut>(&self, op: F) -> Result<T, String>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        self.runtime.block_on(retrying(self.settings.patience, op))
    }

    /// Takes, hands over and acknowledges images until the queue holds none pending or
    /// leased, or the run must stop; then gives back what was not started and waits for
    /// what was.
    fn work(
        &self,
        sender: SyncSender<Job>,
        events: &Collector,
        ended: &Receiver<Happened>,
    ) -> Result<(), String> {
        let mut held = Outstanding::default();
        let renew_every = (self.settings.lease / 3).max(Duration::from_millis(200));
        let mut renewed = Instant::now();
        let outcome = loop {
            self.settle(&mut held, None, ended)?;
            if events.must_stop(self.cancel) {
                break Ok(());
            }
            if renewed.elapsed() >= renew_every {
                let all: Vec<&Delivery> = held.deliveries.values().collect();
                self.retry(|| self.broker.renew(&all))?;
                renewed = Instant::now();
            }
            let room = self.capacity.saturating_sub(held.deliveries.len());
            let idle = held.deliveries.is_empty();
            if idle && self.retry(|| self.broker.outstanding())? == 0 {
                break Ok(());
            }
            // Refilled once it holds no more than one image a worker (and one ready), in
            // one take, not an image at a time.
            if room > 0 && held.deliveries.len() <= self.refill_at {
                // Holding images, it must not sit in a blocking read while they end: it
                // takes what is there, and otherwise waits for an image to end.
                let wait = if idle {
                    Duration::from_secs(1)
                } else {
                    Duration::ZERO
                };
                let lease = self.settings.lease;
                let taken = self.retry(|| self.broker.take(room, lease, wait))?;
                let any = !taken.is_empty();
                for delivery in taken {
                    if let Some(job) = self.accept(delivery, &mut held, events)?
                        && sender.send(job).is_err()
                    {
                        break;
                    }
                }
                if any {
                    continue;
                }
            }
            let wait = if room > 0 {
                Duration::from_millis(50)
            } else {
                renew_every.min(Duration::from_secs(1))
            };
            match ended.recv_timeout(wait) {
                Ok(first) => self.settle(&mut held, Some(first), ended)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break Ok(()),
            }
        };
        drop(sender);
        self.wind_down(held, ended)?;
        outcome
    }

    /// A delivery taken: the job to hand over, or `None` when it is not to be tried (its
    /// workers all stopped `--max-deliveries` times, its message cannot be read or puts
    /// its output outside the queue's), in which case it is recorded failed here.
    fn accept(
        &self,
        delivery: Delivery,
        held: &mut Outstanding,
        events: &Collector,
    ) -> Result<Option<Job>, String> {
        let max = self.settings.max_deliveries;
        let (job, refusal) = match serde_json::from_str::<ImageMessage>(&delivery.message) {
            Err(e) => (None, Some(format!("its queue message cannot be read: {e}"))),
            Ok(message) => {
                let job = Job::from(message.job);
                let refusal = if job.output_root != self.output {
                    Some(format!(
                        "its queue message puts its output outside the queue's output {}; \
                         not written",
                        self.output.display()
                    ))
                } else if delivery.starts >= max {
                    Some(format!(
                        "started {} times, and each time its worker stopped before it ended \
                         (killed, out of memory or crashed); not tried again \
                         (--max-deliveries {max})",
                        delivery.starts
                    ))
                } else {
                    None
                };
                (Some(job), refusal)
            }
        };
        let (job, reason) = match (job, refusal) {
            (Some(mut job), None) => {
                job.index = held.next_index;
                held.next_index += 1;
                held.deliveries.insert(job.index, delivery);
                return Ok(Some(job));
            }
            (job, reason) => (job, reason.unwrap_or_default()),
        };
        let failure = JobEnding::failed(Failure::new(ErrorKind::WorkerDied, reason));
        let (input, output) = match job {
            Some(job) => (job.input, job.output),
            None => (Input::File(delivery.id.clone().into()), PathBuf::new()),
        };
        let record = Record::from_outcome(&input, &output, &failure, None, (0.0, 0.0), None);
        self.finish(&[(&delivery, &record)])?;
        events.ended_untried(record);
        Ok(None)
    }

    /// What happened since last asked (`first`, and all else waiting on `happened`):
    /// the starts counted in one request, the images that ended recorded and
    /// acknowledged in another.
    fn settle(
        &self,
        held: &mut Outstanding,
        first: Option<Happened>,
        happened: &Receiver<Happened>,
    ) -> Result<(), String> {
        let mut started = Vec::new();
        let mut finished = Vec::new();
        for event in first.into_iter().chain(happened.try_iter()) {
            match event {
                Happened::Started(index) => {
                    held.started.insert(index);
                    started.push(index);
                }
                Happened::Finished(index, record) => {
                    held.started.remove(&index);
                    if let Some(delivery) = held.deliveries.remove(&index) {
                        finished.push((delivery, record));
                    }
                }
            }
        }
        let starting: Vec<&Delivery> = started
            .iter()
            .filter_map(|index| held.deliveries.get(index))
            .collect();
        if !starting.is_empty() {
            self.retry(|| self.broker.started(&starting))?;
        }
        let ended: Vec<(&Delivery, &Record)> =
            finished.iter().map(|(d, r)| (d, r.as_ref())).collect();
        self.finish(&ended)
    }

    /// Records each image's outcome and takes it off the queue.
    fn finish(&self, ended: &[(&Delivery, &Record)]) -> Result<(), String> {
        if ended.is_empty() {
            return Ok(());
        }
        let mut records = Vec::with_capacity(ended.len());
        for (delivery, record) in ended {
            records.push(broker::FinishedImage {
                delivery,
                record: serde_json::to_string(record).map_err(|e| e.to_string())?,
                status: record.status.to_string(),
            });
        }
        self.retry(|| self.broker.finish(&records))
    }

    /// After the last take: the images not started go back to the queue at once; those
    /// started are waited for and acknowledged.
    fn wind_down(&self, mut held: Outstanding, ended: &Receiver<Happened>) -> Result<(), String> {
        let mut renewed = Instant::now();
        loop {
            self.settle(&mut held, None, ended)?;
            let waiting: Vec<usize> = held
                .deliveries
                .keys()
                .copied()
                .filter(|index| !held.started.contains(index))
                .collect();
            for index in waiting {
                if let Some(delivery) = held.deliveries.remove(&index) {
                    self.retry(|| self.broker.release(&delivery))?;
                }
            }
            if held.deliveries.is_empty() {
                return Ok(());
            }
            if renewed.elapsed() >= self.settings.lease / 3 {
                let all: Vec<&Delivery> = held.deliveries.values().collect();
                self.retry(|| self.broker.renew(&all))?;
                renewed = Instant::now();
            }
            match ended.recv_timeout(Duration::from_millis(200)) {
                Ok(first) => self.settle(&mut held, Some(first), ended)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
    }
}
