//! Runs that end before their work is done: Ctrl-C or SIGTERM in every mode (then a resume
//! with --skip-existing), an output that fills up or is read-only, and an image that never
//! finishes in threaded mode. Signals go to the real binary mid-run; full and read-only
//! disks are real tmpfs mounts in a private mount namespace.
#![cfg(target_os = "linux")]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use predicates::prelude::*;

/// A folder of `count` photo-sized JPEGs (1600x1200, noisy, so they take a moment each).
fn photo_folder(dir: &Path, count: usize) -> PathBuf {
    let folder = dir.join("photos");
    std::fs::create_dir_all(&folder).unwrap();
    let mut seed = 12345u32;
    let photo = image::RgbImage::from_fn(1600, 1200, |x, y| {
        seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
        let noise = (seed >> 24) as u8 / 4;
        image::Rgb([
            (x / 7) as u8 ^ noise,
            (y / 5) as u8,
            noise.wrapping_add((x + y) as u8),
        ])
    });
    let first = folder.join("photo-000.jpg");
    photo.save(&first).unwrap();
    for i in 1..count {
        std::fs::copy(&first, folder.join(format!("photo-{i:03}.jpg"))).unwrap();
    }
    folder
}

/// Every output under `out` decodes, and no temp file is left.
fn all_whole(out: &Path) -> usize {
    assert_no_temp_files(out);
    let files = files_under(out);
    for file in &files {
        open(&out.join(file));
    }
    files.len()
}

#[test]
fn a_signal_in_any_mode_stops_cleanly_and_skip_existing_finishes_the_job() {
    const PHOTOS: usize = 60;
    let scratch = tempfile::tempdir().unwrap();
    let photos = photo_folder(scratch.path(), PHOTOS);
    let cases = [
        ("sequential", libc::SIGINT),
        ("threaded", libc::SIGTERM),
        ("process", libc::SIGTERM),
        ("async", libc::SIGINT),
        ("threaded", libc::SIGINT),
        ("process", libc::SIGINT),
    ];
    for (mode, signal_number) in cases {
        let out = scratch.path().join(format!("out-{mode}-{signal_number}"));
        let imgpar = Command::new(assert_cmd::cargo::cargo_bin("imgpar"))
            .arg(&photos)
            .arg(&out)
            .args(["--mode", mode, "-j", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until("a few images are written", || outputs_so_far(&out) >= 2);
        signal(imgpar.id(), signal_number);
        let ended = imgpar.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&ended.stderr);
        assert_eq!(ended.status.code(), Some(130), "{mode}: {stderr}");
        assert!(stderr.contains("interrupted:"), "{mode}: {stderr}");
        let done = all_whole(&out);
        assert!(
            done < PHOTOS,
            "{mode}: the signal came too late to test anything"
        );

        run(&photos, &out, &["--mode", mode, "--skip-existing"])
            .success()
            .stderr(predicate::str::contains(format!(
                "{} ok, 0 failed, {done} skipped of {PHOTOS} images",
                PHOTOS - done
            )));
        assert_eq!(all_whole(&out), PHOTOS, "{mode}");
    }
}

#[test]
fn a_second_signal_says_so_and_closes_the_report() {
    let scratch = tempfile::tempdir().unwrap();
    let photos = photo_folder(scratch.path(), 40);
    let out = scratch.path().join("out");
    let report = scratch.path().join("report.json");
    let imgpar = Command::new(assert_cmd::cargo::cargo_bin("imgpar"))
        .arg(&photos)
        .arg(&out)
        .args([
            "--mode",
            "process",
            "-j",
            "2",
            "--size",
            "1024x1024",
            "--report",
        ])
        .arg(&report)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("an image is written", || outputs_so_far(&out) >= 1);
    signal(imgpar.id(), libc::SIGINT);
    std::thread::sleep(Duration::from_millis(20));
    signal(imgpar.id(), libc::SIGINT);
    let ended = imgpar.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&ended.stderr);
    assert_eq!(ended.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted again: stopping at once"),
        "{stderr}"
    );
    // The report is one JSON document whose counts say what ended.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let records = report["images"].as_array().unwrap().len() as u64;
    let ended_counts = ["ok", "failed", "skipped"]
        .iter()
        .map(|k| report[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(records, ended_counts, "{report}");
    assert_eq!(report["planned"], 40);
    assert!(report["ended_at_once"].is_string(), "{report}");
}

#[test]
fn a_temp_file_left_by_a_killed_run_is_removed_by_the_next_and_a_live_one_is_not() {
    let out = tempfile::tempdir().unwrap();
    let write = |name: &str, age_s: u64| {
        let path = out.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"half an image").unwrap();
        let then = std::time::SystemTime::now() - Duration::from_secs(age_s);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(then)
            .unwrap();
        path
    };
    // A killed run's file, untouched for an hour; one a live run is writing right now
    // (another task of an array, a second run); a file of the user's.
    let leftover = write("nested/.imgpar-AbCdEf.tmp", 3600);
    let live = write("nested/.imgpar-0123456789abcdef.tmp", 1);
    let mine = write("notes.tmp", 3600);
    run(&fixtures("images/rgb8.png"), out.path(), &[]).success();
    assert!(!leftover.exists());
    assert!(live.exists(), "a live run's temporary file was removed");
    assert!(mine.exists());
}

/// Runs imgpar with its output on a fresh tmpfs at `mount` of `size` (e.g. "32k"), in a
/// private mount namespace, optionally remounted read-only first. What it wrote is copied
/// to `keep` before the namespace goes away.
fn run_on_tmpfs(
    mount: &Path,
    size: &str,
    read_only: bool,
    keep: &Path,
    imgpar_args: &[&str],
) -> std::process::Output {
    run_on_tmpfs_holding(mount, size, read_only, None, keep, imgpar_args)
}

/// [`run_on_tmpfs`] with the output holding a copy of `preload` before it turns
/// read-only.
fn run_on_tmpfs_holding(
    mount: &Path,
    size: &str,
    read_only: bool,
    preload: Option<&Path>,
    keep: &Path,
    imgpar_args: &[&str],
) -> std::process::Output {
    std::fs::create_dir_all(mount).unwrap();
    let script = r#"
        set -e
        mount -t tmpfs -o size="$SIZE" tmpfs "$MNT"
        mkdir "$MNT/out"
        if [ -n "$PRELOAD" ]; then cp -a "$PRELOAD"/. "$MNT/out"; fi
        if [ "$RO" = 1 ]; then mount -o remount,ro "$MNT"; fi
        set +e
        "$@" "$MNT/out"
        code=$?
        cp -a "$MNT/out" "$KEEP"
        exit $code
    "#;
    Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(assert_cmd::cargo::cargo_bin("imgpar"))
        .args(imgpar_args)
        .env("SIZE", size)
        .env("MNT", mount)
        .env("RO", if read_only { "1" } else { "0" })
        .env("PRELOAD", preload.unwrap_or(Path::new("")))
        .env("KEEP", keep)
        .output()
        .expect("unshare (util-linux) runs")
}

#[test]
fn a_full_disk_stops_the_run_with_one_error_in_every_mode() {
    let scratch = tempfile::tempdir().unwrap();
    let images = fixtures("images");
    let planned = 17;
    for mode in modes() {
        let keep = scratch.path().join(format!("kept-{mode}"));
        let report = scratch.path().join(format!("report-{mode}.json"));
        let ended = run_on_tmpfs(
            &scratch.path().join(format!("disk-{mode}")),
            "32k",
            false,
            &keep,
            &[
                images.to_str().unwrap(),
                "--mode",
                mode,
                "-j",
                "2",
                "--report",
                report.to_str().unwrap(),
            ],
        );
        let stderr = String::from_utf8_lossy(&ended.stderr);
        assert_eq!(ended.status.code(), Some(3), "{mode}: {stderr}");
        assert_eq!(
            stderr
                .matches("imgpar: stopped early, the output cannot take more files")
                .count(),
            1,
            "{mode}: {stderr}"
        );
        assert!(
            stderr.contains("No space left on device"),
            "{mode}: {stderr}"
        );
        let failed = stderr.matches("No space left on device").count() - 1;
        // Only the images already under way when the disk filled may fail with it.
        assert!(failed <= 4, "{mode}: {failed} images failed: {stderr}");
        let written = all_whole(&keep);
        assert!(written + failed < planned, "{mode}: it did not stop early");
        // The report counts the bytes that are on the disk, not those that did not fit.
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let on_disk: u64 = files_under(&keep)
            .iter()
            .map(|rel| std::fs::metadata(keep.join(rel)).unwrap().len())
            .sum();
        assert_eq!(report["bytes_out"].as_u64(), Some(on_disk), "{mode}");
    }
}

#[test]
fn a_read_only_output_stops_the_run_before_any_image() {
    let scratch = tempfile::tempdir().unwrap();
    let keep = scratch.path().join("kept");
    let images = fixtures("images");
    let ended = run_on_tmpfs(
        &scratch.path().join("disk"),
        "1m",
        true,
        &keep,
        &[images.to_str().unwrap(), "--mode", "process"],
    );
    let stderr = String::from_utf8_lossy(&ended.stderr);
    assert_eq!(ended.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is not writable: Read-only file system"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(files_under(&keep).is_empty());
}

#[test]
fn a_complete_read_only_output_can_be_checked_with_skip_existing() {
    let scratch = tempfile::tempdir().unwrap();
    let images = fixtures("images");
    let done = scratch.path().join("done");
    run(&images, &done, &[]).success();
    let keep = scratch.path().join("kept");
    let ended = run_on_tmpfs_holding(
        &scratch.path().join("disk"),
        "4m",
        true,
        Some(&done),
        &keep,
        &[images.to_str().unwrap(), "--skip-existing"],
    );
    let stderr = String::from_utf8_lossy(&ended.stderr);
    // Every image is skipped, nothing is written, and the folder's refusal of new files
    // never comes up.
    assert_eq!(ended.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("0 ok, 0 failed, 17 skipped"), "{stderr}");
    assert!(!stderr.contains("at path"), "{stderr}");
}

#[test]
fn a_file_size_limit_stops_the_run_instead_of_killing_it() {
    use std::os::unix::process::CommandExt;
    let out = tempfile::tempdir().unwrap();
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("imgpar"));
    command
        .arg(fixtures("images"))
        .arg(out.path())
        .args(["--mode", "threaded"]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 3000,
                rlim_max: 3000,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let ended = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&ended.stderr);
    assert_eq!(ended.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    // The outputs under the limit were written whole; the one over it left nothing.
    assert!(all_whole(out.path()) < 17);
}

#[test]
fn threaded_timeout_names_the_stuck_image_and_the_run_ends() {
    let scratch = tempfile::tempdir().unwrap();
    let stuck = scratch.path().join("stuck.png");
    named_pipe(&stuck);
    let out = scratch.path().join("out");
    let clock = Instant::now();
    imgpar()
        .arg(&stuck)
        .arg(fixtures("images"))
        .arg(&out)
        .args(["--mode", "threaded", "-j", "2", "--timeout", "1"])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "stuck.png: still running after 1 s (--timeout); threaded mode cannot stop an image",
        ))
        .stderr(predicate::str::contains("17 ok, 1 failed"));
    assert!(clock.elapsed() < Duration::from_secs(20));
    assert_eq!(all_whole(&out), 17);
}
