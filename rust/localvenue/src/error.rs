//! [`LocalVenueError`]: why the local venue could not start or stopped.
use std::net::SocketAddr;

use ferrotrade_venues::VenueError;

/// Errors of starting and running the local venue. Request-level failures are not errors: they are
/// answered on the wire with the venues' codes.
#[derive(Debug, thiserror::Error)]
pub enum LocalVenueError {
    /// A capture could not be planned or scanned (unknown format, unreadable, malformed).
    #[error("capture: {0}")]
    Capture(#[from] VenueError),
    /// An instrument of the capture cannot be traded (the matching engine refused its filters).
    #[error("instrument {instrument}: {reason}")]
    Instrument {
        /// `venue.SYMBOL`.
        instrument: String,
        /// Why.
        reason: String,
    },
    /// The configuration is inconsistent.
    #[error("config: {0}")]
    Config(String),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The runtime or the server failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
