//! The convert command on a terminal: a progress bar while the run goes, then the summary,
//! the failures and the result files (report, trace, timeline). The library's [`Run`]
//! does the work and prints nothing; everything a user sees is decided here.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Presentation;
use crate::DryRunItem;
use crate::events::Observers;
use crate::events::{Event, Observer};
use crate::exit::ExitCode;
use crate::render::{ChromeTrace, JsonReport, PlanFile, RunFile, Timeline};
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
    if let Some(choice) = &config.shard
        && choice.source != "--shard"
    {
        // Said even under -q: a run that silently converts a quarter of the images
        // because of a variable it inherited looks like a run that lost the rest.
        eprintln!(
            "imgpar: sharded by the environment: shard {}/{} ({}); --no-shard converts the \
             whole plan",
            choice.shard.index, choice.shard.count, choice.source
        );
    }
    let workers = match config.mode {
        crate::Mode::Sequential => 1,
        _ => config.jobs,
    };
    let mut run = Run::from_config(config, spec).cancel_on(cancel);
    if shown.dry_run {
        if let Some(path) = &shown.report {
            run = run.check_writable("plan", path);
        }
        return dry_run(&run, &shown);
    }
    let files = run_files(&shown, workers);
    close_on_second_signal(&files);
    run = checked_writable(run, &files);
    let progress = Progress::new(!shown.quiet);
    let mut observers: Vec<&dyn Observer> = vec![&progress];
    observers.extend(files.iter().map(|(file, _)| file.as_observer()));
    let report = match run.execute_with(&Observers(observers)) {
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
    if let Err(message) = finish_files(&files, &report) {
        return usage_error(&message);
    }
    ExitCode::of_report(&report)
}

/// Runs `work` (a queue's worker, a shard file's task) with the progress bar and the
/// result files `shown` asks for (`workers` running), then prints the outcome and closes
/// the files: the run's exit code, or 2 when a result file cannot be written or `work`
/// cannot start (its message printed).
pub(super) fn presented(
    shown: &Presentation,
    workers: usize,
    work: impl FnOnce(&dyn Observer) -> Result<RunReport, String>,
) -> ExitCode {
    let files = run_files(shown, workers);
    close_on_second_signal(&files);
    for (file, path) in &files {
        let checked = match store::Location::parse(path) {
            Ok(store::Location::Local(_)) => crate::output::check_creatable(path),
            Ok(store::Location::Object(..)) | Err(_) => Ok(()),
        };
        if let Err(e) = checked {
            return usage_error(&format!("cannot write the {} {e}", file.name()));
        }
    }
    let progress = Progress::new(!shown.quiet);
    let mut observers: Vec<&dyn Observer> = vec![&progress];
    observers.extend(files.iter().map(|(file, _)| file.as_observer()));
    let report = match work(&Observers(observers)) {
        Ok(report) => report,
        Err(message) => return usage_error(&message),
    };
    progress.bar.finish_and_clear();
    print_outcome(&report, shown);
    for (file, _) in &files {
        if let Err(message) = file.finish(&report) {
            return usage_error(&format!("cannot write the {}: {message}", file.name()));
        }
    }
    ExitCode::of_report(&report)
}

/// `--dry-run`: the plan on stdout (`input -> output` per image), or as JSON in the
/// `--report` file; nothing converted. Either is written as the plan is read.
fn dry_run(run: &Run, shown: &Presentation) -> ExitCode {
    let plan_file = shown.report.as_deref().map(PlanFile::new);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut stdout_open = true;
    let mut problems = Vec::new();
    let mut verdicts: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let planned = run.dry_run_with(&mut |item| match item {
        DryRunItem::Image(image) => {
            *verdicts.entry(image.verdict()).or_default() += 1;
            match &plan_file {
                Some(file) => file.image(&image),
                None if stdout_open => {
                    let line = match (&image.refused, &image.existing) {
                        (Some(why), _) => writeln!(out, "{} -> refused: {why}", image.input),
                        (None, Some(existing)) => {
                            writeln!(out, "{} -> {} ({existing})", image.input, image.output)
                        }
                        (None, None) => writeln!(out, "{} -> {}", image.input, image.output),
                    };
                    // A closed pipe (`| head`) ends the listing, not the plan.
                    stdout_open = line.is_ok();
                }
                None => {}
            }
        }
        DryRunItem::Problem(problem) => {
            *verdicts.entry("fail").or_default() += 1;
            eprintln!("imgpar: {}: {}", problem.input, problem.error);
            problems.push(problem);
        }
    });
    let _ = out.flush();
    drop(out);
    let mut plan = match planned {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("imgpar: {error}");
            return ExitCode::of_error(&error);
        }
    };
    plan.problems = problems;
    if let Some(file) = &plan_file
        && let Err(message) = file.finish(&plan)
    {
        return usage_error(&format!("cannot write the plan: {message}"));
    }
    if !shown.quiet {
        let shard = plan.shard.as_ref().map_or(String::new(), |s| {
            format!(
                " (shard {}/{} of a plan of {}, chosen by {})",
                s.index, s.count, s.plan_images, s.source
            )
        });
        for note in &plan.notes {
            eprintln!("imgpar: {note}");
        }
        let mut counts: Vec<String> = Vec::new();
        for (verdict, words) in [
            ("convert", "to convert"),
            ("skip", "to skip (done)"),
            ("replace", "to replace"),
            ("fail", "would fail"),
        ] {
            if let Some(n) = verdicts.get(verdict) {
                counts.push(format!("{n} {words}"));
            }
        }
        let counts = if counts.is_empty() {
            String::new()
        } else {
            format!(": {}", counts.join(", "))
        };
        eprintln!(
            "imgpar: dry run: {} planned{shard}{counts}; nothing converted",
            report::count(plan.planned, "image")
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
pub(super) fn print_outcome(report: &RunReport, shown: &Presentation) {
    if !shown.quiet {
        eprint!("{}", report.summary_text_for(shown.verbose));
    }
    for warning in &report.warnings {
        eprintln!("imgpar: warning: {warning}");
    }
    if shown.verbose && report.passed_over > 0 {
        eprintln!("passed over:");
        for line in report.passed_over_list() {
            eprintln!("  {line}");
        }
        print_more(
            report.passed_over,
            report.passed_over_files.len(),
            "files passed over",
        );
    }
    // Sorted by input, as the guide shows them (they are kept in the order they ended).
    let mut failures: Vec<String> = report.failures().collect();
    failures.sort();
    if !failures.is_empty() {
        eprintln!("failed:");
        for line in &failures {
            eprintln!("  {line}");
        }
        print_more(report.failed, failures.len(), "failures");
    }
    if let Some(reason) = &report.inputs_cut {
        eprintln!(
            "imgpar: the inputs could not be read to their end: {reason}\n  the images \
             after that point were not planned; re-run when the inputs can be read (with \
             --skip-existing to keep what was written)"
        );
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

/// Says how many of `all` were not listed (a run keeps the first 1,000 by name).
fn print_more(all: usize, listed: usize, what: &str) {
    if all > listed {
        eprintln!(
            "  ... and {} more {what} (a --report file lists every image)",
            all - listed
        );
    }
}

/// The files the run writes besides images (`--report`, `--trace`, `--timeline`), each
/// with where it goes; each is written as the run goes.
pub(super) fn run_files(
    shown: &Presentation,
    workers: usize,
) -> Vec<(Arc<dyn RunObserverFile>, PathBuf)> {
    let mut files: Vec<(Arc<dyn RunObserverFile>, PathBuf)> = Vec::new();
    if let Some(path) = &shown.report {
        files.push((Arc::new(JsonReport::new(path)), path.clone()));
    }
    if let Some(path) = &shown.trace {
        files.push((Arc::new(ChromeTrace::new(path, workers)), path.clone()));
    }
    if let Some(path) = &shown.timeline {
        files.push((Arc::new(Timeline::new(path)), path.clone()));
    }
    files
}

/// Has each of `files` closed with what it holds if a second Ctrl-C ends the process at
/// once (the command line's runs; a host program handles its own signals).
pub(super) fn close_on_second_signal(files: &[(Arc<dyn RunObserverFile>, PathBuf)]) {
    for (file, _) in files {
        let file = Arc::clone(file);
        super::entry::on_second_signal(Box::new(move || file.close_at_once()));
    }
}

/// `run`, checking before it starts that each of `files` can be written.
pub(super) fn checked_writable(mut run: Run, files: &[(Arc<dyn RunObserverFile>, PathBuf)]) -> Run {
    for (file, path) in files {
        run = run.check_writable(file.name(), path);
    }
    run
}

/// Finishes each of `files` with the run's report; `Err` says which could not be written.
pub(super) fn finish_files(
    files: &[(Arc<dyn RunObserverFile>, PathBuf)],
    report: &RunReport,
) -> Result<(), String> {
    for (file, _) in files {
        file.finish(report)
            .map_err(|message| format!("cannot write the {}: {message}", file.name()))?;
    }
    Ok(())
}

/// A [`RunFile`] that can also be handed over as a plain observer.
pub(super) trait RunObserverFile: RunFile + Send + Sync {
    fn as_observer(&self) -> &dyn Observer;
}

impl<T: RunFile + Send + Sync> RunObserverFile for T {
    fn as_observer(&self) -> &dyn Observer {
        self
    }
}

/// The progress bar, drawn on stderr when it is a terminal and the user did not ask for
/// quiet: count, rate and ETA.
pub(super) struct Progress {
    pub(super) bar: ProgressBar,
}

impl Progress {
    pub(super) fn new(show: bool) -> Progress {
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
