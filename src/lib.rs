//! imgpar: batch grayscale thumbnails with a choice of how the batch runs (sequential, a
//! pool of threads, concurrent downloads feeding a CPU pool, or a pool of worker
//! processes) and an honest report of what that choice bought.
//!
//! As a library: [`Run`] converts a batch and returns its [`RunReport`] without printing
//! anything; [`Observer`] receives its events as they happen.
//!
//! `Mode::Process` starts this program again with the hidden argument `worker`; a program
//! that embeds this library and uses it must hand that argument to
//! [`exec::worker::serve`].
//!
//! The flow is one way: [`cli`] -> [`config`] -> [`plan`] -> [`exec`] -> [`job::process_job`]
//! -> [`report`]. The binary only parses arguments and maps the result to an exit code.

pub mod bench;
pub mod cli;
pub mod config;
mod error;
pub mod events;
pub mod exec;
pub mod exit;
pub mod fetch;
pub mod image;
pub mod job;
pub mod output;
pub mod plan;
pub mod report;
mod run;
mod thumbnail;
pub mod timeline;
pub mod trace;
pub mod usage;

pub use config::{ExistingOutput, Fit, FormatChoice, Mode, OutputFormat, Spec};
pub use error::Error;
pub use events::{Event, Observer};
pub use report::RunReport;
pub use run::Run;
pub use thumbnail::{Thumbnail, thumbnail};
