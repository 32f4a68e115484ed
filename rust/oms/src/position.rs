//! Netting positions and account PnL: [`Position`] (one per instrument, derived only from fills) and
//! [`PnlSnapshot`].
//!
//! # Money of a position
//! | contract | value of `size` at `price` | realized on closing `c` of a long | unrealized of a long at `mark` |
//! |---|---|---|---|
//! | spot, linear | `price x size x contract_size`, quote currency ([`Money::linear_notional`]) | `exit_value(c) - entry_value_closed` | `value(mark) - entry_value` |
//! | inverse | `size x contract_size / price`, base currency ([`Money::inverse_value`]) | `entry_value_closed - exit_value(c)` | `entry_value - value(mark)` |
//!
//! A short has the opposite sign. `entry_value` carries the sign of `quantity` (positive long).
//!
//! # Rounding
//! Reducing an open `|quantity|` by `c` removes `entry_value x c / |quantity|` from `entry_value`, computed
//! exactly in integers and rounded half away from zero at 10^-18; closing the whole position removes the
//! whole `entry_value`, so the rounding of partial closes telescopes away: once a position is flat again, the
//! realized PnL of a linear instrument equals `sum(sell values) - sum(buy values)` of its fills to the last
//! 10^-18 unit (checked by the property tests). Values of linear fills are exact; inverse values are rounded
//! once per value at 10^-18, so a flip (a fill split into a closing and an opening part) may differ from
//! the unsplit value by one unit.
//!
//! # Fees and funding
//! `apply_fill` returns the PnL realized before fees; `fees` accumulates `fill.fee` (negative: a rebate) and
//! `turnover` the absolute value of every fill.

use ferrotrade_model::{ContractType, Fill, Instrument, InstrumentIndex, Money, Price, Quantity};

/// The net position in one instrument, derived only from fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// The instrument.
    pub instrument: InstrumentIndex,
    /// Signed size (size mantissa): positive long, negative short.
    pub quantity: Quantity,
    /// Signed entry value of the open quantity (linear: price x size x contract size in the quote
    /// currency; inverse: size x contract size / price in the base currency), used for the average price
    /// and unrealized PnL.
    pub entry_value: Money,
    /// PnL realized by reducing or flipping the position.
    pub realized_pnl: Money,
    /// Fees paid (negative: rebates received).
    pub fees: Money,
    /// Funding received (negative: paid).
    pub funding: Money,
    /// Total traded value (turnover), always positive.
    pub turnover: Money,
    /// Number of fills applied.
    pub fill_count: u64,
}

/// Account figures at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PnlSnapshot {
    /// Realized PnL over all instruments.
    pub realized: Money,
    /// Unrealized PnL at the current marks.
    pub unrealized: Money,
    /// Fees paid (negative: rebates).
    pub fees: Money,
    /// Funding received (negative: paid).
    pub funding: Money,
    /// `initial + realized + unrealized - fees + funding`.
    pub equity: Money,
}

/// The unsigned value of `size` (> 0) at `price` (at `price_precision` decimals): notional for spot and
/// linear instruments, base-currency value for inverse ones.
#[inline]
#[must_use]
pub fn contract_value(instrument: &Instrument, price: Price, price_precision: u8, size: Quantity) -> Money {
    match instrument.contract_type {
        ContractType::Spot | ContractType::Linear => {
            Money::linear_notional(price, price_precision, size, instrument.size_precision, instrument.contract_size)
        }
        ContractType::Inverse => {
            Money::inverse_value(price, price_precision, size, instrument.size_precision, instrument.contract_size)
        }
    }
}

/// `value x part / whole` rounded half away from zero, for `0 <= part <= whole`, `whole > 0`, without
/// overflowing: `value = q x whole + r` with `|r| < whole`, so `r x part < 2^126`.
fn scale_down(value: i128, part: i64, whole: i64) -> i128 {
    let (part, whole) = (i128::from(part), i128::from(whole));
    let (quotient, remainder) = (value / whole, value % whole);
    let scaled = remainder * part;
    let (fraction, rest) = (scaled / whole, scaled % whole);
    let rounding = if rest.abs() * 2 >= whole { scaled.signum() } else { 0 };
    quotient * part + fraction + rounding
}

impl Position {
    /// A flat position in `instrument`.
    #[must_use]
    pub const fn new(instrument: InstrumentIndex) -> Position {
        Position {
            instrument,
            quantity: Quantity::ZERO,
            entry_value: Money::ZERO,
            realized_pnl: Money::ZERO,
            fees: Money::ZERO,
            funding: Money::ZERO,
            turnover: Money::ZERO,
            fill_count: 0,
        }
    }

    /// Whether the position is flat.
    #[inline]
    #[must_use]
    pub const fn is_flat(&self) -> bool {
        self.quantity.0 == 0
    }

    /// Applies one fill of `instrument` (whose precisions the fill's price and size use) and returns the PnL
    /// it realized, before fees. A fill with a non-positive size only counts its fee.
    ///
    /// Increasing adds the fill's value to `entry_value`; reducing realizes the closed part against the
    /// proportional entry value; a fill through zero realizes the whole position and opens the rest at the
    /// fill price. O(1), no allocation. The fill must be of this position's instrument (not checked here;
    /// [`crate::Portfolio`] routes fills by their instrument index).
    pub fn apply_fill(&mut self, instrument: &Instrument, fill: &Fill) -> Money {
        let precision = instrument.price_precision;
        self.fees += fill.fee;
        self.fill_count += 1;
        let size = fill.quantity.0;
        if size <= 0 {
            return Money::ZERO;
        }
        let fill_value = contract_value(instrument, fill.price, precision, fill.quantity);
        self.turnover += fill_value;
        let sign = fill.side.sign();
        let open = self.quantity.0;
        if open == 0 || open.signum() == sign {
            self.quantity.0 += sign * size;
            self.entry_value += if sign > 0 { fill_value } else { -fill_value };
            return Money::ZERO;
        }

        let open_abs = open.abs();
        let closed = size.min(open_abs);
        // A full close takes the whole entry value: no division, and the rounding of earlier partial closes
        // cancels out.
        let entry_closed =
            if closed == open_abs { self.entry_value } else { Money(scale_down(self.entry_value.0, closed, open_abs)) };
        let exit_value = if closed == size {
            fill_value
        } else {
            contract_value(instrument, fill.price, precision, Quantity(closed))
        };
        let exit_signed = if open > 0 { exit_value } else { -exit_value };
        let realized = match instrument.contract_type {
            ContractType::Spot | ContractType::Linear => exit_signed - entry_closed,
            ContractType::Inverse => entry_closed - exit_signed,
        };
        self.entry_value -= entry_closed;
        self.quantity.0 += sign * size;
        let opened = size - closed;
        if opened > 0 {
            let opened_value = contract_value(instrument, fill.price, precision, Quantity(opened));
            self.entry_value = if sign > 0 { opened_value } else { -opened_value };
        }
        self.realized_pnl += realized;
        realized
    }

    /// The PnL of the open quantity at `mark`, given at its own precision `mark_precision` (a mid is exact
    /// at `price_precision + 1`). Zero when flat.
    #[must_use]
    pub fn unrealized_pnl(&self, instrument: &Instrument, mark: Price, mark_precision: u8) -> Money {
        if self.quantity.0 == 0 {
            return Money::ZERO;
        }
        let value = contract_value(instrument, mark, mark_precision, Quantity(self.quantity.0.abs()));
        let mark_signed = if self.quantity.0 > 0 { value } else { -value };
        match instrument.contract_type {
            ContractType::Spot | ContractType::Linear => mark_signed - self.entry_value,
            ContractType::Inverse => self.entry_value - mark_signed,
        }
    }

    /// The average entry price as an `f64` (reports only), or `None` when flat.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn avg_price_f64(&self, instrument: &Instrument) -> Option<f64> {
        if self.quantity.0 == 0 || self.entry_value.0 == 0 {
            return None;
        }
        let exposure = self.quantity.to_f64(instrument.size_precision).abs() * instrument.contract_size.to_f64();
        let entry = self.entry_value.to_f64().abs();
        match instrument.contract_type {
            ContractType::Spot | ContractType::Linear => Some(entry / exposure),
            ContractType::Inverse => Some(exposure / entry),
        }
    }

    /// Adds a funding payment (positive: received).
    pub fn apply_funding(&mut self, amount: Money) {
        self.funding += amount;
    }
}

#[cfg(test)]
#[path = "position_tests.rs"]
mod tests;
