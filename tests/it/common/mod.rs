//! Helpers shared by the integration tests: run the real binary, look at what it wrote.
#![allow(dead_code)]

#[cfg(feature = "queue")]
pub mod brokers;
pub mod debian;
pub mod python;
#[cfg(feature = "cloud")]
pub mod stores;
pub mod tiff;
#[cfg(all(feature = "cli", target_os = "linux", target_arch = "x86_64"))]
pub mod windows;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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

/// The variables of the array engines imgpar reads its shard from.
pub const ENGINE_VARIABLES: &[&str] = &[
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_STEP",
    "JOB_COMPLETION_INDEX",
    "IMGPAR_SHARD_COUNT",
    "AWS_BATCH_JOB_ARRAY_INDEX",
    "AWS_BATCH_JOB_ARRAY_SIZE",
];

/// The imgpar binary without the engine variables of the test's own environment, so that
/// nothing but the test chooses a shard.
pub fn imgpar_unsharded() -> Command {
    let mut cmd = imgpar();
    for name in ENGINE_VARIABLES {
        cmd.env_remove(name);
    }
    cmd
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

/// [`all_bytes`] without each file's provenance (`imgpar::without_provenance`): what two
/// outputs of the same picture and settings share when their inputs differ (the same
/// picture from two addresses, or under two names).
pub fn all_pictures(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    all_bytes(dir)
        .into_iter()
        .map(|(rel, bytes)| (rel, imgpar::without_provenance(&bytes)))
        .collect()
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

/// Runs imgpar on `input` into `out` with `args` and a report beside `out`, expects
/// success, and returns the report.
pub fn run_reported(input: &Path, out: &Path, args: &[&str]) -> serde_json::Value {
    let report = out.with_extension("report.json");
    imgpar()
        .arg(input)
        .arg(out)
        .args(args)
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    report_at(&report)
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

/// A named pipe at `path`: opening it for reading blocks until someone writes.
pub fn named_pipe(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Waits up to 20 s for `what` to hold.
pub fn wait_until(description: &str, mut what: impl FnMut() -> bool) {
    let give_up = Instant::now() + Duration::from_secs(20);
    while !what() {
        assert!(
            Instant::now() < give_up,
            "gave up waiting until {description}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` to the process `pid`.
pub fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: sends a signal to a process this test started (or its child).
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
}

/// Outputs written so far under `out`, while a run may still be writing there.
pub fn outputs_so_far(out: &Path) -> usize {
    walkdir::WalkDir::new(out)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .filter(|e| !e.file_name().to_string_lossy().starts_with(".imgpar-"))
        .count()
}

/// Mean and largest absolute difference of two gray pictures of one size, in levels.
pub fn difference(a: &image::GrayImage, b: &image::GrayImage) -> (f64, u8) {
    assert_eq!(a.dimensions(), b.dimensions());
    let diffs: Vec<u8> = a
        .pixels()
        .zip(b.pixels())
        .map(|(p, q)| p[0].abs_diff(q[0]))
        .collect();
    let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
    (mean, diffs.into_iter().max().unwrap_or(0))
}

/// Mean absolute difference of two gray pictures of one size, in levels.
pub fn mean_difference(a: &image::GrayImage, b: &image::GrayImage) -> f64 {
    difference(a, b).0
}

/// Converts the `count` files of `input` in process mode (256 MiB a worker, 30 s an
/// image), checks that each got exactly one record and that none crashed its worker, hung
/// or failed inside imgpar, and returns the report.
pub fn assert_each_ends_cleanly(input: &Path, scratch: &Path, count: usize) -> serde_json::Value {
    let json = scratch.join("report.json");
    let ended = imgpar()
        .arg(input)
        .arg(scratch.join("out"))
        .args([
            "--mode",
            "process",
            "--timeout",
            "30",
            "--worker-memory",
            "256M",
        ])
        .arg("--report")
        .arg(&json)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(matches!(ended.status.code(), Some(0 | 1)), "{ended:?}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), count, "{report}");
    for record in images {
        let kind = record["error_kind"].as_str().unwrap_or("none");
        assert!(
            !matches!(kind, "worker_died" | "timeout" | "internal"),
            "{record}"
        );
    }
    report
}

/// A small deterministic generator, so every run damages the same bytes.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n.max(1) as u64) as usize
    }
}

/// The JSON report written at `path`.
pub fn report_at(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The record of the one image whose input ends with `suffix`.
pub fn record_of<'a>(report: &'a serde_json::Value, suffix: &str) -> &'a serde_json::Value {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["input"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no record for {suffix}: {report}"))
}

/// A scratch folder with an empty `in` folder inside it, for a test to write its inputs.
pub fn scratch_with_input() -> (tempfile::TempDir, PathBuf) {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    (scratch, input)
}

/// Every mode's name (`imgpar::Mode::ALL`): a new mode is tested wherever the others are.
pub fn modes() -> impl Iterator<Item = &'static str> {
    imgpar::Mode::ALL.into_iter().map(imgpar::Mode::name)
}

/// The modes with more than one worker: every mode but sequential.
pub fn parallel_modes() -> impl Iterator<Item = &'static str> {
    modes().filter(|&mode| mode != "sequential")
}
