//! The error type of the catalog reader.
//!
//! Every variant names the file (or catalog root) it is about, so a failed backtest says which part of the
//! catalog to look at without a debugger.

use std::path::PathBuf;

use ferrotrade_model::Venue;
use thiserror::Error;

use crate::kind::TableKind;

/// What can go wrong opening or streaming a catalog.
#[derive(Debug, Error)]
pub enum CatalogError {
    /// The catalog folder does not exist or is not a folder.
    #[error("no catalog at {}: the folder does not exist", path.display())]
    NoCatalog {
        /// The folder asked for.
        path: PathBuf,
    },
    /// An I/O error on a file or folder of the catalog.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `instruments.json` is missing, unreadable or malformed.
    #[error("{}: {message}", path.display())]
    Instruments {
        /// Path of `instruments.json`.
        path: PathBuf,
        /// What is wrong, with the entry index where one applies.
        message: String,
    },
    /// A stream spec matches no part file.
    #[error(
        "no {kind} data for {venue}/{symbol} in the catalog at {} (looked in {}){hint}",
        catalog.display(),
        folder.display()
    )]
    NoData {
        /// The table kind.
        kind: TableKind,
        /// The venue.
        venue: Venue,
        /// The symbol asked for.
        symbol: String,
        /// The catalog root.
        catalog: PathBuf,
        /// The partition folder that holds no part files.
        folder: PathBuf,
        /// Extra context (the time window when it excluded every date), or empty.
        hint: String,
    },
    /// A part file is not valid Parquet (corrupt, truncated) or failed to decode.
    #[error("{}: {message}", path.display())]
    Parquet {
        /// The part file.
        path: PathBuf,
        /// The decoder's message.
        message: String,
    },
    /// A part file lacks a column its kind needs, or holds it with the wrong type.
    #[error("{}: column {column:?}: {message}", path.display())]
    Schema {
        /// The part file.
        path: PathBuf,
        /// The column.
        column: &'static str,
        /// What is wrong (missing, wrong type, unexpected nulls).
        message: String,
    },
    /// A part file's rows break an invariant of the catalog (unsorted `ts_recv`, negative timestamps).
    #[error("{}: {message}", path.display())]
    Data {
        /// The part file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Invalid arguments to [`crate::EventStream::open`] (no specs, zero chunk size).
    #[error("invalid stream arguments: {0}")]
    Arguments(String),
    /// The background reader thread died without reporting an error (a bug: it panicked).
    #[error("the catalog reader thread stopped unexpectedly")]
    ReaderDied,
}
