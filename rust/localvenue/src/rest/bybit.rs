//! Bybit v5 REST: market (`time`, `instruments-info`, `orderbook`), order entry (`create`, `cancel`,
//! `amend`, `cancel-all`, `realtime`), `execution/list`, `position/list` and `account/wallet-balance`.
//!
//! Answers are HTTP 200 with the v5 envelope; failures carry the venue's `retCode` (`10001` parameter
//! error, `10002`/`10003`/`10004` authentication, `10006` rate limit, `110001`/`170213` unknown order,
//! `110017` reduce-only, `110072` duplicate `orderLinkId`, `170131` spot balance). A `PostOnly` order
//! that would take is created and then cancelled (`orderStatus: Cancelled`, `rejectReason:
//! EC_PostOnlyWillTakeLiquidity` on the `order` topic), as Bybit does.
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use ferrotrade_model::{Decimal, OrderSide, OrderType, Price, Quantity, RejectReason, TimeInForce, Venue};
use serde_json::{Value, json};

use super::auth::bybit_signed;
use super::binance_market::SYNC_WAIT;
use super::params::Params;
use super::{json_response, set_header};
use crate::capture::{lot_decimal, split_symbol, tick_decimal};
use crate::clock::wall_ms;
use crate::exchange::{OrderSpec, SubmitError};
use crate::limits::Verdict;
use crate::state::{Shared, lock};
use crate::wire::bybit::{category, envelope, order, position, wallet};
use crate::wire::user;

type Failure = (i64, String);

fn fail(code: i64, message: impl Into<String>) -> Failure {
    (code, message.into())
}

fn respond(result: Result<Value, Failure>) -> Response {
    let now = wall_ms();
    let body = match result {
        Ok(result) => envelope(0, "OK", result, now),
        Err((code, message)) => envelope(code, &message, json!({}), now),
    };
    json_response(StatusCode::OK, &body)
}

/// Every `/v5/...` REST path.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let params = Params::parse(&query, "");
    let key = headers.get("x-bapi-api-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let verdict = lock(&shared.limiter).bybit(&key, &path, tokio::time::Instant::now());
    let limit = lock(&shared.limiter).bybit_limit();
    let (used, refused) = match verdict {
        Verdict::Allowed { used } => (used, false),
        Verdict::Refused { used, .. } => (used, true),
    };
    let mut response = if refused {
        shared.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        respond(Err(fail(10006, "Too many visits!")))
    } else if path.starts_with("/v5/market/") {
        respond(market(&shared, &path, &params).await)
    } else {
        let payload = if method == Method::GET { query.as_str() } else { body.as_str() };
        match bybit_signed(&shared, &headers, payload) {
            Err((code, message)) => respond(Err(fail(code, message))),
            Ok(account) => respond(private(&shared, account, &method, &path, &params, &body)),
        }
    };
    if !key.is_empty() {
        set_header(&mut response, "x-bapi-limit", limit);
        set_header(&mut response, "x-bapi-limit-status", limit.saturating_sub(used));
        set_header(&mut response, "x-bapi-limit-reset-timestamp", wall_ms() + 1000);
    }
    response
}

fn venue_of(category: Option<&str>) -> Result<Venue, Failure> {
    match category {
        Some("linear") => Ok(Venue::BybitLinear),
        Some("spot") => Ok(Venue::BybitSpot),
        Some(other) => Err(fail(10001, format!("category {other} is not served"))),
        None => Err(fail(10001, "params error: category is required")),
    }
}

fn instrument(shared: &Shared, venue: Venue, symbol: Option<&str>) -> Result<usize, Failure> {
    let symbol = symbol.ok_or_else(|| fail(10001, "params error: symbol is required"))?;
    shared.instrument(venue, symbol).ok_or_else(|| fail(10001, "params error: symbol invalid"))
}

async fn market(shared: &Shared, path: &str, params: &Params) -> Result<Value, Failure> {
    let now = wall_ms();
    match path {
        "/v5/market/time" => Ok(json!({
            "timeSecond": (now / 1000).to_string(),
            "timeNano": (u128::from(now) * 1_000_000).to_string(),
        })),
        "/v5/market/instruments-info" => {
            let venue = venue_of(params.non_empty("category"))?;
            let wanted = params.non_empty("symbol");
            let list: Vec<Value> = shared
                .instruments
                .iter()
                .filter(|i| i.id.venue == venue && wanted.is_none_or(|w| w.eq_ignore_ascii_case(&i.id.symbol)))
                .map(|i| {
                    let (base, quote) = split_symbol(&i.id.symbol);
                    let (tick, lot) = (tick_decimal(i).to_string(), lot_decimal(i).to_string());
                    let notional = i.min_notional.map_or_else(|| "0".to_owned(), |n| n.to_string());
                    if venue == Venue::BybitSpot {
                        json!({"symbol": i.id.symbol, "baseCoin": base, "quoteCoin": quote, "status": "Trading",
                               "priceFilter": {"tickSize": tick},
                               "lotSizeFilter": {"basePrecision": lot, "quotePrecision": tick, "minOrderQty": lot,
                                                 "maxOrderQty": "100000", "minOrderAmt": notional,
                                                 "maxOrderAmt": "10000000"}})
                    } else {
                        json!({"symbol": i.id.symbol, "contractType": "LinearPerpetual", "status": "Trading",
                               "baseCoin": base, "quoteCoin": quote, "settleCoin": quote,
                               "priceScale": i.price_precision.to_string(),
                               "priceFilter": {"minPrice": tick, "maxPrice": "10000000", "tickSize": tick},
                               "lotSizeFilter": {"maxOrderQty": "100000", "minOrderQty": lot, "qtyStep": lot,
                                                 "postOnlyMaxOrderQty": "100000", "minNotionalValue": notional}})
                    }
                })
                .collect();
            Ok(json!({"category": category(venue), "list": list, "nextPageCursor": ""}))
        }
        "/v5/market/orderbook" => {
            let venue = venue_of(params.non_empty("category"))?;
            let index = instrument(shared, venue, params.non_empty("symbol"))?;
            let (default, max) = if venue == Venue::BybitSpot { (1, 200) } else { (25, 500) };
            let limit =
                params.non_empty("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(default).clamp(1, max);
            let mut progress = shared.progress.subscribe();
            let deadline = tokio::time::Instant::now() + SYNC_WAIT;
            loop {
                if let Some(book) = crate::ws::bybit::book_data(shared, index, limit) {
                    return Ok(json!({
                        "s": book.symbol, "b": book.bids, "a": book.asks, "ts": now, "u": book.update_id,
                        "seq": book.seq, "cts": book.ts_ms,
                    }));
                }
                if tokio::time::timeout_at(deadline, progress.changed()).await.is_err() {
                    return Err(fail(10016, "Internal system error."));
                }
            }
        }
        _ => Err(fail(10001, "unknown path")),
    }
}

/// `GET /v5/execution/list`: the account's fills of `category` (and `symbol`, and one order by `orderId`
/// or `orderLinkId`, when given), newest first as Bybit lists them, at most `limit` (default 50, 1 to
/// 100), from the executions the account remembers. Each item carries its order as it stood after that
/// execution (`leavesQty` then, against the order's current quantity).
fn executions(shared: &Shared, account: usize, params: &Params) -> Result<Value, Failure> {
    use crate::exchange::{ExecKind, Execution, WireStatus};
    let venue = venue_of(params.non_empty("category"))?;
    let only = params.non_empty("symbol").map(|s| instrument(shared, venue, Some(s))).transpose()?;
    let limit = match params.non_empty("limit").map(str::parse::<usize>) {
        None => 50,
        Some(Ok(limit)) if (1..=100).contains(&limit) => limit,
        Some(_) => return Err(fail(10001, "params error: limit must be 1 to 100")),
    };
    let exchange = lock(&shared.exchange);
    let owner = exchange.accounts.get(account).ok_or_else(|| fail(10003, "API key is invalid."))?;
    let order = match (params.non_empty("orderId"), params.non_empty("orderLinkId")) {
        (Some(id), _) => Some(id.parse::<u64>().ok().and_then(|id| exchange.orders.get(account, id))),
        (None, Some(link)) => Some(exchange.orders.by_client(account, link)),
        (None, None) => None,
    };
    // An order asked for that the venue does not know has no executions.
    let order_id = match order {
        Some(None) => return Ok(json!({"category": category(venue), "list": [], "nextPageCursor": ""})),
        Some(Some(record)) => Some(record.order_id),
        None => None,
    };
    // One pass, oldest first: each wanted trade with its order's filled quantity after it.
    let mut filled: std::collections::BTreeMap<u64, i64> = std::collections::BTreeMap::new();
    let mut wanted = Vec::new();
    for trade in &owner.trades {
        let cumulative = filled.entry(trade.order_id).or_insert(0);
        *cumulative += trade.fill.quantity.0;
        let instrument_ok =
            shared.instruments[trade.instrument].id.venue == venue && only.is_none_or(|o| trade.instrument == o);
        if instrument_ok && order_id.is_none_or(|id| trade.order_id == id) {
            wanted.push((trade, *cumulative));
        }
    }
    let list: Vec<Value> = wanted
        .iter()
        .rev()
        .filter_map(|(trade, cumulative)| {
            let mut order = exchange.orders.get(account, trade.order_id)?.clone();
            order.filled = Quantity(*cumulative);
            order.status =
                if *cumulative >= order.spec.quantity.0 { WireStatus::Filled } else { WireStatus::PartiallyFilled };
            let execution =
                Execution { kind: ExecKind::Trade(trade.fill), order, realized: trade.realized, ts_ms: trade.ts_ms };
            crate::wire::bybit::execution(&execution, &shared.instruments[trade.instrument])
        })
        .take(limit)
        .collect();
    Ok(json!({"category": category(venue), "list": list, "nextPageCursor": ""}))
}

fn private(
    shared: &Shared,
    account: usize,
    method: &Method,
    path: &str,
    params: &Params,
    body: &str,
) -> Result<Value, Failure> {
    let now = wall_ms();
    if *method == Method::GET {
        return match path {
            "/v5/order/realtime" => {
                let venue = venue_of(params.non_empty("category"))?;
                let only = params.non_empty("symbol").map(|s| instrument(shared, venue, Some(s))).transpose()?;
                let exchange = lock(&shared.exchange);
                // As on Bybit, an order asked for by id is found whatever its status (recent closed orders
                // included); without an id only the open ones are listed.
                let by_id = match (params.non_empty("orderId"), params.non_empty("orderLinkId")) {
                    (Some(id), _) => Some(id.parse::<u64>().ok().and_then(|id| exchange.orders.get(account, id))),
                    (None, Some(link)) => Some(exchange.orders.by_client(account, link)),
                    (None, None) => None,
                };
                let records = match by_id {
                    Some(found) => {
                        found.filter(|r| only.is_none_or(|o| r.spec.instrument == o)).cloned().into_iter().collect()
                    }
                    None => exchange.orders.open(account, only),
                };
                let list: Vec<Value> = records
                    .iter()
                    .filter(|r| shared.instruments[r.spec.instrument].id.venue == venue)
                    .map(|r| order(r, &shared.instruments[r.spec.instrument]))
                    .collect();
                Ok(json!({"category": category(venue), "list": list, "nextPageCursor": ""}))
            }
            "/v5/execution/list" => executions(shared, account, params),
            "/v5/position/list" => {
                let venue = venue_of(params.non_empty("category"))?;
                let only = params.non_empty("symbol").map(|s| instrument(shared, venue, Some(s))).transpose()?;
                let exchange = lock(&shared.exchange);
                let owner = exchange.accounts.get(account).ok_or_else(|| fail(10003, "API key is invalid."))?;
                let list: Vec<Value> = shared
                    .instruments
                    .iter()
                    .enumerate()
                    .filter(|(index, i)| i.id.venue == venue && only.is_none_or(|o| o == *index))
                    .map(|(index, i)| position(owner, i, index, now))
                    .collect();
                Ok(json!({"category": category(venue), "list": list, "nextPageCursor": ""}))
            }
            "/v5/account/wallet-balance" => {
                let exchange = lock(&shared.exchange);
                let owner = exchange.accounts.get(account).ok_or_else(|| fail(10003, "API key is invalid."))?;
                Ok(json!({"list": [wallet(owner)]}))
            }
            _ => Err(fail(10001, "unknown path")),
        };
    }
    let request: Value = serde_json::from_str(body).map_err(|_| fail(10001, "params error: body is not JSON"))?;
    let text = |key: &str| request.get(key).and_then(Value::as_str).filter(|v| !v.is_empty());
    let venue = venue_of(text("category"))?;
    match path {
        "/v5/order/create" => create(shared, account, venue, &request, now),
        "/v5/order/cancel" | "/v5/order/amend" => {
            let index = instrument(shared, venue, text("symbol"))?;
            let unknown = || fail(if venue == Venue::BybitSpot { 170213 } else { 110001 }, "Order does not exist.");
            let order_id = {
                let exchange = lock(&shared.exchange);
                let found = match (text("orderId"), text("orderLinkId")) {
                    (Some(id), _) => id.parse::<u64>().ok().and_then(|id| exchange.orders.get(account, id)),
                    (None, Some(link)) => exchange.orders.by_client(account, link),
                    (None, None) => return Err(fail(10001, "params error: orderId or orderLinkId is required")),
                };
                found.filter(|r| r.spec.instrument == index && r.status.is_open()).cloned().ok_or_else(unknown)?
            };
            let spec = &shared.instruments[index];
            let result = if path.ends_with("/cancel") {
                lock(&shared.exchange).cancel(account, order_id.order_id, now)
            } else {
                let price = decimal(text("price"), spec.price_precision)?.map_or(order_id.spec.price, Price);
                let quantity = decimal(text("qty"), spec.size_precision)?.map_or(order_id.spec.quantity, Quantity);
                lock(&shared.exchange).amend(account, order_id.order_id, price, quantity, now)
            };
            let (record, executions) = result.map_err(|error| match error {
                SubmitError::Rejected(_) => fail(10001, "params error: the amend changes nothing or is invalid"),
                _ => unknown(),
            })?;
            publish(shared, &executions);
            Ok(json!({"orderId": record.order_id.to_string(), "orderLinkId": record.spec.client_order_id}))
        }
        "/v5/order/cancel-all" => {
            let only = text("symbol").map(|s| instrument(shared, venue, Some(s))).transpose()?;
            let mut list = Vec::new();
            let mut executions = Vec::new();
            {
                let mut exchange = lock(&shared.exchange);
                for record in exchange.orders.open(account, only) {
                    if shared.instruments[record.spec.instrument].id.venue != venue {
                        continue;
                    }
                    if let Ok((record, mut more)) = exchange.cancel(account, record.order_id, now) {
                        list.push(
                            json!({"orderId": record.order_id.to_string(), "orderLinkId": record.spec.client_order_id}),
                        );
                        executions.append(&mut more);
                    }
                }
            }
            publish(shared, &executions);
            Ok(json!({"list": list, "success": "1"}))
        }
        _ => Err(fail(10001, "unknown path")),
    }
}

fn decimal(text: Option<&str>, precision: u8) -> Result<Option<i64>, Failure> {
    text.map(|t| {
        Decimal::parse_str(t)
            .ok()
            .and_then(|d| d.to_fixed(precision).ok())
            .ok_or_else(|| fail(10001, format!("params error: {t} has too many decimals")))
    })
    .transpose()
}

fn publish(shared: &Shared, executions: &[crate::exchange::Execution]) {
    let pushes = user::pushes(&lock(&shared.exchange), executions);
    user::deliver(shared, pushes);
}

fn create(shared: &Shared, account: usize, venue: Venue, request: &Value, now: u64) -> Result<Value, Failure> {
    let text = |key: &str| request.get(key).and_then(Value::as_str).filter(|v| !v.is_empty());
    let index = instrument(shared, venue, text("symbol"))?;
    let spec = &shared.instruments[index];
    let side = match text("side") {
        Some("Buy") => OrderSide::Buy,
        Some("Sell") => OrderSide::Sell,
        _ => return Err(fail(10001, "params error: side invalid")),
    };
    let trigger = decimal(text("triggerPrice"), spec.price_precision)?;
    let order_type = match (text("orderType"), trigger.is_some()) {
        (Some("Limit"), false) => OrderType::Limit,
        (Some("Market"), false) => OrderType::Market,
        (Some("Limit"), true) => OrderType::StopLimit,
        (Some("Market"), true) => OrderType::StopMarket,
        _ => return Err(fail(10001, "params error: orderType invalid")),
    };
    let (time_in_force, post_only) = match text("timeInForce") {
        None | Some("GTC") => (TimeInForce::Gtc, false),
        Some("IOC") => (TimeInForce::Ioc, false),
        Some("FOK") => (TimeInForce::Fok, false),
        Some("PostOnly") => (TimeInForce::Gtc, true),
        Some(_) => return Err(fail(10001, "params error: timeInForce invalid")),
    };
    let quantity =
        decimal(text("qty"), spec.size_precision)?.ok_or_else(|| fail(10001, "params error: qty is required"))?;
    let price = decimal(text("price"), spec.price_precision)?;
    let has_price = matches!(order_type, OrderType::Limit | OrderType::StopLimit);
    if has_price && price.is_none() {
        return Err(fail(10001, "params error: price is required"));
    }
    let link = text("orderLinkId").unwrap_or_default();
    if link.len() > 36 {
        return Err(fail(10001, "params error: orderLinkId is longer than 36 characters"));
    }
    let order = OrderSpec {
        instrument: index,
        side,
        order_type,
        time_in_force,
        post_only,
        reduce_only: request.get("reduceOnly").and_then(Value::as_bool).unwrap_or(false),
        price: if has_price { Price(price.unwrap_or(0)) } else { Price::ZERO },
        stop_price: Price(trigger.unwrap_or(0)),
        quantity: Quantity(quantity),
        client_order_id: link.to_owned(),
        wire_type: text("orderType").unwrap_or("Limit").to_owned(),
    };
    let submitted = lock(&shared.exchange).submit(account, order.clone(), now);
    if matches!(submitted, Err(SubmitError::Rejected(RejectReason::PostOnlyWouldTake))) {
        // Bybit accepts a PostOnly order that would take, then cancels it.
        let (record, executions) =
            lock(&shared.exchange).accept_and_cancel(account, order, "EC_PostOnlyWillTakeLiquidity", now);
        publish(shared, &executions);
        return Ok(json!({"orderId": record.order_id.to_string(), "orderLinkId": record.spec.client_order_id}));
    }
    match submitted {
        Ok((record, executions)) => {
            publish(shared, &executions);
            Ok(json!({"orderId": record.order_id.to_string(), "orderLinkId": record.spec.client_order_id}))
        }
        Err(SubmitError::Duplicate) => Err(fail(110072, "OrderLinkedID is duplicate")),
        Err(SubmitError::InsufficientBalance) => Err(fail(170131, "Insufficient balance.")),
        Err(SubmitError::Rejected(reason)) => Err(reject(venue, reason)),
        Err(_) => Err(fail(10001, "params error")),
    }
}

fn reject(venue: Venue, reason: RejectReason) -> Failure {
    match reason {
        RejectReason::ReduceOnlyWouldIncrease => fail(110017, "Reduce-only rule not satisfied"),
        RejectReason::MinNotional if venue == Venue::BybitSpot => fail(170140, "Order value exceeded lower limit."),
        RejectReason::MinNotional => fail(110094, "Order does not meet minimum order value"),
        RejectReason::InvalidTickSize | RejectReason::InvalidPrice => fail(10001, "params error: price invalid"),
        RejectReason::InvalidLotSize => fail(10001, "params error: qty invalid"),
        other => fail(10001, format!("order rejected: {}", other.code())),
    }
}
