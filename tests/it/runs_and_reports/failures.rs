//! Bad input, existing outputs and unusable arguments: a clear message naming the file, the
//! batch goes on, nothing partial is left, and the exit code says what happened.

use crate::common;

use common::*;
use predicates::prelude::*;

#[test]
fn broken_images_fail_alone_with_their_reasons_and_exit_1() {
    let out = tempfile::tempdir().unwrap();
    run(&fixtures("broken"), out.path(), &[])
        .code(1)
        .stderr(predicate::str::contains("empty.jpg: file is empty"))
        .stderr(predicate::str::contains("truncated.jpg: corrupt or truncated JPEG"))
        .stderr(predicate::str::contains("text.jpg: not an image: the file holds text"))
        .stderr(predicate::str::contains(
            "huge_header.png: image is 100000x100000, 10000 MP, over the 100 MP limit (--max-pixels)",
        ))
        .stderr(predicate::str::contains("1 ok, 4 failed, 0 skipped of 5 images"));
    // Nothing is written for a failed image; the good one is written whole.
    assert_eq!(
        files_under(out.path()),
        vec![std::path::PathBuf::from("good.png")]
    );
    assert_eq!(open(&out.path().join("good.png")).width(), 256);
}

#[test]
fn broken_images_fail_the_same_way_in_every_mode() {
    for mode in modes() {
        let out = tempfile::tempdir().unwrap();
        run(
            &fixtures("broken"),
            out.path(),
            &["--mode", mode, "-j", "3"],
        )
        .code(1)
        .stderr(predicate::str::contains("1 ok, 4 failed"));
        assert_no_temp_files(out.path());
    }
}

#[test]
fn a_jpeg_cut_short_fails_at_every_scale_and_stray_bytes_before_a_marker_do_not() {
    // libjpeg fills missing data with gray and carries on; imgpar refuses instead, whether
    // the JPEG is decoded at full size or shrunk in the DCT domain (--size 64x64 is 3/8).
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for name in ["progressive.jpg", "baseline_420.jpg"] {
        let bytes = std::fs::read(fixtures("images").join(name)).unwrap();
        std::fs::write(
            input.join(format!("cut_{name}")),
            &bytes[..bytes.len() * 3 / 5],
        )
        .unwrap();
        // Four stray bytes before the end-of-image marker: harmless, the picture is whole.
        let mut stray = bytes[..bytes.len() - 2].to_vec();
        stray.extend_from_slice(b"junk\xFF\xD9");
        std::fs::write(input.join(format!("stray_{name}")), stray).unwrap();
    }
    for size in ["256x256", "64x64"] {
        let out = scratch.path().join(size);
        run(&input, &out, &["--size", size])
            .code(1)
            .stderr(predicate::str::contains(
                "cut_progressive.jpg: corrupt or truncated JPEG: Premature end of JPEG file",
            ))
            .stderr(predicate::str::contains(
                "cut_baseline_420.jpg: corrupt or truncated JPEG: Premature end of JPEG file",
            ))
            .stderr(predicate::str::contains("2 ok, 2 failed"));
        let stray = open(&out.join("stray_progressive.jpg"));
        assert_eq!(stray.width(), if size == "64x64" { 64 } else { 256 });
    }
}

#[test]
fn max_pixels_zero_lifts_the_limit_and_a_low_one_refuses() {
    let out = tempfile::tempdir().unwrap();
    run(
        &fixtures("images/rgb8.png"),
        out.path(),
        &["--max-pixels", "100000"],
    )
    .code(1)
    .stderr(predicate::str::contains(
        "image is 400x300, 0.1 MP, over the 0.1 MP limit",
    ));
    assert!(files_under(out.path()).is_empty());
    // With no limit, the huge header gets as far as its missing data.
    run(
        &fixtures("broken/huge_header.png"),
        out.path(),
        &["--max-pixels", "0"],
    )
    .code(1)
    .stderr(predicate::str::contains(
        "huge_header.png: corrupt or truncated PNG",
    ));
}

#[test]
fn existing_outputs_fail_by_default_skip_or_get_replaced_on_request() {
    let input = fixtures("images");
    let out = convert(&input, &[]);
    let count = files_under(out.path()).len();
    let marker = out.path().join("rgb8.png");
    std::fs::write(&marker, b"user's own file").unwrap();

    run(&input, out.path(), &[])
        .code(1)
        .stderr(predicate::str::contains(
            "already exists (use --overwrite or --skip-existing)",
        ))
        .stderr(predicate::str::contains(format!("0 ok, {count} failed")));
    assert_eq!(std::fs::read(&marker).unwrap(), b"user's own file");

    run(&input, out.path(), &["--skip-existing"])
        .code(0)
        .stderr(predicate::str::contains(format!(
            "0 ok, 0 failed, {count} skipped"
        )));
    assert_eq!(std::fs::read(&marker).unwrap(), b"user's own file");

    run(&input, out.path(), &["--overwrite"])
        .code(0)
        .stderr(predicate::str::contains(format!("{count} ok, 0 failed")));
    assert_eq!(open(&marker).width(), 256);
    assert_no_temp_files(out.path());
}

#[test]
fn skip_existing_finishes_an_incomplete_output_folder() {
    let input = fixtures("images");
    let complete = convert(&input, &[]);
    let out = convert(&input, &[]);
    // Lose some outputs, as an interrupted run would.
    std::fs::remove_file(out.path().join("rgb8.png")).unwrap();
    std::fs::remove_file(out.path().join("nested/deeper/portrait.jpg")).unwrap();
    run(&input, out.path(), &["--skip-existing"])
        .code(0)
        .stderr(predicate::str::contains("2 ok, 0 failed, 15 skipped"));
    for rel in files_under(complete.path()) {
        assert_eq!(
            std::fs::read(out.path().join(&rel)).unwrap(),
            std::fs::read(complete.path().join(&rel)).unwrap(),
            "{}",
            rel.display()
        );
    }
}

#[test]
fn runs_that_cannot_start_exit_2_and_write_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let a_file = scratch.path().join("a_file");
    std::fs::write(&a_file, b"x").unwrap();
    let images = fixtures("images");
    let o = |name: &str| scratch.path().join(name);
    let cases: Vec<(std::path::PathBuf, std::path::PathBuf, &[&str], &str)> = vec![
        (o("missing"), o("o1"), &[], "cannot read input"),
        (
            scratch.path().into(),
            o("inside/out"),
            &[],
            "is inside the input folder",
        ),
        (
            images.clone(),
            a_file.join("out"),
            &[],
            "cannot create output folder",
        ),
        (
            images.clone(),
            o("o2"),
            &["--mode", "sequential", "--timeout", "5"],
            "--timeout needs --mode process",
        ),
        (
            images.clone(),
            o("o6"),
            &["--mode", "process", "--worker-memory", "1M"],
            "too small for a worker to start",
        ),
        (
            images.clone(),
            o("o3"),
            &["--size", "10by10"],
            "expected WIDTHxHEIGHT",
        ),
        (images.clone(), o("o4"), &["--quality", "0"], "--quality"),
        (
            images.clone(),
            o("o5"),
            &["--skip-existing", "--overwrite"],
            "cannot be used with",
        ),
    ];
    for (input, output, flags, message) in cases {
        run(&input, &output, flags)
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    for name in ["o1", "o2", "o3", "o4", "o5", "o6", "inside"] {
        assert!(!scratch.path().join(name).exists(), "{name} was created");
    }
}

#[test]
fn json_report_has_the_summary_and_one_record_per_image() {
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.json");
    imgpar()
        .arg(fixtures("broken"))
        .arg(out.path().join("images"))
        .args(["--mode", "sequential", "--report"])
        .arg(&report)
        .assert()
        .code(1);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["mode"], "sequential");
    assert_eq!(json["workers"], 1);
    assert_eq!(
        (json["ok"].as_u64(), json["failed"].as_u64()),
        (Some(1), Some(4))
    );
    assert!(json["wall_s"].as_f64().unwrap() > 0.0);
    // No worker processes ran: their figures are 0, not "-0.0".
    for field in ["workers_cpu_s", "workers_peak_rss_mib"] {
        let value = json[field].as_f64().unwrap();
        assert!(value == 0.0 && value.is_sign_positive(), "{field}: {value}");
    }
    let images = json["images"].as_array().unwrap();
    assert_eq!(images.len(), 5);
    let good = images
        .iter()
        .find(|r| r["input"].as_str().unwrap().ends_with("good.png"))
        .unwrap();
    assert_eq!(good["status"], "ok");
    assert_eq!(
        (good["width_in"].as_u64(), good["height_in"].as_u64()),
        (Some(400), Some(300))
    );
    assert_eq!(
        (good["width_out"].as_u64(), good["height_out"].as_u64()),
        (Some(256), Some(192))
    );
    assert_eq!(good["worker"], 0);
    assert!(good["bytes_in"].as_u64().unwrap() > 0 && good["bytes_out"].as_u64().unwrap() > 0);
    assert!(good["end_ms"].as_f64().unwrap() >= good["start_ms"].as_f64().unwrap());
    for stage in ["decode_ms", "resize_ms", "encode_ms"] {
        assert!(good[stage].as_f64().is_some(), "{stage} missing");
    }
    let empty = images
        .iter()
        .find(|r| r["input"].as_str().unwrap().ends_with("empty.jpg"))
        .unwrap();
    assert_eq!(empty["status"], "failed");
    assert_eq!(empty["error"], "file is empty");
    // Sequential: each image starts after the previous one ended.
    let mut spans: Vec<(f64, f64)> = images
        .iter()
        .map(|r| {
            (
                r["start_ms"].as_f64().unwrap(),
                r["end_ms"].as_f64().unwrap(),
            )
        })
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0));
}

#[test]
fn quiet_prints_no_summary_but_still_names_failures() {
    let out = tempfile::tempdir().unwrap();
    run(&fixtures("broken"), out.path(), &["--quiet"])
        .code(1)
        .stderr(predicate::str::contains("images/s").not())
        .stderr(predicate::str::contains("empty.jpg: file is empty"));
}

#[test]
fn every_failure_in_the_report_has_a_stable_kind_for_programs() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // good.png's output is already there: without --overwrite that is a failure.
    std::fs::write(out.join("good.png"), b"taken").unwrap();
    let report = scratch.path().join("report.json");
    imgpar()
        .arg(fixtures("broken"))
        .arg(&out)
        .args(["--mode", "process", "-j", "2", "--report"])
        .arg(&report)
        .assert()
        .code(1);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let kind_of = |name: &str| {
        let record = json["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["input"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} in the report"));
        record["error_kind"].as_str().map(str::to_string)
    };
    assert_eq!(kind_of("good.png").as_deref(), Some("output_exists"));
    assert_eq!(kind_of("truncated.jpg").as_deref(), Some("corrupt"));
    assert_eq!(kind_of("text.jpg").as_deref(), Some("unsupported"));
    assert_eq!(
        kind_of("huge_header.png").as_deref(),
        Some("too_many_pixels")
    );
    assert_eq!(kind_of("empty.jpg").as_deref(), Some("read"));
}
