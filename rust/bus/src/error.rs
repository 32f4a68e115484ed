//! [`BusError`]: why the bus could not start.

/// Why the bus could not start (nothing is published then, and the run does not start).
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// A setting of `[bus]` is invalid.
    #[error("bus.{key}: {reason}")]
    Config {
        /// The key under `[bus]`.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// An endpoint could not be bound (in use, bad address).
    #[error("bus.{key}: cannot bind {endpoint}: {reason}")]
    Bind {
        /// The key under `[bus]`.
        key: &'static str,
        /// The endpoint as configured.
        endpoint: String,
        /// The socket's error.
        reason: String,
    },
    /// The control token could not be read.
    #[error("bus: control token: {0}")]
    Token(String),
    /// The publisher thread or its runtime could not start.
    #[error("bus: {0}")]
    Runtime(String),
}
