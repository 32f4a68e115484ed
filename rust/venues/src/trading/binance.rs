//! Binance spot (`/api/v3`) and USD-M futures (`/fapi`) order entry: signed request builders and parsers
//! of the REST answers. User-data stream frames are parsed by [`parse_user_frame`].
//!
//! # Signing
//! Parameters go in the query string in a fixed order, then `recvWindow`, `timestamp` and `signature`
//! (HMAC-SHA256 hex, or Ed25519 base64 percent-encoded) over everything before `&signature=`; the API key
//! goes in `X-MBX-APIKEY`. Order entry bodies are empty: Binance accepts signed parameters in the query
//! of a `POST`/`PUT`/`DELETE` as well.
//!
//! # Status mapping
//! | Binance `status` / `X` | [`OrderStatus`](ferrotrade_model::OrderStatus) |
//! |---|---|
//! | `PENDING_NEW` | `Submitted` |
//! | `NEW` | `Accepted` |
//! | `PARTIALLY_FILLED` | `PartiallyFilled` |
//! | `FILLED` | `Filled` |
//! | `PENDING_CANCEL` | `PendingCancel` |
//! | `CANCELED` | `Canceled` |
//! | `REJECTED` | `Rejected` |
//! | `EXPIRED`, `EXPIRED_IN_MATCH` (self-trade prevention) | `Expired` |
//! | USD-M `NEW_INSURANCE`, `NEW_ADL` (liquidation orders, executed at once) | `Filled` |
//!
//! Types: spot `LIMIT`/`LIMIT_MAKER` are `Limit`, `STOP_LOSS`/`TAKE_PROFIT` `StopMarket`,
//! `STOP_LOSS_LIMIT`/`TAKE_PROFIT_LIMIT` `StopLimit`; USD-M `STOP`/`TAKE_PROFIT` `StopLimit`,
//! `STOP_MARKET`/`TAKE_PROFIT_MARKET`/`TRAILING_STOP_MARKET` `StopMarket`, `LIQUIDATION` `Market`.
//! Time in force `GTX` (post-only) and `GTD` read as `Gtc`.
//!
//! # Limits
//! Spot REST answers carry no average price (`avg_price` is `None`; the fills carry the prices). USD-M
//! conditional orders are built for the classic `/fapi/v1/order` endpoint.

use ferrotrade_model::{Decimal, OrderSide, OrderType, Venue};

pub use super::binance_rest::{
    AccountSnapshot, OrderResponse, parse_account, parse_error, parse_listen_key, parse_open_orders, parse_order,
    parse_position_risk, parse_server_time,
};
pub(crate) use super::binance_rest::{side_from_wire, status_from_wire, tif_from_wire, type_from_wire};
pub use super::binance_trades::parse_order_trades;
pub use super::binance_user::{event_time, parse_user_frame};
use super::{NewOrder, OrderRef, SignedRequest, TradingError, push_param, wire_client_id};
pub use super::{client_id_from_wire, client_id_to_wire};
use crate::auth::{Credentials, HmacKey, SigningKey};

/// Which Binance market.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Market {
    /// Spot (`/api/v3`).
    Spot,
    /// USD-M futures (`/fapi`).
    UsdM,
}

impl Market {
    /// The venue this market is.
    #[must_use]
    pub const fn venue(self) -> Venue {
        match self {
            Market::Spot => Venue::BinanceSpot,
            Market::UsdM => Venue::BinanceUsdm,
        }
    }

    /// The market of a Binance venue; `None` for other venues (and COIN-M, not traded).
    #[must_use]
    pub const fn of(venue: Venue) -> Option<Market> {
        match venue {
            Venue::BinanceSpot => Some(Market::Spot),
            Venue::BinanceUsdm => Some(Market::UsdM),
            _ => None,
        }
    }
}

/// What signing appends to a query (`&recvWindow=60000&timestamp=` 13 digits `&signature=` 64 hex digits,
/// or an escaped Ed25519 signature): reserved up front so the query is never reallocated.
const QUERY_SIGNING_ROOM: usize = 160;

/// Default `recvWindow` (Binance's own default).
pub const DEFAULT_RECV_WINDOW_MS: u64 = 5_000;
/// Largest `recvWindow` Binance accepts.
pub const MAX_RECV_WINDOW_MS: u64 = 60_000;

/// Builds signed Binance requests for one market and one API key.
#[derive(Clone, Debug)]
pub struct BinanceRequests {
    market: Market,
    credentials: Credentials,
    /// The HMAC secret's keyed state, computed once (`None` for an Ed25519 key).
    hmac: Option<HmacKey>,
    recv_window_ms: u64,
}

impl BinanceRequests {
    /// Requests for `market` signed with `credentials`, with the default `recvWindow`.
    #[must_use]
    pub fn new(market: Market, credentials: Credentials) -> BinanceRequests {
        let hmac = match &credentials.signing {
            SigningKey::Hmac(secret) => Some(HmacKey::new(secret.expose().as_bytes())),
            SigningKey::Ed25519(_) => None,
        };
        BinanceRequests { market, credentials, hmac, recv_window_ms: DEFAULT_RECV_WINDOW_MS }
    }

    /// Sets `recvWindow` (clamped to Binance's maximum of 60 s).
    #[must_use]
    pub fn with_recv_window(mut self, recv_window_ms: u64) -> BinanceRequests {
        self.recv_window_ms = recv_window_ms.min(MAX_RECV_WINDOW_MS);
        self
    }

    /// The market.
    #[must_use]
    pub fn market(&self) -> Market {
        self.market
    }

    /// Signs `params` (an already encoded query, possibly empty): appends `recvWindow`, `timestamp` and
    /// `signature`, and sets `X-MBX-APIKEY`.
    #[must_use]
    pub fn signed(&self, method: &'static str, path: &'static str, params: &str, timestamp_ms: u64) -> SignedRequest {
        let mut query = String::with_capacity(params.len() + QUERY_SIGNING_ROOM);
        query.push_str(params);
        self.sign(method, path, query, timestamp_ms)
    }

    /// [`BinanceRequests::signed`] of a query being built: appended to in place, no copy.
    fn sign(&self, method: &'static str, path: &'static str, mut query: String, timestamp_ms: u64) -> SignedRequest {
        push_param(&mut query, "recvWindow", self.recv_window_ms);
        push_param(&mut query, "timestamp", timestamp_ms);
        match &self.hmac {
            // The digest stays on the stack: nothing is allocated for it.
            Some(key) => {
                let signature = key.sign_hex(query.as_bytes());
                push_param(&mut query, "signature", signature);
            }
            None => {
                let signature = self.credentials.binance_signature(&query);
                push_param(&mut query, "signature", signature.as_str());
            }
        }
        SignedRequest { method, path, query, body: None, headers: self.api_key_header() }
    }

    fn api_key_header(&self) -> Vec<(&'static str, String)> {
        vec![("X-MBX-APIKEY", self.credentials.api_key.clone())]
    }

    fn order_path(&self) -> &'static str {
        match self.market {
            Market::Spot => "/api/v3/order",
            Market::UsdM => "/fapi/v1/order",
        }
    }

    /// `POST /api/v3/order` or `/fapi/v1/order`. Spot asks for the `FULL` answer (with fills), USD-M for
    /// `RESULT`. Post-only is `LIMIT_MAKER` on spot and `timeInForce=GTX` on USD-M.
    ///
    /// # Errors
    /// [`TradingError::InvalidRequest`] for a limit order without price, a stop order without stop price,
    /// post-only on a non-limit order, or reduce-only on spot.
    pub fn new_order(&self, order: &NewOrder, timestamp_ms: u64) -> Result<SignedRequest, TradingError> {
        let invalid = |what: &str| {
            Err(TradingError::InvalidRequest(format!("{} {}: {what}", order.symbol, order.order_type.as_str())))
        };
        let needs_price = matches!(order.order_type, OrderType::Limit | OrderType::StopLimit);
        let needs_stop = matches!(order.order_type, OrderType::StopMarket | OrderType::StopLimit);
        if needs_price && order.price.is_none() {
            return invalid("a price is required");
        }
        if needs_stop && order.stop_price.is_none() {
            return invalid("a stop price is required");
        }
        if order.post_only && order.order_type != OrderType::Limit {
            return invalid("post-only applies to limit orders only");
        }
        if order.reduce_only && self.market == Market::Spot {
            return invalid("reduce-only does not exist on spot");
        }
        let (wire_type, time_in_force) = match (self.market, order.order_type) {
            (_, OrderType::Market) => ("MARKET", None),
            (Market::Spot, OrderType::Limit) if order.post_only => ("LIMIT_MAKER", None),
            (Market::UsdM, OrderType::Limit) if order.post_only => ("LIMIT", Some("GTX")),
            (_, OrderType::Limit) => ("LIMIT", Some(order.time_in_force.as_str())),
            (Market::Spot, OrderType::StopMarket) => ("STOP_LOSS", None),
            (Market::Spot, OrderType::StopLimit) => ("STOP_LOSS_LIMIT", Some(order.time_in_force.as_str())),
            (Market::UsdM, OrderType::StopMarket) => ("STOP_MARKET", None),
            (Market::UsdM, OrderType::StopLimit) => ("STOP", Some(order.time_in_force.as_str())),
        };
        let mut params = String::with_capacity(160 + QUERY_SIGNING_ROOM);
        push_param(&mut params, "symbol", order.symbol.as_str());
        push_param(&mut params, "side", side_to_wire(order.side));
        push_param(&mut params, "type", wire_type);
        if let Some(tif) = time_in_force {
            push_param(&mut params, "timeInForce", tif);
        }
        push_param(&mut params, "quantity", order.quantity);
        if let (true, Some(price)) = (needs_price, order.price) {
            push_param(&mut params, "price", price);
        }
        if let (true, Some(stop)) = (needs_stop, order.stop_price) {
            push_param(&mut params, "stopPrice", stop);
        }
        if order.reduce_only {
            push_param(&mut params, "reduceOnly", "true");
        }
        push_param(&mut params, "newClientOrderId", wire_client_id(order.client_id));
        let response_type = match self.market {
            Market::Spot => "FULL",
            Market::UsdM => "RESULT",
        };
        push_param(&mut params, "newOrderRespType", response_type);
        Ok(self.sign("POST", self.order_path(), params, timestamp_ms))
    }

    /// `DELETE /api/v3/order` or `/fapi/v1/order`.
    #[must_use]
    pub fn cancel_order(&self, symbol: &str, order: &OrderRef, timestamp_ms: u64) -> SignedRequest {
        self.sign("DELETE", self.order_path(), symbol_and_ref(symbol, order), timestamp_ms)
    }

    /// `GET /api/v3/order` or `/fapi/v1/order`.
    #[must_use]
    pub fn query_order(&self, symbol: &str, order: &OrderRef, timestamp_ms: u64) -> SignedRequest {
        self.sign("GET", self.order_path(), symbol_and_ref(symbol, order), timestamp_ms)
    }

    /// Amends a resting limit order. Spot: `PUT /api/v3/order/amend/keepPriority` with `newQty` (the
    /// quantity may only go down; `side` and `price` are not sent, the price cannot change; amend by
    /// [`OrderRef::Client`], which keeps the client id through `newClientOrderId`, since by venue id the
    /// venue assigns a random new client id). USD-M:
    /// `PUT /fapi/v1/order` with `side`, `quantity` and `price` (all mandatory there).
    #[must_use]
    pub fn amend_order(
        &self,
        symbol: &str,
        order: &OrderRef,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal,
        timestamp_ms: u64,
    ) -> SignedRequest {
        let mut params = symbol_and_ref(symbol, order);
        match self.market {
            Market::Spot => {
                push_param(&mut params, "newQty", quantity);
                // Without it Binance gives the amended order a random client id, and its later events
                // would no longer carry ours.
                if let OrderRef::Client(id) = order {
                    push_param(&mut params, "newClientOrderId", wire_client_id(*id));
                }
                self.sign("PUT", "/api/v3/order/amend/keepPriority", params, timestamp_ms)
            }
            Market::UsdM => {
                push_param(&mut params, "side", side_to_wire(side));
                push_param(&mut params, "quantity", quantity);
                push_param(&mut params, "price", price);
                self.sign("PUT", "/fapi/v1/order", params, timestamp_ms)
            }
        }
    }

    /// `GET /api/v3/openOrders` or `/fapi/v1/openOrders`, for one symbol or all (all costs more weight).
    #[must_use]
    pub fn open_orders(&self, symbol: Option<&str>, timestamp_ms: u64) -> SignedRequest {
        let mut params = String::new();
        if let Some(symbol) = symbol {
            push_param(&mut params, "symbol", symbol);
        }
        let path = match self.market {
            Market::Spot => "/api/v3/openOrders",
            Market::UsdM => "/fapi/v1/openOrders",
        };
        self.signed("GET", path, &params, timestamp_ms)
    }

    /// Cancels every open order of `symbol`: `DELETE /api/v3/openOrders` or `/fapi/v1/allOpenOrders`.
    #[must_use]
    pub fn cancel_all(&self, symbol: &str, timestamp_ms: u64) -> SignedRequest {
        let mut params = String::new();
        push_param(&mut params, "symbol", symbol);
        let path = match self.market {
            Market::Spot => "/api/v3/openOrders",
            Market::UsdM => "/fapi/v1/allOpenOrders",
        };
        self.signed("DELETE", path, &params, timestamp_ms)
    }

    /// `GET /api/v3/account` or `/fapi/v2/account`.
    #[must_use]
    pub fn account(&self, timestamp_ms: u64) -> SignedRequest {
        let path = match self.market {
            Market::Spot => "/api/v3/account",
            Market::UsdM => "/fapi/v2/account",
        };
        self.signed("GET", path, "", timestamp_ms)
    }

    /// `GET /fapi/v2/positionRisk` (USD-M only).
    ///
    /// # Errors
    /// [`TradingError::InvalidRequest`] on spot, which has no positions.
    pub fn position_risk(&self, symbol: Option<&str>, timestamp_ms: u64) -> Result<SignedRequest, TradingError> {
        if self.market == Market::Spot {
            return Err(TradingError::InvalidRequest("spot has no positions".into()));
        }
        let mut params = String::new();
        if let Some(symbol) = symbol {
            push_param(&mut params, "symbol", symbol);
        }
        Ok(self.signed("GET", "/fapi/v2/positionRisk", &params, timestamp_ms))
    }

    /// Creates (or returns the active) listen key: `POST /api/v3/userDataStream` or `/fapi/v1/listenKey`.
    /// Not signed: the API key header only.
    #[must_use]
    pub fn create_listen_key(&self) -> SignedRequest {
        self.listen_key_request("POST", "")
    }

    /// Extends the listen key's validity by 60 minutes (`PUT`); send every 30 minutes or so.
    #[must_use]
    pub fn keepalive_listen_key(&self, listen_key: &str) -> SignedRequest {
        self.listen_key_request("PUT", listen_key)
    }

    /// Closes the user-data stream (`DELETE`).
    #[must_use]
    pub fn close_listen_key(&self, listen_key: &str) -> SignedRequest {
        self.listen_key_request("DELETE", listen_key)
    }

    fn listen_key_request(&self, method: &'static str, listen_key: &str) -> SignedRequest {
        let (path, query) = match self.market {
            // Spot names the key; USD-M has one key per account and takes no parameter.
            Market::Spot => {
                let mut query = String::new();
                if !listen_key.is_empty() {
                    push_param(&mut query, "listenKey", listen_key);
                }
                ("/api/v3/userDataStream", query)
            }
            Market::UsdM => ("/fapi/v1/listenKey", String::new()),
        };
        SignedRequest { method, path, query, body: None, headers: self.api_key_header() }
    }
}

fn symbol_and_ref(symbol: &str, order: &OrderRef) -> String {
    let mut params = String::with_capacity(128 + QUERY_SIGNING_ROOM);
    push_param(&mut params, "symbol", symbol);
    match order {
        OrderRef::Client(id) => push_param(&mut params, "origClientOrderId", wire_client_id(*id)),
        OrderRef::Venue(id) => push_param(&mut params, "orderId", id.as_str()),
    }
    params
}

const fn side_to_wire(side: OrderSide) -> &'static str {
    match side {
        OrderSide::Buy => "BUY",
        OrderSide::Sell => "SELL",
    }
}
