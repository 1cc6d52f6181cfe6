//! How one image ended, as `convert_job` returns it: its status and what it measured.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::failure::{ErrorKind, Failure};
use crate::fetch::FetchInfo;

/// How one image ended. Every planned image ends in exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Ending {
    #[default]
    Ok,
    /// It failed, for this reason.
    Failed(Failure),
    /// It was left alone, for this reason (its output exists).
    Skipped(String),
}

impl Ending {
    /// Which of the three endings it is, without the reason.
    pub fn outcome(&self) -> Outcome {
        match self {
            Ending::Ok => Outcome::Ok,
            Ending::Failed(_) => Outcome::Failed,
            Ending::Skipped(_) => Outcome::Skipped,
        }
    }

    /// The kind of failure, for a failure.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        match self {
            Ending::Failed(failure) => Some(failure.kind),
            _ => None,
        }
    }

    /// A failure of `kind` saying `message`.
    pub fn failed(kind: ErrorKind, message: impl Into<String>) -> Ending {
        Ending::Failed(Failure::new(kind, message))
    }

    /// The reason for a failure or a skip.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Ending::Ok => None,
            Ending::Failed(failure) => Some(&failure.message),
            Ending::Skipped(reason) => Some(reason),
        }
    }
}

/// Milliseconds spent in each stage of one image's work (0 for stages not reached).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimes {
    /// Downloading (URL inputs; in async mode, before a worker took the image).
    pub fetch_ms: f64,
    /// Reading the file.
    pub read_ms: f64,
    /// Decoding, down to gray (and shrunk, where the decoder can).
    pub decode_ms: f64,
    /// Resizing to the output geometry.
    pub resize_ms: f64,
    /// Encoding the output.
    pub encode_ms: f64,
    /// Writing the output file (atomically).
    pub write_ms: f64,
}

/// Milliseconds since `since`: how every stage of a job is timed ([`StageTimes`]).
pub(crate) fn lap(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// What `convert_job` returns for one image: how it ended and what it measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobEnding {
    /// How it ended, with the reason.
    pub ending: Ending,
    /// Bytes read or downloaded.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Width and height as stored in the input, once its header was read.
    pub size_in: Option<(u32, u32)>,
    /// Width and height of the output, once resized.
    pub size_out: Option<(u32, u32)>,
    /// Whether the output was made from the picture or from a rendering its file stores
    /// (then `size_in` is that rendering's size).
    #[serde(default)]
    pub decoded_from: crate::image::DecodedFrom,
    /// Milliseconds in each stage.
    pub times: StageTimes,
    /// How the download went, for a URL input.
    pub fetch: Option<FetchInfo>,
    /// The write failed in a way every later write would too (full disk, read-only
    /// folder): the run should stop.
    #[serde(default)]
    pub output_unusable: bool,
}

impl JobEnding {
    /// The outcome of an image that failed before anything was measured.
    pub fn failed(failure: Failure) -> JobEnding {
        JobEnding {
            ending: Ending::Failed(failure),
            ..JobEnding::default()
        }
    }
}

/// How an image ended, without the reason: `ok`, `failed` or `skipped` in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Converted and written.
    Ok,
    /// Failed; the record says why.
    Failed,
    /// Left alone (its output existed).
    Skipped,
}

impl Outcome {
    /// The word the report uses.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}
