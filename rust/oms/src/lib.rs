//! Order management for the backtester and the live engine: the order state machine, the order store with
//! monotonic client ids and fill deduplication, netting positions and the account's PnL.
//!
//! # What to use when
//! - [`OrderStore`]: create orders ([`OrderStore::create`] assigns the next client id) and apply every
//!   [`OrderEvent`](ferrotrade_model::OrderEvent) to them ([`OrderStore::apply`]); query one order, the open
//!   orders of an instrument and their exposure.
//! - [`transitions`]: the one table of legal status changes ([`next_status`], [`next_transition`]), for
//!   code that must predict or validate a transition without a store.
//! - [`ParentId`], [`ParentStatus`], [`ParentFills`]: parent orders of execution algorithms (the
//!   algorithms are `ferrotrade-strategy`'s); their children are plain orders of the store.
//! - [`Portfolio`] / [`Position`]: positions derived only from fills, realized and unrealized PnL, fees,
//!   funding, equity ([`PnlSnapshot`]).
//!
//! # Invariants
//! - Client ids are dense and strictly increasing from the store's first id; orders are never removed.
//! - `0 <= filled <= quantity` for every order; every status change follows the transition table; a
//!   refused event ([`OrderStateError`]) changes nothing; terminal states never change.
//! - A fill whose `(instrument, trade_id)` was applied before is [`Applied::DuplicateFill`] and changes
//!   nothing, so only [`Applied::Fill`] fills reach the portfolio and a position's quantity is the signed sum
//!   of its distinct fills.
//! - All money is fixed-point ([`Money`](ferrotrade_model::Money), 10^-18 units); `f64` appears only in the
//!   `*_f64` report helpers.
//! - Applying an event or a fill is O(1) and allocates nothing beyond amortized `Vec` growth: the backtester
//!   calls both tens of millions of times.
//!
//! # Example
//! ```
//! use ferrotrade_model::{
//!     ClientOrderId, Fill, Instrument, InstrumentId, InstrumentIndex, Liquidity, Money, OrderEvent,
//!     OrderEventKind, OrderRequest, OrderSide, OrderStatus, Price, Quantity, UnixNanos, Venue, VenueOrderId,
//! };
//! use ferrotrade_oms::{Applied, OrderStore, Portfolio};
//!
//! // Binance USD-M BTCUSDT: prices with 1 decimal, sizes with 3.
//! let btc = InstrumentIndex(0);
//! let spec = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3);
//! let mut store = OrderStore::new(1);
//! let mut portfolio = Portfolio::new(vec![spec], Money::from_units(1_000));
//!
//! let id = store.create(OrderRequest::limit(btc, OrderSide::Buy, Price(618_002), Quantity(3)), UnixNanos(0));
//! let event = |kind| OrderEvent { client_id: id, instrument: btc, kind, ts_event: UnixNanos(1), ts_recv: UnixNanos(2) };
//! store.apply(&event(OrderEventKind::Submitted))?;
//! store.apply(&event(OrderEventKind::Accepted(VenueOrderId(9))))?;
//!
//! let fill = Fill {
//!     client_id: id, venue_order_id: VenueOrderId(9), trade_id: 501, instrument: btc, side: OrderSide::Buy,
//!     price: Price(618_002), quantity: Quantity(3), fee: Money::ZERO, liquidity: Liquidity::Maker,
//!     ts_event: UnixNanos(3), ts_recv: UnixNanos(4),
//! };
//! if let Applied::Fill { status } = store.apply(&event(OrderEventKind::Filled(fill)))? {
//!     assert_eq!(status, OrderStatus::Filled);
//!     portfolio.apply_fill(&fill);
//! }
//! // The same fill again (a replayed message) changes nothing.
//! assert_eq!(store.apply(&event(OrderEventKind::Filled(fill)))?, Applied::DuplicateFill);
//! // A cancel after the fill is an error, not a silent change.
//! assert!(store.apply(&event(OrderEventKind::Canceled)).is_err());
//!
//! // Long 0.003 @ 61800.2, marked at 61850.0: unrealized 0.003 x 49.8 = 0.1494 USDT.
//! let pnl = portfolio.pnl(&[Some((Price(618_500), 1))]);
//! assert_eq!(pnl.unrealized.to_string(), "0.1494");
//! assert_eq!(pnl.equity.to_string(), "1000.1494");
//! assert_eq!(store.get(id).map(|order| order.leaves()), Some(Quantity(0)));
//! # Ok::<(), ferrotrade_oms::OrderStateError>(())
//! ```
#![deny(missing_docs)]

mod dedup;
mod error;
mod order;
mod parent;
mod portfolio;
mod position;
mod store;
pub mod transitions;

pub use error::OrderStateError;
pub use order::Order;
pub use parent::{ParentFills, ParentId, ParentOverfill, ParentStatus};
pub use portfolio::Portfolio;
pub use position::{PnlSnapshot, Position, contract_value};
pub use store::{Applied, OrderStore};
pub use transitions::{Transition, next_status, next_transition};
