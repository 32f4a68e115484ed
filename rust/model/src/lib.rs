//! Core value types of ferrotrade: fixed-point money, time, instruments, the normalized market events, and
//! the order, fill and account-money values the OMS, risk chain, venues and strategies exchange.
//!
//! Everything above this crate (book, venues, sim, live, the Python layer) speaks these types, so they are
//! deliberately small, `Copy` where possible and free of I/O.
//!
//! # Invariants
//! - Money is fixed-point. A [`Price`] or [`Quantity`] is an `i64` mantissa whose scale (number of decimals)
//!   is the instrument's `price_precision` / `size_precision`; the value never carries its own scale, so the
//!   hot path compares and adds plain integers. [`Decimal`] is the scaled form used only at the edges
//!   (parsing the wire, metadata, display).
//! - Time is [`UnixNanos`]: `u64` nanoseconds since the Unix epoch. Every event carries `ts_event` (the
//!   exchange's time) and `ts_recv` (when the local process could act on it).
//!
//! # Example
//! ```
//! use ferrotrade_model::{Decimal, Price};
//!
//! let dec = Decimal::parse(b"61800.20").unwrap();     // trailing zeros are trimmed: 618002 x 10^-1
//! assert_eq!((dec.mantissa, dec.scale), (618002, 1));
//! let price = Price(dec.to_fixed(2).unwrap());        // an instrument quoted with 2 decimals
//! assert_eq!(price.0, 6_180_020);
//! assert_eq!(price.display(2).to_string(), "61800.20");
//! ```
#![deny(missing_docs)]

mod decimal;
mod error;
mod events;
mod fixed;
mod instrument;
mod money;
mod order;
mod row;
#[cfg(feature = "serde")]
mod serde_decimal;
mod time;

pub use decimal::Decimal;
pub use error::ModelError;
pub use events::{
    AggressorSide, Bar, BookSide, BookUpdate, Level, MarkPrice, MarketEvent, Quote, Trade, UpdateHeader, flags,
};
pub use fixed::{FixedDisplay, MAX_PRECISION, POW10, Price, Quantity, pow10};
pub use instrument::{ContractType, Instrument, InstrumentId, Venue};
pub use money::{FeeRate, MONEY_SCALE, Money};
pub use order::{
    ClientOrderId, Fill, InstrumentIndex, Liquidity, OrderEvent, OrderEventKind, OrderRequest, OrderSide, OrderStatus,
    OrderType, RejectReason, TimeInForce, VenueOrderId,
};
pub use row::{EventChunk, EventRow, RowKind};
pub use time::{UnixNanos, civil_from_days};
