//! One image's work, the same in every mode: [`process_job`] gets the input's bytes (reads
//! the file or downloads the URL), decodes, converts, resizes, encodes and writes, and
//! always returns exactly one [`JobOutcome`]. The async mode gets the bytes itself,
//! concurrently, and hands them to [`process_obtained`], which does the rest the same way.

use std::cell::Cell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use crate::config::{ExistingOutput, OutputFormat, Spec};
use crate::failure::{ErrorKind, Failure};
use crate::fetch::FetchInfo;
use crate::image::{decode, encode, resize};
use crate::outcome::{JobOutcome, Status};
use crate::output::write_beneath;
use crate::store::{self, ObjectUrl};

/// Where one image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file (or a pipe or device named directly).
    File(PathBuf),
    /// An http or https URL, as written in the list.
    Url(String),
    /// An object in a bucket (`s3://`, `gs://`, `az://`).
    Object(ObjectUrl),
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::File(path) => write!(f, "{}", path.display()),
            Input::Url(url) => f.write_str(url),
            Input::Object(url) => write!(f, "{url}"),
        }
    }
}

/// One image to convert: where it is read from and where its output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Position in the plan; outcomes are reported in this order.
    pub index: usize,
    /// Where the image comes from.
    pub input: Input,
    /// The output file: `output_root` joined with a relative path that stays inside it.
    pub output: PathBuf,
    /// The output folder the run writes into; the write never leaves it.
    pub output_root: PathBuf,
    /// The format the output is written in.
    pub format: OutputFormat,
}

impl Job {
    /// The output path relative to the output folder.
    pub fn output_rel(&self) -> &Path {
        // The plan makes `output` as `output_root` joined with the name, so the name is
        // the rest after the root's bytes and a separator: no need to compare components
        // (the planner asks for every job's name several times).
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let (output, root) = (
                self.output.as_os_str().as_bytes(),
                self.output_root.as_os_str().as_bytes(),
            );
            if let Some(rest) = output.strip_prefix(root)
                && let Some(rest) = rest.strip_prefix(b"/")
                && !rest.is_empty()
                && !root.is_empty()
                && !rest.starts_with(b"/")
            {
                return Path::new(std::ffi::OsStr::from_bytes(rest));
            }
        }
        self.output
            .strip_prefix(&self.output_root)
            .unwrap_or(&self.output)
    }

    /// The output object, when the output root is a bucket prefix rather than a folder;
    /// an error when its name cannot be an object's (not UTF-8).
    pub fn output_object(&self) -> Option<Result<ObjectUrl, String>> {
        let root = ObjectUrl::from_path(&self.output_root)?;
        Some(root.and_then(|root| {
            let rel = self.output_rel();
            let names: Option<Vec<&str>> = rel.iter().map(|part| part.to_str()).collect();
            names
                .map(|names| root.join(&names.join("/")))
                .ok_or_else(|| {
                    format!(
                        "output name {} is not UTF-8, which object names must be",
                        rel.display()
                    )
                })
        }))
    }

    /// The output prefix and the output object, or the failure to report.
    fn output_object_in_root(
        &self,
        url: Result<ObjectUrl, String>,
    ) -> Result<(ObjectUrl, ObjectUrl), Status> {
        let failed = |m: String| Status::failed(ErrorKind::Write, m);
        let url = url.map_err(failed)?;
        let root = ObjectUrl::from_path(&self.output_root)
            .expect("an output object lies under an object prefix")
            .map_err(failed)?;
        Ok((root, url))
    }
}

/// Decides, once per job, between the job writing its output and the scheduler giving up
/// on it (threaded `--timeout`): whichever asks first wins, so an abandoned job never
/// writes and a job that is writing is not reported abandoned.
#[derive(Debug, Default)]
pub struct CommitGate(AtomicU8);

impl CommitGate {
    const OPEN: u8 = 0;
    const COMMITTING: u8 = 1;
    const ABANDONED: u8 = 2;

    /// The job's side: true if it may put its output in place (and the gate can no longer
    /// be abandoned).
    pub fn commit(&self) -> bool {
        self.0
            .compare_exchange(
                Self::OPEN,
                Self::COMMITTING,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// The scheduler's side: true if the job is now abandoned and will write nothing;
    /// false if it is already putting its output in place (its outcome will come).
    pub fn abandon(&self) -> bool {
        self.0
            .compare_exchange(
                Self::OPEN,
                Self::ABANDONED,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }
}

/// An input's content, or why it could not be had, with what getting it cost.
pub struct Obtained {
    pub body: Result<Body, Failure>,
    /// For a URL: status, attempts, bytes.
    pub fetch: Option<FetchInfo>,
    /// Milliseconds spent reading or downloading.
    pub ms: f64,
}

/// An input's content: bytes in hand (a download, an object), or a file opened to be read
/// as it decodes (so a large JPEG or PNG is never held whole in memory).
pub enum Body {
    /// The whole input, in memory.
    Bytes(Vec<u8>),
    /// An open file of `len` bytes, not yet read.
    File { file: std::fs::File, len: u64 },
}

/// Does the whole work for one image and says how it ended. Never panics and never leaves
/// a partial file: a failure at any stage (including a panic in a decoder) becomes
/// `Status::Failed` with a reason, and the output appears whole or not at all.
pub fn process_job(job: &Job, spec: &Spec) -> JobOutcome {
    process_job_gated(job, spec, &CommitGate::default())
}

/// [`process_job`] for a scheduler that may give up on the job: the output is put in place
/// only if `gate` still allows it once the bytes are ready (else nothing is written).
pub fn process_job_gated(job: &Job, spec: &Spec, gate: &CommitGate) -> JobOutcome {
    guarded(|outcome| {
        existing_output(job, spec)?;
        let obtained = obtain_blocking(&job.input, spec);
        convert(job, spec, obtained, outcome, gate)
    })
}

/// The rest of [`process_job`] once the bytes are in hand (async mode), with the same
/// guarantees. The existing-output check is repeated for files: one may have appeared
/// since (an object's create-only write makes the same check itself).
#[cfg(feature = "http")]
pub fn process_obtained(job: &Job, spec: &Spec, obtained: Obtained) -> JobOutcome {
    guarded(|outcome| {
        if job.output_object().is_none() {
            existing_output(job, spec)?;
        }
        convert(job, spec, obtained, outcome, &CommitGate::default())
    })
}

/// What the CPU half of an async-mode job hands on: its finished outcome, or an output
/// object still to be put in its bucket (so that the CPU thread takes the next image while
/// the upload runs).
#[cfg(feature = "http")]
pub enum Converted {
    /// The job ended (written to a file, failed or skipped).
    Done(JobOutcome),
    /// Converted; the encoded output is to be put at `url` with [`put_converted`].
    ToPut {
        outcome: JobOutcome,
        url: ObjectUrl,
        bytes: Vec<u8>,
    },
}

/// [`process_obtained`], except that an output object is handed back to be put
/// asynchronously instead of being written on this thread.
#[cfg(feature = "http")]
pub fn process_obtained_to_put(job: &Job, spec: &Spec, obtained: Obtained) -> Converted {
    let url = match job.output_object() {
        Some(Ok(url)) => url,
        _ => return Converted::Done(process_obtained(job, spec, obtained)),
    };
    let mut encoded = None;
    let outcome = guarded(|outcome| {
        encoded = Some(encode_obtained(job, spec, obtained, outcome)?);
        Ok(())
    });
    match encoded {
        Some(bytes) if outcome.status == Status::Ok => Converted::ToPut {
            outcome,
            url,
            bytes,
        },
        _ => Converted::Done(outcome),
    }
}

/// Ends a [`Converted::ToPut`] job: the create-only (or, with `--overwrite`, replacing)
/// put of its output, awaited without blocking a thread.
#[cfg(feature = "http")]
pub async fn put_converted(
    job: &Job,
    spec: &Spec,
    mut outcome: JobOutcome,
    url: ObjectUrl,
    bytes: Vec<u8>,
) -> JobOutcome {
    let clock = Instant::now();
    outcome.bytes_out = bytes.len() as u64;
    let replace = spec.existing == ExistingOutput::Overwrite;
    let put = store::put(&url, bytes, replace, &spec.fetch).await;
    outcome.status = match put_status(job, spec, put, &mut outcome) {
        Ok(()) => Status::Ok,
        Err(status) => status,
    };
    outcome.times.write_ms = lap(clock);
    outcome
}

/// Whether the job can be left alone before its input is even read: `Err` with the status
/// to report when its output exists and the policy says skip or fail. For an object, the
/// output prefix's listing (made once per process) says; the create-only write settles a
/// race either way.
pub fn existing_output(job: &Job, spec: &Spec) -> Result<(), Status> {
    let exists = match job.output_object() {
        None => job.output.symlink_metadata().is_ok(),
        Some(_) if spec.existing == ExistingOutput::Overwrite => false,
        Some(url) => {
            let (root, url) = job.output_object_in_root(url)?;
            store::output_exists_blocking(&root, &url, &spec.fetch)
                .map_err(|m| Status::failed(ErrorKind::Write, m))?
        }
    };
    existing_status(job, spec, exists)
}

/// [`existing_output`] without blocking the calling task (async mode).
#[cfg(feature = "http")]
pub async fn existing_output_async(job: &Job, spec: &Spec) -> Result<(), Status> {
    let exists = match job.output_object() {
        None => job.output.symlink_metadata().is_ok(),
        Some(_) if spec.existing == ExistingOutput::Overwrite => false,
        Some(url) => {
            let (root, url) = job.output_object_in_root(url)?;
            store::output_exists(&root, &url, &spec.fetch)
                .await
                .map_err(|m| Status::failed(ErrorKind::Write, m))?
        }
    };
    existing_status(job, spec, exists)
}

/// What an output that exists (or not) means under the policy.
fn existing_status(job: &Job, spec: &Spec, exists: bool) -> Result<(), Status> {
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
        ExistingOutput::Overwrite => Ok(()),
    }
}

/// Reads the file or downloads the URL, on this thread.
#[cfg_attr(not(feature = "http"), allow(unused_variables))]
fn obtain_blocking(input: &Input, spec: &Spec) -> Obtained {
    let clock = Instant::now();
    match input {
        Input::File(path) => Obtained::read(open(path), clock),
        Input::Object(url) => Obtained::from_store(store::get_blocking(url, &spec.fetch), clock),
        #[cfg(feature = "http")]
        Input::Url(url) => Obtained::fetched(crate::fetch::fetch_blocking(url, &spec.fetch), clock),
        #[cfg(not(feature = "http"))]
        Input::Url(_) => Obtained {
            body: Err(Failure::new(
                ErrorKind::Unsupported,
                "URL inputs need imgpar built with the `http` feature",
            )),
            fetch: None,
            ms: lap(clock),
        },
    }
}

/// Reads the file or downloads the URL without blocking the calling task (async mode),
/// downloads sharing `client`.
#[cfg(feature = "http")]
pub async fn obtain(input: &Input, spec: &Spec, client: &reqwest::Client) -> Obtained {
    let clock = Instant::now();
    match input {
        Input::File(path) => {
            let opened = match tokio::fs::File::open(path).await {
                Ok(file) => with_length(file.into_std().await),
                Err(error) => Err(error),
            };
            Obtained::read(opened, clock)
        }
        Input::Object(url) => Obtained::from_store(store::get(url, &spec.fetch).await, clock),
        Input::Url(url) => {
            Obtained::fetched(crate::fetch::fetch(client, url, &spec.fetch).await, clock)
        }
    }
}

/// Opens a file to be read as it decodes.
fn open(path: &Path) -> std::io::Result<Body> {
    with_length(std::fs::File::open(path)?)
}

fn with_length(file: std::fs::File) -> std::io::Result<Body> {
    let len = file.metadata()?.len();
    Ok(Body::File { file, len })
}

impl Obtained {
    /// A file opened at `clock`.
    fn read(result: std::io::Result<Body>, clock: Instant) -> Obtained {
        Obtained {
            body: result.map_err(|e| Failure::new(ErrorKind::Read, format!("cannot read: {e}"))),
            fetch: None,
            ms: lap(clock),
        }
    }

    /// An object read that began at `clock`.
    fn from_store(result: Result<Vec<u8>, Failure>, clock: Instant) -> Obtained {
        Obtained {
            body: result.map(Body::Bytes),
            fetch: None,
            ms: lap(clock),
        }
    }

    /// A download that began at `clock`.
    #[cfg(feature = "http")]
    fn fetched(
        result: Result<crate::fetch::Fetched, crate::fetch::FetchFailure>,
        clock: Instant,
    ) -> Obtained {
        let (body, info) = match result {
            Ok(fetched) => (Ok(Body::Bytes(fetched.bytes)), fetched.info),
            Err(failure) => (
                Err(Failure::new(ErrorKind::Download, failure.reason)),
                failure.info,
            ),
        };
        Obtained {
            body,
            fetch: Some(info),
            ms: lap(clock),
        }
    }
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

fn guarded(work: impl FnOnce(&mut JobOutcome) -> Result<(), Status>) -> JobOutcome {
    let mut outcome = JobOutcome::default();
    IN_JOB.with(|flag| flag.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| work(&mut outcome)));
    IN_JOB.with(|flag| flag.set(false));
    outcome.status = match result {
        Ok(Ok(())) => Status::Ok,
        Ok(Err(status)) => status,
        Err(panic) => Status::failed(
            ErrorKind::Internal,
            format!("internal error (panic): {}", panic_text(&*panic)),
        ),
    };
    outcome
}

fn convert(
    job: &Job,
    spec: &Spec,
    obtained: Obtained,
    outcome: &mut JobOutcome,
    gate: &CommitGate,
) -> Result<(), Status> {
    let encoded = encode_obtained(job, spec, obtained, outcome)?;
    write_output(job, spec, encoded, outcome, gate)
}

/// The CPU work on the bytes in hand: decode, resize, encode.
fn encode_obtained(
    job: &Job,
    spec: &Spec,
    obtained: Obtained,
    outcome: &mut JobOutcome,
) -> Result<Vec<u8>, Status> {
    outcome.fetch = obtained.fetch;
    match obtained.fetch {
        Some(_) => outcome.times.fetch_ms = obtained.ms,
        None => outcome.times.read_ms = obtained.ms,
    }
    let hint = extension_of(&job.input);
    let clock = Instant::now();
    let decoded = match obtained.body.map_err(Status::Failed)? {
        Body::Bytes(bytes) => {
            outcome.bytes_in = bytes.len() as u64;
            decode::decode_hinted(&bytes, spec, hint)
        }
        Body::File { file, len } => {
            outcome.bytes_in = len;
            decode::decode_file(file, spec, hint)
        }
    }
    .map_err(Status::Failed)?;
    outcome.size_in = Some(decoded.stored_size);
    outcome.times.decode_ms = lap(clock);

    let clock = Instant::now();
    let resized = resize::resize(decoded.image, decoded.full_size, spec).map_err(internal)?;
    outcome.size_out = Some((resized.width(), resized.height()));
    outcome.times.resize_ms = lap(clock);

    let clock = Instant::now();
    let encoded = encode::encode(&resized, job.format, spec).map_err(internal)?;
    outcome.times.encode_ms = lap(clock);
    Ok(encoded)
}

/// Puts the encoded output in place: a file written atomically beneath the output folder,
/// or an object.
fn write_output(
    job: &Job,
    spec: &Spec,
    encoded: Vec<u8>,
    outcome: &mut JobOutcome,
    gate: &CommitGate,
) -> Result<(), Status> {
    let clock = Instant::now();
    outcome.bytes_out = encoded.len() as u64;
    match job.output_object() {
        Some(url) => put_object(job, url, encoded, spec, outcome, gate)?,
        None => {
            let replace = spec.existing == ExistingOutput::Overwrite;
            let may_commit = || gate.commit();
            write_beneath(
                &job.output_root,
                job.output_rel(),
                &encoded,
                replace,
                &may_commit,
            )
            .map_err(|failure| {
                outcome.output_unusable = failure.output_unusable;
                Status::failed(failure.kind, failure.message)
            })?;
        }
    }
    outcome.times.write_ms = lap(clock);
    Ok(())
}

/// Writes the output object in one create-only request (a replacing one with
/// `--overwrite`); an object that is already there counts as an existing output.
fn put_object(
    job: &Job,
    url: Result<ObjectUrl, String>,
    encoded: Vec<u8>,
    spec: &Spec,
    outcome: &mut JobOutcome,
    gate: &CommitGate,
) -> Result<(), Status> {
    let url = url.map_err(|m| Status::failed(ErrorKind::Write, m))?;
    if !gate.commit() {
        return Err(Status::failed(
            ErrorKind::Write,
            "abandoned before its output was written",
        ));
    }
    let replace = spec.existing == ExistingOutput::Overwrite;
    let put = store::put_blocking(&url, encoded, replace, &spec.fetch);
    put_status(job, spec, put, outcome)
}

/// What a put's result means for the job.
fn put_status(
    job: &Job,
    spec: &Spec,
    put: Result<(), store::PutFailure>,
    outcome: &mut JobOutcome,
) -> Result<(), Status> {
    match put {
        Ok(()) => Ok(()),
        Err(store::PutFailure::Exists) => {
            outcome.bytes_out = 0;
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

/// The extension of the input's name (a file's, an object's, or a URL path's last
/// segment's), which names formats that carry no signature or that imgpar does not read.
fn extension_of(input: &Input) -> Option<&str> {
    let name = match input {
        Input::File(path) => path.file_name()?.to_str()?,
        Input::Url(url) => url.split(['?', '#']).next()?.rsplit('/').next()?,
        Input::Object(url) => url.name(),
    };
    Some(name.rsplit_once('.')?.1)
}

/// A resize or encode failure: not the input's fault.
fn internal(message: String) -> Status {
    Status::failed(ErrorKind::Internal, message)
}

fn lap(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
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
            outcome.status,
            Status::failed(ErrorKind::Internal, "internal error (panic): decoder bug")
        );
        // The thread is out of the job again: later panics are reported as usual.
        assert!(!IN_JOB.with(Cell::get));
    }
}
