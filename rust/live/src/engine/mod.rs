//! The live engine loop: market feeds -> local books -> strategies -> risk -> gateways, and venue events
//! back through the OMS to the strategies, on one thread.
//!
//! # Threading
//! Everything runs on the thread that called [`crate::run`], inside a tokio `current_thread` runtime: the
//! feeds' sockets, the gateways' requests and the strategies. Strategies need not be `Send` (Python
//! strategies are not) and nothing on the hot path takes a lock. Async lives only at the I/O edges
//! (`MarketFeed::next_input`, the gateways' tasks); from a decoded frame to the order handed to a socket
//! the path is synchronous.
//!
//! # One turn of the loop
//! `select!` (biased, in this order) over: gateway events (fills first: they change positions the
//! strategies read), the next market-data frame of any feed, the earliest strategy timer, the 100 ms
//! control tick (stop flag, commands, status) and the reconciliation interval. A frame is processed into
//! the engine-owned books (`MarketFeed::process`), then each resulting event is dispatched:
//! the paper gateway's simulated venues see it, then every strategy that subscribed to its kind.
//!
//! # What strategies see
//! - `on_book` only while the feed reports the book synced and the book is not crossed; `ctx.is_synced`
//!   says `false` between `Unsynced` and the next `Synced`, and the risk chain has no mid then (orders
//!   that need a price band or notional are denied with `no_market_price`).
//! - `on_order` for every venue answer and risk denial; `on_fill` after the `on_order` of a fill.
//!   Callbacks never nest: events a callback causes are delivered after it returns.
//! - `ctx.now()` is the wall clock at the frame read (monotonic, see [`crate::clock`]).
//!
//! # Stopping
//! On a stop (flag, command, strategy error, fatal venue error): `on_stop` for every strategy, then
//! (with `cancel_on_stop`) every open order is cancelled and the loop waits, bounded by
//! `stop_timeout_ms`, for the acknowledgements; the journal is flushed to disk last.

mod context;
mod control;
pub(crate) mod core;
mod dispatch;
mod event_loop;
pub(crate) mod monitor;
pub(crate) mod setup;

pub(crate) use event_loop::Engine;
pub use monitor::wire_state;

#[cfg(test)]
mod tests;
