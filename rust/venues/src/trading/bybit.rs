//! Bybit v5 order entry for the linear and spot categories: signed request builders, the private
//! WebSocket `auth`/`subscribe` frames, and parsers of the REST answers. Private stream frames are parsed
//! by [`parse_user_frame`].
//!
//! # Signing
//! `X-BAPI-SIGN = hex(HMAC-SHA256(secret, timestamp + api_key + recv_window + payload))`, the payload
//! being the query string of a `GET` and the exact JSON body of a `POST` (the bytes signed are the bytes
//! sent: bodies are serialized once, here). Headers: `X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP`,
//! `X-BAPI-RECV-WINDOW`, `X-BAPI-SIGN`, plus `Content-Type: application/json` on a `POST`.
//!
//! # Answers
//! Every answer is `{"retCode":0,"retMsg":"OK","result":{..},"retExtInfo":{},"time":ms}`; a `retCode`
//! other than 0 (HTTP 200 still) is returned as [`TradingError::Api`]. Non-200 answers (403 for an IP
//! block, 5xx) go through [`parse_error`].
//!
//! # Status mapping
//! | Bybit `orderStatus` | [`OrderStatus`](ferrotrade_model::OrderStatus) |
//! |---|---|
//! | `Created` | `Submitted` |
//! | `New`, `Untriggered` | `Accepted` |
//! | `PartiallyFilled` | `PartiallyFilled` |
//! | `Filled` | `Filled` |
//! | `Cancelled`, `PartiallyFilledCanceled`, `Deactivated` | `Canceled` |
//! | `Rejected` | `Rejected` |
//! | `Triggered` | `Triggered` |
//!
//! An order with a non-zero `triggerPrice` is a `StopMarket` or `StopLimit`; `PostOnly` and `RPI` time
//! in force read as `Gtc`.

use ferrotrade_model::{Decimal, OrderSide, OrderType, Venue};
use serde::Serialize;

pub use super::bybit_executions::parse_executions;
pub use super::bybit_rest::{
    OrderIds, parse_cancel_all, parse_error, parse_open_orders, parse_order_ids, parse_positions, parse_server_time,
    parse_wallet_balance,
};
pub use super::bybit_user::parse_user_frame;
use super::{NewOrder, OrderRef, SignedRequest, TradingError, push_param};
pub use super::{client_id_from_wire, client_id_to_wire};
use crate::auth::{Credentials, HmacKey, SigningKey};

/// The Bybit product category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// USDT/USDC perpetuals and futures.
    Linear,
    /// Spot.
    Spot,
}

impl Category {
    /// The `category` parameter value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Linear => "linear",
            Category::Spot => "spot",
        }
    }

    /// The venue.
    #[must_use]
    pub const fn venue(self) -> Venue {
        match self {
            Category::Linear => Venue::BybitLinear,
            Category::Spot => Venue::BybitSpot,
        }
    }

    /// The category of a Bybit venue; `None` for others (and inverse, not traded).
    #[must_use]
    pub const fn of(venue: Venue) -> Option<Category> {
        match venue {
            Venue::BybitLinear => Some(Category::Linear),
            Venue::BybitSpot => Some(Category::Spot),
            _ => None,
        }
    }

    pub(crate) fn from_wire(text: &str) -> Option<Category> {
        match text {
            "linear" => Some(Category::Linear),
            "spot" => Some(Category::Spot),
            _ => None,
        }
    }
}

/// Default `X-BAPI-RECV-WINDOW` (Bybit's documented default).
pub const DEFAULT_RECV_WINDOW_MS: u64 = 5_000;

/// Builds signed Bybit v5 requests for one API key (HMAC only).
#[derive(Clone, Debug)]
pub struct BybitRequests {
    credentials: Credentials,
    /// The HMAC secret's keyed state, computed once (`None` for an Ed25519 key, which Bybit refuses).
    hmac: Option<HmacKey>,
    recv_window_ms: u64,
}

impl BybitRequests {
    /// Requests signed with `credentials` and the default receive window.
    #[must_use]
    pub fn new(credentials: Credentials) -> BybitRequests {
        let hmac = match &credentials.signing {
            SigningKey::Hmac(secret) => Some(HmacKey::new(secret.expose().as_bytes())),
            SigningKey::Ed25519(_) => None,
        };
        BybitRequests { credentials, hmac, recv_window_ms: DEFAULT_RECV_WINDOW_MS }
    }

    /// Sets the receive window.
    #[must_use]
    pub fn with_recv_window(mut self, recv_window_ms: u64) -> BybitRequests {
        self.recv_window_ms = recv_window_ms;
        self
    }

    /// A signed `GET` of `path?query` (`query` already encoded, possibly empty).
    ///
    /// # Errors
    /// [`TradingError::Auth`] for an Ed25519 key.
    pub fn signed_get(
        &self,
        path: &'static str,
        query: String,
        timestamp_ms: u64,
    ) -> Result<SignedRequest, TradingError> {
        let headers = self.headers(timestamp_ms, &query, false)?;
        Ok(SignedRequest { method: "GET", path, query, body: None, headers })
    }

    /// A signed `POST` of the JSON `body`.
    ///
    /// # Errors
    /// [`TradingError::Auth`] for an Ed25519 key.
    pub fn signed_post(
        &self,
        path: &'static str,
        body: String,
        timestamp_ms: u64,
    ) -> Result<SignedRequest, TradingError> {
        let headers = self.headers(timestamp_ms, &body, true)?;
        Ok(SignedRequest { method: "POST", path, query: String::new(), body: Some(body), headers })
    }

    fn headers(
        &self,
        timestamp_ms: u64,
        payload: &str,
        json: bool,
    ) -> Result<Vec<(&'static str, String)>, TradingError> {
        let (timestamp, recv_window) = (timestamp_ms.to_string(), self.recv_window_ms.to_string());
        let signature = match &self.hmac {
            // `timestamp + api_key + recv_window + payload`, as `auth::bybit_rest_signature` signs it.
            Some(key) => key
                .sign_hex_parts(&[
                    timestamp.as_bytes(),
                    self.credentials.api_key.as_bytes(),
                    recv_window.as_bytes(),
                    payload.as_bytes(),
                ])
                .as_str()
                .to_owned(),
            None => self.credentials.bybit_signature(timestamp_ms, self.recv_window_ms, payload)?,
        };
        let mut headers = Vec::with_capacity(5);
        headers.extend([
            ("X-BAPI-API-KEY", self.credentials.api_key.clone()),
            ("X-BAPI-TIMESTAMP", timestamp),
            ("X-BAPI-RECV-WINDOW", recv_window),
            ("X-BAPI-SIGN", signature),
        ]);
        if json {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        Ok(headers)
    }

    /// `POST /v5/order/create`. Post-only is `timeInForce=PostOnly`; stop orders carry `triggerPrice`
    /// with `triggerDirection` 1 (buy: triggers when the price rises to it) or 2 (sell: falls to it) on
    /// linear, and `orderFilter=StopOrder` on spot; spot market orders size in the base coin
    /// (`marketUnit=baseCoin`).
    ///
    /// # Errors
    /// [`TradingError::InvalidRequest`] for a limit order without price, a stop order without stop price,
    /// post-only on a non-limit order or reduce-only on spot; [`TradingError::Auth`] for an Ed25519 key.
    pub fn create_order(
        &self,
        category: Category,
        order: &NewOrder,
        timestamp_ms: u64,
    ) -> Result<SignedRequest, TradingError> {
        let invalid = |what: &str| {
            Err(TradingError::InvalidRequest(format!("{} {}: {what}", order.symbol, order.order_type.as_str())))
        };
        let is_limit = matches!(order.order_type, OrderType::Limit | OrderType::StopLimit);
        let is_stop = matches!(order.order_type, OrderType::StopMarket | OrderType::StopLimit);
        if is_limit && order.price.is_none() {
            return invalid("a price is required");
        }
        if is_stop && order.stop_price.is_none() {
            return invalid("a stop price is required");
        }
        if order.post_only && order.order_type != OrderType::Limit {
            return invalid("post-only applies to limit orders only");
        }
        if order.reduce_only && category == Category::Spot {
            return invalid("reduce-only does not exist on spot");
        }
        let time_in_force = match (is_limit, order.post_only) {
            (false, _) => "IOC",
            (true, true) => "PostOnly",
            (true, false) => order.time_in_force.as_str(),
        };
        let body = CreateBody {
            category: category.as_str(),
            symbol: &order.symbol,
            side: side_to_wire(order.side),
            order_type: if is_limit { "Limit" } else { "Market" },
            qty: order.quantity.to_string(),
            price: order.price.filter(|_| is_limit).map(|p| p.to_string()),
            time_in_force,
            order_link_id: client_id_to_wire(order.client_id),
            reduce_only: order.reduce_only.then_some(true),
            trigger_price: order.stop_price.filter(|_| is_stop).map(|p| p.to_string()),
            trigger_direction: (is_stop && category == Category::Linear).then_some(match order.side {
                OrderSide::Buy => 1,
                OrderSide::Sell => 2,
            }),
            order_filter: (is_stop && category == Category::Spot).then_some("StopOrder"),
            market_unit: (!is_limit && category == Category::Spot).then_some("baseCoin"),
        };
        self.signed_post("/v5/order/create", to_json(&body)?, timestamp_ms)
    }

    /// `POST /v5/order/cancel`.
    ///
    /// # Errors
    /// [`TradingError::Auth`] for an Ed25519 key.
    pub fn cancel_order(
        &self,
        category: Category,
        symbol: &str,
        order: &OrderRef,
        timestamp_ms: u64,
    ) -> Result<SignedRequest, TradingError> {
        let body = OrderRefBody::new(category, symbol, order);
        self.signed_post("/v5/order/cancel", to_json(&body)?, timestamp_ms)
    }

    /// `POST /v5/order/amend`: new quantity and/or price (at least one should be given).
    ///
    /// # Errors
    /// [`TradingError::InvalidRequest`] when neither is given; [`TradingError::Auth`] for an Ed25519 key.
    pub fn amend_order(
        &self,
        category: Category,
        symbol: &str,
        order: &OrderRef,
        quantity: Option<Decimal>,
        price: Option<Decimal>,
        timestamp_ms: u64,
    ) -> Result<SignedRequest, TradingError> {
        if quantity.is_none() && price.is_none() {
            return Err(TradingError::InvalidRequest(format!("{symbol}: an amend needs a quantity or a price")));
        }
        let body = AmendBody {
            reference: OrderRefBody::new(category, symbol, order),
            qty: quantity.map(|q| q.to_string()),
            price: price.map(|p| p.to_string()),
        };
        self.signed_post("/v5/order/amend", to_json(&body)?, timestamp_ms)
    }

    /// `POST /v5/order/cancel-all` for one symbol.
    ///
    /// # Errors
    /// [`TradingError::Auth`] for an Ed25519 key.
    pub fn cancel_all(
        &self,
        category: Category,
        symbol: &str,
        timestamp_ms: u64,
    ) -> Result<SignedRequest, TradingError> {
        #[derive(Serialize)]
        struct Body<'a> {
            category: &'static str,
            symbol: &'a str,
        }
        let body = Body { category: category.as_str(), symbol };
        self.signed_post("/v5/order/cancel-all", to_json(&body)?, timestamp_ms)
    }

    /// `GET /v5/order/realtime`: open orders of one symbol, or of every USDT-settled symbol (linear) / every
    /// symbol (spot) when `symbol` is `None`.
    ///
    /// # Errors
    /// [`TradingError::Auth`] for an Ed25519 key.
    pub fn open_orders(
        &self,
        category: Category,
        symbol: Option<&str>,
        timestamp_ms: u64,
    ) -> Result<SignedRequest, TradingError> {
        self.signed_get("/v5/order/realtime", category_query(category, symbol), timestamp_ms)
    }

    /// `GET /v5/position/list` (linear): one symbol, or every USDT-settled one.
    ///
    /// # Errors
    /// [`TradingError::Auth`] for an Ed25519 key.
    pub fn positions(&self, symbol: Option<&str>, timestamp_ms: u64) -> Result<SignedRequest, TradingError> {
        self.signed_get("/v5/position/list", category_query(Category::Linear, symbol), timestamp_ms)
    }

    /// `GET /v5/account/wallet-balance?accountType=UNIFIED`.
    ///
    /// # Errors
    /// [`TradingError::Auth`] for an Ed25519 key.
    pub fn wallet_balance(&self, timestamp_ms: u64) -> Result<SignedRequest, TradingError> {
        self.signed_get("/v5/account/wallet-balance", "accountType=UNIFIED".to_owned(), timestamp_ms)
    }

    /// The private WebSocket `auth` frame, valid until `expires_ms` (a few seconds ahead of now).
    ///
    /// # Errors
    /// [`TradingError::Auth`] for an Ed25519 key.
    pub fn ws_auth(&self, expires_ms: u64) -> Result<String, TradingError> {
        let signature = self.credentials.bybit_ws_signature(expires_ms)?;
        #[derive(Serialize)]
        struct Auth<'a> {
            op: &'static str,
            args: (&'a str, u64, String),
        }
        to_json(&Auth { op: "auth", args: (&self.credentials.api_key, expires_ms, signature) })
    }
}

/// A `subscribe` frame for private (or public) topics: `{"op":"subscribe","req_id":..,"args":[..]}`.
#[must_use]
pub fn ws_subscribe(req_id: &str, topics: &[&str]) -> String {
    #[derive(Serialize)]
    struct Subscribe<'a> {
        op: &'static str,
        req_id: &'a str,
        args: &'a [&'a str],
    }
    // Serializing strings and a slice of strings cannot fail.
    serde_json::to_string(&Subscribe { op: "subscribe", req_id, args: topics }).unwrap_or_default()
}

/// The keep-alive frame `{"op":"ping"}` (Bybit closes a silent connection after about 10 minutes; send one
/// every 20 s).
pub const WS_PING: &str = r#"{"op":"ping"}"#;

fn category_query(category: Category, symbol: Option<&str>) -> String {
    let mut query = String::with_capacity(48);
    push_param(&mut query, "category", category.as_str());
    match (symbol, category) {
        (Some(symbol), _) => push_param(&mut query, "symbol", symbol),
        // Linear needs one of symbol / baseCoin / settleCoin.
        (None, Category::Linear) => push_param(&mut query, "settleCoin", "USDT"),
        (None, Category::Spot) => {}
    }
    query
}

fn to_json(body: &impl Serialize) -> Result<String, TradingError> {
    serde_json::to_string(body).map_err(|e| TradingError::InvalidRequest(format!("cannot serialize the body: {e}")))
}

const fn side_to_wire(side: OrderSide) -> &'static str {
    match side {
        OrderSide::Buy => "Buy",
        OrderSide::Sell => "Sell",
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    category: &'static str,
    symbol: &'a str,
    side: &'static str,
    order_type: &'static str,
    qty: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<String>,
    time_in_force: &'a str,
    order_link_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reduce_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger_price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger_direction: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_filter: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    market_unit: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderRefBody<'a> {
    category: &'static str,
    symbol: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_link_id: Option<String>,
}

impl<'a> OrderRefBody<'a> {
    fn new(category: Category, symbol: &'a str, order: &'a OrderRef) -> OrderRefBody<'a> {
        let (order_id, order_link_id) = match order {
            OrderRef::Client(id) => (None, Some(client_id_to_wire(*id))),
            OrderRef::Venue(id) => (Some(id.as_str()), None),
        };
        OrderRefBody { category: category.as_str(), symbol, order_id, order_link_id }
    }
}

#[derive(Serialize)]
struct AmendBody<'a> {
    #[serde(flatten)]
    reference: OrderRefBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<String>,
}
