//! What crosses the pipes between imgpar and its worker processes: one JSON object per
//! line, small messages only (paths and outcomes, never image bytes).

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::{OutputFormat, Spec};
use crate::job::{Input, Job};
use crate::outcome::JobOutcome;
use crate::store::ObjectUrl;

/// A message from imgpar to a worker.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToWorker {
    /// The first message: what to do to every image.
    Spec(Spec),
    /// Run this job after those already sent.
    Job(WireJob),
    /// Finish the running job, start no other, and exit.
    Stop,
}

/// A message from a worker to imgpar.
#[derive(Debug, Serialize, Deserialize)]
pub enum FromWorker {
    /// The spec arrived; the worker takes jobs from now on.
    Ready,
    /// The worker began the job with this plan index.
    Started { index: usize },
    /// The worker ended the job with this plan index (its output, if any, is written).
    Done { index: usize, outcome: JobOutcome },
}

/// A [`Job`] as sent to a worker. Paths travel as their raw bytes, so names that are not
/// UTF-8 arrive intact.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireJob {
    index: usize,
    input: WireInput,
    output: Vec<u8>,
    output_root: Vec<u8>,
    format: OutputFormat,
}

#[derive(Debug, Serialize, Deserialize)]
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
                Input::File(path) => WireInput::File(path_bytes(path)),
                Input::Url(url) => WireInput::Url(url.clone()),
                Input::Object(url) => WireInput::Object(url.clone()),
            },
            output: path_bytes(&job.output),
            output_root: path_bytes(&job.output_root),
            format: job.format,
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
        }
    }
}

#[cfg(unix)]
fn path_bytes(path: &std::path::Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
fn bytes_path(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_bytes(path: &std::path::Path) -> Vec<u8> {
    path.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
fn bytes_path(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// Writes one message as a line and flushes it, so the other side sees it at once.
pub fn send<T: Serialize>(to: &mut impl Write, message: &T) -> io::Result<()> {
    let mut line = serde_json::to_vec(message)?;
    line.push(b'\n');
    to.write_all(&line)?;
    to.flush()
}

/// Reads one message; `Ok(None)` at the end of the stream. A line that is not a message
/// is an `InvalidData` error.
pub fn receive<T: DeserializeOwned>(from: &mut impl BufRead) -> io::Result<Option<T>> {
    let mut line = Vec::new();
    if from.read_until(b'\n', &mut line)? == 0 {
        return Ok(None);
    }
    serde_json::from_slice(&line)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_and_outcomes_cross_intact() {
        #[cfg(unix)]
        let input = {
            use std::os::unix::ffi::OsStringExt;
            PathBuf::from(std::ffi::OsString::from_vec(b"in/caf\xe9 \n.jpg".to_vec()))
        };
        #[cfg(not(unix))]
        let input = PathBuf::from("in/café \n.jpg");
        let job = Job {
            index: 7,
            input: Input::File(input),
            output: "out/x.png".into(),
            output_root: "out".into(),
            format: OutputFormat::Png,
        };
        let mut pipe = Vec::new();
        send(&mut pipe, &ToWorker::Job(WireJob::from(&job))).unwrap();
        let outcome = JobOutcome {
            status: crate::outcome::Status::failed(
                crate::failure::ErrorKind::Corrupt,
                "bad \"header\"",
            ),
            size_in: Some((3, 4)),
            ..JobOutcome::default()
        };
        send(
            &mut pipe,
            &FromWorker::Done {
                index: 7,
                outcome: outcome.clone(),
            },
        )
        .unwrap();
        assert_eq!(pipe.iter().filter(|&&b| b == b'\n').count(), 2);

        let mut reader = io::BufReader::new(&pipe[..]);
        match receive::<ToWorker>(&mut reader).unwrap() {
            Some(ToWorker::Job(wire)) => assert_eq!(Job::from(wire), job),
            other => panic!("expected a job, got {other:?}"),
        }
        match receive::<FromWorker>(&mut reader).unwrap() {
            Some(FromWorker::Done {
                index: 7,
                outcome: got,
            }) => assert_eq!(got, outcome),
            other => panic!("expected an outcome, got {other:?}"),
        }
        assert!(receive::<FromWorker>(&mut reader).unwrap().is_none());
    }
}
