//! Windows' own mechanisms behind the guarantees imgpar keeps on Unix with `libc`: a
//! file's identity, opening a file without following a link, a process's CPU time and
//! peak memory, and the console's Ctrl-C. Each function says which Unix call it stands
//! in for; the callers choose between the two with `cfg(unix)` / `cfg(windows)`.

mod console;
mod files;
mod usage;

pub(crate) use console::on_console_interrupt;
pub(crate) use files::{file_identity, open_not_following};
pub(crate) use usage::{process_usage, self_usage};
