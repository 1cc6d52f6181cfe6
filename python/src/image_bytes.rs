//! An image's bytes as Python hands them over: `bytes`, or a C-contiguous buffer, read in
//! place, never copied. A buffer that could change under a conversion running with the
//! GIL released is copied by the Python half (`imgpar._data`) before it gets here: what
//! it passes as a buffer does not change (a read-only buffer, a `memoryview` of `bytes`,
//! a NumPy array with `writeable` off, an Arrow array's value, immutable by Arrow's
//! contract though exported as writable).

use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

/// The bytes of an image, held for as long as the conversion reads them.
pub enum ImageBytes {
    /// A `bytes` object.
    Bytes(PyBackedBytes),
    /// A C-contiguous buffer that does not change.
    Buffer(PyUntypedBuffer),
}

impl ImageBytes {
    /// `data`'s bytes, in place; `TypeError` for an object that is neither `bytes` nor a
    /// C-contiguous buffer.
    pub fn of(data: &Bound<'_, PyAny>) -> PyResult<ImageBytes> {
        if let Ok(bytes) = data.cast::<PyBytes>() {
            return Ok(ImageBytes::Bytes(bytes.clone().into()));
        }
        let buffer = PyUntypedBuffer::get(data)?;
        if !buffer.is_c_contiguous() {
            return Err(PyTypeError::new_err(
                "an image's bytes are read in place only from bytes or a contiguous buffer",
            ));
        }
        Ok(ImageBytes::Buffer(buffer))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            ImageBytes::Bytes(bytes) => bytes,
            // SAFETY: the buffer is held (its exporter keeps the memory until it is
            // released, when `self` drops) and C-contiguous, so its `len_bytes` bytes
            // from `buf_ptr` are one readable run; the Python half passes only buffers
            // that nothing writes to (see the module).
            ImageBytes::Buffer(buffer) => unsafe {
                std::slice::from_raw_parts(buffer.buf_ptr().cast::<u8>(), buffer.len_bytes())
            },
        }
    }
}
