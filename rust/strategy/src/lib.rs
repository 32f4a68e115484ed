//! Strategies: the [`Strategy`] trait, the [`Context`] a strategy acts through, and the built-in strategies.
//!
//! One strategy implementation runs unchanged in the backtester (`ferrotrade-sim`), in paper trading and
//! live: the engine calls the callbacks, the strategy reads the market and its account and sends orders only
//! through the [`Context`]. Nothing in the API says whether the venue is simulated.
//!
//! # Invariants the engines guarantee
//! - Callbacks run on one thread, one at a time, in event order; `ctx.now()` is the strategy's local time
//!   (the receive time of the event being handled) and never runs backwards.
//! - `on_book` is called once per venue message (after its last level), only while the book is synced and
//!   not crossed; `ctx.book(i)` then shows the book as of that message, never a later one.
//! - Every order a strategy submits gets exactly one terminal `on_order` (Denied, Rejected, Filled,
//!   Canceled or Expired); a fill arrives as `on_order` (kind `Filled`) followed by `on_fill`.
//! - A callback that returns an error stops the run: the engine calls no further callbacks except
//!   `on_stop`, and reports the error with the event time.
//!
//! # Example
//! ```
//! use ferrotrade_model::{InstrumentIndex, OrderRequest, OrderSide, Quantity};
//! use ferrotrade_strategy::{Context, Strategy, StrategyResult, Subscription};
//!
//! /// Joins the best bid with one lot whenever it is flat and has no order working.
//! struct JoinBid {
//!     instrument: InstrumentIndex,
//! }
//!
//! impl Strategy for JoinBid {
//!     fn name(&self) -> &str {
//!         "join_bid"
//!     }
//!
//!     fn subscriptions(&self) -> Vec<Subscription> {
//!         vec![Subscription::book("binance-usdm.BTCUSDT")]
//!     }
//!
//!     fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
//!         let flat = ctx.position(instrument).quantity.is_zero();
//!         if flat && ctx.open_order_count(instrument) == 0 {
//!             if let Some(bid) = ctx.book(instrument).best_bid() {
//!                 ctx.submit(OrderRequest::limit(instrument, OrderSide::Buy, bid.price, Quantity(1)));
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//! # let _ = JoinBid { instrument: InstrumentIndex(0) };
//! ```
#![deny(missing_docs)]

pub mod algo;
pub mod builtin;
mod context;
mod subscription;
mod traits;

pub use context::{Context, TimerId};
pub use subscription::{DataKind, Subscription};
pub use traits::{Strategy, StrategyError, StrategyResult};
