//! Per-instrument limits compiled from [`RiskConfig`] into the instrument's fixed-point units, once, so the
//! per-order check compares integers and never touches a [`Decimal`].
//!
//! | limit | compiled form | rounding |
//! |---|---|---|
//! | `max_order_quantity`, `max_position` | `Quantity` mantissa at `size_precision` | down: `q <= L` for every representable `q` |
//! | `max_order_notional` | [`Money`] (10^-18 units) | exact |
//! | `price_band_bps` | `10^8 ± band` in units of 10^-8 of mid | exact (at most 4 decimals of a bp) |
//!
//! Notional of an order: `price x quantity x contract_size` in the quote currency for spot and linear
//! instruments, `quantity x contract_size / price` in the base currency for inverse ones (the settlement
//! currency either way). For linear instruments with `price_precision + size_precision + contract decimals
//! <= 18` (every listed instrument) it is one exact `i128` product with a precomputed factor.

use ferrotrade_model::{ContractType, Decimal, Instrument, Money, Price, Quantity, pow10};

use crate::config::{BAND_BPS_DECIMALS, RiskConfigError};

/// `10^8`: one whole price in band units (10^-8 of mid), and one whole fraction in fraction units.
pub(crate) const FRACTION_ONE: i128 = 100_000_000;

/// How an order's notional is computed in the settlement currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotionalRule {
    /// `price_m x qty_m x factor` is the notional in [`Money`] units, exactly.
    LinearExact {
        /// `contract_size_m x 10^(18 - pp - sp - cs_scale)`.
        factor: i128,
    },
    /// Linear with more decimals than [`Money`] holds: [`Money::linear_notional`] rounds.
    LinearRounded,
    /// Inverse: [`Money::inverse_value`].
    Inverse,
}

/// One instrument's limits, at its precisions. `None` means "no limit".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InstrumentRisk {
    pub(crate) price_precision: u8,
    pub(crate) size_precision: u8,
    pub(crate) contract_size: Decimal,
    pub(crate) notional: NotionalRule,
    pub(crate) max_order_quantity: Option<i64>,
    pub(crate) max_order_notional: Option<Money>,
    pub(crate) max_position: Option<i64>,
    /// `(10^8 + band, 10^8 - band)`: a buy above `mid x up / 10^8` or a sell below `mid x down / 10^8` is
    /// refused.
    pub(crate) band: Option<(i128, i128)>,
}

/// A positive quantity limit as a mantissa at `precision`, rounded down.
pub(crate) fn quantity_limit(key: &str, value: Decimal, precision: u8) -> Result<i64, RiskConfigError> {
    let mantissa = if value.scale > precision {
        // Nothing finer than the lot exists, so `q <= value` is `q_m <= floor(value x 10^precision)`.
        let divisor = pow10(value.scale - precision).unwrap_or(i64::MAX);
        value.mantissa / divisor
    } else {
        value.to_fixed(precision).map_err(|error| RiskConfigError::invalid(key.to_owned(), error.to_string()))?
    };
    if mantissa <= 0 {
        return Err(RiskConfigError::invalid(
            key.to_owned(),
            format!("{value} is below the instrument's smallest quantity step (10^-{precision})"),
        ));
    }
    Ok(mantissa)
}

/// A fraction or band with at most `decimals` decimals as a mantissa at `decimals`.
pub(crate) fn fixed_limit(key: &str, value: Decimal, decimals: u8) -> Result<i64, RiskConfigError> {
    value.to_fixed(decimals).map_err(|error| RiskConfigError::invalid(key.to_owned(), error.to_string()))
}

fn notional_rule(instrument: &Instrument, key: &str) -> Result<NotionalRule, RiskConfigError> {
    let contract = instrument.contract_size;
    if contract.mantissa <= 0 {
        return Err(RiskConfigError::invalid(
            key.to_owned(),
            format!("instrument contract_size must be > 0, got {contract}"),
        ));
    }
    Ok(match instrument.contract_type {
        ContractType::Inverse => NotionalRule::Inverse,
        ContractType::Spot | ContractType::Linear => {
            let decimals = u32::from(instrument.price_precision)
                + u32::from(instrument.size_precision)
                + u32::from(contract.scale);
            match 18u32.checked_sub(decimals) {
                Some(exponent) => {
                    NotionalRule::LinearExact { factor: 10i128.pow(exponent) * i128::from(contract.mantissa) }
                }
                None => NotionalRule::LinearRounded,
            }
        }
    })
}

impl InstrumentRisk {
    /// Limits of `instrument`; each `(key, value)` pair names the config key the value came from, so an
    /// error points at the right line (top-level value or instrument override).
    pub(crate) fn compile(
        instrument: &Instrument,
        instrument_key: &str,
        max_order_quantity: Option<(String, Decimal)>,
        max_order_notional: Option<(String, Decimal)>,
        max_position: Option<(String, Decimal)>,
        price_band_bps: Option<(String, Decimal)>,
    ) -> Result<InstrumentRisk, RiskConfigError> {
        let size_precision = instrument.size_precision;
        let band = match price_band_bps {
            Some((key, value)) => {
                // bps with 4 decimals = units of 10^-8 of the price.
                let band = i128::from(fixed_limit(&key, value, BAND_BPS_DECIMALS)?);
                Some((FRACTION_ONE + band, FRACTION_ONE - band))
            }
            None => None,
        };
        Ok(InstrumentRisk {
            price_precision: instrument.price_precision,
            size_precision,
            contract_size: instrument.contract_size,
            notional: notional_rule(instrument, instrument_key)?,
            max_order_quantity: max_order_quantity
                .map(|(key, value)| quantity_limit(&key, value, size_precision))
                .transpose()?,
            max_order_notional: max_order_notional.map(|(_, value)| Money::from_decimal(value)),
            max_position: max_position.map(|(key, value)| quantity_limit(&key, value, size_precision)).transpose()?,
            band,
        })
    }

    /// Notional of `quantity` at `price` in the settlement currency (see the module table).
    #[inline]
    pub(crate) fn notional(&self, price: Price, quantity: Quantity) -> Money {
        match self.notional {
            NotionalRule::LinearExact { factor } => {
                // i64 x i64 cannot overflow i128; the second product is a single widening multiply whenever
                // both fit an i64 (always, in practice), else checked.
                let product = i128::from(price.0) * i128::from(quantity.0);
                match (i64::try_from(product), i64::try_from(factor)) {
                    (Ok(product), Ok(factor)) => Money(i128::from(product) * i128::from(factor)),
                    _ => Money(product.saturating_mul(factor)),
                }
            }
            NotionalRule::LinearRounded => {
                Money::linear_notional(price, self.price_precision, quantity, self.size_precision, self.contract_size)
            }
            NotionalRule::Inverse => {
                Money::inverse_value(price, self.price_precision, quantity, self.size_precision, self.contract_size)
            }
        }
    }

    /// The price a market order is valued at: mid, rounded to the side that makes the notional larger
    /// (up for linear, down for inverse, where value falls as price rises).
    #[inline]
    pub(crate) fn mid_for_notional(&self, mid_x2: Price) -> Price {
        match self.notional {
            NotionalRule::Inverse => Price(mid_x2.0 / 2),
            NotionalRule::LinearExact { .. } | NotionalRule::LinearRounded => Price(mid_x2.0 / 2 + mid_x2.0 % 2),
        }
    }
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::{InstrumentId, Venue};

    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::parse_str(text).unwrap()
    }

    fn btcusdt() -> Instrument {
        Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3)
    }

    #[test]
    fn quantity_limits_round_down_to_the_lot() {
        assert_eq!(quantity_limit("k", dec("0.5"), 3), Ok(500));
        assert_eq!(quantity_limit("k", dec("0.0015"), 3), Ok(1));
        let error = quantity_limit("risk.max_position", dec("0.0009"), 3).unwrap_err();
        assert_eq!(error.key(), "risk.max_position");
    }

    #[test]
    fn linear_notional_is_exact_and_matches_the_model() {
        let risk = InstrumentRisk::compile(&btcusdt(), "k", None, None, None, None).unwrap();
        assert_eq!(risk.notional, NotionalRule::LinearExact { factor: 100_000_000_000_000 });
        // 0.003 BTC at 61800.2 = 185.4006 USDT.
        let notional = risk.notional(Price(618_002), Quantity(3));
        assert_eq!(notional.to_string(), "185.4006");
        assert_eq!(notional, Money::linear_notional(Price(618_002), 1, Quantity(3), 3, dec("1")));
        // Mid 61800.05 (x2 = 1_236_001) is valued at 61800.1 for a linear instrument.
        assert_eq!(risk.mid_for_notional(Price(1_236_001)), Price(618_001));
    }

    #[test]
    fn inverse_notional_is_in_base_currency() {
        let mut instrument = Instrument::with_precisions(InstrumentId::new(Venue::BinanceCoinm, "BTCUSD_PERP"), 1, 0);
        instrument.contract_size = dec("100");
        let risk = InstrumentRisk::compile(&instrument, "k", None, None, None, None).unwrap();
        // 10 contracts of 100 USD at 50000.0 = 0.02 BTC.
        assert_eq!(risk.notional(Price(500_000), Quantity(10)).to_string(), "0.02");
        assert_eq!(risk.mid_for_notional(Price(1_000_001)), Price(500_000));
        instrument.contract_size = Decimal::ZERO;
        assert!(InstrumentRisk::compile(&instrument, "k", None, None, None, None).is_err());
    }
}
