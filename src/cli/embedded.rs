//! imgpar for a program that embeds it and speaks the command line's flags (the Python
//! package): one image's settings, or a whole run, from the flags a user would type,
//! checked exactly as the command line checks them; nothing is printed.

use std::ffi::OsString;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;

use super::console::{checked_writable, finish_files, run_files};
use super::{Cli, FetchArgs, ImageArgs};
use crate::config::{ExistingOutput, FormatChoice, Spec};
use crate::events::Observer;
use crate::events::Observers;
use crate::exit::ExitCode;
use crate::report::RunReport;
use crate::run::Run;
use crate::shard_files::PlanLines;

/// The image flags alone (`--size`, `--format`, `--quality`, ...), as the conversion
/// takes them.
#[derive(Debug, Parser)]
#[command(name = "imgpar", no_binary_name = true)]
struct ConversionFlags {
    #[command(flatten)]
    image: ImageArgs,
    #[command(flatten)]
    fetch: FetchArgs,
}

/// The settings of one conversion from its flags (e.g. `["--size", "128x128", "--format",
/// "jpeg"]`): the [`Spec`] and the format choice a run with these flags uses. `Err` is the
/// message the command line prints for the same flags.
pub fn conversion_from_flags(flags: &[String]) -> Result<(Spec, FormatChoice), String> {
    let parsed = ConversionFlags::try_parse_from(flags).map_err(|e| clap_message(&e))?;
    let spec = super::spec(&parsed.image, &parsed.fetch, ExistingOutput::Fail);
    Ok((spec, parsed.image.format()))
}

/// Why a run from flags did not start or could not write its result files: what the
/// command line would print, and its exit code ([`ExitCode::of_error`]: 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFailure {
    /// One line saying what is wrong.
    pub message: String,
    /// The command line's exit code for it.
    pub code: i32,
}

/// Runs the conversion that `args` (the command line's arguments without the program
/// name: inputs, output and flags) describe, as `imgpar` would, but prints nothing: the
/// `--report`, `--trace` and `--timeline` files are written as the command line writes
/// them, and `observer` sees every event. `cancel` winds the run down after the images in
/// progress. Subcommands and `--dry-run` are refused.
pub fn run_from_flags(
    args: &[OsString],
    observer: &dyn Observer,
    cancel: Arc<AtomicBool>,
) -> Result<RunReport, RunFailure> {
    let usage = |message: String| RunFailure {
        message,
        code: ExitCode::Usage.code(),
    };
    let mut argv = vec![OsString::from("imgpar")];
    argv.extend(args.iter().cloned());
    let cli = Cli::try_parse_from(argv).map_err(|e| usage(clap_message(&e)))?;
    if cli.command.is_some() {
        return Err(usage(
            "a run takes inputs and an output, not a subcommand".into(),
        ));
    }
    let (config, spec, shown) = cli.into_config().map_err(usage)?;
    if shown.dry_run {
        return Err(usage("a dry run is not a run: leave out --dry-run".into()));
    }
    let workers = match config.mode {
        crate::Mode::Sequential => 1,
        _ => config.jobs,
    };
    let files = run_files(&shown, workers);
    let run = checked_writable(Run::from_config(config, spec).cancel_on(cancel), &files);
    let mut observers: Vec<&dyn Observer> = vec![observer];
    observers.extend(files.iter().map(|(file, _)| file.as_observer()));
    let report = run
        .execute_with(&Observers(observers))
        .map_err(|error| RunFailure {
            message: error.to_string(),
            code: ExitCode::of_error(&error).code(),
        })?;
    finish_files(&files, &report).map_err(usage)?;
    Ok(report)
}

/// The inputs, output and conversion flags of a run, as `imgpar plan` takes them.
#[derive(Debug, Parser)]
#[command(name = "imgpar", no_binary_name = true)]
struct PlanFlags {
    #[command(flatten)]
    plan: super::PlanArgs,
}

/// Plans the run that `args` describe (inputs, output and the conversion, input and
/// existing-output flags, as `imgpar plan` takes them; local paths made absolute) once:
/// each row's line goes to `row` in plan order, and the header and end are returned, as
/// `imgpar plan --shards 1` would write them. Nothing is converted or written. `Err` is
/// what the command line prints for the same arguments.
pub fn plan_from_flags(
    args: &[OsString],
    row: &mut dyn FnMut(String),
) -> Result<PlanLines, RunFailure> {
    let usage = |message: String| RunFailure {
        message,
        code: ExitCode::Usage.code(),
    };
    let parsed = PlanFlags::try_parse_from(args).map_err(|e| usage(clap_message(&e)))?;
    let run = parsed
        .plan
        .run_from_anywhere()
        .ok_or_else(|| usage("a plan needs INPUT... and OUTPUT".into()))?;
    crate::shard_files::plan_lines(&run, row).map_err(usage)
}

/// clap's error as one message, without its "error: " prefix, its usage block and its
/// help hint: e.g. `invalid value 'x' for '--fit <FIT>' [possible values: contain, cover,
/// fill]`.
fn clap_message(error: &clap::Error) -> String {
    let text = error.to_string();
    let said: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .filter(|line| !line.is_empty())
        .collect();
    let message = said.join(" ");
    message
        .strip_prefix("error: ")
        .unwrap_or(&message)
        .to_string()
}
