//! `imgpar queue-status`: how far a queue is, proven against its plan: complete when no
//! image is pending or leased and there is a record for every image planned.

use std::time::Duration;

use serde::Serialize;

use super::address::QueueAddress;
use super::broker::{QueueCounts, retrying};
use crate::report::PlanIdentity;

/// A queue's state.
#[derive(Debug, Clone, Serialize)]
pub struct QueueStatus {
    /// The queue, without credentials.
    pub queue: String,
    /// Pending, leased, done and failed.
    #[serde(flatten)]
    pub counts: QueueCounts,
    /// Images the plan holds (inputs that failed before becoming images included).
    pub planned: usize,
    /// Every planned image has its record and none is pending or leased.
    pub complete: bool,
    /// The plan's identity.
    pub plan: PlanIdentity,
}

impl QueueStatus {
    /// The exit code for this state: not complete (some image pending, leased or without
    /// its record), complete with failures, or complete and all done.
    #[cfg(feature = "cli")]
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        if !self.complete {
            crate::exit::ExitCode::Incomplete
        } else if self.counts.failed > 0 {
            crate::exit::ExitCode::SomeFailed
        } else {
            crate::exit::ExitCode::Ok
        }
    }
}

/// The state of the queue at `address`; with `records`, each record done is handed to it
/// too (and the counts of done and failed are those of the records read).
pub fn status(
    address: &QueueAddress,
    records: Option<&mut dyn FnMut(&str)>,
    patience: Duration,
) -> Result<QueueStatus, String> {
    let runtime = super::runtime()?;
    let broker = runtime.block_on(super::connect(address, patience))?;
    let in_queue = |e: String| format!("{address}: {e}");
    let settings = runtime
        .block_on(retrying(patience, || broker.settings()))
        .map_err(in_queue)?
        .ok_or_else(|| format!("{address} holds no plan: run imgpar enqueue first"))?;
    let mut counts = runtime
        .block_on(retrying(patience, || broker.counts()))
        .map_err(in_queue)?;
    if let Some(each) = records {
        let (mut done, mut failed) = (0, 0);
        runtime
            .block_on(broker.records(&mut |record| {
                done += 1;
                if record.contains(r#""status":"failed""#) {
                    failed += 1;
                }
                each(record);
            }))
            .map_err(in_queue)?;
        counts.done = done;
        counts.failed = failed;
    }
    let complete =
        counts.pending == 0 && counts.leased == 0 && counts.done == settings.planned as u64;
    Ok(QueueStatus {
        queue: address.shown(),
        counts,
        planned: settings.planned,
        complete,
        plan: settings.plan,
    })
}
