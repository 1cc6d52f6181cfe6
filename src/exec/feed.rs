//! Where executors take their jobs from: the plan as it is streamed, through a bounded
//! look-ahead window. Of the jobs in the window the biggest input goes first, so that no
//! big image starts last and finishes alone while the other workers sit idle; the window
//! holds [`WINDOW`] jobs, never the plan.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;

use crate::job::{Input, Job};

/// Jobs looked at when choosing the next one.
pub const WINDOW: usize = 256;

/// What [`JobFeed::next_at_hand`] found.
pub enum Next {
    /// The next job.
    Job(Job),
    /// None at hand now; more may come.
    NotYet,
    /// Every job was handed out.
    Ended,
}

/// The jobs of a run, handed out one at a time to whichever worker asks, biggest input of
/// the look-ahead window first. Shared by every worker of a run.
pub struct JobFeed {
    state: Mutex<Window>,
    /// Jobs looked at when choosing the next one ([`WINDOW`], or 1: take them as they come).
    window: usize,
    total: usize,
    handed: AtomicUsize,
}

struct Window {
    source: Option<Source>,
    /// Each job with its input's size (what "biggest" goes by).
    jobs: Vec<(u64, Job)>,
}

enum Source {
    Stream(Receiver<Job>),
    #[cfg(test)]
    Listed(std::vec::IntoIter<Job>),
}

impl Source {
    fn next(&mut self) -> Option<Job> {
        match self {
            Source::Stream(receiver) => receiver.recv().ok(),
            #[cfg(test)]
            Source::Listed(jobs) => jobs.next(),
        }
    }
}

impl JobFeed {
    /// A feed of the `total` jobs that arrive on `jobs` (the sender is the plan's stream).
    pub fn streamed(jobs: Receiver<Job>, total: usize) -> JobFeed {
        JobFeed::with(Source::Stream(jobs), total, WINDOW)
    }

    #[cfg(feature = "queue")]
    /// A feed of the jobs that arrive on `jobs`, each handed out as it comes (no window
    /// to fill: the sender hands over only what the workers can start now, as a queue's
    /// worker does), their number not known beforehand.
    pub fn as_they_come(jobs: Receiver<Job>) -> JobFeed {
        JobFeed::with(Source::Stream(jobs), usize::MAX, 1)
    }

    /// A feed of `jobs`, already in memory.
    #[cfg(test)]
    pub fn listed(jobs: Vec<Job>) -> JobFeed {
        let total = jobs.len();
        JobFeed::with(Source::Listed(jobs.into_iter()), total, WINDOW)
    }

    fn with(source: Source, total: usize, window: usize) -> JobFeed {
        JobFeed {
            window,
            state: Mutex::new(Window {
                source: Some(source),
                jobs: Vec::new(),
            }),
            total,
            handed: AtomicUsize::new(0),
        }
    }

    /// The next job: of the next [`WINDOW`] jobs of the plan, the one with the biggest
    /// input (pipes and devices, with no size to go by, first; URLs and objects after the
    /// files; equal sizes in plan order). `None` once every job was handed out.
    pub fn next(&self) -> Option<Job> {
        let mut window = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while window.jobs.len() < self.window {
            let Some(job) = window.source.as_mut().and_then(Source::next) else {
                window.source = None;
                break;
            };
            window.jobs.push((input_size(&job), job));
        }
        let biggest = window
            .jobs
            .iter()
            .enumerate()
            .max_by(|(_, a), (_, b)| a.0.cmp(&b.0).then(b.1.index.cmp(&a.1.index)))
            .map(|(at, _)| at)?;
        self.handed.fetch_add(1, Ordering::Relaxed);
        Some(window.jobs.remove(biggest).1)
    }

    /// The next job if one is at hand, for a scheduler that has other work to attend to
    /// (answers of running jobs, downloads, uploads) and must not wait: from a feed whose
    /// jobs come as they come (a queue's worker), only a job already sent; from a
    /// planned feed, [`JobFeed::next`] (the plan is read far faster than images are
    /// converted, so it never says [`Next::NotYet`]).
    pub fn next_at_hand(&self) -> Next {
        if self.window > 1 {
            return self.next().map_or(Next::Ended, Next::Job);
        }
        // Another scheduler may be inside `next`, waiting for the sender: then nothing is
        // at hand (and waiting for its lock would be waiting for the sender).
        let mut window = match self.state.try_lock() {
            Ok(window) => window,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Next::NotYet,
        };
        if window.jobs.is_empty() {
            let arrived = match &window.source {
                Some(Source::Stream(receiver)) => match receiver.try_recv() {
                    Ok(job) => Some(job),
                    Err(std::sync::mpsc::TryRecvError::Empty) => return Next::NotYet,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => None,
                },
                _ => None,
            };
            match arrived {
                Some(job) => window.jobs.push((0, job)),
                None => window.source = None,
            }
        }
        match window.jobs.pop() {
            Some((_, job)) => {
                self.handed.fetch_add(1, Ordering::Relaxed);
                Next::Job(job)
            }
            None => Next::Ended,
        }
    }

    /// Stops reading the plan: the jobs not taken yet are dropped, and the plan's stream
    /// is told so (its sends fail), so that it can end.
    pub fn close(&self) {
        let mut window = self.state.lock().unwrap_or_else(|p| p.into_inner());
        window.source = None;
        window.jobs.clear();
    }

    /// Jobs of the run.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Jobs not handed out yet.
    pub fn remaining(&self) -> usize {
        self.total
            .saturating_sub(self.handed.load(Ordering::Relaxed))
    }
}

/// What "biggest" goes by: a file's size; the most for a pipe or device (no size, and
/// nothing to wait for); nothing for a URL or object (their sizes are not known
/// before they are fetched).
fn input_size(job: &Job) -> u64 {
    match &job.input {
        Input::File(path) => match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => meta.len(),
            _ => u64::MAX,
        },
        Input::Url(_) | Input::Object(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OutputFormat;

    fn job(index: usize, input: Input) -> Job {
        Job {
            index,
            input,
            output: "out/x.png".into(),
            output_root: "out".into(),
            format: OutputFormat::Png,
            key: Vec::new(),
        }
    }

    #[test]
    fn biggest_files_go_first_and_urls_last_in_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut jobs = Vec::new();
        for (index, url) in ["http://a/1.png", "http://a/2.png"].into_iter().enumerate() {
            jobs.push(job(index, Input::Url(url.into())));
        }
        for (index, (name, size)) in [("small", 10), ("big", 300), ("mid", 100), ("mid2", 100)]
            .into_iter()
            .enumerate()
        {
            let path = dir.path().join(name);
            std::fs::write(&path, vec![0u8; size]).unwrap();
            jobs.push(job(2 + index, Input::File(path)));
        }
        let feed = JobFeed::listed(jobs);
        assert_eq!(feed.remaining(), 6);
        let order: Vec<usize> = std::iter::from_fn(|| feed.next())
            .map(|j| j.index)
            .collect();
        assert_eq!(order, vec![3, 4, 5, 2, 0, 1]);
        assert_eq!(feed.remaining(), 0);
    }

    #[test]
    fn the_window_is_bounded_so_a_late_big_file_waits_its_turn() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, vec![0u8; 1000]).unwrap();
        let mut jobs: Vec<Job> = (0..WINDOW + 10)
            .map(|i| job(i, Input::Url(format!("http://a/{i}.png"))))
            .collect();
        jobs.push(job(WINDOW + 10, Input::File(big)));
        let feed = JobFeed::listed(jobs);
        let order: Vec<usize> = std::iter::from_fn(|| feed.next())
            .map(|j| j.index)
            .collect();
        // Seen once the first 11 jobs made room in the window, and then taken at once.
        assert_eq!(order.iter().position(|&i| i == WINDOW + 10), Some(11));
    }
}
