//! `imgpar run --plan FILE`: one shard file's rows converted, as a run converts its
//! plan's, and reported as that shard of the plan.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::read::{Row, ShardFile};
use crate::config::{AsyncSettings, ExistingOutput, FormatChoice, Mode, RunConfig, WorkerLimits};
use crate::events::Observer;
use crate::exec::JobFeed;
use crate::plan::refuse_replacing_inputs;
use crate::report::{RunReport, ShardRecord};
use crate::run::Run;
use crate::run::prepare::prepare_output;
use crate::store::Location;
use crate::worker_count::WorkerCount;

/// How a shard file's rows run: the task's own flags (what to do to each image comes
/// from the file).
#[derive(Debug, Clone)]
pub struct ShardRunSettings {
    /// How the images are scheduled.
    pub mode: Mode,
    /// Workers (threads or processes), and what decided their number.
    pub workers: WorkerCount,
    /// Limits on worker processes, and per-image timeouts.
    pub limits: WorkerLimits,
    /// The async mode's fetching.
    pub async_settings: AsyncSettings,
}

/// Converts the rows of `file` (every guarantee of a run: outputs committed atomically
/// and create-only, the file's existing-output policy, a record per image; without
/// `--skip-existing` or `--overwrite`, an existing output holding exactly the bytes its
/// image converts to counts as converted, so a task run again fails nothing), telling
/// `observer` of each image as it starts and ends. The report is that of the file's shard
/// of the plan: the plan's identity and the shard's counts, so that `merge-reports` adds
/// the shards' reports up. `Err` when nothing could start (the output unusable, the
/// workers not startable); rows that do not read after the start end the report with
/// `inputs_cut`.
pub fn convert(
    file: &ShardFile,
    settings: &ShardRunSettings,
    observer: &dyn Observer,
    cancel: Arc<AtomicBool>,
) -> Result<RunReport, String> {
    let header = &file.header;
    let config = RunConfig {
        mode: settings.mode,
        jobs: settings.workers.count.max(1),
        workers_from: settings.workers.from,
        limits: settings.limits,
        async_settings: settings.async_settings,
        unconditional_store: header.unconditional_store,
        format: FormatChoice::Same,
        ..RunConfig::new(Vec::new(), file.output())
    };
    // A task run again (retried after a crash, or run twice by an engine) finds the
    // outputs it wrote: one holding the bytes its image converts to counts as converted,
    // as for a queue's worker; one holding other bytes fails and is left alone.
    let mut spec = header.spec.clone();
    if spec.existing == ExistingOutput::Fail {
        spec.existing = ExistingOutput::Identical;
    }
    let output = Location::parse(&config.output)?;
    // `imgpar plan` refused outputs that would replace an input; with --overwrite, what
    // the paths lead to is checked again (links made since, a file edited by hand).
    if spec.existing == ExistingOutput::Overwrite {
        refuse_replacing_inputs(
            std::iter::empty(),
            std::iter::empty(),
            &output,
            true,
            &mut |visit| {
                file.rows(&mut |row| {
                    if let Row::Job(job) = row {
                        visit(&job, true);
                    }
                })
            },
        )?;
    }
    let warnings = prepare_output(&output, &config, &spec)?;
    let run = Run::from_config(config, spec).cancel_on(cancel);
    let planned = file.images();
    let (mut report, read) = run.execute_fed(
        observer,
        Some(planned),
        file.end.jobs,
        JobFeed::streamed,
        |sender, events| {
            file.rows(&mut |row| match row {
                // Refused once the workers are gone: the rest is only read.
                Row::Job(job) => drop(sender.send(job)),
                Row::Problem(path, error) => events.problem(&path, error),
            })
        },
    );
    if let Some(why) = report.unworkable.take() {
        return Err(why);
    }
    if let Err(e) = read {
        report.inputs_cut = Some(e);
    }
    let (index, count) = file.shard();
    report.shard = Some(ShardRecord {
        index,
        count,
        source: file.source().into(),
        plan_images: file.end.plan_images,
        shard_images: planned,
    });
    report.plan = Some(file.end.plan.clone());
    report.warnings = warnings;
    Ok(report)
}
