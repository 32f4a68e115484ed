//! The live engine: venue connections, feed -> book -> strategy -> risk -> gateway, journal, reconciliation.
//!
//! (Module documentation is being written; see ARCHITECTURE.md "Live engine".)
//!
//! # The engine (what to use when)
//! - [`run`] with a [`config::LiveConfig`] (TOML or JSON) and the strategies: the blocking entry point; it
//!   runs everything on the calling thread and returns a [`LiveReport`]. Control it through
//!   [`LiveHooks`] ([`LiveControl`] for Rust callers).
//! - [`journal`]: the run directory's append-only JSONL journal, replayed on restart so positions and
//!   client ids survive it and no fill is counted twice.
//! - [`reconcile`]: the venue's open orders and positions against the OMS's, as differences.
//! - [`gateway`]: where orders go ([`gateway::paper::PaperGateway`] in paper and replay modes).
//! - [`metrics`]: latency per hot-path stage (frame read -> book -> decision -> risk -> wire).
//! - [`credentials`]: API keys from the environment or a private key file.
//! - [`affinity`]: the engine thread pinned to a CPU (`[live] cpu`), helper threads kept off it.
#![deny(missing_docs)]

pub mod affinity;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod endpoints;
pub mod engine;
mod error;
pub mod feed;
pub mod gateway;
pub mod journal;
pub mod metrics;
pub mod reconcile;
mod report;
mod run;

pub use error::LiveError;
pub use report::{Counters, LiveReport, MarketReport, PositionReport, REPORT_BOOK_DEPTH};
pub use run::{LiveCommand, LiveControl, LiveHooks, LiveStatus, run};
