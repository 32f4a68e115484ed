//! Parsers of the Bybit v5 REST answers (the `retCode` envelope, order ids, open orders, positions,
//! wallet, server time) and the wire shapes of orders, positions and coins that the private-stream parser
//! shares. Re-exported by [`super::bybit`], where the status table is documented.

use ferrotrade_model::{ClientOrderId, Decimal, OrderSide, OrderStatus, OrderType, TimeInForce, UnixNanos, Venue};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::bybit::Category;
use super::{
    ApiError, BalanceReport, OrderUpdate, PositionReport, TradingError, client_id_from_wire, de, decimal_neg,
    decimal_sub, malformed, millis, unknown,
};

/// A Bybit error answer with a non-200 HTTP status (or a body whose `retCode` is not 0). A body that is
/// not JSON gives code 0 and its first 200 characters.
#[must_use]
pub fn parse_error(status: u16, body: &str) -> ApiError {
    match sonic_rs::from_str::<Envelope<'_>>(body) {
        Ok(envelope) => ApiError { status, code: envelope.ret_code, message: envelope.ret_msg },
        Err(_) => ApiError { status, code: 0, message: body.trim().chars().take(200).collect() },
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    ret_code: i64,
    #[serde(default)]
    ret_msg: String,
    #[serde(borrow, default)]
    result: Option<sonic_rs::LazyValue<'a>>,
    #[serde(default, deserialize_with = "de::opt_millis")]
    time: Option<u64>,
}

/// The `result` of a successful answer (and the envelope's `time`), or the `retCode` error.
pub(super) fn result<T: DeserializeOwned>(body: &str, context: &'static str) -> Result<(T, Option<u64>), TradingError> {
    let envelope: Envelope<'_> = sonic_rs::from_str(body).map_err(malformed(context))?;
    if envelope.ret_code != 0 {
        return Err(TradingError::Api(ApiError { status: 200, code: envelope.ret_code, message: envelope.ret_msg }));
    }
    let raw = envelope.result.ok_or_else(|| TradingError::Malformed { context, reason: "no result".into() })?;
    let value = sonic_rs::from_str(raw.as_raw_str()).map_err(malformed(context))?;
    Ok((value, envelope.time))
}

/// The ids a create, cancel or amend answer returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderIds {
    /// The venue's order id.
    pub venue_order_id: String,
    /// Our id, when the order carries an `ft-` link id.
    pub client_id: Option<ClientOrderId>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdsWire {
    order_id: String,
    #[serde(default)]
    order_link_id: String,
}

impl From<IdsWire> for OrderIds {
    fn from(ids: IdsWire) -> OrderIds {
        OrderIds { venue_order_id: ids.order_id, client_id: client_id_from_wire(&ids.order_link_id) }
    }
}

/// Parses the answer of `create`, `cancel` or `amend` (`result: {orderId, orderLinkId}`). Bybit answers
/// these synchronously with the ids only; the order's state follows on the private `order` topic.
///
/// # Errors
/// [`TradingError::Api`] for a `retCode` other than 0; [`TradingError::Malformed`] otherwise.
pub fn parse_order_ids(body: &str) -> Result<OrderIds, TradingError> {
    let (ids, _): (IdsWire, _) = result(body, "bybit order answer")?;
    Ok(ids.into())
}

#[derive(Deserialize)]
pub(super) struct List<T> {
    pub(super) list: Vec<T>,
    #[serde(default)]
    pub(super) category: Option<String>,
}

/// Parses the answer of `cancel-all`: the ids of the orders canceled.
///
/// # Errors
/// As [`parse_order_ids`].
pub fn parse_cancel_all(body: &str) -> Result<Vec<OrderIds>, TradingError> {
    let (list, _): (List<IdsWire>, _) = result(body, "bybit cancel-all answer")?;
    Ok(list.list.into_iter().map(OrderIds::from).collect())
}

/// Parses `GET /v5/order/realtime` of `category` (the answer does not name its category).
///
/// # Errors
/// As [`parse_order_ids`], and [`TradingError::Unknown`] for an unmodelled status, side, type or time in
/// force.
pub fn parse_open_orders(category: Category, body: &str) -> Result<Vec<OrderUpdate>, TradingError> {
    let (list, _): (List<WireOrder>, _) = result(body, "bybit open orders")?;
    list.list.into_iter().map(|order| order.into_update(category.venue())).collect()
}

/// Parses `GET /v5/position/list`: signed sizes (`side` `Sell` is negative; `""` is flat).
///
/// # Errors
/// As [`parse_order_ids`], and [`TradingError::Unknown`] for an unknown side.
pub fn parse_positions(body: &str) -> Result<Vec<PositionReport>, TradingError> {
    let (list, _): (List<WirePosition>, _) = result(body, "bybit positions")?;
    let venue = match list.category.as_deref().and_then(Category::from_wire) {
        Some(category) => category.venue(),
        None => Venue::BybitLinear,
    };
    list.list.into_iter().map(|position| position.into_report(venue)).collect()
}

/// Parses `GET /v5/account/wallet-balance`: one report per coin, attributed to `venue` (the unified
/// account backs linear and spot alike).
///
/// # Errors
/// As [`parse_order_ids`].
pub fn parse_wallet_balance(venue: Venue, body: &str) -> Result<Vec<BalanceReport>, TradingError> {
    let (list, _): (List<WireAccount>, _) = result(body, "bybit wallet balance")?;
    list.list.into_iter().flat_map(|account| account.coin).map(|coin| coin.into_report(venue)).collect()
}

/// Parses `GET /v5/market/time` (`timeNano`, else `timeSecond`, else the envelope's `time`).
///
/// # Errors
/// As [`parse_order_ids`].
pub fn parse_server_time(body: &str) -> Result<UnixNanos, TradingError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Time {
        #[serde(default, deserialize_with = "de::opt_millis")]
        time_nano: Option<u64>,
        #[serde(default, deserialize_with = "de::opt_millis")]
        time_second: Option<u64>,
    }
    let (time, envelope_ms): (Time, _) = result(body, "bybit server time")?;
    match (time.time_nano, time.time_second, envelope_ms) {
        (Some(nanos), _, _) => Ok(UnixNanos(nanos)),
        (None, Some(seconds), _) => Ok(UnixNanos(seconds.saturating_mul(1_000_000_000))),
        (None, None, Some(ms)) => Ok(UnixNanos::from_millis(ms)),
        (None, None, None) => Err(TradingError::Malformed { context: "bybit server time", reason: "no time".into() }),
    }
}

/// An order as `GET /v5/order/realtime` and the private `order` topic describe it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireOrder {
    #[serde(default)]
    pub category: Option<String>,
    pub symbol: String,
    pub order_id: String,
    #[serde(default)]
    pub order_link_id: String,
    pub side: String,
    pub order_type: String,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    pub price: Decimal,
    #[serde(deserialize_with = "de::decimal")]
    pub qty: Decimal,
    pub time_in_force: String,
    pub order_status: String,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    pub cum_exec_qty: Decimal,
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub avg_price: Option<Decimal>,
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub trigger_price: Option<Decimal>,
    #[serde(default)]
    pub reject_reason: Option<String>,
    #[serde(default, deserialize_with = "de::opt_millis")]
    pub updated_time: Option<u64>,
    #[serde(default, deserialize_with = "de::opt_millis")]
    pub created_time: Option<u64>,
}

impl WireOrder {
    pub(crate) fn into_update(self, venue: Venue) -> Result<OrderUpdate, TradingError> {
        const CONTEXT: &str = "bybit order";
        let is_stop = self.trigger_price.is_some_and(|price| price.mantissa != 0);
        let order_type = match (self.order_type.as_str(), is_stop) {
            ("Limit", false) => OrderType::Limit,
            ("Market", false) => OrderType::Market,
            ("Limit", true) => OrderType::StopLimit,
            ("Market", true) => OrderType::StopMarket,
            (other, _) => return Err(unknown(CONTEXT, "orderType", other)),
        };
        Ok(OrderUpdate {
            venue,
            symbol: self.symbol,
            client_id: client_id_from_wire(&self.order_link_id),
            venue_order_id: self.order_id,
            status: status_from_wire(CONTEXT, &self.order_status)?,
            side: side_from_wire(CONTEXT, &self.side)?,
            order_type,
            time_in_force: tif_from_wire(CONTEXT, &self.time_in_force)?,
            price: self.price,
            quantity: self.qty,
            filled: self.cum_exec_qty,
            avg_price: self.avg_price.filter(|price| price.mantissa != 0),
            last_fill: None,
            reject_reason: self.reject_reason.filter(|r| !r.is_empty() && r != "EC_NoError"),
            ts_event: millis(self.updated_time.or(self.created_time)),
        })
    }
}

/// A position as `GET /v5/position/list` (`avgPrice`) and the private `position` topic (`entryPrice`)
/// describe it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WirePosition {
    #[serde(default)]
    pub category: Option<String>,
    pub symbol: String,
    #[serde(default)]
    pub side: String,
    #[serde(deserialize_with = "de::decimal")]
    pub size: Decimal,
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub entry_price: Option<Decimal>,
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub avg_price: Option<Decimal>,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    pub unrealised_pnl: Decimal,
}

impl WirePosition {
    pub(crate) fn into_report(self, venue: Venue) -> Result<PositionReport, TradingError> {
        let size = match self.side.as_str() {
            "Buy" | "" | "None" => self.size,
            "Sell" => decimal_neg(self.size),
            other => return Err(unknown("bybit position", "side", other)),
        };
        Ok(PositionReport {
            venue,
            symbol: self.symbol,
            size,
            entry_price: self.entry_price.or(self.avg_price).unwrap_or(Decimal::ZERO),
            unrealized_pnl: self.unrealised_pnl,
        })
    }
}

#[derive(Deserialize)]
pub(crate) struct WireAccount {
    #[serde(default)]
    pub coin: Vec<WireCoin>,
}

/// One coin of a unified wallet. `availableToWithdraw` is deprecated (empty) for newer unified accounts;
/// then `available` is `walletBalance - locked` (locked: held by open spot orders).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireCoin {
    pub coin: String,
    #[serde(deserialize_with = "de::decimal_or_zero")]
    pub wallet_balance: Decimal,
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub available_to_withdraw: Option<Decimal>,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    pub locked: Decimal,
}

impl WireCoin {
    pub(crate) fn into_report(self, venue: Venue) -> Result<BalanceReport, TradingError> {
        let available = match self.available_to_withdraw {
            Some(available) => available,
            None => decimal_sub(self.wallet_balance, self.locked).ok_or_else(|| TradingError::Malformed {
                context: "bybit wallet",
                reason: format!("{} balance overflows", self.coin),
            })?,
        };
        Ok(BalanceReport { venue, asset: self.coin, wallet: self.wallet_balance, available })
    }
}

/// Maps a Bybit order status (see the [module docs](self)).
pub(crate) fn status_from_wire(context: &'static str, status: &str) -> Result<OrderStatus, TradingError> {
    Ok(match status {
        "Created" => OrderStatus::Submitted,
        "New" | "Untriggered" => OrderStatus::Accepted,
        "PartiallyFilled" => OrderStatus::PartiallyFilled,
        "Filled" => OrderStatus::Filled,
        "Cancelled" | "PartiallyFilledCanceled" | "Deactivated" => OrderStatus::Canceled,
        "Rejected" => OrderStatus::Rejected,
        "Triggered" => OrderStatus::Triggered,
        other => return Err(unknown(context, "orderStatus", other)),
    })
}

pub(crate) fn side_from_wire(context: &'static str, side: &str) -> Result<OrderSide, TradingError> {
    match side {
        "Buy" => Ok(OrderSide::Buy),
        "Sell" => Ok(OrderSide::Sell),
        other => Err(unknown(context, "side", other)),
    }
}

pub(crate) fn tif_from_wire(context: &'static str, tif: &str) -> Result<TimeInForce, TradingError> {
    Ok(match tif {
        "GTC" | "PostOnly" | "RPI" => TimeInForce::Gtc,
        "IOC" => TimeInForce::Ioc,
        "FOK" => TimeInForce::Fok,
        other => return Err(unknown(context, "timeInForce", other)),
    })
}

pub(crate) fn category_of(category: Option<&str>) -> Option<Category> {
    category.and_then(Category::from_wire)
}
