//! imgpar built for Windows and run under Wine, the README's recipe: Debian's Rust with
//! its standard library's source (`rustc-web`, `cargo-web`, `rust-web-src`; rustup's
//! toolchains here have no Windows standard library), `-Zbuild-std`, mingw-w64 as linker
//! and C compiler, and Wine 8 (`wine64`) to run the result, all installed from Debian on
//! first use. Built once per test run (under a file lock) into `target/windows`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::common::debian;

/// The Windows builds the tests run.
pub struct Built {
    /// `imgpar.exe`.
    pub imgpar: PathBuf,
    /// The library's unit tests.
    pub unit_tests: PathBuf,
}

/// Where the Windows build goes: beside the Linux one, never mixed with it.
fn target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .join("windows")
}

/// The toolchain, installed from Debian where it is missing.
fn toolchain() {
    debian::program(
        "x86_64-w64-mingw32-gcc",
        "gcc-mingw-w64-x86-64",
        "--version",
    );
    debian::file("/usr/bin/rustc", "rustc-web");
    debian::file("/usr/bin/cargo", "cargo-web");
    debian::file(
        "/usr/lib/rustlib/src/rust/library/Cargo.toml",
        "rust-web-src",
    );
    debian::file("/usr/lib/wine/wine64", "wine64");
}

/// Debian's cargo with the recipe's settings, for `args`.
fn cargo(args: &[&str]) -> Output {
    let output = Command::new("/usr/bin/cargo")
        .args(args)
        .args([
            // `test` too for the build of `imgpar.exe`: every crate then depends on the same
            // standard library as in the unit tests' build, which reuses them all instead
            // of building every dependency again (5 minutes).
            "-Zbuild-std=std,panic_abort,test",
            "--target",
            "x86_64-pc-windows-gnu",
        ])
        .arg("--target-dir")
        .arg(target())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUSTC", "/usr/bin/rustc")
        .env("RUSTC_BOOTSTRAP", "1")
        .env_remove("RUSTFLAGS")
        .env(
            "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER",
            "x86_64-w64-mingw32-gcc",
        )
        .env("CC_x86_64_pc_windows_gnu", "x86_64-w64-mingw32-gcc")
        .env("AR_x86_64_pc_windows_gnu", "x86_64-w64-mingw32-ar")
        // mozjpeg-sys takes GCC's `long` to be 64 bits (HAVE_BUILTIN_CTZL), which it is
        // not on Windows: progressive JPEG encoding would break.
        .env(
            "CFLAGS_x86_64_pc_windows_gnu",
            "-D__builtin_ctzl=__builtin_ctzll",
        )
        .output()
        .expect("Debian's cargo runs");
    // With JSON messages, the compiler's own words are in stdout's `rendered` fields.
    let rendered: String = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|m| m["message"]["rendered"].as_str().map(str::to_owned))
        .collect();
    assert!(
        output.status.success(),
        "the Windows build failed:\n{rendered}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The Windows builds, made once (and again only when the sources changed: cargo's own
/// check), with the stand-in `bcryptprimitives.dll` beside them.
pub fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let _lock = crate::common::python::install_lock(&target().with_extension("build"));
        toolchain();
        cargo(&["build", "-p", "imgpar", "--bin", "imgpar"]);
        let tests = cargo(&[
            "test",
            "-p",
            "imgpar",
            "--lib",
            "--no-run",
            "--message-format=json",
        ]);
        let unit_tests = String::from_utf8_lossy(&tests.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the unit tests' executable");
        let debug = target().join("x86_64-pc-windows-gnu/debug");
        let shim = debug.join("bcryptprimitives.dll");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/windows");
        let made = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-shared", "-O2", "-o"])
            .arg(&shim)
            .arg(source.join("bcryptprimitives.c"))
            .arg(source.join("bcryptprimitives.def"))
            .arg("-ladvapi32")
            .status()
            .expect("mingw's gcc runs");
        assert!(
            made.success(),
            "the bcryptprimitives.dll stand-in did not build"
        );
        std::fs::copy(&shim, debug.join("deps/bcryptprimitives.dll")).unwrap();
        let built = Built {
            imgpar: debug.join("imgpar.exe"),
            unit_tests,
        };
        // The first start makes Wine's prefix: once, before tests start it at once.
        let first = wine(&built.imgpar).arg("--version").output().unwrap();
        assert!(
            first.status.success(),
            "imgpar.exe does not start under Wine"
        );
        built
    })
}

/// `program` (a Windows executable) under Wine, in the tests' own Wine prefix, quiet.
pub fn wine(program: &Path) -> Command {
    let mut command = Command::new("/usr/lib/wine/wine64");
    command
        .arg(program)
        .env("WINEPREFIX", target().join("wineprefix"))
        .env("WINEDEBUG", "-all");
    command
}
