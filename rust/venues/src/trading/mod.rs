//! Client-side trading wire codecs for Binance (spot, USD-M) and Bybit v5 (linear, spot): signed request
//! builders and parsers of order responses, error bodies, account snapshots and user-data frames.
//!
//! Everything here is pure: a builder turns an order and a timestamp into the exact bytes to send (a
//! [`SignedRequest`]), a parser turns bytes received into venue-neutral values. The live gateways own the
//! sockets; the local venue verifies what these builders produce with the same [`crate::auth`] functions.
//!
//! | venue | builders | parsers |
//! |---|---|---|
//! | Binance spot + USD-M | [`binance::BinanceRequests`] | [`binance`] `parse_*` |
//! | Bybit v5 linear + spot | [`bybit::BybitRequests`] | [`bybit`] `parse_*` |
//!
//! # Values
//! - Prices, sizes and fees are exact [`Decimal`]s as the venue wrote them; nothing is rounded or passed
//!   through an `f64`. The engine converts to the instrument's fixed point with [`Decimal::to_fixed`].
//! - Venue statuses map onto [`OrderStatus`] (see each venue module for its table); a status, side, type
//!   or time in force the venue documents but ferrotrade does not model is a [`TradingError::Unknown`],
//!   never a silent default.
//! - Client order ids travel as `"ft-<decimal>"` ([`client_id_to_wire`]); an id that does not have this
//!   form (an order placed by hand, or by another program on the same account) parses as `None`.
//!
//! # Reading answers
//! Check the HTTP status first: a 2xx body goes to the matching `parse_*` function, anything else to the
//! venue's `parse_error(status, body)`, which never fails (an HTML error page becomes code 0). Bybit also
//! reports errors with HTTP 200 and `retCode != 0`; its parsers return those as [`TradingError::Api`].
//! User-data frames may carry several events (a Binance `ACCOUNT_UPDATE` has balances and positions, a
//! Bybit frame a `data` array), so `parse_user_frame` appends to a caller-owned `Vec<UserEvent>`.
//!
//! ```
//! use ferrotrade_model::{ClientOrderId, Decimal, OrderSide, OrderType, TimeInForce};
//! use ferrotrade_venues::auth::Credentials;
//! use ferrotrade_venues::trading::binance::{BinanceRequests, Market, parse_error, parse_user_frame};
//! use ferrotrade_venues::trading::{NewOrder, UserEvent};
//!
//! let requests = BinanceRequests::new(Market::UsdM, Credentials::hmac("key", "secret"));
//! let order = NewOrder {
//!     symbol: "BTCUSDT".into(),
//!     client_id: ClientOrderId(7),
//!     side: OrderSide::Buy,
//!     order_type: OrderType::Limit,
//!     time_in_force: TimeInForce::Gtc,
//!     price: Some(Decimal::parse_str("61800.2")?),
//!     quantity: Decimal::parse_str("0.002")?,
//!     stop_price: None,
//!     post_only: true,
//!     reduce_only: false,
//! };
//! let request = requests.new_order(&order, 1_700_000_000_000)?;
//! assert_eq!((request.method, request.path), ("POST", "/fapi/v1/order"));
//! assert!(request.query.contains("timeInForce=GTX") && request.query.contains("newClientOrderId=ft-7"));
//!
//! let error = parse_error(400, r#"{"code":-5022,"msg":"Due to the order could not be executed as maker, the Post Only order will be rejected."}"#);
//! assert!(error.reject_reason().is_some() && !error.is_retryable());
//!
//! let mut events = Vec::new();
//! parse_user_frame(Market::UsdM, r#"{"e":"listenKeyExpired","E":1576653824250}"#, &mut events)?;
//! assert_eq!(events, [UserEvent::ListenKeyExpired]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Secrets
//! [`SignedRequest`]'s `Debug` hides the signature and the API key; error values never contain a request.

use std::fmt;

use ferrotrade_model::{
    ClientOrderId, Decimal, Liquidity, OrderSide, OrderStatus, OrderType, RejectReason, TimeInForce, UnixNanos, Venue,
};

pub mod binance;
mod binance_rest;
mod binance_trades;
mod binance_user;
pub mod bybit;
mod bybit_executions;
mod bybit_rest;
mod bybit_user;
mod de;

/// The state of one order as the venue reports it (REST answer or user-data event).
#[derive(Clone, Debug, PartialEq)]
pub struct OrderUpdate {
    /// The venue.
    pub venue: Venue,
    /// The venue's symbol spelling (`BTCUSDT`).
    pub symbol: String,
    /// Our id, when the order carries an `ft-` client id.
    pub client_id: Option<ClientOrderId>,
    /// The venue's order id, as text (Binance numbers, Bybit UUIDs).
    pub venue_order_id: String,
    /// Status after this update.
    pub status: OrderStatus,
    /// Buy or sell.
    pub side: OrderSide,
    /// Order type.
    pub order_type: OrderType,
    /// Time in force (post-only orders report `Gtc`).
    pub time_in_force: TimeInForce,
    /// Limit price (zero for market orders).
    pub price: Decimal,
    /// Original quantity.
    pub quantity: Decimal,
    /// Cumulative filled quantity.
    pub filled: Decimal,
    /// Average fill price, when the venue gives one and something filled.
    pub avg_price: Option<Decimal>,
    /// The execution this update reports, if it reports one.
    pub last_fill: Option<FillReport>,
    /// The venue's reason for a rejection or an expiry, when it gives one.
    pub reject_reason: Option<String>,
    /// Venue time of the update.
    pub ts_event: UnixNanos,
}

/// One execution of an order.
#[derive(Clone, Debug, PartialEq)]
pub struct FillReport {
    /// The venue's trade (execution) id; unique per instrument, the OMS deduplicates on it.
    pub trade_id: String,
    /// Execution price.
    pub price: Decimal,
    /// Executed quantity.
    pub quantity: Decimal,
    /// Fee charged; negative for a rebate.
    pub fee: Decimal,
    /// The asset the fee is charged in (empty when the venue does not say, e.g. a zero fee).
    pub fee_asset: String,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Venue time of the execution.
    pub ts_event: UnixNanos,
}

/// One execution of one of the account's orders, from a trade list (Binance `myTrades`/`userTrades`,
/// Bybit `execution/list`): what a catch-up after a user-stream gap needs to book each missed fill with
/// its own trade id, price, fee and maker flag.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountTrade {
    /// The venue's symbol spelling.
    pub symbol: String,
    /// The venue's id of the order that traded.
    pub venue_order_id: String,
    /// The execution.
    pub fill: FillReport,
}

/// A position of a derivatives account.
#[derive(Clone, Debug, PartialEq)]
pub struct PositionReport {
    /// The venue.
    pub venue: Venue,
    /// The venue's symbol spelling.
    pub symbol: String,
    /// Signed size: positive long, negative short, zero flat.
    pub size: Decimal,
    /// Average entry price (zero when flat).
    pub entry_price: Decimal,
    /// Unrealized profit and loss in the settlement asset.
    pub unrealized_pnl: Decimal,
}

/// The balance of one asset.
#[derive(Clone, Debug, PartialEq)]
pub struct BalanceReport {
    /// The venue.
    pub venue: Venue,
    /// Asset (`USDT`).
    pub asset: String,
    /// Total wallet balance (free plus locked).
    pub wallet: Decimal,
    /// What new orders may use.
    pub available: Decimal,
}

/// One message of a private stream, venue-neutral.
// `Order` dominates the size; user events are few per second and moved once, so boxing would only add an
// allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum UserEvent {
    /// An order changed (possibly with a fill).
    Order(OrderUpdate),
    /// Positions changed (only the listed ones).
    Positions(Vec<PositionReport>),
    /// Balances changed (only the listed ones).
    Balances(Vec<BalanceReport>),
    /// Binance: the listen key expired; the stream sends nothing more until a new key is used.
    ListenKeyExpired,
    /// A message that needs no action (acks, pongs, event types ferrotrade ignores), by name.
    Other(&'static str),
}

/// An error answer of a venue: HTTP status plus the venue's own code and message.
///
/// Binance codes are negative (`-2010`), Bybit `retCode`s positive (`110001`), so one `code` space serves
/// both without ambiguity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (200 for a Bybit `retCode != 0` body).
    pub status: u16,
    /// Venue error code (0 when the body had none, e.g. an HTML 5xx page).
    pub code: i64,
    /// Venue message.
    pub message: String,
}

impl ApiError {
    /// Whether the same request may succeed if sent again later: server faults, timeouts, rate limits and
    /// clock-window errors (after resynchronizing the clock).
    ///
    /// Note: Binance `-1007` ("timeout waiting for response from backend") leaves the order's fate
    /// unknown; it is retryable only as a status query, which the caller must decide.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.status >= 500
            || self.status == 408
            || self.is_rate_limit()
            || matches!(self.code, -1000 | -1001 | -1006 | -1007 | -1008 | -1021 | 10000 | 10002 | 10016)
    }

    /// Whether the venue refused because of a rate limit (HTTP 429, Binance `-1003`/`-1015`, Bybit
    /// `10006`/`10018`). HTTP 418 (an IP ban after ignoring 429s) also counts.
    #[must_use]
    pub fn is_rate_limit(&self) -> bool {
        matches!(self.status, 418 | 429) || matches!(self.code, -1003 | -1015 | 10006 | 10018)
    }

    /// Whether the venue does not know the order (cancel/amend/query of an unknown or finished order):
    /// Binance `-2011`/`-2013`, Bybit `110001` (derivatives) and `170213` (spot).
    #[must_use]
    pub fn is_unknown_order(&self) -> bool {
        matches!(self.code, -2011 | -2013 | 110_001 | 170_213)
    }

    /// Whether the key, signature or permissions were refused (retrying cannot help).
    #[must_use]
    pub fn is_auth(&self) -> bool {
        matches!(self.status, 401 | 403) || matches!(self.code, -1022 | -2014 | -2015 | 10003 | 10004 | 10005)
    }
}

impl ApiError {
    /// The model's reason for a refused order, cancel or amend, when the code (and for Binance's generic
    /// `-1013`/`-2010`, the documented message) names one; `None` for everything else (balance, permission,
    /// system errors), which the caller reports with the code and message.
    #[must_use]
    pub fn reject_reason(&self) -> Option<RejectReason> {
        let message = self.message.as_str();
        Some(match self.code {
            -2011 | -2013 | 110_001 | 170_213 => RejectReason::UnknownOrder,
            -5022 => RejectReason::PostOnlyWouldTake,
            -2010 if message.contains("immediately match and take") => RejectReason::PostOnlyWouldTake,
            -2022 | 110_017 => RejectReason::ReduceOnlyWouldIncrease,
            -2021 => RejectReason::WouldTriggerImmediately,
            -5027 => RejectReason::InvalidAmend,
            -4014 => RejectReason::InvalidTickSize,
            -4023 => RejectReason::InvalidLotSize,
            -4164 => RejectReason::MinNotional,
            -1013 if message.contains("PRICE_FILTER") => RejectReason::InvalidTickSize,
            -1013 if message.contains("LOT_SIZE") => RejectReason::InvalidLotSize,
            -1013 if message.contains("NOTIONAL") => RejectReason::MinNotional,
            _ => return None,
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} code {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// An order to place, venue-neutral.
#[derive(Clone, Debug, PartialEq)]
pub struct NewOrder {
    /// The venue's symbol spelling.
    pub symbol: String,
    /// Our id; sent as `"ft-<id>"`.
    pub client_id: ClientOrderId,
    /// Buy or sell.
    pub side: OrderSide,
    /// Market, limit, stop-market or stop-limit.
    pub order_type: OrderType,
    /// GTC, IOC or FOK (ignored for market orders).
    pub time_in_force: TimeInForce,
    /// Limit price; required for limit and stop-limit orders.
    pub price: Option<Decimal>,
    /// Quantity in base units (contracts for Binance USD-M, base coin for Bybit linear and spot).
    pub quantity: Decimal,
    /// Trigger price; required for stop orders.
    pub stop_price: Option<Decimal>,
    /// Rejected instead of taking liquidity (limit orders only).
    pub post_only: bool,
    /// May only reduce the position (derivatives only).
    pub reduce_only: bool,
}

/// Which order a cancel, amend or query is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderRef {
    /// By our client id (sent as `origClientOrderId` / `orderLinkId`).
    Client(ClientOrderId),
    /// By the venue's order id.
    Venue(String),
}

/// A request ready to send: method, path, query string, body and headers, signed.
///
/// `query` holds the URL query without `?` (for Binance it includes `timestamp`, `recvWindow` and
/// `signature`, last); `body` is the JSON body of a Bybit POST. The URL is `base + path` plus `?query`
/// when `query` is not empty.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// HTTP method (`GET`, `POST`, `PUT`, `DELETE`).
    pub method: &'static str,
    /// Path (`/api/v3/order`).
    pub path: &'static str,
    /// Query string without the leading `?`; may be empty.
    pub query: String,
    /// Request body (`application/json` for Bybit), if any.
    pub body: Option<String>,
    /// Headers to send: `X-MBX-APIKEY` for Binance; the four `X-BAPI-*` headers for Bybit.
    pub headers: Vec<(&'static str, String)>,
}

impl SignedRequest {
    /// `path` plus `?query` when there is a query.
    #[must_use]
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() { self.path.to_owned() } else { format!("{}?{}", self.path, self.query) }
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The signature authorizes this exact request until its recvWindow passes: never print it.
        let query = match self.query.find("signature=") {
            Some(at) => format!("{}signature=***", &self.query[..at]),
            None => self.query.clone(),
        };
        let headers: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query)
            .field("body", &self.body)
            .field("headers", &headers)
            .finish()
    }
}

/// Why a request could not be built or a response not understood.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TradingError {
    /// The venue answered with an error.
    #[error("venue error: {0}")]
    Api(ApiError),
    /// The body is not the JSON the venue documents (bad JSON, missing or mistyped field).
    #[error("{context}: malformed: {reason}")]
    Malformed {
        /// What was being parsed.
        context: &'static str,
        /// The parser's explanation.
        reason: String,
    },
    /// A documented enum value ferrotrade does not model (or an undocumented one).
    #[error("{context}: unknown {field} {value:?}")]
    Unknown {
        /// What was being parsed.
        context: &'static str,
        /// The field.
        field: &'static str,
        /// Its value.
        value: String,
    },
    /// The request cannot be expressed for this venue (e.g. a limit order without a price).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The credentials cannot sign for this venue (Bybit takes HMAC keys only).
    #[error("credentials: {0}")]
    Auth(#[from] crate::auth::AuthError),
}

/// `"ft-<id>"`: the wire form of a client order id (valid for Binance's `^[.A-Z:/a-z0-9_-]{1,36}$` and
/// Bybit's 36-character limit: at most 23 characters).
#[must_use]
pub fn client_id_to_wire(id: ClientOrderId) -> String {
    format!("{CLIENT_ID_PREFIX}{}", id.0)
}

/// The client id in a wire id written by [`client_id_to_wire`]; `None` for any other id.
///
/// Only the canonical form is accepted (no leading zeros, no sign), so an id round-trips exactly and two
/// different wire ids never map to the same [`ClientOrderId`].
#[must_use]
pub fn client_id_from_wire(wire: &str) -> Option<ClientOrderId> {
    let digits = wire.strip_prefix(CLIENT_ID_PREFIX)?;
    let canonical =
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return None;
    }
    digits.parse().ok().map(ClientOrderId)
}

const CLIENT_ID_PREFIX: &str = "ft-";

/// Appends `key=value` to a query string, percent-encoding the value (RFC 3986 unreserved characters pass).
///
/// The value writes itself in place ([`QueryValue`]): numbers, decimals and client ids through `itoa`
/// (they never need escaping), texts with one pass over their bytes, and only a text with a character to
/// escape a second time, escaped. No formatting machinery runs on an order's way to the wire.
pub(crate) fn push_param(query: &mut String, key: &str, value: impl QueryValue) {
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(key);
    query.push('=');
    value.push_encoded(query);
}

/// A value of a signed query string.
pub(crate) trait QueryValue {
    /// Appends the value, percent-encoded, to `query`.
    fn push_encoded(&self, query: &mut String);
}

impl QueryValue for &str {
    #[inline]
    fn push_encoded(&self, query: &mut String) {
        push_escaped(query, self);
    }
}

impl QueryValue for Decimal {
    #[inline]
    fn push_encoded(&self, query: &mut String) {
        // Digits, a sign and a dot: nothing to escape.
        self.push_to(query);
    }
}

macro_rules! integer_query_value {
    ($($integer:ty),*) => {$(
        impl QueryValue for $integer {
            #[inline]
            fn push_encoded(&self, query: &mut String) {
                query.push_str(itoa::Buffer::new().format(*self));
            }
        }
    )*};
}
integer_query_value!(u32, u64, usize, i64);

/// A client id as it travels ([`client_id_to_wire`]), written without an intermediate `String`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WireClientId(u64);

/// `id` as it travels in a query.
pub(crate) fn wire_client_id(id: ClientOrderId) -> WireClientId {
    WireClientId(id.0)
}

impl QueryValue for WireClientId {
    #[inline]
    fn push_encoded(&self, query: &mut String) {
        query.push_str(CLIENT_ID_PREFIX);
        query.push_str(itoa::Buffer::new().format(self.0));
    }
}

impl QueryValue for crate::auth::HexDigest {
    #[inline]
    fn push_encoded(&self, query: &mut String) {
        // Hex digits only: nothing to escape.
        query.push_str(self.as_str());
    }
}

/// `text` percent-encoded onto `query`: copied as is when every byte is unreserved (the common case: a
/// symbol, a side, a signature), byte by byte otherwise.
fn push_escaped(query: &mut String, text: &str) {
    if text.bytes().all(unreserved) {
        query.push_str(text);
        return;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if unreserved(byte) {
            query.push(char::from(byte));
        } else {
            query.push('%');
            query.push(char::from(HEX[usize::from(byte >> 4)]));
            query.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
}

/// RFC 3986 unreserved: `A-Z a-z 0-9 - _ . ~`. A table, not a chain of comparisons: a text mixing
/// digits and letters (a symbol, a signature) would mispredict the comparisons' branches byte by byte.
#[inline]
fn unreserved(byte: u8) -> bool {
    UNRESERVED[usize::from(byte)]
}

const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        byte += 1;
    }
    table
};

/// `a - b`, exactly (the scales are aligned first). `None` on overflow.
pub(crate) fn decimal_sub(a: Decimal, b: Decimal) -> Option<Decimal> {
    let scale = a.scale.max(b.scale);
    let a_mantissa = a.mantissa.checked_mul(ferrotrade_model::pow10(scale - a.scale)?)?;
    let b_mantissa = b.mantissa.checked_mul(ferrotrade_model::pow10(scale - b.scale)?)?;
    Some(Decimal::from_fixed(a_mantissa.checked_sub(b_mantissa)?, scale))
}

/// `a + b`, exactly. `None` on overflow.
pub(crate) fn decimal_add(a: Decimal, b: Decimal) -> Option<Decimal> {
    decimal_sub(a, decimal_neg(b))
}

/// `-value`.
pub(crate) fn decimal_neg(value: Decimal) -> Decimal {
    Decimal::from_fixed(value.mantissa.saturating_neg(), value.scale)
}

/// Maps a sonic-rs error to [`TradingError::Malformed`].
pub(crate) fn malformed(context: &'static str) -> impl FnOnce(sonic_rs::Error) -> TradingError {
    move |error| TradingError::Malformed { context, reason: error.to_string() }
}

/// A [`TradingError::Unknown`].
pub(crate) fn unknown(context: &'static str, field: &'static str, value: &str) -> TradingError {
    TradingError::Unknown { context, field, value: value.to_owned() }
}

/// Milliseconds to [`UnixNanos`], zero when absent.
pub(crate) fn millis(ms: Option<u64>) -> UnixNanos {
    UnixNanos::from_millis(ms.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_round_trip_and_foreign_ids_are_none() {
        for id in [0, 1, 42, 1_732_250_000_000_000, u64::MAX] {
            let wire = client_id_to_wire(ClientOrderId(id));
            assert!(wire.len() <= 36, "{wire}");
            assert!(wire.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "{wire}");
            assert_eq!(client_id_from_wire(&wire), Some(ClientOrderId(id)));
        }
        assert_eq!(client_id_to_wire(ClientOrderId(17)), "ft-17");
        for foreign in
            ["", "ft-", "ft-01", "ft-+1", "ft-1a", "x-TD67BGP9-T0000000000000", "myOrder1", "ft-18446744073709551616"]
        {
            assert_eq!(client_id_from_wire(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn signed_request_debug_hides_signature_and_key() {
        let request = SignedRequest {
            method: "GET",
            path: "/api/v3/account",
            query: "timestamp=1&signature=deadbeef".into(),
            body: None,
            headers: vec![("X-MBX-APIKEY", "mykey123".into())],
        };
        let shown = format!("{request:?}");
        assert!(!shown.contains("deadbeef") && !shown.contains("mykey123"), "{shown}");
        assert!(shown.contains("timestamp=1&signature=***"), "{shown}");
        assert_eq!(request.path_and_query(), "/api/v3/account?timestamp=1&signature=deadbeef");
    }

    #[test]
    fn api_error_classification() {
        let error = |status, code| ApiError { status, code, message: String::new() };
        assert!(error(429, -1003).is_rate_limit() && error(429, -1003).is_retryable());
        assert!(error(200, 10006).is_rate_limit());
        assert!(error(503, 0).is_retryable() && !error(503, 0).is_rate_limit());
        assert!(error(400, -1021).is_retryable());
        assert!(!error(400, -2010).is_retryable());
        assert!(error(400, -2011).is_unknown_order() && error(200, 110_001).is_unknown_order());
        assert!(error(401, -2015).is_auth() && error(200, 10004).is_auth());
        // Messages as listed in Binance's "Error codes" / "Filter failures" docs.
        let with = |code, message: &str| ApiError { status: 400, code, message: message.into() };
        assert_eq!(with(-1013, "Filter failure: PRICE_FILTER").reject_reason(), Some(RejectReason::InvalidTickSize));
        assert_eq!(with(-1013, "Filter failure: LOT_SIZE").reject_reason(), Some(RejectReason::InvalidLotSize));
        assert_eq!(with(-1013, "Filter failure: NOTIONAL").reject_reason(), Some(RejectReason::MinNotional));
        assert_eq!(
            with(-2010, "Order would immediately match and take.").reject_reason(),
            Some(RejectReason::PostOnlyWouldTake)
        );
        assert_eq!(with(-2010, "Account has insufficient balance for requested action.").reject_reason(), None);
        assert_eq!(with(-2011, "Unknown order sent.").reject_reason(), Some(RejectReason::UnknownOrder));
    }

    #[test]
    fn decimal_helpers_are_exact() {
        let d = |s: &str| Decimal::parse_str(s).expect("decimal");
        assert_eq!(decimal_sub(d("10000.5"), d("2500.25")), Some(d("7500.25")));
        assert_eq!(decimal_sub(d("1"), d("1.000")), Some(Decimal::ZERO));
        assert_eq!(decimal_neg(d("0.01")), d("-0.01"));
        let mut query = String::new();
        push_param(&mut query, "symbol", "BTCUSDT");
        push_param(&mut query, "signature", "a+b/c=");
        assert_eq!(query, "symbol=BTCUSDT&signature=a%2Bb%2Fc%3D");
    }

    #[test]
    fn query_values_are_written_as_the_venues_read_them() {
        let mut query = String::new();
        push_param(&mut query, "price", Decimal::parse_str("61800.20").expect("decimal"));
        push_param(&mut query, "qty", Decimal::parse_str("-0.005").expect("decimal"));
        push_param(&mut query, "timestamp", 1_723_075_200_000u64);
        push_param(&mut query, "newClientOrderId", wire_client_id(ClientOrderId(42)));
        push_param(&mut query, "note", "é ~x_y-z.");
        assert_eq!(
            query,
            "price=61800.2&qty=-0.005&timestamp=1723075200000&newClientOrderId=ft-42&note=%C3%A9%20~x_y-z."
        );
        // Every byte but RFC 3986's unreserved ones is escaped.
        for byte in 0u8..128 {
            let text = char::from(byte).to_string();
            let mut query = String::new();
            push_param(&mut query, "k", text.as_str());
            let kept = byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte);
            let expected = if kept { format!("k={text}") } else { format!("k=%{byte:02X}") };
            assert_eq!(query, expected, "byte {byte}");
        }
    }
}
