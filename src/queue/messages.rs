//! What a queue holds: the plan's settings once, one message per image, and one record
//! per image done (the report record, as JSON).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Spec, UnconditionalStore};
use crate::job::{Job, WireJob};
use crate::report::PlanIdentity;

/// The format name settings carry; a worker refuses settings of another format.
pub const SETTINGS_FORMAT: &str = "imgpar-queue-1";

/// A plan's settings, published once by `imgpar enqueue` and read by every worker: what
/// to do to each image (the enqueueing run's flags, not the worker's), where the outputs
/// go, and the plan's identity, against which completion is proven.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueSettings {
    /// [`SETTINGS_FORMAT`].
    pub format: String,
    /// The whole plan's identity (images, names, output, conversion settings).
    pub plan: PlanIdentity,
    /// Images planned: every image of the plan, and every input that failed before it
    /// became one (recorded failed by the enqueue itself).
    pub planned: usize,
    /// What to do to every image, and with an existing output.
    pub spec: Spec,
    /// The output folder (absolute) or bucket prefix, as path bytes.
    pub output: Vec<u8>,
    /// What to do when the output's store ignores create-only writes.
    pub unconditional_store: UnconditionalStore,
}

impl QueueSettings {
    /// The output folder or prefix.
    pub fn output_path(&self) -> PathBuf {
        crate::paths::bytes_path(self.output.clone())
    }
}

/// One image's message: its id in the queue and the job.
#[derive(Debug, Serialize, Deserialize)]
pub struct ImageMessage {
    /// The image's id, the same in every plan that names its output the same.
    pub id: String,
    /// The job: input, output, format.
    pub job: WireJob,
}

impl ImageMessage {
    /// The message of `job`.
    pub fn of(job: &Job) -> ImageMessage {
        ImageMessage {
            id: image_id(&job.output),
            job: WireJob::from(job),
        }
    }
}

/// The id of the image written to `output`: output names are one-to-one over a plan, so
/// an id stands for one image of it (32 hex digits: xxh3-128 of the name's bytes).
pub fn image_id(output: &Path) -> String {
    let bytes = crate::paths::path_bytes(output);
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes))
}

/// The id of an input that failed before it became an image (`input` is its path).
pub fn problem_id(input: &Path) -> String {
    let mut bytes = b"problem\0".to_vec();
    bytes.extend_from_slice(&crate::paths::path_bytes(input));
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes))
}
