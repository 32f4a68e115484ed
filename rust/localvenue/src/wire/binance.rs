//! Binance JSON: order bodies of the REST API (spot and USD-M) and the user-data events
//! (`executionReport`, `outboundAccountPosition`, `ORDER_TRADE_UPDATE`, `ACCOUNT_UPDATE`).
use ferrotrade_model::{Fill, Instrument, Liquidity, Money, OrderSide, RejectReason, Venue};
use serde_json::{Value, json};

use super::{amount, avg_price};
use crate::exchange::{Account, AccountTrade, Exchange, ExecKind, Execution, OrderRecord};

fn side(side: OrderSide) -> &'static str {
    match side {
        OrderSide::Buy => "BUY",
        OrderSide::Sell => "SELL",
    }
}

fn tif(record: &OrderRecord) -> &'static str {
    if record.spec.post_only && record.spec.wire_type != "LIMIT_MAKER" {
        return "GTX";
    }
    record.spec.time_in_force.as_str()
}

fn price(record: &OrderRecord, instrument: &Instrument) -> String {
    record.spec.price.display(instrument.price_precision).to_string()
}

fn stop(record: &OrderRecord, instrument: &Instrument) -> String {
    record.spec.stop_price.display(instrument.price_precision).to_string()
}

fn qty(value: i64, instrument: &Instrument) -> String {
    ferrotrade_model::Quantity(value).display(instrument.size_precision).to_string()
}

/// A spot order body (`POST`/`GET`/`DELETE /api/v3/order`); `fills` are listed for `FULL` answers.
pub(crate) fn spot_order(record: &OrderRecord, instrument: &Instrument, now_ms: u64, fills: Option<&[Fill]>) -> Value {
    let mut body = json!({
        "symbol": instrument.id.symbol,
        "orderId": record.order_id,
        "orderListId": -1,
        "clientOrderId": record.spec.client_order_id,
        "transactTime": now_ms,
        "price": price(record, instrument),
        "origQty": qty(record.spec.quantity.0, instrument),
        "executedQty": qty(record.filled.0, instrument),
        "origQuoteOrderQty": "0",
        "cummulativeQuoteQty": amount(record.cum_quote),
        "status": record.status.binance(),
        "timeInForce": tif(record),
        "type": record.spec.wire_type,
        "side": side(record.spec.side),
        "stopPrice": stop(record, instrument),
        "time": record.created_ms,
        "updateTime": record.updated_ms,
        "isWorking": record.status.is_open(),
        "workingTime": record.created_ms,
        "selfTradePreventionMode": "NONE",
    });
    if let (Some(fills), Some(object)) = (fills, body.as_object_mut()) {
        let (_, quote) = crate::capture::split_symbol(&instrument.id.symbol);
        let list: Vec<Value> = fills
            .iter()
            .map(|fill| {
                json!({
                    "price": fill.price.display(instrument.price_precision).to_string(),
                    "qty": fill.quantity.display(instrument.size_precision).to_string(),
                    "commission": amount(fill.fee),
                    "commissionAsset": quote,
                    "tradeId": fill.trade_id,
                })
            })
            .collect();
        object.insert("fills".into(), Value::Array(list));
    }
    body
}

/// One item of spot `GET /api/v3/myTrades` or USD-M `GET /fapi/v1/userTrades` (fees are charged in the
/// quote asset, as everywhere in the local venue).
pub(crate) fn account_trade(venue: Venue, trade: &AccountTrade, instrument: &Instrument) -> Value {
    let (_, quote) = crate::capture::split_symbol(&instrument.id.symbol);
    let fill = &trade.fill;
    let quote_qty = ferrotrade_oms::contract_value(instrument, fill.price, instrument.price_precision, fill.quantity);
    let maker = fill.liquidity == Liquidity::Maker;
    let buyer = fill.side == OrderSide::Buy;
    let mut body = json!({
        "symbol": instrument.id.symbol,
        "id": fill.trade_id,
        "orderId": trade.order_id,
        "price": fill.price.display(instrument.price_precision).to_string(),
        "qty": fill.quantity.display(instrument.size_precision).to_string(),
        "quoteQty": amount(quote_qty),
        "commission": amount(fill.fee),
        "commissionAsset": quote,
        "time": trade.ts_ms,
    });
    if let Some(object) = body.as_object_mut() {
        let extra = if venue == Venue::BinanceSpot {
            json!({"orderListId": -1, "isBuyer": buyer, "isMaker": maker, "isBestMatch": true})
        } else {
            json!({
                "realizedPnl": amount(trade.realized), "side": side(fill.side), "positionSide": "BOTH",
                "buyer": buyer, "maker": maker, "marginAsset": quote,
            })
        };
        if let Value::Object(extra) = extra {
            object.extend(extra);
        }
    }
    body
}

/// A USD-M order body (every `/fapi/v1/order` method).
pub(crate) fn usdm_order(record: &OrderRecord, instrument: &Instrument) -> Value {
    json!({
        "clientOrderId": record.spec.client_order_id,
        "cumQty": qty(record.filled.0, instrument),
        "cumQuote": amount(record.cum_quote),
        "executedQty": qty(record.filled.0, instrument),
        "orderId": record.order_id,
        "avgPrice": avg_price(record, instrument),
        "origQty": qty(record.spec.quantity.0, instrument),
        "price": price(record, instrument),
        "reduceOnly": record.spec.reduce_only,
        "side": side(record.spec.side),
        "positionSide": "BOTH",
        "status": record.status.binance(),
        "stopPrice": stop(record, instrument),
        "closePosition": false,
        "symbol": instrument.id.symbol,
        "timeInForce": tif(record),
        "type": record.spec.wire_type,
        "origType": record.spec.wire_type,
        "time": record.created_ms,
        "updateTime": record.updated_ms,
        "workingType": "CONTRACT_PRICE",
        "priceProtect": false,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
    })
}

/// `(HTTP 400 code, message)` of an order the matching engine refused.
pub(crate) fn reject(venue: Venue, reason: RejectReason) -> (i64, &'static str) {
    match (reason, venue) {
        (RejectReason::InvalidTickSize | RejectReason::InvalidPrice, _) => (-1013, "Filter failure: PRICE_FILTER"),
        (RejectReason::InvalidLotSize, _) => (-1013, "Filter failure: LOT_SIZE"),
        (RejectReason::MinNotional, Venue::BinanceUsdm) => (-1013, "Filter failure: MIN_NOTIONAL"),
        (RejectReason::MinNotional, _) => (-1013, "Filter failure: NOTIONAL"),
        (RejectReason::PostOnlyWouldTake, Venue::BinanceUsdm) => (
            -5022,
            "Due to the order could not be executed as maker, the Post Only order will be rejected. The order will \
             not be recorded in the order history",
        ),
        (RejectReason::PostOnlyWouldTake, _) => (-2010, "Order would immediately match and take."),
        (RejectReason::ReduceOnlyWouldIncrease, _) => (-2022, "ReduceOnly Order is rejected."),
        (RejectReason::WouldTriggerImmediately, Venue::BinanceUsdm) => (-2021, "Order would immediately trigger."),
        (RejectReason::WouldTriggerImmediately, _) => (-2010, "Stop price would trigger immediately."),
        (RejectReason::NoLiquidity, _) => (-2010, "Market order rejected: the book has no liquidity."),
        _ => (-2010, "New order rejected."),
    }
}

/// `x` (execution type) of an execution.
fn execution_type(kind: &ExecKind) -> &'static str {
    match kind {
        ExecKind::New => "NEW",
        ExecKind::Trade(_) => "TRADE",
        ExecKind::Canceled => "CANCELED",
        ExecKind::Expired => "EXPIRED",
        ExecKind::Replaced => "AMENDMENT",
        ExecKind::Triggered => "NEW",
    }
}

/// The spot `executionReport` of one execution.
pub(crate) fn execution_report(execution: &Execution, instrument: &Instrument) -> Value {
    let record = &execution.order;
    let fill = match &execution.kind {
        ExecKind::Trade(fill) => Some(fill),
        _ => None,
    };
    let (_, quote) = crate::capture::split_symbol(&instrument.id.symbol);
    json!({
        "e": "executionReport",
        "E": execution.ts_ms,
        "s": instrument.id.symbol,
        "c": record.spec.client_order_id,
        "S": side(record.spec.side),
        "o": record.spec.wire_type,
        "f": tif(record),
        "q": qty(record.spec.quantity.0, instrument),
        "p": price(record, instrument),
        "P": stop(record, instrument),
        "F": "0",
        "g": -1,
        "C": "",
        "x": execution_type(&execution.kind),
        "X": record.status.binance(),
        "r": "NONE",
        "i": record.order_id,
        "l": qty(fill.map_or(0, |f| f.quantity.0), instrument),
        "z": qty(record.filled.0, instrument),
        "L": fill.map_or_else(|| price_zero(instrument), |f| f.price.display(instrument.price_precision).to_string()),
        "n": fill.map_or_else(|| "0".to_owned(), |f| amount(f.fee)),
        "N": fill.map(|_| quote),
        "T": execution.ts_ms,
        "t": fill.map_or(-1, |f| i64::try_from(f.trade_id).unwrap_or(-1)),
        "I": execution.ts_ms,
        "w": record.status.is_open(),
        "m": fill.is_some_and(|f| f.liquidity == Liquidity::Maker),
        "M": false,
        "O": record.created_ms,
        "Z": amount(record.cum_quote),
        "Y": fill.map_or_else(|| "0".to_owned(), |f| {
            amount(ferrotrade_oms::contract_value(instrument, f.price, instrument.price_precision, f.quantity))
        }),
        "Q": "0",
        "W": record.created_ms,
        "V": "NONE",
    })
}

fn price_zero(instrument: &Instrument) -> String {
    ferrotrade_model::Price(0).display(instrument.price_precision).to_string()
}

/// The spot `outboundAccountPosition` of `account` with the balances of `assets`.
pub(crate) fn account_position(exchange: &Exchange, account: usize, assets: &[String], now_ms: u64) -> Value {
    let balances: Vec<Value> = assets
        .iter()
        .map(|asset| {
            json!({"a": asset, "f": amount(exchange.free(account, asset)), "l": amount(exchange.locked(account, asset))})
        })
        .collect();
    json!({"e": "outboundAccountPosition", "E": now_ms, "u": now_ms, "B": balances})
}

/// The USD-M `ORDER_TRADE_UPDATE` of one execution.
pub(crate) fn order_trade_update(execution: &Execution, instrument: &Instrument) -> Value {
    let record = &execution.order;
    let fill = match &execution.kind {
        ExecKind::Trade(fill) => Some(fill),
        _ => None,
    };
    let (_, quote) = crate::capture::split_symbol(&instrument.id.symbol);
    json!({
        "e": "ORDER_TRADE_UPDATE",
        "E": execution.ts_ms,
        "T": execution.ts_ms,
        "o": {
            "s": instrument.id.symbol,
            "c": record.spec.client_order_id,
            "S": side(record.spec.side),
            "o": record.spec.wire_type,
            "f": tif(record),
            "q": qty(record.spec.quantity.0, instrument),
            "p": price(record, instrument),
            "ap": avg_price(record, instrument),
            "sp": stop(record, instrument),
            "x": execution_type(&execution.kind),
            "X": record.status.binance(),
            "i": record.order_id,
            "l": qty(fill.map_or(0, |f| f.quantity.0), instrument),
            "z": qty(record.filled.0, instrument),
            "L": fill.map_or_else(|| price_zero(instrument), |f| f.price.display(instrument.price_precision).to_string()),
            "N": quote,
            "n": fill.map_or_else(|| "0".to_owned(), |f| amount(f.fee)),
            "T": execution.ts_ms,
            "t": fill.map_or(0, |f| f.trade_id),
            "b": "0",
            "a": "0",
            "m": fill.is_some_and(|f| f.liquidity == Liquidity::Maker),
            "R": record.spec.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": record.spec.wire_type,
            "ps": "BOTH",
            "cp": false,
            "rp": amount(execution.realized),
            "pP": false,
            "si": 0,
            "ss": 0,
            "V": "NONE",
            "pm": "NONE",
            "gtd": 0,
        }
    })
}

/// The USD-M `ACCOUNT_UPDATE` after a fill of `instrument` (index `index`).
pub(crate) fn account_update(account: &Account, instrument: &Instrument, index: usize, now_ms: u64) -> Value {
    let (_, quote) = crate::capture::split_symbol(&instrument.id.symbol);
    let position = account.positions.get(&index);
    let size = position.map_or(0, |p| p.quantity.0);
    let entry = position.and_then(|p| p.avg_price_f64(instrument)).unwrap_or(0.0);
    let realized = position.map_or(Money::ZERO, |p| p.realized_pnl);
    json!({
        "e": "ACCOUNT_UPDATE",
        "E": now_ms,
        "T": now_ms,
        "a": {
            "m": "ORDER",
            "B": [{"a": quote, "wb": amount(account.wallet(&quote)), "cw": amount(account.wallet(&quote)), "bc": "0"}],
            "P": [{
                "s": instrument.id.symbol,
                "pa": qty(size, instrument),
                "ep": format!("{entry:.prec$}", prec = usize::from(instrument.price_precision)),
                "bep": "0",
                "cr": amount(realized),
                "up": "0",
                "mt": "cross",
                "iw": "0",
                "ps": "BOTH",
            }],
        }
    })
}
