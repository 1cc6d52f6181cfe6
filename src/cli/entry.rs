//! The whole command line as one call: parse the arguments, run the command, give the
//! exit code. imgpar's own binary is this call; so is the Python package's `imgpar`
//! command.

use std::ffi::OsString;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;

use super::{BenchArgs, Cli, Command};
use crate::exit::ExitCode;

/// Runs imgpar as a command with `args` (the program's name first, as in `argv`) and
/// returns its exit code. Parse errors, `--help` and `--version` are printed and end with
/// clap's code. Ctrl-C and SIGTERM wind the run down (exit 130); a second ends the
/// process at once. Given `worker`, serves as a process-mode worker.
pub fn main_from(args: Vec<OsString>) -> i32 {
    ignore_file_size_signal();
    crate::job::quiet_panics_in_jobs();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return error.exit_code();
        }
    };
    let code = match cli.command {
        Some(Command::Worker) => return crate::worker::serve(),
        Some(Command::Bench(args)) => bench(args),
        Some(Command::Completions { shell }) => super::print_completions(shell),
        Some(Command::MergeReports { reports, out }) => {
            super::merge_reports(&reports, out.as_deref())
        }
        Some(Command::Plan(args)) => super::plan(*args),
        Some(Command::Run(args)) => super::run_plan(*args, cancel_on_signals()),
        Some(Command::Enqueue(args)) => super::enqueue(*args),
        Some(Command::Work(args)) => super::work(*args, cancel_on_signals()),
        Some(Command::QueueStatus(args)) => super::queue_status(args),
        Some(Command::Man) => super::print_man(),
        None => super::convert(cli, cancel_on_signals()),
    };
    code.code()
}

/// `imgpar bench`: the sweep, its table on stdout, and an exit code.
fn bench(args: Box<BenchArgs>) -> ExitCode {
    let config = match args.into_config() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("imgpar: {message}");
            return ExitCode::Usage;
        }
    };
    let cancel = cancel_on_signals();
    match crate::bench::run(&config, &cancel) {
        Ok(result) => {
            print!("{}", result.text());
            ExitCode::Ok
        }
        Err(error) => {
            eprintln!("imgpar bench: {error}");
            match error {
                crate::bench::BenchError::Interrupted => ExitCode::Interrupted,
                crate::bench::BenchError::Failed(_) => ExitCode::Usage,
            }
        }
    }
}

/// Under a file size limit (`ulimit -f`) a write past it would kill the process with
/// SIGXFSZ; ignored, the write fails with EFBIG instead and the run stops with a clear
/// error. Worker processes inherit the setting. (Windows has no such signal.)
fn ignore_file_size_signal() {
    // SAFETY: setting a signal to SIG_IGN has no preconditions; it is done before the
    // run starts its threads.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// A flag set by the first Ctrl-C or SIGTERM (on Windows: Ctrl-C, Ctrl-Break or the
/// console closing; the run then winds down); a second one says so, closes the result
/// files with what ended (see [`on_second_signal`]) and ends the process at once with
/// exit code 130.
fn cancel_on_signals() -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return cancel;
        };
        std::thread::Builder::new()
            .name("imgpar-signals".into())
            .spawn(move || {
                for _ in signals.forever() {
                    interrupted(&flag);
                }
            })
            .expect("the system can start a thread");
    }
    #[cfg(windows)]
    crate::windows::on_console_interrupt(move || interrupted(&flag));
    cancel
}

/// One interruption: the first sets `flag`; the next ends the process (see
/// [`cancel_on_signals`]).
fn interrupted(flag: &AtomicBool) {
    if flag.swap(true, std::sync::atomic::Ordering::SeqCst) {
        eprintln!(
            "imgpar: interrupted again: stopping at once, the images in progress are not \
             finished"
        );
        for hook in SECOND_SIGNAL
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            hook();
        }
        std::process::exit(ExitCode::Interrupted.code());
    }
}

type Hook = Box<dyn Fn() + Send + Sync>;

static SECOND_SIGNAL: std::sync::Mutex<Vec<Hook>> = std::sync::Mutex::new(Vec::new());

/// Runs `hook` (closing a result file, say) when a second Ctrl-C or SIGTERM ends the
/// process at once.
pub(super) fn on_second_signal(hook: Hook) {
    SECOND_SIGNAL
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(hook);
}
