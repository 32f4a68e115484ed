//! Binance REST dispatch (spot `/api/v3`, USD-M `/fapi`): weight accounting, then the public endpoints
//! of [`super::binance_market`] or the signed order, account and listenKey endpoints here.
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use ferrotrade_model::{Decimal, OrderSide, OrderType, Price, Quantity, TimeInForce, Venue};
use serde_json::{Value, json};

use super::auth::{binance_key, binance_signed};
use super::binance_account::{account_info, account_trades, position_risk};
use super::binance_market::{depth, exchange_info, recent_trades, time};
use super::params::Params;
use super::{Refusal, binance_error, json_response, set_header};
use crate::clock::wall_ms;
use crate::exchange::{Execution, OrderRecord, OrderSpec, SubmitError};
use crate::limits::{Verdict, binance_weight};
use crate::state::{Shared, lock};
use crate::wire::{binance, user};

/// `/api/v3/*`.
pub(crate) async fn spot(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    handle(&shared, Venue::BinanceSpot, &method, &uri, &headers, &body).await
}

/// `/fapi/*`.
pub(crate) async fn usdm(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    handle(&shared, Venue::BinanceUsdm, &method, &uri, &headers, &body).await
}

async fn handle(
    shared: &Shared,
    venue: Venue,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &str,
) -> Response {
    let path = uri.path();
    let query = uri.query().unwrap_or("");
    let params = Params::parse(query, body);
    let limit = params.non_empty("limit").and_then(|l| l.parse().ok());
    let weight = binance_weight(venue, path, limit);
    let now = tokio::time::Instant::now();
    let verdict = lock(&shared.limiter).binance(venue, weight, now);
    let used = match verdict {
        Verdict::Allowed { used } => used,
        Verdict::Refused { used, retry_after } => {
            shared.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            let mut response = binance_error(
                StatusCode::TOO_MANY_REQUESTS,
                -1003,
                &format!(
                    "Too much request weight used; current limit is {} request weight per 1 MINUTE. Please use \
                     WebSocket Streams for live updates to avoid polling the API.",
                    shared.config.limits.binance_weight_per_minute
                ),
            );
            set_header(&mut response, "retry-after", retry_after.as_secs().max(1));
            set_header(&mut response, "x-mbx-used-weight-1m", used);
            return response;
        }
    };
    let mut response = route(shared, venue, method, path, query, headers, body, &params).await;
    set_header(&mut response, "x-mbx-used-weight-1m", used);
    response
}

#[allow(clippy::too_many_arguments)] // one request's parts, passed on unchanged
async fn route(
    shared: &Shared,
    venue: Venue,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &str,
    params: &Params,
) -> Response {
    let spot = venue == Venue::BinanceSpot;
    let tail = if spot { path.strip_prefix("/api/v3") } else { path.strip_prefix("/fapi") };
    let tail = tail.unwrap_or(path);
    match (method.as_str(), tail) {
        ("GET", "/ping" | "/v1/ping") => return json_response(StatusCode::OK, &json!({})),
        ("GET", "/time" | "/v1/time") => return time(),
        ("GET", "/exchangeInfo" | "/v1/exchangeInfo") => return exchange_info(shared, venue, params),
        ("GET", "/depth" | "/v1/depth") => return depth(shared, venue, params).await,
        ("GET", "/trades" | "/v1/trades") => return recent_trades(shared, venue, params, None),
        ("GET", "/historicalTrades" | "/v1/historicalTrades") => {
            return historical_trades(shared, venue, headers, params);
        }
        (_, "/userDataStream" | "/v1/listenKey") => return listen_key(shared, venue, method, headers, params),
        _ => {}
    }
    let (account, params) = match binance_signed(shared, headers, query, body) {
        Ok(signed) => signed,
        Err(refusal) => return refusal.into_response(),
    };
    let now = wall_ms();
    match (method.as_str(), tail) {
        ("POST", "/order" | "/v1/order") => new_order(shared, venue, account, &params, now),
        ("DELETE", "/order" | "/v1/order") => cancel_order(shared, venue, account, &params, now),
        ("GET", "/order" | "/v1/order") => query_order(shared, venue, account, &params, now),
        ("PUT", "/order/amend/keepPriority" | "/v1/order") => amend_order(shared, venue, account, &params, now),
        ("GET", "/openOrders" | "/v1/openOrders") => open_orders(shared, venue, account, &params, now),
        ("DELETE", "/openOrders" | "/v1/allOpenOrders") => cancel_all(shared, venue, account, &params, now),
        ("GET", "/account" | "/v2/account" | "/v3/account") => account_info(shared, venue, account, now),
        ("GET", "/v2/positionRisk" | "/v3/positionRisk") if !spot => position_risk(shared, account, &params),
        ("GET", "/myTrades") if spot => account_trades(shared, venue, account, &params),
        ("GET", "/v1/userTrades") if !spot => account_trades(shared, venue, account, &params),
        _ => binance_error(StatusCode::NOT_FOUND, -1000, "Unknown endpoint."),
    }
}

/// The old trades lookup: the API key in `X-MBX-APIKEY` must be one the venue knows (no signature).
fn historical_trades(shared: &Shared, venue: Venue, headers: &HeaderMap, params: &Params) -> Response {
    let key = headers.get("x-mbx-apikey").and_then(|value| value.to_str().ok()).unwrap_or_default();
    if key.is_empty() {
        return binance_error(StatusCode::UNAUTHORIZED, -2014, "API-key format invalid.");
    }
    if !shared.config.accounts.iter().any(|account| account.api_key == key) {
        return binance_error(StatusCode::UNAUTHORIZED, -2015, "Invalid API-key, IP, or permissions for action.");
    }
    let from_id = match params.non_empty("fromId").map(str::parse::<u64>) {
        Some(Ok(from)) => from,
        // Without fromId the lookup lists the most recent trades, as `trades` does.
        None => return recent_trades(shared, venue, params, None),
        Some(Err(_)) => {
            return binance_error(StatusCode::BAD_REQUEST, -1100, "Illegal characters found in parameter 'fromId'.");
        }
    };
    recent_trades(shared, venue, params, Some(from_id))
}

fn mandatory(name: &str) -> Refusal {
    Refusal::new(
        StatusCode::BAD_REQUEST,
        -1102,
        format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
    )
}

fn fixed(text: &str, precision: u8) -> Option<i64> {
    Decimal::parse_str(text).ok().and_then(|d| d.to_fixed(precision).ok())
}

/// Parses `POST .../order` parameters.
fn parse_order(shared: &Shared, venue: Venue, params: &Params) -> Result<OrderSpec, Refusal> {
    let symbol = params.non_empty("symbol").ok_or_else(|| mandatory("symbol"))?;
    let instrument = shared
        .instrument(venue, symbol)
        .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, -1121, "Invalid symbol."))?;
    let spec = &shared.instruments[instrument];
    let side = match params.non_empty("side").ok_or_else(|| mandatory("side"))? {
        "BUY" => OrderSide::Buy,
        "SELL" => OrderSide::Sell,
        _ => return Err(Refusal::new(StatusCode::BAD_REQUEST, -1117, "Invalid side.")),
    };
    let wire_type = params.non_empty("type").ok_or_else(|| mandatory("type"))?;
    let (order_type, maker) = match (wire_type, venue) {
        ("LIMIT", _) => (OrderType::Limit, false),
        ("MARKET", _) => (OrderType::Market, false),
        ("LIMIT_MAKER", Venue::BinanceSpot) => (OrderType::Limit, true),
        ("STOP_LOSS", Venue::BinanceSpot) | ("STOP_MARKET", Venue::BinanceUsdm) => (OrderType::StopMarket, false),
        ("STOP_LOSS_LIMIT", Venue::BinanceSpot) | ("STOP", Venue::BinanceUsdm) => (OrderType::StopLimit, false),
        _ => return Err(Refusal::new(StatusCode::BAD_REQUEST, -1116, "Invalid orderType.")),
    };
    let has_price = matches!(order_type, OrderType::Limit | OrderType::StopLimit);
    let (time_in_force, post_only) = match params.non_empty("timeInForce") {
        None if has_price && !maker => return Err(mandatory("timeInForce")),
        None => (TimeInForce::Gtc, maker),
        Some("GTC") => (TimeInForce::Gtc, maker),
        Some("IOC") => (TimeInForce::Ioc, maker),
        Some("FOK") => (TimeInForce::Fok, maker),
        Some("GTX") if venue == Venue::BinanceUsdm => (TimeInForce::Gtc, true),
        Some(_) => return Err(Refusal::new(StatusCode::BAD_REQUEST, -1115, "Invalid timeInForce.")),
    };
    let precision_error =
        || Refusal::new(StatusCode::BAD_REQUEST, -1111, "Precision is over the maximum defined for this asset.");
    let quantity = params.non_empty("quantity").ok_or_else(|| mandatory("quantity"))?;
    let quantity = Quantity(fixed(quantity, spec.size_precision).ok_or_else(precision_error)?);
    let price = match (has_price, params.non_empty("price")) {
        (true, None) => return Err(mandatory("price")),
        (true, Some(text)) => Price(fixed(text, spec.price_precision).ok_or_else(precision_error)?),
        (false, _) => Price::ZERO,
    };
    let is_stop = matches!(order_type, OrderType::StopMarket | OrderType::StopLimit);
    let stop_price = match (is_stop, params.non_empty("stopPrice")) {
        (true, None) => return Err(mandatory("stopPrice")),
        (true, Some(text)) => Price(fixed(text, spec.price_precision).ok_or_else(precision_error)?),
        (false, _) => Price::ZERO,
    };
    let client_order_id = match params.non_empty("newClientOrderId") {
        Some(id) if valid_client_id(id) => id.to_owned(),
        Some(_) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'.",
            ));
        }
        None => String::new(),
    };
    Ok(OrderSpec {
        instrument,
        side,
        order_type,
        time_in_force,
        post_only,
        reduce_only: params.get("reduceOnly") == Some("true"),
        price,
        stop_price,
        quantity,
        client_order_id,
        wire_type: wire_type.to_owned(),
    })
}

/// Binance's client order id pattern `^[.A-Z:/a-z0-9_-]{1,36}$`.
fn valid_client_id(id: &str) -> bool {
    (1..=36).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b".:/_-".contains(&b))
}

fn submit_error(venue: Venue, error: SubmitError, cancel: bool) -> Response {
    let (code, message) = match error {
        SubmitError::Rejected(reason) => binance::reject(venue, reason),
        SubmitError::Duplicate => (-2010, "Duplicate order sent."),
        SubmitError::InsufficientBalance => (-2010, "Account has insufficient balance for requested action."),
        SubmitError::UnknownOrder if cancel => (-2011, "Unknown order sent."),
        SubmitError::UnknownOrder | SubmitError::UnknownAccount => (-2013, "Order does not exist."),
    };
    binance_error(StatusCode::BAD_REQUEST, code, message)
}

fn order_body(
    shared: &Shared,
    venue: Venue,
    record: &OrderRecord,
    now: u64,
    fills: Option<&[ferrotrade_model::Fill]>,
) -> Value {
    let instrument = &shared.instruments[record.spec.instrument];
    if venue == Venue::BinanceSpot {
        binance::spot_order(record, instrument, now, fills)
    } else {
        binance::usdm_order(record, instrument)
    }
}

/// Formats and queues the user-data messages of `executions`.
fn publish(shared: &Shared, executions: &[Execution]) {
    let pushes = user::pushes(&lock(&shared.exchange), executions);
    user::deliver(shared, pushes);
}

fn new_order(shared: &Shared, venue: Venue, account: usize, params: &Params, now: u64) -> Response {
    let mut spec = match parse_order(shared, venue, params) {
        Ok(spec) => spec,
        Err(refusal) => return refusal.into_response(),
    };
    let submitted = {
        let mut exchange = lock(&shared.exchange);
        if spec.client_order_id.is_empty() {
            // Binance generates a 22-character id when the client sends none.
            spec.client_order_id = format!("lv{:020}", exchange.orders.all().count() + 1);
        }
        exchange.submit(account, spec, now)
    };
    match submitted {
        Ok((record, executions)) => {
            publish(shared, &executions);
            let fills: Vec<ferrotrade_model::Fill> = executions
                .iter()
                .filter_map(|e| match e.kind {
                    crate::exchange::ExecKind::Trade(fill) => Some(fill),
                    _ => None,
                })
                .collect();
            let full = params.get("newOrderRespType").is_none_or(|t| t == "FULL");
            json_response(StatusCode::OK, &order_body(shared, venue, &record, now, full.then_some(fills.as_slice())))
        }
        Err(error) => submit_error(venue, error, false),
    }
}

/// The order named by `orderId` or `origClientOrderId`.
fn find(shared: &Shared, account: usize, params: &Params) -> Result<u64, Refusal> {
    let exchange = lock(&shared.exchange);
    let found = if let Some(id) = params.non_empty("orderId") {
        id.parse::<u64>().ok().and_then(|id| exchange.orders.get(account, id))
    } else if let Some(client) = params.non_empty("origClientOrderId") {
        exchange.orders.by_client(account, client)
    } else {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        ));
    };
    found.map(|r| r.order_id).ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, -2013, "Order does not exist."))
}

fn cancel_order(shared: &Shared, venue: Venue, account: usize, params: &Params, now: u64) -> Response {
    let order_id = match find(shared, account, params) {
        Ok(id) => id,
        Err(_) => return submit_error(venue, SubmitError::UnknownOrder, true),
    };
    let cancelled = lock(&shared.exchange).cancel(account, order_id, now);
    match cancelled {
        Ok((record, executions)) => {
            publish(shared, &executions);
            json_response(StatusCode::OK, &order_body(shared, venue, &record, now, None))
        }
        Err(error) => submit_error(venue, error, true),
    }
}

fn query_order(shared: &Shared, venue: Venue, account: usize, params: &Params, now: u64) -> Response {
    let order_id = match find(shared, account, params) {
        Ok(id) => id,
        Err(refusal) => return refusal.into_response(),
    };
    let record = lock(&shared.exchange).orders.get(account, order_id).cloned();
    match record {
        Some(record) => json_response(StatusCode::OK, &order_body(shared, venue, &record, now, None)),
        None => submit_error(venue, SubmitError::UnknownOrder, false),
    }
}

fn amend_order(shared: &Shared, venue: Venue, account: usize, params: &Params, now: u64) -> Response {
    let order_id = match find(shared, account, params) {
        Ok(id) => id,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(current) = lock(&shared.exchange).orders.get(account, order_id).cloned() else {
        return submit_error(venue, SubmitError::UnknownOrder, false);
    };
    let spec = &shared.instruments[current.spec.instrument];
    let precision_error =
        || binance_error(StatusCode::BAD_REQUEST, -1111, "Precision is over the maximum defined for this asset.");
    let (quantity_key, price) = if venue == Venue::BinanceSpot {
        // keepPriority amends only decrease the quantity; the price stays.
        ("newQty", current.spec.price)
    } else {
        match params.non_empty("price").map(|p| fixed(p, spec.price_precision)) {
            Some(Some(price)) => ("quantity", Price(price)),
            Some(None) => return precision_error(),
            None => return mandatory("price").into_response(),
        }
    };
    let quantity = match params.non_empty(quantity_key).map(|q| fixed(q, spec.size_precision)) {
        Some(Some(quantity)) => Quantity(quantity),
        Some(None) => return precision_error(),
        None => return mandatory(quantity_key).into_response(),
    };
    if venue == Venue::BinanceSpot && quantity >= current.spec.quantity {
        return binance_error(
            StatusCode::BAD_REQUEST,
            -2038,
            "The requested quantity must be less than the current quantity.",
        );
    }
    let amended = lock(&shared.exchange).amend(account, order_id, price, quantity, now);
    match amended {
        Ok((record, executions)) => {
            publish(shared, &executions);
            let body = order_body(shared, venue, &record, now, None);
            if venue == Venue::BinanceSpot {
                json_response(StatusCode::OK, &json!({"transactTime": now, "executionId": now, "amendedOrder": body}))
            } else {
                json_response(StatusCode::OK, &body)
            }
        }
        Err(SubmitError::Rejected(_)) => binance_error(StatusCode::BAD_REQUEST, -5027, "No need to modify the order."),
        Err(error) => submit_error(venue, error, false),
    }
}

fn symbol_filter(shared: &Shared, venue: Venue, params: &Params) -> Result<Option<usize>, Refusal> {
    match params.non_empty("symbol") {
        None => Ok(None),
        Some(symbol) => shared
            .instrument(venue, symbol)
            .map(Some)
            .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, -1121, "Invalid symbol.")),
    }
}

fn open_orders(shared: &Shared, venue: Venue, account: usize, params: &Params, now: u64) -> Response {
    let instrument = match symbol_filter(shared, venue, params) {
        Ok(instrument) => instrument,
        Err(refusal) => return refusal.into_response(),
    };
    let records = lock(&shared.exchange).orders.open(account, instrument);
    let list: Vec<Value> = records
        .iter()
        .filter(|r| shared.instruments[r.spec.instrument].id.venue == venue)
        .map(|r| order_body(shared, venue, r, now, None))
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

fn cancel_all(shared: &Shared, venue: Venue, account: usize, params: &Params, now: u64) -> Response {
    let instrument = match symbol_filter(shared, venue, params) {
        Ok(Some(instrument)) => instrument,
        Ok(None) => return mandatory("symbol").into_response(),
        Err(refusal) => return refusal.into_response(),
    };
    let mut cancelled = Vec::new();
    let mut executions = Vec::new();
    {
        let mut exchange = lock(&shared.exchange);
        for record in exchange.orders.open(account, Some(instrument)) {
            if let Ok((record, mut more)) = exchange.cancel(account, record.order_id, now) {
                cancelled.push(record);
                executions.append(&mut more);
            }
        }
    }
    publish(shared, &executions);
    if venue == Venue::BinanceUsdm {
        return json_response(
            StatusCode::OK,
            &json!({"code": 200, "msg": "The operation of cancel all open order is done."}),
        );
    }
    let list: Vec<Value> = cancelled.iter().map(|r| order_body(shared, venue, r, now, None)).collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

/// `POST`/`PUT`/`DELETE` of `/api/v3/userDataStream` and `/fapi/v1/listenKey` (API key only).
fn listen_key(shared: &Shared, venue: Venue, method: &Method, headers: &HeaderMap, params: &Params) -> Response {
    let account = match binance_key(shared, headers) {
        Ok(account) => account,
        Err(refusal) => return refusal.into_response(),
    };
    let ttl = shared.config.sessions.listen_key_ttl;
    let now = tokio::time::Instant::now();
    let wanted = params.non_empty("listenKey");
    let mut keys = lock(&shared.listen_keys);
    match method.as_str() {
        "POST" => {
            let key = keys.create(account, venue, ttl, now, &mut *lock(&shared.rng));
            json_response(StatusCode::OK, &json!({"listenKey": key}))
        }
        "PUT" => match keys.keepalive(account, venue, wanted, ttl, now) {
            Some(key) if venue == Venue::BinanceUsdm => json_response(StatusCode::OK, &json!({"listenKey": key})),
            Some(_) => json_response(StatusCode::OK, &json!({})),
            None => binance_error(StatusCode::BAD_REQUEST, -1125, "This listenKey does not exist."),
        },
        "DELETE" => match keys.close(account, venue, wanted) {
            Some(key) => {
                drop(keys);
                let mut hub = lock(&shared.hub);
                for (id, _) in hub.listen_key_connections(&key) {
                    hub.kill(id);
                }
                json_response(StatusCode::OK, &json!({}))
            }
            None => binance_error(StatusCode::BAD_REQUEST, -1125, "This listenKey does not exist."),
        },
        _ => binance_error(StatusCode::NOT_FOUND, -1000, "Unknown endpoint."),
    }
}
