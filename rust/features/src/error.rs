//! [`FeatureError`]: a feature configuration that cannot be built, or input the batch runner cannot apply.

/// Why a feature set cannot be built or fed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeatureError {
    /// A name that is no feature of this library.
    #[error("unknown feature {name:?} (known: {known})")]
    Unknown {
        /// The name as written.
        name: String,
        /// Every feature pattern, for the message.
        known: String,
    },
    /// A known feature with a parameter out of range.
    #[error("feature {name:?}: {reason}")]
    Parameter {
        /// The name as written.
        name: String,
        /// What is wrong with the parameter.
        reason: String,
    },
    /// A feature that needs data the clock does not deliver (book features on a bar clock).
    #[error("feature {name:?} needs the order book; a bar clock has none (use clock \"book\" or an interval)")]
    NeedsBook {
        /// The feature.
        name: String,
    },
    /// The same feature twice.
    #[error("feature {name:?} is listed twice")]
    Duplicate {
        /// The feature.
        name: String,
    },
    /// No feature at all.
    #[error("a feature set needs at least one feature")]
    Empty,
    /// An invalid clock.
    #[error("clock: {0}")]
    Clock(String),
    /// A book row the book refused (batch runner).
    #[error("book row at ts_recv {ts}: {message}")]
    Book {
        /// Receive time of the row.
        ts: u64,
        /// The book's error.
        message: String,
    },
}
