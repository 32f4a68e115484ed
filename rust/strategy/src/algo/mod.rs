//! Execution algorithms: parent orders that decide *how* to trade what a strategy decided to trade.
//!
//! A strategy calls [`Context::submit_algo`](crate::Context::submit_algo) with an [`AlgoOrder`] (the same
//! table a TOML file or a Python call writes); it is checked up front and refused with a reason
//! ([`AlgoRefusal`]) when it cannot be executed as asked, or accepted as a parent order
//! ([`ParentId`](ferrotrade_oms::ParentId)) that spawns and manages child orders until its quantity is
//! filled, its end time comes, or it is canceled. The algorithms:
//!
//! | `algo` | what it does |
//! | --- | --- |
//! | `twap` | `slices` children evenly spaced over `[start, end)` (or one per `interval_s`), sizes and times optionally randomized by `randomize` (a fraction of a slice) |
//! | `vwap` | children every `interval_s` whose sizes follow a volume profile over the UTC day (`profile`: weights of equal buckets, computed from the catalog's trades by `ft.execution.volume_profile`) |
//! | `pov` | a target share `rate` of the market volume printed since start, in children of `min_child..=max_child` |
//! | `iceberg` | a resting limit at `limit_price` showing at most `display`, refilled when a child fills |
//! | `chase` | one limit pegged to the touch (`peg = "touch"`), the mid or the far touch plus `offset_ticks`, re-priced by amend when the peg moves `reprice_ticks` away; crosses the spread after `cross_after_s`, or once the market has run `cross_after_ticks` away from where the chase started (urgency) |
//! | `route` | smart order routing: takes liquidity across the books of `venues` (the same underlying on several venues) by best effective price after taker fees, each child on tick, lot and min notional |
//!
//! Every algorithm takes `limit_price` (a buy never pays more, a sell never receives less), a start
//! (`start` or `delay_s`) and an end (`end` or `duration_s`), and can be paused, resumed and canceled.
//!
//! # One implementation for every engine
//! The algorithms run in the strategy's own thread, inside the [`host`] that wraps a strategy whose
//! [`Strategy::uses_algos`] is true, and act only through the engine's [`Context`]: a child is a plain
//! `ctx.submit`, so it passes the risk chain, is journaled live, and is simulated in a backtest with the
//! same queue, latency and fee models as any order. Backtest, paper and live therefore run the same code
//! on the same events. Wall clocks are never read: time is `ctx.now()` and timers, so a backtest with a
//! seed is reproducible, randomized TWAP included.
//!
//! # Invariants
//! - A parent never has more than its remainder working: a child is sized from `quantity - filled -
//!   working`, one child at a time per venue, and a resized slice waits for its predecessor's cancel.
//!   [`ParentFills`](ferrotrade_oms::ParentFills) refuses an overfill, which would stop the run.
//! - A paused parent sends nothing: pausing cancels its children and every decision checks the status.
//! - Prices and sizes are fixed-point, on tick and on lot; `f64` only ranks venues by effective price and
//!   fills the quality report.
//! - A child's events go to its parent, not to the strategy's `on_order`; its fills also reach the
//!   strategy's `on_fill` (its position is the strategy's). `ctx.open_orders` and `cancel_all` of the
//!   strategy leave children alone; `cancel_algo` cancels them. A parent's life is told through
//!   [`Strategy::on_algo`].
//! - A child denied by the risk chain fails its parent with the reason (a rate limit only delays it);
//!   a routed parent instead drops that venue from the route, says so in the child's note, and sends the
//!   rest to the other venues (failing only when no venue is left). A venue rejection fails the parent.
//!   Nothing is retried silently.
//! - Timer ids with the top bit set belong to the algorithms; a strategy that sets one is stopped with an
//!   error.
//!
//! # Cost
//! A strategy that does not use algorithms is not wrapped and pays nothing. With parents active, each
//! book or trade event of their instruments costs one pass over the active parents (`benchmarks/algo_cost.py`).
//!
//! [`Context`]: crate::Context
//! [`Strategy::uses_algos`]: crate::Strategy::uses_algos
//! [`Strategy::on_algo`]: crate::Strategy::on_algo

mod exec;
mod host;
mod order;
mod records;
mod route;
mod schedule;

pub use exec::{ALGO_TIMER_BIT, AlgoEvent, AlgoView};
pub use host::host;
pub use order::{AlgoKind, AlgoOrder, AlgoRefusal, ChildStyle, Peg};
pub use records::{AlgoRecords, ChildRecord, ParentRecord};
pub use route::{RouteLeg, RouteSlice, allocate};
pub use schedule::{Schedule, twap_schedule, vwap_schedule};
