//! Helpers shared by the integration tests: run the real binary, look at what it wrote.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository's fixtures folder.
pub fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(sub)
}

/// The PNG conformance suite, read in place from the shared folder beside the repository.
pub fn pngsuite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/pngsuite")
}

/// The imgpar binary, with no terminal attached.
pub fn imgpar() -> Command {
    Command::cargo_bin("imgpar").expect("the binary is built")
}

/// Every file under `dir`, as paths relative to it, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("readable"))
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().to_path_buf())
        .collect();
    files.sort();
    files
}

/// Every file under `dir` with its bytes, sorted by relative path.
pub fn all_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .map(|rel| {
            let bytes = std::fs::read(dir.join(&rel)).unwrap();
            (rel, bytes)
        })
        .collect()
}

/// Asserts no imgpar temp file is left anywhere under `dir`.
pub fn assert_no_temp_files(dir: &Path) {
    for file in files_under(dir) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.starts_with(".imgpar-"),
            "temp file left behind: {}",
            file.display()
        );
    }
}

/// Decodes an output file with the `image` crate (independently of imgpar's own decoder).
pub fn open(path: &Path) -> image::DynamicImage {
    image::open(path).unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()))
}

/// Runs imgpar on `input` into `out` with `args`, for the caller to check the result.
pub fn run(input: &Path, out: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    imgpar().arg(input).arg(out).args(args).assert()
}

/// Runs imgpar on `input` into a fresh temporary folder, expects success, and returns the
/// folder.
pub fn convert(input: &Path, args: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    run(input, out.path(), args).success();
    out
}
