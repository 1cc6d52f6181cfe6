//! The reports of a sharded run's tasks, merged into one: every record, totals recomputed,
//! and whether the shards add up to exactly the plan (none missing, none twice, all of
//! one plan). Reports are read as streams, a record at a time (reports written as the
//! run went, see [`crate::render::JsonReport`]; an older report, one JSON document, is
//! read whole): what is kept is a hash per output, to find outputs written twice.

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;

use serde::Serialize;
use serde_json::Value;

use super::{PlanIdentity, ShardRecord};
use crate::outcome::Outcome;

/// A report to merge: its name, and how to read it (from the start, each time asked).
pub struct ReportInput {
    /// The report's name as given (its file or object address).
    pub name: String,
    /// Opens the report for reading.
    pub open: Box<dyn Fn() -> Result<Box<dyn BufRead>, String>>,
}

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
    for report in reports {
        let read = read_report(report, &mut |line, seen| {
            if let Some(output) = seen.output {
                outputs.push(output);
            }
            images_reported += 1;
            records(line);
        })?;
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

/// What one report contributes besides its records.
struct ReadReport {
    shard: ShardRecord,
    plan: Option<PlanIdentity>,
    totals: Totals,
}

/// What the merge looks at in a record.
#[derive(serde::Deserialize)]
struct Seen<'a> {
    #[serde(borrow, default)]
    output: Option<std::borrow::Cow<'a, str>>,
    #[allow(dead_code)]
    status: Outcome,
}

/// Reads `report`, handing each record (its text, and what the merge looks at) to `f`.
fn read_report(
    report: &ReportInput,
    f: &mut dyn FnMut(&str, Seen<'_>),
) -> Result<ReadReport, String> {
    let name = &report.name;
    let not_a_report = |what: &str| format!("{name} is not an imgpar report: {what}");
    let unreadable = |e: std::io::Error| format!("cannot read the report {name}: {e}");
    let mut reader = (report.open)()?;
    let mut first = String::new();
    reader.read_line(&mut first).map_err(unreadable)?;
    let summary = if first.trim_end() == crate::render::REPORT_HEAD {
        read_streamed(name, reader.as_mut(), f)?
    } else {
        let mut text = first;
        reader.read_to_string(&mut text).map_err(unreadable)?;
        let mut whole: Value = serde_json::from_str(&text)
            .map_err(|e| format!("cannot read the report {name}: {e}"))?;
        let images = match whole.get_mut("images").map(Value::take) {
            Some(Value::Array(images)) => images,
            _ => return Err(not_a_report("no `images` list")),
        };
        for record in &images {
            let line = record.to_string();
            let seen: Seen = serde_json::from_str(&line)
                .map_err(|e| not_a_report(&format!("a record is unreadable ({e})")))?;
            f(&line, seen);
        }
        whole
    };
    read_summary(name, &summary)
}

/// The records of a report written as its run went, line by line; returns its totals.
fn read_streamed(
    name: &str,
    reader: &mut dyn BufRead,
    f: &mut dyn FnMut(&str, Seen<'_>),
) -> Result<Value, String> {
    let mut line = String::new();
    let mut records = 0usize;
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the report {name}: {e}"))?;
        let text = line.trim_end();
        if read == 0 {
            return Err(format!(
                "{name} ends after {records} records, before its totals: the run that wrote \
                 it was stopped before it ended (killed?); its records are whole, but re-run \
                 that shard to merge it"
            ));
        }
        if let Some(rest) = text.strip_prefix(']') {
            let rest = rest.strip_prefix(',').unwrap_or(rest);
            // `],"mode":...}` after records; `]}` would be a report with no totals.
            let totals = format!("{{{rest}");
            return serde_json::from_str(&totals).map_err(|e| {
                format!("{name} is not an imgpar report: its totals are unreadable ({e})")
            });
        }
        let record = text.strip_prefix(',').unwrap_or(text);
        let seen: Seen = serde_json::from_str(record).map_err(|e| {
            format!(
                "{name} is not an imgpar report: record {} is unreadable ({e})",
                records + 1
            )
        })?;
        records += 1;
        f(record, seen);
    }
}

/// A report's shard, plan and totals.
fn read_summary(name: &str, report: &Value) -> Result<ReadReport, String> {
    let not_a_report = |what: &str| format!("{name} is not an imgpar report: {what}");
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
mod tests {
    use super::*;
    use serde_json::json;

    /// `text` as a report to merge.
    fn input(name: &str, text: String) -> ReportInput {
        ReportInput {
            name: name.into(),
            open: Box::new(move || Ok(Box::new(std::io::Cursor::new(text.clone().into_bytes())))),
        }
    }

    /// Merges whole-document reports (as imgpar wrote them before reports were streamed).
    fn merge(reports: &[(String, Value)]) -> Result<MergedReport, String> {
        let inputs: Vec<ReportInput> = reports
            .iter()
            .map(|(name, value)| input(name, serde_json::to_string_pretty(value).unwrap()))
            .collect();
        super::merge(&inputs, &mut |_| {})
    }

    /// `report` as the run writes it now: records a line each, totals last.
    fn streamed(report: &Value) -> String {
        let mut totals = report.clone();
        let images = totals.as_object_mut().unwrap().remove("images").unwrap();
        let mut text = format!("{}\n", crate::render::REPORT_HEAD);
        for (i, record) in images.as_array().unwrap().iter().enumerate() {
            text += &format!("{}{record}\n", if i == 0 { "" } else { "," });
        }
        let totals = totals.to_string();
        text + &format!("],{}\n", &totals[1..])
    }

    #[test]
    fn streamed_reports_merge_like_whole_ones_and_a_cut_one_is_named() {
        let (a, b) = (report(0, 2, 3, &["z"]), report(1, 2, 3, &["x", "y"]));
        let mut lines = Vec::new();
        let inputs = [input("a", streamed(&a)), input("b", streamed(&b))];
        let merged = super::merge(&inputs, &mut |line| lines.push(line.to_string())).unwrap();
        assert!(merged.complete, "{}", merged.summary_text());
        assert_eq!((merged.ok, merged.images_reported), (3, 3));
        assert_eq!(lines.len(), 3);
        assert!(
            lines
                .iter()
                .all(|l| serde_json::from_str::<Value>(l).is_ok())
        );
        // Old and new side by side.
        let mixed = [input("a", streamed(&a)), input("b", b.to_string())];
        assert!(super::merge(&mixed, &mut |_| {}).unwrap().complete);
        // Twice the same output across the two, found through the hashes.
        let twice = [
            input("a", streamed(&a)),
            input("b", streamed(&report(1, 2, 3, &["z", "y"]))),
        ];
        let merged = super::merge(&twice, &mut |_| {}).unwrap();
        assert_eq!(merged.duplicated_outputs, vec!["z".to_string()]);
        // Killed before its totals: its records are whole, but it cannot be merged.
        let text = streamed(&b);
        let cut: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
        let error = super::merge(
            &[input("a", streamed(&a)), input("b.json", cut)],
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            error.contains("b.json ends after 1 records, before its totals"),
            "{error}"
        );
    }

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
