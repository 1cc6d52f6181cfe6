//! `imgpar plan` and `imgpar run --plan`: the plan written once as shard files, and one
//! shard file converted by a task.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Args;

use super::console::{presented, usage_error};
use super::groups::WorkerArgs;
use super::{PlanArgs, Presentation};
use crate::config::{Mode, RunConfig};
use crate::exit::ExitCode;
use crate::report;
use crate::run::result_files::refuse_clashes;
use crate::shard_files::{self, Row, ShardFile, ShardRunSettings};
use crate::store::Location;
use crate::worker_count::WorkerCount;

/// `imgpar plan INPUT... OUTPUT --shards N --to DIR`: the conversion and input flags of a
/// run, and how many shard files to write where.
#[derive(Debug, Args)]
pub struct PlanCommandArgs {
    /// The inputs, output and conversion flags, as for a run (`imgpar --help`). Paths
    /// are made absolute: tasks may run in other folders, or on other machines that see
    /// the same paths. With --skip-existing (or --overwrite), the tasks leave (or
    /// replace) existing outputs.
    #[command(flatten)]
    pub plan: PlanArgs,

    /// Split the plan into this many shard files (the shards `--shard I/N` would take).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub shards: u64,

    /// The folder (created if missing) or bucket prefix (`s3://`, `gs://`, `az://`) to
    /// write the shard files into: shard-I-of-N.jsonl. `run --plan` reads them from
    /// either.
    #[arg(long, value_name = "DIR|PREFIX")]
    pub to: PathBuf,

    /// No summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `imgpar run --plan FILE`: the task's own flags; what to do to each image comes from
/// the file.
#[derive(Debug, Args)]
pub struct RunPlanArgs {
    /// A shard file written by `imgpar plan` (a file, or an object under a bucket prefix):
    /// its images are converted, and the report is that shard's of the plan.
    #[arg(long, value_name = "FILE")]
    pub plan: PathBuf,

    /// How the batch runs.
    #[arg(long, value_enum, default_value_t = Mode::default())]
    pub mode: Mode,

    /// Number of workers [default: number of cores].
    #[arg(short = 'j', long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub jobs: Option<u32>,

    #[command(flatten)]
    pub workers: WorkerArgs,

    /// Write the run summary and one record per image as JSON to this file.
    #[arg(long, value_name = "FILE.json", conflicts_with = "dry_run")]
    pub report: Option<PathBuf>,

    /// Print the file's images (input -> output, one per line; failed inputs on stderr)
    /// and convert nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// No progress bar and no summary; failures are still printed.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Plans the inputs once and writes the shard files; exit 0 once they are written, 2 when
/// they cannot be (bad inputs, a shard file there already, a folder not writable).
pub fn plan(args: PlanCommandArgs) -> ExitCode {
    let Some(run) = args.plan.run_from_anywhere() else {
        return usage_error("plan needs INPUT... and OUTPUT");
    };
    let written = match Location::parse(&args.to) {
        Ok(Location::Local(dir)) => shard_files::write(&run, args.shards, &dir),
        Ok(Location::Object(prefix, _)) => shard_files::write_to_prefix(&run, args.shards, &prefix),
        Err(message) => return usage_error(&message),
    };
    match written {
        Ok(written) => {
            if !args.quiet {
                eprintln!(
                    "imgpar: {} planned ({} failed before becoming images) into {} in {} \
                     (plan {}); convert each with imgpar run --plan FILE",
                    report::count(written.planned, "image"),
                    written.problems,
                    report::count(written.files.len(), "shard file"),
                    args.to.display(),
                    written.plan.id
                );
            }
            ExitCode::Ok
        }
        Err(message) => usage_error(&message),
    }
}

/// Converts one shard file's images; the exit code is a run's (0 all converted or
/// skipped, 1 some failed, 2 the file or the output cannot be used, 130 interrupted).
pub fn run(args: RunPlanArgs, cancel: Arc<AtomicBool>) -> ExitCode {
    let file = match ShardFile::open(&args.plan) {
        Ok(file) => file,
        Err(message) => return usage_error(&message),
    };
    if args.dry_run {
        return list(&file);
    }
    let settings = ShardRunSettings {
        mode: args.mode,
        workers: match WorkerCount::chosen(args.jobs) {
            Ok(workers) => workers,
            Err(message) => return usage_error(&message),
        },
        limits: args.workers.limits(),
        async_settings: Default::default(),
    };
    // The report as a run checks its result files, before any is opened, the shard file
    // counting as the task's input: it may not be the shard file, nor take an image's
    // name inside the output.
    if let Some(report) = &args.report {
        let output = match Location::parse(&file.output()) {
            Ok(output) => output,
            Err(message) => return usage_error(&message),
        };
        let config = RunConfig::new(vec![file.path().to_path_buf()], file.output());
        let files = [("report".to_string(), report.clone())];
        if let Err(message) = refuse_clashes(&config, &output, &files) {
            return usage_error(&message);
        }
    }
    let shown = Presentation {
        quiet: args.quiet,
        report: args.report,
        ..Presentation::default()
    };
    let workers = match settings.mode {
        Mode::Sequential => 1,
        _ => settings.workers.count,
    };
    presented(&shown, workers, |observer| {
        shard_files::convert(&file, &settings, observer, cancel)
    })
}

/// `run --plan FILE --dry-run`: the file's images on stdout, `input -> output` a line (a
/// closed pipe ends the listing), its failed inputs on stderr; exit 0, or 2 when a row
/// does not read.
fn list(file: &ShardFile) -> ExitCode {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut open = true;
    let listed = file.rows(&mut |row| match row {
        Row::Job(job) if open => {
            open = writeln!(out, "{} -> {}", job.input, job.output.display()).is_ok();
        }
        Row::Job(_) => {}
        Row::Problem(path, error) => eprintln!("imgpar: {}: {error}", path.display()),
    });
    let _ = out.flush();
    match listed {
        Ok(()) => ExitCode::Ok,
        Err(message) => usage_error(&message),
    }
}
