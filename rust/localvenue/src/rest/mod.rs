//! REST endpoints: Binance spot (`/api/v3`), Binance USD-M (`/fapi`) and Bybit v5 (`/v5`), with the
//! parameters, JSON bodies, error codes and HTTP statuses of the venues' API docs.
//!
//! Every request passes [`faults`] first (the seeded `rest_5xx` fault), then its venue's rate limit
//! ([`crate::limits`]), then authentication for signed endpoints ([`auth`]), then the handler.
pub(crate) mod auth;
mod binance_account;
mod binance_market;
mod binance_trade;
mod bybit;
pub(crate) mod params;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use rand::Rng;
use serde_json::{Value, json};

use crate::state::{Shared, lock};

/// The REST routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v3/{*path}", any(binance_trade::spot))
        .route("/fapi/{*path}", any(binance_trade::usdm))
        .route("/v5/market/{*path}", any(bybit::handle))
        .route("/v5/order/{*path}", any(bybit::handle))
        .route("/v5/execution/{*path}", any(bybit::handle))
        .route("/v5/position/{*path}", any(bybit::handle))
        .route("/v5/account/{*path}", any(bybit::handle))
        .layer(axum::middleware::from_fn_with_state(shared, faults))
}

/// Counts the request and, with probability `rest_5xx`, answers it with the venue's 5xx.
async fn faults(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    shared.counters.rest_requests.fetch_add(1, Ordering::Relaxed);
    let probability = shared.config.faults.rest_5xx;
    if probability > 0.0 && lock(&shared.rng).random::<f64>() < probability {
        shared.counters.rest_5xx.fetch_add(1, Ordering::Relaxed);
        let body = if request.uri().path().starts_with("/v5/") {
            json!({"retCode": 10016, "retMsg": "Internal system error.", "result": {}, "retExtInfo": {}, "time": crate::clock::wall_ms()})
        } else {
            json!({"code": -1001, "msg": "Internal error; unable to process your request. Please try again."})
        };
        return json_response(StatusCode::SERVICE_UNAVAILABLE, &body);
    }
    next.run(request).await
}

/// A JSON response with `status`.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A Binance error: HTTP `status` with `{"code":..,"msg":..}`.
pub(crate) fn binance_error(status: StatusCode, code: i64, msg: &str) -> Response {
    json_response(status, &json!({"code": code, "msg": msg}))
}

/// A refused Binance request, small enough to travel in a `Result` (a `Response` is not); turned into
/// the HTTP answer with [`IntoResponse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    status: StatusCode,
    code: i64,
    msg: String,
}

impl Refusal {
    /// HTTP `status` with `{"code": code, "msg": msg}`.
    pub fn new(status: StatusCode, code: i64, msg: impl Into<String>) -> Refusal {
        Refusal { status, code, msg: msg.into() }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        binance_error(self.status, self.code, &self.msg)
    }
}

/// Sets a header from a value that is always a valid header value (numbers).
pub(crate) fn set_header(response: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        response.headers_mut().insert(name, value);
    }
}
