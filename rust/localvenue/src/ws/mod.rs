//! WebSocket endpoints and the loop every connection runs.
//!
//! | path | what |
//! |---|---|
//! | `/binance-spot/stream?streams=a/b`, `/binance-usdm/stream?streams=a/b` | combined streams (`{"stream":..,"data":..}`), SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS |
//! | `/binance-spot/ws`, `/binance-usdm/ws`, `.../ws/<stream>` | raw streams (the recorded `data` payload only) |
//! | `/binance-spot/ws/<listenKey>`, `/binance-usdm/ws/<listenKey>` | user data of the key's account |
//! | `/v5/public/linear`, `/v5/public/spot` | Bybit public topics (`op: subscribe / unsubscribe / ping`) |
//! | `/v5/private` | Bybit private topics after `op: auth` |
//!
//! # The connection loop
//! One task per connection multiplexes: the connection's queue (frames and pushes, see [`crate::hub`]),
//! the client's messages (answered by the endpoint's handler, in order, before anything queued later),
//! server pings every [`crate::SessionLimits::ping_interval`], the idle timeout, the `disconnect_every`
//! fault, a kill from the hub, and shutdown. Pongs to client pings are sent by the WebSocket layer.
pub(crate) mod binance;
pub(crate) mod bybit;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::routing::get;
use tokio::time::{Instant, sleep_until};

use crate::hub::{Out, Registration};
use crate::state::{Shared, lock};

/// Read buffer of a server-side connection. Clients send only small control frames (subscribe, auth,
/// ping), and tungstenite zero-fills the whole free buffer before every read, including the reads that
/// find the socket empty: its 128 KiB default made each wake-up of a connection cost a 128 KiB memset.
pub(crate) const READ_BUFFER: usize = 4 * 1024;

/// The WebSocket routes.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/binance-spot/stream", get(binance::spot_combined))
        .route("/binance-usdm/stream", get(binance::usdm_combined))
        .route("/binance-spot/ws", get(binance::spot_raw))
        .route("/binance-usdm/ws", get(binance::usdm_raw))
        .route("/binance-spot/ws/{name}", get(binance::spot_named))
        .route("/binance-usdm/ws/{name}", get(binance::usdm_named))
        .route("/v5/public/linear", get(bybit::public_linear))
        .route("/v5/public/spot", get(bybit::public_spot))
        .route("/v5/private", get(bybit::private))
}

/// What a handler wants done after a client message.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Send this text frame.
    Text(String),
    /// Close the connection (after the texts before it), with a close code and reason.
    Close(u16, &'static str),
}

/// Runs one connection until it closes; `handle` answers each client text message.
///
/// # Cancel safety
/// Meant to be run to completion by the upgrade task; it unregisters the connection on every exit path.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut socket: WebSocket,
    registration: Registration,
    mut handle: impl FnMut(&str) -> Vec<Reply> + Send,
) {
    let Registration { id, mut rx, kill } = registration;
    shared.counters.connections.fetch_add(1, Ordering::Relaxed);
    let sessions = &shared.config.sessions;
    let delay = shared.config.faults.delay;
    let disconnect_at = shared.config.faults.disconnect_every.map(|every| Instant::now() + every);
    let mut ping = tokio::time::interval_at(Instant::now() + sessions.ping_interval, sessions.ping_interval);
    let mut last_heard = Instant::now();
    let mut shutdown = shared.shutdown.subscribe();
    'connection: loop {
        tokio::select! {
            () = kill.notified() => break,
            () = crate::state::raised(&mut shutdown) => break,
            () = sleep_until(disconnect_at.unwrap_or_else(Instant::now)), if disconnect_at.is_some() => {
                shared.counters.fault_disconnects.fetch_add(1, Ordering::Relaxed);
                break;
            }
            () = sleep_until(last_heard + sessions.idle_timeout) => break,
            _ = ping.tick() => {
                if socket.send(Message::Ping(axum::body::Bytes::new())).await.is_err() {
                    break;
                }
            }
            out = rx.recv() => match out {
                Some(Out::Text(text, queued)) => {
                    if let Some(delay) = delay {
                        sleep_until(queued + delay).await;
                    }
                    if socket.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close) | None => break,
            },
            message = socket.recv() => {
                last_heard = Instant::now();
                match message {
                    Some(Ok(Message::Text(text))) => {
                        for reply in handle(text.as_str()) {
                            match reply {
                                Reply::Text(text) => {
                                    if socket.send(Message::Text(Utf8Bytes::from(text))).await.is_err() {
                                        break 'connection;
                                    }
                                }
                                Reply::Close(code, reason) => {
                                    let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
                                    let _ = socket.send(Message::Close(Some(frame))).await;
                                    lock(&shared.hub).unregister(id);
                                    return;
                                }
                            }
                        }
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    Some(Ok(_)) => {}
                }
            }
        }
    }
    lock(&shared.hub).unregister(id);
    let _ = socket.send(Message::Close(None)).await;
}
