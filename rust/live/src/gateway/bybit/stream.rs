//! The gateway's background work: the private WebSocket (auth, subscribe, ping, reconnect and catch-up
//! after a gap) and reconciliation snapshots (open orders, and positions on linear).

use std::rc::Rc;
use std::time::Duration;

use ferrotrade_model::{InstrumentIndex, Quantity};
use ferrotrade_venues::trading::bybit::{
    Category, WS_PING, parse_open_orders, parse_positions, parse_user_frame, ws_subscribe,
};
use ferrotrade_venues::trading::{TradingError, UserEvent};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::{AUTH_VALIDITY, PING_EVERY, Shared};
use crate::gateway::core::{Core, OrderQueries, fixed};
use crate::gateway::{GatewayEvent, VenueSnapshot};

/// The private topics: order states, fills, positions, balances.
const TOPICS: [&str; 4] = ["order", "execution", "position", "wallet"];
/// First and longest delay before reconnecting the private stream.
const RECONNECT_MIN: Duration = Duration::from_millis(250);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// After a private-stream gap: queries every order the gateway still tracks, reporting what was missed.
async fn catch_up(shared: Rc<Shared>) {
    let working = shared.working();
    if !working.is_empty() {
        shared.notice(format!("catch-up: querying {} working orders", working.len()));
    }
    for (client_id, instrument) in working {
        // What the query finds is applied to the order; nothing more to do with it here.
        let _ = shared.query_order(client_id, instrument).await;
    }
}

pub(super) async fn snapshot(shared: Rc<Shared>, scope: Vec<InstrumentIndex>) {
    let mut result =
        VenueSnapshot { scope: scope.clone(), orders: Vec::new(), positions: vec![None; shared.instruments.len()] };
    for &instrument in &scope {
        let Some((symbol, spec)) = shared.symbol(instrument).cloned() else { continue };
        match shared.call(|ts| shared.requests.open_orders(shared.category, Some(&symbol), ts)).await {
            Ok(Ok(body)) => match parse_open_orders(shared.category, &body) {
                Ok(updates) => {
                    let orders = updates.iter().filter_map(|update| Core::venue_order(update, instrument, &spec));
                    result.orders.extend(orders);
                }
                Err(error) => shared.notice(format!("open orders: {error}")),
            },
            Ok(Err(error)) => shared.notice(format!("open orders: {error}")),
            Err(transport) => shared.notice(format!("open orders: {transport}")),
        }
        if shared.category == Category::Linear
            && let Ok(Ok(body)) = shared.call(|ts| shared.requests.positions(Some(&symbol), ts)).await
            && let Ok(positions) = parse_positions(&body)
        {
            let size = positions
                .iter()
                .filter(|p| p.symbol.eq_ignore_ascii_case(&symbol))
                .filter_map(|p| fixed(p.size, spec.size_precision))
                .sum::<i64>();
            result.positions[instrument.get()] = Some(Quantity(size));
        }
    }
    shared.emit(GatewayEvent::Snapshot(result));
}

/// Why a private connection ended.
enum Ended {
    /// The socket closed or failed (reconnect soon).
    Lost,
    /// The venue refused the key or a subscription (reconnect after the longest delay).
    Refused,
}

/// The private stream: connect, authenticate, subscribe, ping, reconnect.
pub(super) async fn private_stream(shared: Rc<Shared>) {
    shared.sync_time().await;
    let mut connected_before = false;
    let mut delay = RECONNECT_MIN;
    loop {
        let ended = connection(&shared, &mut connected_before).await;
        if shared.stream_up.replace(false) {
            delay = RECONNECT_MIN;
            shared.emit(GatewayEvent::Connection { up: false });
        }
        if matches!(ended, Ended::Refused) {
            delay = RECONNECT_MAX;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RECONNECT_MAX);
    }
}

/// One private connection, until it ends. The catch-up after a gap starts once the subscription is
/// acknowledged, so whatever happens after the query's answer is on the stream.
async fn connection(shared: &Rc<Shared>, connected_before: &mut bool) -> Ended {
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(shared.ws.as_str()).await else {
        shared.notice("private stream: connect failed".into());
        return Ended::Lost;
    };
    let expires = shared.timestamp() + AUTH_VALIDITY.as_millis() as u64;
    let auth = match shared.requests.ws_auth(expires) {
        Ok(frame) => frame,
        Err(error) => {
            shared.notice(format!("private stream: {error}"));
            return Ended::Refused;
        }
    };
    let subscribe = ws_subscribe("ft-private", &TOPICS);
    for frame in [auth, subscribe] {
        if socket.send(Message::text(frame)).await.is_err() {
            return Ended::Lost;
        }
    }
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let mut events = Vec::new();
    loop {
        tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    events.clear();
                    match parse_user_frame(shared.category.venue(), text.as_str(), &mut events) {
                        Ok(()) => {}
                        Err(TradingError::Api(error)) => {
                            shared.notice(format!("private stream refused: {error}"));
                            return Ended::Refused;
                        }
                        Err(error) => {
                            shared.notice(format!("private stream: {error}"));
                            continue;
                        }
                    }
                    for event in events.drain(..) {
                        match event {
                            UserEvent::Order(update) => shared.apply(&update).await,
                            UserEvent::Other("subscribe") => {
                                shared.stream_up.set(true);
                                shared.emit(GatewayEvent::Connection { up: true });
                                if *connected_before {
                                    shared.notice("private stream reconnected; catching up".into());
                                    tokio::task::spawn_local(catch_up(Rc::clone(shared)));
                                }
                                *connected_before = true;
                            }
                            _ => {}
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Ended::Lost,
            },
            _ = ping.tick() => {
                if socket.send(Message::text(WS_PING)).await.is_err() {
                    return Ended::Lost;
                }
            }
        }
    }
}
