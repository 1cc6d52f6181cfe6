//! A path as bytes and back: how imgpar names a path on the wire to a worker, in a queue
//! message, in a plan key and in the hashes that pick names. The one place that knows how
//! a path becomes bytes: on Unix its bytes as the system has them; on Windows the standard
//! library's encoding of its UTF-16 name (UTF-8 for every name that is valid Unicode).

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The bytes of `path`, borrowed: exactly the name the system uses, UTF-8 or not.
pub(crate) fn path_bytes(path: &Path) -> Cow<'_, [u8]> {
    Cow::Borrowed(path.as_os_str().as_encoded_bytes())
}

/// The path whose bytes are `bytes` ([`path_bytes`] undone).
pub(crate) fn bytes_path(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(bytes_name(bytes))
}

/// The name whose bytes are `bytes`, as [`bytes_path`] reads them.
#[cfg(unix)]
pub(crate) fn bytes_name(bytes: Vec<u8>) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes)
}

/// The name whose bytes are `bytes`, as [`bytes_path`] reads them. Bytes that are not
/// UTF-8 (a Unix name sent from another machine, or a Windows name holding a lone
/// surrogate) name no file a Windows user could have typed: they are read with U+FFFD in
/// place of what is not UTF-8, and such a job fails as a file not found.
#[cfg(windows)]
pub(crate) fn bytes_name(bytes: Vec<u8>) -> OsString {
    match String::from_utf8(bytes) {
        Ok(name) => OsString::from(name),
        Err(e) => OsString::from(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// The part of `path` after `prefix` and one separator, when `path` is `prefix` joined
/// with a relative name that does not start with a separator; `None` otherwise.
pub(crate) fn rest_after<'p>(path: &'p Path, prefix: &Path) -> Option<&'p Path> {
    let (bytes, root) = (
        path.as_os_str().as_encoded_bytes(),
        prefix.as_os_str().as_encoded_bytes(),
    );
    let rest = bytes.strip_prefix(root)?;
    let (&first, rest) = rest.split_first()?;
    let separator = |b: u8| std::path::is_separator(char::from(b));
    if root.is_empty() || !separator(first) || rest.first().is_none_or(|&b| separator(b)) {
        return None;
    }
    // SAFETY: `rest` is what follows an ASCII separator in bytes that
    // `as_encoded_bytes` gave, which the standard library allows to be made back into
    // a name.
    Some(Path::new(unsafe {
        OsStr::from_encoded_bytes_unchecked(rest)
    }))
}
