//! imgpar: batch grayscale thumbnails with a choice of how the batch runs (sequential, a
//! pool of threads, or a pool of worker processes) and an honest report of what that
//! choice bought.
//!
//! `--mode process` starts this program again with the hidden argument `worker`; a program
//! that embeds this library and uses [`config::Mode::Process`] must hand that argument to
//! [`exec::worker::serve`].
//!
//! The flow is one way: [`cli`] -> [`config`] -> [`plan`] -> [`exec`] -> [`job::process_job`]
//! -> [`report`]. [`run`] drives it; the binary only parses arguments and maps the result to
//! an exit code.

pub mod bench;
pub mod cli;
pub mod config;
pub mod events;
pub mod exec;
pub mod exit;
pub mod fetch;
pub mod image;
pub mod job;
pub mod output;
pub mod plan;
pub mod report;
pub mod timeline;
pub mod trace;
pub mod usage;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::{RunConfig, Spec};
use crate::events::Collector;
use crate::report::{Record, RunMeasures, RunReport};

/// Runs a whole batch: plans it, checks the output folder, executes it in the chosen mode,
/// prints the summary and failures on stderr and writes the JSON report if asked.
/// `Err` means the run could not start (nothing was written) or, after a finished run, that
/// the JSON report could not be written; the message says which.
/// Setting `cancel` stops the run after the images in progress.
pub fn run(config: &RunConfig, spec: &Spec, cancel: &AtomicBool) -> Result<RunReport, String> {
    let mut plan = plan::plan(
        &config.inputs,
        &config.url_lists,
        &config.output,
        config.format,
    )?;
    prepare_output(&config.output)?;
    // After the output folder exists (a report may go inside it), before any image.
    for (what, path) in result_files(config) {
        output::check_creatable(path).map_err(|e| format!("cannot write the {what} {e}"))?;
    }
    if plan.jobs.is_empty() && plan.problems.is_empty() && !config.quiet {
        let inputs: Vec<String> = config
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        eprintln!(
            "imgpar: no images found in {} ({} other files passed over)",
            inputs.join(", "),
            plan.ignored
        );
    }

    plan::largest_first(&mut plan.jobs);
    let (cpu_before, _) = usage::self_usage();
    let events = Collector::new(plan.jobs.len(), !config.quiet);
    let workers = exec::execute(config, &plan.jobs, spec, &events, cancel);
    let wall_s = events.elapsed_s();
    let (cpu_after, peak_rss_mib) = usage::self_usage();

    let planned = plan.jobs.len() + plan.problems.len();
    let mut records: Vec<Record> = plan
        .problems
        .into_iter()
        .map(|(path, reason)| Record::problem(&path, reason))
        .collect();
    let collected = events.finish();
    records.extend(collected.images);
    let measures = RunMeasures {
        mode: config.mode.name(),
        workers,
        wall_s,
        cpu_s: cpu_after - cpu_before,
        peak_rss_mib,
        interrupted: cancel.load(Ordering::Relaxed),
        planned,
    };
    let stopped = collected.stopped;
    let mut report = RunReport::new(measures, records, collected.worker_processes);
    report.stopped = stopped;

    if !config.quiet {
        eprint!("{}", report.summary_text());
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
    for (what, path) in result_files(config) {
        let text = match what {
            "report" => report.to_json(),
            "trace" => trace::chrome_trace(&report),
            _ => timeline::timeline_svg(&report)?,
        };
        output::write_atomic(path, text.as_bytes(), true)
            .map_err(|e| format!("cannot write the {what}: {}", e.message))?;
    }
    Ok(report)
}

/// The files the run writes besides images (`--report`, `--trace`, `--timeline`), each
/// with the word for it.
fn result_files(config: &RunConfig) -> impl Iterator<Item = (&'static str, &std::path::Path)> {
    [
        ("report", &config.report),
        ("trace", &config.trace),
        ("timeline", &config.timeline),
    ]
    .into_iter()
    .filter_map(|(what, path)| Some((what, path.as_deref()?)))
}

/// Creates the output folder and proves it writable before any image is touched, so an
/// unusable output stops the run once instead of failing every image. Temporary files an
/// earlier, killed run left there are removed.
fn prepare_output(output: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(output)
        .map_err(|e| format!("cannot create output folder {}: {e}", output.display()))?;
    output::builder()
        .tempfile_in(output)
        .map(drop)
        .map_err(|e| format!("output folder {} is not writable: {e}", output.display()))?;
    output::remove_leftover_temp_files(output);
    Ok(())
}

/// The exit code for a finished run: interrupted, stopped by an unusable output, some
/// failed, or all done.
pub fn exit_code(report: &RunReport) -> i32 {
    if report.interrupted {
        exit::INTERRUPTED
    } else if report.stopped.is_some() {
        exit::OUTPUT_UNUSABLE
    } else if report.failed > 0 {
        exit::SOME_FAILED
    } else {
        exit::OK
    }
}
