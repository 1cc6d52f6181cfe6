//! `--mode process`: worker processes that die, hang or run out of memory cost one image,
//! never the run, and never outlive imgpar. Workers are found among imgpar's children and
//! killed from outside, as a user's system would; a named pipe that never delivers data
//! stands in for an image that hangs its worker.
#![cfg(target_os = "linux")]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::*;
use predicates::prelude::*;

/// Live (not zombie) processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some((state, parent)) = state_and_parent(child)
            && parent == pid
            && state != 'Z'
        {
            found.push(child);
        }
    }
    found
}

/// A process's state letter and parent pid, from /proc; `None` once it is gone.
fn state_and_parent(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: read after its closing one.
    let mut rest = stat[stat.rfind(')')? + 2..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let parent = rest.next()?.parse().ok()?;
    Some((state, parent))
}

fn alive(pid: u32) -> bool {
    state_and_parent(pid).is_some_and(|(state, _)| state != 'Z')
}

/// Whether `pid` is waiting in the kernel for a named pipe to get a writer (so a job on
/// that pipe has truly begun). Read from wchan, or else from the system call it is in.
fn blocked_opening_a_pipe(pid: u32) -> bool {
    let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    if wchan.contains("wait_for_partner") {
        return true;
    }
    // Where wchan is hidden: openat (257) or open (2) on x86_64, openat (56) on aarch64.
    let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
    let number = syscall.split_whitespace().next().unwrap_or("");
    let open = if cfg!(target_arch = "aarch64") {
        ["56", "56"]
    } else {
        ["257", "2"]
    };
    wchan.trim() == "0" && open.contains(&number)
}

/// Starts imgpar on `inputs` into `out`, quiet, with a JSON report beside `out`.
fn start(inputs: &[PathBuf], out: &Path, args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("imgpar"))
        .args(inputs)
        .arg(out)
        .args(["--quiet", "--report"])
        .arg(out.with_extension("json"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn report(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.with_extension("json")).unwrap()).unwrap()
}

/// The record of the image read from `input`.
fn record<'a>(report: &'a serde_json::Value, input: &Path) -> &'a serde_json::Value {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["input"] == input.to_str().unwrap())
        .unwrap_or_else(|| panic!("no record for {}", input.display()))
}

/// A pipe first in the plan, then the fixture images: with two workers, one blocks on the
/// pipe (holding one more job queued behind it) while the other converts the rest.
fn pipe_then_images(scratch: &Path) -> (PathBuf, Vec<PathBuf>) {
    let pipe = scratch.join("stuck");
    named_pipe(&pipe);
    (pipe.clone(), vec![pipe, fixtures("images")])
}

/// Waits until only the worker blocked on the pipe is left, and returns it.
fn the_blocked_worker(imgpar: &Child, out: &Path) -> u32 {
    wait_until("the free worker has converted all it can", || {
        outputs_so_far(out) >= 16 && children_of(imgpar.id()).len() == 1
    });
    children_of(imgpar.id())[0]
}

#[test]
fn a_worker_killed_mid_image_is_replaced_and_its_image_retried() {
    let scratch = tempfile::tempdir().unwrap();
    let (pipe, inputs) = pipe_then_images(scratch.path());
    let out = scratch.path().join("out");
    let mut imgpar = start(&inputs, &out, &["--mode", "process", "-j", "2"]);

    let first = the_blocked_worker(&imgpar, &out);
    signal(first, libc::SIGKILL);
    // A fresh worker takes the image over; this time the pipe delivers a real PNG.
    wait_until("a fresh worker replaces the killed one", || {
        children_of(imgpar.id()).iter().any(|&pid| pid != first)
    });
    std::fs::write(&pipe, std::fs::read(fixtures("images/red.png")).unwrap()).unwrap();

    assert_eq!(imgpar.wait().unwrap().code(), Some(0));
    assert_eq!(files_under(&out).len(), 18, "every image is written");
    assert_eq!(open(&out.join("stuck.png")).width(), 64);
    let report = report(&out);
    assert_eq!(report["ok"], 18);
    let ends: Vec<&str> = report["worker_processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["ended"].as_str().unwrap())
        .collect();
    assert!(
        ends.contains(&"worker killed by signal 9 (SIGKILL)"),
        "{ends:?}"
    );
    assert_eq!(ends.iter().filter(|e| **e == "finished").count(), 2);
    assert_no_temp_files(&out);
}

#[test]
fn an_image_that_kills_its_worker_twice_fails_alone_with_the_cause() {
    let scratch = tempfile::tempdir().unwrap();
    let (pipe, inputs) = pipe_then_images(scratch.path());
    let out = scratch.path().join("out");
    let imgpar = start(&inputs, &out, &["--mode", "process", "-j", "2"]);

    let first = the_blocked_worker(&imgpar, &out);
    signal(first, libc::SIGKILL);
    wait_until("a fresh worker retries the image", || {
        children_of(imgpar.id()).iter().any(|&pid| pid != first)
    });
    let second = children_of(imgpar.id())
        .into_iter()
        .find(|&pid| pid != first)
        .unwrap();
    signal(second, libc::SIGKILL);

    let status = imgpar.wait_with_output().unwrap();
    assert_eq!(status.status.code(), Some(1));
    assert_eq!(files_under(&out).len(), 17, "every other image is written");
    let report = report(&out);
    assert_eq!(
        (report["ok"].as_u64(), report["failed"].as_u64()),
        (Some(17), Some(1))
    );
    let stuck = record(&report, &pipe);
    assert_eq!(stuck["status"], "failed");
    assert_eq!(
        stuck["error"],
        "worker killed by signal 9 (SIGKILL) (the image was tried on 2 workers)"
    );
    assert!(String::from_utf8_lossy(&status.stderr).contains("stuck: worker killed by signal 9"));
}

/// Runs imgpar with two worker processes on `inputs` (the fixture images and `culprit`)
/// and checks that `culprit` alone failed, for `reason`, and every other image was written.
fn only_the_culprit_fails(
    inputs: &[PathBuf],
    out: &Path,
    args: &[&str],
    culprit: &Path,
    reason: &str,
) {
    imgpar()
        .args(inputs)
        .arg(out)
        .args(["--mode", "process", "-j", "2"])
        .args(args)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "{}: {reason}",
            culprit.display()
        )))
        .stderr(predicate::str::contains("17 ok, 1 failed"));
    assert_eq!(files_under(out).len(), 17);
    assert_no_temp_files(out);
}

#[test]
fn an_image_past_the_timeout_is_stopped_and_the_rest_finish() {
    let scratch = tempfile::tempdir().unwrap();
    let (pipe, inputs) = pipe_then_images(scratch.path());
    let out = scratch.path().join("out");
    only_the_culprit_fails(
        &inputs,
        &out,
        &["--timeout", "1"],
        &pipe,
        "timed out after 1 s (its worker was stopped and replaced)",
    );
}

#[test]
fn no_worker_outlives_a_killed_imgpar() {
    let scratch = tempfile::tempdir().unwrap();
    let pipes: Vec<PathBuf> = ["a", "b"].iter().map(|n| scratch.path().join(n)).collect();
    pipes.iter().for_each(|p| named_pipe(p));
    let out = scratch.path().join("out");
    let mut imgpar = start(&pipes, &out, &["--mode", "process", "-j", "2"]);
    wait_until("both workers block on their pipes", || {
        children_of(imgpar.id()).len() == 2
    });
    let workers = children_of(imgpar.id());

    signal(imgpar.id(), libc::SIGKILL);
    imgpar.wait().unwrap();
    wait_until("the workers are gone", || {
        !workers.iter().any(|&w| alive(w))
    });
}

#[test]
fn ctrl_c_stops_dispatching_and_exits_130_with_a_partial_report() {
    let scratch = tempfile::tempdir().unwrap();
    let (pipe, inputs) = pipe_then_images(scratch.path());
    let out = scratch.path().join("out");
    // One worker, blocked on the pipe; the timeout ends the blocked image after Ctrl-C.
    let imgpar = start(
        &inputs,
        &out,
        &["--mode", "process", "-j", "1", "--timeout", "2"],
    );
    wait_until("the worker blocks on the pipe", || {
        children_of(imgpar.id())
            .first()
            .is_some_and(|&w| blocked_opening_a_pipe(w))
    });
    signal(imgpar.id(), libc::SIGINT);

    let ended = imgpar.wait_with_output().unwrap();
    assert_eq!(ended.status.code(), Some(130));
    let report = report(&out);
    assert_eq!(report["interrupted"], true);
    assert_eq!(record(&report, &pipe)["status"], "failed");
    // The image queued behind the pipe was never begun, nor any after it.
    assert_eq!(report["not_started"], 17);
    assert!(files_under(&out).is_empty());
    assert!(String::from_utf8_lossy(&ended.stderr).contains("timed out after 2 s"));
}

/// A GIF of `width` x `height` white pixels: small on disk, four bytes per pixel once
/// decoded whole.
fn write_flat_gif(path: &Path, width: u16, height: u16) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = gif::Encoder::new(file, width, height, &[0, 0, 0, 255, 255, 255]).unwrap();
    let frame = gif::Frame {
        width,
        height,
        buffer: std::borrow::Cow::Owned(vec![1u8; usize::from(width) * usize::from(height)]),
        ..gif::Frame::default()
    };
    encoder.write_frame(&frame).unwrap();
}

/// Checks that `big` alone fails under `--worker-memory 128M` for `reason`, among the
/// fixtures, and that without the cap it converts: it was the cap, not the image. Returns
/// the uncapped output. (The debug build's program alone maps over 60 MiB: 128 MiB leaves
/// its workers about what a release build's have under 96 MiB.)
fn fails_only_under_the_cap(big: &Path, args: &[&str], reason: &str) -> image::DynamicImage {
    let scratch = big.parent().unwrap();
    let capped = [&["--worker-memory", "128M"], args].concat();
    only_the_culprit_fails(
        &[big.to_path_buf(), fixtures("images")],
        &scratch.join("out"),
        &capped,
        big,
        reason,
    );
    let uncapped = scratch.join("uncapped");
    let args = [&["--mode", "process", "-j", "1"], args].concat();
    run(big, &uncapped, &args).success();
    let written = files_under(&uncapped);
    assert_eq!(written.len(), 1, "{written:?}");
    open(&uncapped.join(&written[0]))
}

#[test]
fn worker_memory_makes_an_oversized_image_fail_alone() {
    // A GIF is decoded whole (a PNG or baseline JPEG would stream in a few MiB): 6000x4000
    // is 96 MB of RGBA, from a file of a few tens of kilobytes.
    let scratch = tempfile::tempdir().unwrap();
    let big = scratch.path().join("big.gif");
    write_flat_gif(&big, 6_000, 4_000);
    let converted =
        fails_only_under_the_cap(&big, &[], "out of memory under --worker-memory 128 MiB");
    assert_eq!((converted.width(), converted.height()), (256, 171));
}

/// A progressive 4:4:4 JPEG of 4000x4000 pixels.
fn write_big_progressive_jpeg(path: &Path) {
    let mut encoder = jpeg_encoder::Encoder::new_file(path, 90).unwrap();
    encoder.set_progressive(true);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
    let pixels: Vec<u8> = (0..4000u32 * 4000)
        .flat_map(|i| [(i % 251) as u8, (i / 4000 % 241) as u8, 128])
        .collect();
    encoder
        .encode(&pixels, 4000, 4000, jpeg_encoder::ColorType::Rgb)
        .unwrap();
}

#[test]
fn worker_memory_fails_a_jpeg_that_needs_more_with_a_reason() {
    // Decoded at full scale (a 1500-pixel output of 4000 pixels), a progressive JPEG goes
    // to libjpeg, which keeps every coefficient of every component until the last scan:
    // 96 MB for 4000x4000 at 4:4:4, over what a 128 MiB worker has left.
    let scratch = tempfile::tempdir().unwrap();
    let big = scratch.path().join("big.jpg");
    write_big_progressive_jpeg(&big);
    let converted = fails_only_under_the_cap(
        &big,
        &["--size", "1500x1500"],
        "out of memory decoding this JPEG",
    );
    assert_eq!(converted.width(), 1500);
}

#[test]
fn a_progressive_jpegs_thumbnail_needs_only_the_coefficients_it_reads() {
    // The same JPEG for a 256-pixel thumbnail is decoded at 2/8 from the luma's scans,
    // keeping 58 bytes a luma block (15 MB): it converts in a worker capped at 128 MiB.
    let scratch = tempfile::tempdir().unwrap();
    let big = scratch.path().join("big.jpg");
    write_big_progressive_jpeg(&big);
    let out = scratch.path().join("out");
    run(
        &big,
        &out,
        &["--mode", "process", "--worker-memory", "128M"],
    )
    .success();
    let written = files_under(&out);
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(open(&out.join(&written[0])).width(), 256);
}
