//! Binance trade lists: recent trades (spot `GET /api/v3/trades`, USD-M `GET /fapi/v1/trades`; public,
//! `symbol` and `limit` up to 1000) and the old trades lookup (`.../historicalTrades`, the same with
//! `fromId`; it needs the API key in `X-MBX-APIKEY`, no signature): the REST lists a live feed fills a gap
//! in the `@trade` stream from.
//!
//! # Why
//! Trade ids of one symbol are consecutive on both markets, so a lost or late `trade` message shows as a
//! jump in `t`. The stream never repeats a message; the venue's list of its most recent trades does
//! hold it, with the same id, price, size and maker flag, so the gap can be filled exactly while it is
//! recent (within the last `limit` trades of the symbol).
//!
//! # Fields
//! | field | meaning | stream equivalent |
//! |---|---|---|
//! | `id` | trade id | `t` |
//! | `price`, `qty` | exact decimals | `p`, `q` |
//! | `time` | trade time, ms | `T` |
//! | `isBuyerMaker` | the buyer was the maker (a sell took liquidity) | `m` |
//!
//! Weight (per request, whatever `limit`): recent trades spot 25, USD-M 5; old trades lookup spot 25,
//! USD-M 20. Both answer with the same list shape.

use ferrotrade_model::{AggressorSide, Decimal, UnixNanos, Venue};
use serde::Deserialize;

use crate::decoded::RawTrade;

/// The most trades one request lists.
pub const RECENT_TRADES_LIMIT: u32 = 1000;

/// The path of the recent-trades list of `venue` (`None` for a venue without one here).
#[must_use]
pub fn recent_trades_path(venue: Venue) -> Option<&'static str> {
    match venue {
        Venue::BinanceSpot => Some("/api/v3/trades"),
        Venue::BinanceUsdm => Some("/fapi/v1/trades"),
        _ => None,
    }
}

/// The request weight of one recent-trades request on `venue`.
#[must_use]
pub fn recent_trades_weight(venue: Venue) -> u32 {
    if venue == Venue::BinanceSpot { 25 } else { 5 }
}

/// The path of the old trades lookup of `venue` (`fromId`, API key header), `None` for other venues.
#[must_use]
pub fn historical_trades_path(venue: Venue) -> Option<&'static str> {
    match venue {
        Venue::BinanceSpot => Some("/api/v3/historicalTrades"),
        Venue::BinanceUsdm => Some("/fapi/v1/historicalTrades"),
        _ => None,
    }
}

/// The request weight of one old-trades lookup on `venue`.
#[must_use]
pub fn historical_trades_weight(venue: Venue) -> u32 {
    if venue == Venue::BinanceSpot { 25 } else { 20 }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTrade<'a> {
    id: u64,
    #[serde(borrow)]
    price: &'a str,
    #[serde(borrow)]
    qty: &'a str,
    time: u64,
    is_buyer_maker: bool,
}

/// Parses a recent-trades (or old-trades lookup) answer into `out` (cleared first), in trade-id order.
///
/// # Errors
/// A description of the problem for a body that is not a list of trades, or a price or size that is not
/// a decimal.
pub fn parse_recent_trades(body: &[u8], out: &mut Vec<RawTrade>) -> Result<(), String> {
    out.clear();
    let trades: Vec<WireTrade<'_>> = sonic_rs::from_slice(body).map_err(|error| format!("recent trades: {error}"))?;
    for trade in trades {
        let decimal =
            |text: &str| Decimal::parse_str(text).map_err(|error| format!("recent trade {}: {error}", trade.id));
        out.push(RawTrade {
            ts_event: UnixNanos::from_millis(trade.time),
            trade_id: Some(trade.id),
            price: decimal(trade.price)?,
            size: decimal(trade.qty)?,
            aggressor: if trade.is_buyer_maker { AggressorSide::Seller } else { AggressorSide::Buyer },
        });
    }
    out.sort_by_key(|trade| trade.trade_id);
    Ok(())
}
