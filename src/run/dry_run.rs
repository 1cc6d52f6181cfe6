//! What a dry run hands over: each image with its output, and the inputs that already
//! fail.

use serde::Serialize;

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
}

/// One image of a [`DryRun`].
#[derive(Debug, Clone, Serialize)]
pub struct PlannedImage {
    /// The file path or URL it is read from.
    pub input: String,
    /// Where its output would be written.
    pub output: String,
    /// Why it will fail unread, when its name alone says so (a camera RAW file, a format
    /// imgpar names but does not read); a file named like an image is read to know more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// Why an input named `name` fails unread, going by its extension alone.
pub(super) fn refused_by_name(name: &str) -> Option<String> {
    let extension = std::path::Path::new(name.rsplit('/').next()?)
        .extension()?
        .to_str()?;
    crate::image::formats::by_extension(extension)?.refusal(extension)
}

/// An input of a [`DryRun`] that already fails.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedProblem {
    /// The path found.
    pub input: String,
    /// Why it fails.
    pub error: String,
}
