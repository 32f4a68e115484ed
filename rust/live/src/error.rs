//! Errors of the live engine. Messages never contain an API secret or a signature.

/// What stops the live engine (or one of its parts) from working.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The configuration is invalid; names the key.
    #[error("{0}")]
    Config(String),
    /// A venue answered with an error (HTTP status, venue code and message).
    #[error("{venue}: HTTP {status}, code {code}: {message}")]
    Venue {
        /// Venue name.
        venue: String,
        /// HTTP status.
        status: u16,
        /// The venue's error code (Binance `code`, Bybit `retCode`).
        code: i64,
        /// The venue's message.
        message: String,
    },
    /// A connection or protocol failure (I/O, WebSocket, HTTP, malformed frame).
    #[error("{context}: {reason}")]
    Transport {
        /// Where (venue and endpoint path, never a query string with a signature).
        context: String,
        /// What happened.
        reason: String,
    },
    /// A wire message could not be decoded.
    #[error(transparent)]
    Wire(#[from] ferrotrade_venues::VenueError),
    /// API credentials are missing, unreadable or too widely readable (never contains the secret).
    #[error("credentials for {venue}: {reason}")]
    Credentials {
        /// Venue name.
        venue: String,
        /// What is wrong (a path or an environment variable name, never a key).
        reason: String,
    },
    /// The journal could not be read or written.
    #[error("journal {path}: {reason}")]
    Journal {
        /// The journal file.
        path: String,
        /// What happened (with the line number for a corrupt record).
        reason: String,
    },
    /// Setting the engine up failed (unknown instrument in a subscription, duplicate names, risk setup).
    #[error("setup: {0}")]
    Setup(String),
    /// A strategy callback returned an error; the engine stopped cleanly.
    #[error("strategy {strategy:?} failed: {message}")]
    Strategy {
        /// Name of the strategy.
        strategy: String,
        /// The strategy's error.
        message: String,
    },
    /// The OMS refused a venue event (an illegal transition): never silently applied.
    #[error("order state: {0}")]
    OrderState(String),
}
