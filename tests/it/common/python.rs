//! Python tools the tests run (moto's S3 server, Pillow as an independent encoder),
//! installed from PyPI on first use into a virtual environment under `target/`. A test
//! that cannot install them fails; it never passes without them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An exclusive lock on `target.lock`, held until the returned file is dropped: test
/// binaries running at once install what `target` holds only once.
pub fn install_lock(target: &Path) -> std::fs::File {
    let lock = std::fs::File::create(target.with_extension("lock")).expect("lock file");
    // SAFETY: flock on a descriptor we own; released when `lock` is dropped.
    unsafe {
        libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX);
    }
    lock
}

/// The Python of the virtual environment `name` holding `packages`, made and installed
/// once: when `check` (a line of Python) fails in it. Installs run under a file lock, so
/// tests running at once (in one binary or several) do not install the same environment
/// twice.
pub fn python_with(name: &str, packages: &[&str], check: &str) -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = venv.join("bin/python");
    let _lock = install_lock(&venv);
    let ready = || {
        Command::new(&python)
            .args(["-c", check])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready() {
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .expect("python3 runs (tests need it for their Python tools)");
        assert!(made.success(), "python3 -m venv failed");
        let installed = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(packages)
            .status()
            .expect("pip runs");
        assert!(installed.success(), "pip install {packages:?} failed");
        assert!(ready(), "{packages:?} installed but `{check}` fails");
    }
    python
}

/// Pillow, with its JPEG 2000 (OpenJPEG) and AVIF (libavif) plugins: an encoder
/// independent of the decoders imgpar uses.
pub fn pillow() -> PathBuf {
    python_with(
        "pillow-venv",
        &["pillow==13.0.0"],
        "from PIL import features; assert features.check('jpg_2000') and features.check('avif')",
    )
}

/// Runs `script` in Pillow's Python with `args`, and asserts that it succeeded.
pub fn run_pillow(script: &str, args: &[&Path]) {
    let ran = Command::new(pillow())
        .arg("-c")
        .arg(script)
        .args(args)
        .status()
        .expect("Pillow's Python runs");
    assert!(ran.success(), "the Pillow script failed:\n{script}");
}

/// libheif (through pillow-heif, which also encodes HEIC with x265) and LibRaw (through
/// rawpy), with numpy: the references for the photo formats, independent of imgpar's
/// decoders.
pub fn photo_tools() -> PathBuf {
    python_with(
        "photo-venv",
        &[
            "pillow==13.0.0",
            "pillow-heif==1.9.0",
            "rawpy==0.28.0",
            "numpy==2.4.6",
        ],
        "import pillow_heif, rawpy, numpy",
    )
}

/// Runs `tests/it/images/photo_reference.py` (HEIC and RAW references, see its docstring)
/// in the photo tools' Python with `args`, asserting that it succeeded; returns what it
/// printed.
pub fn photo_reference(args: &[&std::ffi::OsStr]) -> String {
    reference_script(
        "photo_reference.py",
        include_str!("../images/photo_reference.py"),
        args,
    )
}

/// Runs `tests/it/images/colour_reference.py` (Pillow's colour-managed renderings, see its
/// docstring) as [`photo_reference`] runs its script.
pub fn colour_reference(args: &[&std::ffi::OsStr]) -> String {
    reference_script(
        "colour_reference.py",
        include_str!("../images/colour_reference.py"),
        args,
    )
}

fn reference_script(name: &str, script: &str, args: &[&std::ffi::OsStr]) -> String {
    let ran = Command::new(photo_tools())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("the photo tools' Python runs");
    assert!(
        ran.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
    String::from_utf8(ran.stdout).expect("the script prints UTF-8")
}

/// What `photo_reference.py`'s compare commands print: each output's PSNR against its
/// reference, and its size.
pub fn photo_scores(
    args: &[&std::ffi::OsStr],
) -> std::collections::BTreeMap<String, (f64, (u64, u64))> {
    let json: serde_json::Value = serde_json::from_str(&photo_reference(args)).unwrap();
    json.as_object()
        .unwrap()
        .iter()
        .map(|(name, score)| {
            let size = (
                score["size"][0].as_u64().unwrap(),
                score["size"][1].as_u64().unwrap(),
            );
            (name.clone(), (score["psnr"].as_f64().unwrap(), size))
        })
        .collect()
}
