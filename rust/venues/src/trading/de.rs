//! Serde helpers for the venues' loosely typed JSON: decimals and millisecond timestamps that arrive as
//! strings (the normal case), as bare integers (some Binance fields), or as `""`/`null` meaning "absent".
//!
//! Floats are refused on purpose: a decimal that has already been through an `f64` is no longer exact, and
//! neither venue sends prices or sizes as JSON numbers with a fraction.

use std::fmt;

use ferrotrade_model::Decimal;
use serde::Deserializer;
use serde::de::{self, Visitor};

/// An optional decimal: a decimal string, an integer, `""` or `null` (the last two are `None`).
pub(crate) fn opt_decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
    deserializer.deserialize_any(DecimalVisitor)
}

/// A decimal that must be present (`""` and `null` are errors).
pub(crate) fn decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    opt_decimal(deserializer)?.ok_or_else(|| de::Error::custom("empty decimal"))
}

/// An optional millisecond timestamp: an integer, a digit string, `""` or `null`.
pub(crate) fn opt_millis<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    deserializer.deserialize_any(MillisVisitor)
}

/// A decimal or zero when absent (Binance and Bybit send `""` for "nothing yet" in several fields).
pub(crate) fn decimal_or_zero<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    Ok(opt_decimal(deserializer)?.unwrap_or(Decimal::ZERO))
}

struct DecimalVisitor;

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal string or an integer")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        if text.is_empty() {
            return Ok(None);
        }
        Decimal::parse_str(text).map(Some).map_err(|e| E::custom(format!("{text:?} is not a decimal: {e}")))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        i64::try_from(value)
            .map(|mantissa| Some(Decimal { mantissa, scale: 0 }))
            .map_err(|_| E::custom("integer does not fit an i64"))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(Decimal { mantissa: value, scale: 0 }))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(DecimalVisitor)
    }
}

struct MillisVisitor;

impl<'de> Visitor<'de> for MillisVisitor {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("milliseconds as an integer or a digit string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| E::custom(format!("{text:?} is not a millisecond timestamp")))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        // Binance uses 0 / -1 for "never" in a few time fields.
        Ok(u64::try_from(value).ok())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(MillisVisitor)
    }
}

/// An id that venues send either as a number (Binance `orderId`, `tradeId`) or a string (Bybit), as text.
pub(crate) fn id_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(IdVisitor)
}

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id (integer or string)")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(text.to_owned())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(value.to_string())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(value.to_string())
    }
}

/// A trade id that Binance writes as `-1` (or `0` in USD-M `t`) when there is no trade: `None` then.
pub(crate) fn id_string_or_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_any(OptIdVisitor)
}

struct OptIdVisitor;

impl<'de> Visitor<'de> for OptIdVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id (integer or string) or null")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok((!text.is_empty()).then(|| text.to_owned()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok((value != 0).then(|| value.to_string()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok((value > 0).then(|| value.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(OptIdVisitor)
    }
}
