//! The reports of a sharded run's tasks, merged into one: every record, totals recomputed,
//! and whether the shards add up to exactly the plan (none missing, none twice, all of
//! one plan).

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::{PlanIdentity, ShardRecord};

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
    /// Every record of every report, in shard order.
    pub images: Vec<Value>,
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

/// Merges `reports` (each a name and its JSON). A report without a shard counts as shard
/// 0 of 1. Fails, naming the report, when one is not an imgpar report.
pub fn merge(reports: &[(String, Value)]) -> Result<MergedReport, String> {
    let mut shards = Vec::new();
    let mut images = Vec::new();
    let mut totals = Totals::default();
    for (name, report) in reports {
        let read = read_report(name, report)?;
        totals.add(&read.totals);
        images.extend(read.images.iter().cloned());
        shards.push(MergedShard {
            report: name.clone(),
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
    let duplicated_outputs = duplicated_outputs(&images);
    let images_reported = images.len();
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
        images,
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
        lines.push(if self.complete {
            "  complete: the shards add up to exactly the plan".to_string()
        } else {
            format!(
                "  incomplete: {} records for a plan of {}",
                self.images_reported, self.plan_images
            )
        });
        lines.join("\n") + "\n"
    }
}

/// What one report contributes.
struct ReadReport<'a> {
    shard: ShardRecord,
    plan: Option<PlanIdentity>,
    images: &'a [Value],
    totals: Totals,
}

fn read_report<'a>(name: &str, report: &'a Value) -> Result<ReadReport<'a>, String> {
    let not_a_report = |what: &str| format!("{name} is not an imgpar report: {what}");
    let images = report
        .get("images")
        .and_then(Value::as_array)
        .ok_or_else(|| not_a_report("no `images` list"))?;
    let count = |field: &str| -> Result<usize, String> {
        report
            .get(field)
            .and_then(Value::as_u64)
            .map(|n| n as usize)
            .ok_or_else(|| not_a_report(&format!("no `{field}` count")))
    };
    let planned = count("planned")?;
    let shard = match report.get("shard") {
        Some(shard) if !shard.is_null() => serde_json::from_value(shard.clone())
            .map_err(|e| not_a_report(&format!("its `shard` is unreadable ({e})")))?,
        _ => ShardRecord {
            index: 0,
            count: 1,
            source: "not sharded".into(),
            plan_images: planned,
            shard_images: planned,
        },
    };
    let plan = match report.get("plan") {
        Some(plan) if !plan.is_null() => Some(
            serde_json::from_value(plan.clone())
                .map_err(|e| not_a_report(&format!("its `plan` is unreadable ({e})")))?,
        ),
        _ => None,
    };
    let number = |field: &str| report.get(field).and_then(Value::as_f64).unwrap_or(0.0);
    Ok(ReadReport {
        shard,
        plan,
        images,
        totals: Totals {
            ok: count("ok")?,
            failed: count("failed")?,
            skipped: count("skipped")?,
            not_started: count("not_started")?,
            bytes_in: number("bytes_in") as u64,
            bytes_out: number("bytes_out") as u64,
            cpu_s: number("cpu_s"),
            wall_s: number("wall_s"),
        },
    })
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

/// Output names that more than one record claims.
fn duplicated_outputs(images: &[Value]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut twice: Vec<String> = images
        .iter()
        .filter_map(|record| record.get("output")?.as_str())
        .filter(|output| !seen.insert(*output))
        .map(str::to_string)
        .collect();
    twice.sort();
    twice.dedup();
    twice
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(index: u64, count: u64, plan: usize, outputs: &[&str]) -> Value {
        json!({
            "planned": outputs.len(), "ok": outputs.len(), "failed": 0, "skipped": 0,
            "not_started": 0, "wall_s": 1.0, "cpu_s": 1.0, "bytes_in": 10, "bytes_out": 5,
            "shard": {"index": index, "count": count, "source": "--shard",
                      "plan_images": plan, "shard_images": outputs.len()},
            "images": outputs.iter().map(|o| json!({"output": o, "status": "ok"})).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn all_shards_once_is_complete() {
        let merged = merge(&[
            ("b".into(), report(1, 2, 3, &["x", "y"])),
            ("a".into(), report(0, 2, 3, &["z"])),
        ])
        .unwrap();
        assert!(merged.complete, "{}", merged.summary_text());
        assert_eq!((merged.ok, merged.images_reported), (3, 3));
        assert_eq!(merged.shards[0].report, "a");
    }

    #[test]
    fn missing_and_duplicated_shards_are_named() {
        let merged = merge(&[
            ("a".into(), report(0, 3, 4, &["x"])),
            ("b".into(), report(0, 3, 4, &["x"])),
        ])
        .unwrap();
        assert!(!merged.complete);
        assert_eq!(merged.missing_shards, vec![1, 2]);
        assert_eq!(merged.duplicated_shards, vec![0]);
        assert_eq!(merged.duplicated_outputs, vec!["x".to_string()]);
        let text = merged.summary_text();
        assert!(text.contains("missing shards: 1, 2"), "{text}");
    }

    #[test]
    fn reports_of_other_plans_are_inconsistent() {
        let merged = merge(&[
            ("a".into(), report(0, 2, 4, &["x", "y"])),
            ("b".into(), report(1, 2, 5, &["z", "w"])),
        ])
        .unwrap();
        assert!(!merged.complete);
        assert_eq!(merged.inconsistent.len(), 1, "{:?}", merged.inconsistent);
        assert!(merge(&[("c".into(), json!({"images": 3}))]).is_err());
    }

    fn of_plan(mut report: Value, output: &str, digest: u128, width: &str) -> Value {
        let settings = std::collections::BTreeMap::from([("width".into(), width.into())]);
        let plan = PlanIdentity::new(
            report["shard"]["plan_images"].as_u64().unwrap() as usize,
            digest,
            output.into(),
            settings,
        );
        report["plan"] = serde_json::to_value(plan).unwrap();
        report
    }

    #[test]
    fn a_report_of_another_plan_is_named_against_the_majority_whatever_the_order() {
        for odd in 0..3u64 {
            let reports: Vec<(String, Value)> = (0..3u64)
                .map(|i| {
                    let (output, digest, width) = match (i == odd, odd) {
                        (true, 0) => ("/other", 7, "256"),
                        (true, 1) => ("/out", 8, "256"),
                        (true, _) => ("/out", 7, "64"),
                        (false, _) => ("/out", 7, "256"),
                    };
                    let outputs = [format!("x{i}")];
                    let outputs: Vec<&str> = outputs.iter().map(String::as_str).collect();
                    (
                        format!("r{i}.json"),
                        of_plan(report(i, 3, 3, &outputs), output, digest, width),
                    )
                })
                .collect();
            let merged = merge(&reports).unwrap();
            assert!(!merged.complete, "odd {odd}");
            assert_eq!(merged.inconsistent.len(), 1, "{:?}", merged.inconsistent);
            let why = &merged.inconsistent[0];
            assert!(
                why.starts_with(&format!("r{odd}.json is of another plan")),
                "{why}"
            );
            let said = [
                "wrote to /other, the others to /out",
                "other files or have other names",
                "width 64 (the others 256)",
            ];
            assert!(why.contains(said[odd as usize]), "{why}");
        }
        // One plan throughout: complete; a report without an identity among them: not.
        let reports: Vec<(String, Value)> = (0..2u64)
            .map(|i| {
                (
                    format!("r{i}"),
                    of_plan(report(i, 2, 2, &[["a", "b"][i as usize]]), "/out", 7, "256"),
                )
            })
            .collect();
        assert!(merge(&reports).unwrap().complete);
        let mut legacy = reports.clone();
        legacy[1].1.as_object_mut().unwrap().remove("plan");
        let merged = merge(&legacy).unwrap();
        assert!(!merged.complete);
        assert!(
            merged.inconsistent[0].contains("carries no plan identity"),
            "{:?}",
            merged.inconsistent
        );
    }
}
