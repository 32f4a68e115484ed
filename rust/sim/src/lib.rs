//! The simulated venue of the backtester: matching of the strategy's orders against recorded L2 data
//! (and bar-only data), queue position, fee, latency and funding models.
//!
//! | module | what |
//! |---|---|
//! | [`SimVenue`] | the exchange side of one instrument: recorded book, working orders, fills ([`venue`] docs hold the rules) |
//! | [`queue`] | queue position models of resting orders (`risk_averse`, `power`, `log`) |
//! | [`fees`] | maker/taker fees on linear, spot and inverse notionals |
//! | [`latency`] | order entry and response latency (constant or empirical, seeded) |
//! | [`funding`] | perpetual funding payments from mark-price updates |
//! | [`config`] | [`VenueConfig`], the serde form of all of the above |
//!
//! The crate never uses tokio, threads, the wall clock or the network: time is the data's exchange time,
//! and the same data, config and seed always produce the same events.
//!
//! # Example
//! ```
//! use ferrotrade_model::{
//!     BookSide, ClientOrderId, EventRow, Instrument, InstrumentId, InstrumentIndex, OrderEventKind,
//!     OrderRequest, OrderSide, Price, Quantity, RowKind, UnixNanos, Venue, flags,
//! };
//! use ferrotrade_sim::{SimVenue, VenueConfig};
//!
//! let instrument = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3);
//! let mut venue = SimVenue::new(instrument, InstrumentIndex(0), &VenueConfig::default()).unwrap();
//! let mut out = Vec::new();
//! let ask = EventRow {
//!     kind: RowKind::Book, side: BookSide::Ask as u8, price: Price(618_003), size: Quantity(1_500),
//!     flags: flags::LAST, ..EventRow::default()
//! };
//! venue.on_book_row(&ask, &mut out);
//! let buy = OrderRequest::market(InstrumentIndex(0), OrderSide::Buy, Quantity(1_000));
//! venue.submit(UnixNanos(1), ClientOrderId(1), &buy, &mut out);
//! assert!(matches!(out[0].kind, OrderEventKind::Accepted(_)));
//! let OrderEventKind::Filled(fill) = out[1].kind else { panic!("expected a fill") };
//! assert_eq!((fill.price, fill.quantity, fill.trade_id), (Price(618_003), Quantity(1_000), 1));
//! assert_eq!(venue.position(), Quantity(1_000));
//! ```
#![deny(missing_docs)]

pub mod config;
pub mod engine;
mod error;
pub mod fees;
pub mod funding;
pub mod latency;
pub mod queue;
pub mod venue;

pub use config::VenueConfig;
pub use error::SimError;
pub use fees::{FeeConfig, FeeModel};
pub use funding::FundingTracker;
pub use latency::{LatencyConfig, LatencyModel};
pub use queue::{QueueModel, QueueModelConfig};
pub use venue::SimVenue;
