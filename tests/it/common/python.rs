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
