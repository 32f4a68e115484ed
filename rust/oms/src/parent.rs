//! Parent orders: an execution algorithm's order, which spawns child orders and is done when they have
//! filled its quantity (or it is canceled, expires or fails).
//!
//! The OMS keeps what is true of a parent whatever algorithm drives it: its identity, its
//! [`ParentStatus`] with the one table of legal status changes ([`ParentStatus::can_become`]), and the
//! exact accounting of its children's fills ([`ParentFills`]). The algorithms themselves (TWAP, VWAP, POV,
//! iceberg, limit chase, routing) need the book and the clock and live in `ferrotrade-strategy`'s `algo`
//! module; every child they send is a plain order of this crate's [`OrderStore`](crate::OrderStore), so it
//! passes the risk chain and is journaled, matched and deduplicated like any other order.
//!
//! # Invariants
//! - `filled <= quantity` is the algorithm's to keep (it never sends more than the remainder);
//!   [`ParentFills::apply`] refuses a fill that would break it, so a bug cannot overfill silently.
//! - Terminal states (`Completed`, `Canceled`, `Expired`, `Failed`) never change.
//! - Fill notional is exact per instrument (`price x size` mantissas as `i128`); `f64` only in the
//!   `*_f64` report helpers. A routed parent fills on several instruments whose precisions differ, so the
//!   average price over all of them is a report value (`f64`), not an accounting one.

use std::fmt;

use ferrotrade_model::{Fill, InstrumentIndex, Money, Quantity};

/// A parent order's id: dense and increasing within one strategy's run, starting at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ParentId(pub u64);

impl fmt::Display for ParentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.0)
    }
}

/// Where a parent order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ParentStatus {
    /// Accepted, its start time not reached yet.
    Scheduled = 0,
    /// Sending and managing children.
    Working = 1,
    /// Paused by its strategy: children canceled, nothing sent until resumed.
    Paused = 2,
    /// Children are being canceled before the parent ends (a cancel, an expiry or a failure): it
    /// becomes `Canceled`, `Expired` or `Failed` (or `Completed`, when a last fill completes it) once none is
    /// open, so a terminal parent never has a child that could still fill.
    Canceling = 3,
    /// Its whole quantity filled (terminal).
    Completed = 4,
    /// Canceled by its strategy (terminal; what filled stays filled).
    Canceled = 5,
    /// Its end time came (or the market left its limit for good) with quantity left (terminal).
    Expired = 6,
    /// Stopped by something it cannot work around: a risk denial, a venue rejection (terminal).
    Failed = 7,
}

impl ParentStatus {
    /// Whether no further change can happen.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(self, ParentStatus::Completed | ParentStatus::Canceled | ParentStatus::Expired | ParentStatus::Failed)
    }

    /// Whether the parent may send children now.
    #[must_use]
    pub const fn is_working(self) -> bool {
        matches!(self, ParentStatus::Working)
    }

    /// Snake-case name (`"canceling"`), as in reports.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ParentStatus::Scheduled => "scheduled",
            ParentStatus::Working => "working",
            ParentStatus::Paused => "paused",
            ParentStatus::Canceling => "canceling",
            ParentStatus::Completed => "completed",
            ParentStatus::Canceled => "canceled",
            ParentStatus::Expired => "expired",
            ParentStatus::Failed => "failed",
        }
    }

    /// The legal status changes: the one table every algorithm goes through.
    ///
    /// ```
    /// use ferrotrade_oms::ParentStatus::*;
    /// assert!(Working.can_become(Paused) && Paused.can_become(Working));
    /// assert!(Paused.can_become(Canceling) && Canceling.can_become(Canceled));
    /// assert!(!Completed.can_become(Working));
    /// assert!(!Scheduled.can_become(Completed));
    /// ```
    #[must_use]
    pub const fn can_become(self, next: ParentStatus) -> bool {
        use ParentStatus::{Canceled, Canceling, Completed, Expired, Failed, Paused, Scheduled, Working};
        matches!(
            (self, next),
            (Scheduled, Working | Paused | Canceling | Canceled | Expired | Failed)
                | (Working, Paused | Canceling | Canceled | Completed | Expired | Failed)
                | (Paused, Working | Scheduled | Canceling | Canceled | Expired | Failed)
                | (Canceling, Canceled | Completed | Expired | Failed)
        )
    }
}

impl fmt::Display for ParentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fill that would take a parent past its quantity, or one on an instrument it does not trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("parent fill refused: {quantity:?} more on {instrument:?} would exceed the parent's quantity")]
pub struct ParentOverfill {
    /// The fill's instrument.
    pub instrument: InstrumentIndex,
    /// The fill's quantity.
    pub quantity: Quantity,
}

/// Exact accounting of a parent's child fills, per instrument (a routed parent trades several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentFills {
    /// The parent's quantity in its primary instrument's units.
    quantity: Quantity,
    /// Filled so far, in the primary instrument's units (routed children are converted by the caller).
    filled: Quantity,
    /// Per instrument: `(instrument, filled, exact sum of price x size mantissas)`.
    legs: Vec<(InstrumentIndex, Quantity, i128)>,
    /// Fees of every child fill.
    fees: Money,
    /// Number of child fills.
    fills: u32,
}

impl ParentFills {
    /// Nothing filled of `quantity`.
    #[must_use]
    pub fn new(quantity: Quantity) -> ParentFills {
        ParentFills { quantity, filled: Quantity::ZERO, legs: Vec::new(), fees: Money::ZERO, fills: 0 }
    }

    /// Books a child fill whose size is `in_parent_units` in the parent's units.
    ///
    /// # Errors
    /// [`ParentOverfill`] when the parent would be more than filled; nothing changes.
    pub fn apply(&mut self, fill: &Fill, in_parent_units: Quantity) -> Result<(), ParentOverfill> {
        let filled = self.filled.0 + in_parent_units.0;
        if filled > self.quantity.0 || in_parent_units.0 <= 0 {
            return Err(ParentOverfill { instrument: fill.instrument, quantity: fill.quantity });
        }
        self.filled = Quantity(filled);
        let notional = fill.price.notional(fill.quantity);
        match self.legs.iter_mut().find(|(instrument, ..)| *instrument == fill.instrument) {
            Some(leg) => {
                leg.1 = Quantity(leg.1.0 + fill.quantity.0);
                leg.2 += notional;
            }
            None => self.legs.push((fill.instrument, fill.quantity, notional)),
        }
        self.fees += fill.fee;
        self.fills += 1;
        Ok(())
    }

    /// The parent's quantity.
    #[must_use]
    pub const fn quantity(&self) -> Quantity {
        self.quantity
    }

    /// Filled so far, in the parent's units.
    #[must_use]
    pub const fn filled(&self) -> Quantity {
        self.filled
    }

    /// What is left to fill.
    #[must_use]
    pub const fn remaining(&self) -> Quantity {
        Quantity(self.quantity.0 - self.filled.0)
    }

    /// Whether the whole quantity filled.
    #[must_use]
    pub const fn is_complete(&self) -> bool {
        self.filled.0 >= self.quantity.0
    }

    /// Fees of every child fill so far.
    #[must_use]
    pub const fn fees(&self) -> Money {
        self.fees
    }

    /// Number of child fills so far.
    #[must_use]
    pub const fn fill_count(&self) -> u32 {
        self.fills
    }

    /// Per instrument: filled size and exact notional (`price x size` mantissas).
    #[must_use]
    pub fn legs(&self) -> &[(InstrumentIndex, Quantity, i128)] {
        &self.legs
    }

    /// Average fill price over every leg, given each instrument's `(price, size)` precisions; `None`
    /// before the first fill. A report value.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn average_price_f64(&self, precisions: impl Fn(InstrumentIndex) -> (u8, u8)) -> Option<f64> {
        let (mut notional, mut size) = (0.0_f64, 0.0_f64);
        for &(instrument, filled, leg_notional) in &self.legs {
            let (price_precision, size_precision) = precisions(instrument);
            notional += leg_notional as f64 / 10f64.powi(i32::from(price_precision) + i32::from(size_precision));
            size += filled.0 as f64 / 10f64.powi(i32::from(size_precision));
        }
        (size > 0.0).then(|| notional / size)
    }
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::{ClientOrderId, Liquidity, OrderSide, Price, UnixNanos, VenueOrderId};

    use super::*;

    fn fill(instrument: u32, price: i64, quantity: i64) -> Fill {
        Fill {
            client_id: ClientOrderId(1),
            venue_order_id: VenueOrderId(1),
            trade_id: 1,
            instrument: InstrumentIndex(instrument),
            side: OrderSide::Buy,
            price: Price(price),
            quantity: Quantity(quantity),
            fee: Money::from_units(1),
            liquidity: Liquidity::Taker,
            ts_event: UnixNanos(0),
            ts_recv: UnixNanos(0),
        }
    }

    #[test]
    fn fills_add_up_exactly_and_never_past_the_quantity() {
        let mut fills = ParentFills::new(Quantity(10));
        fills.apply(&fill(0, 618_000, 4), Quantity(4)).unwrap();
        fills.apply(&fill(1, 61_801, 6), Quantity(6)).unwrap();
        assert!(fills.is_complete());
        assert_eq!(fills.remaining(), Quantity(0));
        assert_eq!(fills.fill_count(), 2);
        assert_eq!(fills.fees(), Money::from_units(2));
        // 0.004 @ 61800.0 and 0.006 @ 61801: 61800.6 on average.
        let average = fills.average_price_f64(|i| if i.0 == 0 { (1, 3) } else { (0, 3) }).unwrap();
        assert!((average - 61_800.6).abs() < 1e-9, "{average}");
        assert!(fills.apply(&fill(0, 618_000, 1), Quantity(1)).is_err());
        assert_eq!(fills.filled(), Quantity(10));
    }

    #[test]
    fn terminal_states_never_change() {
        use ParentStatus::*;
        let all = [Scheduled, Working, Paused, Canceling, Completed, Canceled, Expired, Failed];
        for from in all.iter().filter(|status| status.is_terminal()) {
            assert!(all.iter().all(|to| !from.can_become(*to)), "{from} changed");
        }
        assert!(!Canceling.can_become(Working), "a cancel is not undone");
    }
}
