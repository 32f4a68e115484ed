//! The shapes of Binance JSON frames as sonic-rs deserializes them: one flat "union" object that every
//! market stream payload, REST depth body, subscription ack and exchange-info body fits into.
//!
//! Why one union instead of one struct per event: the event type (`e`) is not always present (spot
//! `bookTicker` and REST bodies have none) and, when present, may come after fields we need; a single
//! pass that collects every known key and then decides is both simpler and faster than peeking first.
//! Fields whose JSON type depends on the event (`b`/`a`: a level array in `depthUpdate`, a string in
//! `bookTicker`, `a` a number in `aggTrade`) are kept as borrowed [`LazyValue`]s: sonic-rs skips them with
//! SIMD and the caller interprets the raw slice. Strings are borrowed from the frame; nothing here
//! allocates (an escaped string where a borrowed one is expected is an error, which Binance never sends).

use serde::Deserialize;
use serde::de::IgnoredAny;
use sonic_rs::LazyValue;

/// Every field of every Binance payload ferrotrade reads; absent fields are `None`.
#[derive(Debug, Deserialize)]
#[allow(non_snake_case)]
pub(crate) struct Body<'a> {
    /// Event type (`depthUpdate`, `trade`, ...); absent in spot `bookTicker` and REST bodies.
    #[serde(borrow, default)]
    pub e: Option<&'a str>,
    /// Event time (ms).
    #[serde(default)]
    pub E: Option<u64>,
    /// Transaction / trade time (ms); next funding time in `markPriceUpdate`.
    #[serde(default)]
    pub T: Option<u64>,
    /// Symbol.
    #[serde(borrow, default)]
    pub s: Option<&'a str>,
    /// COIN-M pair (`BTCUSD`); its presence marks COIN-M.
    #[serde(borrow, default)]
    pub ps: Option<&'a str>,
    /// First update id of a diff.
    #[serde(default)]
    pub U: Option<u64>,
    /// Last update id of a diff, or the book update id of a `bookTicker`.
    #[serde(default)]
    pub u: Option<u64>,
    /// Futures: last update id of the previous diff.
    #[serde(default)]
    pub pu: Option<u64>,
    /// Bids (level array), best bid price (string).
    #[serde(borrow, default)]
    pub b: Option<LazyValue<'a>>,
    /// Asks (level array), best ask price (string), or aggregate trade id (number).
    #[serde(borrow, default)]
    pub a: Option<LazyValue<'a>>,
    /// Best bid size.
    #[serde(borrow, default)]
    pub B: Option<&'a str>,
    /// Best ask size.
    #[serde(borrow, default)]
    pub A: Option<&'a str>,
    /// Trade id.
    #[serde(default)]
    pub t: Option<u64>,
    /// Price (trade) or mark price.
    #[serde(borrow, default)]
    pub p: Option<&'a str>,
    /// Quantity.
    #[serde(borrow, default)]
    pub q: Option<&'a str>,
    /// Whether the buyer was the maker.
    #[serde(default)]
    pub m: Option<bool>,
    /// Spot trades carry `M` ("best match"), futures trades do not.
    #[serde(default)]
    pub M: Option<IgnoredAny>,
    /// Futures trades carry `X` (order type), spot trades do not.
    #[serde(default)]
    pub X: Option<IgnoredAny>,
    /// Index price (`markPriceUpdate`).
    #[serde(borrow, default)]
    pub i: Option<&'a str>,
    /// Funding rate (`markPriceUpdate`).
    #[serde(borrow, default)]
    pub r: Option<&'a str>,
    /// Candle of a `kline` event.
    #[serde(borrow, default)]
    pub k: Option<Kline<'a>>,
    /// REST depth snapshot (and partial-depth stream) id.
    #[serde(default)]
    pub lastUpdateId: Option<u64>,
    /// REST depth bids.
    #[serde(borrow, default)]
    pub bids: Option<LazyValue<'a>>,
    /// REST depth asks.
    #[serde(borrow, default)]
    pub asks: Option<LazyValue<'a>>,
    /// REST depth symbol (COIN-M only).
    #[serde(borrow, default)]
    pub symbol: Option<&'a str>,
    /// Exchange info instrument list.
    #[serde(borrow, default)]
    pub symbols: Option<LazyValue<'a>>,
    /// Subscription ack / request id.
    #[serde(default)]
    pub id: Option<IgnoredAny>,
    /// REST error code.
    #[serde(default)]
    pub code: Option<i64>,
    /// REST error text.
    #[serde(borrow, default)]
    pub msg: Option<&'a str>,
    /// Combined-stream name, when the envelope was not read by [`Envelope`].
    #[serde(borrow, default)]
    pub stream: Option<&'a str>,
    /// Combined-stream payload, when the envelope was not read by [`Envelope`] (keys in another order).
    #[serde(borrow, default)]
    pub data: Option<LazyValue<'a>>,
}

/// A combined-stream envelope `{"stream": ..., "data": {...}}` read in one pass.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<'a> {
    /// Stream name, e.g. `btcusdt@depth@100ms`.
    #[serde(borrow)]
    pub stream: &'a str,
    /// The payload.
    #[serde(borrow)]
    pub data: Body<'a>,
}

/// The `k` object of a `kline` event.
#[derive(Debug, Deserialize)]
#[allow(non_snake_case)]
pub(crate) struct Kline<'a> {
    /// Open time (ms).
    pub t: u64,
    /// Close time (ms, inclusive).
    pub T: u64,
    /// Interval (`1m`, `1h`, `1d`, ...).
    #[serde(borrow)]
    pub i: &'a str,
    /// Open.
    #[serde(borrow)]
    pub o: &'a str,
    /// Close.
    #[serde(borrow)]
    pub c: &'a str,
    /// High.
    #[serde(borrow)]
    pub h: &'a str,
    /// Low.
    #[serde(borrow)]
    pub l: &'a str,
    /// Base volume.
    #[serde(borrow)]
    pub v: &'a str,
    /// Number of trades.
    #[serde(default)]
    pub n: u64,
    /// Whether the candle is closed.
    pub x: bool,
    /// Quote volume.
    #[serde(borrow, default)]
    pub q: Option<&'a str>,
    /// Taker buy base volume.
    #[serde(borrow, default)]
    pub V: Option<&'a str>,
}
