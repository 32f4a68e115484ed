//! The gateway's background work: the user-data stream (listen key, WebSocket, keepalive, re-creation
//! and catch-up after a gap) and reconciliation snapshots (open orders and positions).

use std::rc::Rc;
use std::time::Duration;

use ferrotrade_model::{InstrumentIndex, Quantity};
use ferrotrade_venues::trading::UserEvent;
use ferrotrade_venues::trading::binance::{
    Market, parse_listen_key, parse_open_orders, parse_position_risk, parse_user_frame,
};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use super::{KEEPALIVE, Shared};
use crate::gateway::core::{Core, OrderQueries, apply_reported, fixed};
use crate::gateway::{GatewayEvent, VenueSnapshot};

/// After a user-stream gap: queries every order the gateway still tracks, reporting what was missed.
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
        match shared.call(|ts| shared.requests.open_orders(Some(&symbol), ts)).await {
            Ok(Ok(body)) => match parse_open_orders(shared.market, &body) {
                Ok(updates) => {
                    let orders = updates.iter().filter_map(|update| Core::venue_order(update, instrument, &spec));
                    result.orders.extend(orders);
                }
                Err(error) => shared.notice(format!("open orders: {error}")),
            },
            Ok(Err(error)) => shared.notice(format!("open orders: {error}")),
            Err(transport) => shared.notice(format!("open orders: {transport}")),
        }
        if shared.market == Market::UsdM {
            let request = |ts| {
                shared
                    .requests
                    .position_risk(Some(&symbol), ts)
                    .unwrap_or_else(|_| shared.requests.signed("GET", "/", "", ts))
            };
            if let Ok(Ok(body)) = shared.call(request).await
                && let Ok(positions) = parse_position_risk(&body)
            {
                let size = positions
                    .iter()
                    .filter(|p| p.symbol.eq_ignore_ascii_case(&symbol))
                    .filter_map(|p| fixed(p.size, spec.size_precision))
                    .sum::<i64>();
                result.positions[instrument.get()] = Some(Quantity(size));
            }
        }
    }
    shared.emit(GatewayEvent::Snapshot(result));
}

/// The user-data stream: listen key, WebSocket, keepalive, re-creation.
pub(super) async fn user_stream(shared: Rc<Shared>) {
    shared.sync_time().await;
    let mut events = Vec::new();
    let mut connected_before = false;
    loop {
        let key = match shared.call(|_| shared.requests.create_listen_key()).await {
            Ok(Ok(body)) => parse_listen_key(&body).ok(),
            Ok(Err(error)) => {
                shared.notice(format!("listen key: {error}"));
                None
            }
            Err(transport) => {
                shared.notice(format!("listen key: {transport}"));
                None
            }
        };
        let Some(key) = key else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let url = format!("{}/ws/{key}", shared.ws);
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
            shared.notice("user stream: connect failed".into());
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        shared.emit(GatewayEvent::Connection { up: true });
        if connected_before {
            shared.notice("user stream reconnected with a new listen key; catching up".into());
            tokio::task::spawn_local(catch_up(Rc::clone(&shared)));
        }
        connected_before = true;
        let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
        loop {
            tokio::select! {
                frame = socket.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        events.clear();
                        if parse_user_frame(shared.market, text.as_str(), &mut events).is_err() {
                            continue;
                        }
                        let mut expired = false;
                        for event in events.drain(..) {
                            match event {
                                UserEvent::Order(update) => {
                                    apply_reported(&shared, &update, &[], false).await;
                                }
                                UserEvent::ListenKeyExpired => expired = true,
                                _ => {}
                            }
                        }
                        if expired {
                            break;
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
                _ = keepalive.tick() => {
                    if let Ok(Err(error)) = shared.call(|_| shared.requests.keepalive_listen_key(&key)).await {
                        shared.notice(format!("listen key keepalive: {error}"));
                    }
                }
            }
        }
        shared.emit(GatewayEvent::Connection { up: false });
    }
}
