use super::*;
use serde_json::Value;
use serde_json::json;

/// `text` as a report to merge.
fn input(name: &str, text: String) -> ReportInput {
    ReportInput {
        name: name.into(),
        open: Box::new(move || Ok(Box::new(std::io::Cursor::new(text.clone().into_bytes())))),
        listed: false,
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
    let mut text = format!("{}\n", crate::report::REPORT_HEAD);
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
