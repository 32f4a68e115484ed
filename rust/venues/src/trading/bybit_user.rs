//! Bybit v5 private WebSocket frames (`wss://stream.bybit.com/v5/private`) to [`UserEvent`]s: the topics
//! `order`, `execution`, `position` and `wallet` (also in their `order.linear`-style per-category
//! spelling), and the `auth`, `subscribe` and `pong` answers.
//!
//! A topic frame carries a `data` array; each item becomes one event (`order`, `execution`) or one report
//! of a `Positions`/`Balances` event. Items of categories ferrotrade does not trade (inverse, option) are
//! skipped.
//!
//! # Executions
//! An `execution` item becomes an [`UserEvent::Order`] whose `last_fill` is the execution: status
//! `Filled` when `leavesQty` is 0, else `PartiallyFilled`; `filled = orderQty - leavesQty`. The item does
//! not carry the time in force, so it reads `Gtc`; the `order` topic's update for the same change carries
//! the real one. Only executions that move a position are fills (`Trade`, `AdlTrade`, `BustTrade`,
//! `BlockTrade`, `MovePosition`); `Funding`, `Settle` and `Delivery` items are skipped. The fee asset is
//! `feeCurrency` when given, else the linear contract's settle coin (`USDT` for `...USDT` symbols,
//! `USDC` otherwise). `execution.fast` frames carry no fee and are ignored (the normal `execution` topic
//! reports the same executions with fees).
//!
//! # Acks
//! A refused `auth` or `subscribe` is a [`TradingError::Api`] (HTTP status 200, the frame's `retCode`, or
//! 0 when it has none); an accepted one is [`UserEvent::Other`].

use ferrotrade_model::{Decimal, Liquidity, OrderStatus, OrderType, TimeInForce, UnixNanos, Venue};
use serde::Deserialize;
use sonic_rs::LazyValue;

use super::bybit::Category;
use super::bybit_rest::{WireAccount, WireOrder, WirePosition, category_of, side_from_wire};
use super::{
    AccountTrade, ApiError, FillReport, OrderUpdate, TradingError, UserEvent, client_id_from_wire, de, decimal_sub,
    malformed,
};

/// Parses one private-stream frame, appending its events to `out`. Wallet balances are attributed to
/// `account_venue` (the unified account backs linear and spot alike).
///
/// # Errors
/// [`TradingError::Api`] for a refused `auth`/`subscribe`; [`TradingError::Malformed`] for a frame that
/// is not JSON or an item that lacks a field; [`TradingError::Unknown`] for an unmodelled status, side,
/// type or time in force. `out` may hold the events of the items before the failing one.
pub fn parse_user_frame(account_venue: Venue, frame: &str, out: &mut Vec<UserEvent>) -> Result<(), TradingError> {
    let envelope: Envelope<'_> = sonic_rs::from_str(frame).map_err(malformed("bybit private frame"))?;
    let Some(topic) = envelope.topic else { return acknowledgement(&envelope, out) };
    let data = envelope.data.as_ref().map_or("[]", LazyValue::as_raw_str);
    let before = out.len();
    match topic.as_str() {
        "execution.fast" => out.push(UserEvent::Other("execution.fast")),
        topic => match topic.split('.').next().unwrap_or_default() {
            "order" => {
                let items: Vec<WireOrder> = sonic_rs::from_str(data).map_err(malformed("bybit order"))?;
                for item in items {
                    if let Some(venue) = traded_venue(item.category.as_deref()) {
                        out.push(UserEvent::Order(item.into_update(venue)?));
                    }
                }
            }
            "execution" => {
                let items: Vec<Execution> = sonic_rs::from_str(data).map_err(malformed("bybit execution"))?;
                for item in items {
                    let Some(venue) = traded_venue(item.category.as_deref()) else { continue };
                    if is_fill(&item.exec_type) {
                        out.push(UserEvent::Order(item.into_update(venue)?));
                    }
                }
            }
            "position" => {
                let items: Vec<WirePosition> = sonic_rs::from_str(data).map_err(malformed("bybit position"))?;
                let mut positions = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(venue) = traded_venue(item.category.as_deref()) {
                        positions.push(item.into_report(venue)?);
                    }
                }
                out.push(UserEvent::Positions(positions));
            }
            "wallet" => {
                let accounts: Vec<WireAccount> = sonic_rs::from_str(data).map_err(malformed("bybit wallet"))?;
                let balances = accounts
                    .into_iter()
                    .flat_map(|account| account.coin)
                    .map(|coin| coin.into_report(account_venue))
                    .collect::<Result<Vec<_>, _>>()?;
                out.push(UserEvent::Balances(balances));
            }
            _ => out.push(UserEvent::Other("unknown topic")),
        },
    }
    if out.len() == before {
        out.push(UserEvent::Other("no traded items"));
    }
    Ok(())
}

fn acknowledgement(envelope: &Envelope<'_>, out: &mut Vec<UserEvent>) -> Result<(), TradingError> {
    let op = envelope.op.as_deref().unwrap_or_default();
    if envelope.success == Some(false) {
        let message = envelope.ret_msg.clone().or_else(|| envelope.ret_msg_snake.clone()).unwrap_or_default();
        return Err(TradingError::Api(ApiError { status: 200, code: envelope.ret_code.unwrap_or(0), message }));
    }
    out.push(UserEvent::Other(match op {
        "auth" => "auth",
        "subscribe" => "subscribe",
        "unsubscribe" => "unsubscribe",
        "pong" | "ping" => "pong",
        _ => "unknown op",
    }));
    Ok(())
}

fn traded_venue(category: Option<&str>) -> Option<Venue> {
    category_of(category).map(Category::venue)
}

pub(super) fn is_fill(exec_type: &str) -> bool {
    matches!(exec_type, "Trade" | "AdlTrade" | "BustTrade" | "BlockTrade" | "MovePosition")
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    op: Option<String>,
    #[serde(default)]
    success: Option<bool>,
    #[serde(default, rename = "retCode")]
    ret_code: Option<i64>,
    #[serde(default, rename = "retMsg")]
    ret_msg: Option<String>,
    #[serde(default, rename = "ret_msg")]
    ret_msg_snake: Option<String>,
    #[serde(borrow, default)]
    data: Option<LazyValue<'a>>,
}

/// One item of the `execution` topic (and of `GET /v5/execution/list`, which lists the same fields).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Execution {
    #[serde(default)]
    category: Option<String>,
    symbol: String,
    order_id: String,
    #[serde(default)]
    order_link_id: String,
    side: String,
    order_type: String,
    #[serde(default)]
    stop_order_type: String,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    order_price: Decimal,
    #[serde(deserialize_with = "de::decimal")]
    order_qty: Decimal,
    #[serde(deserialize_with = "de::decimal")]
    leaves_qty: Decimal,
    exec_id: String,
    #[serde(deserialize_with = "de::decimal")]
    exec_price: Decimal,
    #[serde(deserialize_with = "de::decimal")]
    exec_qty: Decimal,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    exec_fee: Decimal,
    #[serde(default)]
    fee_currency: Option<String>,
    pub(super) exec_type: String,
    #[serde(default, deserialize_with = "de::opt_millis")]
    exec_time: Option<u64>,
    #[serde(default)]
    is_maker: bool,
}

impl Execution {
    /// The execution as an account trade of `venue`.
    pub(super) fn into_trade(self, venue: Venue) -> Result<AccountTrade, TradingError> {
        let update = self.into_update(venue)?;
        let fill = update
            .last_fill
            .ok_or(TradingError::Malformed { context: "bybit execution", reason: "no execution".into() })?;
        Ok(AccountTrade { symbol: update.symbol, venue_order_id: update.venue_order_id, fill })
    }

    fn into_update(self, venue: Venue) -> Result<OrderUpdate, TradingError> {
        const CONTEXT: &str = "bybit execution";
        let is_stop = !self.stop_order_type.is_empty() && self.stop_order_type != "UNKNOWN";
        let order_type = match (self.order_type.as_str(), is_stop) {
            ("Limit", false) => OrderType::Limit,
            ("Market", false) => OrderType::Market,
            ("Limit", true) => OrderType::StopLimit,
            ("Market", true) => OrderType::StopMarket,
            (other, _) => return Err(super::unknown(CONTEXT, "orderType", other)),
        };
        let filled = decimal_sub(self.order_qty, self.leaves_qty).ok_or_else(|| TradingError::Malformed {
            context: CONTEXT,
            reason: "orderQty - leavesQty overflows".into(),
        })?;
        let ts_event = UnixNanos::from_millis(self.exec_time.unwrap_or(0));
        let fee_asset = match self.fee_currency.filter(|c| !c.is_empty()) {
            Some(currency) => currency,
            None if venue == Venue::BybitLinear => settle_coin(&self.symbol).to_owned(),
            None => String::new(),
        };
        Ok(OrderUpdate {
            venue,
            client_id: client_id_from_wire(&self.order_link_id),
            venue_order_id: self.order_id,
            status: if self.leaves_qty.mantissa == 0 { OrderStatus::Filled } else { OrderStatus::PartiallyFilled },
            side: side_from_wire(CONTEXT, &self.side)?,
            order_type,
            time_in_force: TimeInForce::Gtc,
            price: self.order_price,
            quantity: self.order_qty,
            filled,
            avg_price: None,
            last_fill: Some(FillReport {
                trade_id: self.exec_id,
                price: self.exec_price,
                quantity: self.exec_qty,
                fee: self.exec_fee,
                fee_asset,
                liquidity: if self.is_maker { Liquidity::Maker } else { Liquidity::Taker },
                ts_event,
            }),
            reject_reason: None,
            ts_event,
            symbol: self.symbol,
        })
    }
}

/// The settle coin of a linear contract: USDT perpetuals end in `USDT`; USDC perpetuals (`BTCPERP`) and
/// futures (`BTC-27DEC24`) settle in USDC.
fn settle_coin(symbol: &str) -> &'static str {
    if symbol.ends_with("USDT") { "USDT" } else { "USDC" }
}
