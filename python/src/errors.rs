//! The package's exceptions, raised from Rust: the classes are the Python half's
//! (`imgpar.ImageError`, `imgpar.RunError`), so they pickle and carry their attributes.

use pyo3::prelude::*;

/// `imgpar.ImageError(message, kind)`: one image could not be converted; `kind` is the
/// report's `error_kind` (`corrupt`, `unsupported`, `read`, ...).
pub fn image_error(py: Python<'_>, failure: &imgpar::Failure) -> PyErr {
    let kind = serde_json::to_value(failure.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "internal".into());
    let Ok(kind) = kind.into_pyobject(py);
    raise(py, "ImageError", &failure.message, kind.into_any())
}

/// `imgpar.RunError(message, code)`: a run (or its settings) could not start or finish;
/// `code` is the command line's exit code for it (2 usage, 3 output, ...).
pub fn run_error(py: Python<'_>, message: String, code: i32) -> PyErr {
    let Ok(code) = code.into_pyobject(py);
    raise(py, "RunError", &message, code.into_any())
}

/// An [`imgpar::Error`] as the exception a Python user expects: an image's failure as
/// `ImageError`, anything else as `RunError`.
pub fn of_error(py: Python<'_>, error: imgpar::Error) -> PyErr {
    match error {
        imgpar::Error::Image(failure) => image_error(py, &failure),
        other => {
            let code = imgpar::cli::ExitCode::of_error(&other).code();
            run_error(py, other.to_string(), code)
        }
    }
}

/// `imgpar.<class>(message, detail)` as a Python exception; if the package cannot be
/// imported, the error that says so.
fn raise(py: Python<'_>, class: &str, message: &str, detail: Bound<'_, PyAny>) -> PyErr {
    match py
        .import("imgpar")
        .and_then(|package| package.getattr(class))
        .and_then(|class| class.call1((message, detail)))
    {
        Ok(exception) => PyErr::from_value(exception),
        Err(error) => error,
    }
}
