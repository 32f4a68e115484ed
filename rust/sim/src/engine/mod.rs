//! The backtest event loop: recorded market data -> local books -> strategies -> OMS -> risk -> simulated
//! venues -> back to the strategies, in simulated time.
//!
//! # Two clocks
//! Every recorded event has an exchange time (`ts_event`) and a local receive time (`ts_recv`). The loop
//! replays each row twice: once at `ts_event` into the exchange side (the [`SimVenue`] of its instrument,
//! which matches orders against the recorded book), once at `ts_recv` into the local side (the book a
//! strategy reads). A strategy therefore sees the market exactly as late as the recording did, never the
//! future; an order it sends at local time `t` reaches the venue at `t + entry latency` and is matched
//! against the exchange book as of that instant; the venue's answer reaches the strategy `response
//! latency` later. Messages on one connection never overtake each other (as on a TCP connection).
//!
//! # Ordering at equal timestamps
//! exchange rows, then orders arriving at the venue, then answers arriving locally, then local rows, then
//! timers, then equity samples. Rows keep their stream order. With the same data, configuration and seed a
//! run is deterministic: nothing reads a wall clock and nothing iterates a hash map.
//!
//! # What the strategies see
//! `on_book` after the last row of each venue message, only when the local book is not crossed; `on_trade`,
//! `on_bar`, `on_mark` per row; `on_order` for every venue answer and every risk denial; `on_fill` after
//! the `on_order` of a fill; `on_timer`. Callbacks of one strategy never nest: events a callback causes
//! (a denial) are delivered after it returns.
//!
//! [`SimVenue`]: crate::venue::SimVenue

mod config;
mod core;
mod records;
mod run;

pub use config::{BacktestConfig, ConfigError, EngineSetup, InstrumentOverride, RunSection, StrategyConfig};
pub use records::{EquitySample, FillRecord, Records, RunStats};
pub use run::{Backtest, BacktestOutput, CHECKPOINT_ROWS, Checkpoint, ChunkSource, EngineError, RunControl};
