//! A job as JSON, for what crosses a process or a broker.

use crate::paths::{bytes_path, path_bytes};

use serde::{Deserialize, Serialize};

use super::{Input, Job};
use crate::config::OutputFormat;
use crate::store::ObjectUrl;

/// A [`Job`] as it travels to a worker process or through a queue's broker. Paths travel as their raw bytes, so names that are not
/// UTF-8 arrive intact.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireJob {
    pub(crate) index: usize,
    input: WireInput,
    output: Vec<u8>,
    output_root: Vec<u8>,
    format: OutputFormat,
    /// Absent from messages of an older imgpar: no key then.
    #[serde(default)]
    key: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum WireInput {
    File(Vec<u8>),
    Url(String),
    Object(ObjectUrl),
}

impl From<&Job> for WireJob {
    fn from(job: &Job) -> WireJob {
        WireJob {
            index: job.index,
            input: match &job.input {
                Input::File(path) => WireInput::File(path_bytes(path).into_owned()),
                Input::Url(url) => WireInput::Url(url.clone()),
                Input::Object(url) => WireInput::Object(url.clone()),
            },
            output: path_bytes(&job.output).into_owned(),
            output_root: path_bytes(&job.output_root).into_owned(),
            format: job.format,
            key: job.key.clone(),
        }
    }
}

impl From<WireJob> for Job {
    fn from(wire: WireJob) -> Job {
        Job {
            index: wire.index,
            input: match wire.input {
                WireInput::File(bytes) => Input::File(bytes_path(bytes)),
                WireInput::Url(url) => Input::Url(url),
                WireInput::Object(url) => Input::Object(url),
            },
            output: bytes_path(wire.output),
            output_root: bytes_path(wire.output_root),
            format: wire.format,
            key: wire.key,
        }
    }
}
