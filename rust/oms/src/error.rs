//! [`OrderStateError`]: why the OMS refused an order event or a fill.
//!
//! Every refusal leaves the store, the order and the positions exactly as they were: an event is checked
//! completely before anything is written. The Python layer maps this type to
//! `ferrotrade.exceptions.OrderStateError`.

use ferrotrade_model::{ClientOrderId, InstrumentIndex, OrderStatus, Quantity};

/// Why an order event was refused. Quantities are mantissas at the instrument's size precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrderStateError {
    /// The event is not legal in the order's current state (see [`crate::transitions`]).
    #[error("illegal transition: event {event} in state {}", from.as_str())]
    IllegalTransition {
        /// The state the order was in (left unchanged).
        from: OrderStatus,
        /// The refused event's name (`"canceled"`, `"fill"`, ...).
        event: &'static str,
    },
    /// No order with this client id exists in the store.
    #[error("unknown order {0}")]
    UnknownOrder(ClientOrderId),
    /// A fill would take the filled size above the order's quantity.
    #[error("overfill of order {client_id}: filled {} would exceed quantity {}", filled.0, quantity.0)]
    Overfill {
        /// The order (`ClientOrderId(0)` when raised by the bare transition table, which knows no id).
        client_id: ClientOrderId,
        /// The order's quantity.
        quantity: Quantity,
        /// The filled size the fill would have produced.
        filled: Quantity,
    },
    /// An amend to a total quantity below what has already filled, or to a non-positive quantity.
    #[error("invalid replace of order {client_id}: new quantity {} with {} already filled", quantity.0, filled.0)]
    InvalidReplace {
        /// The order (`ClientOrderId(0)` when raised by the bare transition table, which knows no id).
        client_id: ClientOrderId,
        /// The refused new total quantity.
        quantity: Quantity,
        /// The size already filled.
        filled: Quantity,
    },
    /// The event does not match its order: other instrument, a fill of the other side or of another order,
    /// or a fill with a non-positive size or price.
    #[error("event does not match order {client_id}: {reason}")]
    MismatchedEvent {
        /// The order.
        client_id: ClientOrderId,
        /// What does not match.
        reason: &'static str,
    },
    /// A fill for an instrument the portfolio does not have.
    #[error("unknown instrument index {}", .0.0)]
    UnknownInstrument(InstrumentIndex),
}

impl OrderStateError {
    /// The same error naming `client_id` where the transition table could not know it.
    pub(crate) fn for_order(self, client_id: ClientOrderId) -> OrderStateError {
        match self {
            OrderStateError::Overfill { quantity, filled, .. } => {
                OrderStateError::Overfill { client_id, quantity, filled }
            }
            OrderStateError::InvalidReplace { quantity, filled, .. } => {
                OrderStateError::InvalidReplace { client_id, quantity, filled }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_state_and_sizes() {
        let error = OrderStateError::IllegalTransition { from: OrderStatus::Filled, event: "canceled" };
        assert_eq!(error.to_string(), "illegal transition: event canceled in state filled");
        let error =
            OrderStateError::Overfill { client_id: ClientOrderId(0), quantity: Quantity(3), filled: Quantity(4) }
                .for_order(ClientOrderId(7));
        assert_eq!(error.to_string(), "overfill of order 7: filled 4 would exceed quantity 3");
        assert_eq!(OrderStateError::UnknownInstrument(InstrumentIndex(2)).to_string(), "unknown instrument index 2");
    }
}
