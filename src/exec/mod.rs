//! Schedulers: they decide when and on which worker `convert_job` runs for each job, and
//! report to the [`Collector`]. They never decide what is done to an image, and never print.

#[cfg(feature = "http")]
mod async_fetch;
mod feed;
#[cfg(feature = "http")]
mod limiter;
pub(crate) mod process;
mod sequential;
mod threaded;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::config::{Mode, RunConfig, Spec};
use crate::events::Collector;
pub use feed::{JobFeed, Next, WINDOW};

/// Runs the jobs of the feed as `config` says: its mode, its number of workers (sequential always uses
/// one), the limits on worker processes and the async mode's fetching. Stops handing out
/// jobs once `cancel` is set; jobs already running finish. Returns the number of workers
/// that ran: `config.jobs`, or the number of jobs when there are fewer (at least one; the
/// report's parallel efficiency divides by it).
pub fn execute(
    config: &RunConfig,
    jobs: Arc<JobFeed>,
    spec: &Spec,
    events: &Collector,
    cancel: &AtomicBool,
) -> usize {
    let workers = config.jobs.min(jobs.total()).max(1);
    match config.mode {
        Mode::Sequential => {
            sequential::run(&jobs, spec, events, cancel);
            1
        }
        Mode::Threaded => {
            threaded::run(jobs, spec, workers, config.limits.timeout, events, cancel);
            workers
        }
        #[cfg(feature = "http")]
        Mode::Async => {
            async_fetch::run(&jobs, spec, workers, &config.async_settings, events, cancel);
            workers
        }
        // `RunConfig::validate` refuses async mode without the `http` feature.
        #[cfg(not(feature = "http"))]
        Mode::Async => 0,
        Mode::Process => {
            process::run(&jobs, spec, workers, &config.limits, events, cancel);
            workers
        }
    }
}
