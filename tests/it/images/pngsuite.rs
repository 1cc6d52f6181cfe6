//! The PNG conformance suite, read in place: every valid file converts, every deliberately
//! corrupt one (`x*`) fails with a reason, and nothing else is written.

use crate::common;

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

#[test]
fn interlaced_files_give_the_same_thumbnails_as_their_plain_twins() {
    // PngSuite's basi* files hold the same pictures as its basn* files, interlaced. Rows
    // then arrive pass by pass: at full size (32x32) they are placed, at 8x8 they are
    // box-averaged 2x2 out of order. Either way the outputs are the plain files' bytes.
    let suite = pngsuite();
    let scratch = tempfile::tempdir().unwrap();
    let (plain, interlaced) = (scratch.path().join("n"), scratch.path().join("i"));
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::create_dir_all(&interlaced).unwrap();
    let mut twins = 0;
    for entry in std::fs::read_dir(&suite).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(rest) = name.strip_prefix("basi") else {
            continue;
        };
        std::fs::copy(suite.join(&name), interlaced.join(rest)).unwrap();
        std::fs::copy(suite.join(format!("basn{rest}")), plain.join(rest)).unwrap();
        twins += 1;
    }
    assert!(twins >= 15, "the suite looks incomplete");
    for size in ["32x32", "8x8"] {
        let convert = |input: &std::path::Path| {
            let out = scratch.path().join(format!(
                "out-{size}-{}",
                input.file_name().unwrap().to_str().unwrap()
            ));
            imgpar()
                .arg(input)
                .arg(&out)
                .args(["--size", size, "--format", "png"])
                .assert()
                .success();
            out
        };
        let (from_plain, from_interlaced) = (convert(&plain), convert(&interlaced));
        for name in files_under(&from_plain) {
            assert_eq!(
                std::fs::read(from_plain.join(&name)).unwrap(),
                std::fs::read(from_interlaced.join(&name)).unwrap(),
                "{name:?} at {size}"
            );
        }
        assert_eq!(files_under(&from_interlaced).len(), twins);
    }
}
