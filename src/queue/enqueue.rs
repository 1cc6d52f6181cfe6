//! `imgpar enqueue`: a plan made once, over the whole of its inputs (names decided as a
//! run decides them), published to a queue a message per image, with its settings once.

use std::time::Duration;

use super::address::QueueAddress;
use super::broker::retrying;
use super::messages::{ImageMessage, QueueSettings, SETTINGS_FORMAT, problem_id};
use crate::plan::Planned;
use crate::report::{PlanIdentity, Record};
use crate::run::Run;

/// Messages published per request to the broker.
const BATCH: usize = 256;

/// What an enqueue did.
#[derive(Debug, Clone)]
pub struct Enqueued {
    /// The plan's identity.
    pub plan: PlanIdentity,
    /// Images planned (inputs that failed before becoming images included).
    pub planned: usize,
    /// Images published now.
    pub published: usize,
    /// Images not published because the queue holds them pending or leased, or has them
    /// done (converted or skipped).
    pub held_already: usize,
    /// Inputs that failed before becoming images, recorded failed in the queue.
    pub problems: usize,
}

/// Plans `run` (its inputs, output and conversion settings; its shard, if any, is
/// ignored: a queue carries the whole plan) and publishes it to the queue at `address`.
/// The plan is read twice: once for its identity, which must be the identity of any plan
/// the queue holds already (a queue holds one plan), and once to publish. Images pending,
/// leased or done in the queue are not published again; failed ones are.
pub fn enqueue(address: &QueueAddress, run: &Run, patience: Duration) -> Result<Enqueued, String> {
    let runtime = super::runtime()?;
    let broker = runtime.block_on(super::connect(address, patience))?;
    let (plan, planned) = run.plan_each(&mut |_| {}).map_err(|e| e.to_string())?;
    let settings = QueueSettings {
        format: SETTINGS_FORMAT.into(),
        plan: plan.clone(),
        planned,
        spec: run.spec_used().clone(),
        output: crate::paths::path_bytes(&run.config().output).into_owned(),
        unconditional_store: run.config().unconditional_store,
    };
    let held = runtime
        .block_on(retrying(patience, || broker.settings()))
        .map_err(|e| format!("{address}: {e}"))?;
    if let Some(held) = held
        && held.plan != plan
    {
        return Err(format!(
            "{address} holds another plan ({}): a queue holds one plan; use another queue name, \
             or the plan's own inputs and settings",
            plan.differences(&held.plan).join("; ")
        ));
    }
    runtime
        .block_on(retrying(patience, || broker.put_settings(&settings)))
        .map_err(|e| format!("{address}: {e}"))?;

    let mut batch: Vec<(String, String)> = Vec::with_capacity(BATCH);
    let mut published = 0;
    let mut sent = 0;
    let mut problems = 0;
    let mut failure: Option<String> = None;
    let mut flush = |batch: &mut Vec<(String, String)>| -> Result<(), String> {
        let n = runtime.block_on(retrying(patience, || broker.publish(batch)))?;
        published += n;
        sent += batch.len();
        batch.clear();
        Ok(())
    };
    let (again, _) = run
        .plan_each(&mut |item| {
            if failure.is_some() {
                return;
            }
            let done = match item {
                Planned::Job(job) => {
                    let message = ImageMessage::of(&job);
                    match serde_json::to_string(&message) {
                        Ok(text) => batch.push((message.id, text)),
                        Err(e) => failure = Some(e.to_string()),
                    }
                    if batch.len() < BATCH {
                        return;
                    }
                    flush(&mut batch)
                }
                Planned::Problem(path, reason, _) => {
                    problems += 1;
                    let record = Record::problem(&path, reason);
                    let json = serde_json::to_string(&record).unwrap_or_default();
                    let id = problem_id(&path);
                    runtime.block_on(retrying(patience, || broker.record_problem(&id, &json)))
                }
                Planned::PassedOver(..) => return,
            };
            if let Err(e) = done {
                failure = Some(e);
            }
        })
        .map_err(|e| e.to_string())?;
    if failure.is_none()
        && let Err(e) = flush(&mut batch)
    {
        failure = Some(e);
    }
    if let Some(e) = failure {
        return Err(format!(
            "{address}: {e} (the images published so far stay queued)"
        ));
    }
    if again != plan {
        return Err(format!(
            "the inputs changed while they were enqueued ({}): enqueue again once they stand \
             still",
            again.differences(&plan).join("; ")
        ));
    }
    Ok(Enqueued {
        plan,
        planned,
        published,
        held_already: sent - published,
        problems,
    })
}
