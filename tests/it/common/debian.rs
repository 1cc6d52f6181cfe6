//! Programs and files the tests take from Debian's packages (redis-server, ExifTool,
//! Ghostscript's CMYK profile), installed with apt-get on first use when the machine lacks
//! them. A test that cannot install one fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `program`, installed from Debian's `package` if `program version_arg` does not run.
/// Installs run under a file lock, so tests running at once install it once.
pub fn program(program: &str, package: &str, version_arg: &str) -> PathBuf {
    let runs = || {
        Command::new(program)
            .arg(version_arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    installed(package, runs, program);
    PathBuf::from(program)
}

/// The file at `path`, installed from Debian's `package` if it is not there.
pub fn file(path: &str, package: &str) -> PathBuf {
    installed(package, || Path::new(path).is_file(), path);
    PathBuf::from(path)
}

/// Installs `package` unless `present()` says what it brings (`what`) is there already.
fn installed(package: &str, present: impl Fn() -> bool, what: &str) {
    let runs = present;
    let lock_at = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{package}-install"));
    let _lock = crate::common::python::install_lock(&lock_at);
    if !runs() {
        let apt = |args: &[&str]| {
            Command::new("apt-get")
                // Another test's install may hold dpkg's lock: wait for it.
                .args(["-o", "DPkg::Lock::Timeout=600"])
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .status()
                .unwrap_or_else(|e| panic!("apt-get runs (tests install {package} with it): {e}"))
        };
        assert!(apt(&["update", "-qq"]).success(), "apt-get update failed");
        assert!(
            apt(&["install", "-y", "-qq", package]).success(),
            "apt-get install {package} failed"
        );
        assert!(runs(), "{package} installed but `{what}` is not there");
    }
}

/// ExifTool: it writes previews into RAW files and extracts them again, independently of
/// imgpar's reader.
pub fn exiftool() -> PathBuf {
    program("exiftool", "libimage-exiftool-perl", "-ver")
}

/// A CMYK print profile (Artifex's SWOP profile, which Ghostscript ships), for CMYK
/// pictures as print files carry them.
pub fn cmyk_profile() -> PathBuf {
    file(
        "/usr/share/color/icc/ghostscript/default_cmyk.icc",
        "libgs-common",
    )
}
