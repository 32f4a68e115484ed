//! The `[risk]` table of a backtest or live TOML file, and its validation.
//!
//! Every limit is optional; an absent key means "no limit" (the chain skips the check). Limits are written
//! in human units (`max_order_quantity = 0.5` BTC, `max_order_notional = 50000` USDT) and converted once, in
//! [`crate::RiskEngine::new`], into each instrument's fixed-point mantissas, so the per-order check compares
//! integers only.
//!
//! ```toml
//! [risk]
//! max_order_quantity = 0.5          # instrument quantity units (BTC, contracts)
//! max_order_notional = 50000        # settlement currency (quote for spot/linear, base for inverse)
//! max_position = 2                  # absolute net position, quantity units
//! max_total_notional = 250000       # sum over instruments of |position| x mark
//! max_concentration = 0.6           # share of total exposure one instrument may take ...
//! concentration_floor = 20000       # ... checked only once total exposure after the order exceeds this
//! price_band_bps = 50               # limit orders more than 0.5 % through mid are refused (fat finger)
//! orders_per_second = 10            # token bucket refill rate
//! burst = 20                        # token bucket capacity
//! max_drawdown = 0.1                # fraction of peak equity
//! max_daily_loss = 5000             # settlement currency, per UTC day
//! on_breach = "halted"              # or "reducing"
//!
//! [risk.instruments."binance-usdm.BTCUSDT"]
//! max_position = 1
//! ```
//!
//! [`RiskConfig::validate`] refuses impossible limits with a [`RiskConfigError`] naming the key path, e.g.
//! `risk.instruments."binance-usdm.BTCUSDT".max_position`.

use std::collections::BTreeMap;

use ferrotrade_model::{Decimal, InstrumentId, Venue};
use serde::Deserialize;

use crate::state::TradingState;

/// Decimals kept of `price_band_bps` (0.0001 bp = 10^-8 of the price).
pub const BAND_BPS_DECIMALS: u8 = 4;
/// Decimals kept of `max_concentration` and `max_drawdown` (fractions, in units of 10^-8).
pub const FRACTION_DECIMALS: u8 = 8;
/// Decimals kept of `orders_per_second`.
pub const RATE_DECIMALS: u8 = 9;

/// A configuration value the risk engine cannot work with; `key` is the full TOML path of the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RiskConfigError {
    /// A limit that no order could satisfy, or that makes no sense (negative, zero, out of range).
    #[error("{key}: {message}")]
    Invalid {
        /// Full key path, `risk.instruments."binance-usdm.BTCUSDT".max_position`.
        key: String,
        /// What is wrong, with the value.
        message: String,
    },
    /// An instrument override for an instrument the engine does not trade.
    #[error("{key}: no such instrument in this run")]
    UnknownInstrument {
        /// Full key path, `risk.instruments."binance-usdm.ETHUSDT"`.
        key: String,
    },
}

impl RiskConfigError {
    /// The key path the error is about.
    #[must_use]
    pub fn key(&self) -> &str {
        match self {
            RiskConfigError::Invalid { key, .. } | RiskConfigError::UnknownInstrument { key } => key,
        }
    }

    pub(crate) fn invalid(key: String, message: impl Into<String>) -> RiskConfigError {
        RiskConfigError::Invalid { key, message: message.into() }
    }
}

/// The state trading moves to when `max_drawdown` or `max_daily_loss` is crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnBreach {
    /// Only orders that reduce the position pass.
    Reducing,
    /// Every order is refused (the default).
    #[default]
    Halted,
}

impl OnBreach {
    /// The trading state this maps to.
    #[must_use]
    pub const fn state(self) -> TradingState {
        match self {
            OnBreach::Reducing => TradingState::Reducing,
            OnBreach::Halted => TradingState::Halted,
        }
    }
}

/// The `[risk]` table. Every field is optional; absent means "no limit".
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Largest quantity of one order, in the instrument's quantity units (0.5 BTC). Default: none.
    pub max_order_quantity: Option<Decimal>,
    /// Largest notional of one order in the settlement currency (50000 USDT), valued at the limit price,
    /// or at mid for market orders. Default: none.
    pub max_order_notional: Option<Decimal>,
    /// Largest absolute net position per instrument, worst case with open orders. Default: none.
    pub max_position: Option<Decimal>,
    /// Largest sum over instruments of |position| x mark, settlement currency. Default: none.
    pub max_total_notional: Option<Decimal>,
    /// Largest fraction `(0, 1]` of total exposure one instrument may take. Default: none.
    pub max_concentration: Option<Decimal>,
    /// Total exposure (settlement currency) below which `max_concentration` is not checked, so the first
    /// orders of a run are not refused for being 100 % of a small book. Default: `max_concentration x
    /// max_total_notional`; one of the two must be given with `max_concentration`.
    pub concentration_floor: Option<Decimal>,
    /// Largest distance in basis points of a limit price through mid on the aggressive side (a buy above
    /// mid, a sell below), at most 4 decimals. Default: none.
    pub price_band_bps: Option<Decimal>,
    /// Token bucket refill rate, orders per second (fractions allowed, at most 9 decimals). Default: none.
    pub orders_per_second: Option<Decimal>,
    /// Token bucket capacity (orders that may leave at once). Default: one second's worth, at least 1.
    pub burst: Option<u32>,
    /// Largest drawdown from peak equity, a fraction in `(0, 1)`. Default: none.
    pub max_drawdown: Option<Decimal>,
    /// Largest loss since the start of the UTC day, settlement currency. Default: none.
    pub max_daily_loss: Option<Decimal>,
    /// State after a drawdown or daily-loss breach. Default: `halted`.
    #[serde(default)]
    pub on_breach: OnBreach,
    /// Per-instrument overrides keyed by `"venue.SYMBOL"` (`"binance-usdm.BTCUSDT"`).
    #[serde(default)]
    pub instruments: BTreeMap<String, InstrumentLimits>,
}

/// Overrides of the per-order and per-position limits for one instrument; an absent key inherits the
/// `[risk]` value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentLimits {
    /// See [`RiskConfig::max_order_quantity`].
    pub max_order_quantity: Option<Decimal>,
    /// See [`RiskConfig::max_order_notional`].
    pub max_order_notional: Option<Decimal>,
    /// See [`RiskConfig::max_position`].
    pub max_position: Option<Decimal>,
    /// See [`RiskConfig::price_band_bps`].
    pub price_band_bps: Option<Decimal>,
}

/// `risk.<field>`.
pub(crate) fn top_key(field: &str) -> String {
    format!("risk.{field}")
}

/// `risk.instruments."<name>"` or `risk.instruments."<name>".<field>`.
pub(crate) fn instrument_key(name: &str, field: Option<&str>) -> String {
    match field {
        Some(field) => format!("risk.instruments.\"{name}\".{field}"),
        None => format!("risk.instruments.\"{name}\""),
    }
}

/// Parses an override key `"venue.SYMBOL"`.
pub(crate) fn parse_instrument_key(name: &str) -> Result<InstrumentId, RiskConfigError> {
    let parsed = name
        .split_once('.')
        .filter(|(_, symbol)| !symbol.is_empty())
        .and_then(|(venue, symbol)| venue.parse::<Venue>().ok().map(|venue| InstrumentId::new(venue, symbol)));
    parsed.ok_or_else(|| {
        RiskConfigError::invalid(instrument_key(name, None), "expected \"venue.SYMBOL\", e.g. \"binance-usdm.BTCUSDT\"")
    })
}

fn positive(key: impl FnOnce() -> String, value: Option<Decimal>) -> Result<(), RiskConfigError> {
    match value {
        Some(value) if value.mantissa <= 0 => Err(RiskConfigError::invalid(key(), format!("must be > 0, got {value}"))),
        _ => Ok(()),
    }
}

fn max_decimals(key: impl FnOnce() -> String, value: Option<Decimal>, decimals: u8) -> Result<(), RiskConfigError> {
    match value {
        Some(value) if value.scale > decimals => {
            Err(RiskConfigError::invalid(key(), format!("{value} has more than {decimals} decimals")))
        }
        _ => Ok(()),
    }
}

/// Whether `value` (a fraction) is below 1, given it is positive.
fn below_one(value: Decimal) -> bool {
    // 10^scale fits i64 for every parsed Decimal (scale <= 16).
    ferrotrade_model::pow10(value.scale).is_some_and(|one| value.mantissa < one)
}

fn validate_band(key: impl Fn() -> String, value: Option<Decimal>) -> Result<(), RiskConfigError> {
    positive(&key, value)?;
    max_decimals(&key, value, BAND_BPS_DECIMALS)
}

impl RiskConfig {
    /// Checks that every limit is possible; does not know the instruments (see [`crate::RiskEngine::new`]).
    ///
    /// # Errors
    /// [`RiskConfigError::Invalid`] naming the first offending key: a maximum that is zero or negative, a
    /// price band `<= 0` or with more than 4 decimals, a concentration outside `(0, 1]` or without a floor, a
    /// burst below 1 or without `orders_per_second`, a drawdown outside `(0, 1)`, or an instrument override
    /// key that is not `"venue.SYMBOL"`.
    pub fn validate(&self) -> Result<(), RiskConfigError> {
        positive(|| top_key("max_order_quantity"), self.max_order_quantity)?;
        positive(|| top_key("max_order_notional"), self.max_order_notional)?;
        positive(|| top_key("max_position"), self.max_position)?;
        positive(|| top_key("max_total_notional"), self.max_total_notional)?;
        positive(|| top_key("max_daily_loss"), self.max_daily_loss)?;
        positive(|| top_key("concentration_floor"), self.concentration_floor)?;
        validate_band(|| top_key("price_band_bps"), self.price_band_bps)?;

        if let Some(value) = self.max_concentration {
            let one = ferrotrade_model::pow10(value.scale).unwrap_or(i64::MAX);
            if value.mantissa <= 0 || value.mantissa > one {
                return Err(RiskConfigError::invalid(
                    top_key("max_concentration"),
                    format!("must be in (0, 1], got {value}"),
                ));
            }
            max_decimals(|| top_key("max_concentration"), Some(value), FRACTION_DECIMALS)?;
            if self.concentration_floor.is_none() && self.max_total_notional.is_none() {
                return Err(RiskConfigError::invalid(
                    top_key("max_concentration"),
                    "needs risk.concentration_floor or risk.max_total_notional (the exposure below which it is not checked)",
                ));
            }
        } else if self.concentration_floor.is_some() {
            return Err(RiskConfigError::invalid(
                top_key("concentration_floor"),
                "given without risk.max_concentration",
            ));
        }

        positive(|| top_key("orders_per_second"), self.orders_per_second)?;
        max_decimals(|| top_key("orders_per_second"), self.orders_per_second, RATE_DECIMALS)?;
        match (self.burst, self.orders_per_second) {
            (Some(0), _) => return Err(RiskConfigError::invalid(top_key("burst"), "must be >= 1, got 0")),
            (Some(_), None) => {
                return Err(RiskConfigError::invalid(top_key("burst"), "given without risk.orders_per_second"));
            }
            _ => {}
        }

        if let Some(value) = self.max_drawdown {
            if value.mantissa <= 0 || !below_one(value) {
                return Err(RiskConfigError::invalid(
                    top_key("max_drawdown"),
                    format!("must be in (0, 1), got {value}"),
                ));
            }
            max_decimals(|| top_key("max_drawdown"), Some(value), FRACTION_DECIMALS)?;
        }

        for (name, limits) in &self.instruments {
            parse_instrument_key(name)?;
            positive(|| instrument_key(name, Some("max_order_quantity")), limits.max_order_quantity)?;
            positive(|| instrument_key(name, Some("max_order_notional")), limits.max_order_notional)?;
            positive(|| instrument_key(name, Some("max_position")), limits.max_position)?;
            validate_band(|| instrument_key(name, Some("price_band_bps")), limits.price_band_bps)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::parse_str(text).unwrap()
    }

    #[test]
    fn empty_config_is_valid_and_halts_on_breach() {
        let config = RiskConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.on_breach.state(), TradingState::Halted);
    }

    #[test]
    fn boundaries_of_fractions() {
        let mut config = RiskConfig {
            max_concentration: Some(dec("1")),
            concentration_floor: Some(dec("1000")),
            ..RiskConfig::default()
        };
        assert_eq!(config.validate(), Ok(()));
        config.max_concentration = Some(dec("1.0001"));
        assert_eq!(config.validate().unwrap_err().key(), "risk.max_concentration");
        let config = RiskConfig { max_drawdown: Some(dec("0.99999999")), ..RiskConfig::default() };
        assert_eq!(config.validate(), Ok(()));
        let config = RiskConfig { max_drawdown: Some(dec("1")), ..RiskConfig::default() };
        assert_eq!(config.validate().unwrap_err().key(), "risk.max_drawdown");
    }

    #[test]
    fn override_keys_must_name_a_venue_and_symbol() {
        for name in ["BTCUSDT", "kraken.XBTUSD", "binance-usdm."] {
            let mut config = RiskConfig::default();
            config.instruments.insert(name.to_owned(), InstrumentLimits::default());
            let error = config.validate().unwrap_err();
            assert_eq!(error.key(), format!("risk.instruments.\"{name}\""), "{error}");
        }
        assert_eq!(parse_instrument_key("Binance-USDM.btcusdt").unwrap().to_string(), "binance-usdm.BTCUSDT");
    }
}
