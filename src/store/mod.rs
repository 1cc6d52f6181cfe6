//! Object storage in and out (`s3://`, `gs://`, `az://`): addresses are plain data; the
//! requests need the `cloud` feature, and without it every request fails with a sentence
//! that says so.

#[cfg(not(feature = "cloud"))]
mod absent;
#[cfg(feature = "cloud")]
mod connection;
#[cfg(feature = "cloud")]
mod listing;
mod location;
mod probe;
#[cfg(feature = "cloud")]
mod requests;
#[cfg(feature = "cli")]
mod upload;
mod url;

#[cfg(not(feature = "cloud"))]
pub use absent::*;
#[cfg(feature = "cloud")]
pub use listing::*;
pub use location::Location;
pub use probe::{CreateOnly, probe_result_file, probe_writes};
#[cfg(feature = "cloud")]
pub use requests::*;
#[cfg(feature = "cli")]
pub use upload::put_file_blocking;
pub use url::ObjectUrl;

/// Why a put failed.
#[derive(Debug)]
pub enum PutFailure {
    /// An object already stands there (and the write was create-only): nothing was
    /// written.
    #[cfg_attr(not(feature = "cloud"), allow(dead_code))]
    Exists,
    /// The write failed; `every_write` when the bucket itself refuses (missing, forbidden),
    /// so that every later write would fail too.
    Failed { message: String, every_write: bool },
}

/// Where a run reads an input from or writes its outputs to, once `file://` is taken off.
pub fn local_path(path: &std::path::Path) -> std::path::PathBuf {
    match path.to_str().and_then(|text| text.strip_prefix("file://")) {
        Some(rest) => std::path::PathBuf::from(rest),
        None => path.to_path_buf(),
    }
}

#[cfg(feature = "cli")]
/// Writes a whole file the run produces besides images (a report, a trace) to `path`: a
/// local file, replaced atomically, or an object, replaced in one request.
pub fn write_result_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    match Location::parse(path)? {
        Location::Object(url, _) => {
            replace_object(&url, bytes.to_vec(), &crate::fetch::FetchPolicy::default())
        }
        Location::Local(local) => {
            crate::output::write_atomic(&local, bytes, true).map_err(|e| e.message)
        }
    }
}

#[cfg(feature = "cli")]
/// Puts `bytes` at `url` in one request, replacing what is there; says why it failed.
pub(crate) fn replace_object(
    url: &ObjectUrl,
    bytes: Vec<u8>,
    policy: &crate::fetch::FetchPolicy,
) -> Result<(), String> {
    put_blocking(url, bytes, true, policy).map_err(|failure| match failure {
        PutFailure::Exists => "it exists".to_string(),
        PutFailure::Failed { message, .. } => message,
    })
}

#[cfg(feature = "cli")]
/// Reads a whole file given on the command line (a report to merge): a local file or an
/// object.
pub fn read_result_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    match Location::parse(path)? {
        Location::Object(url, _) => {
            let policy = crate::fetch::FetchPolicy::default();
            get_blocking(&url, &policy).map_err(|failure| failure.message)
        }
        Location::Local(local) => std::fs::read(local).map_err(|e| e.to_string()),
    }
}
