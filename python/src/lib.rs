//! `imgpar._imgpar`: the native half of the Python package. Each function takes the
//! command line's flags (the Python half turns keyword arguments into them), so a
//! setting means exactly what it means to `imgpar`. The GIL is released for all image
//! work; errors are raised as the package's own `imgpar.ImageError` and
//! `imgpar.RunError`.

mod convert;
mod errors;
mod image_bytes;
mod plan;
mod run;

use pyo3::prelude::*;

/// Runs the `imgpar` command with `argv` (the program's name first) and returns its exit
/// code; what the `imgpar` console script calls. The GIL is released for the whole run.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<std::ffi::OsString>) -> i32 {
    py.detach(|| imgpar::cli::main_from(argv))
}

/// From now on, process mode (and `imgpar bench`) starts imgpar again as `program
/// leading_args... worker`: the Python package passes `sys.executable -m imgpar`, so a
/// worker never runs the calling program's own code.
#[pyfunction]
fn start_again_as(program: std::path::PathBuf, leading_args: Vec<std::ffi::OsString>) {
    imgpar::worker::start_again_as(program, leading_args);
}

#[pymodule]
fn _imgpar(module: &Bound<'_, PyModule>) -> PyResult<()> {
    // A panic inside one image's work is that image's failure (in its record), not a
    // message on the Python program's stderr.
    imgpar::internals::quiet_panics_in_jobs();
    module.add_function(wrap_pyfunction!(main, module)?)?;
    module.add_function(wrap_pyfunction!(start_again_as, module)?)?;
    module.add_function(wrap_pyfunction!(convert::thumbnail, module)?)?;
    module.add_function(wrap_pyfunction!(convert::thumbnail_file, module)?)?;
    module.add_function(wrap_pyfunction!(convert::thumbnail_pixels, module)?)?;
    module.add_function(wrap_pyfunction!(convert::check_conversion, module)?)?;
    module.add_function(wrap_pyfunction!(convert::without_provenance, module)?)?;
    module.add_function(wrap_pyfunction!(run::run, module)?)?;
    module.add_function(wrap_pyfunction!(run::convert_rows, module)?)?;
    module.add_function(wrap_pyfunction!(plan::plan, module)?)?;
    module.add_function(wrap_pyfunction!(plan::merge_reports, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    let modes: Vec<&str> = imgpar::Mode::ALL
        .into_iter()
        .map(imgpar::Mode::name)
        .collect();
    module.add("MODES", modes)?;
    Ok(())
}
