//! Binance WebSocket endpoints: market streams (combined and raw) with their control messages, and
//! user-data streams on `/ws/<listenKey>`.
//!
//! Control messages follow the venues' docs: `{"method":"SUBSCRIBE","params":[..],"id":N}` ->
//! `{"result":null,"id":N}`; `LIST_SUBSCRIPTIONS` -> `{"result":[..],"id":N}`; malformed requests ->
//! `{"code":2,"msg":"Invalid request: ..","id":N}` (invalid JSON: code 3). A connection may hold
//! [`crate::RateLimits::binance_streams_per_connection`] streams (more are refused with code 2) and send
//! [`crate::RateLimits::binance_messages_per_second`] messages per second; one more closes it with
//! 1008 "Too many requests", as the venue does.
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use ferrotrade_model::Venue;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Reply, run};
use crate::hub::Endpoint;
use crate::rest::binance_error;
use crate::state::{Shared, lock};

type Streams = Query<HashMap<String, String>>;

/// `/binance-spot/stream?streams=`.
pub(crate) async fn spot_combined(
    State(shared): State<Arc<Shared>>,
    Query(query): Streams,
    ws: WebSocketUpgrade,
) -> Response {
    market(shared, Venue::BinanceSpot, split(query.get("streams")), false, ws)
}

/// `/binance-usdm/stream?streams=`.
pub(crate) async fn usdm_combined(
    State(shared): State<Arc<Shared>>,
    Query(query): Streams,
    ws: WebSocketUpgrade,
) -> Response {
    market(shared, Venue::BinanceUsdm, split(query.get("streams")), false, ws)
}

/// `/binance-spot/ws`.
pub(crate) async fn spot_raw(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    market(shared, Venue::BinanceSpot, Vec::new(), true, ws)
}

/// `/binance-usdm/ws`.
pub(crate) async fn usdm_raw(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    market(shared, Venue::BinanceUsdm, Vec::new(), true, ws)
}

/// `/binance-spot/ws/<listenKey or stream>`.
pub(crate) async fn spot_named(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    named(shared, Venue::BinanceSpot, name, ws)
}

/// `/binance-usdm/ws/<listenKey or stream>`.
pub(crate) async fn usdm_named(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    named(shared, Venue::BinanceUsdm, name, ws)
}

fn split(streams: Option<&String>) -> Vec<String> {
    streams.map(|s| s.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
}

fn named(shared: Arc<Shared>, venue: Venue, name: String, ws: WebSocketUpgrade) -> Response {
    let owner = lock(&shared.listen_keys).get(&name).filter(|key| key.venue == venue).map(|key| key.account);
    match owner {
        Some(account) => {
            let endpoint = Endpoint::BinanceUser { venue, account, listen_key: name };
            ws.read_buffer_size(super::READ_BUFFER).on_upgrade(move |socket| async move {
                let registration = lock(&shared.hub).register(endpoint, BTreeSet::new(), false);
                let handler_shared = Arc::clone(&shared);
                run(shared, socket, registration, move |text| user_message(&handler_shared, text)).await;
            })
        }
        // Not a valid key: a raw stream name (`btcusdt@trade`), as on the venue.
        None if name.contains('@') => market(shared, venue, vec![name], true, ws),
        None => binance_error(StatusCode::BAD_REQUEST, -1125, "This listenKey does not exist."),
    }
}

/// User-data streams take no requests; the venue ignores what a client sends there.
fn user_message(_shared: &Shared, _text: &str) -> Vec<Reply> {
    Vec::new()
}

fn market(shared: Arc<Shared>, venue: Venue, streams: Vec<String>, raw: bool, ws: WebSocketUpgrade) -> Response {
    let limit = shared.config.limits.binance_streams_per_connection;
    if streams.len() > limit {
        return binance_error(StatusCode::BAD_REQUEST, -1101, &format!("Too many streams: the limit is {limit}."));
    }
    ws.read_buffer_size(super::READ_BUFFER).on_upgrade(move |socket| async move {
        let channels: BTreeSet<String> = streams.into_iter().collect();
        let subscribed = !channels.is_empty();
        let registration = lock(&shared.hub).register(Endpoint::Market(venue), channels, raw);
        if subscribed {
            shared.resume();
        }
        let id = registration.id;
        let handler_shared = Arc::clone(&shared);
        let mut window = (Instant::now(), 0u32);
        run(shared, socket, registration, move |text| control(&handler_shared, id, &mut window, text)).await;
    })
}

fn invalid(code: i64, message: &str, id: &Value) -> Vec<Reply> {
    vec![Reply::Text(json!({"code": code, "msg": message, "id": id}).to_string())]
}

/// Answers one control message of connection `id`.
fn control(shared: &Shared, id: u64, window: &mut (Instant, u32), text: &str) -> Vec<Reply> {
    let now = Instant::now();
    if now.duration_since(window.0).as_secs() >= 1 {
        *window = (now, 0);
    }
    window.1 += 1;
    if window.1 > shared.config.limits.binance_messages_per_second {
        return vec![Reply::Close(1008, "Too many requests")];
    }
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return invalid(3, "Invalid JSON: expected value at line 1 column 1", &Value::Null);
    };
    let request_id = request.get("id").cloned().unwrap_or(Value::Null);
    if !(request_id.is_u64() || request_id.is_string() || request_id.is_null()) {
        return invalid(2, "Invalid request: request ID must be an unsigned integer", &request_id);
    }
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return invalid(2, "Invalid request: missing field `method`", &request_id);
    };
    let params: Vec<String> = match request.get("params") {
        None => Vec::new(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
        }
        Some(_) => return invalid(2, "Invalid request: params must be an array of strings", &request_id),
    };
    let ok = |result: Value| vec![Reply::Text(json!({"result": result, "id": request_id}).to_string())];
    match method {
        "SUBSCRIBE" => {
            let mut hub = lock(&shared.hub);
            let mut current: BTreeSet<String> = hub.channels(id).into_iter().collect();
            current.extend(params.iter().cloned());
            let limit = shared.config.limits.binance_streams_per_connection;
            if current.len() > limit {
                return invalid(2, &format!("Invalid request: too many streams, the limit is {limit}"), &request_id);
            }
            hub.subscribe(id, &params);
            drop(hub);
            shared.resume();
            ok(Value::Null)
        }
        "UNSUBSCRIBE" => {
            lock(&shared.hub).unsubscribe(id, &params);
            ok(Value::Null)
        }
        "LIST_SUBSCRIPTIONS" => ok(Value::from(lock(&shared.hub).channels(id))),
        "SET_PROPERTY" => ok(Value::Null),
        "GET_PROPERTY" => ok(Value::Bool(false)),
        other => invalid(
            2,
            &format!(
                "Invalid request: unknown variant `{other}`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, \
                 `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"
            ),
            &request_id,
        ),
    }
}
