//! `ferrotrade._core`: the Python extension module.
//!
//! This is the only crate that knows Python. It mirrors the domain crates one file each (`book.rs`,
//! `data.rs`, ...), maps their errors to the exception hierarchy of `ferrotrade.exceptions`
//! ([`errors`]), and runs every long call through [`detach::run_interruptible`], which releases the GIL
//! and turns Ctrl-C into a clean stop. Bulk results cross as Arrow C streams ([`arrow`]).

// Python classes describe themselves through `__repr__`; a Rust `Debug` impl would be dead code.
#![allow(missing_debug_implementations)]

use pyo3::prelude::*;

mod arrow;
mod backtest;
mod batches;
mod book;
mod data;
mod detach;
mod errors;
mod features;
mod infer;
mod live;

/// The native core of ferrotrade.
#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(module)?;
    book::register(module)?;
    data::register(module)?;
    backtest::register(module)?;
    live::register(module)?;
    features::register(module)?;
    infer::register(module)?;
    Ok(())
}
