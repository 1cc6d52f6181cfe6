//! Reading one report to merge: a report written as its run went, a record a line, or an
//! older one, a single JSON document read whole.

use std::io::BufRead;

use serde_json::Value;

use super::Totals;
use crate::outcome::Outcome;
use crate::report::{PlanIdentity, ShardRecord};

/// A report to merge: its name, and how to read it (from the start, each time asked).
pub struct ReportInput {
    /// The report's name as given (its file or object address).
    pub name: String,
    /// Opens the report for reading.
    pub open: Box<dyn Fn() -> Result<Box<dyn BufRead>, String>>,
    /// It was found in a folder or under a prefix, not named: a merged report found so
    /// (an earlier merge's output) is passed over instead of refused.
    pub listed: bool,
}

/// The first bytes of a merged report (`merge-reports -o`), which says what it is.
pub(crate) const MERGED_HEAD: &str = r#"{"format":"imgpar-merged-"#;

/// What one report contributes besides its records.
pub(super) struct ReadReport {
    pub shard: ShardRecord,
    pub plan: Option<PlanIdentity>,
    pub totals: Totals,
}

/// What the merge looks at in a record.
#[derive(serde::Deserialize)]
pub(super) struct Seen<'a> {
    #[serde(borrow, default)]
    pub output: Option<std::borrow::Cow<'a, str>>,
    #[allow(dead_code)]
    status: Outcome,
}

/// Reads `report`, handing each record (its text, and what the merge looks at) to `f`.
/// `None` for a merged report (an earlier merge's output), whose records are not read.
pub(super) fn read_report(
    report: &ReportInput,
    f: &mut dyn FnMut(&str, Seen<'_>),
) -> Result<Option<ReadReport>, String> {
    let name = &report.name;
    let not_a_report = |what: &str| format!("{name} is not an imgpar report: {what}");
    let unreadable = |e: std::io::Error| format!("cannot read the report {name}: {e}");
    let mut reader = (report.open)()?;
    let mut first = String::new();
    reader.read_line(&mut first).map_err(unreadable)?;
    if first.starts_with(MERGED_HEAD) {
        return Ok(None);
    }
    let summary = if first.trim_end() == crate::report::REPORT_HEAD {
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
    read_summary(name, &summary).map(Some)
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
