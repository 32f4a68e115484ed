//! `serde` support for [`Decimal`] (feature `serde`): configuration files write prices, sizes and limits as
//! TOML/JSON numbers (`0.001`, `50`) or strings (`"0.001"`), and both arrive as the exact decimal written.
//!
//! A float is read through its shortest round-trip text (Rust's `Display` for `f64`), so `0.1` becomes
//! exactly `1 x 10^-1`, not the binary double nearest to it.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::decimal::Decimal;

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a decimal number such as 0.001 or \"0.001\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Decimal, E> {
        Decimal::parse_str(text.trim()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Decimal, E> {
        Ok(Decimal::from_fixed(value, 0))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Decimal, E> {
        let value = i64::try_from(value).map_err(|_| E::custom("number too large"))?;
        Ok(Decimal::from_fixed(value, 0))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Decimal, E> {
        if !value.is_finite() {
            return Err(E::custom("not a finite number"));
        }
        Decimal::parse_str(&value.to_string()).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        deserializer.deserialize_any(DecimalVisitor)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Limits {
        size: Decimal,
        band: Decimal,
        text: Decimal,
    }

    #[test]
    fn numbers_and_strings_parse_exactly() {
        let limits: Limits = serde_json::from_str(r#"{"size": 0.1, "band": 50, "text": "61800.20"}"#).unwrap();
        assert_eq!((limits.size.mantissa, limits.size.scale), (1, 1));
        assert_eq!((limits.band.mantissa, limits.band.scale), (50, 0));
        assert_eq!((limits.text.mantissa, limits.text.scale), (618_002, 1));
        let error = serde_json::from_str::<Limits>(r#"{"size": "abc", "band": 1, "text": "1"}"#).err().unwrap();
        assert!(error.to_string().contains("invalid decimal"), "{error}");
    }
}
