//! Downloads (or file reads) run concurrently on an async runtime, at most `concurrency`
//! at once and `per_host` per server, and hand each input's bytes through a bounded queue
//! to a pool of CPU threads that do the rest of the work. Downloading and decoding
//! overlap, and memory stays bounded whatever the length of the list: an input is only
//! fetched while fewer than `concurrency` are held, and a fetched one waits for room in the
//! queue before the next is started.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Semaphore, mpsc};

use super::limiter::Limiter;
use super::{JobFeed, Next};
use crate::config::{AsyncSettings, Spec};
use crate::events::Collector;
use crate::failure::ErrorKind;
use crate::fetch;
use crate::job::{self, Converted, Input, Job, Obtained, PendingCommit};
use crate::outcome::{Ending, JobEnding};

/// An input whose bytes are in hand, waiting for a CPU worker.
struct Arrived {
    job: Job,
    obtained: Obtained,
    /// When the download (or read) started and ended, in the collector's milliseconds.
    span: (f64, f64),
}

/// A converted image whose output is still to be committed.
struct Upload {
    job: Job,
    worker: usize,
    pending: PendingCommit,
    /// The input's download (or read) span, and when the worker was done with it.
    span: (f64, f64),
    cpu_end: f64,
}

/// How often the producer looks at the cancel flag while everything it runs is waiting.
const POLL: Duration = Duration::from_millis(100);

/// Runs the jobs: fetching on a single-threaded runtime on the calling thread, processing
/// on `workers` threads. Every job that is begun ends in one outcome reported to `events`;
/// once `cancel` is set no fetch is started, fetches in flight are abandoned (their images
/// count as not started) and the workers finish the image they hold.
pub fn run(
    jobs: &JobFeed,
    spec: &Spec,
    workers: usize,
    settings: &AsyncSettings,
    events: &Collector,
    cancel: &AtomicBool,
) {
    let (sender, receiver) = mpsc::channel::<Arrived>(workers.max(1) * 2);
    let receiver = Mutex::new(receiver);
    let (upload_sender, upload_receiver) = mpsc::channel::<Upload>(workers.max(1) * 2);
    std::thread::scope(|scope| {
        for worker in 0..workers.min(jobs.total()) {
            let receiver = &receiver;
            let uploads = upload_sender.clone();
            std::thread::Builder::new()
                .name(format!("imgpar-cpu-{worker}"))
                .spawn_scoped(scope, move || {
                    cpu_worker(worker, receiver, uploads, spec, events, cancel)
                })
                .expect("the system can start a worker thread");
        }
        // The uploads end once every worker has dropped its sender.
        drop(upload_sender);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        match runtime {
            Ok(runtime) => {
                runtime.block_on(async {
                    tokio::join!(
                        produce(jobs, spec, settings, events, cancel, sender),
                        upload(upload_receiver, spec, settings.concurrency, events)
                    )
                });
                // A read stuck on a pipe must not hold the run open.
                runtime.shutdown_background();
            }
            Err(e) => {
                let reason = format!("cannot start the async runtime: {e}");
                while let Some(job) = jobs.next() {
                    fail_unfetched(&job, events, reason.clone());
                }
            }
        }
    });
}

/// Takes fetched inputs off the queue and processes them, until the queue is closed and
/// empty or the run is cancelled. Output objects go to `uploads` to be put while the
/// worker takes its next image.
fn cpu_worker(
    worker: usize,
    receiver: &Mutex<mpsc::Receiver<Arrived>>,
    uploads: mpsc::Sender<Upload>,
    spec: &Spec,
    events: &Collector,
    cancel: &AtomicBool,
) {
    loop {
        let next = receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .blocking_recv();
        let Some(item) = next else {
            break;
        };
        if events.must_stop(cancel) {
            break;
        }
        events.started(&item.job, worker);
        match job::convert_obtained_for_upload(&item.job, spec, item.obtained) {
            Converted::Done(outcome) => {
                events.finished_after_fetch(&item.job, Some(worker), &outcome, item.span)
            }
            Converted::ToCommit(pending) => {
                let upload = Upload {
                    job: item.job,
                    worker,
                    pending,
                    span: item.span,
                    cpu_end: events.now_ms(),
                };
                if let Err(unsent) = uploads.blocking_send(upload) {
                    // Only if the uploads ended early, which they do not while a worker
                    // lives; the image is still accounted for.
                    let upload = unsent.0;
                    let outcome = upload.pending.abandoned(Ending::failed(
                        ErrorKind::Internal,
                        "the upload queue closed early",
                    ));
                    events.finished_after_fetch(&upload.job, Some(worker), &outcome, upload.span);
                }
            }
        }
    }
}

/// Puts the converted images' output objects, up to `concurrency` at once, and reports
/// each image as it lands; ends once every CPU worker is gone and the queue is empty.
async fn upload<'a>(
    receiver: mpsc::Receiver<Upload>,
    spec: &'a Spec,
    concurrency: usize,
    events: &'a Collector<'a>,
) {
    let queued = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|upload| (upload, receiver))
    });
    queued
        .for_each_concurrent(concurrency.max(1), |upload| async move {
            let outcome = job::commit_converted(&upload.job, spec, upload.pending).await;
            events.finished_after_fetch_at(
                &upload.job,
                Some(upload.worker),
                &outcome,
                upload.span,
                upload.cpu_end,
            );
        })
        .await;
}

/// Fetches the inputs in plan order, `settings.concurrency` at a time, and queues them for
/// the CPU workers. Inputs that fail to arrive, or need no work, are reported here.
async fn produce<'a>(
    jobs: &'a JobFeed,
    spec: &'a Spec,
    settings: &AsyncSettings,
    events: &'a Collector<'a>,
    cancel: &AtomicBool,
    sender: mpsc::Sender<Arrived>,
) {
    let client = match fetch::client(&spec.fetch) {
        Ok(client) => client,
        Err(reason) => {
            while let Some(job) = jobs.next() {
                fail_unfetched(&job, events, reason.clone());
            }
            return;
        }
    };
    let hosts = HostLimits::new(settings.per_host);
    let (client, hosts, sender) = (&client, &hosts, &sender);
    let mut in_flight = FuturesUnordered::new();
    let mut limiter = Limiter::new(settings.concurrency, settings.adaptive);
    let stop = |limiter: &Limiter| events.concurrency(limiter.changes());
    loop {
        if events.must_stop(cancel) {
            return stop(&limiter);
        }
        let mut ended = false;
        while in_flight.len() < limiter.limit() {
            // Only a job at hand: the plan is read from a local file or listing far
            // faster than images are fetched, and a queue's worker may be waiting for
            // the downloads and uploads in flight to end before it sends more.
            let job = match jobs.next_at_hand() {
                Next::Job(job) => job,
                Next::NotYet => break,
                Next::Ended => {
                    ended = true;
                    break;
                }
            };
            in_flight.push(async move {
                if let Err(status) = job::existing_output_async(&job, spec).await {
                    report_without_work(&job, events, status);
                    return None;
                }
                let host = hosts.permit(&job.input).await;
                let start = events.fetch_started(&job);
                let obtained = job.input.obtain(spec, client).await;
                let span = (start, events.now_ms());
                drop(host);
                // What the limit goes by: no answer, a timeout or an overloaded server
                // (a 404 says nothing about the network).
                let overloaded = obtained.body.is_err()
                    && obtained
                        .fetch
                        .is_none_or(|f| f.status.is_none_or(|s| s >= 500 || s == 429));
                // The CPU pool's queue is full: the downloads are ahead of the work.
                let cpu_full = sender.capacity() == 0;
                if obtained.body.is_err() {
                    let outcome = job::convert_obtained(&job, spec, obtained);
                    events.finished_after_fetch(&job, None, &outcome, span);
                    return Some((!overloaded, cpu_full));
                }
                // Waiting here for room in the queue is what bounds memory.
                let _ = sender
                    .send(Arrived {
                        job,
                        obtained,
                        span,
                    })
                    .await;
                Some((true, cpu_full))
            });
        }
        if in_flight.is_empty() {
            if ended {
                return stop(&limiter);
            }
            tokio::time::sleep(POLL).await;
            continue;
        }
        tokio::select! {
            ended = in_flight.next() => {
                if let Some(Some((ok, cpu_full))) = ended {
                    limiter.ended(ok, cpu_full);
                }
            }
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Per-host limits on downloads in flight.
struct HostLimits {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimits {
    fn new(per_host: usize) -> Self {
        HostLimits {
            per_host,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a download slot on the input's host; files and unparsable URLs need none.
    async fn permit(&self, input: &Input) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let Input::Url(url) = input else {
            return None;
        };
        let host = reqwest::Url::parse(url)
            .ok()?
            .host_str()?
            .to_ascii_lowercase();
        let semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(
                hosts
                    .entry(host)
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_host))),
            )
        };
        semaphore.acquire_owned().await.ok()
    }
}

fn report_without_work(job: &Job, events: &Collector, ending: Ending) {
    let now = events.now_ms();
    let outcome = JobEnding {
        ending,
        ..JobEnding::default()
    };
    events.finished_after_fetch(job, None, &outcome, (now, now));
}

fn fail_unfetched(job: &Job, events: &Collector, reason: String) {
    report_without_work(job, events, Ending::failed(ErrorKind::Download, reason));
}
