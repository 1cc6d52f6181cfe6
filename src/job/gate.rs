//! The commit gate: one decision per job between writing its output and being given up on.

use std::sync::atomic::{AtomicU8, Ordering};

/// Decides, once per job, between the job writing its output and the scheduler giving up
/// on it (threaded `--timeout`): whichever asks first wins, so an abandoned job never
/// writes and a job that is writing is not reported abandoned.
#[derive(Debug, Default)]
pub struct CommitGate(AtomicU8);

impl CommitGate {
    const OPEN: u8 = 0;
    const COMMITTING: u8 = 1;
    const ABANDONED: u8 = 2;

    /// The job's side: true if it may put its output in place (and the gate can no longer
    /// be abandoned).
    pub fn commit(&self) -> bool {
        self.0
            .compare_exchange(
                Self::OPEN,
                Self::COMMITTING,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// The scheduler's side: true if the job is now abandoned and will write nothing;
    /// false if it is already putting its output in place (its outcome will come).
    pub fn abandon(&self) -> bool {
        self.0
            .compare_exchange(
                Self::OPEN,
                Self::ABANDONED,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }
}
