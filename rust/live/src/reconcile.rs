//! Reconciliation: the venue's view of open orders and positions against the OMS's, turned into a list of
//! [`Difference`]s the engine logs, counts, reports and acts on.
//!
//! # When
//! At start (after the journal replay, before any strategy runs) and every `reconcile_every_s`.
//!
//! # What counts as a difference
//! - an order open at the venue the OMS does not hold open ([`Difference::UnknownAtVenue`]): placed by
//!   another process, or by a run whose journal lost the record. Adopted, cancelled or left per
//!   `unknown_orders`;
//! - an order the OMS holds open that the venue does not list ([`Difference::MissingAtVenue`]): it filled
//!   or was cancelled while an event was lost. The engine queries it by client id and applies the answer
//!   (fills booked from the venue's trade list);
//! - an order both know with a different price, quantity or filled size ([`Difference::OrderMismatch`]);
//!   a different filled size is queried like a missing order (a fill report was lost: the venue's trade
//!   list books it);
//! - a position whose size differs ([`Difference::PositionMismatch`]).
//!
//! Races are not differences: a `Submitted` order the venue has not acknowledged yet, or an amend or
//! cancel in flight, would be reported spuriously at every reconciliation under load. So price and
//! quantity are compared only for orders whose last change is older than `grace_ns`, and an order is
//! missing (or its filled size different) only once it is older than `grace_ns` since it was created:
//! an order the strategy keeps amending is still checked, so a fill whose report was lost cannot hide
//! behind the amends. A missing order or filled size reported during a race costs one query, whose
//! answer changes nothing the events in flight do not.
//!
//! The diff is a pure function of the two views, so it is tested without a venue.

use std::fmt;

use ferrotrade_model::{ClientOrderId, InstrumentIndex, OrderSide, OrderStatus, Price, Quantity, UnixNanos};
use ferrotrade_oms::Order;

/// An open order as the venue lists it, in the engine's fixed-point units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueOrder {
    /// The instrument.
    pub instrument: InstrumentIndex,
    /// The client id, when the order carries one of ours (`ft-<id>`).
    pub client_id: Option<ClientOrderId>,
    /// The venue's order id.
    pub venue_order_id: String,
    /// Side.
    pub side: OrderSide,
    /// Limit price.
    pub price: Price,
    /// Total quantity.
    pub quantity: Quantity,
    /// Filled so far.
    pub filled: Quantity,
}

/// One difference between the venue and the OMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// Open at the venue, not open in the OMS.
    UnknownAtVenue(VenueOrder),
    /// Open in the OMS, not listed by the venue.
    MissingAtVenue {
        /// The order.
        client_id: ClientOrderId,
        /// Its instrument.
        instrument: InstrumentIndex,
    },
    /// Known to both, with a different field.
    OrderMismatch {
        /// The order.
        client_id: ClientOrderId,
        /// `price`, `quantity` or `filled`.
        field: &'static str,
        /// The OMS's value (mantissa).
        oms: i64,
        /// The venue's value (mantissa).
        venue: i64,
    },
    /// The position sizes differ.
    PositionMismatch {
        /// The instrument.
        instrument: InstrumentIndex,
        /// The OMS's signed size.
        oms: Quantity,
        /// The venue's signed size.
        venue: Quantity,
    },
}

impl Difference {
    /// A stable name for counters and reports.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Difference::UnknownAtVenue(_) => "unknown_at_venue",
            Difference::MissingAtVenue { .. } => "missing_at_venue",
            Difference::OrderMismatch { .. } => "order_mismatch",
            Difference::PositionMismatch { .. } => "position_mismatch",
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::UnknownAtVenue(order) => write!(
                f,
                "venue order {} (client id {:?}) on instrument {} is open at the venue but not in the OMS",
                order.venue_order_id,
                order.client_id.map(|id| id.0),
                order.instrument.0
            ),
            Difference::MissingAtVenue { client_id, instrument } => {
                write!(f, "order {client_id} on instrument {} is open in the OMS but not at the venue", instrument.0)
            }
            Difference::OrderMismatch { client_id, field, oms, venue } => {
                write!(f, "order {client_id}: {field} is {oms} in the OMS and {venue} at the venue")
            }
            Difference::PositionMismatch { instrument, oms, venue } => {
                write!(f, "instrument {}: position {} in the OMS and {} at the venue", instrument.0, oms.0, venue.0)
            }
        }
    }
}

/// Compares the OMS's open orders with the venue's for the instruments in `scope` (the instruments of one
/// venue), appending differences to `out`.
///
/// `oms_orders` are every order of the OMS (only open ones in `scope` are compared); the grace rules of
/// the module docs apply (`ts_last` for price and quantity, `ts_init` for filled size and presence).
pub fn diff_orders(
    oms_orders: &[Order],
    venue_orders: &[VenueOrder],
    scope: &[InstrumentIndex],
    now: UnixNanos,
    grace_ns: u64,
    out: &mut Vec<Difference>,
) {
    let settled = |order: &Order| order.ts_last.0.saturating_add(grace_ns) <= now.0;
    let established = |order: &Order| order.ts_init.0.saturating_add(grace_ns) <= now.0;
    let find = |id: ClientOrderId| oms_orders.iter().find(|order| order.client_id == id);
    for venue_order in venue_orders.iter().filter(|order| scope.contains(&order.instrument)) {
        let known = venue_order.client_id.and_then(find);
        match known {
            Some(order) if order.status.is_open() => {
                let mut compare = |field: &'static str, oms: i64, venue: i64| {
                    if oms != venue {
                        out.push(Difference::OrderMismatch { client_id: order.client_id, field, oms, venue });
                    }
                };
                if settled(order) {
                    compare("price", order.request.price.0, venue_order.price.0);
                    compare("quantity", order.request.quantity.0, venue_order.quantity.0);
                }
                if established(order) {
                    compare("filled", order.filled.0, venue_order.filled.0);
                }
            }
            // A terminal order in the OMS still listed open: the venue is behind (skip while recent) or
            // the OMS is wrong; either way it is not ours to trust.
            Some(order) if !settled(order) => {}
            _ => out.push(Difference::UnknownAtVenue(venue_order.clone())),
        }
    }
    for order in oms_orders {
        let in_scope = scope.contains(&order.request.instrument);
        if !in_scope || !order.status.is_open() || !established(order) {
            continue;
        }
        // Initialized orders never left the engine; nothing to find at the venue.
        if order.status == OrderStatus::Initialized {
            continue;
        }
        let listed = venue_orders.iter().any(|venue_order| venue_order.client_id == Some(order.client_id));
        if !listed {
            out.push(Difference::MissingAtVenue { client_id: order.client_id, instrument: order.request.instrument });
        }
    }
}

/// Compares positions per instrument (`oms` and `venue` indexed by [`InstrumentIndex`]; a missing venue
/// entry means flat), appending differences for the instruments in `scope` to `out`.
pub fn diff_positions(
    oms: &[Quantity],
    venue: &[Option<Quantity>],
    scope: &[InstrumentIndex],
    out: &mut Vec<Difference>,
) {
    for &instrument in scope {
        let ours = oms.get(instrument.get()).copied().unwrap_or(Quantity(0));
        let theirs = venue.get(instrument.get()).copied().flatten().unwrap_or(Quantity(0));
        if ours != theirs {
            out.push(Difference::PositionMismatch { instrument, oms: ours, venue: theirs });
        }
    }
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::{OrderRequest, VenueOrderId};

    use super::*;

    const BTC: InstrumentIndex = InstrumentIndex(0);
    const XRP: InstrumentIndex = InstrumentIndex(1);

    fn oms_order(id: u64, status: OrderStatus, ts_last: u64) -> Order {
        let mut order = Order::new(
            ClientOrderId(id),
            OrderRequest::limit(BTC, OrderSide::Buy, Price(100), Quantity(5)),
            UnixNanos(ts_last),
        );
        order.status = status;
        order.ts_last = UnixNanos(ts_last);
        order.venue_order_id = Some(VenueOrderId(id + 1000));
        order
    }

    fn venue_order(id: Option<u64>, price: i64, filled: i64) -> VenueOrder {
        VenueOrder {
            instrument: BTC,
            client_id: id.map(ClientOrderId),
            venue_order_id: "v".into(),
            side: OrderSide::Buy,
            price: Price(price),
            quantity: Quantity(5),
            filled: Quantity(filled),
        }
    }

    #[test]
    fn matching_views_have_no_difference() {
        let mut out = Vec::new();
        let oms = [oms_order(1, OrderStatus::Accepted, 0), oms_order(2, OrderStatus::Canceled, 0)];
        diff_orders(&oms, &[venue_order(Some(1), 100, 0)], &[BTC], UnixNanos(10_000), 1_000, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn each_kind_of_order_difference_is_reported() {
        let mut out = Vec::new();
        let oms = [
            oms_order(1, OrderStatus::Accepted, 0),        // price and filled differ
            oms_order(2, OrderStatus::PartiallyFilled, 0), // not listed by the venue
            oms_order(3, OrderStatus::Filled, 0),          // listed open by the venue, done in the OMS
        ];
        let venue = [venue_order(Some(1), 101, 2), venue_order(Some(3), 100, 0), venue_order(None, 100, 0)];
        diff_orders(&oms, &venue, &[BTC], UnixNanos(10_000), 1_000, &mut out);
        let codes: Vec<&str> = out.iter().map(Difference::code).collect();
        assert_eq!(
            codes,
            ["order_mismatch", "order_mismatch", "unknown_at_venue", "unknown_at_venue", "missing_at_venue"]
        );
        assert_eq!(
            out[0],
            Difference::OrderMismatch { client_id: ClientOrderId(1), field: "price", oms: 100, venue: 101 }
        );
        assert_eq!(
            out[1],
            Difference::OrderMismatch { client_id: ClientOrderId(1), field: "filled", oms: 0, venue: 2 }
        );
        assert_eq!(out[4], Difference::MissingAtVenue { client_id: ClientOrderId(2), instrument: BTC });
        assert!(out[4].to_string().contains("open in the OMS but not at the venue"));
    }

    #[test]
    fn recent_orders_and_other_instruments_are_not_differences() {
        let mut out = Vec::new();
        // Submitted 500 ns ago with a 1000 ns grace: the venue may not list it yet.
        let oms = [oms_order(1, OrderStatus::Submitted, 9_500), oms_order(2, OrderStatus::Filled, 9_900)];
        let mut other = venue_order(None, 1, 0);
        other.instrument = XRP;
        diff_orders(&oms, &[venue_order(Some(2), 100, 5), other], &[BTC], UnixNanos(10_000), 1_000, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn an_order_kept_fresh_by_amends_is_still_checked_for_presence_and_fills() {
        let mut out = Vec::new();
        // Created long ago, amended 100 ns ago (an amend in flight): price is not compared, but the
        // order gone from the venue, or filled there beyond the OMS, is a difference.
        let mut amended = oms_order(1, OrderStatus::PendingReplace, 9_900);
        amended.ts_init = UnixNanos(0);
        let mut partly = oms_order(2, OrderStatus::Accepted, 9_900);
        partly.ts_init = UnixNanos(0);
        diff_orders(&[amended, partly], &[venue_order(Some(2), 101, 3)], &[BTC], UnixNanos(10_000), 1_000, &mut out);
        assert_eq!(
            out,
            [
                Difference::OrderMismatch { client_id: ClientOrderId(2), field: "filled", oms: 0, venue: 3 },
                Difference::MissingAtVenue { client_id: ClientOrderId(1), instrument: BTC },
            ]
        );
    }

    #[test]
    fn position_differences_use_flat_for_missing_entries() {
        let mut out = Vec::new();
        diff_positions(&[Quantity(3), Quantity(0)], &[Some(Quantity(3)), Some(Quantity(-2))], &[BTC, XRP], &mut out);
        assert_eq!(out, [Difference::PositionMismatch { instrument: XRP, oms: Quantity(0), venue: Quantity(-2) }]);
        out.clear();
        diff_positions(&[Quantity(4)], &[None], &[BTC], &mut out);
        assert_eq!(out, [Difference::PositionMismatch { instrument: BTC, oms: Quantity(4), venue: Quantity(0) }]);
    }
}
