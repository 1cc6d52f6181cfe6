//! One image at a time: `thumbnail`, `thumbnail_file` and the pixels behind
//! `thumbnail_array`, each with the GIL released while it works.

use std::path::PathBuf;

use imgpar::{FormatChoice, OutputFormat, Spec};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

use crate::errors::{of_error, run_error};
use crate::image_bytes::ImageBytes;

/// Checks conversion flags as the command line would, raising `RunError` (code 2) with
/// its message when they are wrong; what `imgpar.Settings` calls when it is made.
#[pyfunction]
pub fn check_conversion(py: Python<'_>, flags: Vec<String>) -> PyResult<()> {
    settings(py, &flags).map(|_| ())
}

/// `output` (a file a run wrote) without its provenance line: the bytes `thumbnail` gives
/// for the same picture and settings (`imgpar::without_provenance`).
#[pyfunction]
pub fn without_provenance(py: Python<'_>, output: &Bound<'_, PyAny>) -> PyResult<Py<PyBytes>> {
    let output = ImageBytes::of(output)?;
    Ok(PyBytes::new(py, &imgpar::without_provenance(output.as_slice())).unbind())
}

/// The encoded thumbnail of `data` (bytes of any format imgpar reads; see
/// [`ImageBytes`]).
#[pyfunction]
pub fn thumbnail(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    flags: Vec<String>,
) -> PyResult<Py<PyBytes>> {
    let data = ImageBytes::of(data)?;
    let (spec, format) = fixed_settings(py, &flags)?;
    encoded(
        py,
        py.detach(|| imgpar::thumbnail(data.as_slice(), &spec, format)),
    )
}

/// The encoded thumbnail of the file at `path`, read as it decodes.
#[pyfunction]
pub fn thumbnail_file(py: Python<'_>, path: PathBuf, flags: Vec<String>) -> PyResult<Py<PyBytes>> {
    let (spec, format) = fixed_settings(py, &flags)?;
    encoded(
        py,
        py.detach(|| imgpar::thumbnail_file(&path, &spec, format)),
    )
}

/// A thumbnail's bytes as `bytes`, or its error as the exception.
fn encoded(
    py: Python<'_>,
    made: Result<imgpar::Thumbnail, imgpar::Error>,
) -> PyResult<Py<PyBytes>> {
    match made {
        Ok(small) => Ok(PyBytes::new(py, &small.bytes).unbind()),
        Err(error) => Err(of_error(py, error)),
    }
}

/// The thumbnail's pixels: `(bytearray, height, width, channels)`, rows top to bottom.
#[pyfunction]
pub fn thumbnail_pixels(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    flags: Vec<String>,
) -> PyResult<(Py<PyByteArray>, u32, u32, u8)> {
    let data = ImageBytes::of(data)?;
    let (spec, _) = settings(py, &flags)?;
    let made = py.detach(|| imgpar::thumbnail_pixels(data.as_slice(), &spec));
    match made {
        Ok(pixels) => Ok((
            PyByteArray::new(py, &pixels.data).unbind(),
            pixels.height,
            pixels.width,
            pixels.channels,
        )),
        Err(error) => Err(of_error(py, error)),
    }
}

fn settings(py: Python<'_>, flags: &[String]) -> PyResult<(Spec, FormatChoice)> {
    imgpar::cli::conversion_from_flags(flags).map_err(|message| run_error(py, message, 2))
}

/// The settings, with a format named: one image has no batch to take "same" from.
fn fixed_settings(py: Python<'_>, flags: &[String]) -> PyResult<(Spec, OutputFormat)> {
    match settings(py, flags)? {
        (spec, FormatChoice::Fixed(format)) => Ok((spec, format)),
        (_, FormatChoice::Same) => Err(run_error(
            py,
            "format=\"same\" keeps a batch's input formats; for one image name the format \
             (png, jpeg, webp, webp-lossless or avif)"
                .into(),
            2,
        )),
    }
}
