//! The feed's public values: what it is configured with, what it hands out and what it counts.

use std::time::{Duration, Instant};

use ferrotrade_model::{
    Bar, BookSide, Instrument, InstrumentIndex, MarkPrice, Price, Quantity, Quote, Trade, UnixNanos, Venue,
};
use ferrotrade_venues::sync::SyncStats;
use tokio_tungstenite::tungstenite::Bytes;

/// One instrument a feed serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedInstrument {
    /// Where the instrument's book lives in the engine's book slice.
    pub index: InstrumentIndex,
    /// Precisions (fixed-point scales) and filters.
    pub instrument: Instrument,
    /// The symbol as the venue spells it on the wire (`BTCUSDT`).
    pub symbol: String,
}

/// An API key, for the venue endpoints that want one without a signature (Binance's old trades lookup).
/// Not a secret by itself, but never shown: `Debug` prints its first four characters.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(pub String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: String = self.0.chars().take(4).collect();
        write!(f, "ApiKey({shown}...)")
    }
}

/// How a feed behaves; [`FeedOptions::default`] holds values that suit the real venues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedOptions {
    /// A connection that delivers no data frame for this long is dropped and reconnected.
    pub stale_after: Duration,
    /// Bybit: how often `{"op":"ping"}` is sent (the venue asks for 20 s).
    pub ping_every: Duration,
    /// First reconnect / retry delay (before jitter).
    pub backoff_min: Duration,
    /// Largest reconnect / retry delay.
    pub backoff_max: Duration,
    /// Age at which a connection is replaced by a new one, before the venue's 24 h disconnect: the new one
    /// is opened, used as soon as it delivers, and the old one closed, without a gap.
    pub rollover_after: Duration,
    /// Binance: `limit` of the REST depth snapshot; Bybit: the smallest `orderbook.N` depth >= this.
    pub snapshot_depth: u32,
    /// Most diffs buffered per instrument while it waits for a snapshot (the oldest are dropped first).
    pub buffer_limit: usize,
    /// Emit a [`FeedEvent::Level`] per level change (paper trading mirrors the book level by level).
    pub emit_levels: bool,
    /// Seed of the jitter RNG.
    pub seed: u64,
    /// Binance: the account's API key, for the old trades lookup (`historicalTrades`, which reaches back
    /// further than the recent-trades list) when a trade gap is backfilled; without one, the public
    /// recent-trades list.
    pub market_data_key: Option<ApiKey>,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            stale_after: Duration::from_secs(30),
            ping_every: Duration::from_secs(20),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            rollover_after: Duration::from_secs(23 * 3600 + 30 * 60),
            snapshot_depth: 1000,
            buffer_limit: 10_000,
            emit_levels: false,
            seed: 0x5eed_f00d,
            market_data_key: None,
        }
    }
}

/// Why an instrument's book stopped being trustworthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnsyncReason {
    /// The update-id chain broke (a diff was lost or came out of order).
    Gap,
    /// The connection carrying the book dropped.
    Reconnect,
    /// The connection carrying the book went silent for `stale_after`.
    Stale,
    /// Best bid >= best ask after a message: the book cannot be right.
    Crossed,
}

/// What a feed tells the engine, in the order it happened. `Copy`, so the caller's buffer never owns heap
/// memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FeedEvent {
    /// `books[index]` changed (already applied). Never sent while the book is unsynced.
    Book {
        /// The instrument.
        index: InstrumentIndex,
        /// Exchange time of the message.
        ts_event: UnixNanos,
        /// When the update became applicable locally.
        ts_recv: UnixNanos,
    },
    /// One level of a diff (only with `emit_levels`); sizes are absolute, zero deletes. After
    /// [`FeedEvent::Synced`] a mirror must rebuild from `books[index]` (a snapshot replaced the book).
    Level {
        /// The instrument.
        index: InstrumentIndex,
        /// Bid or ask.
        side: BookSide,
        /// Price.
        price: Price,
        /// New size at the price.
        size: Quantity,
        /// Exchange time of the message.
        ts_event: UnixNanos,
    },
    /// A trade, delivered once.
    Trade {
        /// The instrument.
        index: InstrumentIndex,
        /// The trade.
        trade: Trade,
    },
    /// Best bid and offer as the venue reports it.
    Quote {
        /// The instrument.
        index: InstrumentIndex,
        /// The quote.
        quote: Quote,
    },
    /// Mark / index price and funding.
    Mark {
        /// The instrument.
        index: InstrumentIndex,
        /// The mark.
        mark: MarkPrice,
    },
    /// A closed candle.
    Bar {
        /// The instrument.
        index: InstrumentIndex,
        /// The bar.
        bar: Bar,
    },
    /// A snapshot replaced `books[index]`; the book is good from here on.
    Synced {
        /// The instrument.
        index: InstrumentIndex,
    },
    /// `books[index]` must not be used until the next [`FeedEvent::Synced`].
    Unsynced {
        /// The instrument.
        index: InstrumentIndex,
        /// Why.
        reason: UnsyncReason,
    },
    /// A connection of the venue went up or down.
    Connection {
        /// The venue.
        venue: Venue,
        /// Up (subscribed) or down.
        up: bool,
    },
}

/// One thing that happened on the feed's connections, to be handed to [`crate::feed::MarketFeed::process`].
#[derive(Debug)]
pub struct FeedInput {
    /// When the input was read (monotonic clock): the start of the latency path.
    pub received_at: Instant,
    pub(crate) ts_recv: UnixNanos,
    pub(crate) kind: InputKind,
}

impl FeedInput {
    /// Wall-clock time at which the frame was read.
    #[must_use]
    pub fn ts_recv(&self) -> UnixNanos {
        self.ts_recv
    }

    /// Whether this is a market-data frame (the start of a tick-to-trade path), not a snapshot's answer or
    /// a link event.
    #[must_use]
    pub fn is_frame(&self) -> bool {
        matches!(self.kind, InputKind::Frame { .. })
    }

    /// A recorded WebSocket frame of connection `connection`, read now and received at `ts_recv`: replays
    /// a capture into a feed without sockets (offline checks, benchmarks).
    #[must_use]
    pub fn recorded_frame(connection: usize, bytes: Bytes, ts_recv: UnixNanos) -> FeedInput {
        FeedInput { received_at: super::clock::monotonic(), ts_recv, kind: InputKind::Frame { connection, bytes } }
    }

    /// A recorded REST depth snapshot body for the feed's instrument number `slot` (its position in the
    /// feed's instrument list), as [`FeedInput::recorded_frame`].
    #[must_use]
    pub fn recorded_snapshot(slot: usize, body: Bytes, ts_recv: UnixNanos) -> FeedInput {
        let kind = InputKind::Snapshot { slot, body, used_weight: None };
        FeedInput { received_at: super::clock::monotonic(), ts_recv, kind }
    }
}

/// What an input carries.
#[derive(Debug)]
pub(crate) enum InputKind {
    /// A text or binary frame of connection `connection`.
    Frame { connection: usize, bytes: Bytes },
    /// A REST depth snapshot body for slot `slot`, with the venue's used weight when it sent it.
    Snapshot { slot: usize, body: Bytes, used_weight: Option<u32> },
    /// A snapshot request failed; retry after the given delay at the earliest.
    SnapshotFailed { slot: usize, retry_after: Option<Duration>, rate_limited: bool },
    /// A recent-trades list body for slot `slot` (a trade gap's backfill).
    Trades { slot: usize, body: Bytes, used_weight: Option<u32> },
    /// A recent-trades request failed; retry after the given delay at the earliest.
    TradesFailed { slot: usize, retry_after: Option<Duration>, rate_limited: bool },
    /// A connection's state changed.
    Link { connection: usize, event: LinkEvent },
}

/// State changes of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkEvent {
    /// Connected and subscribed.
    Up,
    /// Lost (closed, error or failed handshake after being up).
    Down,
    /// Dropped by the watchdog: no frame for `stale_after`.
    Stale,
    /// Switched to a fresh connection without a gap.
    RolledOver,
}

/// Counters of one instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstrumentStats {
    /// The instrument.
    pub index: InstrumentIndex,
    /// Market messages routed to it.
    pub messages: u64,
    /// Breaks in the update-id chain.
    pub gaps: u64,
    /// Times the book was rebuilt after being unsynced (any reason).
    pub resyncs: u64,
    /// Messages dropped because they had been delivered already (trades, quotes, book diffs, snapshots).
    pub duplicates_dropped: u64,
    /// Jumps in the trade ids (Binance: a trade lost or late on the stream).
    pub trade_gaps: u64,
    /// Trades delivered from the venue's recent-trades list to fill a gap.
    pub trades_backfilled: u64,
    /// Trade ids skipped: no list held them (older than the list reaches back) within the hold limit.
    pub trades_lost: u64,
    /// Trades that arrived after their id had been skipped as lost (delivered late).
    pub trades_late: u64,
    /// Snapshots applied.
    pub snapshots: u64,
    /// REST snapshots requested.
    pub snapshot_requests: u64,
    /// Total time spent unsynced (up to the last processed input).
    pub unsynced_time: Duration,
    /// Whether the book is synced now.
    pub synced: bool,
    /// The venue's update id of the last book message applied (Binance `u`, Bybit `u`).
    pub last_update_id: u64,
    /// The sync state machine's own counters, summed over its resets.
    pub sync: SyncStats,
}

/// Counters of one WebSocket connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectionStats {
    /// Frames received.
    pub messages: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Times the connection came back after being lost.
    pub reconnects: u64,
    /// Times the watchdog dropped it for silence.
    pub stale_timeouts: u64,
    /// Rollovers to a fresh connection.
    pub rollovers: u64,
    /// Whether it is up now.
    pub up: bool,
}

/// All counters of a feed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedStats {
    /// Per instrument, in the order given to the feed.
    pub instruments: Vec<InstrumentStats>,
    /// Per connection.
    pub connections: Vec<ConnectionStats>,
    /// Frames that could not be decoded or converted.
    pub decode_errors: u64,
    /// Frames without market content (acks, pongs).
    pub control_frames: u64,
    /// Market messages for symbols the feed does not serve.
    pub unknown_symbols: u64,
}
