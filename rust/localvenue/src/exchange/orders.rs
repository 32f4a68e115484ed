//! Orders at the local venue: their records, and submit / cancel / amend through the account's
//! [`SimVenue`], turning the engine's [`OrderEvent`]s into [`Execution`]s the wire formats report.
//!
//! Ids: `orderId` is a server-wide counter (also the client id the matching engine sees, so one lookup
//! serves both); trade ids are a second server-wide counter, so they are unique across accounts and
//! instruments as the venues' are per symbol. A client order id (`newClientOrderId` / `orderLinkId`) is
//! unique among an account's open orders, as on Binance (`-2010 Duplicate order sent.`).
use std::collections::BTreeMap;

use ferrotrade_model::{
    ClientOrderId, Fill, Money, OrderEvent, OrderEventKind, OrderRequest, OrderSide, OrderType, Price, Quantity,
    RejectReason, TimeInForce, UnixNanos,
};
use ferrotrade_oms::contract_value;

use super::{AccountTrade, Exchange};

/// An order's status as the venues name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireStatus {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Expired,
}

impl WireStatus {
    /// Binance's spelling.
    pub fn binance(self) -> &'static str {
        match self {
            WireStatus::New => "NEW",
            WireStatus::PartiallyFilled => "PARTIALLY_FILLED",
            WireStatus::Filled => "FILLED",
            WireStatus::Canceled => "CANCELED",
            WireStatus::Expired => "EXPIRED",
        }
    }

    /// Bybit's spelling (Bybit reports an expired IOC/FOK remainder as `Cancelled`).
    pub fn bybit(self) -> &'static str {
        match self {
            WireStatus::New => "New",
            WireStatus::PartiallyFilled => "PartiallyFilled",
            WireStatus::Filled => "Filled",
            WireStatus::Canceled | WireStatus::Expired => "Cancelled",
        }
    }

    /// Whether the order still works.
    pub fn is_open(self) -> bool {
        matches!(self, WireStatus::New | WireStatus::PartiallyFilled)
    }
}

/// A new order as parsed from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrderSpec {
    pub instrument: usize,
    pub side: OrderSide,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub post_only: bool,
    pub reduce_only: bool,
    pub price: Price,
    pub stop_price: Price,
    pub quantity: Quantity,
    pub client_order_id: String,
    /// The order type as the client spelled it (`LIMIT_MAKER`, `STOP_MARKET`, `Limit`), echoed back.
    pub wire_type: String,
}

/// An order the venue accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrderRecord {
    pub order_id: u64,
    pub account: usize,
    pub spec: OrderSpec,
    pub status: WireStatus,
    pub filled: Quantity,
    /// Sum of `price x size` of the fills, in quote currency.
    pub cum_quote: Money,
    pub fees: Money,
    pub created_ms: u64,
    pub updated_ms: u64,
    /// Why the venue ended the order itself (Bybit `rejectReason`), e.g. `EC_PostOnlyWillTakeLiquidity`.
    pub venue_reason: Option<&'static str>,
}

impl OrderRecord {
    /// Quantity still working.
    pub fn leaves(&self) -> Quantity {
        if self.status.is_open() { Quantity(self.spec.quantity.0 - self.filled.0) } else { Quantity::ZERO }
    }
}

/// What happened to an order, for the user-data streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExecKind {
    New,
    Trade(Fill),
    Canceled,
    Expired,
    Replaced,
    Triggered,
}

/// One change of one order, with the order as it is after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Execution {
    pub kind: ExecKind,
    pub order: OrderRecord,
    /// PnL the fill realized (linear), before fees.
    pub realized: Money,
    pub ts_ms: u64,
}

/// Why a request about an order failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubmitError {
    /// The matching engine refused the order (filters, post-only, reduce-only, no liquidity, ...).
    Rejected(RejectReason),
    /// An open order of the account already has this client order id.
    Duplicate,
    /// No such order, or it is no longer open.
    UnknownOrder,
    /// The account or instrument does not exist.
    UnknownAccount,
    /// A spot order needs more than the account's free balance.
    InsufficientBalance,
}

/// Every order ever accepted, and the id counters.
#[derive(Debug, Default)]
pub(crate) struct OrderBookkeeping {
    records: BTreeMap<u64, OrderRecord>,
    last_order_id: u64,
    last_trade_id: u64,
}

impl OrderBookkeeping {
    /// No order yet; order and trade ids are numbered after `last_id`.
    pub fn starting_at(last_id: u64) -> OrderBookkeeping {
        OrderBookkeeping { records: BTreeMap::new(), last_order_id: last_id, last_trade_id: last_id }
    }

    /// The order `order_id` of `account`.
    pub fn get(&self, account: usize, order_id: u64) -> Option<&OrderRecord> {
        self.records.get(&order_id).filter(|r| r.account == account)
    }

    /// The most recent order of `account` with `client_order_id`.
    pub fn by_client(&self, account: usize, client_order_id: &str) -> Option<&OrderRecord> {
        self.records.values().rev().find(|r| r.account == account && r.spec.client_order_id == client_order_id)
    }

    /// Open orders of `account`, optionally of one instrument, oldest first.
    pub fn open(&self, account: usize, instrument: Option<usize>) -> Vec<OrderRecord> {
        self.records
            .values()
            .filter(|r| r.account == account && r.status.is_open())
            .filter(|r| instrument.is_none_or(|i| r.spec.instrument == i))
            .cloned()
            .collect()
    }

    /// Every order (for [`crate::VenueState`]).
    pub fn all(&self) -> impl Iterator<Item = &OrderRecord> {
        self.records.values()
    }
}

fn nanos(ms: u64) -> UnixNanos {
    UnixNanos(ms.saturating_mul(1_000_000))
}

impl Exchange {
    /// Places a new order for `account`; returns the order as it stands after its immediate matching,
    /// and every change the user streams report.
    ///
    /// # Errors
    /// See [`SubmitError`].
    pub fn submit(
        &mut self,
        account: usize,
        spec: OrderSpec,
        now_ms: u64,
    ) -> Result<(OrderRecord, Vec<Execution>), SubmitError> {
        if account >= self.accounts.len() || spec.instrument >= self.markets.len() {
            return Err(SubmitError::UnknownAccount);
        }
        let duplicate =
            !spec.client_order_id.is_empty()
                && self.orders.records.values().any(|r| {
                    r.account == account && r.status.is_open() && r.spec.client_order_id == spec.client_order_id
                });
        if duplicate {
            return Err(SubmitError::Duplicate);
        }
        if !self.affordable(account, &spec) {
            return Err(SubmitError::InsufficientBalance);
        }
        let request = OrderRequest {
            instrument: ferrotrade_model::InstrumentIndex(u32::try_from(spec.instrument).unwrap_or(u32::MAX)),
            side: spec.side,
            order_type: spec.order_type,
            time_in_force: spec.time_in_force,
            quantity: spec.quantity,
            price: spec.price,
            trigger_price: spec.stop_price,
            post_only: spec.post_only,
            reduce_only: spec.reduce_only,
        };
        let order_id = self.orders.last_order_id + 1;
        let instrument = spec.instrument;
        let mut events = Vec::new();
        let venue = self.venue_of(account, instrument).ok_or(SubmitError::UnknownAccount)?;
        venue.submit(nanos(now_ms), ClientOrderId(order_id), &request, &mut events);
        if let Some(OrderEvent { kind: OrderEventKind::Rejected(reason), .. }) = events.first() {
            return Err(SubmitError::Rejected(*reason));
        }
        self.orders.last_order_id = order_id;
        let record = OrderRecord {
            order_id,
            account,
            spec,
            status: WireStatus::New,
            filled: Quantity::ZERO,
            cum_quote: Money::ZERO,
            fees: Money::ZERO,
            created_ms: now_ms,
            updated_ms: now_ms,
            venue_reason: None,
        };
        self.orders.records.insert(order_id, record);
        let mut executions = Vec::new();
        self.process_events(account, instrument, &events, now_ms, &mut executions);
        let record = self.orders.records.get(&order_id).cloned().ok_or(SubmitError::UnknownOrder)?;
        Ok((record, executions))
    }

    /// Whether `account` holds what a spot order needs (linear instruments are not margin-checked): a
    /// buy needs `price x quantity` of free quote asset (a market buy is valued at the best ask), a sell
    /// `quantity` of free base asset.
    fn affordable(&self, account: usize, spec: &OrderSpec) -> bool {
        let Some(instrument) = self.instruments.get(spec.instrument) else { return false };
        if instrument.contract_type != ferrotrade_model::ContractType::Spot {
            return true;
        }
        let (base, quote) = crate::capture::split_symbol(&instrument.id.symbol);
        match spec.side {
            OrderSide::Buy => {
                let price = match spec.order_type {
                    OrderType::Limit | OrderType::StopLimit => spec.price,
                    OrderType::StopMarket => spec.stop_price,
                    OrderType::Market => {
                        let best = self.markets.get(spec.instrument).and_then(|m| m.template.book().best_ask());
                        match best {
                            Some(level) => level.price,
                            // No book: the engine rejects it for want of liquidity.
                            None => return true,
                        }
                    }
                };
                contract_value(instrument, price, instrument.price_precision, spec.quantity)
                    <= self.free(account, &quote)
            }
            OrderSide::Sell => {
                let size = Money::from_decimal(ferrotrade_model::Decimal::from_fixed(
                    spec.quantity.0,
                    instrument.size_precision,
                ));
                size <= self.free(account, &base)
            }
        }
    }

    /// Records an order the venue accepts on the wire but ends at once (Bybit's post-only order that
    /// would take: created, then `Cancelled` with `EC_PostOnlyWillTakeLiquidity`).
    pub fn accept_and_cancel(
        &mut self,
        account: usize,
        spec: OrderSpec,
        reason: &'static str,
        now_ms: u64,
    ) -> (OrderRecord, Vec<Execution>) {
        self.orders.last_order_id += 1;
        let record = OrderRecord {
            order_id: self.orders.last_order_id,
            account,
            spec,
            status: WireStatus::Canceled,
            filled: Quantity::ZERO,
            cum_quote: Money::ZERO,
            fees: Money::ZERO,
            created_ms: now_ms,
            updated_ms: now_ms,
            venue_reason: Some(reason),
        };
        self.orders.records.insert(record.order_id, record.clone());
        let execution =
            Execution { kind: ExecKind::Canceled, order: record.clone(), realized: Money::ZERO, ts_ms: now_ms };
        (record, vec![execution])
    }

    /// Cancels an open order of `account`.
    ///
    /// # Errors
    /// [`SubmitError::UnknownOrder`] when it is unknown or no longer open.
    pub fn cancel(
        &mut self,
        account: usize,
        order_id: u64,
        now_ms: u64,
    ) -> Result<(OrderRecord, Vec<Execution>), SubmitError> {
        let instrument = match self.orders.get(account, order_id) {
            Some(record) if record.status.is_open() => record.spec.instrument,
            _ => return Err(SubmitError::UnknownOrder),
        };
        let mut events = Vec::new();
        let venue = self.venue_of(account, instrument).ok_or(SubmitError::UnknownAccount)?;
        venue.cancel(nanos(now_ms), ClientOrderId(order_id), &mut events);
        if events.iter().any(|e| matches!(e.kind, OrderEventKind::CancelRejected(_))) {
            return Err(SubmitError::UnknownOrder);
        }
        let mut executions = Vec::new();
        self.process_events(account, instrument, &events, now_ms, &mut executions);
        let record = self.orders.records.get(&order_id).cloned().ok_or(SubmitError::UnknownOrder)?;
        Ok((record, executions))
    }

    /// Changes an open order's price and/or total quantity.
    ///
    /// # Errors
    /// [`SubmitError::UnknownOrder`], or [`SubmitError::Rejected`] with the engine's reason.
    pub fn amend(
        &mut self,
        account: usize,
        order_id: u64,
        price: Price,
        quantity: Quantity,
        now_ms: u64,
    ) -> Result<(OrderRecord, Vec<Execution>), SubmitError> {
        let instrument = match self.orders.get(account, order_id) {
            Some(record) if record.status.is_open() => record.spec.instrument,
            _ => return Err(SubmitError::UnknownOrder),
        };
        let mut events = Vec::new();
        let venue = self.venue_of(account, instrument).ok_or(SubmitError::UnknownAccount)?;
        venue.amend(nanos(now_ms), ClientOrderId(order_id), price, quantity, &mut events);
        if let Some(reason) = events.iter().find_map(|e| match e.kind {
            OrderEventKind::ReplaceRejected(reason) => Some(reason),
            _ => None,
        }) {
            return Err(SubmitError::Rejected(reason));
        }
        let mut executions = Vec::new();
        self.process_events(account, instrument, &events, now_ms, &mut executions);
        let record = self.orders.records.get(&order_id).cloned().ok_or(SubmitError::UnknownOrder)?;
        Ok((record, executions))
    }

    /// Applies the engine's events of `account`'s venue in `instrument` to the records and balances.
    pub(super) fn process_events(
        &mut self,
        account: usize,
        instrument: usize,
        events: &[OrderEvent],
        now_ms: u64,
        executions: &mut Vec<Execution>,
    ) {
        for event in events {
            let Some(record) = self.orders.records.get_mut(&event.client_id.0) else { continue };
            let mut realized = Money::ZERO;
            let kind = match event.kind {
                OrderEventKind::Accepted(_) => ExecKind::New,
                OrderEventKind::Filled(mut fill) => {
                    self.orders.last_trade_id += 1;
                    fill.trade_id = self.orders.last_trade_id;
                    fill.fee = commission(fill.fee);
                    let Some(spec) = self.instruments.get(instrument) else { continue };
                    record.filled.0 += fill.quantity.0;
                    record.cum_quote += contract_value(spec, fill.price, spec.price_precision, fill.quantity);
                    record.fees += fill.fee;
                    record.status = if record.filled >= record.spec.quantity {
                        WireStatus::Filled
                    } else {
                        WireStatus::PartiallyFilled
                    };
                    if let Some(owner) = self.accounts.get_mut(account) {
                        realized = owner.apply_fill(spec, instrument, &fill);
                        let order_id = record.order_id;
                        owner.record_trade(AccountTrade { order_id, instrument, fill, realized, ts_ms: now_ms });
                    }
                    ExecKind::Trade(fill)
                }
                OrderEventKind::Canceled => {
                    record.status = WireStatus::Canceled;
                    ExecKind::Canceled
                }
                OrderEventKind::Expired => {
                    record.status = WireStatus::Expired;
                    ExecKind::Expired
                }
                OrderEventKind::Replaced { price, quantity } => {
                    record.spec.price = price;
                    record.spec.quantity = quantity;
                    ExecKind::Replaced
                }
                OrderEventKind::Triggered => ExecKind::Triggered,
                _ => continue,
            };
            record.updated_ms = now_ms;
            executions.push(Execution { kind, order: record.clone(), realized, ts_ms: now_ms });
        }
    }
}

/// Money units (10^-18) in one unit of the venues' commission precision.
const COMMISSION_UNIT: i128 = 10_000_000_000;

/// A fee as the venues charge and report it: at 8 decimals (their commission precision), rounded half
/// away from zero, so the balance moves by exactly the commission the client is told.
fn commission(fee: Money) -> Money {
    let (units, rest) = (fee.0 / COMMISSION_UNIT, fee.0 % COMMISSION_UNIT);
    let units = if rest.abs() * 2 >= COMMISSION_UNIT { units + rest.signum() } else { units };
    Money(units * COMMISSION_UNIT)
}

#[cfg(test)]
mod commission_tests {
    use super::*;

    #[test]
    fn fees_are_rounded_to_eight_decimals_half_away_from_zero() {
        // 12.368146 USDT at 0.02 %: 0.0024736292 -> 0.00247363.
        assert_eq!(commission(Money(2_473_629_200_000_000)), Money(2_473_630_000_000_000));
        assert_eq!(commission(Money(2_473_624_999_999_999)), Money(2_473_620_000_000_000));
        assert_eq!(commission(Money(-2_473_625_000_000_000)), Money(-2_473_630_000_000_000), "a rebate too");
        assert_eq!(commission(Money::ZERO), Money::ZERO);
    }
}
