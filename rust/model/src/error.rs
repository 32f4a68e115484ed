//! The error type of the model crate.

use thiserror::Error;

/// What can go wrong when building model values from untrusted input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelError {
    /// The text is not a decimal number (`-12.345`, `1e-5` and `.5` are accepted).
    #[error("invalid decimal {text:?}")]
    InvalidDecimal {
        /// The offending text (cut to 40 bytes).
        text: String,
    },
    /// The number has more significant digits than an `i64` mantissa can hold.
    #[error("decimal {text:?} does not fit a 64-bit fixed-point mantissa")]
    DecimalOverflow {
        /// The offending text (cut to 40 bytes).
        text: String,
    },
    /// The value needs more decimals than the instrument's precision records.
    #[error("value with {scale} decimals does not fit precision {precision}")]
    PrecisionExceeded {
        /// Decimals the value needs.
        scale: u8,
        /// Decimals the instrument records.
        precision: u8,
    },
    /// A precision above [`crate::MAX_PRECISION`].
    #[error("precision {0} is above the maximum of 16 decimals")]
    PrecisionTooLarge(u8),
    /// A venue name that ferrotrade does not know.
    #[error(
        "unknown venue {0:?} (known: binance-spot, binance-usdm, binance-coinm, binance-us, bybit-spot, bybit-linear, bybit-inverse)"
    )]
    UnknownVenue(String),
}

pub(crate) fn cut(text: &[u8]) -> String {
    String::from_utf8_lossy(&text[..text.len().min(40)]).into_owned()
}
