//! What crosses the pipes between imgpar and its worker processes: one JSON object per
//! line, small messages only (paths and outcomes, never image bytes).

use std::io::{self, BufRead, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::Spec;
use crate::job::WireJob;
use crate::outcome::JobEnding;

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
    Done { index: usize, outcome: JobEnding },
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
    use std::path::PathBuf;

    use super::*;
    use crate::config::OutputFormat;
    use crate::job::{Input, Job};

    #[test]
    fn jobs_and_outcomes_cross_intact() {
        // A name that is not UTF-8 where the system allows one (Unix); on Windows, a name
        // with a newline and an accent (one that is not Unicode is read as U+FFFD there).
        #[cfg(unix)]
        let input = {
            use std::os::unix::ffi::OsStringExt;
            PathBuf::from(std::ffi::OsString::from_vec(b"in/caf\xe9 \n.jpg".to_vec()))
        };
        #[cfg(windows)]
        let input = PathBuf::from("in/caf\u{e9} \n.jpg");
        let job = Job {
            index: 7,
            input: Input::File(input),
            output: "out/x.png".into(),
            output_root: "out".into(),
            format: OutputFormat::Png,
            key: Vec::new(),
        };
        let mut pipe = Vec::new();
        send(&mut pipe, &ToWorker::Job(WireJob::from(&job))).unwrap();
        let outcome = JobEnding {
            ending: crate::outcome::Ending::failed(
                crate::failure::ErrorKind::Corrupt,
                "bad \"header\"",
            ),
            size_in: Some((3, 4)),
            ..JobEnding::default()
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
