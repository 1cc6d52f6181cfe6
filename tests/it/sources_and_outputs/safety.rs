//! Regression tests for the ways a batch could lose or destroy a user's data: names that
//! are not UTF-8, two inputs writing one output, a run replacing its own input, a thread
//! left behind by `--timeout` writing late, writes through links out of OUTPUT, the walk
//! entering OUTPUT, a report file found unwritable only after the run, and broken links.
//! Each test is named after the guarantee it guards.

use crate::common;

use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use predicates::prelude::*;

fn fixture(name: &str) -> PathBuf {
    fixtures("images").join(name)
}

fn copy(from: &str, to: &Path) {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::copy(fixture(from), to).unwrap();
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The `(input, output, status)` of every image in a JSON report.
fn records(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = |key: &str| r[key].as_str().unwrap_or("").to_string();
            (text("input"), text("output"), text("status"))
        })
        .collect()
}

#[test]
fn names_that_are_not_utf8_reach_the_report_and_trace_intact() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    let name = std::ffi::OsStr::from_bytes(b"b\xff.png");
    copy("small.png", &input.join(name));
    let out = scratch.path().join("out");
    let (json, trace) = (scratch.path().join("r.json"), scratch.path().join("t.json"));
    imgpar()
        .arg(&input)
        .arg(&out)
        .arg("--report")
        .arg(&json)
        .arg("--trace")
        .arg(&trace)
        .assert()
        .code(0);
    let report = report(&json);
    let record = &report["images"][0];
    assert_eq!(record["status"], "ok");
    let bytes = |key: &str| -> Vec<u8> {
        let array = record[key].as_array().unwrap();
        array.iter().map(|b| b.as_u64().unwrap() as u8).collect()
    };
    assert_eq!(
        bytes("input_bytes"),
        input.join(name).as_os_str().as_bytes()
    );
    assert_eq!(bytes("output_bytes"), out.join(name).as_os_str().as_bytes());
    assert!(out.join(name).is_file());
    let trace: serde_json::Value = serde_json::from_slice(&std::fs::read(&trace).unwrap()).unwrap();
    assert!(trace["traceEvents"].as_array().unwrap().len() > 2);
}

#[test]
fn two_files_in_a_folder_never_write_one_output() {
    for policy in [None, Some("--overwrite")] {
        let scratch = tempfile::tempdir().unwrap();
        let input = scratch.path().join("in");
        copy("picture.gif", &input.join("b.gif"));
        for name in ["b.png", "b.gif.png", "b.gif-2.png", "b-2.png"] {
            copy("small.png", &input.join(name));
        }
        let out = scratch.path().join("out");
        let json = scratch.path().join("r.json");
        let mut command = imgpar();
        command.arg(&input).arg(&out).arg("--report").arg(&json);
        command.args(policy);
        command.assert().code(0);
        let records = records(&report(&json));
        let outputs: BTreeSet<&str> = records.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(outputs.len(), 5, "{records:?}");
        assert!(records.iter().all(|r| r.2 == "ok"), "{records:?}");
        assert_eq!(files_under(&out).len(), 5);
        // Files whose name fits keep it.
        for name in ["b.png", "b.gif.png", "b.gif-2.png", "b-2.png"] {
            let kept = records.iter().find(|r| r.0.ends_with(&format!("/{name}")));
            assert!(
                kept.unwrap().1.ends_with(&format!("/{name}")),
                "{records:?}"
            );
        }
    }
}

#[test]
fn files_named_directly_never_write_one_output() {
    let scratch = tempfile::tempdir().unwrap();
    let (a, b) = (scratch.path().join("a"), scratch.path().join("b"));
    copy("small.png", &a.join("x.png"));
    copy("red.png", &b.join("x.png"));
    copy("picture.gif", &b.join("x.gif"));
    let out = scratch.path().join("out");
    imgpar()
        .arg(a.join("x.png"))
        .arg(b.join("x.png"))
        .arg(b.join("x.gif"))
        .arg(&out)
        .assert()
        .code(0);
    assert_eq!(files_under(&out).len(), 3);
}

#[test]
fn two_url_lines_never_write_one_output() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_bytes(std::fs::read(fixture("red.png")).unwrap()),
            )
            .mount(&server)
            .await;
        server
    });
    let scratch = tempfile::tempdir().unwrap();
    let list = scratch.path().join("list.txt");
    let base = server.uri();
    // Lines 1 and 2 share `x.png` and get `0001-`, `0002-`; lines 3 and 4 already carry
    // names that look like those (and like the `-2` suffix).
    std::fs::write(
        &list,
        format!("{base}/a/x.png\n{base}/b/x.png\n{base}/0001-x.png\n{base}/0001-x-2.png\n"),
    )
    .unwrap();
    let out = scratch.path().join("out");
    let json = scratch.path().join("r.json");
    for policy in ["--overwrite", "--skip-existing"] {
        imgpar()
            .arg(&list)
            .arg(&out)
            .args(["--report".as_ref(), json.as_os_str(), policy.as_ref()])
            .assert()
            .code(0);
    }
    let records = records(&report(&json));
    let outputs: BTreeSet<&str> = records.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(outputs.len(), 4, "{records:?}");
    assert_eq!(files_under(&out).len(), 4);
}

#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_written() {
    let scratch = tempfile::tempdir().unwrap();
    let d = scratch.path().join("d");
    copy("rgb8.png", &d.join("a.png"));
    copy("picture.gif", &d.join("b.gif"));
    let original = std::fs::read(d.join("a.png")).unwrap();
    let link = scratch.path().join("link");
    std::os::unix::fs::symlink(&d, &link).unwrap();
    for output in [&d, &link] {
        imgpar()
            .arg(d.join("a.png"))
            .arg(d.join("b.gif"))
            .arg(output)
            .arg("--overwrite")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("would replace the input"));
        assert_eq!(std::fs::read(d.join("a.png")).unwrap(), original);
        assert!(!d.join("b.png").exists(), "nothing is written");
    }
}

#[test]
fn an_image_left_behind_by_the_threaded_timeout_never_writes() {
    let scratch = tempfile::tempdir().unwrap();
    let (late, hold) = (
        scratch.path().join("late.png"),
        scratch.path().join("hold.png"),
    );
    named_pipe(&late);
    named_pipe(&hold);
    let out = scratch.path().join("out");
    let json = scratch.path().join("r.json");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("imgpar"))
        .arg(&late)
        .arg(&hold)
        .arg(&out)
        .args(["--mode", "threaded", "-j", "1", "--timeout", "3", "--quiet"])
        .arg("--report")
        .arg(&json)
        .spawn()
        .unwrap();
    let png = std::fs::read(fixture("small.png")).unwrap();
    // `late.png` is given up on at about 3 s and `hold.png` starts; `late.png`'s data then
    // arrives, so its thread finishes while the run still waits for `hold.png`.
    std::thread::sleep(Duration::from_millis(4500));
    std::fs::write(&late, &png).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    std::fs::write(&hold, &png).unwrap();
    let ended = child.wait_with_output().unwrap();
    assert_eq!(ended.status.code(), Some(1));
    let records = records(&report(&json));
    assert_eq!(records[0].2, "failed", "{records:?}");
    assert_eq!(records[1].2, "ok", "{records:?}");
    assert_eq!(files_under(&out), vec![PathBuf::from("hold.png")]);
    assert_no_temp_files(&out);
}

#[test]
fn writes_never_follow_a_link_inside_the_output_folder() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    copy("small.png", &input.join("sub/x.png"));
    copy("red.png", &input.join("top.png"));
    let (out, victim) = (scratch.path().join("out"), scratch.path().join("victim"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&victim).unwrap();
    std::os::unix::fs::symlink("../victim", out.join("sub")).unwrap();
    run(&input, &out, &[])
        .code(1)
        .stderr(predicate::str::contains("out/sub is a link"));
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
    assert!(out.join("top.png").is_file());
}

#[test]
fn the_walk_never_enters_the_output_folder_through_a_link() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    copy("small.png", &input.join("x.png"));
    let out = scratch.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink("../out", input.join("to_out")).unwrap();
    for _ in 0..3 {
        run(&input, &out, &["--skip-existing"]).code(0);
    }
    assert_eq!(files_under(&out), vec![PathBuf::from("x.png")]);
}

#[test]
fn an_unwritable_report_stops_the_run_before_any_image() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    for (flag, target) in [
        ("--report", scratch.path().join("missing/r.json")),
        ("--trace", scratch.path().join("missing/t.json")),
        ("--timeline", scratch.path().to_path_buf()),
    ] {
        imgpar()
            .arg(fixtures("images"))
            .arg(&out)
            .arg(flag)
            .arg(&target)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("cannot write the"));
        assert!(
            !out.exists(),
            "a run refused at the start left its output folder"
        );
    }
    // A report inside the output folder, which the run creates, is fine.
    let fresh = scratch.path().join("fresh");
    let json = fresh.join("report.json");
    imgpar()
        .arg(fixtures("images"))
        .arg(&fresh)
        .arg("--report")
        .arg(&json)
        .assert()
        .code(0);
    assert!(json.is_file());
}

#[test]
fn broken_links_to_non_images_are_passed_over_and_to_images_fail() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    copy("small.png", &input.join("x.png"));
    std::os::unix::fs::symlink("gone.txt", input.join("notes")).unwrap();
    std::os::unix::fs::symlink("gone.txt", input.join("notes.txt")).unwrap();
    let out = scratch.path().join("out");
    run(&input, &out, &[]).code(0);
    std::os::unix::fs::symlink("gone.png", input.join("photo.png")).unwrap();
    run(&input, &out, &["--skip-existing"])
        .code(1)
        .stderr(predicate::str::contains("photo.png: broken link"));
}

#[test]
fn an_input_reached_through_a_link_into_the_output_is_never_replaced() {
    for through_folder in [false, true] {
        let scratch = tempfile::tempdir().unwrap();
        let (input, out) = (scratch.path().join("in"), scratch.path().join("out"));
        std::fs::create_dir_all(out.join("sub")).unwrap();
        std::fs::create_dir_all(&input).unwrap();
        // An earlier output, now also an input through a link: to the file, or to its folder.
        copy("rgb8.png", &out.join("sub/x.png"));
        let original = std::fs::read(out.join("sub/x.png")).unwrap();
        if through_folder {
            std::os::unix::fs::symlink(out.join("sub"), input.join("sub")).unwrap();
        } else {
            std::fs::create_dir_all(input.join("sub")).unwrap();
            std::os::unix::fs::symlink(out.join("sub/x.png"), input.join("sub/x.png")).unwrap();
        }
        imgpar()
            .arg(&input)
            .arg(&out)
            .arg("--overwrite")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("would replace the input"));
        assert_eq!(
            std::fs::read(out.join("sub/x.png")).unwrap(),
            original,
            "through a folder: {through_folder}"
        );
    }
}

#[test]
fn a_name_once_given_stays_with_its_input_when_the_folder_grows() {
    let (scratch, grow) = scratch_with_input();
    let out = scratch.path().join("out");
    copy("picture.gif", &grow.join("a.gif"));
    run(&grow, &out, &[]).success();
    let gif_thumbnail = std::fs::read(out.join("a.png")).unwrap();
    // A different picture that, alone, would be named a.png too.
    copy("rgb8.png", &grow.join("a.png"));
    run(&grow, &out, &["--skip-existing"])
        .success()
        .stderr(predicate::str::contains(
            "1 ok, 0 failed, 1 skipped of 2 images",
        ));
    assert_eq!(std::fs::read(out.join("a.png")).unwrap(), gif_thumbnail);
    let png_thumbnail = open(&out.join("a.png.png")).to_luma8();
    let reference = convert(&grow.join("a.png"), &[]);
    assert_eq!(
        png_thumbnail,
        open(&reference.path().join("a.png")).to_luma8()
    );
    // A fresh output folder names them by the usual rule.
    let fresh = convert(&grow, &[]);
    assert!(fresh.path().join("a.gif.png").is_file());
}

#[test]
fn an_output_of_other_settings_or_another_input_is_never_skipped_as_done() {
    let (scratch, input) = scratch_with_input();
    let out = scratch.path().join("out");
    copy("rgb8.png", &input.join("a.png"));
    copy("small.png", &input.join("b.png"));
    run(&input, &out, &["--size", "16x16"]).success();
    let small = std::fs::read(out.join("a.png")).unwrap();
    let json = scratch.path().join("r.json");
    imgpar()
        .arg(&input)
        .arg(&out)
        .args(["--size", "12x12", "--skip-existing", "--report"])
        .arg(&json)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "was made from this input with other settings (size 12x12 (then 16x16))",
        ));
    assert_eq!(std::fs::read(out.join("a.png")).unwrap(), small);
    let record = record_of(&report(&json), "a.png").clone();
    assert_eq!(record["error_kind"], "output_conflict");
    // Another input's picture under this input's name.
    run(&input, &out, &["--size", "16x16", "--skip-existing"]).success();
    std::fs::copy(out.join("b.png"), out.join("a.png")).unwrap();
    run(&input, &out, &["--size", "16x16", "--skip-existing"])
        .code(1)
        .stderr(predicate::str::contains(
            "a.png was made from another input",
        ));
    // --overwrite makes both right again.
    run(&input, &out, &["--size", "16x16", "--overwrite"]).success();
    assert_eq!(std::fs::read(out.join("a.png")).unwrap(), small);
}

#[test]
fn an_output_without_provenance_is_trusted_and_counted() {
    let (scratch, input) = scratch_with_input();
    let out = scratch.path().join("out");
    copy("rgb8.png", &input.join("a.png"));
    copy("small.png", &input.join("b.png"));
    std::fs::create_dir_all(&out).unwrap();
    // What an older imgpar, or another tool, left: a PNG with no provenance.
    image::GrayImage::new(4, 4).save(out.join("a.png")).unwrap();
    run(&input, &out, &["--skip-existing"])
        .success()
        .stderr(predicate::str::contains(
            "1 ok, 0 failed, 1 skipped of 2 images",
        ))
        .stderr(predicate::str::contains(
            "1 image whose output carries no provenance (made by an older imgpar or another \
             tool) trusted as its own",
        ));
}

#[test]
fn a_folder_at_an_output_name_is_a_failure_not_a_skip() {
    let (scratch, input) = scratch_with_input();
    let out = scratch.path().join("out");
    copy("rgb8.png", &input.join("a.png"));
    std::fs::create_dir_all(out.join("a.png")).unwrap();
    run(&input, &out, &["--skip-existing"])
        .code(1)
        .stderr(predicate::str::contains(
            "a.png is a folder, not an image file",
        ));
}

#[test]
fn two_runs_racing_with_skip_existing_skip_what_the_other_wrote_and_fail_nothing() {
    let (scratch, input) = scratch_with_input();
    for i in 0..40 {
        copy("rgb8.png", &input.join(format!("p{i:02}.png")));
    }
    for attempt in 0..3 {
        let out = scratch.path().join(format!("out{attempt}"));
        let start = |mode: &str| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("imgpar"))
                .arg(&input)
                .arg(&out)
                .args(["--skip-existing", "--mode", mode, "-j", "2"])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (start("threaded"), start("process"));
        for run in [a, b] {
            let ended = run.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&ended.stderr);
            assert_eq!(ended.status.code(), Some(0), "{stderr}");
            assert!(stderr.contains(" 0 failed"), "{stderr}");
        }
        assert_eq!(files_under(&out).len(), 40);
    }
}

#[test]
fn a_result_file_never_replaces_an_input_another_result_file_or_lands_in_the_output() {
    let (scratch, input) = scratch_with_input();
    copy("rgb8.png", &input.join("img00.png"));
    let photo = std::fs::read(input.join("img00.png")).unwrap();
    let list = scratch.path().join("urls.txt");
    std::fs::write(&list, "http://127.0.0.1:9/a.png\n").unwrap();
    let out = scratch.path().join("out");
    let elsewhere = scratch.path().join("x.json");
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec!["--report".into(), input.join("img00.png").into()],
            "is inside the input",
        ),
        (
            vec![
                "--report".into(),
                input.join("img00.png").into(),
                "--dry-run".into(),
            ],
            "is inside the input",
        ),
        (
            vec![
                "--report".into(),
                elsewhere.clone().into(),
                "--trace".into(),
                elsewhere.clone().into(),
            ],
            "the trace and the report are both",
        ),
        (
            vec!["--report".into(), out.join("a.png").into()],
            "is inside the output",
        ),
    ];
    for (flags, said) in cases {
        imgpar()
            .arg(&input)
            .arg(&out)
            .args(&flags)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(said));
        assert_eq!(std::fs::read(input.join("img00.png")).unwrap(), photo);
        assert!(!elsewhere.exists());
        assert!(
            !out.exists(),
            "{flags:?}: a refused run left its output folder"
        );
    }
    let before = std::fs::read(&list).unwrap();
    imgpar()
        .arg(&list)
        .arg(&out)
        .arg("--report")
        .arg(&list)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is an input of this run"));
    assert_eq!(std::fs::read(&list).unwrap(), before);
}

#[test]
fn a_run_sharded_by_inherited_array_variables_says_so_even_when_quiet() {
    let (scratch, input) = scratch_with_input();
    for i in 0..12 {
        copy("small.png", &input.join(format!("p{i:02}.png")));
    }
    imgpar_unsharded()
        .arg(&input)
        .arg(scratch.path().join("out"))
        .arg("-q")
        .env("SLURM_ARRAY_TASK_ID", "0")
        .env("SLURM_ARRAY_TASK_COUNT", "4")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "imgpar: sharded by the environment: shard 0/4",
        ))
        .stderr(predicate::str::contains("SLURM_ARRAY_TASK_ID"));
}

#[test]
fn names_too_long_for_the_filesystem_are_shortened_one_to_one() {
    let (scratch, input) = scratch_with_input();
    let long = "a".repeat(250);
    copy("picture.gif", &input.join(format!("{long}.gif")));
    copy("rgb8.png", &input.join(format!("{long}.png")));
    let out = scratch.path().join("out");
    run(&input, &out, &[])
        .success()
        .stderr(predicate::str::contains("2 ok, 0 failed"));
    let names: Vec<String> = files_under(&out)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().all(|n| n.len() <= 255 && n.ends_with(".png")),
        "{names:?}"
    );
    // A re-run finds the same names.
    run(&input, &out, &["--skip-existing"])
        .success()
        .stderr(predicate::str::contains("0 ok, 0 failed, 2 skipped"));
}

#[test]
fn a_suffixed_name_stays_with_its_input_too() {
    // `a.png` and `A.PNG` are one name to a filesystem that ignores case: one of them gets
    // `-2`. Whichever had the plain name first keeps it when the other is added.
    let (scratch, input) = scratch_with_input();
    let out = scratch.path().join("out");
    copy("rgb8.png", &input.join("a.png"));
    run(&input, &out, &[]).success();
    let first = std::fs::read(out.join("a.png")).unwrap();
    copy("picture.gif", &input.join("A.PNG"));
    run(&input, &out, &["--skip-existing"])
        .success()
        .stderr(predicate::str::contains(
            "1 ok, 0 failed, 1 skipped of 2 images",
        ));
    assert_eq!(std::fs::read(out.join("a.png")).unwrap(), first);
    let added = open(&out.join("A-2.png")).to_luma8();
    let alone = convert(&input.join("A.PNG"), &[]);
    assert_eq!(added, open(&alone.path().join("A.PNG")).to_luma8());
    // Run again: the same names, nothing to do.
    run(&input, &out, &["--skip-existing"])
        .success()
        .stderr(predicate::str::contains("0 ok, 0 failed, 2 skipped"));
}
