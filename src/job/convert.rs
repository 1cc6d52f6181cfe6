//! A job from start to end: the existing-output check, getting the input, the pipeline,
//! putting the output; every failure (a panic in a decoder too) becomes the job's one
//! outcome.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
#[cfg(feature = "http")]
use std::time::Instant;

use super::destination::existing_status;
#[cfg(feature = "http")]
use super::destination::{OutputDigest, put_status, taken_or};
use super::provenance::Provenance;
use super::{CommitGate, Job, Obtained};
#[cfg(feature = "http")]
use super::{Destination, lap};
#[cfg(feature = "http")]
use crate::config::ExistingOutput;
use crate::config::Spec;
use crate::failure::ErrorKind;
use crate::outcome::{Ending, JobEnding};
use crate::pipeline;
#[cfg(feature = "http")]
use crate::store::{self, ObjectUrl};

/// Does the whole work for one image and says how it ended. Never panics and never leaves
/// a partial file: a failure at any stage (including a panic in a decoder) becomes
/// `Ending::Failed` with a reason, and the output appears whole or not at all.
pub fn convert_job(job: &Job, spec: &Spec) -> JobEnding {
    convert_job_gated(job, spec, &CommitGate::default())
}

/// [`convert_job`] for a scheduler that may give up on the job: the output is put in place
/// only if `gate` still allows it once the bytes are ready (else nothing is written).
pub fn convert_job_gated(job: &Job, spec: &Spec, gate: &CommitGate) -> JobEnding {
    guarded(|outcome| {
        let destination = job.destination()?;
        if destination.exists_blocking(spec)? {
            existing_status(job, spec, || destination.standing_blocking(&spec.fetch))?;
        }
        let obtained = job.input.obtain_blocking(spec);
        let encoded = encode_obtained(job, spec, obtained, outcome)?;
        destination.commit(job, encoded, spec, outcome, gate)
    })
}

/// The rest of [`convert_job`] once the bytes are in hand (async mode), with the same
/// guarantees. The existing-output check is repeated for files: one may have appeared
/// since (an object's create-only write makes the same check itself).
#[cfg(feature = "http")]
pub fn convert_obtained(job: &Job, spec: &Spec, obtained: Obtained) -> JobEnding {
    guarded(|outcome| {
        let destination = job.destination()?;
        if !destination.is_object() && destination.exists_blocking(spec)? {
            existing_status(job, spec, || destination.standing_blocking(&spec.fetch))?;
        }
        let encoded = encode_obtained(job, spec, obtained, outcome)?;
        destination.commit(job, encoded, spec, outcome, &CommitGate::default())
    })
}

/// What the CPU half of an async-mode job hands on: its finished outcome, or an output
/// whose commit is to be awaited apart (a put into a bucket), so that the CPU thread takes
/// the next image while it runs.
#[cfg(feature = "http")]
pub enum Converted {
    /// The job ended (written to a file, failed or skipped).
    Done(JobEnding),
    /// Converted; its output is committed with [`commit_converted`].
    ToCommit(PendingCommit),
}

/// An encoded output and where it goes, whose commit has not been made; what is done to
/// it is the job's business, the executor only awaits [`commit_converted`].
#[cfg(feature = "http")]
pub struct PendingCommit {
    outcome: JobEnding,
    url: ObjectUrl,
    bytes: Vec<u8>,
}

#[cfg(feature = "http")]
impl PendingCommit {
    /// How the job ends when its commit will not be made, for the reason `ending` says.
    pub fn abandoned(self, ending: Ending) -> JobEnding {
        JobEnding {
            ending,
            ..self.outcome
        }
    }
}

/// [`convert_obtained`], except that an output object is handed back to be put
/// asynchronously instead of being written on this thread.
#[cfg(feature = "http")]
pub fn convert_obtained_for_upload(job: &Job, spec: &Spec, obtained: Obtained) -> Converted {
    let url = match job.destination() {
        Ok(Destination::Object { url, .. }) => url,
        _ => return Converted::Done(convert_obtained(job, spec, obtained)),
    };
    let mut encoded = None;
    let outcome = guarded(|outcome| {
        encoded = Some(encode_obtained(job, spec, obtained, outcome)?);
        Ok(())
    });
    match encoded {
        Some(bytes) if outcome.ending == Ending::Ok => Converted::ToCommit(PendingCommit {
            outcome,
            url,
            bytes,
        }),
        _ => Converted::Done(outcome),
    }
}

/// Ends a [`Converted::ToCommit`] job: the create-only (or, with `--overwrite`, replacing)
/// put of its output, awaited without blocking a thread.
#[cfg(feature = "http")]
pub async fn commit_converted(job: &Job, spec: &Spec, pending: PendingCommit) -> JobEnding {
    let PendingCommit {
        mut outcome,
        url,
        bytes,
    } = pending;
    let clock = Instant::now();
    let written_len = bytes.len() as u64;
    let replace = spec.existing == ExistingOutput::Overwrite;
    let wanted = (spec.existing == ExistingOutput::Identical).then(|| OutputDigest::of(&bytes));
    let put = store::put(&url, bytes, replace, &spec.fetch).await;
    let put = match put_status(job, put, &mut outcome) {
        Err(status)
            if matches!(
                spec.existing,
                ExistingOutput::Identical | ExistingOutput::Skip
            ) =>
        {
            let standing = store::get(&url, &spec.fetch).await.map_err(|e| e.message);
            taken_or(status, job, spec, wanted, || standing, &mut outcome)
        }
        Ok(()) => {
            outcome.bytes_out = written_len;
            Ok(())
        }
        put => put,
    };
    outcome.ending = match put {
        Ok(()) => Ending::Ok,
        Err(status) => status,
    };
    outcome.times.write_ms = lap(clock);
    outcome
}

thread_local! {
    /// Set while this thread is inside a job, whose panics become its failure.
    static IN_JOB: Cell<bool> = const { Cell::new(false) };
}

/// Installs a panic hook that keeps quiet about panics inside a job (the job's failure
/// already carries the message) and reports every other panic as before. The binary calls
/// it once at start-up.
pub fn quiet_panics_in_jobs() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_JOB.with(Cell::get) {
            previous(info);
        }
    }));
}

fn guarded(work: impl FnOnce(&mut JobEnding) -> Result<(), Ending>) -> JobEnding {
    let mut outcome = JobEnding::default();
    IN_JOB.with(|flag| flag.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| work(&mut outcome)));
    IN_JOB.with(|flag| flag.set(false));
    outcome.ending = match result {
        Ok(Ok(())) => Ending::Ok,
        Ok(Err(status)) => status,
        Err(panic) => Ending::failed(
            ErrorKind::Internal,
            format!("internal error (panic): {}", panic_text(&*panic)),
        ),
    };
    outcome
}

/// Whether the job can be left alone before its input is even read (async mode, without
/// blocking the calling task): `Err` with the status to report when its output exists and
/// the policy says skip or fail (the create-only write settles a race either way).
#[cfg(feature = "http")]
pub async fn existing_output_async(job: &Job, spec: &Spec) -> Result<(), Ending> {
    let destination = job.destination()?;
    if !destination.exists(spec).await? {
        return Ok(());
    }
    let standing = match spec.existing {
        ExistingOutput::Skip => destination.standing(spec).await,
        _ => Ok(None),
    };
    existing_status(job, spec, || standing)
}

/// The CPU work on the content in hand: the pipeline.
fn encode_obtained(
    job: &Job,
    spec: &Spec,
    obtained: Obtained,
    outcome: &mut JobEnding,
) -> Result<Vec<u8>, Ending> {
    outcome.fetch = obtained.fetch;
    match obtained.fetch {
        Some(_) => outcome.times.fetch_ms = obtained.ms,
        None => outcome.times.read_ms = obtained.ms,
    }
    let hint = job.input.extension();
    let content = obtained.body.map_err(Ending::Failed)?;
    let encoded = pipeline::convert(content, hint, spec, job.format, outcome);
    let provenance = Provenance::of(job, spec).line();
    crate::image::encode::tag::insert(encoded.map_err(Ending::Failed)?, job.format, &provenance)
        .map_err(|e| Ending::failed(ErrorKind::Internal, e))
}

pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_job_becomes_its_failure() {
        let outcome = guarded(|_| panic!("decoder bug"));
        assert_eq!(
            outcome.ending,
            Ending::failed(ErrorKind::Internal, "internal error (panic): decoder bug")
        );
        // The thread is out of the job again: later panics are reported as usual.
        assert!(!IN_JOB.with(Cell::get));
    }
}
