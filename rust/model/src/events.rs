//! The normalized market events: one shape for recorded, historical and live data.
//!
//! Field by field this is also the catalog's schema (see `python/ferrotrade/data/schema.py`, which
//! documents the Parquet columns). Every event carries `ts_event` (the exchange's timestamp, or the best the
//! source has) and `ts_recv` (when the local process could act on it: the capture's receive time; for book
//! updates buffered during a sync, the time the snapshot that made them applicable arrived).

use crate::fixed::{Price, Quantity};
use crate::time::UnixNanos;

/// Bit flags on book updates and on the catalog's book rows.
pub mod flags {
    /// The row belongs to a full book snapshot.
    pub const SNAPSHOT: u8 = 1;
    /// The last row of one venue message: the book is consistent after applying it.
    pub const LAST: u8 = 2;
    /// Clear the book before applying this row (first row of a snapshot).
    pub const CLEAR: u8 = 4;
}

/// Side of a book level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum BookSide {
    /// Buy orders.
    Bid = 0,
    /// Sell orders.
    Ask = 1,
}

/// Side of the taker in a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum AggressorSide {
    /// The venue does not say.
    Unknown = 0,
    /// A buy order took liquidity (the seller was the maker).
    Buyer = 1,
    /// A sell order took liquidity (the buyer was the maker).
    Seller = 2,
}

/// One price level; `size == 0` deletes the level in an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Level {
    /// Level price.
    pub price: Price,
    /// Total size resting at the price.
    pub size: Quantity,
}

/// Sequencing and time of one book message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UpdateHeader {
    /// Exchange time.
    pub ts_event: UnixNanos,
    /// Local time the update became applicable.
    pub ts_recv: UnixNanos,
    /// First update id the message covers (Binance `U`; equals `sequence` where the venue has one id).
    pub first_sequence: u64,
    /// Last update id the message covers (Binance `u`, Bybit `u`, snapshot `lastUpdateId`).
    pub sequence: u64,
    /// Last update id of the previous message (Binance futures `pu`); 0 where the venue has none.
    pub prev_sequence: u64,
}

/// One book message: a snapshot (replaces the book) or a diff (sets or deletes levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookUpdate<'a> {
    /// Time and sequence ids.
    pub header: UpdateHeader,
    /// Whether this replaces the whole book.
    pub is_snapshot: bool,
    /// Bid levels to set (size 0 deletes).
    pub bids: &'a [Level],
    /// Ask levels to set (size 0 deletes).
    pub asks: &'a [Level],
}

/// One trade (or aggregated trade) printed by the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Trade {
    /// Exchange trade time.
    pub ts_event: UnixNanos,
    /// Local receive time.
    pub ts_recv: UnixNanos,
    /// Venue trade id (aggregate id for aggregated trades) when numeric; `None` for venues with opaque ids.
    pub trade_id: Option<u64>,
    /// Trade price.
    pub price: Price,
    /// Trade size.
    pub size: Quantity,
    /// Taker side.
    pub aggressor: AggressorSide,
}

/// Best bid and offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quote {
    /// Exchange time (or local time where the venue sends none).
    pub ts_event: UnixNanos,
    /// Local receive time.
    pub ts_recv: UnixNanos,
    /// Book update id the quote reflects (Binance `u`), 0 if none.
    pub sequence: u64,
    /// Best bid.
    pub bid: Level,
    /// Best ask.
    pub ask: Level,
}

/// A candle (kline) over `[open_time, close_time]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// The bar's close time (when it became final).
    pub ts_event: UnixNanos,
    /// Local receive time (equals `ts_event` for historical files).
    pub ts_recv: UnixNanos,
    /// Start of the interval.
    pub open_time: UnixNanos,
    /// Interval length in nanoseconds.
    pub interval_ns: u64,
    /// Open price.
    pub open: Price,
    /// High price.
    pub high: Price,
    /// Low price.
    pub low: Price,
    /// Close price.
    pub close: Price,
    /// Base volume.
    pub volume: Quantity,
    /// Quote volume (a report figure, so `f64`).
    pub quote_volume: f64,
    /// Number of trades.
    pub trade_count: u64,
    /// Base volume bought by takers.
    pub taker_buy_volume: Quantity,
}

/// Mark price, index price and funding of a derivative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarkPrice {
    /// Exchange time.
    pub ts_event: UnixNanos,
    /// Local receive time.
    pub ts_recv: UnixNanos,
    /// Mark price.
    pub mark_price: Price,
    /// Index price, where sent.
    pub index_price: Option<Price>,
    /// Current funding rate (a rate, not money), where sent.
    pub funding_rate: Option<f64>,
    /// Next funding time, where sent.
    pub next_funding_time: Option<UnixNanos>,
}

/// Any normalized market event of one instrument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MarketEvent<'a> {
    /// Book snapshot or diff.
    Book(BookUpdate<'a>),
    /// Trade.
    Trade(Trade),
    /// Aggregated trade (Binance `aggTrade`): one taker order against one price.
    AggTrade(Trade),
    /// Best bid/offer.
    Quote(Quote),
    /// Candle.
    Bar(Bar),
    /// Mark/index/funding.
    Mark(MarkPrice),
}
