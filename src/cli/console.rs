//! The convert command on a terminal: a progress bar while the run goes, then the summary,
//! the failures and the result files (report, trace, timeline). The library's [`Run`]
//! does the work and prints nothing; everything a user sees is decided here.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Presentation;
use crate::events::{Event, Observer};
use crate::exit::ExitCode;
use crate::render::{ChromeTrace, JsonReport, Render, Timeline};
use crate::report::{self, RunReport};
use crate::{Run, store};

/// Runs the conversion the arguments describe and says how it ended, printing on stderr
/// what a user should see. `cancel` stops it after the images in progress.
pub fn convert(cli: super::Cli, cancel: Arc<AtomicBool>) -> ExitCode {
    let (config, spec, shown) = match cli.into_config() {
        Ok(settings) => settings,
        Err(message) => return usage_error(&message),
    };
    let inputs: Vec<String> = config
        .inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut run = Run::from_config(config, spec).cancel_on(cancel);
    if shown.dry_run {
        return dry_run(&run, &shown);
    }
    for (renderer, path) in result_files(&shown) {
        run = run.check_writable(renderer.name(), path);
    }
    let progress = Progress::new(!shown.quiet);
    let report = match run.execute_with(&progress) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("imgpar: {error}");
            return ExitCode::of_error(&error);
        }
    };
    progress.bar.finish_and_clear();
    if report.planned == 0 && !shown.quiet {
        let prefixes = inputs
            .iter()
            .all(|input| store::ObjectUrl::parse(input).is_some());
        if prefixes && report.passed_over == 0 {
            eprintln!(
                "imgpar: no images found in {}: the prefix holds no objects (is it spelt \
                 right?)",
                inputs.join(", ")
            );
        } else {
            eprintln!(
                "imgpar: no images found in {} ({} other files passed over)",
                inputs.join(", "),
                report.passed_over
            );
        }
    }
    print_outcome(&report, &shown);
    for (renderer, path) in result_files(&shown) {
        let written = renderer
            .render(&report)
            .and_then(|text| store::write_result_file(path, text.as_bytes()));
        if let Err(message) = written {
            return usage_error(&format!("cannot write the {}: {message}", renderer.name()));
        }
    }
    ExitCode::of_report(&report)
}

/// `--dry-run`: the plan on stdout (`input -> output` per image), or as JSON in the
/// `--report` file; nothing converted.
fn dry_run(run: &Run, shown: &Presentation) -> ExitCode {
    let plan = match run.dry_run() {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("imgpar: {error}");
            return ExitCode::of_error(&error);
        }
    };
    if let Some(path) = &shown.report {
        let json = serde_json::to_string_pretty(&plan).expect("a plan always serialises");
        if let Err(message) = store::write_result_file(path, json.as_bytes()) {
            return usage_error(&format!("cannot write the plan: {message}"));
        }
    } else {
        let mut out = std::io::stdout().lock();
        for image in &plan.images {
            let line = match &image.refused {
                Some(why) => writeln!(out, "{} -> refused: {why}", image.input),
                None => writeln!(out, "{} -> {}", image.input, image.output),
            };
            if line.is_err() {
                return ExitCode::Ok;
            }
        }
    }
    for problem in &plan.problems {
        eprintln!("imgpar: {}: {}", problem.input, problem.error);
    }
    if !shown.quiet {
        let shard = plan.shard.as_ref().map_or(String::new(), |s| {
            format!(
                " (shard {}/{} of a plan of {}, chosen by {})",
                s.index, s.count, s.plan_images, s.source
            )
        });
        eprintln!(
            "imgpar: dry run: {} planned{shard}, nothing converted",
            report::count(plan.images.len() + plan.problems.len(), "image")
        );
    }
    ExitCode::Ok
}

pub(super) fn usage_error(message: &str) -> ExitCode {
    eprintln!("imgpar: {message}");
    ExitCode::Usage
}

/// The summary (unless quiet), the files passed over (if verbose), the failures, and why
/// the run stopped early, if it did.
fn print_outcome(report: &RunReport, shown: &Presentation) {
    if !shown.quiet {
        eprint!("{}", report.summary_text());
    }
    for warning in &report.warnings {
        eprintln!("imgpar: warning: {warning}");
    }
    if shown.verbose && report.passed_over > 0 {
        eprintln!("passed over:");
        for line in report.passed_over_list() {
            eprintln!("  {line}");
        }
    }
    let failures: Vec<String> = report.failures().collect();
    if !failures.is_empty() {
        eprintln!("failed:");
        for line in failures {
            eprintln!("  {line}");
        }
    }
    if let Some(reason) = &report.stopped {
        eprintln!(
            "imgpar: stopped early, the output cannot take more files: {reason}\n  \
             {} not started; make room or fix the output folder, then re-run with \
             --skip-existing",
            report::count(report.not_started, "image")
        );
    }
}

/// The files the run writes besides images (`--report`, `--trace`, `--timeline`), each
/// with its renderer.
fn result_files(
    shown: &Presentation,
) -> impl Iterator<Item = (&'static dyn Render<RunReport>, &std::path::Path)> {
    let renderers: [(&'static dyn Render<RunReport>, &Option<std::path::PathBuf>); 3] = [
        (&JsonReport, &shown.report),
        (&ChromeTrace, &shown.trace),
        (&Timeline, &shown.timeline),
    ];
    renderers
        .into_iter()
        .filter_map(|(renderer, path)| Some((renderer, path.as_deref()?)))
}

/// The progress bar, drawn on stderr when it is a terminal and the user did not ask for
/// quiet: count, rate and ETA.
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new(show: bool) -> Progress {
        let target = if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30.cyan/blue} {pos}/{len} images  {rate}  ETA {left}",
            )
            .expect("the template is valid")
            .with_key(
                "left",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    // The largest images go first: until a few are done and a second has
                    // passed, a rate says nothing about the rest.
                    if state.pos() < 2 || state.elapsed() < Duration::from_secs(1) {
                        let _ = write!(w, "-");
                    } else {
                        let _ = write!(w, "{}", indicatif::HumanDuration(state.eta()));
                    }
                },
            )
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.1} images/s", state.per_sec());
                },
            ),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }
}

impl Observer for Progress {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Planned { images } => self.bar.set_length(images as u64),
            Event::Finished { .. } => self.bar.inc(1),
            _ => {}
        }
    }
}
