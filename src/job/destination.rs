//! Where a job's output goes: a file beneath the output folder, written atomically, or an
//! object under the output prefix, put create-only. Parsed once per job from its output
//! root and name; it owns the two questions every mode asks of an output: is it there
//! already, and put it in place.

use std::path::Path;
use std::time::Instant;

use super::provenance::{Provenance, SCANNED, Standing};
use super::{CommitGate, Job, lap};
use crate::config::{ExistingOutput, Spec};
use crate::failure::ErrorKind;
use crate::fetch::FetchPolicy;
use crate::outcome::{Ending, JobEnding};
use crate::output::write_beneath;
use crate::store::{self, Location, ObjectUrl};

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
    pub fn destination(&self) -> Result<Destination<'_>, Ending> {
        let failed = write_failure;
        let Location::Object(root, _) = Location::parse(&self.output_root).map_err(failed)? else {
            return Ok(Destination::File {
                root: &self.output_root,
                rel: self.output_rel(),
            });
        };
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

impl Job {
    /// What an output standing at its name means under `spec`'s policy (see
    /// [`existing_status`]): `Ok` to convert anyway, else how the job would end. For a dry
    /// run, which says what a run would do.
    pub(crate) fn existing_outcome(&self, spec: &Spec) -> Result<(), Ending> {
        let destination = self.destination()?;
        existing_status(self, spec, || destination.standing_blocking(&spec.fetch))
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
    pub fn exists_blocking(&self, spec: &Spec) -> Result<bool, Ending> {
        match self.known(spec) {
            Ok(exists) => Ok(exists),
            Err((root, url)) => {
                store::output_exists_blocking(root, url, &spec.fetch).map_err(write_failure)
            }
        }
    }

    /// [`Destination::exists_blocking`] without blocking the calling task (async mode).
    #[cfg(feature = "http")]
    pub async fn exists(&self, spec: &Spec) -> Result<bool, Ending> {
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

    /// The provenance of the output standing at its name, read back (see
    /// [`super::provenance`]); `Err` when what stands there is a folder, a link or
    /// another thing that is not an output file, or cannot be read.
    pub fn standing_blocking(&self, policy: &FetchPolicy) -> Result<Option<Provenance>, Ending> {
        match self {
            Destination::File { root, rel } => standing_file(&root.join(rel)),
            Destination::Object { url, .. } => store::get_ends_blocking(url, policy, SCANNED)
                .map(|bytes| Provenance::find(&bytes))
                .map_err(|e| write_failure(e.message)),
        }
    }

    /// [`Destination::standing_blocking`] without blocking the calling task (async mode).
    #[cfg(feature = "http")]
    pub async fn standing(&self, spec: &Spec) -> Result<Option<Provenance>, Ending> {
        match self {
            Destination::File { .. } => self.standing_blocking(&spec.fetch),
            Destination::Object { url, .. } => store::get_ends(url, &spec.fetch, SCANNED)
                .await
                .map(|bytes| Provenance::find(&bytes))
                .map_err(|e| write_failure(e.message)),
        }
    }

    /// Puts `encoded` in place, if `gate` still allows it: a file written atomically (a
    /// temporary file renamed into place, never replacing one unless `--overwrite`), or an
    /// object in one create-only request (a replacing one with `--overwrite`). An output
    /// that appeared meanwhile counts as existing, and is judged as one found at the
    /// start would be (see [`taken_or`]). `bytes_out` counts what was written, nothing
    /// for a failed write.
    pub fn commit(
        &self,
        job: &Job,
        encoded: Vec<u8>,
        spec: &Spec,
        outcome: &mut JobEnding,
        gate: &CommitGate,
    ) -> Result<(), Ending> {
        let clock = Instant::now();
        let written_len = encoded.len() as u64;
        // Only under `Identical` is an output that stands compared with this one.
        let wanted =
            (spec.existing == ExistingOutput::Identical).then(|| OutputDigest::of(&encoded));
        let replace = spec.existing == ExistingOutput::Overwrite;
        match self {
            Destination::Object { url, .. } => {
                if !gate.commit() {
                    return Err(Ending::failed(
                        ErrorKind::Write,
                        "abandoned before its output was written",
                    ));
                }
                let put = store::put_blocking(url, encoded, replace, &spec.fetch);
                if let Err(status) = put_status(job, put, outcome) {
                    let standing = || store::get_blocking(url, &spec.fetch).map_err(|e| e.message);
                    return taken_or(status, job, spec, wanted, standing, outcome);
                }
            }
            Destination::File { root, rel } => {
                let may_commit = || gate.commit();
                let written = write_beneath(root, rel, &encoded, replace, &may_commit);
                if let Err(failure) = written {
                    outcome.output_unusable = failure.output_unusable;
                    let status = Ending::failed(failure.kind, failure.message);
                    let standing = || read_standing_file(&root.join(rel));
                    return taken_or(status, job, spec, wanted, standing, outcome);
                }
            }
        }
        outcome.bytes_out = written_len;
        outcome.times.write_ms = lap(clock);
        Ok(())
    }
}

/// What an output that stands at the job's name means under the policy: `Ok` to go on
/// and convert (it will be replaced, or compared), else the job's ending. Under
/// `--skip-existing` its provenance (`standing` reads it) decides: skipped when it is
/// this input's with these settings (or carries none: trusted, and said so), a conflict
/// when it is another input's or of other settings.
pub(super) fn existing_status(
    job: &Job,
    spec: &Spec,
    standing: impl FnOnce() -> Result<Option<Provenance>, Ending>,
) -> Result<(), Ending> {
    match spec.existing {
        ExistingOutput::Skip => Err(skip_or_conflict(job, spec, standing()?.as_ref())),
        ExistingOutput::Fail => Err(Ending::failed(
            ErrorKind::OutputExists,
            format!(
                "output {} already exists (use --overwrite or --skip-existing)",
                job.output.display()
            ),
        )),
        ExistingOutput::Overwrite | ExistingOutput::Identical => Ok(()),
    }
}

/// The ending of a job under `--skip-existing` whose output stands with `found`.
fn skip_or_conflict(job: &Job, spec: &Spec, found: Option<&Provenance>) -> Ending {
    let shown = job.output.display();
    match Provenance::of(job, spec).compare(found) {
        Standing::Same => Ending::Skipped(SKIPPED_SAME.into()),
        Standing::Unknown => Ending::Skipped(SKIPPED_UNVERIFIED.into()),
        Standing::OtherInput => Ending::failed(
            ErrorKind::OutputConflict,
            format!(
                "output {shown} was made from another input (the names changed since, as \
                 files were added or removed); left alone: --overwrite replaces it"
            ),
        ),
        Standing::OtherSettings(differences) => Ending::failed(
            ErrorKind::OutputConflict,
            format!(
                "output {shown} was made from this input with other settings ({}); left \
                 alone: --overwrite replaces it",
                differences.join(", ")
            ),
        ),
    }
}

/// The skip reason of an output made from this input with these settings.
pub const SKIPPED_SAME: &str = "output exists";

/// The skip reason of an output that carries no provenance (made before imgpar wrote it,
/// or by another tool): trusted as this input's, as imgpar always did, and counted apart.
pub const SKIPPED_UNVERIFIED: &str =
    "output exists (it carries no provenance: trusted as this input's)";

/// The provenance of the file standing at `path`, never through a link.
fn standing_file(path: &Path) -> Result<Option<Provenance>, Ending> {
    let conflict = |what: &str| {
        Ending::failed(
            ErrorKind::OutputConflict,
            format!(
                "output {} is {what}, not an image file; left alone (move it away)",
                path.display()
            ),
        )
    };
    let meta = match path.symlink_metadata() {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(write_failure(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    if meta.is_dir() {
        return Err(conflict("a folder"));
    }
    if meta.file_type().is_symlink() {
        return Err(conflict("a link"));
    }
    if !meta.is_file() {
        return Err(conflict("a special file"));
    }
    crate::output::open_not_following(path)
        .and_then(|mut file| super::provenance::read_file(&mut file))
        .map_err(|e| write_failure(format!("cannot read {}: {e}", path.display())))
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

/// A commit that failed with `status`: when it found its name taken, the output that
/// stands there (`standing` reads its bytes) is judged as one found at the start would
/// be. Under [`ExistingOutput::Identical`] (`wanted`: the digest of what this job
/// converted) the job ends converted when it holds exactly those bytes; under
/// `--skip-existing` it is skipped when its provenance is this job's (another copy of
/// the run won the race); otherwise `status` stands.
pub(super) fn taken_or(
    status: Ending,
    job: &Job,
    spec: &Spec,
    wanted: Option<OutputDigest>,
    standing: impl FnOnce() -> Result<Vec<u8>, String>,
    outcome: &mut JobEnding,
) -> Result<(), Ending> {
    outcome.bytes_out = 0;
    if status.error_kind() != Some(ErrorKind::OutputExists) {
        return Err(status);
    }
    match spec.existing {
        ExistingOutput::Skip => {
            let found = standing().map_err(|e| {
                Ending::failed(
                    ErrorKind::OutputExists,
                    format!(
                        "output {} appeared while it was converted and cannot be read \
                         back: {e}",
                        job.output.display()
                    ),
                )
            })?;
            Err(skip_or_conflict(
                job,
                spec,
                Provenance::find(&found).as_ref(),
            ))
        }
        ExistingOutput::Identical => {
            let Some(wanted) = wanted else {
                return Err(status);
            };
            match standing() {
                Ok(bytes) if OutputDigest::of(&bytes) == wanted => Ok(()),
                Ok(_) => Err(Ending::failed(
                    ErrorKind::OutputExists,
                    "an output of that name already exists with other content; left alone",
                )),
                Err(e) => Err(Ending::failed(
                    ErrorKind::OutputExists,
                    format!("an output of that name already exists and cannot be read back: {e}"),
                )),
            }
        }
        ExistingOutput::Fail | ExistingOutput::Overwrite => Err(status),
    }
}

/// What a put's result means for the job: a taken name is an `OutputExists` failure for
/// [`taken_or`] to judge.
pub(super) fn put_status(
    job: &Job,
    put: Result<(), store::PutFailure>,
    outcome: &mut JobEnding,
) -> Result<(), Ending> {
    match put {
        Ok(()) => Ok(()),
        Err(store::PutFailure::Exists) => {
            outcome.bytes_out = 0;
            Err(Ending::failed(
                ErrorKind::OutputExists,
                format!(
                    "output {} already exists (use --overwrite or --skip-existing)",
                    job.output.display()
                ),
            ))
        }
        Err(store::PutFailure::Failed {
            message,
            every_write,
        }) => {
            outcome.bytes_out = 0;
            outcome.output_unusable = every_write;
            Err(Ending::failed(ErrorKind::Write, message))
        }
    }
}

fn write_failure(message: String) -> Ending {
    Ending::failed(ErrorKind::Write, message)
}
