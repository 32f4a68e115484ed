//! [`Order`]: one order as the OMS tracks it.

use ferrotrade_model::{
    ClientOrderId, OrderRequest, OrderStatus, Quantity, RejectReason, UnixNanos, VenueOrderId, pow10,
};

/// One order: what was asked, where it stands, how much has filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// Client id assigned by the OMS.
    pub client_id: ClientOrderId,
    /// What the strategy asked for; amends update `price` and `quantity` here.
    pub request: OrderRequest,
    /// Current state.
    pub status: OrderStatus,
    /// Size filled so far; `filled <= request.quantity` always.
    pub filled: Quantity,
    /// Exact `sum(price x size)` of the fills, at `price_precision + size_precision` decimals.
    pub fill_notional: i128,
    /// The venue's id, once accepted.
    pub venue_order_id: Option<VenueOrderId>,
    /// Why it was denied or rejected (or the last cancel/amend refusal).
    pub reason: Option<RejectReason>,
    /// When the strategy created it.
    pub ts_init: UnixNanos,
    /// Time of the last event applied.
    pub ts_last: UnixNanos,
}

impl Order {
    /// A new `Initialized` order with nothing filled.
    #[must_use]
    pub const fn new(client_id: ClientOrderId, request: OrderRequest, now: UnixNanos) -> Order {
        Order {
            client_id,
            request,
            status: OrderStatus::Initialized,
            filled: Quantity::ZERO,
            fill_notional: 0,
            venue_order_id: None,
            reason: None,
            ts_init: now,
            ts_last: now,
        }
    }

    /// The size still to fill: `request.quantity - filled` (also for finished orders, where it is what never
    /// filled).
    #[inline]
    #[must_use]
    pub const fn leaves(&self) -> Quantity {
        Quantity(self.request.quantity.0 - self.filled.0)
    }

    /// Whether the order is, or may be, working at the venue (see [`OrderStatus::is_open`]).
    #[inline]
    #[must_use]
    pub const fn is_open(&self) -> bool {
        self.status.is_open()
    }

    /// The average fill price as an `f64` (reports only), or `None` when nothing filled or a precision is out
    /// of range.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn avg_fill_price_f64(&self, price_precision: u8, size_precision: u8) -> Option<f64> {
        if self.filled.0 <= 0 {
            return None;
        }
        let notional_scale = pow10(price_precision.checked_add(size_precision)?)? as f64;
        let size_scale = pow10(size_precision)? as f64;
        Some((self.fill_notional as f64 / notional_scale) / (self.filled.0 as f64 / size_scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotrade_model::{InstrumentIndex, OrderSide, Price};

    #[test]
    fn leaves_and_average_price() {
        let request = OrderRequest::limit(InstrumentIndex(0), OrderSide::Buy, Price(618_002), Quantity(3));
        let mut order = Order::new(ClientOrderId(1), request, UnixNanos(5));
        assert_eq!(order.leaves(), Quantity(3));
        assert_eq!(order.avg_fill_price_f64(1, 3), None);
        assert!(!order.is_open());
        // 0.001 @ 61800.2 and 0.001 @ 61800.0: average 61800.1.
        order.filled = Quantity(2);
        order.fill_notional = Price(618_002).notional(Quantity(1)) + Price(618_000).notional(Quantity(1));
        order.status = OrderStatus::PartiallyFilled;
        assert_eq!(order.leaves(), Quantity(1));
        assert!(order.is_open());
        let avg = order.avg_fill_price_f64(1, 3).unwrap();
        assert!((avg - 61_800.1).abs() < 1e-9, "{avg}");
        assert_eq!(order.avg_fill_price_f64(40, 3), None);
    }
}
