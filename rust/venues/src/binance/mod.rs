//! Binance wire decoding: one WebSocket frame or REST body to one [`Frame`].
//!
//! Handled: combined-stream envelopes (`{"stream":..,"data":{..}}`) and raw payloads; `depthUpdate`
//! (spot `U`/`u`, futures `U`/`u`/`pu`/`T`, COIN-M `ps`); REST depth snapshots (`lastUpdateId`, and the
//! partial-depth streams `@depth5/10/20` of the same shape); `bookTicker`; `trade`; `aggTrade`;
//! `markPriceUpdate`; closed `kline`s; `exchangeInfo` bodies. Subscription acks, 24h tickers, open klines
//! and other known non-market frames are [`Frame::Control`]; an unknown event type is an error.
//!
//! # Two paths
//! Compact `depthUpdate` frames, the bulk of every capture, are read in one pass by `fast` (about 600 MiB/s
//! on one core of the 2-core build machine, `benches/parse_depth.rs`), and so are compact REST depth
//! snapshots whose symbol the request named (in the live feed, straight to fixed point: a 1000-level
//! book decoded, built and its buffered diffs replayed in 44 us, `ferrotrade-live`'s
//! `benches/feed_process.rs`). Every other frame, and any book message those paths do not recognize
//! exactly, goes through sonic-rs into one borrowed union struct (`wire`).
//! The fast paths never decide an error; tests check both paths agree on real captures.
//!
//! [`decode_book`] is the fast path's second output, for a reader that knows the instrument's precisions
//! (the live feed): the book message's levels in fixed point, with no exact decimals in between. A frame
//! it does not take goes to [`decode_frame`] and a [`Converter`], which give the same update.
//!
//! # Invariants
//! - No allocation per market message once [`Scratch`] has grown: strings are borrowed from the frame,
//!   levels are pushed into `Scratch.bids/asks` (cleared per message).
//! - Prices and sizes are exact [`Decimal`]s, equal to what [`Decimal::parse`] gives for the text.
//! - Timestamps are the venue's: `T` (matching-engine time) when the message has it, else `E` (event
//!   time), else `UnixNanos(0)` (spot REST snapshot and spot `bookTicker`), for the pipeline to replace
//!   by the receive time. `markPriceUpdate` uses `E`, because its `T` is the next funding time.
//! - The venue is `hint.venue` when the container knows it; otherwise the frame tells: a COIN-M symbol
//!   has `_` or the frame a `ps`; a futures frame has `pu` (diffs), `E`/`T` (REST snapshots), `e`
//!   (`bookTicker`), `X` (trades), no `M` (`aggTrade`) or is a `markPriceUpdate`; anything else (including
//!   every `kline`, which has no marker) is spot.
//!
//! [`Frame`]: crate::source::Frame
//! [`Frame::Control`]: crate::source::Frame::Control
//! [`Scratch`]: crate::decoded::Scratch
//! [`Converter`]: crate::normalize::Converter
//! [`Decimal`]: ferrotrade_model::Decimal
//! [`Decimal::parse`]: ferrotrade_model::Decimal::parse

mod decode;
mod exchange_info;
mod fast;
mod levels;
mod recent_trades;
mod wire;

pub use decode::{decode_frame, decode_frame_after_book};
pub use fast::decode_book;
pub use recent_trades::{
    RECENT_TRADES_LIMIT, historical_trades_path, historical_trades_weight, parse_recent_trades, recent_trades_path,
    recent_trades_weight,
};
