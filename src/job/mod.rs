//! One image's work, the same in every mode: [`convert_job`] gets the input's content
//! ([`Input::obtain_blocking`]: reads the file, downloads the URL, gets the object), runs
//! the [`crate::pipeline`] (decode, gray, resize, encode) and puts the output at its
//! [`Destination`] (a file written atomically, or an object put create-only), and always
//! returns exactly one [`JobEnding`]. The async mode gets the content itself,
//! concurrently ([`Input::obtain`]), and hands it to [`convert_obtained`], which does the
//! rest the same way.

mod convert;
mod destination;
mod gate;
mod input;
pub(crate) mod provenance;
mod wire;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::OutputFormat;
use crate::store::ObjectUrl;

pub(crate) use convert::panic_text;
#[cfg(feature = "http")]
pub use convert::{
    Converted, PendingCommit, commit_converted, convert_obtained, convert_obtained_for_upload,
    existing_output_async,
};
pub use convert::{convert_job, convert_job_gated, quiet_panics_in_jobs};
#[cfg(feature = "http")]
pub use destination::Destination;
pub use destination::SKIPPED_UNVERIFIED;
pub use gate::CommitGate;
pub use input::Obtained;
pub use wire::WireJob;

/// Where one image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file (or a pipe or device named directly).
    File(PathBuf),
    /// An http or https URL, as written in the list.
    Url(String),
    /// An object in a bucket (`s3://`, `gs://`, `az://`).
    Object(ObjectUrl),
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::File(path) => write!(f, "{}", path.display()),
            Input::Url(url) => f.write_str(url),
            Input::Object(url) => write!(f, "{url}"),
        }
    }
}

/// One image to convert: where it is read from and where its output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Position in the plan; outcomes are reported in this order.
    pub index: usize,
    /// Where the image comes from.
    pub input: Input,
    /// The output file: `output_root` joined with a relative path that stays inside it.
    pub output: PathBuf,
    /// The output folder the run writes into; the write never leaves it.
    pub output_root: PathBuf,
    /// The format the output is written in.
    pub format: OutputFormat,
    /// The input's plan key: its path below the input folder it was found in, its name
    /// when named directly, its URL, or its key below the bucket prefix. It names the
    /// input in the provenance its output carries, so that a re-run from another working
    /// folder still knows its own outputs (empty for a job made outside a plan).
    pub key: Vec<u8>,
}

impl Job {
    /// The output path relative to the output folder.
    pub fn output_rel(&self) -> &Path {
        // The plan makes `output` as `output_root` joined with the name, so the name is
        // the rest after the root's bytes and a separator: no need to compare components
        // (the planner asks for every job's name several times).
        if let Some(rest) = crate::paths::rest_after(&self.output, &self.output_root) {
            return rest;
        }
        self.output
            .strip_prefix(&self.output_root)
            .unwrap_or(&self.output)
    }
}

use crate::outcome::lap;
