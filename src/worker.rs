//! Process mode from a program that embeds imgpar: the worker side.
//!
//! `Mode::Process` starts worker processes by running the current executable again with
//! the single argument `worker`, and talks to them over their stdin and stdout. imgpar's
//! own binary does this; a program that embeds the library and uses process mode calls
//! [`maybe_serve`] first thing in `main`, before it parses its own arguments or prints
//! anything:
//!
//! ```no_run
//! // The first line of the host program's `main`:
//! imgpar::worker::maybe_serve();
//! // ... then the program's own work, which may use imgpar::Mode::Process ...
//! ```
//!
//! The trade-off: a separate worker binary would need no such call but would have to be
//! installed and found at run time; re-running the same executable always finds the same
//! code, at the cost of one line in the host's `main`.
//!
//! A host whose executable is not its own program (an interpreter: the Python package's
//! executable is `python`) says instead how imgpar is started again, once, with
//! [`start_again_as`]; the started program calls [`serve`] when it is given `worker`.

pub use crate::exec::process::own_command::{OwnCommand, own_command, start_again_as};

/// Serves images as a worker on stdin and stdout until the parent is done; returns the
/// process's exit code (2, with a message, when stdin is a terminal or the protocol
/// cannot be set up). What a program started as a worker calls; it must not have
/// printed anything on stdout before.
pub fn serve() -> i32 {
    crate::exec::process::serve::serve()
}

/// If this process was started as an imgpar worker (its only argument is `worker`), serves
/// images until the parent is done and exits the process (with code 2 and a message if
/// its stdin is a terminal: a worker is started by imgpar, not by hand). Otherwise returns
/// at once and does nothing.
pub fn maybe_serve() {
    let mut args = std::env::args_os().skip(1);
    if let (Some(first), None) = (args.next(), args.next())
        && first == "worker"
    {
        std::process::exit(serve());
    }
}
