//! From one Binance frame's union [`Body`] to a [`Frame`]: event dispatch, venue and symbol inference.

use std::borrow::Cow;

use ferrotrade_model::{AggressorSide, Decimal, UnixNanos, Venue};
use sonic_rs::LazyValue;

use super::exchange_info::parse_symbols;
use super::fast;
use super::levels::{decimal, parse_levels, parse_quoted_decimal};
use super::wire::{Body, Envelope, Kline};
use crate::decoded::{Decoded, Payload, RawBar, RawBook, RawLevel, RawMark, RawQuote, RawTrade, Scratch};
use crate::source::{Frame, FrameHint};

/// Decodes one Binance frame (WebSocket message or REST body), borrowing from `frame` and `scratch`.
///
/// See the [module docs](super) for what is handled and how venue, symbol and time are chosen.
///
/// # Errors
/// A reason string for invalid JSON, a missing or mistyped field, a value that is not a decimal, an
/// unknown event type, or a REST depth snapshot whose symbol neither the body nor `hint` gives.
pub fn decode_frame<'s>(frame: &'s [u8], hint: &FrameHint, scratch: &'s mut Scratch) -> Result<Frame<'s>, String> {
    if let Some(depth) = fast::decode_exact(frame, hint, scratch) {
        return Ok(depth.into_frame(scratch));
    }
    decode_frame_after_book(frame, hint, scratch)
}

/// [`decode_frame`] for a frame [`decode_book`](super::decode_book) has just turned down: the general
/// path alone, so the fast path's head checks are not run a second time on every frame that is not a book
/// message. Gives what `decode_frame` gives (the two paths agree on every frame the fast one takes).
///
/// # Errors
/// As [`decode_frame`].
pub fn decode_frame_after_book<'s>(
    frame: &'s [u8],
    hint: &FrameHint,
    scratch: &'s mut Scratch,
) -> Result<Frame<'s>, String> {
    scratch.clear_levels();
    decode_general(frame, hint, scratch)
}

/// The sonic-rs path, for every frame (the fast paths only take compact `depthUpdate`s and REST depth
/// snapshots).
pub(crate) fn decode_general<'s>(
    frame: &'s [u8],
    hint: &FrameHint,
    scratch: &'s mut Scratch,
) -> Result<Frame<'s>, String> {
    // sonic-rs hands borrowed strings to the visitor before its own UTF-8 check (a debug assertion fires
    // on them), so invalid text is refused first. The fast path reads only ASCII and needs no check.
    if let Err(error) = std::str::from_utf8(frame) {
        return Err(format!("frame is not valid UTF-8 (at byte {})", error.valid_up_to()));
    }
    if starts_with_stream_key(frame) {
        let envelope: Envelope<'s> = sonic_rs::from_slice(frame).map_err(json_error)?;
        return decode_body(&envelope.data, Some(envelope.stream), hint, scratch);
    }
    let body: Body<'s> = sonic_rs::from_slice(frame).map_err(json_error)?;
    match &body.data {
        // An envelope whose keys come in another order than Binance sends them.
        Some(data) => {
            let Cow::Borrowed(raw) = data.as_raw_cow() else {
                return Err("combined-stream payload is not a plain JSON object".into());
            };
            let inner: Body<'s> = sonic_rs::from_slice(raw.as_bytes()).map_err(json_error)?;
            decode_body(&inner, body.stream, hint, scratch)
        }
        None => decode_body(&body, None, hint, scratch),
    }
}

fn decode_body<'s>(
    body: &Body<'s>,
    stream: Option<&'s str>,
    hint: &FrameHint,
    scratch: &'s mut Scratch,
) -> Result<Frame<'s>, String> {
    let Some(event) = body.e else { return decode_untyped(body, stream, hint, scratch) };
    let payload = match event {
        "depthUpdate" => {
            let symbol = required(body.s, event, "s")?;
            let Scratch { bids, asks, .. } = scratch;
            parse_side(body.b.as_ref(), event, "b", bids)?;
            parse_side(body.a.as_ref(), event, "a", asks)?;
            let book = RawBook {
                ts_event: exchange_time(body),
                first_sequence: required(body.U, event, "U")?,
                sequence: required(body.u, event, "u")?,
                prev_sequence: body.pu.unwrap_or(0),
                is_snapshot: stream.is_some_and(is_partial_depth_stream),
                bids: bids.as_slice(),
                asks: asks.as_slice(),
            };
            return Ok(market(hint, body, symbol, body.pu.is_some(), Payload::Book(book)));
        }
        "bookTicker" => {
            let symbol = required(body.s, event, "s")?;
            return Ok(market(hint, body, symbol, true, Payload::Quote(quote(body, event)?)));
        }
        "trade" => {
            let trade = RawTrade {
                ts_event: exchange_time(body),
                trade_id: Some(required(body.t, event, "t")?),
                price: decimal("p", required(body.p, event, "p")?)?,
                size: decimal("q", required(body.q, event, "q")?)?,
                aggressor: aggressor(required(body.m, event, "m")?),
            };
            (body.X.is_some(), Payload::Trade(trade))
        }
        "aggTrade" => {
            let id = required(body.a.as_ref(), event, "a")?;
            let trade = RawTrade {
                ts_event: exchange_time(body),
                trade_id: Some(
                    id.as_raw_str()
                        .parse()
                        .map_err(|_| format!("aggTrade id {:?} is not an integer", id.as_raw_str()))?,
                ),
                price: decimal("p", required(body.p, event, "p")?)?,
                size: decimal("q", required(body.q, event, "q")?)?,
                aggressor: aggressor(required(body.m, event, "m")?),
            };
            (body.M.is_none(), Payload::AggTrade(trade))
        }
        "markPriceUpdate" => (true, Payload::Mark(mark(body, event)?)),
        "kline" => {
            let candle = required(body.k.as_ref(), event, "k")?;
            if !candle.x {
                return Ok(Frame::Control("kline open"));
            }
            (false, Payload::Bar(bar(candle)?))
        }
        "24hrTicker" | "24hrMiniTicker" => return Ok(Frame::Control("24hr ticker")),
        "forceOrder" => return Ok(Frame::Control("liquidation")),
        other => return Err(format!("unknown Binance event type {other:?}")),
    };
    let symbol = required(body.s, event, "s")?;
    Ok(market(hint, body, symbol, payload.0, payload.1))
}

/// Frames without an event type: REST bodies, spot `bookTicker`, acks.
fn decode_untyped<'s>(
    body: &Body<'s>,
    stream: Option<&'s str>,
    hint: &FrameHint,
    scratch: &'s mut Scratch,
) -> Result<Frame<'s>, String> {
    if let Some(last_update_id) = body.lastUpdateId {
        let Scratch { bids, asks, symbol: owned_symbol, .. } = scratch;
        parse_side(body.bids.as_ref(), "depth snapshot", "bids", bids)?;
        parse_side(body.asks.as_ref(), "depth snapshot", "asks", asks)?;
        let symbol: &'s str = match (body.symbol, &hint.symbol, stream) {
            (Some(symbol), _, _) => symbol,
            (None, Some(symbol), _) => {
                owned_symbol.clear();
                owned_symbol.push_str(symbol);
                owned_symbol.as_str()
            }
            (None, None, Some(stream)) => {
                owned_symbol.clear();
                owned_symbol
                    .extend(stream.split('@').next().unwrap_or_default().chars().map(|c| c.to_ascii_uppercase()));
                owned_symbol.as_str()
            }
            (None, None, None) => {
                return Err("REST depth snapshot without a symbol (neither the body nor the container names it)".into());
            }
        };
        let book = RawBook {
            ts_event: exchange_time(body),
            first_sequence: last_update_id,
            sequence: last_update_id,
            prev_sequence: 0,
            is_snapshot: true,
            bids: bids.as_slice(),
            asks: asks.as_slice(),
        };
        let futures = body.E.is_some() || body.T.is_some();
        return Ok(market(hint, body, symbol, futures, Payload::Book(book)));
    }
    if let Some(symbols) = &body.symbols {
        return Ok(Frame::Instruments(parse_symbols(symbols.as_raw_str().as_bytes(), hint.venue)?));
    }
    if let (Some(symbol), Some(_), Some(_)) = (body.s, body.u, body.B) {
        return Ok(market(hint, body, symbol, false, Payload::Quote(quote(body, "bookTicker")?)));
    }
    if body.id.is_some() {
        return Ok(Frame::Control("subscription ack"));
    }
    if let Some(code) = body.code {
        return Err(format!("Binance error response {code}: {}", body.msg.unwrap_or_default()));
    }
    Err("unrecognized Binance frame: no event type, and not a depth snapshot, bookTicker, ack or exchangeInfo".into())
}

fn market<'s>(hint: &FrameHint, body: &Body<'s>, symbol: &'s str, futures: bool, payload: Payload<'s>) -> Frame<'s> {
    Frame::Market(Decoded { venue: infer_venue(hint, symbol, body.ps.is_some(), futures), symbol, payload })
}

/// The hint's venue, else COIN-M for a `_` symbol or a `ps` pair, USD-M for a frame with a futures
/// marker, spot otherwise.
pub(super) fn infer_venue(hint: &FrameHint, symbol: &str, has_pair: bool, futures: bool) -> Venue {
    hint.venue.unwrap_or(if has_pair || symbol.contains('_') {
        Venue::BinanceCoinm
    } else if futures {
        Venue::BinanceUsdm
    } else {
        Venue::BinanceSpot
    })
}

fn quote(body: &Body<'_>, event: &str) -> Result<RawQuote, String> {
    let bid = required(body.b.as_ref(), event, "b")?;
    let ask = required(body.a.as_ref(), event, "a")?;
    Ok(RawQuote {
        ts_event: exchange_time(body),
        sequence: body.u.unwrap_or(0),
        bid: RawLevel {
            price: parse_quoted_decimal(bid.as_raw_str().as_bytes()).map_err(|e| format!("field b: {e}"))?,
            size: decimal("B", required(body.B, event, "B")?)?,
        },
        ask: RawLevel {
            price: parse_quoted_decimal(ask.as_raw_str().as_bytes()).map_err(|e| format!("field a: {e}"))?,
            size: decimal("A", required(body.A, event, "A")?)?,
        },
    })
}

fn mark(body: &Body<'_>, event: &str) -> Result<RawMark, String> {
    let funding_rate = match body.r {
        Some(rate) if !rate.is_empty() => {
            Some(rate.parse::<f64>().map_err(|_| format!("field r: funding rate {rate:?} is not a number"))?)
        }
        _ => None,
    };
    Ok(RawMark {
        ts_event: body.E.map_or(UnixNanos(0), UnixNanos::from_millis),
        mark_price: decimal("p", required(body.p, event, "p")?)?,
        index_price: body.i.filter(|text| !text.is_empty()).map(|text| decimal("i", text)).transpose()?,
        funding_rate,
        next_funding_time: body.T.filter(|time| *time > 0).map(UnixNanos::from_millis),
    })
}

fn bar(candle: &Kline<'_>) -> Result<RawBar, String> {
    let interval_ns = interval_ns(candle.i)
        .or_else(|| {
            candle
                .i
                .ends_with('M')
                .then(|| candle.T.saturating_add(1).saturating_sub(candle.t).saturating_mul(1_000_000))
        })
        .ok_or_else(|| format!("kline interval {:?} is not understood", candle.i))?;
    let quote_volume = match candle.q {
        Some(text) => text.parse::<f64>().map_err(|_| format!("field k.q: {text:?} is not a number"))?,
        None => 0.0,
    };
    Ok(RawBar {
        ts_event: UnixNanos::from_millis(candle.T),
        open_time: UnixNanos::from_millis(candle.t),
        interval_ns,
        open: decimal("k.o", candle.o)?,
        high: decimal("k.h", candle.h)?,
        low: decimal("k.l", candle.l)?,
        close: decimal("k.c", candle.c)?,
        volume: decimal("k.v", candle.v)?,
        quote_volume,
        trade_count: candle.n,
        taker_buy_volume: candle.V.map(|text| decimal("k.V", text)).transpose()?.unwrap_or(Decimal::ZERO),
    })
}

/// `1s`, `15m`, `4h`, `1d`, `1w` to nanoseconds; months (`1M`) have no fixed length and return `None`.
pub(crate) fn interval_ns(text: &str) -> Option<u64> {
    let unit_at = text.len().checked_sub(1)?;
    let count: u64 = text.get(..unit_at)?.parse().ok()?;
    let unit: u64 = match text.as_bytes().get(unit_at)? {
        b's' => 1_000_000_000,
        b'm' => 60_000_000_000,
        b'h' => 3_600_000_000_000,
        b'd' => 86_400_000_000_000,
        b'w' => 604_800_000_000_000,
        _ => return None,
    };
    count.checked_mul(unit).filter(|ns| *ns > 0)
}

fn parse_side(raw: Option<&LazyValue<'_>>, event: &str, name: &str, out: &mut Vec<RawLevel>) -> Result<(), String> {
    let raw = required(raw, event, name)?;
    parse_levels(raw.as_raw_str().as_bytes(), out).map_err(|error| format!("field {name}: {error}"))
}

fn required<T>(value: Option<T>, event: &str, name: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("{event} without field {name}"))
}

fn exchange_time(body: &Body<'_>) -> UnixNanos {
    body.T.or(body.E).map_or(UnixNanos(0), UnixNanos::from_millis)
}

fn aggressor(buyer_is_maker: bool) -> AggressorSide {
    if buyer_is_maker { AggressorSide::Seller } else { AggressorSide::Buyer }
}

/// `btcusdt@depth5@100ms` / `btcusdt@depth20`: partial-book streams push whole top-N books.
fn is_partial_depth_stream(stream: &str) -> bool {
    stream.split_once("@depth").is_some_and(|(_, rest)| rest.as_bytes().first().is_some_and(u8::is_ascii_digit))
}

fn starts_with_stream_key(frame: &[u8]) -> bool {
    let mut rest = frame.trim_ascii_start();
    let Some(after_brace) = rest.strip_prefix(b"{") else { return false };
    rest = after_brace.trim_ascii_start();
    rest.starts_with(b"\"stream\"")
}

/// The first line of a sonic-rs error (later lines repeat the input around the error).
#[cold]
fn json_error(error: sonic_rs::Error) -> String {
    let text = error.to_string();
    format!("invalid JSON: {}", text.lines().next().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(interval_ns("1m"), Some(60_000_000_000));
        assert_eq!(interval_ns("4h"), Some(4 * 3_600_000_000_000));
        assert_eq!(interval_ns("1d"), Some(86_400_000_000_000));
        assert_eq!(interval_ns("1M"), None);
        assert_eq!(interval_ns("0m"), None);
        assert_eq!(interval_ns(""), None);
        assert_eq!(interval_ns("m"), None);
    }

    #[test]
    fn partial_depth_streams_are_snapshots() {
        assert!(is_partial_depth_stream("btcusdt@depth5@100ms"));
        assert!(is_partial_depth_stream("btcusdt@depth20"));
        assert!(!is_partial_depth_stream("btcusdt@depth@100ms"));
        assert!(!is_partial_depth_stream("btcusdt@depth"));
    }
}
