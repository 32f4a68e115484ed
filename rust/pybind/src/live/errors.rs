//! `ferrotrade.exceptions.VenueError`: a venue refused the engine in a way it cannot recover from.
//!
//! In its own module because the Rust name `VenueError` is the venues crate's error type elsewhere.

use pyo3::create_exception;
use pyo3::prelude::*;

use crate::errors::FerrotradeError;

create_exception!(
    ferrotrade.exceptions,
    VenueError,
    FerrotradeError,
    "A venue refused the engine in a way it cannot recover from (bad API key, banned IP), or its endpoint could not be reached. Never carries a secret."
);

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("VenueError", module.py().get_type::<VenueError>())
}
