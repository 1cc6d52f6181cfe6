//! A path as bytes and back: how imgpar names a path on the wire to a worker, in a queue
//! message, in a plan key and in the hashes that pick names. The one place that knows a
//! path is its bytes (Unix).

use std::borrow::Cow;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The bytes of `path`, borrowed: exactly the name the system uses, UTF-8 or not.
pub(crate) fn path_bytes(path: &Path) -> Cow<'_, [u8]> {
    Cow::Borrowed(path.as_os_str().as_bytes())
}

/// The path whose bytes are `bytes` ([`path_bytes`] undone).
pub(crate) fn bytes_path(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}
