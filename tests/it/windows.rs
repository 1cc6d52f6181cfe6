//! imgpar for Windows, built here (the README's recipe) and run under Wine 8: the
//! library's unit tests, and the command on the fixtures against the Linux build.
//!
//! Not tested here, for what Wine cannot do: `--worker-memory` failing an image (Wine keeps
//! a Job Object's memory limit without enforcing it, or reporting it: the oversized image
//! converts; the unit tests check the limit as it is handed to Windows, and that a worker
//! in its job ends with imgpar's handle on it), a worker's CPU time
//! and peak memory (Wine reports none for another process), Ctrl-C (Wine sends no console
//! events to a program started without a console), and links in the output folder
//! (Windows symbolic links need a privilege; Wine shows Unix links as plain files).

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::windows::{built, wine};
use crate::common::{fixtures, imgpar};

/// The inputs a report lists as failed.
fn failed(report: &Path) -> BTreeSet<String> {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "failed")
        .map(|r| {
            let input = r["input"].as_str().unwrap().replace('\\', "/");
            input.rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

/// Every file below `folder`, by its path below it, with its bytes.
fn files(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found: Vec<_> = walkdir::WalkDir::new(folder)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(folder).unwrap();
            (
                rel.to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn the_librarys_unit_tests_pass_under_wine() {
    let built = built();
    let run = wine(&built.unit_tests).output().unwrap();
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success() && said.contains("test result: ok"),
        "{said}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn a_folder_converts_in_every_mode_byte_identical_to_the_linux_build() {
    let built = built();
    let scratch = tempfile::tempdir().unwrap();
    let linux = scratch.path().join("linux");
    let status = imgpar()
        .arg(fixtures(""))
        .arg(&linux)
        .args(["-q", "--report"])
        .arg(scratch.path().join("linux.json"))
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(1),
        "the broken fixtures fail on Linux"
    );
    let expected = files(&linux);
    let broken = failed(&scratch.path().join("linux.json"));
    assert!(broken.contains("truncated.jpg") && broken.contains("text.jpg"));
    for mode in ["sequential", "threaded", "process"] {
        let out = scratch.path().join(mode);
        let report = scratch.path().join(format!("{mode}.json"));
        let run = wine(&built.imgpar)
            .arg(fixtures(""))
            .arg(&out)
            .args(["--mode", mode, "-j", "2", "-q", "--report"])
            .arg(&report)
            // Process mode's workers in Job Objects with a memory limit (which Wine
            // keeps without enforcing): they start, work and end as without one.
            .args(match mode {
                "process" => &["--worker-memory", "1G"][..],
                _ => &[],
            })
            .current_dir(scratch.path())
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(1),
            "{mode}: some images failed, and only they: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(failed(&report), broken, "{mode}: the same files fail alone");
        let made = files(&out);
        let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&made), names(&expected), "{mode}: the same outputs");
        for ((name, bytes), (_, linux_bytes)) in made.iter().zip(&expected) {
            assert!(bytes == linux_bytes, "{mode}: {name} differs from Linux's");
        }
    }
}

#[test]
fn skip_existing_rewrites_nothing_under_wine() {
    let built = built();
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    let convert = |extra: &[&str]| {
        wine(&built.imgpar)
            .arg(fixtures("images"))
            .arg(&out)
            .args(["-q", "--report"])
            .arg(scratch.path().join("report.json"))
            .args(extra)
            .current_dir(scratch.path())
            .output()
            .unwrap()
    };
    assert!(convert(&[]).status.success());
    let first = files(&out);
    assert!(!first.is_empty());
    let modified = |f: &str| std::fs::metadata(out.join(f)).unwrap().modified().unwrap();
    let before: Vec<_> = first.iter().map(|(name, _)| modified(name)).collect();
    let again = convert(&["--skip-existing", "--mode", "process"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(scratch.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["skipped"].as_u64(), Some(first.len() as u64));
    assert_eq!(report["ok"].as_u64(), Some(0));
    assert_eq!(files(&out), first, "every output as it was");
    let after: Vec<_> = first.iter().map(|(name, _)| modified(name)).collect();
    assert_eq!(after, before, "nothing written again");
    // Nothing is left behind: no temporary file beside the outputs.
    assert!(walkdir::WalkDir::new(&out).into_iter().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".imgpar-")
    }));
}

/// The inputs and outputs a report lists, as it writes them.
fn records(report: &Path) -> Vec<(String, String)> {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    let mut found: Vec<_> = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let path = |key: &str| r[key].as_str().unwrap().to_string();
            (path("input"), path("output"))
        })
        .collect();
    found.sort();
    found
}

/// Names beyond ASCII (accents, CJK, an emoji, in a subfolder) go through Windows' UTF-16
/// and back: the same output names and bytes as Linux's, and the report names them
/// exactly, with Windows' separator.
#[test]
fn names_beyond_ascii_come_through_windows_exactly() {
    let built = built();
    let scratch = tempfile::tempdir().unwrap();
    let names = [
        "café.png",
        "日本の写真.jpg",
        "Ünïcødé ñame 🌄.jpg",
        "Straße/Grüße.png",
    ];
    let sources = ["palette.png", "gray.jpg", "baseline_420.jpg", "alpha.png"];
    for (name, source) in names.iter().zip(sources) {
        let path = scratch.path().join("photos").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(fixtures("images").join(source), path).unwrap();
    }
    let linux = imgpar()
        .args(["photos", "out-linux", "-q", "--report", "linux.json"])
        .current_dir(scratch.path())
        .output()
        .unwrap();
    assert!(linux.status.success());
    let windows = wine(&built.imgpar)
        .args(["photos", "out-windows", "-q", "--report", "windows.json"])
        .current_dir(scratch.path())
        .output()
        .unwrap();
    assert!(
        windows.status.success(),
        "{}",
        String::from_utf8_lossy(&windows.stderr)
    );
    let made = files(&scratch.path().join("out-windows"));
    assert_eq!(made.len(), names.len());
    assert!(
        made == files(&scratch.path().join("out-linux")),
        "the same names and bytes"
    );
    let as_windows_names_it =
        |path: &str| path.replace("out-linux", "out-windows").replace('/', "\\");
    let expected: Vec<_> = records(&scratch.path().join("linux.json"))
        .iter()
        .map(|(input, output)| (as_windows_names_it(input), as_windows_names_it(output)))
        .collect();
    let reported = records(&scratch.path().join("windows.json"));
    assert_eq!(reported, expected);
    assert!(
        reported
            .iter()
            .any(|(input, _)| input == "photos\\Straße\\Grüße.png")
    );
}
