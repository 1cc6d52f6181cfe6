//! The exit codes imgpar promises.

/// Every image converted or skipped.
pub const OK: i32 = 0;
/// Some images failed; the rest were done.
pub const SOME_FAILED: i32 = 1;
/// A usage error, or the run could not start.
pub const USAGE: i32 = 2;
/// Stopped early: the output could not take more files (full disk, read-only folder).
pub const OUTPUT_UNUSABLE: i32 = 3;
/// Interrupted by Ctrl-C or SIGTERM.
pub const INTERRUPTED: i32 = 130;
