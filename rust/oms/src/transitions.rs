//! The order state machine: ONE table of legal transitions, [`next_transition`], and its plain form
//! [`next_status`].
//!
//! Every status change of every order goes through this table, in the backtester and live alike, so an
//! event that makes no sense in the order's state (a fill after a cancel, an ack after a reject) is an
//! [`OrderStateError::IllegalTransition`] the caller sees, never a silent overwrite.
//!
//! # Resuming after a refused cancel or amend
//! `PendingCancel` and `PendingReplace` must be able to go back to the state they came from when the venue
//! refuses the request. That state is the *resume* status: [`next_transition`] takes it and returns the new
//! one; [`crate::OrderStore`] keeps it beside each order. While a request is pending, events that change
//! the working state (a fill, the late ack of a `Submitted` order, a stop trigger) update the resume status
//! and keep the pending status. [`next_status`], which has no memory, assumes the order was working
//! before: resume = `PartiallyFilled` when `filled_after > 0`, else `Accepted`.
//!
//! # The table
//! `W` is any working state: `Submitted`, `Accepted`, `PartiallyFilled`, `Triggered`. `R` is the resume
//! status. "fill" means `filled_after < quantity`, "full fill" `filled_after == quantity`; a fill taking
//! `filled_after` above the quantity is [`OrderStateError::Overfill`].
//!
//! | from | event | to |
//! |---|---|---|
//! | `Initialized` | `Denied` | `Denied` |
//! | `Initialized` | `Submitted` | `Submitted` |
//! | `Submitted` | `Accepted` | `Accepted` |
//! | `Submitted` | `Rejected` | `Rejected` |
//! | `W` | fill / full fill | `PartiallyFilled` / `Filled` (an IOC may fill before its ack) |
//! | `W` | `Canceled` / `Expired` | `Canceled` / `Expired` |
//! | `W` | `PendingCancel` | `PendingCancel`, R = `W` |
//! | `Accepted`, `PartiallyFilled`, `Triggered` | `PendingReplace` | `PendingReplace`, R = from |
//! | `Accepted` | `Triggered` | `Triggered` (stop orders) |
//! | `PendingCancel` | `Canceled` | `Canceled` |
//! | `PendingCancel` | `CancelRejected` | R |
//! | `PendingReplace` | `Replaced` | `PartiallyFilled` if filled > 0, else R (`Accepted` or `Triggered`); `Filled` if the new quantity equals the filled size |
//! | `PendingReplace` | `ReplaceRejected` | R |
//! | `PendingReplace` | `Canceled` | `Canceled` |
//! | `PendingCancel`, `PendingReplace` | `Expired` | `Expired` |
//! | `PendingCancel`, `PendingReplace` | fill | unchanged, R = `PartiallyFilled` |
//! | `PendingCancel`, `PendingReplace` | full fill | `Filled` |
//! | `PendingCancel` with R = `Submitted` | `Accepted` | `PendingCancel`, R = `Accepted` (the ack crossed the cancel) |
//! | `PendingCancel` with R = `Submitted` | `Rejected` | `Rejected` |
//! | `PendingCancel`, `PendingReplace` with R = `Accepted` | `Triggered` | unchanged, R = `Triggered` |
//! | `Denied`, `Filled`, `Canceled`, `Rejected`, `Expired` | anything | illegal (terminal) |
//! | anything else | | illegal |
//!
//! Deliberately illegal: a second cancel or amend while one is pending, an amend of a `Submitted` order
//! (not yet known to the venue), `Triggered` after a fill, and `Replaced`/`CancelRejected` without a pending
//! request. `Replaced` to a quantity below the filled size (or not positive) is
//! [`OrderStateError::InvalidReplace`].

use ferrotrade_model::{ClientOrderId, OrderEventKind, OrderStatus, Quantity};

use crate::error::OrderStateError;

/// The outcome of one transition: the new status, and the status to resume when it is a pending one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The order's new status.
    pub status: OrderStatus,
    /// While `status` is `PendingCancel`/`PendingReplace`: the working status a refusal returns to.
    /// Otherwise equal to `status`.
    pub resume: OrderStatus,
}

impl Transition {
    const fn to(status: OrderStatus) -> Transition {
        Transition { status, resume: status }
    }
}

/// The working status of an order that has filled `filled`: `PartiallyFilled` when anything filled, else
/// `Accepted`.
#[inline]
#[must_use]
pub const fn working_status(filled: Quantity) -> OrderStatus {
    if filled.0 > 0 { OrderStatus::PartiallyFilled } else { OrderStatus::Accepted }
}

/// The snake-case name of an event, as [`OrderStateError::IllegalTransition`] reports it.
#[must_use]
pub const fn event_name(event: &OrderEventKind) -> &'static str {
    match event {
        OrderEventKind::Denied(_) => "denied",
        OrderEventKind::Submitted => "submitted",
        OrderEventKind::Accepted(_) => "accepted",
        OrderEventKind::Rejected(_) => "rejected",
        OrderEventKind::PendingCancel => "pending_cancel",
        OrderEventKind::Canceled => "canceled",
        OrderEventKind::CancelRejected(_) => "cancel_rejected",
        OrderEventKind::PendingReplace => "pending_replace",
        OrderEventKind::Replaced { .. } => "replaced",
        OrderEventKind::ReplaceRejected(_) => "replace_rejected",
        OrderEventKind::Triggered => "triggered",
        OrderEventKind::Expired => "expired",
        OrderEventKind::Filled(_) => "fill",
    }
}

/// The status after `event`, for an order of `order_quantity` that will have filled `filled_after` once the
/// event is applied (for a non-fill event: what it has filled so far).
///
/// A pending cancel or amend that is refused returns to `PartiallyFilled` when `filled_after > 0`, else to
/// `Accepted`: this function has no memory of the state before the request. [`crate::OrderStore`] uses
/// [`next_transition`], which remembers it (so a refused cancel of a `Submitted` or `Triggered` order
/// returns there).
///
/// # Errors
/// [`OrderStateError::IllegalTransition`] when the table has no such transition;
/// [`OrderStateError::Overfill`] when a fill makes `filled_after > order_quantity`;
/// [`OrderStateError::InvalidReplace`] for an amend below the filled size; [`OrderStateError::MismatchedEvent`]
/// for a fill with `filled_after <= 0`. The errors name `ClientOrderId(0)`: the table knows no order.
pub fn next_status(
    from: OrderStatus,
    event: &OrderEventKind,
    order_quantity: Quantity,
    filled_after: Quantity,
) -> Result<OrderStatus, OrderStateError> {
    next_transition(from, working_status(filled_after), event, order_quantity, filled_after).map(|t| t.status)
}

/// The transition `event` makes from `from`, given the `resume` status remembered while a cancel or amend is
/// pending (ignored otherwise), for an order of `order_quantity` that will have filled `filled_after`.
///
/// # Errors
/// As [`next_status`].
pub fn next_transition(
    from: OrderStatus,
    resume: OrderStatus,
    event: &OrderEventKind,
    order_quantity: Quantity,
    filled_after: Quantity,
) -> Result<Transition, OrderStateError> {
    use OrderEventKind as E;
    use OrderStatus as S;

    let illegal = Err(OrderStateError::IllegalTransition { from, event: event_name(event) });
    let working = matches!(from, S::Submitted | S::Accepted | S::PartiallyFilled | S::Triggered);
    let pending = matches!(from, S::PendingCancel | S::PendingReplace);
    match *event {
        E::Denied(_) if from == S::Initialized => Ok(Transition::to(S::Denied)),
        E::Submitted if from == S::Initialized => Ok(Transition::to(S::Submitted)),
        E::Accepted(_) if from == S::Submitted => Ok(Transition::to(S::Accepted)),
        E::Accepted(_) if from == S::PendingCancel && resume == S::Submitted => {
            Ok(Transition { status: from, resume: S::Accepted })
        }
        E::Rejected(_) if from == S::Submitted || (from == S::PendingCancel && resume == S::Submitted) => {
            Ok(Transition::to(S::Rejected))
        }
        E::Filled(_) if working || pending => {
            if filled_after.0 <= 0 {
                return Err(OrderStateError::MismatchedEvent {
                    client_id: ClientOrderId(0),
                    reason: "fill of a non-positive size",
                });
            }
            if filled_after > order_quantity {
                return Err(OrderStateError::Overfill {
                    client_id: ClientOrderId(0),
                    quantity: order_quantity,
                    filled: filled_after,
                });
            }
            if filled_after == order_quantity {
                Ok(Transition::to(S::Filled))
            } else if pending {
                Ok(Transition { status: from, resume: S::PartiallyFilled })
            } else {
                Ok(Transition::to(S::PartiallyFilled))
            }
        }
        E::Canceled if working || pending => Ok(Transition::to(S::Canceled)),
        E::Expired if working || pending => Ok(Transition::to(S::Expired)),
        E::PendingCancel if working => Ok(Transition { status: S::PendingCancel, resume: from }),
        E::PendingReplace if working && from != S::Submitted => {
            Ok(Transition { status: S::PendingReplace, resume: from })
        }
        E::Triggered if from == S::Accepted => Ok(Transition::to(S::Triggered)),
        E::Triggered if pending && resume == S::Accepted => Ok(Transition { status: from, resume: S::Triggered }),
        E::CancelRejected(_) if from == S::PendingCancel => Ok(Transition::to(resume)),
        E::ReplaceRejected(_) if from == S::PendingReplace => Ok(Transition::to(resume)),
        E::Replaced { quantity, .. } if from == S::PendingReplace => {
            if quantity.0 <= 0 || quantity < filled_after {
                return Err(OrderStateError::InvalidReplace {
                    client_id: ClientOrderId(0),
                    quantity,
                    filled: filled_after,
                });
            }
            if quantity == filled_after {
                Ok(Transition::to(S::Filled))
            } else if filled_after.0 > 0 {
                Ok(Transition::to(S::PartiallyFilled))
            } else if resume == S::Triggered {
                Ok(Transition::to(S::Triggered))
            } else {
                Ok(Transition::to(S::Accepted))
            }
        }
        _ => illegal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotrade_model::{
        Fill, InstrumentIndex, Liquidity, Money, OrderSide, Price, RejectReason, UnixNanos, VenueOrderId,
    };

    const ALL: [OrderStatus; 12] = [
        OrderStatus::Initialized,
        OrderStatus::Denied,
        OrderStatus::Submitted,
        OrderStatus::Accepted,
        OrderStatus::PartiallyFilled,
        OrderStatus::Filled,
        OrderStatus::PendingCancel,
        OrderStatus::Canceled,
        OrderStatus::PendingReplace,
        OrderStatus::Rejected,
        OrderStatus::Expired,
        OrderStatus::Triggered,
    ];

    fn fill() -> OrderEventKind {
        OrderEventKind::Filled(Fill {
            client_id: ClientOrderId(1),
            venue_order_id: VenueOrderId(1),
            trade_id: 1,
            instrument: InstrumentIndex(0),
            side: OrderSide::Buy,
            price: Price(618_002),
            quantity: Quantity(1),
            fee: Money::ZERO,
            liquidity: Liquidity::Maker,
            ts_event: UnixNanos(0),
            ts_recv: UnixNanos(0),
        })
    }

    fn events() -> Vec<OrderEventKind> {
        let reason = RejectReason::UnknownOrder;
        vec![
            OrderEventKind::Denied(RejectReason::MaxPosition),
            OrderEventKind::Submitted,
            OrderEventKind::Accepted(VenueOrderId(9)),
            OrderEventKind::Rejected(RejectReason::PostOnlyWouldTake),
            OrderEventKind::PendingCancel,
            OrderEventKind::Canceled,
            OrderEventKind::CancelRejected(reason),
            OrderEventKind::PendingReplace,
            OrderEventKind::Replaced { price: Price(618_000), quantity: Quantity(3) },
            OrderEventKind::ReplaceRejected(reason),
            OrderEventKind::Triggered,
            OrderEventKind::Expired,
            fill(),
        ]
    }

    fn status(from: OrderStatus, event: &OrderEventKind, filled: i64) -> Result<OrderStatus, OrderStateError> {
        next_status(from, event, Quantity(3), Quantity(filled))
    }

    #[test]
    fn terminal_states_accept_nothing() {
        for from in ALL.into_iter().filter(|s| s.is_terminal()) {
            for event in events() {
                let result = status(from, &event, 1);
                assert_eq!(result, Err(OrderStateError::IllegalTransition { from, event: event_name(&event) }));
            }
        }
    }

    #[test]
    fn initialized_is_denied_or_submitted_only() {
        assert_eq!(status(OrderStatus::Initialized, &events()[0], 0), Ok(OrderStatus::Denied));
        assert_eq!(status(OrderStatus::Initialized, &OrderEventKind::Submitted, 0), Ok(OrderStatus::Submitted));
        let legal = events().iter().filter(|e| status(OrderStatus::Initialized, e, 1).is_ok()).count();
        assert_eq!(legal, 2);
    }

    #[test]
    fn submitted_orders_can_fill_before_the_ack() {
        let s = OrderStatus::Submitted;
        assert_eq!(status(s, &fill(), 1), Ok(OrderStatus::PartiallyFilled));
        assert_eq!(status(s, &fill(), 3), Ok(OrderStatus::Filled));
        assert_eq!(status(s, &OrderEventKind::Accepted(VenueOrderId(1)), 0), Ok(OrderStatus::Accepted));
        assert_eq!(status(s, &OrderEventKind::Rejected(RejectReason::InvalidPrice), 0), Ok(OrderStatus::Rejected));
        assert_eq!(status(s, &OrderEventKind::Expired, 0), Ok(OrderStatus::Expired));
        assert_eq!(status(s, &OrderEventKind::PendingCancel, 0), Ok(OrderStatus::PendingCancel));
        assert!(status(s, &OrderEventKind::PendingReplace, 0).is_err());
        assert!(status(s, &OrderEventKind::Triggered, 0).is_err());
    }

    #[test]
    fn fills_beyond_the_quantity_are_overfills() {
        let error = status(OrderStatus::PartiallyFilled, &fill(), 4);
        let expected =
            OrderStateError::Overfill { client_id: ClientOrderId(0), quantity: Quantity(3), filled: Quantity(4) };
        assert_eq!(error, Err(expected));
        assert!(matches!(status(OrderStatus::Accepted, &fill(), 0), Err(OrderStateError::MismatchedEvent { .. })));
    }

    #[test]
    fn pending_cancel_keeps_filling_and_resumes_the_remembered_state() {
        let pc = OrderStatus::PendingCancel;
        assert_eq!(status(pc, &fill(), 2), Ok(pc));
        assert_eq!(status(pc, &fill(), 3), Ok(OrderStatus::Filled));
        assert_eq!(status(pc, &OrderEventKind::Canceled, 2), Ok(OrderStatus::Canceled));
        let refused = OrderEventKind::CancelRejected(RejectReason::UnknownOrder);
        assert_eq!(status(pc, &refused, 0), Ok(OrderStatus::Accepted));
        assert_eq!(status(pc, &refused, 2), Ok(OrderStatus::PartiallyFilled));
        assert!(status(pc, &OrderEventKind::PendingCancel, 0).is_err());
        assert!(status(pc, &OrderEventKind::PendingReplace, 0).is_err());

        // With memory: a cancel sent before the ack, the ack crossing it, then the cancel refused.
        let t = next_transition(
            OrderStatus::Submitted,
            OrderStatus::Submitted,
            &OrderEventKind::PendingCancel,
            Quantity(3),
            Quantity(0),
        )
        .unwrap();
        assert_eq!(t, Transition { status: pc, resume: OrderStatus::Submitted });
        let ack = OrderEventKind::Accepted(VenueOrderId(5));
        let t = next_transition(t.status, t.resume, &ack, Quantity(3), Quantity(0)).unwrap();
        assert_eq!(t, Transition { status: pc, resume: OrderStatus::Accepted });
        let t = next_transition(t.status, t.resume, &refused, Quantity(3), Quantity(0)).unwrap();
        assert_eq!(t, Transition::to(OrderStatus::Accepted));
        // A triggered stop whose cancel is refused is still triggered.
        let t = next_transition(pc, OrderStatus::Triggered, &refused, Quantity(3), Quantity(0)).unwrap();
        assert_eq!(t.status, OrderStatus::Triggered);
    }

    #[test]
    fn pending_replace_resolves_to_the_new_working_state() {
        let pr = OrderStatus::PendingReplace;
        let replaced = |q| OrderEventKind::Replaced { price: Price(618_010), quantity: Quantity(q) };
        assert_eq!(status(pr, &replaced(5), 0), Ok(OrderStatus::Accepted));
        assert_eq!(status(pr, &replaced(5), 2), Ok(OrderStatus::PartiallyFilled));
        assert_eq!(status(pr, &replaced(2), 2), Ok(OrderStatus::Filled));
        let invalid =
            OrderStateError::InvalidReplace { client_id: ClientOrderId(0), quantity: Quantity(1), filled: Quantity(2) };
        assert_eq!(status(pr, &replaced(1), 2), Err(invalid));
        assert!(status(pr, &replaced(0), 0).is_err());
        assert_eq!(
            status(pr, &OrderEventKind::ReplaceRejected(RejectReason::InvalidAmend), 1),
            Ok(OrderStatus::PartiallyFilled)
        );
        assert_eq!(status(pr, &fill(), 1), Ok(pr));
        assert_eq!(status(pr, &OrderEventKind::Canceled, 1), Ok(OrderStatus::Canceled));
        assert!(status(OrderStatus::Accepted, &replaced(5), 0).is_err());
    }

    #[test]
    fn stops_trigger_once_from_accepted() {
        assert_eq!(status(OrderStatus::Accepted, &OrderEventKind::Triggered, 0), Ok(OrderStatus::Triggered));
        assert!(status(OrderStatus::Triggered, &OrderEventKind::Triggered, 0).is_err());
        assert!(status(OrderStatus::PartiallyFilled, &OrderEventKind::Triggered, 1).is_err());
        assert_eq!(status(OrderStatus::Triggered, &fill(), 3), Ok(OrderStatus::Filled));
        assert_eq!(status(OrderStatus::Triggered, &OrderEventKind::PendingReplace, 0), Ok(OrderStatus::PendingReplace));
    }

    #[test]
    fn every_legal_target_is_consistent_with_the_fill_state() {
        // No transition from any state produces a status that contradicts the filled size.
        for from in ALL {
            for event in events() {
                for filled in 0..=3 {
                    if filled == 3 && !matches!(event, OrderEventKind::Filled(_)) {
                        continue; // a fully filled order is Filled already: not a reachable input
                    }
                    if let Ok(to) = status(from, &event, filled) {
                        assert!(to != OrderStatus::PartiallyFilled || (1..3).contains(&filled), "{from:?} {event:?}");
                        assert!(
                            to != OrderStatus::Filled
                                || filled == 3
                                || matches!(event, OrderEventKind::Replaced { .. })
                        );
                        assert_ne!(to, OrderStatus::Initialized);
                    }
                }
            }
        }
    }
}
