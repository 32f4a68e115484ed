//! Smart order routing: split a quantity across the books of several venues by best effective price.
//!
//! Each venue is a [`RouteLeg`]: an instrument of the same underlying, its taker fee, its tick, lot and
//! minimum notional, and the parent's limit converted to its price precision. [`allocate`] walks the far
//! side of every leg's book, ranks all levels together by effective price (a buy pays `price x (1 +
//! fee)`, a sell receives `price x (1 - fee)`), takes the best until the quantity is covered, then
//! rounds each leg to whole lots and drops a leg whose share is below its minimum notional. The result is
//! one IOC limit per leg at the worst price it takes, and the reasons, for the routing report.
//!
//! Quantities are exact: the parent counts in the finest size precision of its legs, so every fill of
//! every leg is a whole number of parent units, and each leg's share is rounded to whole lots there.
//! Effective prices are `f64`: they rank, they never price an order.

use ferrotrade_book::OrderBook;
use ferrotrade_model::{BookSide, FeeRate, Instrument, InstrumentIndex, OrderSide, Price, Quantity};

use super::order::{AlgoRefusal, min_notional_f64};

/// Levels of each book that routing looks at.
pub const ROUTE_DEPTH: usize = 50;

fn pow10(exponent: u32) -> i64 {
    10_i64.pow(exponent)
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs() } else { gcd(b, a % b) }
}

/// One venue a routed parent may trade on.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteLeg {
    /// The instrument.
    pub instrument: InstrumentIndex,
    /// Its name (`venue.SYMBOL`), for reports.
    pub name: String,
    /// Taker fee on it.
    pub taker_fee: FeeRate,
    /// The parent's limit at this instrument's precision, on its tick.
    pub limit: Option<Price>,
    price_precision: u8,
    size_precision: u8,
    /// `leg size precision - parent size precision`.
    shift: i32,
    /// The smallest parent quantity that is a whole number of this leg's lots.
    step: i64,
    min_notional: f64,
    contract_size: f64,
}

impl RouteLeg {
    /// The leg `instrument` (at `index`) of a parent whose quantity has `parent_precision` decimals.
    ///
    /// # Errors
    /// A size precision more than 9 decimals away from the parent's.
    pub(crate) fn new(
        index: InstrumentIndex,
        instrument: &Instrument,
        parent_precision: u8,
        taker_fee: FeeRate,
        limit: Option<Price>,
    ) -> Result<RouteLeg, AlgoRefusal> {
        let shift = i32::from(instrument.size_precision) - i32::from(parent_precision);
        if shift.abs() > 9 {
            return Err(AlgoRefusal::new(
                "venues",
                format!("{} sizes cannot be converted to {parent_precision} decimals", instrument.id),
            ));
        }
        let lot = instrument.lot_size.0.max(1);
        let step = if shift >= 0 {
            let scale = pow10(shift.unsigned_abs());
            lot / gcd(lot, scale)
        } else {
            lot * pow10(shift.unsigned_abs())
        };
        Ok(RouteLeg {
            instrument: index,
            name: instrument.id.to_string(),
            taker_fee,
            limit,
            price_precision: instrument.price_precision,
            size_precision: instrument.size_precision,
            shift,
            step,
            min_notional: min_notional_f64(instrument),
            contract_size: instrument.contract_size.to_f64(),
        })
    }

    /// The parent's `limit` (at `precision` decimals) at `leg`'s precision and tick, never looser.
    pub(crate) fn convert_limit(
        limit: Price,
        precision: u8,
        leg: &Instrument,
        side: OrderSide,
    ) -> Result<Price, AlgoRefusal> {
        let shift = i32::from(leg.price_precision) - i32::from(precision);
        let buy = side == OrderSide::Buy;
        let scaled = if shift >= 0 {
            limit.0.checked_mul(pow10(shift.unsigned_abs()))
        } else {
            let scale = pow10(shift.unsigned_abs());
            Some(if buy { limit.0.div_euclid(scale) } else { -(-limit.0).div_euclid(scale) })
        }
        .ok_or_else(|| AlgoRefusal::new("limit_price", format!("out of range for {}", leg.id)))?;
        let tick = leg.tick_size.0.max(1);
        let snapped = if buy { scaled.div_euclid(tick) * tick } else { -(-scaled).div_euclid(tick) * tick };
        Ok(Price(snapped))
    }

    /// Price and size precisions of the leg's instrument.
    pub(crate) fn precisions(&self) -> (u8, u8) {
        (self.price_precision, self.size_precision)
    }

    /// A leg quantity in the parent's units (exact for quantities on this leg's steps).
    #[must_use]
    pub fn to_parent(&self, quantity: Quantity) -> Quantity {
        if self.shift >= 0 {
            Quantity(quantity.0 / pow10(self.shift.unsigned_abs()))
        } else {
            Quantity(quantity.0 * pow10(self.shift.unsigned_abs()))
        }
    }

    /// A parent quantity (a multiple of the step) in this leg's units.
    #[must_use]
    pub fn from_parent(&self, quantity: Quantity) -> Quantity {
        if self.shift >= 0 {
            Quantity(quantity.0 * pow10(self.shift.unsigned_abs()))
        } else {
            Quantity(quantity.0 / pow10(self.shift.unsigned_abs()))
        }
    }

    /// A parent quantity rounded down to this leg's steps.
    fn floor_to_step(&self, quantity: i64) -> i64 {
        quantity / self.step * self.step
    }

    /// The effective price of `price` on this leg for `side`, after the taker fee.
    #[must_use]
    pub fn effective(&self, price: Price, side: OrderSide) -> f64 {
        let raw = price.to_f64(self.price_precision);
        match side {
            OrderSide::Buy => raw * (1.0 + self.taker_fee.to_f64()),
            OrderSide::Sell => raw * (1.0 - self.taker_fee.to_f64()),
        }
    }

    fn within_limit(&self, price: Price, side: OrderSide) -> bool {
        match (self.limit, side) {
            (None, _) => true,
            (Some(limit), OrderSide::Buy) => price <= limit,
            (Some(limit), OrderSide::Sell) => price >= limit,
        }
    }
}

/// One leg's share of a routed quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteSlice {
    /// Position of the leg in the parent's legs.
    pub leg: usize,
    /// The share in the leg's units (`0` for a leg that was skipped; see `reason`).
    pub quantity: Quantity,
    /// The same in the parent's units.
    pub parent_quantity: Quantity,
    /// The IOC limit: the worst level taken.
    pub price: Price,
    /// Expected average price of the share (raw), and after the taker fee.
    pub expected_price: f64,
    /// Expected effective price (after the fee).
    pub effective_price: f64,
    /// Why this leg got this share.
    pub reason: String,
}

/// Splits `quantity` (parent units) of `side` across `legs` by effective price; `book(leg)` gives each
/// leg's book. Returns the shares (legs with nothing to take are left out, legs below their minimum
/// notional are returned with quantity zero and the reason).
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn allocate<'a>(
    legs: &[RouteLeg],
    book: impl Fn(InstrumentIndex) -> &'a OrderBook,
    side: OrderSide,
    quantity: Quantity,
) -> Vec<RouteSlice> {
    let far = match side {
        OrderSide::Buy => BookSide::Ask,
        OrderSide::Sell => BookSide::Bid,
    };
    // (effective price, leg, level price, size in parent units)
    let mut candidates: Vec<(f64, usize, Price, i64)> = Vec::new();
    for (position, leg) in legs.iter().enumerate() {
        for level in book(leg.instrument).depth(far, ROUTE_DEPTH) {
            if !leg.within_limit(level.price, side) {
                break;
            }
            let size = leg.floor_to_step(leg.to_parent(level.size).0);
            if size > 0 {
                candidates.push((leg.effective(level.price, side), position, level.price, size));
            }
        }
    }
    candidates.sort_by(|a, b| {
        let order = a.0.total_cmp(&b.0);
        let order = if side == OrderSide::Buy { order } else { order.reverse() };
        order.then(a.1.cmp(&b.1))
    });
    // Per leg: taken (parent units), worst price, raw notional, effective notional, levels.
    let mut taken: Vec<(i64, Price, f64, f64, u32)> = vec![(0, Price(0), 0.0, 0.0, 0); legs.len()];
    let mut left = quantity.0;
    for (effective, position, price, size) in &candidates {
        if left <= 0 {
            break;
        }
        let take = (*size).min(legs[*position].floor_to_step(left));
        if take <= 0 {
            continue;
        }
        let units = take as f64;
        let entry = &mut taken[*position];
        entry.0 += take;
        entry.1 = *price;
        entry.2 += price.to_f64(legs[*position].price_precision) * units;
        entry.3 += effective * units;
        entry.4 += 1;
        left -= take;
    }
    let best_other = |position: usize| -> Option<(usize, f64)> {
        candidates.iter().find(|candidate| candidate.1 != position).map(|candidate| (candidate.1, candidate.0))
    };
    let mut slices = Vec::new();
    for (position, (parent_units, price, raw, effective, levels)) in taken.into_iter().enumerate() {
        if parent_units == 0 {
            continue;
        }
        let leg = &legs[position];
        let parent_quantity = Quantity(parent_units);
        let leg_quantity = leg.from_parent(parent_quantity);
        let expected_price = raw / parent_units as f64;
        let effective_price = effective / parent_units as f64;
        let notional = expected_price * leg_quantity.to_f64(leg.size_precision) * leg.contract_size;
        let fee_bps = leg.taker_fee.to_f64() * 1e4;
        let versus = match best_other(position) {
            Some((other, other_price)) => {
                format!(", best level elsewhere {} at {other_price:.6} effective", legs[other].name)
            }
            None => String::new(),
        };
        if notional < leg.min_notional {
            slices.push(RouteSlice {
                leg: position,
                quantity: Quantity::ZERO,
                parent_quantity: Quantity::ZERO,
                price,
                expected_price,
                effective_price,
                reason: format!(
                    "skipped: its share is worth {notional:.2}, below the minimum notional {} of {}",
                    leg.min_notional, leg.name
                ),
            });
            continue;
        }
        slices.push(RouteSlice {
            leg: position,
            quantity: leg_quantity,
            parent_quantity,
            price,
            expected_price,
            effective_price,
            reason: format!(
                "{levels} level(s) up to {} at {expected_price:.6} on average, {effective_price:.6} after its {fee_bps:.2} bps taker fee{versus}",
                price.display(leg.price_precision)
            ),
        });
    }
    slices
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::{Decimal, InstrumentId, Venue};

    use super::*;

    fn instrument(venue: Venue, price_precision: u8, size_precision: u8, lot: i64) -> Instrument {
        let mut instrument =
            Instrument::with_precisions(InstrumentId::new(venue, "BTCUSDT"), price_precision, size_precision);
        instrument.lot_size = Quantity(lot);
        instrument.min_notional = Some(Decimal::from_fixed(5, 0));
        instrument
    }

    fn book(asks: &[(i64, i64)], bids: &[(i64, i64)]) -> OrderBook {
        let mut book = OrderBook::new();
        for (price, size) in asks {
            book.apply_level(BookSide::Ask, Price(*price), Quantity(*size)).unwrap();
        }
        for (price, size) in bids {
            book.apply_level(BookSide::Bid, Price(*price), Quantity(*size)).unwrap();
        }
        book
    }

    #[test]
    fn a_cheaper_venue_after_fees_wins_even_with_a_worse_raw_price() {
        // Binance USD-M (1 price decimal, 3 size decimals) asks 60000.0 with a 5 bps taker fee: 60030.0
        // effective. Bybit linear (2 price decimals, 3 size decimals) asks 60010.00 with 1 bp: 60016.0.
        let binance = instrument(Venue::BinanceUsdm, 1, 3, 1);
        let bybit = instrument(Venue::BybitLinear, 2, 3, 1);
        let legs = vec![
            RouteLeg::new(InstrumentIndex(0), &binance, 3, FeeRate(50_000), None).unwrap(),
            RouteLeg::new(InstrumentIndex(1), &bybit, 3, FeeRate(10_000), None).unwrap(),
        ];
        let books =
            [book(&[(600_000, 1_000)], &[(599_990, 1_000)]), book(&[(6_001_000, 300), (6_003_000, 1_000)], &[])];
        let slices = allocate(&legs, |index| &books[index.get()], OrderSide::Buy, Quantity(500));
        // Bybit's 0.3 at 60016.0 effective, then Binance's 60030.0 beats Bybit's second level (60036.0).
        assert_eq!(slices.len(), 2, "{slices:?}");
        let bybit_share = slices.iter().find(|slice| slice.leg == 1).unwrap();
        assert_eq!(bybit_share.quantity, Quantity(300));
        assert_eq!(bybit_share.price, Price(6_001_000));
        assert!(bybit_share.reason.contains("1.00 bps"), "{}", bybit_share.reason);
        let binance_share = slices.iter().find(|slice| slice.leg == 0).unwrap();
        assert_eq!(binance_share.quantity, Quantity(200));
        assert!((binance_share.effective_price - 60_030.0).abs() < 1e-6);

        // Without fees, Binance's raw 60000.0 is the better price for the whole size.
        let free: Vec<RouteLeg> = legs
            .iter()
            .cloned()
            .map(|mut leg| {
                leg.taker_fee = FeeRate(0);
                leg
            })
            .collect();
        let slices = allocate(&free, |index| &books[index.get()], OrderSide::Buy, Quantity(500));
        assert_eq!(slices.len(), 1);
        assert_eq!((slices[0].leg, slices[0].quantity), (0, Quantity(500)));
    }

    #[test]
    fn limits_lots_and_minimum_notional_are_respected() {
        // The parent is in 3 size decimals; the second leg trades in whole lots of 0.01 (lot 10 at 3 decimals
        // would be the same; here 2 decimals, lot 1).
        let parent = instrument(Venue::BinanceUsdm, 1, 3, 1);
        let coarse = instrument(Venue::BybitLinear, 1, 2, 1);
        let limit = Price(600_050);
        let legs = vec![
            RouteLeg::new(InstrumentIndex(0), &parent, 3, FeeRate(0), Some(limit)).unwrap(),
            RouteLeg::new(
                InstrumentIndex(1),
                &coarse,
                3,
                FeeRate(0),
                Some(RouteLeg::convert_limit(limit, 1, &coarse, OrderSide::Buy).unwrap()),
            )
            .unwrap(),
        ];
        // Leg 0: 0.001 BTC is worth 60 USDT (>= 5): fine. Leg 1 asks 0.05 at 60001.0 and more beyond the limit.
        let books = [book(&[(600_000, 1), (600_100, 1_000)], &[]), book(&[(600_010, 5), (600_060, 100)], &[])];
        let slices = allocate(&legs, |index| &books[index.get()], OrderSide::Buy, Quantity(1_000));
        let leg1 = slices.iter().find(|slice| slice.leg == 1).unwrap();
        // 0.05 at 2 decimals is 5 lots, 50 parent units; nothing past the limit of 60005.0.
        assert_eq!((leg1.quantity, leg1.parent_quantity), (Quantity(5), Quantity(50)));
        let leg0 = slices.iter().find(|slice| slice.leg == 0).unwrap();
        assert_eq!(leg0.quantity, Quantity(1));
        // A share below the minimum notional is skipped with the reason.
        let tiny = [book(&[(10, 1)], &[]), book(&[], &[])];
        let slices = allocate(&legs[..1], |index| &tiny[index.get()], OrderSide::Buy, Quantity(1));
        assert_eq!(slices[0].quantity, Quantity::ZERO);
        assert!(slices[0].reason.contains("minimum notional"), "{}", slices[0].reason);
    }
}
