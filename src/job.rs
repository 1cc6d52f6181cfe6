//! One image's work, the same in every mode: [`process_job`] reads, decodes, converts,
//! resizes, encodes and writes, and always returns exactly one [`JobOutcome`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::Instant;

use crate::config::{ExistingOutput, OutputFormat, Spec};
use crate::image::{decode, encode, ops};
use crate::output::write_atomic;
use crate::report::{JobOutcome, Status};

/// One image to convert: where it is read from and where its output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Position in the plan; outcomes are reported in this order.
    pub index: usize,
    pub input: PathBuf,
    pub output: PathBuf,
    pub format: OutputFormat,
}

/// Does the whole work for one image and says how it ended. Never panics and never leaves
/// a partial file: a failure at any stage (including a panic in a decoder) becomes
/// `Status::Failed` with a reason, and the output appears whole or not at all.
pub fn process_job(job: &Job, spec: &Spec) -> JobOutcome {
    let mut outcome = JobOutcome::default();
    let result = catch_unwind(AssertUnwindSafe(|| run_stages(job, spec, &mut outcome)));
    outcome.status = match result {
        Ok(Ok(())) => Status::Ok,
        Ok(Err(status)) => status,
        Err(panic) => Status::Failed(format!("internal error (panic): {}", panic_text(&*panic))),
    };
    outcome
}

fn run_stages(job: &Job, spec: &Spec, outcome: &mut JobOutcome) -> Result<(), Status> {
    if job.output.symlink_metadata().is_ok() {
        match spec.existing {
            ExistingOutput::Skip => return Err(Status::Skipped("output exists".into())),
            ExistingOutput::Fail => {
                return Err(Status::Failed(format!(
                    "output {} already exists (use --overwrite or --skip-existing)",
                    job.output.display()
                )));
            }
            ExistingOutput::Overwrite => {}
        }
    }
    let clock = Instant::now();
    let bytes =
        std::fs::read(&job.input).map_err(|e| Status::Failed(format!("cannot read: {e}")))?;
    outcome.bytes_in = bytes.len() as u64;
    outcome.times.read_ms = lap(clock);

    let clock = Instant::now();
    let decoded = decode::decode(&bytes, spec.max_pixels).map_err(Status::Failed)?;
    drop(bytes);
    outcome.size_in = Some(decoded.stored_size);
    outcome.times.decode_ms = lap(clock);

    let clock = Instant::now();
    let resized = ops::resize(decoded.image, spec).map_err(Status::Failed)?;
    outcome.size_out = Some((resized.width(), resized.height()));
    outcome.times.resize_ms = lap(clock);

    let clock = Instant::now();
    let encoded = encode::encode(&resized, job.format, spec.quality).map_err(Status::Failed)?;
    outcome.times.encode_ms = lap(clock);

    let clock = Instant::now();
    let replace = spec.existing == ExistingOutput::Overwrite;
    write_atomic(&job.output, &encoded, replace).map_err(Status::Failed)?;
    outcome.bytes_out = encoded.len() as u64;
    outcome.times.write_ms = lap(clock);
    Ok(())
}

fn lap(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}
