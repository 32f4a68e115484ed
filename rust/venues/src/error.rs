//! Errors of the venues crate, always with the place they came from.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use ferrotrade_model::ModelError;
use thiserror::Error;

/// Where a piece of input came from: file and 1-based line (or record) number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub file: Arc<PathBuf>,
    /// 1-based line number; 0 when the error concerns the whole file.
    pub line: u64,
}

impl Origin {
    /// An origin.
    #[must_use]
    pub fn new(file: &Arc<PathBuf>, line: u64) -> Origin {
        Origin { file: Arc::clone(file), line }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}", self.file.display(), self.line)
        }
    }
}

/// What went wrong reading a recording.
#[derive(Debug, Error)]
pub enum VenueError {
    /// The file could not be opened or read.
    #[error("{origin}: {source}")]
    Io {
        /// Where.
        origin: Origin,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A gzip stream ended before its end marker (an interrupted download or recording).
    #[error("{origin}: truncated gzip stream (the file ends before the compressed data does)")]
    TruncatedGzip {
        /// Where (the last complete line read).
        origin: Origin,
    },
    /// The line is not valid for its format (bad JSON, missing field, wrong type).
    #[error("{origin}: malformed {format} record: {reason}")]
    Malformed {
        /// Where.
        origin: Origin,
        /// The container or message format.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A number that is not a valid decimal, or that does not fit the instrument's precision.
    #[error("{origin}: {source}")]
    Value {
        /// Where.
        origin: Origin,
        /// The model error.
        #[source]
        source: ModelError,
    },
    /// The file's format could not be recognized.
    #[error("{origin}: unrecognized file format ({reason})")]
    UnknownFormat {
        /// Which file.
        origin: Origin,
        /// What was seen.
        reason: String,
    },
    /// The inputs are individually fine but do not make a usable session (e.g. a snapshot whose symbol
    /// cannot be told).
    #[error("{origin}: {reason}")]
    Session {
        /// Where.
        origin: Origin,
        /// What is missing or contradictory.
        reason: String,
    },
    /// The caller asked to stop (Ctrl-C).
    #[error("interrupted")]
    Interrupted,
}

impl VenueError {
    /// A malformed-record error.
    #[must_use]
    pub fn malformed(origin: Origin, format: &'static str, reason: impl Into<String>) -> VenueError {
        VenueError::Malformed { origin, format, reason: reason.into() }
    }

    /// Where the error happened, if it concerns a place in the input.
    #[must_use]
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            VenueError::Io { origin, .. }
            | VenueError::TruncatedGzip { origin }
            | VenueError::Malformed { origin, .. }
            | VenueError::Value { origin, .. }
            | VenueError::UnknownFormat { origin, .. }
            | VenueError::Session { origin, .. } => Some(origin),
            VenueError::Interrupted => None,
        }
    }
}
