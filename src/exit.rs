//! The exit codes imgpar promises, decided in one place from typed results.

use crate::error::Error;
use crate::report::{MergedReport, RunReport};

/// How the imgpar command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Every image converted or skipped.
    Ok = 0,
    /// Some images failed; the rest were done.
    SomeFailed = 1,
    /// A usage error, or the run could not start.
    Usage = 2,
    /// Stopped early: the output could not take more files (full disk, read-only folder).
    OutputUnusable = 3,
    /// `merge-reports`: the shards do not add up to exactly the plan (one missing, one
    /// reported twice, or reports of different plans); `queue-status`: the queue is not
    /// done.
    Incomplete = 4,
    /// Interrupted by Ctrl-C or SIGTERM.
    Interrupted = 130,
}

impl ExitCode {
    /// The code for a finished run: interrupted, stopped by an unusable output, some
    /// failed, or all done.
    pub fn of_report(report: &RunReport) -> ExitCode {
        if report.interrupted {
            ExitCode::Interrupted
        } else if report.stopped.is_some() {
            ExitCode::OutputUnusable
        } else if report.failed > 0 || report.inputs_cut.is_some() {
            ExitCode::SomeFailed
        } else {
            ExitCode::Ok
        }
    }

    /// The code for merged shard reports: incomplete, some failed or not started, or all
    /// done.
    pub fn of_merged(merged: &MergedReport) -> ExitCode {
        if !merged.complete {
            ExitCode::Incomplete
        } else if merged.failed > 0 || merged.not_started > 0 {
            ExitCode::SomeFailed
        } else {
            ExitCode::Ok
        }
    }

    /// The code for an error: a run that could not start or could not write its result
    /// files is a usage error (2); one image's failure (from [`crate::thumbnail`]) is a
    /// failed image (1).
    pub fn of_error(error: &Error) -> ExitCode {
        match error {
            Error::Input(_)
            | Error::Output(_)
            | Error::ResultFile(_)
            | Error::Settings(_)
            | Error::Workers(_) => ExitCode::Usage,
            Error::Image(_) => ExitCode::SomeFailed,
        }
    }

    /// The number the process exits with.
    pub fn code(self) -> i32 {
        self as i32
    }
}
