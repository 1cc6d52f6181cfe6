//! A pool of worker threads, each taking the next job when it becomes idle, so a slow image
//! never holds up the images queued behind it.
//!
//! The calling thread coordinates: it relays the workers' events to the [`Collector`],
//! passes on a request to stop, and enforces `--timeout`. A thread cannot be stopped from
//! outside, so an image over the limit is reported as timed out by name and its thread is
//! left behind: a fresh thread takes its place and the run ends without waiting for it. A
//! job left behind never writes its output: its [`CommitGate`] is closed first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::JobFeed;
use crate::config::Spec;
use crate::events::Collector;
use crate::failure::{ErrorKind, Failure};
use crate::job::{CommitGate, Job, convert_job_gated};
use crate::outcome::JobEnding;

/// How often the coordinator looks at the stop request and the clock when no event comes.
const TICK: Duration = Duration::from_millis(50);

/// Runs the jobs on `workers` threads (no more threads than jobs). Dispatch is dynamic:
/// each idle worker takes the next job from the feed. An image still
/// running after `timeout` ends as failed, named in the report, and the run goes on
/// without it. Hand-written rather than a rayon pool because the scheduler needs exactly
/// this (one job at a time, a stable worker id, a stop check between jobs, a thread that
/// can be left behind) and nothing more.
pub fn run(
    jobs: Arc<JobFeed>,
    spec: &Spec,
    workers: usize,
    timeout: Option<Duration>,
    events: &Collector,
    cancel: &AtomicBool,
) {
    let threads = workers.min(jobs.total());
    let shared = Arc::new(Shared {
        jobs,
        spec: spec.clone(),
        stop: AtomicBool::new(false),
    });
    let (sender, notes) = mpsc::channel();
    let mut slots: Vec<ThreadSlot> = (0..threads)
        .map(|id| ThreadSlot::start(id, &shared, &sender))
        .collect();
    while slots.iter().any(|slot| !slot.exited) {
        if events.must_stop(cancel) {
            shared.stop.store(true, Ordering::Relaxed);
        }
        match notes.recv_timeout(TICK) {
            Ok(note) => {
                let Some(slot) = slots.iter_mut().find(|s| s.thread == note.thread) else {
                    continue; // from a thread left behind: its image is already reported
                };
                match note.event {
                    Event::Started(job, gate) => {
                        events.started(&job, slot.id);
                        slot.running = Some((job, Instant::now(), gate));
                    }
                    Event::Finished(job, outcome) => {
                        slot.running = None;
                        events.finished(&job, slot.id, &outcome);
                    }
                    Event::Exited => slot.exited = true,
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if let Some(limit) = timeout {
            for slot in &mut slots {
                if let Some((job, since, gate)) = &slot.running
                    && since.elapsed() > limit
                    // A job already putting its output in place is not given up on.
                    && gate.abandon()
                {
                    events.finished(job, slot.id, &timed_out(limit));
                    slot.leave_behind();
                    *slot = ThreadSlot::start(slot.id, &shared, &sender);
                }
            }
        }
    }
}

/// What the worker threads share. Owned (not borrowed from the caller) because a thread
/// left behind by `--timeout` may outlive the run.
struct Shared {
    jobs: Arc<JobFeed>,
    spec: Spec,
    stop: AtomicBool,
}

/// A message from a worker thread, tagged with the thread's serial number.
struct Note {
    thread: u64,
    event: Event,
}

enum Event {
    /// The job began; the gate lets the coordinator give up on it before it writes.
    Started(Arc<Job>, Arc<CommitGate>),
    Finished(Arc<Job>, Box<JobEnding>),
    Exited,
}

/// One worker position: the thread that fills it now and the job it runs.
struct ThreadSlot {
    id: usize,
    /// Serial number of the current thread; notes from earlier threads are ignored.
    thread: u64,
    /// Set to make the current thread quit after its image.
    leave: Arc<AtomicBool>,
    running: Option<(Arc<Job>, Instant, Arc<CommitGate>)>,
    exited: bool,
}

impl ThreadSlot {
    fn start(id: usize, shared: &Arc<Shared>, sender: &mpsc::Sender<Note>) -> ThreadSlot {
        static SERIAL: AtomicUsize = AtomicUsize::new(0);
        let thread = SERIAL.fetch_add(1, Ordering::Relaxed) as u64;
        let leave = Arc::new(AtomicBool::new(false));
        let (shared, sender, quit) = (Arc::clone(shared), sender.clone(), Arc::clone(&leave));
        std::thread::Builder::new()
            .name(format!("imgpar-worker-{id}"))
            .spawn(move || work(thread, &shared, &quit, &sender))
            .expect("the system can start a worker thread");
        ThreadSlot {
            id,
            thread,
            leave,
            running: None,
            exited: false,
        }
    }

    /// Gives up on the current thread: it takes no further job.
    fn leave_behind(&self) {
        self.leave.store(true, Ordering::Relaxed);
    }
}

/// A worker thread's loop: the next job until none remain or the run stops.
fn work(thread: u64, shared: &Shared, leave: &AtomicBool, sender: &mpsc::Sender<Note>) {
    let send = |event| {
        // The coordinator stops listening only when the run is over.
        let _ = sender.send(Note { thread, event });
    };
    while !shared.stop.load(Ordering::Relaxed) && !leave.load(Ordering::Relaxed) {
        let Some(job) = shared.jobs.next() else {
            break;
        };
        let job = Arc::new(job);
        let gate = Arc::new(CommitGate::default());
        send(Event::Started(Arc::clone(&job), Arc::clone(&gate)));
        let outcome = convert_job_gated(&job, &shared.spec, &gate);
        send(Event::Finished(job, Box::new(outcome)));
    }
    send(Event::Exited);
}

fn timed_out(limit: Duration) -> JobEnding {
    JobEnding::failed(Failure::new(
        ErrorKind::Timeout,
        format!(
            "still running after {} s (--timeout); threaded mode cannot stop an image, so it \
             was left behind and will write nothing (use --mode process --timeout for \
             untrusted input)",
            limit.as_secs_f64()
        ),
    ))
}
