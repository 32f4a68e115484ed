//! Fixed-point money: [`Price`] and [`Quantity`].
//!
//! Both are an `i64` mantissa at the instrument's precision (`price_precision`, `size_precision`). The
//! precision lives on the [`crate::Instrument`], not in the value: the book, OMS, risk checks and matching
//! compare and add plain integers, and only the edges (parsing, display, reports) need the scale.
//!
//! | operation                      | result                          | note                                  |
//! |--------------------------------|---------------------------------|---------------------------------------|
//! | `Price + Price`, `Price - Price` | `Price`, same precision       | checked variants return `None` on overflow |
//! | `Quantity + Quantity`, `-`     | `Quantity`, same precision      |                                       |
//! | `Price * Quantity`             | `i128` at `price_precision + size_precision` | [`Price::notional`], exact |
//! | `Price` -> `f64`               | nearest double                  | [`Price::to_f64`]; reports and features only |
//!
//! Precision is at most [`MAX_PRECISION`] (16) decimals.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// The largest number of decimals a fixed-point value may have.
pub const MAX_PRECISION: u8 = 16;

/// `10^n` for `n` in `0..=18`, for hot loops that index without a check; [`pow10`] is the checked form.
pub const POW10: [i64; 19] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
];

/// `10^exponent` as an `i64`, or `None` past `10^18`.
#[inline]
#[must_use]
pub fn pow10(exponent: u8) -> Option<i64> {
    POW10.get(usize::from(exponent)).copied()
}

macro_rules! fixed_point {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[repr(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// Zero.
            pub const ZERO: $name = $name(0);

            /// The mantissa.
            #[inline]
            #[must_use]
            pub const fn raw(self) -> i64 {
                self.0
            }

            /// Whether the value is zero.
            #[inline]
            #[must_use]
            pub const fn is_zero(self) -> bool {
                self.0 == 0
            }

            /// Sum, or `None` on overflow.
            #[inline]
            #[must_use]
            pub fn checked_add(self, other: $name) -> Option<$name> {
                self.0.checked_add(other.0).map($name)
            }

            /// Difference, or `None` on overflow.
            #[inline]
            #[must_use]
            pub fn checked_sub(self, other: $name) -> Option<$name> {
                self.0.checked_sub(other.0).map($name)
            }

            /// The nearest `f64` at `precision` decimals; for reports and features only.
            #[inline]
            #[must_use]
            #[allow(clippy::cast_precision_loss)]
            pub fn to_f64(self, precision: u8) -> f64 {
                self.0 as f64 / pow10(precision).map_or(f64::NAN, |p| p as f64)
            }

            /// Displays the value with `precision` decimals: `Price(618002).display(1)` is `61800.2`.
            #[inline]
            #[must_use]
            pub fn display(self, precision: u8) -> FixedDisplay {
                FixedDisplay { mantissa: self.0, precision }
            }
        }

        impl Add for $name {
            type Output = $name;
            #[inline]
            fn add(self, other: $name) -> $name {
                $name(self.0 + other.0)
            }
        }

        impl Sub for $name {
            type Output = $name;
            #[inline]
            fn sub(self, other: $name) -> $name {
                $name(self.0 - other.0)
            }
        }

        impl AddAssign for $name {
            #[inline]
            fn add_assign(&mut self, other: $name) {
                self.0 += other.0;
            }
        }

        impl SubAssign for $name {
            #[inline]
            fn sub_assign(&mut self, other: $name) {
                self.0 -= other.0;
            }
        }

        impl Neg for $name {
            type Output = $name;
            #[inline]
            fn neg(self) -> $name {
                $name(-self.0)
            }
        }
    };
}

fixed_point!(
    /// A price: `i64` mantissa at the instrument's `price_precision`.
    Price
);
fixed_point!(
    /// A quantity (size, volume, position): `i64` mantissa at the instrument's `size_precision`.
    Quantity
);

impl Price {
    /// Exact notional `price x quantity`, at `price_precision + size_precision` decimals.
    #[inline]
    #[must_use]
    pub fn notional(self, quantity: Quantity) -> i128 {
        i128::from(self.0) * i128::from(quantity.0)
    }
}

/// A fixed-point mantissa shown with its precision; see [`Price::display`].
#[derive(Debug, Clone, Copy)]
pub struct FixedDisplay {
    mantissa: i64,
    precision: u8,
}

impl fmt::Display for FixedDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_fixed(f, self.mantissa, self.precision)
    }
}

/// `mantissa` at `precision` decimals as text (`-0.005`, `61800.20`), piece by piece onto `out`: the one
/// rendering behind every `Display` of a fixed-point value or [`Decimal`](crate::Decimal) and behind
/// [`Decimal::push_to`](crate::Decimal::push_to), which the order-entry request builders use. No
/// formatting machinery: the digits come from `itoa`.
pub(crate) fn write_fixed(out: &mut impl fmt::Write, mantissa: i64, precision: u8) -> fmt::Result {
    if mantissa < 0 {
        out.write_str("-")?;
    }
    let magnitude = mantissa.unsigned_abs();
    let mut digits = itoa::Buffer::new();
    if precision == 0 {
        return out.write_str(digits.format(magnitude));
    }
    let divisor = 10u64.pow(u32::from(precision));
    out.write_str(digits.format(magnitude / divisor))?;
    out.write_str(".")?;
    let fraction = digits.format(magnitude % divisor);
    for _ in fraction.len()..usize::from(precision) {
        out.write_str("0")?;
    }
    out.write_str(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_display() {
        let price = Price(6_180_020);
        assert_eq!(price.display(2).to_string(), "61800.20");
        assert_eq!(Price(-5).display(3).to_string(), "-0.005");
        assert_eq!(Quantity(14).display(0).to_string(), "14");
        assert_eq!(price + Price(1), Price(6_180_021));
        assert_eq!(price.notional(Quantity(14)), 86_520_280);
        assert_eq!(Price(i64::MAX).checked_add(Price(1)), None);
        assert!((Price(618_002).to_f64(1) - 61_800.2).abs() < 1e-9);
    }
}
