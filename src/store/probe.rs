//! Before any image: proof that a run can write where it will write. A probe object is
//! put create-only, put create-only again (a store that honours `If-None-Match: *`, or
//! GCS's generation match, refuses the second), then removed. This catches a missing
//! bucket, credentials that cannot sign a write, a read-only token, and a store that
//! ignores conditional writes, once per run instead of once per image after the work.

use super::{ObjectUrl, PutFailure, delete_blocking, put_blocking};
use crate::fetch::FetchPolicy;

/// Whether a store keeps create-only writes create-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOnly {
    /// A second create-only put of an existing object was refused: racing tasks write
    /// each object once.
    Honoured,
    /// A second create-only put replaced the object: the store ignores the condition.
    Ignored,
}

/// A name no other task picks at the same moment.
fn probe_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        ".imgpar-probe-{}-{nanos:x}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    )
}

/// Puts a probe object under the prefix `root` twice, create-only, and removes it. `Err`
/// says why nothing can be written there; the warning, if any, says that the probe object
/// could not be removed.
pub fn probe_writes(
    root: &ObjectUrl,
    policy: &FetchPolicy,
) -> Result<(CreateOnly, Option<String>), String> {
    let probe = root.join(&probe_name());
    let put = || put_blocking(&probe, b"imgpar write probe\n".to_vec(), false, policy);
    match put() {
        Ok(()) => {}
        Err(PutFailure::Exists) => return Err(format!("{probe} exists already")),
        Err(PutFailure::Failed { message, .. }) => {
            return Err(format!("nothing can be written there: {message}"));
        }
    }
    let create_only = match put() {
        Err(PutFailure::Exists) => Ok(CreateOnly::Honoured),
        Ok(()) => Ok(CreateOnly::Ignored),
        Err(PutFailure::Failed { message, .. }) => Err(format!(
            "a second create-only write of the probe object failed otherwise than \
             'exists': {message}"
        )),
    };
    let leftover = delete_blocking(&probe, policy)
        .err()
        .map(|why| format!("the write probe object stays behind: {why}"));
    create_only.map(|create_only| (create_only, leftover))
}

/// Proves that a file the run writes at its end (a report, a trace) can be written at
/// `url`: a probe object beside it is put and removed.
pub fn probe_result_file(url: &ObjectUrl, policy: &FetchPolicy) -> Result<(), String> {
    let probe = ObjectUrl {
        key: format!("{}{}", url.key, probe_name()),
        ..url.clone()
    };
    match put_blocking(&probe, b"imgpar write probe\n".to_vec(), false, policy) {
        Ok(()) | Err(PutFailure::Exists) => {}
        Err(PutFailure::Failed { message, .. }) => return Err(message),
    }
    // A probe that stays behind costs nothing but a small object; the write worked.
    let _ = delete_blocking(&probe, policy);
    Ok(())
}
