//! Why one image failed, in two forms: a stable kind a program can act on, and a sentence
//! for people. The JSON report carries both (`error_kind`, `error`).

use serde::{Deserialize, Serialize};

/// What kind of failure an image met. Stable names (snake_case in the JSON report); new
/// kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input file could not be read (missing, forbidden, a broken link) or is empty.
    Read,
    /// The URL could not be downloaded (HTTP status, network, timeout, size cap).
    Download,
    /// The server said the image is not to be used this way (`X-Robots-Tag: noai` or
    /// `noimageai`); it was not written.
    OptedOut,
    /// Not an image, or a format or variant imgpar does not read.
    Unsupported,
    /// More pixels than the limit (`Spec::max_pixels`), refused from the header.
    TooManyPixels,
    /// Damaged or truncated image data.
    Corrupt,
    /// Memory ran out while decoding (a worker's memory cap, say).
    OutOfMemory,
    /// The output file already exists (and existing outputs are failures).
    OutputExists,
    /// Under `--skip-existing`, what stands at the output's name is not this input's
    /// output: made from another input or with other settings (its provenance says so),
    /// or not a file at all. It was left alone.
    OutputConflict,
    /// The output could not be written.
    Write,
    /// Still running after the time limit.
    Timeout,
    /// The worker process running it died (process mode).
    WorkerDied,
    /// A bug inside imgpar (a panic) or an encoder failure.
    Internal,
}

/// One image's failure: its kind and the sentence that says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// What kind of failure it is.
    pub kind: ErrorKind,
    /// What is wrong, for people (which file is added by whoever prints it).
    pub message: String,
}

impl Failure {
    /// A failure of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }

    /// Damaged or truncated image data ([`ErrorKind::Corrupt`]), saying `message`.
    pub fn corrupt(message: impl Into<String>) -> Failure {
        Failure::new(ErrorKind::Corrupt, message)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}
