//! Inputs to jobs: the folder walk, single files, URL lists and bucket prefixes, which
//! files are images, and the output path of each, decided over the whole plan so that
//! every mode and every shard writes the same names. The plan is never held: it is read
//! in passes (the naming's, then the stream a run consumes), one item at a time.

mod guard;
mod item;
mod kinds;
mod names;
#[cfg(test)]
mod names_reference;
mod objects;
mod source;
mod urls;

use std::path::{Path, PathBuf};

use crate::config::{FormatChoice, OutputFormat};
use crate::fetch::FetchPolicy;
use crate::image::formats;
use crate::job::{Input, Job};
use crate::paths::path_bytes;
use crate::shard::Shard;
use crate::store::Location;
pub(crate) use guard::{Place, refuse_replacing_inputs};
use item::Item;
use kinds::InputKind;
use names::{Claimants, Naming};
use source::Inputs;

/// One item of a streamed plan, in plan order.
#[derive(Debug)]
pub enum Planned {
    /// An image to convert, named as in the whole plan, numbered from 0 within the shard.
    Job(Job),
    /// An input that failed before it could become a job, with the reason and its plan
    /// key (which shard it belongs to).
    Problem(PathBuf, String, Vec<u8>),
    /// A file that is neither named nor shaped like an image, with why it is not one
    /// ("text", "a ZIP archive", ...).
    PassedOver(PathBuf, &'static str),
}

/// What a pass of [`Planner::stream`] counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanSummary {
    /// Jobs and problems of the whole plan, before a shard was taken.
    pub whole: usize,
    /// Jobs and problems of this shard (of the whole plan without a shard).
    pub taken: usize,
    /// Files passed over as not images (all of them: they belong to no shard).
    pub passed_over: usize,
    /// A digest of the whole plan (every plan key with its output name, before a shard
    /// was taken): two runs agree on it only when they would write the same outputs from
    /// the same inputs. See [`crate::report::PlanIdentity`].
    pub digest: u128,
}

/// How many items the plan holds, counted before it is streamed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanCounts {
    /// Jobs and problems of the whole plan.
    pub whole: usize,
    /// Jobs of the shard (of the whole plan without one).
    pub jobs: usize,
    /// Problems of the shard.
    pub problems: usize,
}

/// The plan of a run, decided but not held: its inputs, checked, and the few names that
/// are not a job's natural one. [`Planner::stream`] yields it item by item, as often as
/// asked, in the same order with the same names. Memory is a constant plus what the
/// naming keeps (8 bytes per job for each rule while it is decided, then only the shared
/// names), never the jobs.
pub struct Planner {
    inputs: Inputs,
    naming: Naming,
    counts: PlanCounts,
}

impl Planner {
    /// Plans `inputs` (folders, walked recursively; image files; files that are lists of
    /// http(s) URLs; `-` for a URL list on stdin; bucket prefixes) and `url_lists` (read as
    /// URL lists whatever they look like), in the order given, with outputs under
    /// `output`. A folder's images keep their path relative to it, a file named explicitly
    /// takes its file name; below `root`, both keep their path below the root instead. A
    /// file named explicitly is planned even when it is not a regular file (a pipe, say), and is then
    /// not read here; a URL's image is named after its last path segment. Fails, with a
    /// message for the user, when the run cannot start: a missing input, an unreadable
    /// list, an output folder inside an input folder, an output that would replace an
    /// input. Counts the items of `shard` (or of the whole plan) on the way.
    pub fn new(
        inputs: &[PathBuf],
        url_lists: &[PathBuf],
        root: Option<&Path>,
        output: &Location,
        format: FormatChoice,
        shard: Option<Shard>,
        policy: &FetchPolicy,
    ) -> Result<Planner, String> {
        let inputs = Inputs::resolve(inputs, url_lists, root, output, format, policy)?;
        let takes = |key: &[u8]| shard.is_none_or(|shard| shard.takes(key));
        let mut counts: Option<PlanCounts> = None;
        let mut linked_inputs = false;
        let standing_source = |job: &Job| -> Option<String> {
            let destination = job.destination().ok()?;
            let found = destination.standing_blocking(policy).ok()??;
            Some(found.source)
        };
        let naming = Naming::build(
            inputs.has_lists(),
            &standing_source,
            &mut |lists_only, visit| {
                let mut counted = PlanCounts::default();
                inputs.visit(lists_only, &mut |item| match item {
                    Item::Job {
                        mut job,
                        list,
                        linked,
                    } => {
                        linked_inputs |= linked;
                        counted.whole += 1;
                        counted.jobs += usize::from(takes(&job.key));
                        visit(&mut job, list);
                    }
                    Item::Problem { key, .. } => {
                        counted.whole += 1;
                        counted.problems += usize::from(takes(&key));
                    }
                    Item::PassedOver { .. } => {}
                })?;
                if !lists_only && counts.is_none() {
                    counts = Some(counted);
                }
                Ok(())
            },
        )?;
        let planner = Planner {
            inputs,
            naming,
            counts: counts.unwrap_or_default(),
        };
        let (roots, lists) = (planner.inputs.local_roots(), planner.inputs.lists());
        guard::refuse_replacing_inputs(roots, lists, output, linked_inputs, &mut |check| {
            planner.each_job(&mut |job, linked| check(job, linked))
        })?;
        Ok(planner)
    }

    /// What is worth telling about the inputs as given: an input given twice (read once).
    pub fn notes(&self) -> &[String] {
        &self.inputs.notes
    }

    /// The plan's size, and the shard's.
    pub fn counts(&self) -> PlanCounts {
        self.counts
    }

    /// Yields the plan, or the jobs and problems of `shard` (all files passed over either
    /// way), to `f` in plan order: names are those of the whole plan, jobs are numbered
    /// from 0.
    pub fn stream(
        &self,
        shard: Option<Shard>,
        f: &mut dyn FnMut(Planned),
    ) -> Result<PlanSummary, String> {
        let mut summary = PlanSummary::default();
        let mut jobs_digest = xxhash_rust::xxh3::Xxh3::new();
        let mut problems_digest = xxhash_rust::xxh3::Xxh3::new();
        let mut claimants = Claimants::default();
        let takes = |key: &[u8]| shard.is_none_or(|shard| shard.takes(key));
        self.inputs.visit(false, &mut |item| match item {
            Item::Job { mut job, list, .. } => {
                self.naming.name(&mut claimants, &mut job, list);
                for field in [&job.key[..], &key_of(job.output_rel())[..]] {
                    jobs_digest.update(field);
                    jobs_digest.update(&[0]);
                }
                summary.whole += 1;
                if takes(&job.key) {
                    job.index = summary.taken;
                    summary.taken += 1;
                    f(Planned::Job(job));
                }
            }
            Item::Problem { path, reason, key } => {
                problems_digest.update(&key);
                problems_digest.update(&[0]);
                summary.whole += 1;
                if takes(&key) {
                    summary.taken += 1;
                    f(Planned::Problem(path, reason, key));
                }
            }
            Item::PassedOver { path, reason } => {
                summary.passed_over += 1;
                f(Planned::PassedOver(path, reason));
            }
        })?;
        jobs_digest.update(&[0xff]);
        jobs_digest.update(&problems_digest.digest128().to_le_bytes());
        summary.digest = jobs_digest.digest128();
        Ok(summary)
    }

    /// Every job of the whole plan with its name, in plan order, and whether its input's
    /// path may go through a link.
    fn each_job(&self, f: &mut dyn FnMut(&Job, bool)) -> Result<(), String> {
        let mut claimants = Claimants::default();
        self.inputs.visit(false, &mut |item| {
            if let Item::Job {
                mut job,
                list,
                linked,
                ..
            } = item
            {
                self.naming.name(&mut claimants, &mut job, list);
                f(&job, linked);
            }
        })
    }
}

/// A path's bytes, as its plan key: the same on every system, folders separated by `/`
/// (so an output made on Windows carries the provenance the same run makes on Linux).
fn key_of(path: &Path) -> Vec<u8> {
    let bytes = path_bytes(path).into_owned();
    #[cfg(windows)]
    let bytes = bytes
        .into_iter()
        .map(|b| if b == b'\\' { b'/' } else { b })
        .collect();
    bytes
}

fn job_for(input: &Path, rel: &Path, kind: InputKind, output: &Path, format: FormatChoice) -> Job {
    let format = match format {
        FormatChoice::Fixed(f) => f,
        FormatChoice::Same => kind.same_writes(),
    };
    Job {
        index: 0,
        input: Input::File(input.to_path_buf()),
        output: output.join(output_name(rel, format)),
        output_root: output.to_path_buf(),
        format,
        key: key_of(rel),
    }
}

/// `rel` with an extension that fits `format`: kept when it already does (`.JPG` stays
/// `.JPG`), replaced otherwise (`photo.gif` becomes `photo.png`).
fn output_name(rel: &Path, format: OutputFormat) -> PathBuf {
    let fits = rel
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|ext| formats::keeps_extension(format, &ext.to_ascii_lowercase()));
    let named = if fits {
        rel.to_path_buf()
    } else {
        rel.with_extension(format.extension())
    };
    // Checked here, not left to `fit_name`: this runs for every job of every pass.
    match named.file_name() {
        Some(name) if name.len() > names::NAME_MAX => {
            named.with_file_name(names::fit_name(name.to_owned()))
        }
        _ => named,
    }
}

#[cfg(test)]
mod tests;
