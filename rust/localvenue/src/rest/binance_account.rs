//! Binance account endpoints: spot `GET /api/v3/account` and `GET /api/v3/myTrades`, USD-M
//! `GET /fapi/v2/account`, `GET /fapi/v2/positionRisk` and `GET /fapi/v1/userTrades`.
use axum::http::StatusCode;
use axum::response::Response;
use ferrotrade_model::{Money, Venue};
use serde_json::{Value, json};

use super::params::Params;
use super::{binance_error, json_response};
use crate::state::{Shared, lock};
use crate::wire::amount;

/// The account body of `venue`.
pub(crate) fn account_info(shared: &Shared, venue: Venue, account: usize, now: u64) -> Response {
    let exchange = lock(&shared.exchange);
    let Some(owner) = exchange.accounts.get(account) else {
        return binance_error(StatusCode::UNAUTHORIZED, -2015, "Invalid API-key, IP, or permissions for action.");
    };
    if venue == Venue::BinanceSpot {
        let balances: Vec<Value> = owner
            .balances
            .iter()
            .map(|(asset, balance)| {
                let locked = exchange.locked(account, asset);
                json!({"asset": asset, "free": amount(balance.wallet - locked), "locked": amount(locked)})
            })
            .collect();
        return json_response(
            StatusCode::OK,
            &json!({
                "makerCommission": 0, "takerCommission": 0, "buyerCommission": 0, "sellerCommission": 0,
                "canTrade": true, "canWithdraw": false, "canDeposit": false, "brokered": false,
                "requireSelfTradePrevention": false, "preventSor": false, "updateTime": now,
                "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": account,
            }),
        );
    }
    let assets: Vec<Value> = owner
        .balances
        .iter()
        .map(|(asset, balance)| {
            let wallet = amount(balance.wallet);
            json!({
                "asset": asset, "walletBalance": wallet, "unrealizedProfit": "0", "marginBalance": wallet,
                "maintMargin": "0", "initialMargin": "0", "positionInitialMargin": "0",
                "openOrderInitialMargin": "0", "crossWalletBalance": wallet, "crossUnPnl": "0",
                "availableBalance": wallet, "maxWithdrawAmount": wallet, "marginAvailable": true,
                "updateTime": now,
            })
        })
        .collect();
    let positions: Vec<Value> = usdm_positions(shared, &exchange, account, None)
        .into_iter()
        .map(|(symbol, size, entry, realized)| {
            json!({
                "symbol": symbol, "initialMargin": "0", "maintMargin": "0", "unrealizedProfit": "0",
                "positionInitialMargin": "0", "openOrderInitialMargin": "0", "leverage": "10",
                "isolated": false, "entryPrice": entry, "maxNotional": "1000000", "positionSide": "BOTH",
                "positionAmt": size, "notional": "0", "isolatedWallet": "0", "updateTime": now,
                "realizedPnl": amount(realized),
            })
        })
        .collect();
    let total: Money = owner.balances.values().map(|b| b.wallet).fold(Money::ZERO, |a, b| a + b);
    json_response(
        StatusCode::OK,
        &json!({
            "feeTier": 0, "canTrade": true, "canDeposit": false, "canWithdraw": false, "updateTime": now,
            "multiAssetsMargin": false, "totalInitialMargin": "0", "totalMaintMargin": "0",
            "totalWalletBalance": amount(total), "totalUnrealizedProfit": "0",
            "totalMarginBalance": amount(total), "totalPositionInitialMargin": "0",
            "totalOpenOrderInitialMargin": "0", "totalCrossWalletBalance": amount(total),
            "totalCrossUnPnl": "0", "availableBalance": amount(total), "maxWithdrawAmount": amount(total),
            "assets": assets, "positions": positions,
        }),
    )
}

/// `(symbol, positionAmt, entryPrice, realized)` of the account's USD-M instruments.
fn usdm_positions(
    shared: &Shared,
    exchange: &crate::exchange::Exchange,
    account: usize,
    only: Option<usize>,
) -> Vec<(String, String, String, Money)> {
    let Some(owner) = exchange.accounts.get(account) else { return Vec::new() };
    shared
        .instruments
        .iter()
        .enumerate()
        .filter(|(index, i)| i.id.venue == Venue::BinanceUsdm && only.is_none_or(|o| o == *index))
        .map(|(index, instrument)| {
            let position = owner.positions.get(&index);
            let size = ferrotrade_model::Quantity(position.map_or(0, |p| p.quantity.0));
            let entry = position.and_then(|p| p.avg_price_f64(instrument)).unwrap_or(0.0);
            (
                instrument.id.symbol.clone(),
                size.display(instrument.size_precision).to_string(),
                format!("{entry:.prec$}", prec = usize::from(instrument.price_precision)),
                position.map_or(Money::ZERO, |p| p.realized_pnl),
            )
        })
        .collect()
}

/// `GET /fapi/v2/positionRisk` (optionally `symbol=`).
pub(crate) fn position_risk(shared: &Shared, account: usize, params: &Params) -> Response {
    let only = match params.non_empty("symbol") {
        None => None,
        Some(symbol) => match shared.instrument(Venue::BinanceUsdm, symbol) {
            Some(index) => Some(index),
            None => return binance_error(StatusCode::BAD_REQUEST, -1121, "Invalid symbol."),
        },
    };
    let exchange = lock(&shared.exchange);
    let list: Vec<Value> = usdm_positions(shared, &exchange, account, only)
        .into_iter()
        .map(|(symbol, size, entry, _)| {
            json!({
                "symbol": symbol, "positionAmt": size, "entryPrice": entry, "breakEvenPrice": "0.0",
                "markPrice": "0", "unRealizedProfit": "0", "liquidationPrice": "0", "leverage": "10",
                "maxNotionalValue": "1000000", "marginType": "cross", "isolatedMargin": "0",
                "isAutoAddMargin": "false", "positionSide": "BOTH", "notional": "0", "isolatedWallet": "0",
                "updateTime": 0,
            })
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

/// Spot `myTrades` / USD-M `userTrades`: the account's trades of `symbol` (mandatory), of one order when
/// `orderId` is given, from `fromId` on, at most `limit` (default 500, at most 1000), oldest first.
pub(crate) fn account_trades(shared: &Shared, venue: Venue, account: usize, params: &Params) -> Response {
    let Some(symbol) = params.non_empty("symbol") else {
        return binance_error(
            StatusCode::BAD_REQUEST,
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        );
    };
    let Some(instrument) = shared.instrument(venue, symbol) else {
        return binance_error(StatusCode::BAD_REQUEST, -1121, "Invalid symbol.");
    };
    let number = |name: &str| params.non_empty(name).map(str::parse::<u64>);
    let (order_id, from_id, limit) = match (number("orderId"), number("fromId"), number("limit")) {
        (Some(Err(_)), _, _) | (_, Some(Err(_)), _) | (_, _, Some(Err(_))) => {
            return binance_error(StatusCode::BAD_REQUEST, -1100, "Illegal characters found in a parameter.");
        }
        (order_id, from_id, limit) => (
            order_id.and_then(Result::ok),
            from_id.and_then(Result::ok).unwrap_or(0),
            limit.and_then(Result::ok).unwrap_or(500).clamp(1, 1000),
        ),
    };
    let exchange = lock(&shared.exchange);
    let Some(owner) = exchange.accounts.get(account) else {
        return binance_error(StatusCode::UNAUTHORIZED, -2015, "Invalid API-key, IP, or permissions for action.");
    };
    let spec = &shared.instruments[instrument];
    let list: Vec<Value> = owner
        .trades
        .iter()
        .filter(|trade| trade.instrument == instrument && trade.fill.trade_id >= from_id)
        .filter(|trade| order_id.is_none_or(|id| trade.order_id == id))
        .take(usize::try_from(limit).unwrap_or(1000))
        .map(|trade| crate::wire::binance::account_trade(venue, trade, spec))
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}
