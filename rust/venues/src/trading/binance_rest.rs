//! Parsers of the Binance REST answers (spot and USD-M): orders, order lists, error bodies, account and
//! position snapshots, server time and listen keys; and the venue-enum mappings the user-data parser
//! shares. Re-exported by [`super::binance`], where the status table is documented.

use ferrotrade_model::{Decimal, OrderSide, OrderStatus, OrderType, TimeInForce, UnixNanos, Venue};
use serde::Deserialize;
use sonic_rs::JsonValueTrait as _;

use super::binance::Market;
use super::{
    ApiError, BalanceReport, FillReport, OrderUpdate, PositionReport, TradingError, client_id_from_wire, de,
    decimal_add, malformed, millis, unknown,
};

/// A Binance error body `{"code":-2010,"msg":"..."}` with its HTTP status. A body that is not such JSON
/// (an HTML 5xx page, an empty 429) gives code 0 and the body's first 200 characters as the message.
#[must_use]
pub fn parse_error(status: u16, body: &str) -> ApiError {
    #[derive(Deserialize)]
    struct ErrorBody {
        code: i64,
        #[serde(default)]
        msg: String,
    }
    match sonic_rs::from_str::<ErrorBody>(body) {
        Ok(error) => ApiError { status, code: error.code, message: error.msg },
        Err(_) => ApiError { status, code: 0, message: body.trim().chars().take(200).collect() },
    }
}

/// An order as the REST API describes it: new order (`ACK`/`RESULT`/`FULL`), query, cancel, amend
/// (`amendedOrder`), and the items of `openOrders`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestOrder {
    symbol: String,
    #[serde(deserialize_with = "de::id_string")]
    order_id: String,
    #[serde(default)]
    client_order_id: String,
    #[serde(default)]
    orig_client_order_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    side: Option<String>,
    #[serde(default, rename = "type")]
    order_type: Option<String>,
    #[serde(default)]
    time_in_force: Option<String>,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    price: Decimal,
    #[serde(default, deserialize_with = "de::opt_decimal")]
    orig_qty: Option<Decimal>,
    /// The spot amend answer's name for the (new) quantity. Kept apart from `origQty` rather than as a
    /// serde alias, so a body carrying both is not a duplicate-field error.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    qty: Option<Decimal>,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    executed_qty: Decimal,
    #[serde(default, deserialize_with = "de::opt_decimal")]
    avg_price: Option<Decimal>,
    #[serde(default, deserialize_with = "de::opt_millis")]
    update_time: Option<u64>,
    #[serde(default, deserialize_with = "de::opt_millis")]
    transact_time: Option<u64>,
    #[serde(default, deserialize_with = "de::opt_millis")]
    working_time: Option<u64>,
    #[serde(default, deserialize_with = "de::opt_millis")]
    time: Option<u64>,
    #[serde(default)]
    fills: Vec<RestFill>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestFill {
    #[serde(deserialize_with = "de::decimal")]
    price: Decimal,
    #[serde(deserialize_with = "de::decimal")]
    qty: Decimal,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    commission: Decimal,
    #[serde(default)]
    commission_asset: Option<String>,
    #[serde(deserialize_with = "de::id_string")]
    trade_id: String,
}

/// An order answer with the fills it carries (spot `FULL` answers list the fills of the order's
/// immediate execution; everything else has none).
#[derive(Clone, Debug, PartialEq)]
pub struct OrderResponse {
    /// The order's state.
    pub update: OrderUpdate,
    /// Fills reported with the answer, oldest first. Spot immediate fills are taker fills.
    pub fills: Vec<FillReport>,
}

/// Parses the answer to a new, cancel, query or amend order request.
///
/// # Errors
/// [`TradingError::Malformed`] for a body that is not an order, [`TradingError::Unknown`] for an
/// unmodelled status, side, type or time in force.
pub fn parse_order(market: Market, body: &str) -> Result<OrderResponse, TradingError> {
    const CONTEXT: &str = "binance order";
    // The spot amend answer nests the order in `amendedOrder`, with the amend's time outside it.
    let Ok(inner) = sonic_rs::get_from_str(body, ["amendedOrder"]) else {
        let order: RestOrder = sonic_rs::from_str(body).map_err(malformed(CONTEXT))?;
        return rest_order(market, order);
    };
    let mut order: RestOrder = sonic_rs::from_str(inner.as_raw_str()).map_err(malformed(CONTEXT))?;
    if order.transact_time.is_none() {
        order.transact_time = sonic_rs::get_from_str(body, ["transactTime"]).ok().and_then(|time| time.as_u64());
    }
    rest_order(market, order)
}

/// Parses `openOrders` (and the order list a spot `DELETE /api/v3/openOrders` returns; its OCO list
/// entries, which are not orders, are skipped).
///
/// # Errors
/// As [`parse_order`].
pub fn parse_open_orders(market: Market, body: &str) -> Result<Vec<OrderUpdate>, TradingError> {
    const CONTEXT: &str = "binance order list";
    let items: Vec<sonic_rs::LazyValue<'_>> = sonic_rs::from_str(body).map_err(malformed(CONTEXT))?;
    let mut orders = Vec::with_capacity(items.len());
    for item in items {
        let raw = item.as_raw_str();
        if sonic_rs::get_from_str(raw, ["orderId"]).is_err() {
            continue;
        }
        let order: RestOrder = sonic_rs::from_str(raw).map_err(malformed(CONTEXT))?;
        orders.push(rest_order(market, order)?.update);
    }
    Ok(orders)
}

fn rest_order(market: Market, order: RestOrder) -> Result<OrderResponse, TradingError> {
    const CONTEXT: &str = "binance order";
    let required = |value: Option<String>, field: &'static str| {
        value.ok_or_else(|| TradingError::Malformed { context: CONTEXT, reason: format!("missing {field}") })
    };
    let ts_event = millis(order.update_time.or(order.transact_time).or(order.working_time).or(order.time));
    let fills = order
        .fills
        .into_iter()
        .map(|fill| FillReport {
            trade_id: fill.trade_id,
            price: fill.price,
            quantity: fill.qty,
            fee: fill.commission,
            fee_asset: fill.commission_asset.unwrap_or_default(),
            // The answer lists what matched while the order was placed: it took liquidity.
            liquidity: ferrotrade_model::Liquidity::Taker,
            ts_event,
        })
        .collect();
    // Cancel and amend answers carry the order's own id in `origClientOrderId`.
    let wire_client_id = order.orig_client_order_id.filter(|id| !id.is_empty()).unwrap_or(order.client_order_id);
    let update = OrderUpdate {
        venue: market.venue(),
        symbol: order.symbol,
        client_id: client_id_from_wire(&wire_client_id),
        venue_order_id: order.order_id,
        status: status_from_wire(CONTEXT, &required(order.status, "status")?)?,
        side: side_from_wire(CONTEXT, &required(order.side, "side")?)?,
        order_type: type_from_wire(CONTEXT, market, &required(order.order_type, "type")?)?,
        time_in_force: match order.time_in_force {
            Some(tif) => tif_from_wire(CONTEXT, &tif)?,
            None => TimeInForce::Gtc,
        },
        price: order.price,
        quantity: order.qty.or(order.orig_qty).unwrap_or(Decimal::ZERO),
        filled: order.executed_qty,
        avg_price: order.avg_price.filter(|price| price.mantissa != 0),
        last_fill: None,
        reject_reason: None,
        ts_event,
    };
    Ok(OrderResponse { update, fills })
}

/// Balances and positions of an account snapshot.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AccountSnapshot {
    /// One entry per asset the venue lists.
    pub balances: Vec<BalanceReport>,
    /// USD-M: one entry per symbol (and position side); empty on spot.
    pub positions: Vec<PositionReport>,
}

/// Parses `GET /api/v3/account` (spot: `free` + `locked`) or `GET /fapi/v2/account` (USD-M: `assets`
/// with `walletBalance`/`availableBalance`, and `positions`).
///
/// # Errors
/// [`TradingError::Malformed`] for a body that is not an account.
pub fn parse_account(market: Market, body: &str) -> Result<AccountSnapshot, TradingError> {
    const CONTEXT: &str = "binance account";
    #[derive(Deserialize)]
    struct SpotBalance {
        asset: String,
        #[serde(deserialize_with = "de::decimal")]
        free: Decimal,
        #[serde(deserialize_with = "de::decimal")]
        locked: Decimal,
    }
    #[derive(Deserialize)]
    struct Spot {
        balances: Vec<SpotBalance>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct FuturesAsset {
        asset: String,
        #[serde(deserialize_with = "de::decimal")]
        wallet_balance: Decimal,
        #[serde(deserialize_with = "de::decimal")]
        available_balance: Decimal,
    }
    #[derive(Deserialize)]
    struct Futures {
        assets: Vec<FuturesAsset>,
        #[serde(default)]
        positions: Vec<RestPosition>,
    }
    let venue = market.venue();
    match market {
        Market::Spot => {
            let account: Spot = sonic_rs::from_str(body).map_err(malformed(CONTEXT))?;
            let balances = account
                .balances
                .into_iter()
                .map(|b| {
                    let wallet = decimal_add(b.free, b.locked).ok_or_else(|| TradingError::Malformed {
                        context: CONTEXT,
                        reason: format!("{} balance overflows", b.asset),
                    })?;
                    Ok(BalanceReport { venue, asset: b.asset, wallet, available: b.free })
                })
                .collect::<Result<_, TradingError>>()?;
            Ok(AccountSnapshot { balances, positions: Vec::new() })
        }
        Market::UsdM => {
            let account: Futures = sonic_rs::from_str(body).map_err(malformed(CONTEXT))?;
            let balances = account
                .assets
                .into_iter()
                .map(|a| BalanceReport {
                    venue,
                    asset: a.asset,
                    wallet: a.wallet_balance,
                    available: a.available_balance,
                })
                .collect();
            let positions = account.positions.into_iter().map(|p| p.into_report(venue)).collect();
            Ok(AccountSnapshot { balances, positions })
        }
    }
}

/// A USD-M position as `positionRisk` and `account.positions` describe it (`unRealizedProfit` in the
/// first, `unrealizedProfit` in the second).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestPosition {
    symbol: String,
    #[serde(deserialize_with = "de::decimal")]
    position_amt: Decimal,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    entry_price: Decimal,
    #[serde(default, deserialize_with = "de::opt_decimal")]
    unrealized_profit: Option<Decimal>,
    #[serde(default, rename = "unRealizedProfit", deserialize_with = "de::opt_decimal")]
    un_realized_profit: Option<Decimal>,
}

impl RestPosition {
    fn into_report(self, venue: Venue) -> PositionReport {
        PositionReport {
            venue,
            symbol: self.symbol,
            size: self.position_amt,
            entry_price: self.entry_price,
            unrealized_pnl: self.un_realized_profit.or(self.unrealized_profit).unwrap_or(Decimal::ZERO),
        }
    }
}

/// Parses `GET /fapi/v2/positionRisk`: one report per entry (one per symbol in one-way mode, which
/// ferrotrade uses; hedge mode lists `LONG` and `SHORT` entries separately, `positionAmt` already signed).
///
/// # Errors
/// [`TradingError::Malformed`] for a body that is not a position list.
pub fn parse_position_risk(body: &str) -> Result<Vec<PositionReport>, TradingError> {
    let positions: Vec<RestPosition> = sonic_rs::from_str(body).map_err(malformed("binance positionRisk"))?;
    Ok(positions.into_iter().map(|p| p.into_report(Venue::BinanceUsdm)).collect())
}

/// Parses `GET /api/v3/time` or `/fapi/v1/time`: `{"serverTime": ms}`.
///
/// # Errors
/// [`TradingError::Malformed`] for another body.
pub fn parse_server_time(body: &str) -> Result<UnixNanos, TradingError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ServerTime {
        server_time: u64,
    }
    let time: ServerTime = sonic_rs::from_str(body).map_err(malformed("binance server time"))?;
    Ok(UnixNanos::from_millis(time.server_time))
}

/// Parses the listen-key answer `{"listenKey": "..."}`.
///
/// # Errors
/// [`TradingError::Malformed`] for another body.
pub fn parse_listen_key(body: &str) -> Result<String, TradingError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ListenKey {
        listen_key: String,
    }
    let key: ListenKey = sonic_rs::from_str(body).map_err(malformed("binance listenKey"))?;
    Ok(key.listen_key)
}

/// Maps a Binance order status (see the [module docs](self)).
pub(crate) fn status_from_wire(context: &'static str, status: &str) -> Result<OrderStatus, TradingError> {
    Ok(match status {
        "PENDING_NEW" => OrderStatus::Submitted,
        "NEW" => OrderStatus::Accepted,
        "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
        "FILLED" => OrderStatus::Filled,
        "PENDING_CANCEL" => OrderStatus::PendingCancel,
        "CANCELED" => OrderStatus::Canceled,
        "REJECTED" => OrderStatus::Rejected,
        "EXPIRED" | "EXPIRED_IN_MATCH" => OrderStatus::Expired,
        // USD-M liquidation orders the venue places on the account (insurance fund, auto-deleveraging):
        // reported executed in the same event.
        "NEW_INSURANCE" | "NEW_ADL" => OrderStatus::Filled,
        other => return Err(unknown(context, "status", other)),
    })
}

pub(crate) fn side_from_wire(context: &'static str, side: &str) -> Result<OrderSide, TradingError> {
    match side {
        "BUY" => Ok(OrderSide::Buy),
        "SELL" => Ok(OrderSide::Sell),
        other => Err(unknown(context, "side", other)),
    }
}

/// Maps an order type; `TAKE_PROFIT` is a market order on spot but a limit order on USD-M.
pub(crate) fn type_from_wire(
    context: &'static str,
    market: Market,
    order_type: &str,
) -> Result<OrderType, TradingError> {
    Ok(match (market, order_type) {
        (_, "LIMIT" | "LIMIT_MAKER") => OrderType::Limit,
        (_, "MARKET" | "LIQUIDATION") => OrderType::Market,
        (Market::Spot, "STOP_LOSS" | "TAKE_PROFIT") => OrderType::StopMarket,
        (Market::Spot, "STOP_LOSS_LIMIT" | "TAKE_PROFIT_LIMIT") => OrderType::StopLimit,
        (Market::UsdM, "STOP_MARKET" | "TAKE_PROFIT_MARKET" | "TRAILING_STOP_MARKET") => OrderType::StopMarket,
        (Market::UsdM, "STOP" | "TAKE_PROFIT") => OrderType::StopLimit,
        (_, other) => return Err(unknown(context, "type", other)),
    })
}

pub(crate) fn tif_from_wire(context: &'static str, tif: &str) -> Result<TimeInForce, TradingError> {
    Ok(match tif {
        "GTC" | "GTX" | "GTD" => TimeInForce::Gtc,
        "IOC" => TimeInForce::Ioc,
        "FOK" => TimeInForce::Fok,
        other => return Err(unknown(context, "timeInForce", other)),
    })
}
