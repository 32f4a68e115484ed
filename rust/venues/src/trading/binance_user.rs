//! Binance user-data stream frames: spot `executionReport` and `outboundAccountPosition`, USD-M
//! `ORDER_TRADE_UPDATE` and `ACCOUNT_UPDATE`, and `listenKeyExpired`, to [`UserEvent`]s.
//!
//! A frame may arrive bare (`/ws/<listenKey>`), in a combined-stream envelope (`{"stream":..,"data":{..}}`)
//! or wrapped by the WebSocket API subscription (`{"subscriptionId":0,"event":{..}}`); all three are
//! accepted. The event type `e` is located first (sonic-rs skips the rest of the frame without building
//! it), then only the matching shape is deserialized.
//!
//! # Fields
//! - Client id: spot `C` (the original id, set on cancels) when not empty, else `c`.
//! - Fill: present when the execution type `x` is `TRADE` (and, on USD-M, `CALCULATED` with a non-zero
//!   `l`: liquidation and auto-deleveraging executions, of orders the venue placed, so without our client
//!   id); maker/taker from `m`; fee `n` in asset `N`.
//! - USD-M `ACCOUNT_UPDATE` gives `wb` (wallet) and `cw` (cross wallet) per asset; `cw` is reported as
//!   `available` (the stream carries no `availableBalance`; the account snapshot does).

use std::borrow::Cow;

use ferrotrade_model::{Decimal, Liquidity, UnixNanos};
use serde::Deserialize;
use sonic_rs::JsonValueTrait as _;

use super::binance::{Market, side_from_wire, status_from_wire, tif_from_wire, type_from_wire};
use super::{
    BalanceReport, FillReport, OrderUpdate, PositionReport, TradingError, UserEvent, client_id_from_wire, de,
    decimal_add, malformed, millis,
};

/// Parses one user-data frame of `market`, appending its events to `out` (an `ACCOUNT_UPDATE` yields a
/// `Balances` and a `Positions` event; every other frame one event).
///
/// # Errors
/// [`TradingError::Malformed`] for a frame that is not JSON or whose known event lacks a field;
/// [`TradingError::Unknown`] for an unmodelled status, side, type or time in force. `out` is unchanged
/// on error.
pub fn parse_user_frame(market: Market, frame: &str, out: &mut Vec<UserEvent>) -> Result<(), TradingError> {
    const CONTEXT: &str = "binance user data";
    let (event, body) = locate_event(frame)
        .ok_or_else(|| TradingError::Malformed { context: CONTEXT, reason: "no event type `e`".into() })?;
    match event.as_str() {
        "executionReport" => {
            let report: ExecutionReport = sonic_rs::from_str(body).map_err(malformed("binance executionReport"))?;
            out.push(UserEvent::Order(report.into_update(market)?));
        }
        "ORDER_TRADE_UPDATE" => {
            let update: OrderTradeUpdate = sonic_rs::from_str(body).map_err(malformed("binance ORDER_TRADE_UPDATE"))?;
            out.push(UserEvent::Order(update.order.into_update(market, update.transaction_time)?));
        }
        "outboundAccountPosition" => {
            let position: AccountPosition =
                sonic_rs::from_str(body).map_err(malformed("binance outboundAccountPosition"))?;
            let mut balances = Vec::with_capacity(position.balances.len());
            for balance in position.balances {
                let wallet = decimal_add(balance.free, balance.locked).ok_or_else(|| TradingError::Malformed {
                    context: "binance outboundAccountPosition",
                    reason: format!("{} balance overflows", balance.asset),
                })?;
                balances.push(BalanceReport {
                    venue: market.venue(),
                    asset: balance.asset,
                    wallet,
                    available: balance.free,
                });
            }
            out.push(UserEvent::Balances(balances));
        }
        "ACCOUNT_UPDATE" => {
            let update: AccountUpdate = sonic_rs::from_str(body).map_err(malformed("binance ACCOUNT_UPDATE"))?;
            let venue = market.venue();
            let balances = update
                .account
                .balances
                .into_iter()
                .map(|b| BalanceReport { venue, asset: b.asset, wallet: b.wallet, available: b.cross_wallet })
                .collect();
            let positions = update
                .account
                .positions
                .into_iter()
                .map(|p| PositionReport {
                    venue,
                    symbol: p.symbol,
                    size: p.amount,
                    entry_price: p.entry_price,
                    unrealized_pnl: p.unrealized_pnl,
                })
                .collect();
            out.push(UserEvent::Balances(balances));
            out.push(UserEvent::Positions(positions));
        }
        "listenKeyExpired" => out.push(UserEvent::ListenKeyExpired),
        other => out.push(UserEvent::Other(other_name(other))),
    }
    Ok(())
}

/// The event type and the JSON text of the event object, unwrapping the two envelopes.
fn locate_event(frame: &str) -> Option<(String, &str)> {
    if let Ok(event) = sonic_rs::get_from_str(frame, ["e"]) {
        return event.as_str().map(|e| (e.to_owned(), frame));
    }
    for envelope in ["event", "data"] {
        if let Ok(inner) = sonic_rs::get_from_str(frame, [envelope]) {
            // A raw object without escapes outside strings is always a slice of the frame.
            let Cow::Borrowed(body) = inner.as_raw_cow() else { return None };
            let event = sonic_rs::get_from_str(body, ["e"]).ok()?;
            return event.as_str().map(|e| (e.to_owned(), body));
        }
    }
    None
}

/// A static name for the events ferrotrade receives but does not act on.
fn other_name(event: &str) -> &'static str {
    const KNOWN: [&str; 12] = [
        "balanceUpdate",
        "listStatus",
        "externalLockUpdate",
        "eventStreamTerminated",
        "TRADE_LITE",
        "MARGIN_CALL",
        "ACCOUNT_CONFIG_UPDATE",
        "STRATEGY_UPDATE",
        "GRID_UPDATE",
        "CONDITIONAL_ORDER_TRIGGER_REJECT",
        "ALGO_UPDATE",
        "openOrderLoss",
    ];
    KNOWN.into_iter().find(|known| *known == event).unwrap_or("unknown")
}

/// Spot `executionReport`.
#[derive(Deserialize)]
#[allow(non_snake_case)]
struct ExecutionReport {
    s: String,
    c: String,
    #[serde(default)]
    C: Option<String>,
    S: String,
    o: String,
    f: String,
    #[serde(deserialize_with = "de::decimal")]
    q: Decimal,
    #[serde(deserialize_with = "de::decimal_or_zero")]
    p: Decimal,
    x: String,
    X: String,
    #[serde(default)]
    r: Option<String>,
    #[serde(default, rename = "eR")]
    expiry_reason: Option<String>,
    #[serde(deserialize_with = "de::id_string")]
    i: String,
    #[serde(deserialize_with = "de::decimal_or_zero")]
    l: Decimal,
    #[serde(deserialize_with = "de::decimal_or_zero")]
    z: Decimal,
    #[serde(deserialize_with = "de::decimal_or_zero")]
    L: Decimal,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    n: Decimal,
    #[serde(default)]
    N: Option<String>,
    #[serde(default, deserialize_with = "de::opt_millis")]
    T: Option<u64>,
    #[serde(default, deserialize_with = "de::opt_millis")]
    E: Option<u64>,
    #[serde(default, deserialize_with = "de::id_string_or_none")]
    t: Option<String>,
    #[serde(default)]
    m: bool,
}

impl ExecutionReport {
    fn into_update(self, market: Market) -> Result<OrderUpdate, TradingError> {
        const CONTEXT: &str = "binance executionReport";
        let ts_event = millis(self.T.or(self.E));
        let last_fill = (self.x == "TRADE").then(|| FillReport {
            trade_id: self.t.clone().unwrap_or_default(),
            price: self.L,
            quantity: self.l,
            fee: self.n,
            fee_asset: self.N.clone().unwrap_or_default(),
            liquidity: if self.m { Liquidity::Maker } else { Liquidity::Taker },
            ts_event,
        });
        let wire_id = self.C.filter(|id| !id.is_empty()).unwrap_or(self.c);
        Ok(OrderUpdate {
            venue: market.venue(),
            symbol: self.s,
            client_id: client_id_from_wire(&wire_id),
            venue_order_id: self.i,
            status: status_from_wire(CONTEXT, &self.X)?,
            side: side_from_wire(CONTEXT, &self.S)?,
            order_type: type_from_wire(CONTEXT, market, &self.o)?,
            time_in_force: tif_from_wire(CONTEXT, &self.f)?,
            price: self.p,
            quantity: self.q,
            filled: self.z,
            avg_price: None,
            last_fill,
            reject_reason: reason(self.r).or_else(|| reason(self.expiry_reason)),
            ts_event,
        })
    }
}

fn reason(text: Option<String>) -> Option<String> {
    text.filter(|r| !r.is_empty() && r != "NONE")
}

/// USD-M `ORDER_TRADE_UPDATE`.
#[derive(Deserialize)]
struct OrderTradeUpdate {
    #[serde(rename = "T", default, deserialize_with = "de::opt_millis")]
    transaction_time: Option<u64>,
    #[serde(rename = "o")]
    order: FuturesOrder,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct FuturesOrder {
    s: String,
    c: String,
    S: String,
    o: String,
    f: String,
    #[serde(deserialize_with = "de::decimal")]
    q: Decimal,
    #[serde(deserialize_with = "de::decimal_or_zero")]
    p: Decimal,
    #[serde(default, deserialize_with = "de::opt_decimal")]
    ap: Option<Decimal>,
    x: String,
    X: String,
    #[serde(deserialize_with = "de::id_string")]
    i: String,
    #[serde(deserialize_with = "de::decimal_or_zero")]
    l: Decimal,
    #[serde(deserialize_with = "de::decimal_or_zero")]
    z: Decimal,
    #[serde(deserialize_with = "de::decimal_or_zero")]
    L: Decimal,
    #[serde(default)]
    N: Option<String>,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    n: Decimal,
    #[serde(default, deserialize_with = "de::opt_millis")]
    T: Option<u64>,
    #[serde(default, deserialize_with = "de::id_string_or_none")]
    t: Option<String>,
    #[serde(default)]
    m: bool,
}

impl FuturesOrder {
    fn into_update(self, market: Market, event_time: Option<u64>) -> Result<OrderUpdate, TradingError> {
        const CONTEXT: &str = "binance ORDER_TRADE_UPDATE";
        let ts_event = millis(self.T.or(event_time));
        // `CALCULATED` executions are the venue's liquidation / auto-deleveraging fills of the account.
        let executed = matches!(self.x.as_str(), "TRADE" | "CALCULATED") && self.l.mantissa != 0;
        let last_fill = executed.then(|| FillReport {
            trade_id: self.t.clone().unwrap_or_default(),
            price: self.L,
            quantity: self.l,
            fee: self.n,
            fee_asset: self.N.clone().unwrap_or_default(),
            liquidity: if self.m { Liquidity::Maker } else { Liquidity::Taker },
            ts_event,
        });
        Ok(OrderUpdate {
            venue: market.venue(),
            symbol: self.s,
            client_id: client_id_from_wire(&self.c),
            venue_order_id: self.i,
            status: status_from_wire(CONTEXT, &self.X)?,
            side: side_from_wire(CONTEXT, &self.S)?,
            order_type: type_from_wire(CONTEXT, market, &self.o)?,
            time_in_force: tif_from_wire(CONTEXT, &self.f)?,
            price: self.p,
            quantity: self.q,
            filled: self.z,
            avg_price: self.ap.filter(|price| price.mantissa != 0),
            last_fill,
            reject_reason: None,
            ts_event,
        })
    }
}

/// Spot `outboundAccountPosition`.
#[derive(Deserialize)]
struct AccountPosition {
    #[serde(rename = "B")]
    balances: Vec<SpotBalance>,
}

#[derive(Deserialize)]
struct SpotBalance {
    #[serde(rename = "a")]
    asset: String,
    #[serde(rename = "f", deserialize_with = "de::decimal")]
    free: Decimal,
    #[serde(rename = "l", deserialize_with = "de::decimal")]
    locked: Decimal,
}

/// USD-M `ACCOUNT_UPDATE`.
#[derive(Deserialize)]
struct AccountUpdate {
    #[serde(rename = "a")]
    account: AccountData,
}

#[derive(Deserialize)]
struct AccountData {
    #[serde(rename = "B", default)]
    balances: Vec<FuturesBalance>,
    #[serde(rename = "P", default)]
    positions: Vec<FuturesPosition>,
}

#[derive(Deserialize)]
struct FuturesBalance {
    #[serde(rename = "a")]
    asset: String,
    #[serde(rename = "wb", deserialize_with = "de::decimal")]
    wallet: Decimal,
    #[serde(rename = "cw", deserialize_with = "de::decimal")]
    cross_wallet: Decimal,
}

#[derive(Deserialize)]
struct FuturesPosition {
    #[serde(rename = "s")]
    symbol: String,
    #[serde(rename = "pa", deserialize_with = "de::decimal")]
    amount: Decimal,
    #[serde(rename = "ep", default, deserialize_with = "de::decimal_or_zero")]
    entry_price: Decimal,
    #[serde(rename = "up", default, deserialize_with = "de::decimal_or_zero")]
    unrealized_pnl: Decimal,
}

/// Event time of a frame, for callers that order events (`E`, a number or, in `listenKeyExpired`, a
/// string). `None` when absent.
#[must_use]
pub fn event_time(frame: &str) -> Option<UnixNanos> {
    let (_, body) = locate_event(frame)?;
    let value = sonic_rs::get_from_str(body, ["E"]).ok()?;
    let ms = value.as_u64().or_else(|| value.as_str().and_then(|text| text.parse().ok()))?;
    Some(UnixNanos::from_millis(ms))
}
