//! `imgpar enqueue`, `imgpar work` and `imgpar queue-status`: a plan published to a
//! broker's queue, workers that take its images, and whether it is done.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::Args;

use super::console::{presented, usage_error};
use super::groups::WorkerArgs;
use super::parse::Seconds;
use super::{PlanArgs, Presentation, parse};
use crate::config::Mode;
use crate::exit::ExitCode;
use crate::queue::{self, QueueAddress};
use crate::render::LineFile;
use crate::report;
use crate::worker_count::WorkerCount;

/// `imgpar enqueue QUEUE INPUT... OUTPUT`: the conversion and input flags of a run.
#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// The queue: redis://HOST:PORT/NAME or nats://HOST:PORT/NAME.
    #[arg(value_name = "QUEUE")]
    pub queue: QueueAddress,

    /// The inputs, output and conversion flags, as for a run (`imgpar --help`). Paths
    /// are made absolute: workers may run in other folders, or on other machines that
    /// see the same paths. With --skip-existing (or --overwrite), workers leave (or
    /// replace) existing outputs.
    #[command(flatten)]
    pub plan: PlanArgs,

    /// How long to keep trying a broker that does not answer before giving up (exit 2).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse::seconds)]
    pub broker_wait: Seconds,

    /// No summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `imgpar work QUEUE`: the worker's own flags; what to do to each image comes from the
/// queue.
#[derive(Debug, Args)]
pub struct WorkArgs {
    /// The queue: redis://HOST:PORT/NAME or nats://HOST:PORT/NAME.
    #[arg(value_name = "QUEUE")]
    pub queue: QueueAddress,

    /// How this worker runs the images it takes.
    #[arg(long, value_enum, default_value_t = Mode::Threaded)]
    pub mode: Mode,

    /// Number of workers [default: number of cores].
    #[arg(short = 'j', long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub jobs: Option<u32>,

    /// An image stays leased this long to a worker that stopped renewing its lease (it
    /// renews every third of it while the image is converting); then the next worker
    /// takes it. On NATS it is the queue's AckWait, set by the last worker started.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse::seconds)]
    pub lease: Seconds,

    /// An image taken this many times, each time by a worker that stopped before it
    /// ended, is recorded failed instead of being tried again.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_deliveries: u64,

    /// How long to keep trying a broker that does not answer before giving up (exit 2);
    /// a broker that restarts within it loses no image.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse::seconds)]
    pub broker_wait: Seconds,

    #[command(flatten)]
    pub workers: WorkerArgs,

    /// Write this worker's report (its images only) as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,

    /// No progress bar and no summary; failures are still printed.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `imgpar queue-status QUEUE`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The queue: redis://HOST:PORT/NAME or nats://HOST:PORT/NAME.
    #[arg(value_name = "QUEUE")]
    pub queue: QueueAddress,

    /// Write every image's record so far, and the queue's state, as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,

    /// How long to keep trying a broker that does not answer before giving up (exit 2).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse::seconds)]
    pub broker_wait: Seconds,
}

/// Plans the inputs and publishes the plan; exit 0 once it is in the queue, 2 when it
/// cannot be (the broker out of reach, the queue holding another plan, bad inputs).
pub fn enqueue(args: EnqueueArgs) -> ExitCode {
    let plan = &args.plan;
    let stdin = Path::new("-");
    if plan.paths.iter().chain(&plan.url_lists).any(|p| p == stdin) {
        return usage_error(
            "enqueue reads its inputs twice (the plan's identity first, then the messages): \
             give the URL list as a file, not -",
        );
    }
    let Some(run) = plan.run_from_anywhere() else {
        return usage_error("enqueue needs INPUT... and OUTPUT after the queue");
    };
    match queue::enqueue(&args.queue, &run, args.broker_wait.0) {
        Ok(done) => {
            if !args.quiet {
                eprintln!(
                    "imgpar: {} planned for {}: {} queued now, {} pending, leased or done \
                     already, {} failed before becoming images (plan {})",
                    report::count(done.planned, "image"),
                    args.queue,
                    done.published,
                    done.held_already,
                    done.problems,
                    done.plan.id
                );
            }
            ExitCode::Ok
        }
        Err(message) => usage_error(&message),
    }
}

/// Works the queue until it is done; the exit code is a run's (0 all this worker ended
/// converted or skipped, 1 some failed, 2 the queue could not be used, 130 interrupted).
pub fn work(args: WorkArgs, cancel: Arc<AtomicBool>) -> ExitCode {
    let settings = queue::WorkSettings {
        mode: args.mode,
        workers: match WorkerCount::chosen(args.jobs) {
            Ok(workers) => workers,
            Err(message) => return usage_error(&message),
        },
        lease: args.lease.0.max(Duration::from_secs(1)),
        max_deliveries: args.max_deliveries,
        patience: args.broker_wait.0,
        limits: args.workers.limits(),
        async_settings: Default::default(),
        result_files: args
            .report
            .iter()
            .map(|report| ("report".to_string(), report.clone()))
            .collect(),
    };
    let shown = Presentation {
        quiet: args.quiet,
        report: args.report,
        ..Presentation::default()
    };
    presented(&shown, settings.workers.count, |observer| {
        queue::work(&args.queue, &settings, observer, cancel)
    })
}

/// Prints the queue's state (and writes its records with `--report`); exit 0 when every
/// planned image is done and none failed, 1 when done with failures, 4 when not done, 2
/// when the queue cannot be read.
pub fn status(args: StatusArgs) -> ExitCode {
    let file = args
        .report
        .as_deref()
        .map(|path| LineFile::new(path, r#"{"format":"imgpar-queue-report-1","images":["#));
    let mut write = |record: &str| {
        if let Some(file) = &file {
            file.item(record);
        }
    };
    let records: Option<&mut dyn FnMut(&str)> = match &file {
        Some(_) => Some(&mut write),
        None => None,
    };
    let state = match queue::status(&args.queue, records, args.broker_wait.0) {
        Ok(state) => state,
        Err(message) => return usage_error(&message),
    };
    eprintln!(
        "imgpar: {}: {} pending, {} leased, {} done ({} failed) of {} planned; {}",
        state.queue,
        state.counts.pending,
        state.counts.leased,
        state.counts.done,
        state.counts.failed,
        state.planned,
        if state.complete {
            "complete: a record for every image of the plan"
        } else {
            "not complete"
        }
    );
    if let Some(file) = &file {
        let rest = serde_json::to_string(&state).expect("a queue's state serialises");
        let rest = rest.strip_prefix('{').unwrap_or(&rest);
        if let Err(message) = file.finish(&format!("],{rest}")) {
            return usage_error(&format!("cannot write the queue's report: {message}"));
        }
    }
    state.exit_code()
}
