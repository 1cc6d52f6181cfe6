//! imgpar: batch grayscale thumbnails with a choice of how the batch runs (sequential, a
//! pool of threads, concurrent downloads feeding a CPU pool, or a pool of worker
//! processes) and an honest report of what that choice bought.
//!
//! As a library:
//! - [`thumbnail`] converts one image, bytes in and bytes out; [`thumbnail_file`] reads a
//!   file as it decodes, in memory that follows the thumbnail, not the picture;
//!   [`thumbnail_pixels`] gives the thumbnail's pixels before they are encoded;
//! - [`Run`] converts a batch (folders, files, URL lists) and returns its [`RunReport`]
//!   without printing anything; an [`Observer`] receives its [`Event`]s as they happen;
//! - [`Error`] says why a run could not start; what happened to each image is in the
//!   report.
//!
//! `Mode::Process` runs each image in a worker process: this program started again with
//! the argument `worker`. A program that embeds imgpar and uses process mode calls
//! [`worker::maybe_serve`] first thing in its `main` (see there).
//!
//! Cargo features: `cli` (the command-line program; default), `http` (URL inputs and
//! `Mode::Async`), `cloud` (object storage), `queue` (broker-fed workers: [`queue`]),
//! `bench` (`imgpar bench` and the SVG plots). With none, the image
//! pipeline and the sequential, threaded and process runners.
//!
//! The flow is one way: settings -> plan -> exec (mode) -> `convert_job` -> outcome ->
//! report.
//!
//! imgpar runs on Unix systems (Linux, macOS, the BSDs) and on Windows. On Unix its
//! outputs are written through folder descriptors (`openat`, `renameat2` where the kernel
//! has it) so that no link in the output folder is followed, paths are taken as bytes, and
//! process mode's workers are limited with `setrlimit`; Linux-only calls are marked
//! `target_os = "linux"`, with the portable Unix way beside them. Windows' own mechanisms
//! (file identity, the console's Ctrl-C, process usage) are in one room, `windows`.
#![warn(missing_docs)]

#[cfg(not(any(unix, windows)))]
compile_error!("imgpar builds on Unix systems (Linux, macOS, the BSDs) and on Windows");

#[cfg(feature = "bench")]
#[doc(hidden)]
pub mod bench;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
mod config;
mod error;
mod events;
mod exec;
#[cfg(feature = "cli")]
mod exit;
mod failure;
mod fetch;
mod hashes;
mod image;
mod job;
mod outcome;
mod output;
mod paths;
mod pipeline;
mod plan;
#[cfg(feature = "queue")]
pub mod queue;
#[cfg(any(feature = "cli", feature = "bench"))]
mod render;
mod report;
mod resource_usage;
mod run;
mod shard;
pub mod shard_files;
mod store;
mod thumbnail;
#[cfg(windows)]
mod windows;
pub mod worker;
mod worker_count;

// One image.
pub use job::provenance::without_provenance;
pub use thumbnail::{Pixels, Thumbnail, thumbnail, thumbnail_file, thumbnail_pixels};

// What is done to an image, and how a batch runs.
pub use config::{
    AsyncSettings, Background, Conversion, ExistingOutput, Filter, Fit, FormatChoice, Mode,
    OutputFormat, RunConfig, Spec, UnconditionalStore, WorkerLimits,
};
pub use fetch::{FetchInfo, FetchPolicy};
pub use shard::{Shard, ShardChoice};

// A batch: the run, what it sees as it goes, and what it reports.
pub use events::{Event, Observer, Observers, Unobserved};
pub use image::DecodedFrom;
pub use job::Input;
pub use outcome::{Outcome, StageTimes};
pub use report::{
    MergedReport, MergedShard, PassedOver, Record, ReportInput, RunReport, ShardRecord,
    WorkerRecord, merge,
};
pub use run::{DryRun, DryRunItem, Existing, ExistingAction, PlannedImage, PlannedProblem, Run};
pub use store::ObjectUrl;
pub use worker_count::{JOBS_VARIABLE, WorkerCount, WorkersFrom};

// What went wrong: a run that could not start, or one image.
pub use error::Error;
pub use failure::{ErrorKind, Failure};

/// Not part of the API: the pieces imgpar's own binary, benches, examples and fuzz target
/// reach into. They may change in any release.
#[doc(hidden)]
pub mod internals {
    pub use crate::image::formats::markdown_table as formats_table;
    pub use crate::image::pixels::profile;
    pub use crate::image::{Decoded, decode, encode, gray, resize};
    pub use crate::job::{Input, Job, convert_job, quiet_panics_in_jobs};
}
