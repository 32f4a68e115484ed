//! Funding of perpetual swaps: the periodic payment between longs and shorts.
//!
//! [`FundingTracker`] is fed the venue's mark-price updates (Binance `markPriceUpdate`: mark price `p`,
//! funding rate `r`, next funding time `T`; Bybit `tickers`: `markPrice`, `fundingRate`,
//! `nextFundingTime`) and pays once per funding time, with the last rate and mark seen before it:
//!
//! | contract | payment (settlement currency) |
//! |---|---|
//! | linear | `-position x contract_size x mark x rate` (quote currency) |
//! | inverse | `-position x contract_size / mark x rate` (base currency) |
//!
//! With a positive rate longs pay and shorts receive; a negative rate reverses it (Binance and Bybit
//! funding docs). The mark price is at the instrument's `mark_precision`. The rate arrives as an `f64`
//! on [`MarkPrice`]; it is read back through its shortest decimal text (`0.0001` is exactly 10^-4), so
//! the payment itself is exact fixed-point money.

use ferrotrade_model::{ContractType, Decimal, Instrument, MarkPrice, Money, Price, Quantity, UnixNanos};

/// One funding settlement waiting to be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settlement {
    time: UnixNanos,
    rate: Decimal,
    mark: Price,
}

/// Remembers the latest funding rate, mark and next funding time, and says when a payment is due.
#[derive(Debug, Clone, Default)]
pub struct FundingTracker {
    /// The funding time announced last, with the rate and mark seen last before it.
    next: Option<Settlement>,
    /// A settlement whose time passed while mark updates kept coming (paid by the next [`Self::due`]).
    passed: Option<Settlement>,
    /// The funding time paid last (a time is paid once).
    paid: Option<UnixNanos>,
}

impl FundingTracker {
    /// An empty tracker: nothing is due until a mark with a rate and a funding time arrives.
    #[must_use]
    pub fn new() -> FundingTracker {
        FundingTracker::default()
    }

    /// Records a mark-price update. Updates without a rate or a funding time keep the previous ones; an
    /// update at or after the announced funding time first settles that time with the values before it.
    pub fn on_mark(&mut self, mark: &MarkPrice) {
        if let Some(next) = self.next
            && mark.ts_event >= next.time
            && self.paid != Some(next.time)
            && self.passed.is_none()
        {
            self.passed = Some(next);
        }
        let rate = mark.funding_rate.and_then(rate_from_f64);
        let time = mark.next_funding_time;
        match (&mut self.next, rate, time) {
            (Some(next), rate, time) => {
                next.mark = mark.mark_price;
                if let Some(rate) = rate {
                    next.rate = rate;
                }
                if let Some(time) = time {
                    next.time = time;
                }
            }
            (None, Some(rate), Some(time)) => self.next = Some(Settlement { time, rate, mark: mark.mark_price }),
            (None, _, _) => {}
        }
    }

    /// The funding payment due at `now` for `position` (negative: paid by the account), once per funding
    /// time; `None` when no funding time has passed since the last payment, or the position is flat.
    pub fn due(&mut self, now: UnixNanos, position: Quantity, instrument: &Instrument) -> Option<Money> {
        let settlement = match self.passed.take() {
            Some(passed) => passed,
            None => {
                let next = self.next?;
                if now < next.time || self.paid == Some(next.time) {
                    return None;
                }
                next
            }
        };
        self.paid = Some(settlement.time);
        if position.is_zero() {
            return None;
        }
        Some(payment(settlement, position, instrument))
    }
}

/// `-position x value x rate`, where value is the linear notional or the inverse value at the mark.
fn payment(settlement: Settlement, position: Quantity, instrument: &Instrument) -> Money {
    let precision = instrument.mark_precision;
    let (size, cs) = (instrument.size_precision, instrument.contract_size);
    let magnitude = Quantity(position.0.abs());
    let value = match instrument.contract_type {
        ContractType::Spot | ContractType::Linear => {
            Money::linear_notional(settlement.mark, precision, magnitude, size, cs)
        }
        ContractType::Inverse => Money::inverse_value(settlement.mark, precision, magnitude, size, cs),
    };
    let amount = mul_rate(value.0, settlement.rate);
    Money(if position.0 > 0 { -amount } else { amount })
}

/// `value x rate`, rounded half away from zero at 10^-18.
fn mul_rate(value: i128, rate: Decimal) -> i128 {
    let product = value.saturating_mul(i128::from(rate.mantissa));
    let divisor = 10i128.pow(u32::from(rate.scale));
    let quotient = product / divisor;
    let remainder = product % divisor;
    if remainder.abs() * 2 >= divisor { quotient + product.signum() } else { quotient }
}

/// A funding rate as the exact decimal its shortest text spells; `None` for NaN or infinity.
fn rate_from_f64(rate: f64) -> Option<Decimal> {
    if !rate.is_finite() {
        return None;
    }
    Decimal::parse_str(&rate.to_string()).ok()
}
