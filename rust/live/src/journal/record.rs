//! The journal's record format (one JSON object per line) and its conversion to and from the model types.
//!
//! The model types carry no serde derives (they are hot-path value types used everywhere); this file is the
//! one place that spells them as text, with stable snake-case names (`RejectReason::code`). The texts of
//! a record borrow (the names, the codes) when it is written, so journaling an order allocates nothing:
//! the new-order record is on the order's path before the wire.

use std::borrow::Cow;

use ferrotrade_model::{
    ClientOrderId, Fill, InstrumentIndex, Liquidity, Money, OrderEvent, OrderEventKind, OrderRequest, OrderSide,
    OrderType, Price, Quantity, RejectReason, TimeInForce, UnixNanos, VenueOrderId,
};
use serde::{Deserialize, Serialize};

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Record<'a> {
    /// An engine start.
    Session {
        /// Wall clock, ns.
        ts: u64,
        /// The first client id this session issues.
        next_client_id: u64,
    },
    /// A created order.
    Order {
        /// Creation time, ns.
        ts: u64,
        /// Client id.
        id: u64,
        /// Owner strategy (empty: adopted from the venue).
        strategy: Cow<'a, str>,
        /// `venue.SYMBOL`.
        instrument: Cow<'a, str>,
        /// `buy` / `sell`.
        side: Cow<'a, str>,
        /// `limit`, `market`, `stop_market`, `stop_limit`.
        order_type: Cow<'a, str>,
        /// `GTC`, `IOC`, `FOK`.
        tif: Cow<'a, str>,
        /// Price mantissa.
        price: i64,
        /// Trigger price mantissa.
        trigger: i64,
        /// Quantity mantissa.
        qty: i64,
        /// Post-only.
        post_only: bool,
        /// Reduce-only.
        reduce_only: bool,
    },
    /// An order event the OMS accepted.
    Event {
        /// Venue time, ns.
        ts_event: u64,
        /// Local time, ns.
        ts_recv: u64,
        /// Client id.
        id: u64,
        /// `venue.SYMBOL`.
        instrument: Cow<'a, str>,
        /// What happened.
        kind: EventKind<'a>,
    },
}

/// [`OrderEventKind`] as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum EventKind<'a> {
    /// Risk denial.
    Denied {
        /// Reason code.
        reason: Cow<'a, str>,
    },
    /// Sent.
    Submitted,
    /// Working at the venue.
    Accepted {
        /// Venue order id.
        venue_id: u64,
    },
    /// Refused by the venue.
    Rejected {
        /// Reason code.
        reason: Cow<'a, str>,
    },
    /// Cancel sent.
    PendingCancel,
    /// Canceled.
    Canceled,
    /// Cancel refused.
    CancelRejected {
        /// Reason code.
        reason: Cow<'a, str>,
    },
    /// Amend sent.
    PendingReplace,
    /// Amended.
    Replaced {
        /// New price mantissa.
        price: i64,
        /// New quantity mantissa.
        qty: i64,
    },
    /// Amend refused.
    ReplaceRejected {
        /// Reason code.
        reason: Cow<'a, str>,
    },
    /// Stop triggered.
    Triggered,
    /// Expired.
    Expired,
    /// A fill.
    Filled {
        /// Venue order id.
        venue_id: u64,
        /// Trade id.
        trade_id: u64,
        /// `buy` / `sell`.
        side: Cow<'a, str>,
        /// Price mantissa.
        price: i64,
        /// Quantity mantissa.
        qty: i64,
        /// Fee in 10^-18 units of the settlement currency (decimal text: an i128).
        fee: Cow<'a, str>,
        /// `maker` / `taker`.
        liquidity: Cow<'a, str>,
        /// Venue time of the execution.
        ts_event: u64,
        /// When the engine learnt of it.
        ts_recv: u64,
    },
}

/// A journal record turned back into what the OMS replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replayed {
    /// Create this order (its id must be the store's next).
    Created {
        /// Client id.
        client_id: ClientOrderId,
        /// Owner strategy name (empty: adopted).
        strategy: String,
        /// The request.
        request: OrderRequest,
        /// Creation time.
        ts: UnixNanos,
    },
    /// Apply this event.
    Event(OrderEvent),
}

const REASONS: [RejectReason; 23] = [
    RejectReason::InvalidTickSize,
    RejectReason::InvalidLotSize,
    RejectReason::MinNotional,
    RejectReason::InvalidPrice,
    RejectReason::PostOnlyWouldTake,
    RejectReason::ReduceOnlyWouldIncrease,
    RejectReason::WouldTriggerImmediately,
    RejectReason::UnknownOrder,
    RejectReason::InvalidAmend,
    RejectReason::NoLiquidity,
    RejectReason::MaxOrderQuantity,
    RejectReason::MaxOrderNotional,
    RejectReason::MaxPosition,
    RejectReason::MaxTotalPosition,
    RejectReason::MaxConcentration,
    RejectReason::PriceBand,
    RejectReason::RateLimit,
    RejectReason::MaxDrawdown,
    RejectReason::DailyLoss,
    RejectReason::TradingHalted,
    RejectReason::ReducingOnly,
    RejectReason::NoMarketPrice,
    RejectReason::Venue,
];

fn reason(code: &str) -> Result<RejectReason, String> {
    REASONS.iter().copied().find(|reason| reason.code() == code).ok_or_else(|| format!("unknown reason {code:?}"))
}

fn side(text: &str) -> Result<OrderSide, String> {
    match text {
        "buy" => Ok(OrderSide::Buy),
        "sell" => Ok(OrderSide::Sell),
        other => Err(format!("unknown side {other:?}")),
    }
}

fn order_type(text: &str) -> Result<OrderType, String> {
    [OrderType::Market, OrderType::Limit, OrderType::StopMarket, OrderType::StopLimit]
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| format!("unknown order type {text:?}"))
}

fn time_in_force(text: &str) -> Result<TimeInForce, String> {
    [TimeInForce::Gtc, TimeInForce::Ioc, TimeInForce::Fok]
        .into_iter()
        .find(|tif| tif.as_str() == text)
        .ok_or_else(|| format!("unknown time in force {text:?}"))
}

const fn liquidity_name(liquidity: Liquidity) -> &'static str {
    match liquidity {
        Liquidity::Maker => "maker",
        Liquidity::Taker => "taker",
    }
}

impl<'a> Record<'a> {
    /// The record of a created order.
    pub(crate) fn order(
        ts: UnixNanos,
        client_id: ClientOrderId,
        strategy: &'a str,
        instrument: &'a str,
        request: &OrderRequest,
    ) -> Record<'a> {
        Record::Order {
            ts: ts.0,
            id: client_id.0,
            strategy: strategy.into(),
            instrument: instrument.into(),
            side: request.side.as_str().into(),
            order_type: request.order_type.as_str().into(),
            tif: request.time_in_force.as_str().into(),
            price: request.price.0,
            trigger: request.trigger_price.0,
            qty: request.quantity.0,
            post_only: request.post_only,
            reduce_only: request.reduce_only,
        }
    }

    /// The record of an accepted event.
    pub(crate) fn event(instrument: &'a str, event: &OrderEvent) -> Record<'a> {
        let kind = match event.kind {
            OrderEventKind::Denied(reason) => EventKind::Denied { reason: reason.code().into() },
            OrderEventKind::Submitted => EventKind::Submitted,
            OrderEventKind::Accepted(venue_id) => EventKind::Accepted { venue_id: venue_id.0 },
            OrderEventKind::Rejected(reason) => EventKind::Rejected { reason: reason.code().into() },
            OrderEventKind::PendingCancel => EventKind::PendingCancel,
            OrderEventKind::Canceled => EventKind::Canceled,
            OrderEventKind::CancelRejected(reason) => EventKind::CancelRejected { reason: reason.code().into() },
            OrderEventKind::PendingReplace => EventKind::PendingReplace,
            OrderEventKind::Replaced { price, quantity } => EventKind::Replaced { price: price.0, qty: quantity.0 },
            OrderEventKind::ReplaceRejected(reason) => EventKind::ReplaceRejected { reason: reason.code().into() },
            OrderEventKind::Triggered => EventKind::Triggered,
            OrderEventKind::Expired => EventKind::Expired,
            OrderEventKind::Filled(fill) => EventKind::Filled {
                venue_id: fill.venue_order_id.0,
                trade_id: fill.trade_id,
                side: fill.side.as_str().into(),
                price: fill.price.0,
                qty: fill.quantity.0,
                fee: fill.fee.0.to_string().into(),
                liquidity: liquidity_name(fill.liquidity).into(),
                ts_event: fill.ts_event.0,
                ts_recv: fill.ts_recv.0,
            },
        };
        Record::Event {
            ts_event: event.ts_event.0,
            ts_recv: event.ts_recv.0,
            id: event.client_id.0,
            instrument: instrument.into(),
            kind,
        }
    }

    /// What the OMS replays for this record (`None` for a session marker).
    ///
    /// # Errors
    /// A message for an unknown instrument or a malformed field.
    pub(crate) fn into_replayed(self, instrument_names: &[String]) -> Result<Option<Replayed>, String> {
        let index = |name: &str| {
            instrument_names
                .iter()
                .position(|known| known.eq_ignore_ascii_case(name))
                .map(|index| InstrumentIndex(index as u32))
                .ok_or_else(|| format!("instrument {name:?} is not in the configuration"))
        };
        match self {
            Record::Session { .. } => Ok(None),
            Record::Order {
                ts,
                id,
                strategy,
                instrument,
                side: order_side,
                order_type: kind,
                tif,
                price,
                trigger,
                qty,
                post_only,
                reduce_only,
            } => {
                let request = OrderRequest {
                    instrument: index(&instrument)?,
                    side: side(&order_side)?,
                    order_type: order_type(&kind)?,
                    time_in_force: time_in_force(&tif)?,
                    quantity: Quantity(qty),
                    price: Price(price),
                    trigger_price: Price(trigger),
                    post_only,
                    reduce_only,
                };
                Ok(Some(Replayed::Created {
                    client_id: ClientOrderId(id),
                    strategy: strategy.into_owned(),
                    request,
                    ts: UnixNanos(ts),
                }))
            }
            Record::Event { ts_event, ts_recv, id, instrument, kind } => {
                let instrument = index(&instrument)?;
                let client_id = ClientOrderId(id);
                let kind = match kind {
                    EventKind::Denied { reason: code } => OrderEventKind::Denied(reason(&code)?),
                    EventKind::Submitted => OrderEventKind::Submitted,
                    EventKind::Accepted { venue_id } => OrderEventKind::Accepted(VenueOrderId(venue_id)),
                    EventKind::Rejected { reason: code } => OrderEventKind::Rejected(reason(&code)?),
                    EventKind::PendingCancel => OrderEventKind::PendingCancel,
                    EventKind::Canceled => OrderEventKind::Canceled,
                    EventKind::CancelRejected { reason: code } => OrderEventKind::CancelRejected(reason(&code)?),
                    EventKind::PendingReplace => OrderEventKind::PendingReplace,
                    EventKind::Replaced { price, qty } => {
                        OrderEventKind::Replaced { price: Price(price), quantity: Quantity(qty) }
                    }
                    EventKind::ReplaceRejected { reason: code } => OrderEventKind::ReplaceRejected(reason(&code)?),
                    EventKind::Triggered => OrderEventKind::Triggered,
                    EventKind::Expired => OrderEventKind::Expired,
                    EventKind::Filled {
                        venue_id,
                        trade_id,
                        side: fill_side,
                        price,
                        qty,
                        fee,
                        liquidity,
                        ts_event: fill_ts_event,
                        ts_recv: fill_ts_recv,
                    } => {
                        let fee: i128 = fee.parse().map_err(|_| format!("bad fee {fee:?}"))?;
                        let liquidity = match &*liquidity {
                            "maker" => Liquidity::Maker,
                            "taker" => Liquidity::Taker,
                            other => return Err(format!("unknown liquidity {other:?}")),
                        };
                        OrderEventKind::Filled(Fill {
                            client_id,
                            venue_order_id: VenueOrderId(venue_id),
                            trade_id,
                            instrument,
                            side: side(&fill_side)?,
                            price: Price(price),
                            quantity: Quantity(qty),
                            fee: Money(fee),
                            liquidity,
                            ts_event: UnixNanos(fill_ts_event),
                            ts_recv: UnixNanos(fill_ts_recv),
                        })
                    }
                };
                Ok(Some(Replayed::Event(OrderEvent {
                    client_id,
                    instrument,
                    kind,
                    ts_event: UnixNanos(ts_event),
                    ts_recv: UnixNanos(ts_recv),
                })))
            }
        }
    }
}
