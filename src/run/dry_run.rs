//! What a dry run hands over: each image with its output, and the inputs that already
//! fail.

use serde::Serialize;

use crate::config::Spec;
use crate::image::{decode, formats};
use crate::job::{Input, Job};
use crate::outcome::Ending;
use crate::report::{PlanIdentity, ShardRecord};

/// One item of a streamed dry run ([`crate::Run::dry_run_with`]).
#[derive(Debug, Clone)]
pub enum DryRunItem {
    /// An image the run would convert.
    Image(PlannedImage),
    /// An input that already fails.
    Problem(PlannedProblem),
}

/// What [`crate::Run::dry_run`] found: the plan of this run, nothing converted.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    /// The identity of the whole plan (as a run's report gives it).
    pub plan: PlanIdentity,
    /// The shard taken, if any, with the plan's size and this shard's.
    pub shard: Option<ShardRecord>,
    /// Images this run would try (of its shard), problems included.
    pub planned: usize,
    /// Each image this run would convert, in plan order (empty from
    /// [`crate::Run::dry_run_with`], which hands them over one at a time).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<PlannedImage>,
    /// Inputs that fail before any work (unreadable folder entries), with the reason.
    pub problems: Vec<PlannedProblem>,
    /// Files passed over as not images.
    pub passed_over: usize,
    /// What is worth telling about the inputs as given (one given twice, read once).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One image of a [`DryRun`].
#[derive(Debug, Clone, Serialize)]
pub struct PlannedImage {
    /// The file path or URL it is read from.
    pub input: String,
    /// Where its output would be written.
    pub output: String,
    /// Why it will fail before it is decoded: its name (a format imgpar names but does not
    /// read) or, for a file, its first bytes (not an image, an unread format) say so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// What the run would do with an output already standing at its name, when one
    /// stands there (in the plan file: `skip: why`, `fail: why`, `replace: why`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing: Option<Existing>,
}

impl PlannedImage {
    /// What the run would do with it, in a word: `convert`, `skip`, `fail` or `replace`.
    pub fn verdict(&self) -> &'static str {
        match (&self.refused, &self.existing) {
            (Some(_), _) => "fail",
            (None, Some(existing)) => existing.action.word(),
            (None, None) => "convert",
        }
    }
}

/// What a run does with an output that already stands at an image's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistingAction {
    /// Leaves it and skips the image (`--skip-existing`, made from this input).
    Skip,
    /// Fails the image and leaves the output alone.
    Fail,
    /// Replaces it (`--overwrite`).
    Replace,
}

impl ExistingAction {
    /// The word the plan and the summary use.
    pub fn word(self) -> &'static str {
        match self {
            ExistingAction::Skip => "skip",
            ExistingAction::Fail => "fail",
            ExistingAction::Replace => "replace",
        }
    }
}

/// An output standing at an image's name: what the run would do with it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// What the run would do.
    pub action: ExistingAction,
    /// Why, in words.
    pub why: String,
}

impl std::fmt::Display for Existing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.action.word(), self.why)
    }
}

/// In the plan file, one string: `skip: made from this input with these settings`.
impl Serialize for Existing {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why the input of `job` fails before it is decoded: by its name, or for a local file by
/// its first bytes, as the run would find.
pub(super) fn refused(job: &Job) -> Option<String> {
    let extension = job.input.extension();
    if let Input::File(path) = &job.input {
        let mut head = Vec::with_capacity(4096);
        let read = std::fs::File::open(path).and_then(|file| {
            std::io::Read::read_to_end(&mut std::io::Read::take(file, 4096), &mut head)
        });
        return match read {
            Ok(_) => decode::refusal_of(&head, extension).map(|f| f.message),
            Err(e) => Some(format!("cannot read it: {e}")),
        };
    }
    let extension = extension?;
    formats::by_extension(extension)?.refusal()
}

/// What the run would do with an output that stands at `job`'s name under `spec`, if one
/// stands there.
pub(super) fn existing(job: &Job, spec: &Spec) -> Option<Existing> {
    let destination = job.destination().ok()?;
    if !destination.exists_blocking(spec).ok()? {
        return None;
    }
    let (action, why) = match job.existing_outcome(spec) {
        Ok(()) => (ExistingAction::Replace, "--overwrite".to_string()),
        Err(Ending::Skipped(_)) => (
            ExistingAction::Skip,
            "made from this input with these settings".to_string(),
        ),
        Err(ending) => (
            ExistingAction::Fail,
            ending.reason().unwrap_or("").to_string(),
        ),
    };
    Some(Existing { action, why })
}

/// An input of a [`DryRun`] that already fails.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedProblem {
    /// The path found.
    pub input: String,
    /// Why it fails.
    pub error: String,
}
