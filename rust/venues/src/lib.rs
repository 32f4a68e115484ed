//! Venue wire formats, capture readers and the venues' own book-sync rules.
//!
//! This crate turns bytes recorded from (or, later, received from) Binance and Bybit into ferrotrade's
//! normalized events, and decides when a book built from them can be trusted.
//!
//! # Layers
//! 1. **Containers** ([`source`], [`lines`]): how a recording is stored: hftbacktest collector lines
//!    `<local_ts> <json>` (gzip or plain), cryptofeed text captures (format 1, WS file merged by time with
//!    its REST snapshot file), cryptofeed JSONL (format 2), Bybit history-archive JSONL, and CSV files
//!    (data.binance.vision klines, tardis.dev, Binance `T_DEPTH`). [`source::plan_sessions`] groups the
//!    paths a user gives into sessions: files of one continuous stream are read as one.
//! 2. **Decoders** ([`binance`], [`bybit`], [`files`]): one wire message to one [`decoded::Decoded`], with
//!    prices and sizes as exact [`ferrotrade_model::Decimal`]s borrowed from reusable scratch buffers: no
//!    allocation per message in steady state.
//! 3. **Sync** ([`sync`]): the venue's rule for chaining a REST snapshot and diffs (Binance spot `U`/`u`
//!    continuity; Binance futures `U <= lastUpdateId <= u`, then `pu == previous u`; Bybit snapshot then
//!    `u + 1`). Diffs that arrive before their snapshot are buffered, stale ones dropped and counted, and a
//!    gap unsyncs only that instrument until the next snapshot.
//! 4. **Pipeline** ([`pipeline`]): two passes over a session. The first learns every instrument's
//!    precision (the most decimals any price or size uses, or the venue's exchange info when the capture
//!    holds it); the second converts to fixed-point, runs the sync rules and hands normalized
//!    [`ferrotrade_model::MarketEvent`]s to an [`pipeline::EventSink`]. [`verify`] is such a sink: it
//!    rebuilds every book and cross-checks it against the venue's own best bid/offer messages.
//! 5. **Trading** ([`trading`]): the client side of order entry, pure: signed Binance/Bybit requests and
//!    parsers of order answers, errors, account snapshots and user-data frames into venue-neutral values.
//!
//! # Invariants
//! - Bad input never panics. A malformed line, an unknown message or a truncated gzip stream is a
//!   [`VenueError`] that names the file and line; `verify` counts what it can and reports the rest.
//! - Nothing is rounded: a value with more decimals than its instrument's precision is an error.
//! - Memory stays bounded: files are read in chunks, whatever their size.
#![deny(missing_docs)]

pub mod auth;
pub mod binance;
pub mod bybit;
pub mod decoded;
mod error;
pub mod files;
pub mod lines;
pub mod normalize;
pub mod pipeline;
pub mod source;
pub mod sync;
pub mod trading;
pub mod verify;

pub use error::{Origin, VenueError};
