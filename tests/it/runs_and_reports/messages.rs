//! Messages users met on the sharded-run pass and found wanting: each says what is wrong
//! in words that point at the fix.

use crate::common;

use common::{files_under, fixtures, imgpar, imgpar_unsharded};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

#[test]
fn a_link_loop_is_passed_over_by_name_and_the_images_convert() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    std::fs::copy(fixtures("images/red.png"), input.join("sub/red.png")).unwrap();
    std::os::unix::fs::symlink("..", input.join("sub/up")).unwrap();
    imgpar()
        .arg(&input)
        .arg(scratch.path().join("out"))
        .assert()
        .code(0)
        .stderr(contains("1 a link loop"))
        .stderr(contains("File system loop").not());
}

#[test]
fn a_dry_run_marks_files_refused_by_their_name() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("drawing.PCX"), b"\x0a\x05\x01\x08 not read").unwrap();
    std::fs::copy(fixtures("images/red.png"), input.join("red.png")).unwrap();
    // What a file holds decides: a PNG named as a camera RAW is converted as a PNG.
    std::fs::copy(fixtures("images/red.png"), input.join("shot.NEF")).unwrap();
    let shown = imgpar()
        .arg(&input)
        .arg(scratch.path().join("out"))
        .arg("--dry-run")
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&shown.get_output().stdout).to_string();
    assert!(
        stdout.contains("drawing.PCX -> refused: PCX files are not supported"),
        "{stdout}"
    );
    assert!(stdout.contains("red.png -> "), "{stdout}");
    assert!(stdout.contains("shot.NEF -> "), "{stdout}");
    assert!(stdout.contains("shot.png"), "{stdout}");
    assert!(!stdout.contains("drawing.png"), "{stdout}");
}

#[test]
fn an_aws_batch_index_past_the_array_is_not_told_about_slurm_gaps() {
    imgpar_unsharded()
        .arg(fixtures("images"))
        .arg(tempfile::tempdir().unwrap().path().join("out"))
        .env("AWS_BATCH_JOB_ARRAY_INDEX", "9")
        .env("AWS_BATCH_JOB_ARRAY_SIZE", "3")
        .assert()
        .code(2)
        .stderr(contains("the index must be below the array's size"))
        .stderr(contains("--array=1,2,9").not());
}

#[test]
fn missing_azure_credentials_name_the_variables_to_set() {
    let mut cmd = imgpar_unsharded();
    for (name, _) in std::env::vars() {
        if name.starts_with("AZURE") || name.starts_with("AZURITE") {
            cmd.env_remove(name);
        }
    }
    cmd.args(["az://photos/in"])
        .arg(tempfile::tempdir().unwrap().path().join("out"))
        .assert()
        .code(2)
        .stderr(contains("AZURE_STORAGE_ACCOUNT_NAME"))
        .stderr(contains("AZURE_STORAGE_USE_EMULATOR=true"));
}

#[test]
fn an_upscaled_output_is_bounded_by_max_pixels_and_one_image_is_one_image() {
    let out = tempfile::tempdir().unwrap();
    imgpar()
        .arg(fixtures("images/rgb8.png"))
        .arg(out.path())
        .args(["--upscale", "--size", "30000x30000"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "over the limit of 100.0 MP (--max-pixels)",
        ))
        .stderr(predicates::str::contains(
            "0 ok, 1 failed, 0 skipped of 1 image in",
        ));
    assert!(files_under(out.path()).is_empty());
}

#[test]
fn a_dry_run_says_what_the_run_would_do_with_counts() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for name in ["a.png", "b.png", "c.png"] {
        std::fs::copy(fixtures("images/red.png"), input.join(name)).unwrap();
    }
    // Named like an image, but text: the run's content check refuses it.
    std::fs::write(input.join("fake.png"), "just some notes\n").unwrap();
    let out = scratch.path().join("out");
    imgpar()
        .arg(input.join("a.png"))
        .arg(&out)
        .assert()
        .success();
    let shown = imgpar()
        .arg(&input)
        .arg(&out)
        .args(["--dry-run", "--skip-existing"])
        .assert()
        .code(0)
        .stderr(contains(
            "4 images planned: 2 to convert, 1 to skip (done), 1 would fail; nothing converted",
        ));
    let stdout = String::from_utf8_lossy(&shown.get_output().stdout).to_string();
    assert!(
        stdout.contains("fake.png -> refused: not an image"),
        "{stdout}"
    );
    assert!(stdout.contains("a.png (skip: "), "{stdout}");
    // Without --skip-existing the same output would fail.
    imgpar()
        .arg(&input)
        .arg(&out)
        .arg("--dry-run")
        .assert()
        .code(0)
        .stdout(contains("a.png (fail: output"));
    // An output folder that cannot be made is found by the dry run too.
    let blocker = scratch.path().join("file");
    std::fs::write(&blocker, "not a folder").unwrap();
    imgpar()
        .arg(&input)
        .arg(blocker.join("out"))
        .arg("--dry-run")
        .assert()
        .code(2)
        .stderr(contains("is not a folder"));
}

#[test]
fn an_input_given_twice_is_converted_once_and_said_so() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(fixtures("images/red.png"), input.join("red.png")).unwrap();
    let out = scratch.path().join("out");
    imgpar()
        .arg(&input)
        .arg(&input)
        .arg(input.join("red.png"))
        .arg(&out)
        .assert()
        .success()
        .stderr(contains("1 ok, 0 failed, 0 skipped of 1 image in"))
        .stderr(contains("is given twice"))
        .stderr(contains("converted once, from the folder"));
    assert_eq!(files_under(&out).len(), 1);
}

#[test]
fn a_file_name_as_output_for_one_file_is_refused_with_a_hint() {
    let scratch = tempfile::tempdir().unwrap();
    imgpar()
        .arg(fixtures("images/red.png"))
        .arg(scratch.path().join("thumb.jpg"))
        .assert()
        .code(2)
        .stderr(contains("is named like an image"))
        .stderr(contains("thumb`"));
    assert!(!scratch.path().join("thumb.jpg").exists());
}

#[test]
fn async_flags_outside_async_mode_are_refused_like_the_process_flags() {
    for flags in [["--concurrency", "4"], ["--per-host", "2"]] {
        imgpar()
            .arg(fixtures("images"))
            .arg(tempfile::tempdir().unwrap().path().join("out"))
            .args(["--mode", "threaded"])
            .args(flags)
            .assert()
            .code(2)
            .stderr(contains(format!("{} needs --mode async", flags[0])));
    }
}

#[test]
fn the_report_goes_to_stdout_for_a_dash_and_failures_are_sorted() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for name in ["c.png", "a.png", "b.png"] {
        std::fs::write(input.join(name), "not a picture at all").unwrap();
    }
    std::fs::copy(fixtures("images/red.png"), input.join("ok.png")).unwrap();
    let out = scratch.path().join("out");
    let ran = imgpar()
        .current_dir(scratch.path())
        .arg(&input)
        .arg(&out)
        .args(["--report", "-", "-j", "3"])
        .assert()
        .code(1);
    let stdout = &ran.get_output().stdout;
    let report: serde_json::Value = serde_json::from_slice(stdout).unwrap();
    assert_eq!(report["images"].as_array().unwrap().len(), 4);
    assert!(
        !scratch.path().join("-").exists(),
        "a file named - was written"
    );
    let stderr = String::from_utf8_lossy(&ran.get_output().stderr).to_string();
    let order: Vec<usize> = ["a.png:", "b.png:", "c.png:"]
        .iter()
        .map(|name| stderr.find(name).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{stderr}");
}

#[test]
fn verbose_lists_what_was_passed_over_without_pointing_at_itself() {
    imgpar()
        .arg(fixtures("images"))
        .arg(tempfile::tempdir().unwrap().path().join("out"))
        .arg("--verbose")
        .assert()
        .success()
        .stderr(contains("(listed below)"))
        .stderr(contains("--verbose lists them").not());
}

#[test]
fn links_that_lead_to_each_other_are_a_loop_not_a_broken_link() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(fixtures("images/red.png"), input.join("red.png")).unwrap();
    std::os::unix::fs::symlink("b", input.join("a")).unwrap();
    std::os::unix::fs::symlink("a", input.join("b")).unwrap();
    imgpar()
        .arg(&input)
        .arg(scratch.path().join("out"))
        .arg("--verbose")
        .assert()
        .success()
        .stderr(contains("a link loop"))
        .stderr(contains("broken link").not());
}
