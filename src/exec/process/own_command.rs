//! How this process's imgpar is started again, for process mode's workers and `imgpar
//! bench`'s runs: this executable, or what a host program said once with
//! [`start_again_as`] (an interpreter, say).

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::RwLock;

/// How this process's imgpar is started again: a program and the arguments that come
/// before imgpar's own (`worker`, or a bench run's flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnCommand {
    /// The executable.
    pub program: PathBuf,
    /// Arguments put before imgpar's own (e.g. `-m imgpar` for Python).
    pub leading_args: Vec<OsString>,
}

impl OwnCommand {
    /// A command running `program` with `leading_args`, then imgpar's arguments.
    pub fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(&self.program);
        command.args(&self.leading_args);
        command
    }
}

static STARTED_AS: RwLock<Option<OwnCommand>> = RwLock::new(None);

/// From now on, process mode starts its workers (and `imgpar bench` its runs) as
/// `program leading_args... worker` (or `... <run flags>`) instead of this executable.
/// The program must call [`crate::worker::serve`] when given `worker`, before printing anything.
pub fn start_again_as(program: PathBuf, leading_args: Vec<OsString>) {
    let command = OwnCommand {
        program,
        leading_args,
    };
    *STARTED_AS
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(command);
}

/// How imgpar is started again in this process: what [`start_again_as`] set, or else this
/// executable with no leading arguments. `Err` says why it cannot be found.
pub fn own_command() -> Result<OwnCommand, String> {
    if let Some(command) = STARTED_AS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
    {
        return Ok(command);
    }
    let program = std::env::current_exe()
        .map_err(|e| format!("cannot find imgpar's own program to start again: {e}"))?;
    Ok(OwnCommand {
        program,
        leading_args: Vec::new(),
    })
}
