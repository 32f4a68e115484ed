//! The exception hierarchy of `ferrotrade.exceptions`, and the mapping of each crate's errors onto it.
//!
//! Every exception derives from `FerrotradeError`. Errors about input data carry structured attributes
//! (`file`, `line`) besides the message, so callers need not parse strings.

use ferrotrade_venues::VenueError;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(ferrotrade.exceptions, FerrotradeError, PyException, "Base class of every ferrotrade error.");
create_exception!(
    ferrotrade.exceptions,
    DataFormatError,
    FerrotradeError,
    "Input data that can't be read: malformed record, unknown format, truncated file. Has `file` and `line`."
);
create_exception!(
    ferrotrade.exceptions,
    PrecisionError,
    DataFormatError,
    "A value with more decimals than its instrument's precision, or that does not fit fixed-point."
);
create_exception!(
    ferrotrade.exceptions,
    BookIntegrityError,
    FerrotradeError,
    "An order book operation that would break the book's invariants (bad side, negative size)."
);
create_exception!(
    ferrotrade.exceptions,
    SequenceGapError,
    FerrotradeError,
    "A book stream whose sequence ids do not chain, where a gap cannot be handled by resyncing."
);
create_exception!(ferrotrade.exceptions, ConfigError, FerrotradeError, "Invalid configuration or arguments.");
create_exception!(
    ferrotrade.exceptions,
    StrategyError,
    FerrotradeError,
    "A strategy callback failed and stopped the run. Has `strategy` and `ts` (event time, ns); the strategy's own exception is the `__cause__`."
);
create_exception!(
    ferrotrade.exceptions,
    OrderStateError,
    FerrotradeError,
    "An order event that the order state machine does not allow (an illegal transition, an overfill)."
);

create_exception!(
    ferrotrade.exceptions,
    ModelMismatchError,
    ConfigError,
    "A model whose card does not match the features the engine computes (names, order, clock, feature code version): refused at load."
);

create_exception!(
    ferrotrade.exceptions,
    AlgoRefusedError,
    ConfigError,
    "A parent order the execution algorithms cannot execute as asked (a duration too short for its slices, a slice below the minimum notional, a limit already breached...): refused up front, with the key at fault."
);

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("FerrotradeError", py.get_type::<FerrotradeError>())?;
    module.add("DataFormatError", py.get_type::<DataFormatError>())?;
    module.add("PrecisionError", py.get_type::<PrecisionError>())?;
    module.add("BookIntegrityError", py.get_type::<BookIntegrityError>())?;
    module.add("SequenceGapError", py.get_type::<SequenceGapError>())?;
    module.add("ConfigError", py.get_type::<ConfigError>())?;
    module.add("StrategyError", py.get_type::<StrategyError>())?;
    module.add("OrderStateError", py.get_type::<OrderStateError>())?;
    module.add("ModelMismatchError", py.get_type::<ModelMismatchError>())?;
    module.add("AlgoRefusedError", py.get_type::<AlgoRefusedError>())?;
    Ok(())
}

/// Maps a venue error to `DataFormatError` (or `PrecisionError`, `KeyboardInterrupt`, `OSError`), with
/// `file` and `line` attributes where the error has a place.
pub fn venue_error(py: Python<'_>, error: &VenueError) -> PyErr {
    let message = error.to_string();
    let exception = match error {
        VenueError::Interrupted => return pyo3::exceptions::PyKeyboardInterrupt::new_err(message),
        VenueError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            pyo3::exceptions::PyFileNotFoundError::new_err(message)
        }
        VenueError::Value { .. } => PrecisionError::new_err(message),
        _ => DataFormatError::new_err(message),
    };
    if let Some(origin) = error.origin() {
        let value = exception.value(py);
        let _ = value.setattr("file", origin.file.display().to_string());
        let _ = value.setattr("line", origin.line);
    }
    exception
}
