//! Messages users met on the sharded-run pass and found wanting: each says what is wrong
//! in words that point at the fix.

mod common;

use common::{fixtures, imgpar, imgpar_unsharded};
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
    std::fs::copy(fixtures("images/red.png"), input.join("shot.NEF")).unwrap();
    std::fs::copy(fixtures("images/red.png"), input.join("red.png")).unwrap();
    let shown = imgpar()
        .arg(&input)
        .arg(scratch.path().join("out"))
        .arg("--dry-run")
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&shown.get_output().stdout).to_string();
    assert!(
        stdout.contains("shot.NEF -> refused: camera RAW files (NEF)"),
        "{stdout}"
    );
    assert!(stdout.contains("red.png -> "), "{stdout}");
    assert!(!stdout.contains("shot.png"), "{stdout}");
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
