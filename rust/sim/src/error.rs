//! The simulator's error type: a bad configuration or instrument found before a run starts.
//!
//! Everything that can go wrong *during* a run (a rejected order, an unknown cancel) is an expected
//! outcome and reaches the strategy as an [`ferrotrade_model::OrderEvent`], never as an error.

/// Why a simulated venue (or one of its models) could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// A configuration value is out of range; `key` is its dotted path in the config (`fees.maker`).
    #[error("invalid venue config `{key}`: {reason}")]
    Config {
        /// Dotted path of the offending key.
        key: String,
        /// What is wrong with its value.
        reason: String,
    },
    /// The instrument's specification cannot be traded (a zero tick or lot size).
    #[error("invalid instrument {instrument}: {reason}")]
    Instrument {
        /// The instrument id (`binance-usdm.BTCUSDT`).
        instrument: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl SimError {
    /// A [`SimError::Config`] for `key`.
    pub(crate) fn config(key: &str, reason: impl Into<String>) -> SimError {
        SimError::Config { key: key.to_owned(), reason: reason.into() }
    }
}
