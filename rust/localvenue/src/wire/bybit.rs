//! Bybit v5 JSON: order entries (`/v5/order/realtime` list items and the private `order` topic share
//! them), `execution`, `position` and `wallet` items, and the response envelope.
use ferrotrade_model::{Instrument, Liquidity, Money, OrderSide, OrderType, Venue};
use serde_json::{Value, json};

use super::{amount, avg_price};
use crate::exchange::{Account, ExecKind, Execution, OrderRecord};

/// `linear` or `spot`.
pub(crate) fn category(venue: Venue) -> &'static str {
    if venue == Venue::BybitSpot { "spot" } else { "linear" }
}

fn side(side: OrderSide) -> &'static str {
    match side {
        OrderSide::Buy => "Buy",
        OrderSide::Sell => "Sell",
    }
}

fn order_type(record: &OrderRecord) -> &'static str {
    match record.spec.order_type {
        OrderType::Market | OrderType::StopMarket => "Market",
        OrderType::Limit | OrderType::StopLimit => "Limit",
    }
}

fn tif(record: &OrderRecord) -> &'static str {
    if record.spec.post_only {
        return "PostOnly";
    }
    record.spec.time_in_force.as_str()
}

fn qty(value: i64, instrument: &Instrument) -> String {
    ferrotrade_model::Quantity(value).display(instrument.size_precision).to_string()
}

fn price(value: i64, instrument: &Instrument) -> String {
    ferrotrade_model::Price(value).display(instrument.price_precision).to_string()
}

/// One order as `/v5/order/realtime` and the `order` topic list it.
pub(crate) fn order(record: &OrderRecord, instrument: &Instrument) -> Value {
    let stop = record.spec.stop_price.0 > 0;
    json!({
        "category": category(instrument.id.venue),
        "symbol": instrument.id.symbol,
        "orderId": record.order_id.to_string(),
        "orderLinkId": record.spec.client_order_id,
        "side": side(record.spec.side),
        "orderType": order_type(record),
        "price": price(record.spec.price.0, instrument),
        "qty": qty(record.spec.quantity.0, instrument),
        "timeInForce": tif(record),
        "orderStatus": record.status.bybit(),
        "cancelType": "UNKNOWN",
        "rejectReason": record.venue_reason.unwrap_or("EC_NoError"),
        "avgPrice": if record.filled.0 > 0 { avg_price(record, instrument) } else { String::new() },
        "leavesQty": qty(record.leaves().0, instrument),
        "leavesValue": "0",
        "cumExecQty": qty(record.filled.0, instrument),
        "cumExecValue": amount(record.cum_quote),
        "cumExecFee": amount(record.fees),
        "reduceOnly": record.spec.reduce_only,
        "closeOnTrigger": false,
        "positionIdx": 0,
        "triggerPrice": if stop { price(record.spec.stop_price.0, instrument) } else { String::new() },
        "triggerBy": if stop { "LastPrice" } else { "" },
        "stopOrderType": if stop { "Stop" } else { "" },
        "createdTime": record.created_ms.to_string(),
        "updatedTime": record.updated_ms.to_string(),
        "smpType": "None",
        "feeCurrency": "",
    })
}

/// The `execution` topic item of a fill, `None` for other executions.
pub(crate) fn execution(execution: &Execution, instrument: &Instrument) -> Option<Value> {
    let ExecKind::Trade(fill) = &execution.kind else { return None };
    let record = &execution.order;
    let value = ferrotrade_oms::contract_value(instrument, fill.price, instrument.price_precision, fill.quantity);
    Some(json!({
        "category": category(instrument.id.venue),
        "symbol": instrument.id.symbol,
        "execFee": amount(fill.fee),
        "execId": fill.trade_id.to_string(),
        "execPrice": price(fill.price.0, instrument),
        "execQty": qty(fill.quantity.0, instrument),
        "execType": "Trade",
        "execValue": amount(value),
        "feeRate": "0",
        "leavesQty": qty(record.leaves().0, instrument),
        "orderId": record.order_id.to_string(),
        "orderLinkId": record.spec.client_order_id,
        "orderPrice": price(record.spec.price.0, instrument),
        "orderQty": qty(record.spec.quantity.0, instrument),
        "orderType": order_type(record),
        "stopOrderType": "UNKNOWN",
        "side": side(record.spec.side),
        "execTime": execution.ts_ms.to_string(),
        "isLeverage": "0",
        "isMaker": fill.liquidity == Liquidity::Maker,
        "seq": fill.trade_id,
        "execPnl": amount(execution.realized),
        "createType": "CreateByUser",
        "feeCurrency": if instrument.id.venue == Venue::BybitSpot {
            crate::capture::split_symbol(&instrument.id.symbol).1
        } else {
            String::new()
        },
    }))
}

/// The `position` item (and `/v5/position/list` entry) of `account` in `instrument`.
pub(crate) fn position(account: &Account, instrument: &Instrument, index: usize, now_ms: u64) -> Value {
    let position = account.positions.get(&index);
    let size = position.map_or(0, |p| p.quantity.0);
    let entry = position.and_then(|p| p.avg_price_f64(instrument)).unwrap_or(0.0);
    let side = match size {
        0 => "",
        s if s > 0 => "Buy",
        _ => "Sell",
    };
    json!({
        "category": category(instrument.id.venue),
        "symbol": instrument.id.symbol,
        "side": side,
        "size": qty(size.abs(), instrument),
        "positionIdx": 0,
        "tradeMode": 0,
        "entryPrice": format!("{entry:.prec$}", prec = usize::from(instrument.price_precision)),
        "avgPrice": format!("{entry:.prec$}", prec = usize::from(instrument.price_precision)),
        "leverage": "10",
        "positionValue": amount(position.map_or(Money::ZERO, |p| p.entry_value.abs())),
        "markPrice": "",
        "unrealisedPnl": "0",
        "cumRealisedPnl": amount(position.map_or(Money::ZERO, |p| p.realized_pnl - p.fees)),
        "curRealisedPnl": amount(position.map_or(Money::ZERO, |p| p.realized_pnl - p.fees)),
        "positionStatus": "Normal",
        "createdTime": now_ms.to_string(),
        "updatedTime": now_ms.to_string(),
        "seq": now_ms,
        "isReduceOnly": false,
    })
}

/// The `wallet` item (and `/v5/account/wallet-balance` entry) of `account`.
pub(crate) fn wallet(account: &Account) -> Value {
    let coins: Vec<Value> = account
        .balances
        .iter()
        .map(|(coin, balance)| {
            json!({
                "coin": coin,
                "equity": amount(balance.wallet),
                "walletBalance": amount(balance.wallet),
                "availableToWithdraw": amount(balance.wallet),
                "locked": "0",
                "unrealisedPnl": "0",
                "cumRealisedPnl": "0",
                "usdValue": "",
            })
        })
        .collect();
    json!({
        "accountType": "UNIFIED",
        "accountIMRate": "0",
        "accountMMRate": "0",
        "totalEquity": "",
        "totalWalletBalance": "",
        "totalAvailableBalance": "",
        "coin": coins,
    })
}

/// The v5 response envelope.
pub(crate) fn envelope(code: i64, message: &str, result: Value, now_ms: u64) -> Value {
    json!({"retCode": code, "retMsg": message, "result": result, "retExtInfo": {}, "time": now_ms})
}
