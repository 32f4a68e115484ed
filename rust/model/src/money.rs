//! Account money: [`Money`], an `i128` count of 10^-18 units of the settlement currency, and [`FeeRate`].
//!
//! Prices and sizes have per-instrument precisions, but PnL, fees and equity add up across instruments,
//! so the account keeps one fixed scale wide enough for every product of a price and a size.
//!
//! | operation | result | exactness |
//! |---|---|---|
//! | [`Money::linear_notional`]: `price x size x contract_size` | quote currency | exact while `price_precision + size_precision + contract decimals <= 18` |
//! | [`Money::inverse_value`]: `size x contract_size / price` | base currency | rounded half away from zero at 10^-18 (a division) |
//! | [`Money::fee`]: `notional x rate` | same currency | exact while the notional has <= 10 decimals, else rounded at 10^-18 |
//! | [`Money::to_f64`] | `f64` units | reports only |
//!
//! `i128` at 10^-18 holds up to 1.7 x 10^20 currency units, far above any account.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use crate::decimal::Decimal;
use crate::fixed::{Price, Quantity};

/// Decimals of [`Money`].
pub const MONEY_SCALE: u8 = 18;
const MONEY_ONE: i128 = 1_000_000_000_000_000_000;

/// An amount of the settlement currency in units of 10^-18.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Money(pub i128);

/// `10^n` as an `i128` for `n <= 38`.
const fn pow10_i128(n: u32) -> i128 {
    let mut value = 1i128;
    let mut i = 0;
    while i < n {
        value *= 10;
        i += 1;
    }
    value
}

/// `numerator / denominator` rounded half away from zero (`denominator > 0`).
fn div_round(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if remainder.abs() * 2 >= denominator { quotient + numerator.signum() } else { quotient }
}

/// Rescales a mantissa at `scale` decimals to [`MONEY_SCALE`], rounding half away from zero.
fn to_money_scale(mantissa: i128, scale: u32) -> i128 {
    let target = u32::from(MONEY_SCALE);
    if scale <= target {
        mantissa.saturating_mul(pow10_i128(target - scale))
    } else {
        div_round(mantissa, pow10_i128(scale - target))
    }
}

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// `units` whole units of currency.
    #[must_use]
    pub const fn from_units(units: i64) -> Money {
        Money(units as i128 * MONEY_ONE)
    }

    /// A [`Decimal`] amount.
    #[must_use]
    pub fn from_decimal(value: Decimal) -> Money {
        Money(to_money_scale(i128::from(value.mantissa), u32::from(value.scale)))
    }

    /// Value of `size` contracts at `price` of a linear (or spot) instrument: `price x size x contract_size`
    /// in the quote currency.
    #[must_use]
    pub fn linear_notional(
        price: Price,
        price_precision: u8,
        size: Quantity,
        size_precision: u8,
        contract_size: Decimal,
    ) -> Money {
        let mantissa = i128::from(price.0) * i128::from(size.0) * i128::from(contract_size.mantissa);
        let scale = u32::from(price_precision) + u32::from(size_precision) + u32::from(contract_size.scale);
        Money(to_money_scale(mantissa, scale))
    }

    /// Value of `size` contracts of an inverse instrument at `price`: `size x contract_size / price` in the
    /// base currency (for example BTC for a BTCUSD contract of 100 USD). Zero when `price <= 0`.
    #[must_use]
    pub fn inverse_value(
        price: Price,
        price_precision: u8,
        size: Quantity,
        size_precision: u8,
        contract_size: Decimal,
    ) -> Money {
        if price.0 <= 0 {
            return Money::ZERO;
        }
        // size_m x cs_m x 10^(18 + pp - sp - cs) / price_m, computed as one rounded division.
        let exponent = i32::from(MONEY_SCALE) + i32::from(price_precision)
            - i32::from(size_precision)
            - i32::from(contract_size.scale);
        let numerator = i128::from(size.0) * i128::from(contract_size.mantissa);
        let denominator = i128::from(price.0);
        if exponent >= 0 {
            Money(div_round(numerator.saturating_mul(pow10_i128(exponent.unsigned_abs())), denominator))
        } else {
            Money(div_round(numerator, denominator.saturating_mul(pow10_i128(exponent.unsigned_abs()))))
        }
    }

    /// The fee on `notional` at `rate` (negative rate: a rebate, returned negative).
    #[must_use]
    pub fn fee(notional: Money, rate: FeeRate) -> Money {
        Money(div_round(notional.0.abs() * i128::from(rate.0), i128::from(FeeRate::ONE)))
    }

    /// The amount as an `f64` number of units (reports, metrics).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / MONEY_ONE as f64
    }

    /// The absolute amount.
    #[must_use]
    pub const fn abs(self) -> Money {
        Money(self.0.abs())
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0 - other.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, other: Money) {
        self.0 += other.0;
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, other: Money) {
        self.0 -= other.0;
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl fmt::Display for Money {
    /// All 18 decimals with trailing zeros trimmed: `-12.5`, `0.000001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let units = abs / MONEY_ONE.unsigned_abs();
        let fraction = abs % MONEY_ONE.unsigned_abs();
        if fraction == 0 {
            return write!(f, "{sign}{units}");
        }
        let digits = format!("{fraction:018}");
        write!(f, "{sign}{units}.{}", digits.trim_end_matches('0'))
    }
}

/// A fee rate in units of 10^-8 of the notional (`0.0002` = 2 bps = `FeeRate(20_000)`); negative is a rebate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct FeeRate(pub i64);

impl FeeRate {
    /// The rate 1 (100 %).
    pub const ONE: i64 = 100_000_000;

    /// A rate from a [`Decimal`] fraction (`0.0002`), or `None` when it has more than 8 decimals or is
    /// outside `(-1, 1)`.
    #[must_use]
    pub fn from_decimal(value: Decimal) -> Option<FeeRate> {
        let rate = value.to_fixed(8).ok()?;
        (rate.abs() < FeeRate::ONE).then_some(FeeRate(rate))
    }

    /// The rate as a fraction (`0.0002`).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / FeeRate::ONE as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn linear_notional_and_fee_are_exact() {
        // 0.003 BTC at 61800.2 USDT = 185.4006 USDT; taker fee 0.05 % = 0.0927003 USDT.
        let notional = Money::linear_notional(Price(618_002), 1, Quantity(3), 3, dec("1"));
        assert_eq!(notional.to_string(), "185.4006");
        let fee = Money::fee(notional, FeeRate::from_decimal(dec("0.0005")).unwrap());
        assert_eq!(fee.to_string(), "0.0927003");
        let rebate = Money::fee(notional, FeeRate::from_decimal(dec("-0.0001")).unwrap());
        assert_eq!(rebate.to_string(), "-0.01854006");
    }

    #[test]
    fn inverse_value_divides_the_contract_by_the_price() {
        // 10 BTCUSD contracts of 100 USD at 50000.0 = 0.02 BTC.
        let value = Money::inverse_value(Price(500_000), 1, Quantity(10), 0, dec("100"));
        assert_eq!(value.to_string(), "0.02");
        // 1 contract of 100 USD at 30000 = 0.00333.. BTC, rounded at 18 decimals.
        let value = Money::inverse_value(Price(30_000), 0, Quantity(1), 0, dec("100"));
        assert_eq!(value.to_string(), "0.003333333333333333");
        assert_eq!(Money::inverse_value(Price(0), 0, Quantity(1), 0, dec("100")), Money::ZERO);
    }

    #[test]
    fn display_and_units() {
        assert_eq!(Money::from_units(-3).to_string(), "-3");
        assert_eq!((Money::from_units(1) - Money::from_decimal(dec("1.5"))).to_string(), "-0.5");
        assert!((Money::from_decimal(dec("2.25")).to_f64() - 2.25).abs() < 1e-12);
        assert_eq!(FeeRate::from_decimal(dec("0.000000001")), None);
        assert_eq!(FeeRate::from_decimal(dec("1")), None);
    }
}
