//! Order tracking: turning the venue's cumulative order states (REST answers, user-stream updates,
//! catch-up queries) into OMS events exactly once, and forgetting finished orders.

use ferrotrade_model::{
    ClientOrderId, Decimal, Fill, Instrument, InstrumentIndex, Money, OrderEventKind, OrderSide, OrderStatus, Price,
    Quantity, RejectReason, UnixNanos, VenueOrderId,
};
use ferrotrade_venues::trading::{FillReport, OrderUpdate};

use super::{FINISHED_MEMORY, SYNTHETIC_TRADE_BIT, Shared, fixed};

/// What the gateway knows of one of its orders, to turn cumulative venue updates into OMS events.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tracked {
    pub(super) instrument: InstrumentIndex,
    pub(super) side: OrderSide,
    pub(super) accepted: bool,
    pub(super) venue_id: u64,
    /// Cumulative quantity already reported as fills (fixed point, the instrument's size precision).
    pub(super) counted: i64,
    /// Synthetic fills emitted so far (numbers their trade ids).
    pub(super) synthetic: u16,
}

impl Tracked {
    pub(super) fn new(instrument: InstrumentIndex, side: OrderSide, venue_id: u64) -> Tracked {
        Tracked { instrument, side, accepted: false, venue_id, counted: 0, synthetic: 0 }
    }
}

impl Shared {
    /// Whether `client_id` finished recently (its late updates are ignored).
    pub(super) fn is_finished(&self, client_id: ClientOrderId) -> bool {
        self.finished.borrow().1.contains(&client_id)
    }

    /// Drops a finished order's state, remembering its id among the last [`FINISHED_MEMORY`].
    pub(super) fn finish(&self, client_id: ClientOrderId) {
        self.orders.borrow_mut().remove(&client_id);
        let mut finished = self.finished.borrow_mut();
        let (order, set) = &mut *finished;
        if set.insert(client_id) {
            order.push_back(client_id);
        }
        while order.len() > FINISHED_MEMORY {
            if let Some(oldest) = order.pop_front() {
                set.remove(&oldest);
            }
        }
    }

    /// Reports a venue refusal of a new order and forgets the order.
    pub(super) fn reject(
        &self,
        client_id: ClientOrderId,
        instrument: InstrumentIndex,
        reason: RejectReason,
        ts: UnixNanos,
    ) {
        if !self.is_finished(client_id) {
            self.event(client_id, instrument, OrderEventKind::Rejected(reason), ts);
            self.finish(client_id);
        }
    }

    /// Turns a venue order state (cumulative) into the OMS events it implies. `catch_up`: the update
    /// comes from a query after a gap, so quantity filled beyond what was counted is reported as one fill.
    pub(super) fn apply_update(&self, update: &OrderUpdate, fills: &[FillReport], catch_up: bool) {
        let Some(client_id) = update.client_id else { return };
        let Some(instrument) = self.index_of(&update.symbol) else { return };
        let Some((_, spec)) = self.symbol(instrument).cloned() else { return };
        if self.is_finished(client_id) {
            return;
        }
        let venue_id = update.venue_order_id.parse().unwrap_or(0);
        let mut tracked = *self
            .orders
            .borrow_mut()
            .entry(client_id)
            .or_insert_with(|| Tracked::new(instrument, update.side, venue_id));
        if tracked.venue_id == 0 {
            tracked.venue_id = venue_id;
        }
        if update.status == OrderStatus::Rejected {
            let reason = update.reject_reason.as_deref().map_or(RejectReason::Venue, reason_of_text);
            self.reject(client_id, instrument, reason, update.ts_event);
            return;
        }
        if !tracked.accepted {
            tracked.accepted = true;
            self.event(
                client_id,
                instrument,
                OrderEventKind::Accepted(VenueOrderId(tracked.venue_id)),
                update.ts_event,
            );
        }
        let cumulative = fixed(update.filled, spec.size_precision).unwrap_or(0);
        // The cumulative quantity after each report: the batch ends at `cumulative`.
        let reports: Vec<&FillReport> = fills.iter().chain(update.last_fill.as_ref()).collect();
        let mut after: Vec<i64> = Vec::with_capacity(reports.len());
        let mut level = cumulative;
        for report in reports.iter().rev() {
            after.push(level);
            level -= fixed(report.quantity, spec.size_precision).unwrap_or(0);
        }
        after.reverse();
        for (report, &level) in reports.iter().zip(&after) {
            if level > tracked.counted
                && let Some(fill) = fill_of(report, client_id, &tracked, &spec)
            {
                tracked.counted = level;
                self.event(client_id, instrument, OrderEventKind::Filled(fill), report.ts_event);
            }
        }
        if catch_up && cumulative > tracked.counted {
            let missing = cumulative - tracked.counted;
            let price = update.avg_price.and_then(|avg| fixed(avg, spec.price_precision));
            if let Some(price) = price {
                tracked.synthetic = tracked.synthetic.wrapping_add(1);
                let trade_id = SYNTHETIC_TRADE_BIT
                    | (tracked.venue_id & 0xFFFF_FFFF_FFFF) << 8
                    | u64::from(tracked.synthetic & 0xFF);
                self.notice(format!(
                    "order {client_id}: {missing} filled while the stream was down; reported from the query"
                ));
                let fill = Fill {
                    client_id,
                    venue_order_id: VenueOrderId(tracked.venue_id),
                    trade_id,
                    instrument,
                    side: tracked.side,
                    price: Price(price),
                    quantity: Quantity(missing),
                    fee: Money::from_decimal(Decimal::ZERO),
                    liquidity: ferrotrade_model::Liquidity::Maker,
                    ts_event: update.ts_event,
                    ts_recv: UnixNanos(0),
                };
                tracked.counted = cumulative;
                self.event(client_id, instrument, OrderEventKind::Filled(fill), update.ts_event);
            }
        }
        match update.status {
            OrderStatus::Canceled => self.event(client_id, instrument, OrderEventKind::Canceled, update.ts_event),
            OrderStatus::Expired => self.event(client_id, instrument, OrderEventKind::Expired, update.ts_event),
            _ => {}
        }
        if update.status.is_terminal() {
            self.finish(client_id);
        } else {
            self.orders.borrow_mut().insert(client_id, tracked);
        }
    }
}

/// The reason for a venue's reject text (an order update's reject reason), [`RejectReason::Venue`] when
/// nothing fits.
fn reason_of_text(text: &str) -> RejectReason {
    let upper = text.to_ascii_uppercase();
    if upper.contains("PRICE_FILTER") {
        RejectReason::InvalidTickSize
    } else if upper.contains("LOT_SIZE") {
        RejectReason::InvalidLotSize
    } else if upper.contains("NOTIONAL") {
        RejectReason::MinNotional
    } else {
        RejectReason::Venue
    }
}

fn fill_of(report: &FillReport, client_id: ClientOrderId, tracked: &Tracked, spec: &Instrument) -> Option<Fill> {
    Some(Fill {
        client_id,
        venue_order_id: VenueOrderId(tracked.venue_id),
        trade_id: report.trade_id.parse().ok()?,
        instrument: tracked.instrument,
        side: tracked.side,
        price: Price(fixed(report.price, spec.price_precision)?),
        quantity: Quantity(fixed(report.quantity, spec.size_precision)?),
        fee: Money::from_decimal(report.fee),
        liquidity: report.liquidity,
        ts_event: report.ts_event,
        ts_recv: UnixNanos(0),
    })
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::RejectReason;

    use super::reason_of_text;

    #[test]
    fn reject_texts_map_to_filters_or_to_the_generic_venue_reason() {
        assert_eq!(reason_of_text("Filter failure: PRICE_FILTER"), RejectReason::InvalidTickSize);
        assert_eq!(reason_of_text("Filter failure: LOT_SIZE"), RejectReason::InvalidLotSize);
        assert_eq!(reason_of_text("Filter failure: MIN_NOTIONAL"), RejectReason::MinNotional);
        assert_eq!(reason_of_text("Account has insufficient balance"), RejectReason::Venue);
        assert_eq!(RejectReason::Venue.code(), "venue_reject");
    }
}
