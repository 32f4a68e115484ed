//! Bybit v5 public WebSocket and REST messages, decoded into [`Decoded`] market messages.
//!
//! | frame | result |
//! |---|---|
//! | `orderbook.{1,50,200,500}.SYM` `snapshot`/`delta` | [`Payload::Book`]: `is_snapshot` from `type`, `sequence = first_sequence = u`, `prev_sequence = 0`, `ts_event = ts` |
//! | `publicTrade.SYM` | one [`Payload::Trade`] per element of `data` (`S` is the taker side; numeric `i` becomes the trade id, UUIDs give `None`) |
//! | `tickers.SYM` | [`Payload::Quote`] when the message carries all of `bid1Price`, `bid1Size`, `ask1Price`, `ask1Size`; [`Payload::Mark`] when it carries `markPrice` |
//! | `kline.INTERVAL.SYM` | [`Payload::Bar`] for `confirm: true` only; an unfinished candle is a control frame |
//! | `{"op": ..}` / `{"success": ..}` replies (subscribe, ping/pong, auth) | [`Frame::Control`] |
//! | REST `instruments-info` (`{"retCode":0,"result":{"category","list"}}`) | [`Frame::Instruments`] |
//!
//! **Ticker deltas.** Bybit's `tickers` deltas carry only the fields that changed. This decoder does not
//! keep per-symbol ticker state: it emits only what a message carries completely (a quote needs all four
//! top-of-book fields in the same message, a mark needs `markPrice`; index price, funding rate and next
//! funding time are attached when present). A delta changing only the bid size therefore emits nothing
//! (it is reported as the control frame `"bybit ticker without quote or mark"`). Spot tickers carry no
//! top of book at all.
//!
//! **Several messages per frame.** A `publicTrade` frame can hold several trades, and a linear ticker can
//! hold both a quote and a mark. [`decode_frame`] returns one [`Frame`], so it accepts only frames that
//! hold one message; containers call [`decode_frame_multi`], which hands every message to a callback.
//! A multi-message frame is validated completely before its first message is handed on, so a bad
//! element never leaves half a frame delivered.
//!
//! **Venue.** The wire format does not say spot, linear or inverse; the container does (the WS URL ends
//! in `/v5/public/spot` etc., see [`venue_from_url`]). Without a Bybit venue in the [`FrameHint`] the
//! decoder assumes [`Venue::BybitLinear`]. REST `instruments-info` responses name their `category`,
//! which wins over the hint.
//!
//! Errors are reason strings (the container adds file and line); nothing here panics on bad input.

#[cfg(test)]
pub(crate) mod counting;
mod instruments;
mod market;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use ferrotrade_model::Venue;
use serde::Deserialize;
use sonic_rs::LazyValue;

#[cfg(doc)]
use crate::decoded::Payload;
use crate::decoded::{Decoded, Scratch};
use crate::source::{Frame, FrameHint};

/// The top-level keys of every Bybit v5 frame; `data`/`result` stay raw until the topic is known.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    topic: Option<&'a str>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<&'a str>,
    #[serde(default)]
    ts: Option<u64>,
    #[serde(borrow, default)]
    data: Option<LazyValue<'a>>,
    #[serde(default)]
    success: Option<bool>,
    #[serde(borrow, default)]
    op: Option<&'a str>,
    #[serde(rename = "retCode", default)]
    ret_code: Option<i64>,
    #[serde(rename = "retMsg", borrow, default)]
    ret_msg: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    result: Option<LazyValue<'a>>,
}

/// What a frame turned out to be, before its messages are handed out.
enum Step<'s> {
    /// Exactly one frame.
    Single(Frame<'s>),
    /// A `data` array of trades or candles, decoded element by element.
    Array { kind: ArrayKind, venue: Venue, topic: &'s str, data: &'s str },
    /// A ticker: a quote, a mark, both or neither.
    Ticker([Option<Decoded<'s>>; 2]),
}

#[derive(Clone, Copy)]
enum ArrayKind {
    Trades,
    Klines,
}

/// Why [`decode_frame_multi`] stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiError<E> {
    /// The frame could not be decoded; none of its messages was handed on.
    Decode(String),
    /// The callback returned this error.
    Stopped(E),
}

/// The Bybit market a WS or REST URL belongs to: `/v5/public/spot` or `category=spot` is spot,
/// `linear` and `inverse` likewise; `None` for other URLs.
#[must_use]
pub fn venue_from_url(url: &str) -> Option<Venue> {
    if !url.contains("bybit") {
        return None;
    }
    if url.contains("/public/spot") || url.contains("category=spot") {
        Some(Venue::BybitSpot)
    } else if url.contains("/public/linear") || url.contains("category=linear") {
        Some(Venue::BybitLinear)
    } else if url.contains("/public/inverse") || url.contains("category=inverse") {
        Some(Venue::BybitInverse)
    } else {
        None
    }
}

/// Decodes a Bybit v5 frame that holds one message (see the module docs for multi-message frames).
///
/// # Errors
/// A reason string when the frame is not valid JSON, not a Bybit v5 message, has an invalid field, or
/// holds more than one message (several trades, or a ticker with both a quote and a mark).
pub fn decode_frame<'s>(frame: &'s [u8], hint: &FrameHint, scratch: &'s mut Scratch) -> Result<Frame<'s>, String> {
    match classify(frame, hint, scratch)? {
        Step::Single(frame) => Ok(frame),
        Step::Array { kind, venue, topic, data } => {
            let mut only = None;
            for (index, item) in sonic_rs::to_array_iter(data).enumerate() {
                if index > 0 {
                    return Err(format!(
                        "{topic}: frame holds several messages; read it with bybit::decode_frame_multi"
                    ));
                }
                only = Some(array_item(kind, venue, topic, borrowed(&item.map_err(|e| e.to_string())?)?)?);
            }
            only.ok_or_else(|| format!("{topic}: empty data array"))
        }
        Step::Ticker(parts) => match parts {
            [Some(one), None] | [None, Some(one)] => Ok(Frame::Market(one)),
            [None, None] => Ok(Frame::Control("bybit ticker without quote or mark")),
            [Some(_), Some(_)] => {
                Err("ticker holds a quote and a mark; read it with bybit::decode_frame_multi".to_owned())
            }
        },
    }
}

/// Decodes a Bybit v5 frame and hands each message it holds to `on_frame`, in wire order.
///
/// # Errors
/// [`MultiError::Decode`] when the frame can't be decoded (nothing was handed on), and
/// [`MultiError::Stopped`] with the callback's error when the callback stops.
pub fn decode_frame_multi<'s, E>(
    frame: &'s [u8],
    hint: &FrameHint,
    scratch: &'s mut Scratch,
    on_frame: &mut impl FnMut(Frame<'_>) -> Result<(), E>,
) -> Result<(), MultiError<E>> {
    match classify(frame, hint, scratch).map_err(MultiError::Decode)? {
        Step::Single(frame) => on_frame(frame).map_err(MultiError::Stopped),
        Step::Array { kind, venue, topic, data } => {
            // First pass validates every element, so a bad one leaves nothing half delivered.
            let mut count = 0usize;
            for item in sonic_rs::to_array_iter(data) {
                let item = item.map_err(|e| MultiError::Decode(e.to_string()))?;
                array_item(kind, venue, topic, borrowed(&item).map_err(MultiError::Decode)?)
                    .map_err(MultiError::Decode)?;
                count += 1;
            }
            if count == 0 {
                return Err(MultiError::Decode(format!("{topic}: empty data array")));
            }
            for item in sonic_rs::to_array_iter(data) {
                let item = item.map_err(|e| MultiError::Decode(e.to_string()))?;
                let frame = array_item(kind, venue, topic, borrowed(&item).map_err(MultiError::Decode)?)
                    .map_err(MultiError::Decode)?;
                on_frame(frame).map_err(MultiError::Stopped)?;
            }
            Ok(())
        }
        Step::Ticker(parts) => {
            if parts.iter().all(Option::is_none) {
                return on_frame(Frame::Control("bybit ticker without quote or mark")).map_err(MultiError::Stopped);
            }
            for part in parts.into_iter().flatten() {
                on_frame(Frame::Market(part)).map_err(MultiError::Stopped)?;
            }
            Ok(())
        }
    }
}

fn classify<'s>(frame: &'s [u8], hint: &FrameHint, scratch: &'s mut Scratch) -> Result<Step<'s>, String> {
    let envelope: Envelope<'s> = sonic_rs::from_slice(frame).map_err(|e| format!("not a Bybit JSON frame: {e}"))?;
    let venue = match hint.venue {
        Some(venue @ (Venue::BybitSpot | Venue::BybitLinear | Venue::BybitInverse)) => venue,
        _ => Venue::BybitLinear,
    };
    if let Some(topic) = envelope.topic {
        let data = envelope.data.as_ref().ok_or_else(|| format!("{topic}: no data"))?;
        let data = borrowed(data)?;
        let channel = topic.split('.').next().unwrap_or_default();
        return match channel {
            "orderbook" => {
                let ts = envelope.ts.ok_or_else(|| format!("{topic}: no ts"))?;
                let is_snapshot = match envelope.kind {
                    Some("snapshot") => true,
                    Some("delta") => false,
                    other => return Err(format!("{topic}: unknown type {other:?}")),
                };
                market::book(venue, ts, is_snapshot, data, scratch).map(|decoded| Step::Single(Frame::Market(decoded)))
            }
            "publicTrade" => Ok(Step::Array { kind: ArrayKind::Trades, venue, topic, data }),
            "kline" => Ok(Step::Array { kind: ArrayKind::Klines, venue, topic, data }),
            "tickers" => {
                let ts = envelope.ts.ok_or_else(|| format!("{topic}: no ts"))?;
                market::ticker(venue, ts, data).map(Step::Ticker)
            }
            _ => Ok(Step::Single(Frame::Control("bybit unsupported topic"))),
        };
    }
    if let Some(code) = envelope.ret_code {
        if code != 0 {
            let message = envelope.ret_msg.as_deref().unwrap_or_default();
            // `{"op":"auth","retCode":10004,..}` is a failed auth reply, not a REST response.
            if envelope.op.is_some() {
                return Ok(Step::Single(Frame::Control(control_name(envelope.op, Some(false)))));
            }
            return Err(format!("REST error retCode {code}: {message}"));
        }
        if let Some(result) = envelope.result.as_ref() {
            return instruments::parse(borrowed(result)?, hint).map(|infos| Step::Single(Frame::Instruments(infos)));
        }
    }
    if envelope.op.is_some() || envelope.success.is_some() {
        return Ok(Step::Single(Frame::Control(control_name(envelope.op, envelope.success))));
    }
    Err("unknown Bybit message (no topic, op or retCode)".to_owned())
}

fn control_name(op: Option<&str>, success: Option<bool>) -> &'static str {
    let failed = success == Some(false);
    match op {
        Some("subscribe") if failed => "bybit subscribe failed",
        Some("subscribe") => "bybit subscribe ack",
        Some("unsubscribe") => "bybit unsubscribe ack",
        Some("ping" | "pong") => "bybit pong",
        Some("auth") if failed => "bybit auth failed",
        Some("auth") => "bybit auth",
        _ => "bybit op reply",
    }
}

fn array_item<'s>(kind: ArrayKind, venue: Venue, topic: &'s str, item: &'s str) -> Result<Frame<'s>, String> {
    match kind {
        ArrayKind::Trades => market::trade(venue, item).map(Frame::Market),
        ArrayKind::Klines => market::kline(venue, topic, item),
    }
}

/// The raw JSON text of a lazily parsed value, borrowed from the frame.
fn borrowed<'s>(value: &LazyValue<'s>) -> Result<&'s str, String> {
    match value.as_raw_cow() {
        Cow::Borrowed(text) => Ok(text),
        Cow::Owned(_) => Err("expected a JSON object or array, found an escaped string".to_owned()),
    }
}
