//! The PNG conformance suite, read in place: every valid file converts, every deliberately
//! corrupt one (`x*`) fails with a reason, and nothing else is written.

mod common;

use common::*;

#[test]
fn valid_pngsuite_files_convert_and_corrupt_ones_fail_with_a_reason() {
    let suite = pngsuite();
    let mut valid = Vec::new();
    let mut corrupt = Vec::new();
    for entry in std::fs::read_dir(&suite).expect("../shared/corpora/pngsuite is beside the repo") {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".png") {
            if name.starts_with('x') {
                corrupt.push(name)
            } else {
                valid.push(name)
            }
        }
    }
    assert!(
        valid.len() > 150 && corrupt.len() > 10,
        "the suite looks incomplete"
    );

    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.json");
    let assert = imgpar()
        .arg(&suite)
        .arg(out.path().join("png"))
        .arg("--report")
        .arg(&report)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    for record in json["images"].as_array().unwrap() {
        let input = record["input"].as_str().unwrap();
        let name = std::path::Path::new(input)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        if name.starts_with('x') {
            assert_eq!(record["status"], "failed", "{name} was accepted");
            let reason = record["error"].as_str().unwrap();
            assert!(!reason.is_empty());
            assert!(
                stderr.contains(&format!("{name}: {reason}")),
                "{name} not listed"
            );
        } else {
            assert_eq!(record["status"], "ok", "{name}: {}", record["error"]);
            let output = std::path::Path::new(record["output"].as_str().unwrap());
            let image = open(output);
            assert!(matches!(
                image.color(),
                image::ColorType::L8 | image::ColorType::La8
            ));
        }
    }
    assert_eq!(json["ok"].as_u64().unwrap() as usize, valid.len());
    assert_eq!(json["failed"].as_u64().unwrap() as usize, corrupt.len());
    assert_eq!(files_under(&out.path().join("png")).len(), valid.len());
}
