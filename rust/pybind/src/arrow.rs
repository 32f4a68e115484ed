//! Arrow C stream hand-off: Rust record batches become Python objects that polars (or pyarrow, or any
//! Arrow consumer) opens through `__arrow_c_stream__`, without copying the column buffers.

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// A set of Arrow record batches of one schema, exported on demand through the Arrow PyCapsule interface.
#[pyclass(module = "ferrotrade._core", name = "ArrowBatches", frozen)]
pub struct ArrowBatches {
    schema: arrow_schema::SchemaRef,
    batches: Vec<RecordBatch>,
}

impl ArrowBatches {
    pub fn new(schema: arrow_schema::SchemaRef, batches: Vec<RecordBatch>) -> ArrowBatches {
        ArrowBatches { schema, batches }
    }
}

#[pymethods]
impl ArrowBatches {
    /// Exports the batches as an `ArrowArrayStream` capsule (Arrow PyCapsule interface).
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is fixed; a consumer asking for another one casts on its side.
        let _ = requested_schema;
        let reader = RecordBatchIterator::new(self.batches.clone().into_iter().map(Ok), self.schema.clone());
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        // `new_with_value` boxes the stream with the value first, so the capsule pointer is the
        // `ArrowArrayStream*` consumers expect; dropping an unconsumed stream calls its release callback.
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }

    /// Number of rows in all batches.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }

    fn __repr__(&self) -> String {
        let columns: Vec<String> = self.schema.fields().iter().map(|f| f.name().clone()).collect();
        format!("ArrowBatches(rows={}, columns={columns:?})", self.num_rows())
    }
}
