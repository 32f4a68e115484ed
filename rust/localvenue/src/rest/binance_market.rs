//! Binance public endpoints: `ping`, `time`, `exchangeInfo`, `depth` and `trades` (recent trades), for
//! spot (`/api/v3`) and USD-M (`/fapi/v1`).
//!
//! `trades` lists the most recent replayed trades of a symbol (at most 1000, oldest first, as the venues
//! do), each as it was sent on the `@trade` stream: a client can fill a gap in that stream from it.
//! `historicalTrades` (the old trades lookup) lists them from `fromId` on, for a request carrying a known
//! API key in `X-MBX-APIKEY` (no signature), as the venues ask; the replay remembers the last 200 000
//! trades of each symbol.
//!
//! `depth` answers from the server's replayed book: the capture's REST snapshot plus every diff
//! replayed so far, `lastUpdateId` being the `u` of the last one. Before the capture's snapshot has
//! been replayed the book is not known; the request then waits for it (up to [`SYNC_WAIT`]), as a
//! client would see a slow venue, and fails with `-1001` if it never comes.
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use ferrotrade_model::{BookSide, Instrument, Venue};
use serde_json::{Value, json};

use super::params::Params;
use super::{binance_error, json_response};
use crate::capture::{lot_decimal, split_symbol, tick_decimal};
use crate::clock::wall_ms;
use crate::state::{Shared, lock};

/// How long a depth request waits for the replayed book to be synced.
pub(crate) const SYNC_WAIT: Duration = Duration::from_secs(10);

/// `GET .../time`.
pub(crate) fn time() -> Response {
    json_response(StatusCode::OK, &json!({"serverTime": wall_ms()}))
}

/// `GET .../exchangeInfo` (optionally `symbol=`): the replayed instruments of `venue`.
pub(crate) fn exchange_info(shared: &Shared, venue: Venue, params: &Params) -> Response {
    let wanted = params.non_empty("symbol");
    let symbols: Vec<Value> = shared
        .instruments
        .iter()
        .filter(|i| i.id.venue == venue && wanted.is_none_or(|w| w.eq_ignore_ascii_case(&i.id.symbol)))
        .map(|i| symbol_info(i, venue))
        .collect();
    if wanted.is_some() && symbols.is_empty() {
        return binance_error(StatusCode::BAD_REQUEST, -1121, "Invalid symbol.");
    }
    let limits = &shared.config.limits;
    json_response(
        StatusCode::OK,
        &json!({
            "timezone": "UTC",
            "serverTime": wall_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                 "limit": limits.binance_weight_per_minute},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
            ],
            "exchangeFilters": [],
            "symbols": symbols,
        }),
    )
}

fn symbol_info(instrument: &Instrument, venue: Venue) -> Value {
    let (base, quote) = split_symbol(&instrument.id.symbol);
    let tick = tick_decimal(instrument).to_string();
    let lot = lot_decimal(instrument).to_string();
    let notional = instrument.min_notional.map_or_else(|| "0".to_owned(), |n| n.to_string());
    if venue == Venue::BinanceUsdm {
        json!({
            "symbol": instrument.id.symbol, "pair": instrument.id.symbol, "contractType": "PERPETUAL",
            "status": "TRADING", "baseAsset": base, "quoteAsset": quote, "marginAsset": quote,
            "pricePrecision": instrument.price_precision, "quantityPrecision": instrument.size_precision,
            "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "10000000", "tickSize": tick},
                {"filterType": "LOT_SIZE", "minQty": lot, "maxQty": "100000", "stepSize": lot},
                {"filterType": "MARKET_LOT_SIZE", "minQty": lot, "maxQty": "100000", "stepSize": lot},
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": notional},
            ],
            "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        })
    } else {
        json!({
            "symbol": instrument.id.symbol, "status": "TRADING", "baseAsset": base,
            "baseAssetPrecision": instrument.size_precision, "quoteAsset": quote,
            "quotePrecision": instrument.price_precision, "quoteAssetPrecision": instrument.price_precision,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT"],
            "icebergAllowed": false, "ocoAllowed": false, "isSpotTradingAllowed": true,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "10000000", "tickSize": tick},
                {"filterType": "LOT_SIZE", "minQty": lot, "maxQty": "100000", "stepSize": lot},
                {"filterType": "NOTIONAL", "minNotional": notional, "applyMinToMarket": true},
            ],
            "permissions": ["SPOT"],
        })
    }
}

/// `GET .../depth?symbol=&limit=`.
pub(crate) async fn depth(shared: &Shared, venue: Venue, params: &Params) -> Response {
    let Some(symbol) = params.non_empty("symbol") else {
        return binance_error(
            StatusCode::BAD_REQUEST,
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        );
    };
    let Some(index) = shared.instrument(venue, symbol) else {
        return binance_error(StatusCode::BAD_REQUEST, -1121, "Invalid symbol.");
    };
    let (default, max) = if venue == Venue::BinanceUsdm { (500, 1000) } else { (100, 5000) };
    let limit = match params.non_empty("limit").map(str::parse::<usize>) {
        None => default,
        Some(Ok(limit)) if limit > 0 => limit.min(max),
        Some(_) => {
            return binance_error(StatusCode::BAD_REQUEST, -1100, "Illegal characters found in parameter 'limit'.");
        }
    };
    let mut progress = shared.progress.subscribe();
    let deadline = tokio::time::Instant::now() + SYNC_WAIT;
    loop {
        if let Some(body) = book_body(shared, venue, index, limit) {
            return json_response(StatusCode::OK, &body);
        }
        if tokio::time::timeout_at(deadline, progress.changed()).await.is_err() {
            return binance_error(
                StatusCode::SERVICE_UNAVAILABLE,
                -1001,
                "Internal error; unable to process your request. Please try again.",
            );
        }
    }
}

/// `GET .../trades?symbol=&limit=` (default 500, at most 1000), or with `from_id` the old trades lookup
/// (`historicalTrades?fromId=`): the trades from that id on.
pub(crate) fn recent_trades(shared: &Shared, venue: Venue, params: &Params, from_id: Option<u64>) -> Response {
    let Some(symbol) = params.non_empty("symbol") else {
        return binance_error(
            StatusCode::BAD_REQUEST,
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        );
    };
    let Some(index) = shared.instrument(venue, symbol) else {
        return binance_error(StatusCode::BAD_REQUEST, -1121, "Invalid symbol.");
    };
    let limit = match params.non_empty("limit").map(str::parse::<usize>) {
        None => 500,
        Some(Ok(limit)) if limit > 0 => limit.min(crate::exchange::RECENT_TRADES),
        Some(_) => {
            return binance_error(StatusCode::BAD_REQUEST, -1100, "Illegal characters found in parameter 'limit'.");
        }
    };
    let exchange = lock(&shared.exchange);
    let (Some(market), Some(instrument)) = (exchange.markets.get(index), shared.instruments.get(index)) else {
        return binance_error(StatusCode::BAD_REQUEST, -1121, "Invalid symbol.");
    };
    let first = match from_id {
        Some(from) => market.recent_trades.partition_point(|trade| trade.trade_id.is_some_and(|id| id < from)),
        None => market.recent_trades.len().saturating_sub(limit),
    };
    let list: Vec<Value> = market
        .recent_trades
        .iter()
        .skip(first)
        .take(limit)
        .map(|trade| {
            let notional =
                ferrotrade_oms::contract_value(instrument, trade.price, instrument.price_precision, trade.size);
            let mut item = json!({
                "id": trade.trade_id.unwrap_or(0),
                "price": trade.price.display(instrument.price_precision).to_string(),
                "qty": trade.size.display(instrument.size_precision).to_string(),
                "quoteQty": crate::wire::amount(notional),
                "time": trade.ts_event.0 / 1_000_000,
                "isBuyerMaker": trade.aggressor == ferrotrade_model::AggressorSide::Seller,
            });
            if venue == Venue::BinanceSpot
                && let Some(object) = item.as_object_mut()
            {
                object.insert("isBestMatch".into(), Value::Bool(true));
            }
            item
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

/// The depth body of a synced book, `None` while it is not.
fn book_body(shared: &Shared, venue: Venue, index: usize, limit: usize) -> Option<Value> {
    let exchange = lock(&shared.exchange);
    let market = exchange.markets.get(index).filter(|m| m.is_synced())?;
    let instrument = shared.instruments.get(index)?;
    let book = market.template.book();
    let side = |side: BookSide| -> Vec<[String; 2]> {
        book.depth(side, limit)
            .map(|level| {
                [
                    level.price.display(instrument.price_precision).to_string(),
                    level.size.display(instrument.size_precision).to_string(),
                ]
            })
            .collect()
    };
    let (bids, asks) = (side(BookSide::Bid), side(BookSide::Ask));
    Some(if venue == Venue::BinanceUsdm {
        json!({
            "lastUpdateId": market.last_update_id,
            "E": wall_ms(),
            "T": market.last_book_ts.0 / 1_000_000,
            "bids": bids,
            "asks": asks,
        })
    } else {
        json!({"lastUpdateId": market.last_update_id, "bids": bids, "asks": asks})
    })
}
