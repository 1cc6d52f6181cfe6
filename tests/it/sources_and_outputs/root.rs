//! `--root DIR`: image files and folders named below DIR keep their path below it in the
//! output, so files of the same name in different folders stay apart; an input outside
//! DIR stops the run before anything is written.

use std::path::Path;

use crate::common;

/// `in/2024/a/x.jpg`, `in/2025/x.jpg` (same name, another folder, another picture) and
/// `in/2025/y.png`.
fn tree(root: &Path) {
    let images = common::fixtures("images");
    for (to, from) in [
        ("2024/a/x.jpg", "gray.jpg"),
        ("2025/x.jpg", "baseline_420.jpg"),
        ("2025/y.png", "rgb8.png"),
    ] {
        let to = root.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(images.join(from), to).unwrap();
    }
}

#[test]
fn named_files_below_the_root_keep_their_folders() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    tree(&input);
    let out = scratch.path().join("out");
    common::imgpar()
        .arg(input.join("2024/a/x.jpg"))
        .arg(input.join("2025/x.jpg"))
        .arg(input.join("2025"))
        .arg(&out)
        .args(["--root", input.to_str().unwrap(), "--format", "png", "-q"])
        .assert()
        .success();
    assert_eq!(
        common::files_under(&out),
        ["2024/a/x.png", "2025/x.png", "2025/y.png"].map(std::path::PathBuf::from)
    );
    // Each output is its own input's picture, as a run of that file alone makes it.
    for (rel, source) in [
        ("2024/a/x.png", "2024/a/x.jpg"),
        ("2025/x.png", "2025/x.jpg"),
    ] {
        let alone = common::convert(&input.join(source), &["--format", "png", "-q"]);
        let name = Path::new(rel).file_name().unwrap();
        let picture = |path: &Path| imgpar::without_provenance(&std::fs::read(path).unwrap());
        assert_eq!(
            picture(&out.join(rel)),
            picture(&alone.path().join(name)),
            "{rel}"
        );
    }
    // Without --root the two x.jpg share a name: imgpar tells them apart by suffix.
    let flat = scratch.path().join("flat");
    common::imgpar()
        .arg(input.join("2024/a/x.jpg"))
        .arg(input.join("2025/x.jpg"))
        .arg(&flat)
        .args(["--format", "png", "-q"])
        .assert()
        .success();
    assert_eq!(common::files_under(&flat).len(), 2);
    assert!(
        common::files_under(&flat)
            .iter()
            .all(|p| p.parent() == Some(Path::new("")))
    );
}

#[test]
fn an_input_outside_the_root_stops_the_run_before_anything_is_written() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    tree(&input);
    let root = input.join("2024");
    for outside in [
        input.join("2025/x.jpg"),
        // Climbing out with `..` is not being below.
        root.join("../2025/x.jpg"),
        input.join("2025"),
    ] {
        let out = scratch.path().join("out");
        let done = common::imgpar()
            .arg(&outside)
            .arg(&out)
            .args(["--root", root.to_str().unwrap()])
            .assert()
            .code(2);
        let said = String::from_utf8_lossy(&done.get_output().stderr).into_owned();
        assert!(said.contains("is not below --root"), "{said}");
        assert!(!out.exists(), "{} made the output", outside.display());
    }
}
