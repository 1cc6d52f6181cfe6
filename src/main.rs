//! The imgpar command: parse, run, map the outcome to an exit code.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;
use imgpar::ExitCode;
use imgpar::cli::{Cli, Command};

fn main() {
    ignore_file_size_signal();
    imgpar::internals::quiet_panics_in_jobs();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Worker) => imgpar::worker::maybe_serve(),
        Some(Command::Bench(args)) => std::process::exit(bench(args)),
        Some(Command::Completions { shell }) => {
            std::process::exit(imgpar::cli::print_completions(shell).code())
        }
        Some(Command::MergeReports { reports, out }) => {
            std::process::exit(imgpar::cli::merge_reports(&reports, out.as_deref()).code())
        }
        Some(Command::Enqueue(args)) => std::process::exit(imgpar::cli::enqueue(*args).code()),
        Some(Command::Work(args)) => {
            std::process::exit(imgpar::cli::work(*args, cancel_on_signals()).code())
        }
        Some(Command::QueueStatus(args)) => {
            std::process::exit(imgpar::cli::queue_status(args).code())
        }
        Some(Command::Man) => std::process::exit(imgpar::cli::print_man().code()),
        None => {}
    }
    let code = imgpar::cli::convert(cli, cancel_on_signals());
    std::process::exit(code.code());
}

/// `imgpar bench`: the sweep, its table on stdout, and an exit code.
fn bench(args: Box<imgpar::cli::BenchArgs>) -> i32 {
    let config = match args.into_config() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("imgpar: {message}");
            return ExitCode::Usage.code();
        }
    };
    let cancel = cancel_on_signals();
    match imgpar::bench::run(&config, &cancel) {
        Ok(result) => {
            print!("{}", result.text());
            ExitCode::Ok.code()
        }
        Err(message) => {
            eprintln!("imgpar bench: {message}");
            if cancel.load(std::sync::atomic::Ordering::Relaxed) || message == "interrupted" {
                ExitCode::Interrupted.code()
            } else {
                ExitCode::Usage.code()
            }
        }
    }
}

/// Under a file size limit (`ulimit -f`) a write past it would kill the process with
/// SIGXFSZ; ignored, the write fails with EFBIG instead and the run stops with a clear
/// error. Worker processes inherit the setting.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal to SIG_IGN before any other thread exists has no
    // preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// A flag set by the first Ctrl-C or SIGTERM (the run then winds down); a second one ends
/// the process at once with exit code 130.
fn cancel_on_signals() -> Arc<AtomicBool> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::flag;
    let cancel = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registration fails only for forbidden signals, which these are not.
        let _ = flag::register_conditional_shutdown(
            signal,
            ExitCode::Interrupted.code(),
            Arc::clone(&cancel),
        );
        let _ = flag::register(signal, Arc::clone(&cancel));
    }
    cancel
}
