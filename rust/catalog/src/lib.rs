//! Reads the Parquet catalog written by `ferrotrade data import` as ONE receive-ordered stream of
//! [`EventRow`](ferrotrade_model::EventRow)s for the backtester.
//!
//! The catalog (`CATALOG/<kind>/venue=<venue>/symbol=<symbol>/date=<YYYY-MM-DD>/part-*.parquet`, plus
//! `instruments.json`) holds one table per kind; a backtest needs every table of every instrument
//! interleaved by local receive time, tens of millions of rows per second, without loading a day into
//! memory. [`EventStream`] plans the files of each [`StreamSpec`], decodes them on a background thread with
//! only the needed columns, k-way merges them by `ts_recv` and delivers [`Chunk`]s of 48-byte rows.
//!
//! # Invariants
//! - Output order is `(ts_recv, spec index, file index)`: deterministic, ties broken by spec order, then
//!   date and part-name order.
//! - Rows outside `[start, end)` of a spec are dropped; row groups and dates outside it are never read.
//! - Memory is bounded by `CHANNEL_CHUNKS + 2` chunks plus one decoded batch and one row group per open
//!   part, whatever the catalog size.
//! - Prices and sizes stay fixed-point mantissas at the precisions of `instruments.json`
//!   ([`Catalog::instrument`]); only `quote_volume` and `funding_rate` are `f64`, as stored.
//! - Bad input (missing files, corrupt Parquet, wrong schema, unsorted rows) is an error naming the file;
//!   nothing panics.
//!
//! # Example
//! ```no_run
//! use ferrotrade_catalog::{Catalog, EventStream, StreamSpec, TableKind};
//! use ferrotrade_model::{InstrumentIndex, Venue};
//!
//! let catalog = Catalog::open("catalog".as_ref())?;
//! let spec = StreamSpec {
//!     kind: TableKind::Book,
//!     venue: Venue::BinanceUsdm,
//!     symbol: "BTCUSDT".into(),
//!     instrument: InstrumentIndex(0),
//!     start: None,
//!     end: None,
//! };
//! let mut stream = EventStream::open(&catalog, &[spec], 65_536)?;
//! while let Some(chunk) = stream.next() {
//!     let chunk = chunk?;
//!     // ... feed chunk.rows to the engine ...
//!     stream.recycle(chunk);
//! }
//! # Ok::<(), ferrotrade_catalog::CatalogError>(())
//! ```
#![deny(missing_docs)]

mod catalog;
mod error;
mod instruments;
mod kind;
mod merge;
mod part;
mod stream;

pub use catalog::{Catalog, INSTRUMENTS_FILE};
pub use error::CatalogError;
pub use instruments::InstrumentInfo;
pub use kind::TableKind;
pub use stream::{CHANNEL_CHUNKS, Chunk, EventStream, StreamSpec};
