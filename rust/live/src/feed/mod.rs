//! Live market data: venue WebSockets -> decoded, fixed-point events -> the engine's order books.
//!
//! A [`MarketFeed`] serves one venue. It plans the venue's streams onto as few WebSocket connections as
//! the venue's limits allow, runs each connection as a tokio task (connect, subscribe, keep alive, watch
//! for silence, reconnect, roll over before the venue's 24 h cut), fetches REST depth snapshots when a book
//! needs one, and turns every frame into [`FeedEvent`]s with the same decoders, fixed-point converter and
//! sync rules as the recorded-data pipeline (`ferrotrade_venues::{binance, bybit, normalize, sync}`), so a
//! message is interpreted identically live and in a backtest.
//!
//! # Use
//! ```ignore
//! let mut feed = MarketFeed::new(venue, endpoints, instruments, &subscriptions, FeedOptions::default())?;
//! let mut events = Vec::with_capacity(1024);
//! loop {
//!     let input = feed.next_input().await;          // in a select! with the engine's other sources
//!     events.clear();
//!     feed.process(input, &mut books, &mut events);  // sync: decode, sync, apply, emit
//!     for event in &events { /* strategies */ }
//! }
//! ```
//! The split lets the engine own the books and the event buffer: `next_input` is the only await, and
//! `process` runs without yielding, so a strategy never sees a book half way through a message.
//!
//! # Venue limits respected
//! | venue | per connection | control messages | keep-alive |
//! |---|---|---|---|
//! | Binance | <= 1024 streams (combined `/stream?streams=`; more via `SUBSCRIBE` frames) | <= 5/s spot, 10/s futures incoming, pings and pongs included: subscriptions are paced well below | the server pings, the pong is flushed at once |
//! | Bybit public | args <= 21 000 characters | <= 10 args per `subscribe` request | `{"op":"ping"}` every `ping_every` (20 s) |
//!
//! Depth snapshots (Binance) are paid from a REST weight budget (weight by `limit`, as documented per
//! market) that stays under half of the venue's per-minute allowance; a 429 or 5xx pauses fetching with
//! exponential backoff (or the venue's `Retry-After`).
//!
//! # Invariants
//! - A book is reported ([`FeedEvent::Book`]) only while synced. Each gap, crossed book, reconnect or
//!   stale stream unsyncs **that instrument** (the others carry on) with [`FeedEvent::Unsynced`], and the
//!   book is rebuilt: Binance buffers diffs (bounded by `buffer_limit`), fetches a REST snapshot and
//!   replays; Bybit resubscribes the topic and gets a fresh snapshot. [`FeedEvent::Synced`] follows.
//! - Nothing is delivered twice: book diffs already contained in the book are dropped by update id
//!   (`venues::sync::BookSync`), trades by trade id (a window of the last 1024 ids, so reordered trades
//!   are still delivered once), other messages without an id by a hash of the frame. Overlapping frames of
//!   a reconnect or a rollover are therefore harmless, and counted as duplicates.
//! - No Binance trade is lost without being counted: trade ids are consecutive, so a jump holds the
//!   trades after it (a swapped pair is put back in order at once) until a REST trade list fills the gap
//!   (`trades`; paid from the same weight budget, held at most 5 s): the old trades lookup from the
//!   missing id on when the feed has the account's API key (`FeedOptions::market_data_key`, live mode),
//!   else the public list of the last 1000 trades; ids no list reaches are counted in
//!   `InstrumentStats::trades_lost`. Trades reach the strategies in id order. Bybit's trade ids are
//!   opaque: a trade lost on its stream cannot be detected.
//! - [`MarketFeed::process`] does not allocate once its buffers have grown to the largest message
//!   (snapshot replays, gaps and reconnects may).
//! - Reconnect delays are exponential with full jitter from a seeded RNG: a run is reproducible.
//! - Nothing here logs or returns credentials: market data needs none.

mod backoff;
mod clock;
mod connection;
mod dedup;
mod market_feed;
mod plan;
mod process;
mod snapshot;
#[cfg(test)]
mod tests;
mod trades;
mod types;

pub use market_feed::MarketFeed;
pub use types::{
    ApiKey, ConnectionStats, FeedEvent, FeedInput, FeedInstrument, FeedOptions, FeedStats, InstrumentStats,
    UnsyncReason,
};
