//! Where a job's output goes: a file beneath the output folder, written atomically, or an
//! object under the output prefix, put create-only. Parsed once per job from its output
//! root and name; it owns the two questions every mode asks of an output: is it there
//! already, and put it in place.

use std::path::Path;
use std::time::Instant;

use super::{CommitGate, Job, lap};
use crate::config::{ExistingOutput, Spec};
use crate::failure::ErrorKind;
use crate::outcome::{JobOutcome, Status};
use crate::output::write_beneath;
use crate::store::{self, ObjectUrl};

/// Where one job's output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination<'a> {
    /// A file `rel` beneath the output folder `root`; the write never leaves it.
    File { root: &'a Path, rel: &'a Path },
    /// The object `url` under the output prefix `root`.
    Object { root: ObjectUrl, url: ObjectUrl },
}

impl Job {
    /// Where its output goes, or the failure to report when it cannot go there (an output
    /// prefix that does not parse, an object name that is not UTF-8).
    pub fn destination(&self) -> Result<Destination<'_>, Status> {
        let failed = write_failure;
        let Some(root) = ObjectUrl::from_path(&self.output_root) else {
            return Ok(Destination::File {
                root: &self.output_root,
                rel: self.output_rel(),
            });
        };
        let root = root.map_err(failed)?;
        let rel = self.output_rel();
        let names: Option<Vec<&str>> = rel.iter().map(|part| part.to_str()).collect();
        let names = names.ok_or_else(|| {
            failed(format!(
                "output name {} is not UTF-8, which object names must be",
                rel.display()
            ))
        })?;
        let url = root.join(&names.join("/"));
        Ok(Destination::Object { root, url })
    }
}

impl Destination<'_> {
    /// Whether it is an object (whose create-only put settles a race by itself).
    pub fn is_object(&self) -> bool {
        matches!(self, Destination::Object { .. })
    }

    /// Whether the output is there already, on this thread. For an object, the output
    /// prefix's listing (made once per process) says; with `--overwrite` it does not
    /// matter and is not asked.
    pub fn exists_blocking(&self, spec: &Spec) -> Result<bool, Status> {
        match self.known(spec) {
            Ok(exists) => Ok(exists),
            Err((root, url)) => {
                store::output_exists_blocking(root, url, &spec.fetch).map_err(write_failure)
            }
        }
    }

    /// [`Destination::exists_blocking`] without blocking the calling task (async mode).
    #[cfg(feature = "http")]
    pub async fn exists(&self, spec: &Spec) -> Result<bool, Status> {
        match self.known(spec) {
            Ok(exists) => Ok(exists),
            Err((root, url)) => store::output_exists(root, url, &spec.fetch)
                .await
                .map_err(write_failure),
        }
    }

    /// Whether the output is there, when that needs no request (a file; an object under
    /// `--overwrite`, where it does not matter); else the prefix and object to ask about.
    fn known(&self, spec: &Spec) -> Result<bool, (&ObjectUrl, &ObjectUrl)> {
        match self {
            Destination::File { root, rel } => Ok(root.join(rel).symlink_metadata().is_ok()),
            Destination::Object { .. } if spec.existing == ExistingOutput::Overwrite => Ok(false),
            Destination::Object { root, url } => Err((root, url)),
        }
    }

    /// Puts `encoded` in place, if `gate` still allows it: a file written atomically (a
    /// temporary file renamed into place, never replacing one unless `--overwrite`), or an
    /// object in one create-only request (a replacing one with `--overwrite`). An output
    /// that appeared meanwhile counts as existing.
    pub fn commit(
        &self,
        job: &Job,
        encoded: Vec<u8>,
        spec: &Spec,
        outcome: &mut JobOutcome,
        gate: &CommitGate,
    ) -> Result<(), Status> {
        let clock = Instant::now();
        outcome.bytes_out = encoded.len() as u64;
        let replace = spec.existing == ExistingOutput::Overwrite;
        // Only under `Identical` is an output that stands compared with this one.
        let wanted =
            (spec.existing == ExistingOutput::Identical).then(|| OutputDigest::of(&encoded));
        match self {
            Destination::Object { url, .. } => {
                if !gate.commit() {
                    return Err(Status::failed(
                        ErrorKind::Write,
                        "abandoned before its output was written",
                    ));
                }
                let put = store::put_blocking(url, encoded, replace, &spec.fetch);
                if let Err(status) = put_status(job, spec, put, outcome) {
                    let standing = || store::get_blocking(url, &spec.fetch).map_err(|e| e.message);
                    return identical_or(status, spec, wanted, standing, outcome);
                }
            }
            Destination::File { root, rel } => {
                let may_commit = || gate.commit();
                let written = write_beneath(root, rel, &encoded, replace, &may_commit);
                if let Err(failure) = written {
                    outcome.output_unusable = failure.output_unusable;
                    let status = Status::failed(failure.kind, failure.message);
                    if failure.kind != ErrorKind::OutputExists {
                        return Err(status);
                    }
                    let standing = || read_standing_file(&root.join(rel));
                    return identical_or(status, spec, wanted, standing, outcome);
                }
            }
        }
        outcome.times.write_ms = lap(clock);
        Ok(())
    }
}

/// What an output that exists (or not) means under the policy.
pub(super) fn existing_status(job: &Job, spec: &Spec, exists: bool) -> Result<(), Status> {
    if !exists {
        return Ok(());
    }
    match spec.existing {
        ExistingOutput::Skip => Err(Status::Skipped("output exists".into())),
        ExistingOutput::Fail => Err(Status::failed(
            ErrorKind::OutputExists,
            format!(
                "output {} already exists (use --overwrite or --skip-existing)",
                job.output.display()
            ),
        )),
        ExistingOutput::Overwrite | ExistingOutput::Identical => Ok(()),
    }
}

/// What identifies an output's bytes (their length and 128-bit hash), to tell whether an
/// output that stands already holds exactly what a job converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputDigest(usize, u128);

impl OutputDigest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> OutputDigest {
        OutputDigest(bytes.len(), xxhash_rust::xxh3::xxh3_128(bytes))
    }
}

/// The bytes of the file standing at an output's name, if it is a file (a link is never
/// followed: it could lead outside the output folder, and it is not an output).
fn read_standing_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let meta = path.symlink_metadata().map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() {
        return Err("it is a link or not a file".into());
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

/// Under [`ExistingOutput::Identical`] (when `wanted` is the digest of what this job
/// converted), a commit that found its output taken (`status`) ends converted when the
/// output standing there (`standing` reads it) holds exactly those bytes; otherwise, and
/// under every other policy, `status` stands.
pub(super) fn identical_or(
    status: Status,
    spec: &Spec,
    wanted: Option<OutputDigest>,
    standing: impl FnOnce() -> Result<Vec<u8>, String>,
    outcome: &mut JobOutcome,
) -> Result<(), Status> {
    let Some(wanted) = wanted else {
        return Err(status);
    };
    if spec.existing != ExistingOutput::Identical
        || status.error_kind() != Some(ErrorKind::OutputExists)
    {
        return Err(status);
    }
    match standing() {
        Ok(bytes) if OutputDigest::of(&bytes) == wanted => {
            outcome.bytes_out = 0;
            Ok(())
        }
        Ok(_) => Err(Status::failed(
            ErrorKind::OutputExists,
            "an output of that name already exists with other content; left alone",
        )),
        Err(e) => Err(Status::failed(
            ErrorKind::OutputExists,
            format!("an output of that name already exists and cannot be read back: {e}"),
        )),
    }
}

/// What a put's result means for the job.
pub(super) fn put_status(
    job: &Job,
    spec: &Spec,
    put: Result<(), store::PutFailure>,
    outcome: &mut JobOutcome,
) -> Result<(), Status> {
    match put {
        Ok(()) => Ok(()),
        Err(store::PutFailure::Exists) => {
            outcome.bytes_out = 0;
            if spec.existing == ExistingOutput::Identical {
                return Err(Status::failed(
                    ErrorKind::OutputExists,
                    format!("output {} already exists", job.output.display()),
                ));
            }
            existing_status(job, spec, true)
        }
        Err(store::PutFailure::Failed {
            message,
            every_write,
        }) => {
            outcome.bytes_out = 0;
            outcome.output_unusable = every_write;
            Err(Status::failed(ErrorKind::Write, message))
        }
    }
}

fn write_failure(message: String) -> Status {
    Status::failed(ErrorKind::Write, message)
}
