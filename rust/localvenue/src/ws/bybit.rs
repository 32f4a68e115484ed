//! Bybit v5 WebSocket endpoints: public topics (`/v5/public/linear`, `/v5/public/spot`) and the
//! private stream (`/v5/private`).
//!
//! Public: `{"op":"subscribe","args":["orderbook.500.XRPUSDT"],"req_id":".."}` is acknowledged, then a
//! `snapshot` message of the current replayed book (top `N` levels, `u` = last applied update) is sent,
//! then the recorded deltas of that topic as recorded. The recorded frames carry their recorded topic:
//! subscribe to the depth the capture holds (`orderbook.500.*` for the bundled archive) to receive the
//! deltas; other depths receive the snapshot only. `{"op":"ping"}` is answered with a pong.
//!
//! Private: `{"op":"auth","args":[key, expires, signature]}` with `signature = hex(HMAC(secret,
//! "GET/realtime" + expires))` and `expires` in the future; then `order`, `execution`, `position` and
//! `wallet` can be subscribed. A subscription before `auth` is refused.
use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use ferrotrade_model::{BookSide, Venue};
use ferrotrade_venues::auth::{bybit_ws_signature, signatures_equal};
use serde_json::{Value, json};

use super::{Reply, run};
use crate::clock::wall_ms;
use crate::exchange::Exchange;
use crate::hub::Endpoint;
use crate::state::{Shared, lock};

/// The private topics served.
const PRIVATE_TOPICS: [&str; 4] = ["order", "execution", "position", "wallet"];

/// `/v5/public/linear`.
pub(crate) async fn public_linear(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    public(shared, Venue::BybitLinear, ws)
}

/// `/v5/public/spot`.
pub(crate) async fn public_spot(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    public(shared, Venue::BybitSpot, ws)
}

/// `/v5/private`.
pub(crate) async fn private(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.read_buffer_size(super::READ_BUFFER).on_upgrade(move |socket| async move {
        let registration = lock(&shared.hub).register(Endpoint::BybitPrivate { account: None }, BTreeSet::new(), false);
        let id = registration.id;
        let handler_shared = Arc::clone(&shared);
        let mut account = None;
        run(shared, socket, registration, move |text| private_message(&handler_shared, id, &mut account, text)).await;
    })
}

fn public(shared: Arc<Shared>, venue: Venue, ws: WebSocketUpgrade) -> Response {
    ws.read_buffer_size(super::READ_BUFFER).on_upgrade(move |socket| async move {
        let registration = lock(&shared.hub).register(Endpoint::Market(venue), BTreeSet::new(), false);
        let id = registration.id;
        let handler_shared = Arc::clone(&shared);
        run(shared, socket, registration, move |text| public_message(&handler_shared, venue, id, text)).await;
    })
}

/// A book as the `orderbook` topic and `/v5/market/orderbook` send it.
#[derive(Debug, Clone)]
pub(crate) struct BookData {
    pub symbol: String,
    pub bids: Vec<[String; 2]>,
    pub asks: Vec<[String; 2]>,
    pub update_id: u64,
    pub seq: u64,
    pub ts_ms: u64,
}

/// The top `limit` levels of instrument `index`'s replayed book, `None` while it is not synced.
pub(crate) fn book_data(shared: &Shared, index: usize, limit: usize) -> Option<BookData> {
    book_data_of(shared, &lock(&shared.exchange), index, limit)
}

/// As [`book_data`], for a caller holding the exchange lock.
fn book_data_of(shared: &Shared, exchange: &Exchange, index: usize, limit: usize) -> Option<BookData> {
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
    Some(BookData {
        symbol: instrument.id.symbol.clone(),
        bids: side(BookSide::Bid),
        asks: side(BookSide::Ask),
        update_id: market.last_update_id,
        seq: market.book_messages,
        ts_ms: market.last_book_ts.0 / 1_000_000,
    })
}

fn args(request: &Value) -> Vec<String> {
    request
        .get("args")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn ack(op: &str, success: bool, message: &str, request: &Value, id: u64) -> Reply {
    let req_id = request.get("req_id").cloned().unwrap_or(Value::String(String::new()));
    Reply::Text(
        json!({"success": success, "ret_msg": message, "conn_id": id.to_string(), "req_id": req_id, "op": op})
            .to_string(),
    )
}

/// `orderbook.<depth>.<SYMBOL>` -> `(depth, SYMBOL)`.
fn orderbook_topic(topic: &str) -> Option<(usize, &str)> {
    let rest = topic.strip_prefix("orderbook.")?;
    let (depth, symbol) = rest.split_once('.')?;
    Some((depth.parse().ok()?, symbol))
}

fn public_message(shared: &Shared, venue: Venue, id: u64, text: &str) -> Vec<Reply> {
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return vec![Reply::Text(json!({"success": false, "ret_msg": "Invalid JSON", "op": ""}).to_string())];
    };
    let op = request.get("op").and_then(Value::as_str).unwrap_or_default();
    let topics = args(&request);
    match op {
        "ping" => vec![ack("ping", true, "pong", &request, id)],
        "subscribe" => {
            let known = |topic: &String| {
                let symbol = topic.rsplit('.').next().unwrap_or_default();
                shared.instrument(venue, symbol).is_some()
            };
            if let Some(bad) = topics.iter().find(|t| !known(t)) {
                return vec![ack("subscribe", false, &format!("Invalid symbol :[{bad}]"), &request, id)];
            }
            let mut replies = vec![ack("subscribe", true, "", &request, id)];
            // Snapshot and subscription under the exchange lock: no recorded delta can fall between them.
            let exchange_guard = lock(&shared.exchange);
            for topic in &topics {
                if let Some((depth, symbol)) = orderbook_topic(topic)
                    && let Some(index) = shared.instrument(venue, symbol)
                {
                    replies.extend(snapshot_message(shared, &exchange_guard, index, depth, topic));
                }
            }
            lock(&shared.hub).subscribe(id, &topics);
            drop(exchange_guard);
            shared.resume();
            replies
        }
        "unsubscribe" => {
            lock(&shared.hub).unsubscribe(id, &topics);
            vec![ack("unsubscribe", true, "", &request, id)]
        }
        other => vec![ack(other, false, &format!("Invalid op: {other}"), &request, id)],
    }
}

/// The `snapshot` message of `topic`, when the book is synced.
fn snapshot_message(shared: &Shared, exchange: &Exchange, index: usize, depth: usize, topic: &str) -> Option<Reply> {
    let book = book_data_of(shared, exchange, index, depth)?;
    Some(Reply::Text(
        json!({
            "topic": topic,
            "type": "snapshot",
            "ts": book.ts_ms,
            "data": {"s": book.symbol, "b": book.bids, "a": book.asks, "u": book.update_id, "seq": book.seq},
            "cts": book.ts_ms,
        })
        .to_string(),
    ))
}

fn private_message(shared: &Shared, id: u64, account: &mut Option<usize>, text: &str) -> Vec<Reply> {
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return vec![Reply::Text(json!({"success": false, "ret_msg": "Invalid JSON", "op": ""}).to_string())];
    };
    let op = request.get("op").and_then(Value::as_str).unwrap_or_default();
    match op {
        "ping" => {
            let req_id = request.get("req_id").cloned().unwrap_or(Value::String(String::new()));
            vec![Reply::Text(
                json!({"req_id": req_id, "op": "pong", "args": [wall_ms().to_string()], "conn_id": id.to_string()})
                    .to_string(),
            )]
        }
        "auth" => match authenticate(shared, &request) {
            Ok(owner) => {
                *account = Some(owner);
                lock(&shared.hub).authenticate(id, owner);
                vec![ack("auth", true, "", &request, id)]
            }
            Err(message) => vec![ack("auth", false, message, &request, id)],
        },
        "subscribe" if account.is_none() => vec![ack("subscribe", false, "Request not authorized", &request, id)],
        "subscribe" => {
            let topics = args(&request);
            if let Some(bad) = topics.iter().find(|t| !PRIVATE_TOPICS.contains(&t.as_str())) {
                return vec![ack("subscribe", false, &format!("Invalid topic :[{bad}]"), &request, id)];
            }
            lock(&shared.hub).subscribe(id, &topics);
            vec![ack("subscribe", true, "", &request, id)]
        }
        "unsubscribe" => {
            lock(&shared.hub).unsubscribe(id, &args(&request));
            vec![ack("unsubscribe", true, "", &request, id)]
        }
        other => vec![ack(other, false, &format!("Invalid op: {other}"), &request, id)],
    }
}

/// Checks an `auth` request; returns the account.
fn authenticate(shared: &Shared, request: &Value) -> Result<usize, &'static str> {
    let items = request.get("args").and_then(Value::as_array).ok_or("Params Error")?;
    let (Some(key), Some(expires), Some(signature)) = (items.first(), items.get(1), items.get(2)) else {
        return Err("Params Error");
    };
    let key = key.as_str().ok_or("Params Error")?;
    let expires = expires.as_u64().or_else(|| expires.as_str().and_then(|e| e.parse().ok())).ok_or("Params Error")?;
    let signature = signature.as_str().ok_or("Params Error")?;
    let account = shared.account(key).ok_or("Invalid apikey")?;
    if expires <= wall_ms() {
        return Err("Params Error: expires is in the past");
    }
    let expected = bybit_ws_signature(shared.config.accounts[account].secret.expose(), expires);
    if !signatures_equal(&expected, signature) {
        return Err("Signature verification failed");
    }
    Ok(account)
}
