//! Decoded wire values to fixed-point market events, for one instrument whose precision is known.
//!
//! Used by the recorded-data [`crate::pipeline`] and by the live feeds, so a message is converted the same
//! way whether it was read from a file or from a socket. Nothing is rounded: a value with more decimals than
//! the instrument's precision is an error. The level buffers are reused, so converting allocates nothing once
//! they have grown to the largest message seen.

use ferrotrade_model::{
    Bar, BookUpdate, Decimal, Instrument, Level, MarkPrice, MarketEvent, ModelError, Price, Quantity, Quote, Trade,
    UnixNanos, UpdateHeader,
};

use crate::decoded::{Payload, RawBook, RawLevel, RawTrade};
use crate::error::{Origin, VenueError};

/// Reusable level buffers that converted book messages borrow from.
#[derive(Debug, Default)]
pub struct Converter {
    /// Bid levels of the current book message (the Binance fast path decodes straight into them).
    pub(crate) bids: Vec<Level>,
    /// Ask levels of the current book message.
    pub(crate) asks: Vec<Level>,
}

impl Converter {
    /// A converter whose level buffers hold `levels` a side without growing, their memory written once
    /// (see [`crate::decoded::Scratch::with_levels`]).
    #[must_use]
    pub fn with_levels(levels: usize) -> Converter {
        Converter { bids: crate::decoded::resident(levels), asks: crate::decoded::resident(levels) }
    }

    /// Converts one decoded payload of `instrument`, received at `ts_recv`. A payload without exchange time
    /// takes `ts_recv`. Book messages are returned as they are, before any sync rule.
    ///
    /// # Errors
    /// [`VenueError::Value`] (naming `origin`) when a value has more decimals than the instrument's
    /// precision or does not fit.
    pub fn convert<'s>(
        &'s mut self,
        origin: &Origin,
        instrument: &Instrument,
        ts_recv: UnixNanos,
        payload: &Payload<'_>,
    ) -> Result<MarketEvent<'s>, VenueError> {
        let (price_p, size_p, mark_p) =
            (instrument.price_precision, instrument.size_precision, instrument.mark_precision);
        Ok(match payload {
            Payload::Book(book) => {
                convert_levels(origin, book.bids, &mut self.bids, price_p, size_p)?;
                convert_levels(origin, book.asks, &mut self.asks, price_p, size_p)?;
                MarketEvent::Book(self.book_update(book, ts_recv))
            }
            Payload::Trade(trade) => MarketEvent::Trade(convert_trade(origin, trade, ts_recv, price_p, size_p)?),
            Payload::AggTrade(trade) => MarketEvent::AggTrade(convert_trade(origin, trade, ts_recv, price_p, size_p)?),
            Payload::Quote(quote) => MarketEvent::Quote(Quote {
                ts_event: or_recv(quote.ts_event, ts_recv),
                ts_recv,
                sequence: quote.sequence,
                bid: convert_level(origin, &quote.bid, price_p, size_p)?,
                ask: convert_level(origin, &quote.ask, price_p, size_p)?,
            }),
            Payload::Bar(bar) => MarketEvent::Bar(Bar {
                ts_event: bar.ts_event,
                ts_recv: or_recv(ts_recv, bar.ts_event),
                open_time: bar.open_time,
                interval_ns: bar.interval_ns,
                open: Price(fixed(origin, bar.open, price_p)?),
                high: Price(fixed(origin, bar.high, price_p)?),
                low: Price(fixed(origin, bar.low, price_p)?),
                close: Price(fixed(origin, bar.close, price_p)?),
                volume: Quantity(fixed(origin, bar.volume, size_p)?),
                quote_volume: bar.quote_volume,
                trade_count: bar.trade_count,
                taker_buy_volume: Quantity(fixed(origin, bar.taker_buy_volume, size_p)?),
            }),
            Payload::Mark(mark) => MarketEvent::Mark(MarkPrice {
                ts_event: or_recv(mark.ts_event, ts_recv),
                ts_recv,
                mark_price: Price(fixed(origin, mark.mark_price, mark_p)?),
                index_price: mark.index_price.map(|p| fixed(origin, p, mark_p).map(Price)).transpose()?,
                funding_rate: mark.funding_rate,
                next_funding_time: mark.next_funding_time,
            }),
        })
    }

    /// The update of `book`'s head (its levels ignored) over the converted levels in the buffers.
    pub(crate) fn book_update(&self, book: &RawBook<'_>, ts_recv: UnixNanos) -> BookUpdate<'_> {
        BookUpdate {
            header: UpdateHeader {
                ts_event: or_recv(book.ts_event, ts_recv),
                ts_recv,
                first_sequence: book.first_sequence,
                sequence: book.sequence,
                prev_sequence: book.prev_sequence,
            },
            is_snapshot: book.is_snapshot,
            bids: &self.bids,
            asks: &self.asks,
        }
    }
}

fn fixed(origin: &Origin, value: Decimal, precision: u8) -> Result<i64, VenueError> {
    value.to_fixed(precision).map_err(|source: ModelError| VenueError::Value { origin: origin.clone(), source })
}

fn convert_level(origin: &Origin, level: &RawLevel, price_p: u8, size_p: u8) -> Result<Level, VenueError> {
    Ok(Level { price: Price(fixed(origin, level.price, price_p)?), size: Quantity(fixed(origin, level.size, size_p)?) })
}

fn convert_levels(
    origin: &Origin,
    raw: &[RawLevel],
    out: &mut Vec<Level>,
    price_p: u8,
    size_p: u8,
) -> Result<(), VenueError> {
    out.clear();
    for level in raw {
        out.push(convert_level(origin, level, price_p, size_p)?);
    }
    Ok(())
}

fn convert_trade(
    origin: &Origin,
    trade: &RawTrade,
    ts_recv: UnixNanos,
    price_p: u8,
    size_p: u8,
) -> Result<Trade, VenueError> {
    Ok(Trade {
        ts_event: or_recv(trade.ts_event, ts_recv),
        ts_recv,
        trade_id: trade.trade_id,
        price: Price(fixed(origin, trade.price, price_p)?),
        size: Quantity(fixed(origin, trade.size, size_p)?),
        aggressor: trade.aggressor,
    })
}

fn or_recv(ts_event: UnixNanos, ts_recv: UnixNanos) -> UnixNanos {
    if ts_event.0 == 0 { ts_recv } else { ts_event }
}
