//! What the user typed: clap definitions, and their translation into validated settings
//! ([`RunConfig`] and [`Spec`], or a [`BenchConfig`]). Usage errors surface here, before
//! anything is touched.

mod console;
mod docs;
mod embedded;
mod entry;
mod groups;
mod merge_command;
mod parse;
mod plan_commands;
mod queue_commands;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::exit::ExitCode;
pub use console::convert;
pub use docs::{print_completions, print_man};
pub use embedded::{RunFailure, conversion_from_flags, plan_from_flags, run_from_flags};
pub use entry::main_from;
pub use groups::{FetchArgs, FormatArg, ImageArgs, WorkerArgs};
pub use merge_command::merge_reports;
pub use parse::MIN_WORKER_MEMORY;
pub use parse::{Bytes, Seconds};
pub use plan_commands::{PlanCommandArgs, RunPlanArgs, plan, run as run_plan};
pub use queue_commands::{
    EnqueueArgs, StatusArgs, WorkArgs, enqueue, status as queue_status, work,
};

use crate::Run;
use crate::bench::BenchConfig;
use crate::config::{Conversion, ExistingOutput, Mode, RunConfig, Spec, UnconditionalStore};
use crate::shard::{Shard, ShardChoice};
use crate::store;
use crate::store::Location;
use crate::worker_count::WorkerCount;
use crate::worker_count::cores;

/// Converts every image under the INPUT folders (and every INPUT file, and every URL of
/// every INPUT list) to grayscale, resizes it and writes it under OUTPUT.
#[derive(Debug, Parser)]
#[command(
    name = "imgpar",
    version,
    about,
    max_term_width = 100,
    override_usage = "imgpar [OPTIONS] <INPUT>... <OUTPUT>\n       imgpar [OPTIONS] --urls <FILE> <OUTPUT>\n       imgpar bench [OPTIONS] <INPUT>...\n       imgpar merge-reports <REPORT.json>... [-o FILE.json]\n       imgpar plan <INPUT>... <OUTPUT> --shards <N> --to <DIR>\n       imgpar run --plan <FILE> [-j N] [--mode MODE]\n       imgpar enqueue <QUEUE> <INPUT>... <OUTPUT>\n       imgpar work <QUEUE> [-j N] [--mode MODE]\n       imgpar queue-status <QUEUE> [--report FILE.json]",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub plan: PlanArgs,

    /// How the batch runs.
    #[arg(long, value_enum, default_value_t = Mode::default())]
    pub mode: Mode,

    /// Number of workers [default: number of cores].
    #[arg(short = 'j', long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub jobs: Option<u32>,

    #[command(flatten)]
    pub workers: WorkerArgs,

    /// No progress bar and no summary; failures are still printed.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also list each file passed over as not an image, with why (the summary counts
    /// them by reason).
    #[arg(short, long)]
    pub verbose: bool,

    /// Take shard I of N (0-based) of the plan: the inputs whose plan key hashes there
    /// (xxh3-64 mod N; see docs/guide.md). Without it, the shard of a Slurm, Kubernetes or
    /// AWS Batch array task is read from the environment.
    #[arg(long, value_name = "I/N", conflicts_with = "no_shard")]
    pub shard: Option<Shard>,

    /// Take the whole plan, whatever the environment says about array tasks.
    #[arg(long)]
    pub no_shard: bool,

    /// Print the plan (input -> output, one per line; as JSON in --report) and convert
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Write the run summary and one record per image as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,

    /// Write a Chrome trace of the run (open it in Perfetto or chrome://tracing): a track
    /// per worker, a span per image with its stages inside.
    #[arg(long, value_name = "FILE.json")]
    pub trace: Option<PathBuf>,

    /// Draw the run as an SVG timeline: workers down the side, time across, a bar per
    /// image coloured by stage.
    #[arg(long, value_name = "FILE.svg")]
    pub timeline: Option<PathBuf>,
}

/// What a run converts and how: its inputs and output, and the conversion and input
/// flags (shared by a run and `imgpar enqueue`, which publishes the same plan).
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The INPUTs, then OUTPUT. An INPUT is a folder of images (walked recursively;
    /// images are recognised by extension or content), an image file, a file listing
    /// http(s) URLs one per line, `-` for a URL list on stdin, or a bucket prefix
    /// (`s3://bucket/prefix`, `gs://...`, `az://container/...`, read like a folder); a
    /// folder named like a subcommand (`bench`, `enqueue`, `work`, `queue-status`, ...) is
    /// written
    /// `./bench`. OUTPUT is the folder to write to (created if missing; not inside an
    /// INPUT folder) or a bucket prefix (not overlapping an INPUT prefix).
    #[arg(required = true, value_name = "INPUT... OUTPUT")]
    pub paths: Vec<PathBuf>,

    /// Read FILE as a list of URLs (one per line; blank lines and # comments skipped),
    /// whatever it looks like. May be repeated.
    #[arg(long = "urls", value_name = "FILE")]
    pub url_lists: Vec<PathBuf>,

    /// Image files and folders given as INPUTs keep their path below DIR in the output
    /// (DIR/2024/a.jpg is written OUTPUT/2024/a.png); each INPUT must be below DIR.
    /// Without it, an image file's output takes its file name alone, and a folder's
    /// images their path below that folder.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    #[command(flatten)]
    pub image: ImageArgs,

    /// Leave existing outputs alone and report their images as skipped.
    #[arg(long, conflicts_with = "overwrite")]
    pub skip_existing: bool,

    /// Replace existing outputs (without this or --skip-existing, an existing output is an
    /// error for that image).
    #[arg(long)]
    pub overwrite: bool,

    /// When the output bucket's store ignores create-only writes (found by a probe before
    /// the first image): refuse to start, or go on relying on the listing made at the
    /// start, with a warning (a task racing on the same outputs may then replace one).
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = UnconditionalStore::default())]
    pub unconditional_store: UnconditionalStore,

    #[command(flatten)]
    pub fetch: FetchArgs,
}

impl PlanArgs {
    /// What to do with an existing output.
    pub fn existing(&self) -> ExistingOutput {
        if self.skip_existing {
            ExistingOutput::Skip
        } else if self.overwrite {
            ExistingOutput::Overwrite
        } else {
            ExistingOutput::Fail
        }
    }

    /// The per-image settings the flags describe.
    pub fn spec(&self) -> Spec {
        spec(&self.image, &self.fetch, self.existing())
    }

    /// The run these flags describe (in the default mode: who runs it decides), its
    /// local paths made absolute so that it reads the same from any folder (a queue's
    /// workers, a plan's tasks); `None` without INPUT and OUTPUT.
    pub fn run_from_anywhere(&self) -> Option<Run> {
        let mut inputs: Vec<PathBuf> = self.paths.iter().map(|p| absolute(p)).collect();
        let output = inputs
            .pop()
            .filter(|_| !inputs.is_empty() || !self.url_lists.is_empty())?;
        let config = RunConfig {
            url_lists: self.url_lists.iter().map(|p| absolute(p)).collect(),
            root: self.root.as_deref().map(absolute),
            format: self.image.format(),
            unconditional_store: self.unconditional_store,
            ..RunConfig::new(inputs, output)
        };
        Some(Run::from_config(config, self.spec()))
    }
}

/// A local path made absolute (a bucket prefix or `-` left as it is).
fn absolute(path: &std::path::Path) -> PathBuf {
    match Location::parse(path) {
        Ok(Location::Local(local)) if local != std::path::Path::new("-") => {
            std::path::absolute(&local).unwrap_or(local)
        }
        _ => store::local_path(path),
    }
}

/// Subcommands besides the default (converting images).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure speedup against mode and worker count on the same inputs: a table, an
    /// Amdahl fit, and with --out a CSV, a JSON and a speedup plot.
    Bench(Box<BenchArgs>),
    /// Merge the JSON reports of the tasks of a sharded run (--shard, or an array job)
    /// into one, and say whether the shards add up to exactly the plan: exit 0 when they
    /// do and every image is done, 1 when some failed or were not started, 4 when a shard
    /// is missing, reported twice, or of another plan, 2 when a report cannot be read or
    /// is not an imgpar report.
    MergeReports {
        /// The reports (`--report` files of the tasks), or folders or bucket prefixes
        /// holding them (every `*.json` directly in it).
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        /// Write the merged report here (JSON); the summary goes to stderr either way.
        #[arg(short, long, value_name = "FILE.json")]
        out: Option<PathBuf>,
    },
    /// Plan once (names decided over the whole plan, as a run decides them) and write it
    /// as N shard files (JSON Lines, see docs/guide.md): one per task of an array, each
    /// the images `--shard I/N` would take. Exit 0 once they are written, 2 when they
    /// cannot be.
    Plan(Box<PlanCommandArgs>),
    /// Convert the images of one shard file written by `imgpar plan`, with the plan's
    /// settings and every guarantee of a run; its --report is that shard's report of the
    /// plan (merge-reports adds the shards up). Exit codes as a run's.
    Run(Box<RunPlanArgs>),
    /// Plan once (names decided over the whole plan, as a run decides them) and publish
    /// the plan to a queue: a message per image, the settings once. Enqueueing the same
    /// plan again queues only the images not pending, leased or done (converted or
    /// skipped). Exit 0 once it is queued, 2 when it cannot be.
    Enqueue(Box<EnqueueArgs>),
    /// Take images from a queue until none is pending or leased, converting each with
    /// the queue's settings in this worker's mode, and acknowledge each once its output
    /// is in place. Exit 0 when all it took ended converted or skipped, 1 when some
    /// failed, 2 when the queue cannot be used.
    Work(Box<WorkArgs>),
    /// How far a queue is: pending, leased, done and failed; with --report, every record
    /// so far as one JSON report. Exit 0 when every planned image is done and none
    /// failed, 1 when done with failures, 4 when not done, 2 when it cannot be read.
    QueueStatus(StatusArgs),
    /// Print a shell completion script on stdout (e.g. `imgpar completions bash >
    /// /etc/bash_completion.d/imgpar`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout (e.g. `imgpar man > imgpar.1`).
    Man,
    /// The child side of `--mode process`: reads jobs on stdin, answers on stdout. Started
    /// by imgpar itself, never by a user.
    #[command(hide = true)]
    Worker,
}

/// `imgpar bench`: what to sweep, and the usual image, download and worker flags.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Folders, image files or URL lists, converted in every run (outputs go to a temporary
    /// folder, removed afterwards).
    #[arg(value_name = "INPUT", required_unless_present = "url_lists")]
    pub inputs: Vec<PathBuf>,

    /// Read FILE as a list of URLs, whatever it looks like. May be repeated.
    #[arg(long = "urls", value_name = "FILE")]
    pub url_lists: Vec<PathBuf>,

    /// Modes to sweep; sequential is always run, as the baseline of every speedup.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "sequential,threaded,process,async"
    )]
    pub modes: Vec<Mode>,

    /// Worker counts to sweep: a list (1,2,4) or a range (1..8) [default: 1, 2, 4, ... up
    /// to twice the cores].
    #[arg(short = 'j', long, value_name = "COUNTS", value_parser = parse_counts)]
    pub jobs: Option<WorkerCounts>,

    /// Counted runs per mode and worker count.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,

    /// Uncounted runs before them (to warm the disk cache and the CPU).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub warmup: u32,

    /// Write bench.csv, bench.json and speedup.svg here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub image: ImageArgs,

    #[command(flatten)]
    pub fetch: FetchArgs,

    #[command(flatten)]
    pub workers: WorkerArgs,
}

/// Worker counts for `bench --jobs`, sorted, without repeats.
#[derive(Debug, Clone)]
pub struct WorkerCounts(pub Vec<usize>);

fn parse_counts(text: &str) -> Result<WorkerCounts, String> {
    parse::worker_counts(text).map(WorkerCounts)
}

/// The per-image settings the flags describe.
fn spec(image: &ImageArgs, fetch: &FetchArgs, existing: ExistingOutput) -> Spec {
    let (width, height) = image.target();
    let conversion = Conversion {
        width,
        height,
        fit: image.fit,
        upscale: image.upscale,
        filter: image.filter,
        quality: image.quality,
        avif_speed: image.speed,
        max_pixels: image.max_pixels,
        embedded_thumbnails: !image.no_embedded_thumbnails,
        background: image.background,
        color: image.color,
        keep_metadata: image.keep_metadata,
    };
    Spec {
        conversion,
        existing,
        fetch: fetch.policy(),
    }
}

/// What the command line shows and writes besides the images.
#[derive(Debug, Clone, Default)]
pub struct Presentation {
    /// Print the plan instead of running it.
    pub dry_run: bool,
    /// No progress bar and no summary on stderr.
    pub quiet: bool,
    /// List the files passed over, each with why.
    pub verbose: bool,
    /// Where to write the JSON report, if anywhere.
    pub report: Option<PathBuf>,
    /// Where to write a Chrome trace of the run, if anywhere.
    pub trace: Option<PathBuf>,
    /// Where to draw the run's SVG timeline, if anywhere.
    pub timeline: Option<PathBuf>,
}

impl Cli {
    /// Resolves the arguments into settings, or says in one line why they cannot run.
    pub fn into_config(self) -> Result<(RunConfig, Spec, Presentation), String> {
        let mode = self.mode;
        let limits = self.workers.limits();
        let plan = self.plan;
        if mode != Mode::Async
            && let Some(flag) = plan.fetch.async_flags_given()
        {
            // As --timeout and --worker-memory in a mode that cannot honour them.
            return Err(format!(
                "{flag} needs --mode async: only it runs downloads (or reads) concurrently"
            ));
        }
        let mut inputs: Vec<PathBuf> = plan.paths.iter().map(|p| store::local_path(p)).collect();
        let output = inputs.pop().unwrap_or_default();
        let spec = plan.spec();
        let workers = WorkerCount::chosen(self.jobs)?;
        let run = RunConfig {
            inputs,
            url_lists: plan.url_lists,
            root: plan.root,
            output,
            mode,
            jobs: workers.count,
            workers_from: workers.from,
            format: plan.image.format(),
            limits,
            async_settings: plan.fetch.async_settings(),
            shard: match (self.shard, self.no_shard) {
                (Some(shard), _) => Some(ShardChoice {
                    shard,
                    source: "--shard".into(),
                }),
                (None, true) => None,
                (None, false) => ShardChoice::from_environment(|name| std::env::var(name).ok())?,
            },
            unconditional_store: plan.unconditional_store,
        };
        run.validate()?;
        let presentation = Presentation {
            dry_run: self.dry_run,
            quiet: self.quiet,
            verbose: self.verbose,
            report: self.report,
            trace: self.trace,
            timeline: self.timeline,
        };
        Ok((run, spec, presentation))
    }
}

impl BenchArgs {
    /// Resolves the arguments into a sweep, or says in one line why it cannot run.
    pub fn into_config(self) -> Result<BenchConfig, String> {
        let mut modes = vec![Mode::Sequential];
        for &mode in &self.modes {
            if !modes.contains(&mode) {
                modes.push(mode);
            }
        }
        let worker_counts = match self.jobs {
            Some(WorkerCounts(counts)) => counts,
            None => std::iter::successors(Some(1), |n| Some(n * 2))
                .take_while(|&n| n <= cores() * 2)
                .collect(),
        };
        let mut run_args = self.image.to_args();
        run_args.extend(self.fetch.to_args());
        Ok(BenchConfig {
            inputs: self.inputs,
            url_lists: self.url_lists,
            modes,
            worker_counts,
            repeat: self.repeat as usize,
            warmup: self.warmup as usize,
            out: self.out,
            run_args,
            async_args: self.fetch.async_args(),
            process_args: self.workers.to_args(),
        })
    }
}

#[cfg(test)]
mod tests;
