//! Exact decimal numbers as they appear on the wire.

use std::fmt;

use crate::error::{ModelError, cut};
use crate::fixed::{MAX_PRECISION, pow10};

/// An exact decimal `mantissa x 10^-scale`, normalized so the mantissa has no trailing zero digit
/// (`"2.500"` is `25 x 10^-1`, `"0.000"` is `0 x 10^0`).
///
/// This is the form values take between the wire and an instrument's fixed-point precision: a parser does
/// not need to know the precision, and [`Decimal::scale`] tells how many decimals a value really uses.
///
/// | text          | mantissa | scale |
/// |---------------|----------|-------|
/// | `"61800.20"`  | 618002   | 1     |
/// | `"0.00100000"`| 1        | 3     |
/// | `"1200"`      | 1200     | 0     |
/// | `"1.5e-3"`    | 15       | 4     |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Decimal {
    /// Signed digits of the value.
    pub mantissa: i64,
    /// Number of decimals; `0..=MAX_PRECISION` after parsing.
    pub scale: u8,
}

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal { mantissa: 0, scale: 0 };

    /// Parses an ASCII decimal such as `"-12.3400"`, `".5"` or `"1.5e-3"`.
    ///
    /// Complexity: one pass over the bytes, no allocation.
    ///
    /// # Errors
    /// [`ModelError::InvalidDecimal`] for anything that is not a plain decimal number, and
    /// [`ModelError::DecimalOverflow`] when the significant digits do not fit an `i64` or the value has
    /// more than [`MAX_PRECISION`] decimals.
    #[inline]
    pub fn parse(text: &[u8]) -> Result<Self, ModelError> {
        let (negative, digits) = match text.first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let mut mantissa: u64 = 0;
        let mut scale: i32 = 0;
        let mut seen_digit = false;
        let mut seen_dot = false;
        // Trailing zeros after the dot are counted, not multiplied in, so "0.00000000" never overflows.
        let mut pending_zeros: i32 = 0;
        let mut index = 0;
        while index < digits.len() {
            let byte = digits[index];
            match byte {
                b'0'..=b'9' => {
                    seen_digit = true;
                    let digit = u64::from(byte - b'0');
                    if seen_dot {
                        if digit == 0 {
                            pending_zeros += 1;
                        } else {
                            mantissa = mul_pow10_add(mantissa, pending_zeros + 1, digit)
                                .ok_or_else(|| ModelError::DecimalOverflow { text: cut(text) })?;
                            scale += pending_zeros + 1;
                            pending_zeros = 0;
                        }
                    } else {
                        mantissa = mul_pow10_add(mantissa, 1, digit)
                            .ok_or_else(|| ModelError::DecimalOverflow { text: cut(text) })?;
                    }
                }
                b'.' if !seen_dot => seen_dot = true,
                b'e' | b'E' if seen_digit => {
                    let exponent = parse_exponent(&digits[index + 1..])
                        .ok_or_else(|| ModelError::InvalidDecimal { text: cut(text) })?;
                    scale -= exponent;
                    break;
                }
                _ => return Err(ModelError::InvalidDecimal { text: cut(text) }),
            }
            index += 1;
        }
        if !seen_digit {
            return Err(ModelError::InvalidDecimal { text: cut(text) });
        }
        // Integer part trailing zeros stay in the mantissa; normalize the representation.
        let mut value = Decimal::from_parts(mantissa, scale, negative)
            .ok_or_else(|| ModelError::DecimalOverflow { text: cut(text) })?;
        value.normalize();
        Ok(value)
    }

    /// Parses a UTF-8 string; see [`Decimal::parse`].
    ///
    /// # Errors
    /// As [`Decimal::parse`].
    #[inline]
    pub fn parse_str(text: &str) -> Result<Self, ModelError> {
        Self::parse(text.as_bytes())
    }

    fn from_parts(mantissa: u64, scale: i32, negative: bool) -> Option<Decimal> {
        let (mantissa, scale) = if scale < 0 {
            (mantissa.checked_mul(u64::try_from(pow10(u8::try_from(-scale).ok()?)?).ok()?)?, 0)
        } else {
            (mantissa, scale)
        };
        let scale = u8::try_from(scale).ok().filter(|s| *s <= MAX_PRECISION)?;
        let magnitude = i64::try_from(mantissa).ok()?;
        Some(Decimal { mantissa: if negative { -magnitude } else { magnitude }, scale })
    }

    fn normalize(&mut self) {
        if self.mantissa == 0 {
            self.scale = 0;
            return;
        }
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
    }

    /// The mantissa at `precision` decimals: `Decimal::parse("1.5")?.to_fixed(3) == Ok(1500)`.
    ///
    /// # Errors
    /// [`ModelError::PrecisionExceeded`] when the value has more decimals than `precision` (nothing is
    /// rounded, ever), [`ModelError::PrecisionTooLarge`] for a precision above [`MAX_PRECISION`], and
    /// [`ModelError::DecimalOverflow`] when the rescaled mantissa does not fit an `i64`.
    #[inline]
    pub fn to_fixed(self, precision: u8) -> Result<i64, ModelError> {
        if precision > MAX_PRECISION {
            return Err(ModelError::PrecisionTooLarge(precision));
        }
        if self.scale > precision {
            return Err(ModelError::PrecisionExceeded { scale: self.scale, precision });
        }
        let factor = pow10(precision - self.scale).ok_or(ModelError::PrecisionTooLarge(precision))?;
        self.mantissa.checked_mul(factor).ok_or_else(|| ModelError::DecimalOverflow { text: self.to_string() })
    }

    /// A decimal from a fixed-point mantissa and its precision (normalized).
    #[must_use]
    pub fn from_fixed(mantissa: i64, precision: u8) -> Decimal {
        let mut value = Decimal { mantissa, scale: precision };
        value.normalize();
        value
    }

    /// Appends the text [`Display`](fmt::Display) gives (`-0.005`, `61800.2`) to `out`, without the
    /// formatting machinery: the request builders of order entry write every price and size this way.
    pub fn push_to(self, out: &mut String) {
        // Writing into a String cannot fail.
        let _ = crate::fixed::write_fixed(out, self.mantissa, self.scale);
    }

    /// The nearest `f64`; for reports and features only, never for accounting.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn to_f64(self) -> f64 {
        self.mantissa as f64 / 10f64.powi(i32::from(self.scale))
    }
}

#[inline]
fn mul_pow10_add(value: u64, exponent: i32, digit: u64) -> Option<u64> {
    let exponent = u8::try_from(exponent).ok()?;
    let factor = u64::try_from(pow10(exponent)?).ok()?;
    value.checked_mul(factor)?.checked_add(digit)
}

fn parse_exponent(text: &[u8]) -> Option<i32> {
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 3 {
        return None;
    }
    let mut value: i32 = 0;
    for byte in digits {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i32::from(byte - b'0');
    }
    Some(if negative { -value } else { value })
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::fixed::write_fixed(f, self.mantissa, self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_to_writes_the_display_text() {
        for (mantissa, scale, text) in [
            (0, 0, "0"),
            (0, 3, "0.000"),
            (5, 3, "0.005"),
            (-5, 3, "-0.005"),
            (6_180_020, 2, "61800.20"),
            (-6_180_020, 2, "-61800.20"),
            (14, 0, "14"),
            (-1, 0, "-1"),
            (1, 16, "0.0000000000000001"),
            (i64::MAX, 16, "922.3372036854775807"),
            (i64::MIN + 1, 8, "-92233720368.54775807"),
        ] {
            let value = Decimal { mantissa, scale };
            let mut pushed = String::from("x=");
            value.push_to(&mut pushed);
            assert_eq!(pushed, format!("x={text}"), "{mantissa} at {scale}");
            assert_eq!(value.to_string(), text, "{mantissa} at {scale}");
        }
    }

    proptest::proptest! {
        /// Against the formatting machinery's rendering (zero-padded fraction), an independent reference.
        #[test]
        fn push_to_equals_display(mantissa in proptest::num::i64::ANY, scale in 0u8..=crate::MAX_PRECISION) {
            let value = Decimal { mantissa, scale };
            let mut text = String::new();
            value.push_to(&mut text);
            let sign = if mantissa < 0 { "-" } else { "" };
            let magnitude = mantissa.unsigned_abs();
            let reference = if scale == 0 {
                format!("{sign}{magnitude}")
            } else {
                let divisor = 10u64.pow(u32::from(scale));
                format!("{sign}{}.{:0width$}", magnitude / divisor, magnitude % divisor, width = usize::from(scale))
            };
            proptest::prop_assert_eq!(&text, &reference);
            proptest::prop_assert_eq!(value.to_string(), reference);
        }
    }

    fn dec(text: &str) -> (i64, u8) {
        let value = Decimal::parse_str(text).unwrap();
        (value.mantissa, value.scale)
    }

    #[test]
    fn parses_wire_formats() {
        assert_eq!(dec("61800.20"), (618_002, 1));
        assert_eq!(dec("61737.63000000"), (6_173_763, 2));
        assert_eq!(dec("0.00000000"), (0, 0));
        assert_eq!(dec("0.00100000"), (1, 3));
        assert_eq!(dec("1200"), (1200, 0));
        assert_eq!(dec("-0.5"), (-5, 1));
        assert_eq!(dec(".5"), (5, 1));
        assert_eq!(dec("1.5e-3"), (15, 4));
        assert_eq!(dec("2.5E+2"), (250, 0));
        assert_eq!(dec("1e-5"), (1, 5));
    }

    #[test]
    fn rejects_garbage() {
        for text in ["", "-", ".", "1.2.3", "abc", "1e", "1e+", "12a", "1 2", "e5", "nan"] {
            assert!(Decimal::parse_str(text).is_err(), "{text:?} should be rejected");
        }
        assert!(matches!(Decimal::parse_str("99999999999999999999"), Err(ModelError::DecimalOverflow { .. })));
        assert!(matches!(Decimal::parse_str("0.00000000000000000001"), Err(ModelError::DecimalOverflow { .. })));
    }

    #[test]
    fn rescales_without_rounding() {
        let value = Decimal::parse_str("0.014").unwrap();
        assert_eq!(value.to_fixed(3), Ok(14));
        assert_eq!(value.to_fixed(8), Ok(1_400_000));
        assert_eq!(value.to_fixed(2), Err(ModelError::PrecisionExceeded { scale: 3, precision: 2 }));
        assert_eq!(Decimal::from_fixed(1_400_000, 8), value);
        assert_eq!(value.to_string(), "0.014");
        assert_eq!(Decimal::parse_str("-61800.2").unwrap().to_string(), "-61800.2");
    }

    proptest::proptest! {
        #[test]
        fn display_round_trips(mantissa in -1_000_000_000_000i64..1_000_000_000_000, scale in 0u8..=10) {
            let value = Decimal::from_fixed(mantissa, scale);
            let parsed = Decimal::parse_str(&value.to_string()).unwrap();
            proptest::prop_assert_eq!(parsed, value);
            proptest::prop_assert_eq!(parsed.to_fixed(scale).unwrap(), mantissa);
        }
    }
}
