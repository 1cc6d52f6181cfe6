//! The reports of a sharded run's tasks, merged into one: every record, totals recomputed,
//! and whether the shards add up to exactly the plan (none missing, none twice, all of
//! one plan). Reports are read as streams, a record at a time (reports written as the
//! run went, see [`crate::render::JsonReport`]; an older report, one JSON document, is
//! read whole): what is kept is a hash per output, to find outputs written twice.

mod read;

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::{PlanIdentity, ShardRecord};
#[cfg(feature = "cli")]
pub(crate) use read::MERGED_HEAD;
pub use read::ReportInput;
use read::read_report;

/// The merge of several JSON reports (`--report` files of the tasks of one sharded plan).
#[derive(Debug, Clone, Serialize)]
pub struct MergedReport {
    /// The shards add up to exactly the plan: each of the N present once, all reports of
    /// one plan, and a record for every image planned.
    pub complete: bool,
    /// Shards in the plan (N), as the reports say.
    pub shard_count: u64,
    /// Shard indexes with no report.
    pub missing_shards: Vec<u64>,
    /// Shard indexes with more than one report.
    pub duplicated_shards: Vec<u64>,
    /// Why the reports cannot be of one plan (different N, different plan sizes), if so.
    pub inconsistent: Vec<String>,
    /// Outputs written by more than one record (never the case for shards of one plan).
    pub duplicated_outputs: Vec<String>,
    /// Merged reports (earlier merges' outputs) found in a folder or prefix read, and
    /// passed over.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged_passed_over: Vec<String>,
    /// Images in the whole plan.
    pub plan_images: usize,
    /// Records in all the reports.
    pub images_reported: usize,
    /// Images converted.
    pub ok: usize,
    /// Images that failed.
    pub failed: usize,
    /// Images skipped (their output existed).
    pub skipped: usize,
    /// Images planned in some shard but never started (an interrupted task).
    pub not_started: usize,
    /// Bytes read, summed.
    pub bytes_in: u64,
    /// Bytes written, summed.
    pub bytes_out: u64,
    /// CPU seconds, summed over the tasks.
    pub cpu_s: f64,
    /// The longest task's wall time (tasks of an array run side by side).
    pub wall_s: f64,
    /// Each report's shard and where it came from, in shard order.
    pub shards: Vec<MergedShard>,
}

/// One report that went into a [`MergedReport`].
#[derive(Debug, Clone, Serialize)]
pub struct MergedShard {
    /// The report's name as given (its file).
    pub report: String,
    /// Its shard, and what chose it.
    #[serde(flatten)]
    pub shard: ShardRecord,
    /// The plan it says it belongs to (reports of imgpar before plan identities: none).
    #[serde(skip)]
    pub plan: Option<PlanIdentity>,
    /// Its images: converted, failed, skipped.
    pub ok: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
}

/// Merges `reports`, handing every record (as JSON text, in the order the reports are
/// given) to `records`. A report without a shard counts as shard 0 of 1. Fails, naming
/// the report, when one cannot be read, is not an imgpar report, or ends before its
/// totals (its run was killed).
pub fn merge(
    reports: &[ReportInput],
    records: &mut dyn FnMut(&str),
) -> Result<MergedReport, String> {
    let mut shards = Vec::new();
    let mut totals = Totals::default();
    let mut outputs = OutputHashes::default();
    let mut images_reported = 0;
    let mut merged_passed_over = Vec::new();
    for report in reports {
        let read = read_report(report, &mut |line, seen| {
            if let Some(output) = seen.output {
                outputs.push(output);
            }
            images_reported += 1;
            records(line);
        })?;
        let Some(read) = read else {
            if report.listed {
                merged_passed_over.push(report.name.clone());
                continue;
            }
            return Err(format!(
                "{} is a merged report (written by merge-reports), not a task's report; \
                 merge the tasks' own reports",
                report.name
            ));
        };
        totals.add(&read.totals);
        shards.push(MergedShard {
            report: report.name.clone(),
            ok: read.totals.ok,
            failed: read.totals.failed,
            skipped: read.totals.skipped,
            shard: read.shard,
            plan: read.plan,
        });
    }
    shards.sort_by_key(|s| s.shard.index);
    // The reference is what most reports say, not the first one read.
    let shard_count = majority(shards.iter().map(|s| s.shard.count)).unwrap_or(0);
    let plan_images = majority(shards.iter().map(|s| s.shard.plan_images)).unwrap_or(0);
    let identity = majority(shards.iter().filter_map(|s| s.plan.clone()));
    let mut inconsistent = Vec::new();
    for s in &shards {
        if s.shard.count != shard_count {
            inconsistent.push(format!(
                "{} is shard {}/{}, the others are of {shard_count}",
                s.report, s.shard.index, s.shard.count
            ));
        }
        match (&s.plan, &identity) {
            (Some(plan), Some(reference)) if plan != reference => {
                inconsistent.push(format!(
                    "{} is of another plan than the others: {}",
                    s.report,
                    plan.differences(reference).join("; ")
                ));
            }
            (None, Some(_)) => inconsistent.push(format!(
                "{} carries no plan identity (written by an older imgpar): it cannot be \
                 shown to be of the same plan; re-run that shard",
                s.report
            )),
            _ if s.shard.plan_images != plan_images => inconsistent.push(format!(
                "{} was planned with {} images, the others with {plan_images}: not the same \
                 inputs",
                s.report, s.shard.plan_images
            )),
            _ => {}
        }
    }
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    for s in &shards {
        *seen.entry(s.shard.index).or_default() += 1;
    }
    let missing_shards: Vec<u64> = (0..shard_count).filter(|i| !seen.contains_key(i)).collect();
    let duplicated_shards: Vec<u64> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(i, _)| *i)
        .collect();
    let duplicated_outputs = outputs.repeated(reports)?;
    let complete = !reports.is_empty()
        && missing_shards.is_empty()
        && duplicated_shards.is_empty()
        && inconsistent.is_empty()
        && duplicated_outputs.is_empty()
        && images_reported == plan_images;
    Ok(MergedReport {
        complete,
        shard_count,
        missing_shards,
        duplicated_shards,
        inconsistent,
        duplicated_outputs,
        merged_passed_over,
        plan_images,
        images_reported,
        ok: totals.ok,
        failed: totals.failed,
        skipped: totals.skipped,
        not_started: totals.not_started,
        bytes_in: totals.bytes_in,
        bytes_out: totals.bytes_out,
        cpu_s: totals.cpu_s,
        wall_s: totals.wall_s,
        shards,
    })
}

impl MergedReport {
    /// A few lines for people: complete or not, and what is missing.
    pub fn summary_text(&self) -> String {
        let mut lines = vec![format!(
            "imgpar: {} of {}: {} ok, {} failed, {} skipped, {} not started of {} planned",
            super::count(self.shards.len(), "report"),
            super::count(self.shard_count as usize, "shard"),
            self.ok,
            self.failed,
            self.skipped,
            self.not_started,
            super::count(self.plan_images, "image")
        )];
        let list = |items: &[u64]| {
            items
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.missing_shards.is_empty() {
            lines.push(format!("  missing shards: {}", list(&self.missing_shards)));
        }
        if !self.duplicated_shards.is_empty() {
            lines.push(format!(
                "  shards reported twice: {}",
                list(&self.duplicated_shards)
            ));
        }
        lines.extend(self.inconsistent.iter().map(|why| format!("  {why}")));
        for output in &self.duplicated_outputs {
            lines.push(format!("  written by more than one record: {output}"));
        }
        for report in &self.merged_passed_over {
            lines.push(format!(
                "  passed over {report}: a merged report (an earlier merge's output)"
            ));
        }
        lines.push(if self.complete {
            "  complete: the shards add up to exactly the plan".to_string()
        } else {
            let verdict =
                if !self.duplicated_shards.is_empty() || !self.duplicated_outputs.is_empty() {
                    "not complete: some of the plan is reported more than once"
                } else if !self.inconsistent.is_empty() {
                    "not complete: the reports are not all of one plan"
                } else {
                    "incomplete"
                };
            format!(
                "  {verdict} ({} records for a plan of {})",
                self.images_reported, self.plan_images
            )
        });
        lines.join("\n") + "\n"
    }
}

#[derive(Default)]
struct Totals {
    ok: usize,
    failed: usize,
    skipped: usize,
    not_started: usize,
    bytes_in: u64,
    bytes_out: u64,
    cpu_s: f64,
    wall_s: f64,
}

impl Totals {
    fn add(&mut self, report: &Totals) {
        self.ok += report.ok;
        self.failed += report.failed;
        self.skipped += report.skipped;
        self.not_started += report.not_started;
        self.bytes_in += report.bytes_in;
        self.bytes_out += report.bytes_out;
        self.cpu_s += report.cpu_s;
        self.wall_s = self.wall_s.max(report.wall_s);
    }
}

/// The value most of `values` have (the earliest of those tied), `None` for none.
fn majority<T: PartialEq>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counted: Vec<(T, usize)> = Vec::new();
    for value in values {
        match counted.iter_mut().find(|(seen, _)| *seen == value) {
            Some((_, n)) => *n += 1,
            None => counted.push((value, 1)),
        }
    }
    let most = counted.iter().map(|(_, n)| *n).max()?;
    counted
        .into_iter()
        .find(|(_, n)| *n == most)
        .map(|(value, _)| value)
}

/// A 64-bit hash of every output merged: 8 bytes a record. Outputs whose hash repeats
/// are named by reading the reports again (rare: only when some output is written twice
/// or two names share a hash).
#[derive(Default)]
struct OutputHashes(crate::hashes::HashLog);

impl OutputHashes {
    fn push(&mut self, output: std::borrow::Cow<'_, str>) {
        self.0.push(xxhash_rust::xxh3::xxh3_64(output.as_bytes()));
    }

    /// The outputs that more than one record claims, sorted.
    fn repeated(self, reports: &[ReportInput]) -> Result<Vec<String>, String> {
        let repeated = self.0.seal().repeated();
        if repeated.is_empty() {
            return Ok(Vec::new());
        }
        let mut seen = HashSet::new();
        let mut twice = std::collections::BTreeSet::new();
        for report in reports {
            read_report(report, &mut |_, record| {
                let Some(output) = record.output else {
                    return;
                };
                if repeated.contains(&xxhash_rust::xxh3::xxh3_64(output.as_bytes()))
                    && !seen.insert(output.to_string())
                {
                    twice.insert(output.into_owned());
                }
            })?;
        }
        Ok(twice.into_iter().collect())
    }
}

#[cfg(test)]
mod tests;
