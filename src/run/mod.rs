//! [`Run`]: a whole batch as a library call. It plans the inputs, prepares the output
//! folder, runs the images in the chosen mode and adds up the report. It never prints and
//! writes nothing but the images (and the temporary files of their atomic writes).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::{FormatChoice, Mode, RunConfig, Spec};
use crate::error::Error;
use crate::events::{Collector, Observer, Unobserved};
use crate::exec::JobFeed;
use crate::plan::{PlanSummary, Planned};
use crate::report::{PlanIdentity, RunMeasures, RunReport, ShardRecord};
use crate::shard::ShardChoice;
use crate::store::{self, Location};
use crate::worker_count::WorkersFrom;
use crate::{exec, output, plan, resource_usage};

mod dry_run;
pub(crate) mod prepare;
pub(crate) mod result_files;

pub use dry_run::{DryRun, DryRunItem, Existing, ExistingAction, PlannedImage, PlannedProblem};
use dry_run::{existing, refused};
use prepare::prepare_output;

/// A batch to run, built from defaults: every image under the inputs to a 256x256 gray
/// thumbnail under the output folder, threaded on every core, existing outputs left alone
/// and reported as failures.
///
/// ```no_run
/// use imgpar::{Mode, Run};
/// let report = Run::new(["photos"], "thumbs").mode(Mode::Threaded).jobs(4).execute()?;
/// println!("{} converted, {} failed", report.ok, report.failed);
/// # Ok::<(), imgpar::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Run {
    config: RunConfig,
    spec: Spec,
    cancel: Arc<AtomicBool>,
    result_files: Vec<(String, PathBuf)>,
}

impl Run {
    /// A run of `inputs` (folders, image files, URL lists, `s3://`, `gs://` or `az://`
    /// prefixes) into the folder (or bucket prefix) `output`, with the default settings.
    /// `file://` in front of a path is taken off.
    pub fn new<P: Into<PathBuf>>(
        inputs: impl IntoIterator<Item = P>,
        output: impl Into<PathBuf>,
    ) -> Run {
        let local = |path: PathBuf| store::local_path(&path);
        Run::from_config(
            RunConfig::new(
                inputs.into_iter().map(Into::into).map(local).collect(),
                local(output.into()),
            ),
            Spec::default(),
        )
    }

    /// A run with settings resolved elsewhere (the command line does this).
    pub fn from_config(config: RunConfig, spec: Spec) -> Run {
        Run {
            config,
            spec,
            cancel: Arc::new(AtomicBool::new(false)),
            result_files: Vec::new(),
        }
    }

    /// How the batch is scheduled.
    pub fn mode(mut self, mode: Mode) -> Run {
        self.config.mode = mode;
        self
    }

    /// Number of worker threads or processes (at least 1).
    pub fn jobs(mut self, jobs: usize) -> Run {
        self.config.jobs = jobs.max(1);
        self.config.workers_from = WorkersFrom::Flag;
        self
    }

    /// What to do to every image (size, fit, filter, quality, existing outputs, limits).
    pub fn spec(mut self, spec: Spec) -> Run {
        self.spec = spec;
        self
    }

    /// The output format: the input's own where imgpar writes it, or a fixed one.
    pub fn format(mut self, format: FormatChoice) -> Run {
        self.config.format = format;
        self
    }

    /// Also reads `path` as a URL list, whatever it looks like.
    pub fn url_list(mut self, path: impl Into<PathBuf>) -> Run {
        self.config.url_lists.push(path.into());
        self
    }

    /// Gives up on an image still running after `limit` (process mode stops its worker;
    /// threaded mode leaves its thread behind, and it writes nothing).
    pub fn timeout(mut self, limit: Duration) -> Run {
        self.config.limits.timeout = Some(limit);
        self
    }

    /// Stops handing out images once `flag` is set (the images in progress finish, and
    /// the report says the run was interrupted).
    pub fn cancel_on(mut self, flag: Arc<AtomicBool>) -> Run {
        self.cancel = flag;
        self
    }

    /// Caps each worker process's address space (`Mode::Process` only; other modes refuse
    /// it), so that an image needing more fails alone.
    pub fn worker_memory(mut self, bytes: u64) -> Run {
        self.config.limits.memory = Some(bytes);
        self
    }

    /// Takes only `choice.shard` of the plan (see [`ShardChoice`]): the outputs are named
    /// as in the whole plan, and the report records the shard and what chose it.
    pub fn shard(mut self, choice: ShardChoice) -> Run {
        self.config.shard = Some(choice);
        self
    }

    /// A file the caller will write after the run (a report, say, named `what` in the
    /// error): checked creatable once the output folder exists and before any image, so
    /// that a run does not fail only after its work is done.
    pub fn check_writable(mut self, what: &str, path: impl Into<PathBuf>) -> Run {
        self.result_files.push((what.to_string(), path.into()));
        self
    }

    /// The settings as they stand.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// Runs the batch without telling anyone as it goes. See [`Run::execute_with`].
    pub fn execute(&self) -> Result<RunReport, Error> {
        self.execute_with(&Unobserved)
    }

    /// Runs the batch, telling `observer` of every image as it starts and ends (each
    /// image's record goes to it then, and is not kept). `Err` means the run could not
    /// start and no image was written (the output folder may have been created); every
    /// image that was tried, converted or not, is counted in the `Ok` report. The plan is
    /// streamed to the workers as it is read: memory follows the workers, not the plan.
    pub fn execute_with(&self, observer: &dyn Observer) -> Result<RunReport, Error> {
        let config = &self.config;
        let (planner, output) = self.planner()?;
        result_files::refuse_clashes(config, &output, &self.result_files)
            .map_err(Error::ResultFile)?;
        let made_output = output.local().is_some_and(|path| !path.exists());
        let warnings = prepare_output(&output, config, &self.spec).map_err(Error::Output)?;
        for (what, path) in &self.result_files {
            let checked = match Location::parse(path) {
                Ok(Location::Object(url, _)) => store::probe_result_file(&url, &self.spec.fetch)
                    .map_err(|e| format!("at {url}: {e}")),
                Ok(Location::Local(_)) if path.as_os_str() == "-" => Ok(()),
                Ok(Location::Local(_)) => output::check_creatable(path),
                Err(e) => Err(e),
            };
            if let Err(e) = checked {
                leave_no_folder(made_output, &config.output);
                return Err(Error::ResultFile(format!("cannot write the {what} {e}")));
            }
        }
        let counts = planner.counts();
        let planned = counts.jobs + counts.problems;
        let feed = JobFeed::streamed;
        let (mut report, streamed) = self.execute_fed(
            observer,
            Some(planned),
            counts.jobs,
            feed,
            |sender, events| {
                let stream = || {
                    planner.stream(self.taken_shard(), &mut |item| match item {
                        // Refused once the workers are gone: the rest is only counted.
                        Planned::Job(job) => drop(sender.send(job)),
                        Planned::Problem(path, reason, _) => events.problem(&path, reason),
                        Planned::PassedOver(path, reason) => events.passed_over(&path, reason),
                    })
                };
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(stream))
                    .unwrap_or_else(|_| Err("the plan's reader stopped unexpectedly".into()))
            },
        );
        if let Some(why) = report.unworkable.take() {
            leave_no_folder(made_output, &config.output);
            return Err(Error::Workers(why));
        }
        let summary = match streamed {
            Ok(summary) => summary,
            Err(e) => {
                report.inputs_cut = Some(e);
                PlanSummary::default()
            }
        };
        report.shard = self.shard_record(counts.whole, planned);
        report.plan = Some(self.identity(&output, counts.whole, summary.digest));
        report.warnings = planner.notes().iter().cloned().chain(warnings).collect();
        Ok(report)
    }

    /// Runs the jobs `produce` sends (on a thread of its own, while the executors take
    /// them from the feed `feed` makes of its channel) and adds up the report. `planned`
    /// is the number of images the run will try, if known beforehand (else it is the
    /// number that ended); `jobs` is the number of jobs, for the feed. `produce` gets the
    /// run's events (to report what it finds itself) and returns what it has to say;
    /// its sender is refused once the workers are gone.
    pub(crate) fn execute_fed<T: Send>(
        &self,
        observer: &dyn Observer,
        planned: Option<usize>,
        jobs: usize,
        feed: impl FnOnce(std::sync::mpsc::Receiver<crate::job::Job>, usize) -> JobFeed,
        produce: impl FnOnce(std::sync::mpsc::SyncSender<crate::job::Job>, &Collector) -> T + Send,
    ) -> (RunReport, T) {
        let config = &self.config;
        let events = Collector::new(observer);
        events.planned(planned.unwrap_or(0));
        let (cpu_before, _) = resource_usage::self_usage();
        let (sender, receiver) = std::sync::mpsc::sync_channel(exec::WINDOW);
        let feed = Arc::new(feed(receiver, jobs));
        let (produced, workers) = std::thread::scope(|scope| {
            let events = &events;
            let producer = scope.spawn(move || produce(sender, events));
            let workers =
                exec::execute(config, Arc::clone(&feed), &self.spec, events, &self.cancel);
            feed.close();
            let produced = match producer.join() {
                Ok(produced) => produced,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            (produced, workers)
        });
        let wall_s = events.elapsed_s();
        let (cpu_after, peak_rss_mib) = resource_usage::self_usage();

        let collected = events.finish();
        let measures = RunMeasures {
            mode: config.mode.name(),
            workers,
            wall_s,
            cpu_s: cpu_after - cpu_before,
            peak_rss_mib,
            interrupted: self.cancel.load(Ordering::Relaxed),
            planned: planned.unwrap_or(collected.totals.records),
        };
        let mut report = RunReport::new(measures, &collected.totals, collected.worker_processes);
        report.failures_kept = collected.failures;
        report.stopped = collected.stopped;
        report.unworkable = collected.unworkable;
        report.concurrency = collected.concurrency;
        report.workers_from = config.workers_from;
        (report.passed_over, report.passed_over_files) = collected.passed_over;
        (report, produced)
    }

    /// What the run would do, without converting or writing anything: each image of this
    /// shard (or of the whole plan) with its output, and the inputs that already fail,
    /// held whole (see [`Run::dry_run_with`] for a plan too big to hold).
    pub fn dry_run(&self) -> Result<DryRun, Error> {
        let mut images = Vec::new();
        let mut problems = Vec::new();
        let mut summary = self.dry_run_with(&mut |item| match item {
            DryRunItem::Image(image) => images.push(image),
            DryRunItem::Problem(problem) => problems.push(problem),
        })?;
        summary.images = images;
        summary.problems = problems;
        Ok(summary)
    }

    /// [`Run::dry_run`] streamed: `f` gets each image and problem as the plan is read, in
    /// plan order; the returned [`DryRun`] has the plan's identity and counts, and no
    /// images or problems.
    pub fn dry_run_with(&self, f: &mut dyn FnMut(DryRunItem)) -> Result<DryRun, Error> {
        let (planner, output) = self.planner()?;
        result_files::refuse_clashes(&self.config, &output, &self.result_files)
            .map_err(Error::ResultFile)?;
        prepare::check_output_could_be_made(&output).map_err(Error::Output)?;
        let counts = planner.counts();
        let summary = planner
            .stream(self.taken_shard(), &mut |item| match item {
                Planned::Job(job) => f(DryRunItem::Image(PlannedImage {
                    input: job.input.to_string(),
                    output: job.output.display().to_string(),
                    refused: refused(&job),
                    existing: existing(&job, &self.spec),
                })),
                Planned::Problem(path, reason, _) => f(DryRunItem::Problem(PlannedProblem {
                    input: path.display().to_string(),
                    error: reason,
                })),
                Planned::PassedOver(..) => {}
            })
            .map_err(Error::Input)?;
        let planned = counts.jobs + counts.problems;
        Ok(DryRun {
            plan: self.identity(&output, counts.whole, summary.digest),
            shard: self.shard_record(counts.whole, planned),
            planned,
            images: Vec::new(),
            problems: Vec::new(),
            passed_over: summary.passed_over,
            notes: planner.notes().to_vec(),
        })
    }

    /// The plan (of this shard, or whole), streamed to `f` item by item in plan order;
    /// returns its identity and the number of images it plans (inputs that already
    /// failed included). Nothing is written.
    pub(crate) fn plan_each(
        &self,
        f: &mut dyn FnMut(Planned),
    ) -> Result<(PlanIdentity, usize), Error> {
        let (planner, output) = self.planner()?;
        let counts = planner.counts();
        let summary = planner
            .stream(self.taken_shard(), f)
            .map_err(Error::Input)?;
        let identity = self.identity(&output, counts.whole, summary.digest);
        Ok((identity, counts.jobs + counts.problems))
    }

    /// The conversion settings.
    pub(crate) fn spec_used(&self) -> &Spec {
        &self.spec
    }

    fn taken_shard(&self) -> Option<crate::shard::Shard> {
        self.config.shard.as_ref().map(|choice| choice.shard)
    }

    /// The plan, and the output it writes to (read once, here).
    fn planner(&self) -> Result<(plan::Planner, Location), Error> {
        let config = &self.config;
        config.validate().map_err(Error::Settings)?;
        let output = Location::parse(&config.output).map_err(Error::Input)?;
        let planner = plan::Planner::new(
            &config.inputs,
            &config.url_lists,
            config.root.as_deref(),
            &output,
            config.format,
            self.taken_shard(),
            &self.spec.fetch,
        )
        .map_err(Error::Input)?;
        Ok((planner, output))
    }

    /// The identity of the whole plan (`whole` items, `digest`), with this run's output
    /// and conversion settings.
    fn identity(&self, output: &Location, whole: usize, digest: u128) -> PlanIdentity {
        let output = match output {
            Location::Object(url, _) => url.to_string(),
            // Made absolute, so that tasks started in other folders agree.
            Location::Local(path) => std::fs::canonicalize(path)
                .or_else(|_| std::path::absolute(path))
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string(),
        };
        let settings = PlanIdentity::settings_of(&self.spec, self.config.format);
        PlanIdentity::new(whole, digest, output, settings)
    }

    fn shard_record(&self, whole: usize, planned: usize) -> Option<ShardRecord> {
        self.config.shard.as_ref().map(|choice| ShardRecord {
            index: choice.shard.index,
            count: choice.shard.count,
            source: choice.source.clone(),
            plan_images: whole,
            shard_images: planned,
        })
    }
}

/// A run that ends in an error before converting anything leaves nothing behind: the
/// output folder it `made` is removed, and only while it is empty.
fn leave_no_folder(made: bool, output: &std::path::Path) {
    if made {
        let _ = std::fs::remove_dir(output);
    }
}
