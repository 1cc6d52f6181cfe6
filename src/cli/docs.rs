//! What the command line says about itself: shell completion scripts and the manual page,
//! both generated from the same clap definitions as the parser, so they never drift.

use clap::CommandFactory;

use super::Cli;
use crate::exit::ExitCode;

/// Writes the completion script for `shell` on stdout.
pub fn print_completions(shell: clap_complete::Shell) -> ExitCode {
    clap_complete::generate(shell, &mut Cli::command(), "imgpar", &mut std::io::stdout());
    ExitCode::Ok
}

/// Writes the manual page (roff) on stdout.
pub fn print_man() -> ExitCode {
    match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
        Ok(()) => ExitCode::Ok,
        Err(e) => {
            eprintln!("imgpar: cannot write the manual page: {e}");
            ExitCode::Usage
        }
    }
}
