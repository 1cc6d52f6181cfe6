//! The Python package (`python/`): built with maturin and installed into a virtual
//! environment under `target/` (maturin, pytest, NumPy, Pillow, mypy and the engines'
//! packages, Dask, Ray and PySpark, from PyPI on first use; Java for Spark from Debian),
//! then its pytest suite runs against the installed package, not the source tree. The
//! engine tests start real local clusters (a Dask `LocalCluster`, Ray, Spark `local[2]`).
//! The build shares this workspace's `target/` (dev profile, the image crates
//! optimised), so it compiles only the bindings and the library again.

use crate::common;

use std::path::Path;
use std::process::Command;

#[test]
fn the_python_package_installs_and_its_tests_pass() {
    let python = common::python::python_with(
        "python-package-venv",
        &[
            "maturin>=1.9,<2",
            "pytest",
            "numpy",
            "pillow==13.0.0",
            "mypy>=1.7,<2",
            "dask[distributed]==2026.8.0",
            "ray[data]==2.60.0",
            "pyspark==4.3.0",
            "pandas>=2.2,<3",
        ],
        "import maturin, pytest, numpy, PIL, mypy, dask.distributed, ray.data, pyspark",
    );
    // Spark's driver and executors run on Java.
    common::debian::program("java", "openjdk-17-jre-headless", "-version");
    let venv_bin = python.parent().expect("the venv's bin folder");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = format!(
        "{}:{}",
        venv_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let installed = Command::new(venv_bin.join("pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-build-isolation",
            "--force-reinstall",
            "--no-deps",
        ])
        .arg(repo.join("python"))
        .env("PATH", &path)
        .env("MATURIN_PEP517_ARGS", "--profile dev")
        .status()
        .expect("pip runs");
    assert!(installed.success(), "pip install ./python failed");
    // From outside the source tree, so `import imgpar` finds the installed package.
    let tested = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-s"])
        .arg(repo.join("python/tests"))
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .env("PATH", &path)
        .env("IMGPAR_BIN", env!("CARGO_BIN_EXE_imgpar"))
        .status()
        .expect("pytest runs");
    assert!(tested.success(), "the Python package's tests failed");
}
