//! The market topics of Bybit v5: order book, public trades, tickers and candles.
//!
//! Every function gets the raw JSON text of one `data` value (borrowed from the frame) and returns
//! messages that borrow from it; levels go to the reusable [`Scratch`] buffers.

use ferrotrade_model::{AggressorSide, Decimal, UnixNanos, Venue};
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use sonic_rs::LazyValue;

use super::borrowed;
use crate::decoded::{Decoded, Payload, RawBar, RawBook, RawLevel, RawMark, RawQuote, RawTrade, Scratch};
use crate::source::Frame;

#[derive(Deserialize)]
struct BookData<'a> {
    #[serde(borrow)]
    s: &'a str,
    #[serde(borrow)]
    b: LazyValue<'a>,
    #[serde(borrow)]
    a: LazyValue<'a>,
    u: u64,
}

/// An `orderbook.N.SYM` message; `ts` is the envelope's `ts` in ms.
pub(super) fn book<'s>(
    venue: Venue,
    ts: u64,
    is_snapshot: bool,
    data: &'s str,
    scratch: &'s mut Scratch,
) -> Result<Decoded<'s>, String> {
    let book: BookData<'s> = sonic_rs::from_str(data).map_err(|e| format!("orderbook data: {e}"))?;
    scratch.clear_levels();
    parse_levels(borrowed(&book.b)?, &mut scratch.bids).map_err(|e| format!("orderbook bids: {e}"))?;
    parse_levels(borrowed(&book.a)?, &mut scratch.asks).map_err(|e| format!("orderbook asks: {e}"))?;
    Ok(Decoded {
        venue,
        symbol: book.s,
        payload: Payload::Book(RawBook {
            ts_event: UnixNanos::from_millis(ts),
            first_sequence: book.u,
            sequence: book.u,
            prev_sequence: 0,
            is_snapshot,
            bids: &scratch.bids,
            asks: &scratch.asks,
        }),
    })
}

/// Parses `[["price","size"], ...]` into `out`, without allocating beyond `out`'s growth.
pub(crate) fn parse_levels(raw: &str, out: &mut Vec<RawLevel>) -> Result<(), String> {
    let mut deserializer = sonic_rs::Deserializer::from_str(raw);
    LevelsSeed(out).deserialize(&mut deserializer).map_err(|e| e.to_string())?;
    deserializer.end().map_err(|e| e.to_string())
}

struct LevelsSeed<'v>(&'v mut Vec<RawLevel>);

impl<'de> DeserializeSeed<'de> for LevelsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LevelsSeed<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an array of [price, size] string pairs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some((price, size)) = seq.next_element::<(&'de str, &'de str)>()? {
            let price = Decimal::parse_str(price).map_err(de::Error::custom)?;
            let size = Decimal::parse_str(size).map_err(de::Error::custom)?;
            self.0.push(RawLevel { price, size });
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[allow(non_snake_case)] // Bybit's one-letter keys, `S` (side) next to `s` (symbol).
struct TradeItem<'a> {
    T: u64,
    #[serde(borrow)]
    s: &'a str,
    #[serde(borrow)]
    S: &'a str,
    #[serde(borrow)]
    v: &'a str,
    #[serde(borrow)]
    p: &'a str,
    #[serde(borrow)]
    i: &'a str,
}

/// One element of a `publicTrade` `data` array.
pub(super) fn trade(venue: Venue, item: &str) -> Result<Decoded<'_>, String> {
    let trade: TradeItem<'_> = sonic_rs::from_str(item).map_err(|e| format!("publicTrade item: {e}"))?;
    let aggressor = match trade.S {
        "Buy" => AggressorSide::Buyer,
        "Sell" => AggressorSide::Seller,
        other => return Err(format!("publicTrade: unknown side {other:?}")),
    };
    Ok(Decoded {
        venue,
        symbol: trade.s,
        payload: Payload::Trade(RawTrade {
            ts_event: UnixNanos::from_millis(trade.T),
            // Linear/inverse ids are UUIDs (opaque); spot ids have been numeric.
            trade_id: trade.i.parse::<u64>().ok(),
            price: decimal("publicTrade p", trade.p)?,
            size: decimal("publicTrade v", trade.v)?,
            aggressor,
        }),
    })
}

#[derive(Deserialize)]
struct TickerData<'a> {
    #[serde(borrow)]
    symbol: &'a str,
    #[serde(rename = "bid1Price", borrow, default)]
    bid_price: Option<&'a str>,
    #[serde(rename = "bid1Size", borrow, default)]
    bid_size: Option<&'a str>,
    #[serde(rename = "ask1Price", borrow, default)]
    ask_price: Option<&'a str>,
    #[serde(rename = "ask1Size", borrow, default)]
    ask_size: Option<&'a str>,
    #[serde(rename = "markPrice", borrow, default)]
    mark_price: Option<&'a str>,
    #[serde(rename = "indexPrice", borrow, default)]
    index_price: Option<&'a str>,
    #[serde(rename = "fundingRate", borrow, default)]
    funding_rate: Option<&'a str>,
    #[serde(rename = "nextFundingTime", borrow, default)]
    next_funding_time: Option<&'a str>,
}

/// A `tickers.SYM` message: the quote and the mark it carries completely (see the module docs).
pub(super) fn ticker(venue: Venue, ts: u64, data: &str) -> Result<[Option<Decoded<'_>>; 2], String> {
    let ticker: TickerData<'_> = sonic_rs::from_str(data).map_err(|e| format!("tickers data: {e}"))?;
    let ts_event = UnixNanos::from_millis(ts);
    let quote = match (
        present(ticker.bid_price),
        present(ticker.bid_size),
        present(ticker.ask_price),
        present(ticker.ask_size),
    ) {
        (Some(bid_price), Some(bid_size), Some(ask_price), Some(ask_size)) => Some(Decoded {
            venue,
            symbol: ticker.symbol,
            payload: Payload::Quote(RawQuote {
                ts_event,
                sequence: 0,
                bid: RawLevel { price: decimal("bid1Price", bid_price)?, size: decimal("bid1Size", bid_size)? },
                ask: RawLevel { price: decimal("ask1Price", ask_price)?, size: decimal("ask1Size", ask_size)? },
            }),
        }),
        _ => None,
    };
    let mark = match present(ticker.mark_price) {
        Some(mark_price) => Some(Decoded {
            venue,
            symbol: ticker.symbol,
            payload: Payload::Mark(RawMark {
                ts_event,
                mark_price: decimal("markPrice", mark_price)?,
                index_price: present(ticker.index_price).map(|text| decimal("indexPrice", text)).transpose()?,
                funding_rate: present(ticker.funding_rate)
                    .map(|text| text.parse::<f64>().map_err(|e| format!("fundingRate {text:?}: {e}")))
                    .transpose()?,
                next_funding_time: present(ticker.next_funding_time)
                    .map(|text| {
                        text.parse::<u64>()
                            .map(UnixNanos::from_millis)
                            .map_err(|e| format!("nextFundingTime {text:?}: {e}"))
                    })
                    .transpose()?,
            }),
        }),
        None => None,
    };
    Ok([quote, mark])
}

#[derive(Deserialize)]
struct KlineItem<'a> {
    start: u64,
    end: u64,
    #[serde(borrow)]
    open: &'a str,
    #[serde(borrow)]
    close: &'a str,
    #[serde(borrow)]
    high: &'a str,
    #[serde(borrow)]
    low: &'a str,
    #[serde(borrow)]
    volume: &'a str,
    #[serde(borrow)]
    turnover: &'a str,
    confirm: bool,
}

/// One element of a `kline.INTERVAL.SYM` `data` array: a bar when confirmed (closed).
///
/// `ts_event` is `end`, the inclusive last millisecond of the bar (as Binance's `close_time`).
pub(super) fn kline<'s>(venue: Venue, topic: &'s str, item: &'s str) -> Result<Frame<'s>, String> {
    let kline: KlineItem<'s> = sonic_rs::from_str(item).map_err(|e| format!("kline item: {e}"))?;
    if !kline.confirm {
        return Ok(Frame::Control("bybit kline (unconfirmed)"));
    }
    let symbol = topic.rsplit('.').next().filter(|s| !s.is_empty()).ok_or_else(|| format!("{topic}: no symbol"))?;
    if kline.end < kline.start {
        return Err(format!("{topic}: end {} before start {}", kline.end, kline.start));
    }
    Ok(Frame::Market(Decoded {
        venue,
        symbol,
        payload: Payload::Bar(RawBar {
            ts_event: UnixNanos::from_millis(kline.end),
            open_time: UnixNanos::from_millis(kline.start),
            interval_ns: (kline.end - kline.start + 1).saturating_mul(1_000_000),
            open: decimal("kline open", kline.open)?,
            high: decimal("kline high", kline.high)?,
            low: decimal("kline low", kline.low)?,
            close: decimal("kline close", kline.close)?,
            volume: decimal("kline volume", kline.volume)?,
            quote_volume: kline.turnover.parse::<f64>().map_err(|e| format!("kline turnover: {e}"))?,
            trade_count: 0,
            taker_buy_volume: Decimal::ZERO,
        }),
    }))
}

fn present(value: Option<&str>) -> Option<&str> {
    value.filter(|text| !text.is_empty())
}

fn decimal(field: &str, text: &str) -> Result<Decimal, String> {
    Decimal::parse_str(text).map_err(|e| format!("{field}: {e}"))
}
