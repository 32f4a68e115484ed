//! The venue-neutral form of one decoded wire message, before fixed-point conversion and sync.
//!
//! Prices and sizes are exact [`Decimal`]s: a decoder does not need to know the instrument's precision,
//! and the pipeline's first pass learns it from these values. Level arrays and the symbol are borrowed
//! from the input line and from a reusable [`Scratch`], so decoding allocates nothing per message once
//! the scratch buffers have grown to the largest message seen.

use ferrotrade_model::{AggressorSide, Decimal, UnixNanos, Venue};

/// One price level as sent: exact price and size (size zero deletes the level in a diff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RawLevel {
    /// Price.
    pub price: Decimal,
    /// Size.
    pub size: Decimal,
}

/// A book snapshot or diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawBook<'a> {
    /// Exchange time; `UnixNanos(0)` when the message has none (Binance spot REST snapshot), in which
    /// case the pipeline uses the receive time.
    pub ts_event: UnixNanos,
    /// First update id covered (Binance `U`); equals `sequence` for venues with a single id.
    pub first_sequence: u64,
    /// Last update id covered (Binance `u`, `lastUpdateId`; Bybit `u`).
    pub sequence: u64,
    /// Binance futures `pu`; 0 where absent.
    pub prev_sequence: u64,
    /// Whether the message replaces the book.
    pub is_snapshot: bool,
    /// Bids as sent.
    pub bids: &'a [RawLevel],
    /// Asks as sent.
    pub asks: &'a [RawLevel],
}

/// A trade print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTrade {
    /// Exchange trade time.
    pub ts_event: UnixNanos,
    /// Numeric trade id (aggregate id for `aggTrade`); `None` for opaque ids (Bybit UUIDs).
    pub trade_id: Option<u64>,
    /// Price.
    pub price: Decimal,
    /// Size.
    pub size: Decimal,
    /// Taker side.
    pub aggressor: AggressorSide,
}

/// Best bid and offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawQuote {
    /// Exchange time; `UnixNanos(0)` if none (spot bookTicker), then the receive time is used.
    pub ts_event: UnixNanos,
    /// Book update id the quote reflects (Binance `u`), 0 if none.
    pub sequence: u64,
    /// Best bid.
    pub bid: RawLevel,
    /// Best ask.
    pub ask: RawLevel,
}

/// A candle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawBar {
    /// Close time of the bar (inclusive end, as venues report it, plus nothing).
    pub ts_event: UnixNanos,
    /// Open time.
    pub open_time: UnixNanos,
    /// Interval length.
    pub interval_ns: u64,
    /// Open.
    pub open: Decimal,
    /// High.
    pub high: Decimal,
    /// Low.
    pub low: Decimal,
    /// Close.
    pub close: Decimal,
    /// Base volume.
    pub volume: Decimal,
    /// Quote volume.
    pub quote_volume: f64,
    /// Number of trades (0 if unknown).
    pub trade_count: u64,
    /// Taker buy base volume (zero if unknown).
    pub taker_buy_volume: Decimal,
}

/// Mark/index price and funding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawMark {
    /// Exchange time.
    pub ts_event: UnixNanos,
    /// Mark price.
    pub mark_price: Decimal,
    /// Index price.
    pub index_price: Option<Decimal>,
    /// Funding rate.
    pub funding_rate: Option<f64>,
    /// Next funding time.
    pub next_funding_time: Option<UnixNanos>,
}

/// The market content of one message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Payload<'a> {
    /// Book snapshot or diff.
    Book(RawBook<'a>),
    /// Trade.
    Trade(RawTrade),
    /// Aggregated trade (Binance `aggTrade`).
    AggTrade(RawTrade),
    /// Best bid/offer (Binance `bookTicker`, Bybit `orderbook.1` is a book instead).
    Quote(RawQuote),
    /// Candle (only closed candles are reported).
    Bar(RawBar),
    /// Mark price / funding.
    Mark(RawMark),
}

impl Payload<'_> {
    /// The exchange time of the message (0 where the venue sent none).
    #[must_use]
    pub fn ts_event(&self) -> UnixNanos {
        match self {
            Payload::Book(book) => book.ts_event,
            Payload::Trade(trade) | Payload::AggTrade(trade) => trade.ts_event,
            Payload::Quote(quote) => quote.ts_event,
            Payload::Bar(bar) => bar.ts_event,
            Payload::Mark(mark) => mark.ts_event,
        }
    }
}

/// One decoded market message of one instrument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decoded<'a> {
    /// Venue.
    pub venue: Venue,
    /// Symbol as the venue spells it (upper case).
    pub symbol: &'a str,
    /// Content.
    pub payload: Payload<'a>,
}

/// Instrument filters found in a capture (Binance `exchangeInfo`, Bybit `instruments-info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentInfo {
    /// Venue.
    pub venue: Venue,
    /// Symbol.
    pub symbol: String,
    /// Price increment.
    pub tick_size: Decimal,
    /// Quantity increment.
    pub lot_size: Decimal,
    /// Minimum order value in quote currency.
    pub min_notional: Option<Decimal>,
    /// Contract size for inverse contracts.
    pub contract_size: Option<Decimal>,
}

/// Reusable buffers that decoded messages borrow their level arrays from.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Bid levels of the current message.
    pub bids: Vec<RawLevel>,
    /// Ask levels of the current message.
    pub asks: Vec<RawLevel>,
    /// A symbol that had to be built (upper-cased from a stream name, unescaped).
    pub symbol: String,
    /// Unescaped frame text, for containers that store the frame as a JSON string.
    pub frame: Vec<u8>,
}

impl Scratch {
    /// A scratch whose level buffers hold `levels` a side without growing, their memory written once: the
    /// first large message (a 1000-level snapshot) then neither reallocates nor faults pages in, which a
    /// live feed would pay on its latency path.
    #[must_use]
    pub fn with_levels(levels: usize) -> Scratch {
        Scratch { bids: resident(levels), asks: resident(levels), ..Scratch::default() }
    }

    /// Empties the level buffers, keeping their capacity.
    pub fn clear_levels(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }
}

/// An empty vector with room for `capacity` values whose memory has been written (filled with defaults,
/// then cleared), so its pages are mapped.
pub(crate) fn resident<T: Clone + Default>(capacity: usize) -> Vec<T> {
    let mut values = Vec::with_capacity(capacity);
    values.resize(capacity, T::default());
    values.clear();
    values
}
