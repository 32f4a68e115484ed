//! The HTTP endpoint: `GET /metrics` (Prometheus), `POST /kill` (the kill switch), `GET /health`.
//!
//! `/kill` needs `Authorization: Bearer TOKEN` (the control token) and answers once the engine confirmed
//! the kill or the kill timed out, with the kill report as JSON:
//! `{"ok":true,"state":"halted","cancelled":2,"flatten_orders":1,"open_orders":0,"open_positions":0,"elapsed_ms":41.2}`.
//! A wrong token gets `401` and is logged (origin and client address, never the token). `/metrics` and
//! `/health` are open, like any Prometheus target on loopback.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::mpsc;

use crate::control::ControlRequest;
use crate::publisher::{Latest, SharedStats, ask_engine, lock, log_refusal};
use crate::{Token, proto};

#[derive(Clone)]
pub(crate) struct HttpState {
    pub token: Token,
    pub commands: mpsc::Sender<ControlRequest>,
    pub latest: Arc<Mutex<Latest>>,
    pub stats: Arc<SharedStats>,
    pub kill_timeout: Duration,
}

pub(crate) async fn serve(listener: tokio::net::TcpListener, state: HttpState) {
    let app = axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .route("/kill", post(kill))
        .with_state(state);
    let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
}

async fn metrics(State(state): State<HttpState>) -> Response {
    let text = {
        let latest = lock(&state.latest);
        let positions: Vec<proto::Position> = latest.positions.values().cloned().collect();
        crate::render_metrics(latest.metrics.as_ref(), &positions, state.stats.figures())
    };
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

async fn health(State(state): State<HttpState>) -> Response {
    let figures = state.stats.figures();
    let body = serde_json::json!({"ok": true, "published": figures.published, "subscribers": figures.subscribers});
    json(StatusCode::OK, &body)
}

async fn kill(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !state.token.matches(presented.as_bytes()) {
        log_refusal("http", &peer.to_string(), "kill", &state.stats);
        return json(StatusCode::UNAUTHORIZED, &serde_json::json!({"ok": false, "error": "unauthorized"}));
    }
    let timeout_ms = u32::try_from(state.kill_timeout.as_millis()).unwrap_or(u32::MAX);
    let command = proto::command::Command::Kill(proto::KillCommand { timeout_ms });
    let reply = ask_engine(&state.commands, command, 0, "http", &state.stats).await;
    let report = match &reply.reply {
        Some(proto::reply::Reply::Kill(report)) => Some(report),
        _ => None,
    };
    let mut body = serde_json::json!({"ok": reply.ok});
    if !reply.error.is_empty() {
        body["error"] = reply.error.clone().into();
    }
    if let Some(report) = report {
        let state_name = proto::TradingState::try_from(report.state)
            .map_or("unspecified", |state| state.as_str_name())
            .trim_start_matches("TRADING_STATE_")
            .to_ascii_lowercase();
        body["state"] = state_name.into();
        body["cancelled"] = report.cancelled.into();
        body["flatten_orders"] = report.flatten_orders.into();
        body["open_orders"] = report.open_orders.into();
        body["open_positions"] = report.open_positions.into();
        body["elapsed_ms"] = (report.elapsed_ns as f64 / 1e6).into();
    }
    let status = if reply.ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    json(status, &body)
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}
