//! Folders held open, so that writes beneath the output folder go exactly where the plan
//! says: each folder below the root is opened without following links, and files are
//! created, renamed and removed relative to the open folder, never by a path that could be
//! redirected between a check and the write. One `Dir` a platform, the same promises:
//! `unix` on folder descriptors, `windows` on folder handles.

use std::io;

/// Why a folder below the root could not be entered.
pub enum EnterError {
    /// The name is a symbolic link (on Windows, any reparse point: a symbolic link or a
    /// junction): writing through it could land outside the root.
    Link,
    /// Something other than a folder stands under the name.
    NotAFolder,
    Io(io::Error),
}

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::Dir;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::Dir;
