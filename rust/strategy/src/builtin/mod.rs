//! Built-in strategies: an inventory-skewed L2 [`MarketMaker`], an EMA-crossover [`Trend`] follower, a
//! [`ModelSignal`] trader of an ML model's predictions and [`Execution`], which runs configured parent
//! orders through the execution algorithms (the last two have their configuration in their module docs).
//!
//! Both are configured from a TOML/JSON table (`#[serde(deny_unknown_fields)]`: a misspelt key is an error,
//! not a silent default) whose sizes and limits are exact [`Decimal`]s. Construction validates what can be
//! checked without the instrument table ([`ConfigError`] names the key); `on_start` resolves the instrument
//! and converts every size to the instrument's fixed-point precision, refusing a size with more decimals
//! than the instrument allows (nothing is ever rounded silently).
//!
//! # Invariants
//! - Prices and sizes sent to the venue are fixed-point, on tick and on lot. `f64` is used only inside the
//!   indicators (EMA, volatility), which decide *whether* to trade, never *at what price or size*.
//! - The callbacks allocate nothing after `on_start`; their cost is `O(1)` per event.
//!
//! # Configuration
//! ```toml
//! # MarketMaker
//! instrument = "binance-usdm.BTCUSDT"
//! order_size = 0.002               # BTC per quote
//! half_spread_bps = 1.5
//! skew_bps_per_unit = 10           # long 0.1 BTC: both quotes 1 bps lower
//! max_position = 0.01
//! requote_threshold_ticks = 2      # default 1
//! min_requote_interval_ms = 50     # default 0
//! reject_backoff_ms = 1000         # default 1000
//!
//! # Trend
//! instrument = "binance-usdm.BTCUSDT"
//! source = "bars"                  # or "trades"
//! fast = 12
//! slow = 26
//! order_size = 0.01
//! volatility_window = 24           # optional, with max_volatility
//! max_volatility = 0.01            # stdev of log returns per period
//! order_type = "market"            # default; or "limit" (at the touch)
//! allow_short = true               # default
//! reject_backoff_ms = 1000         # default
//! ```
//!
//! Quantities are in instrument units: base currency for spot and linear contracts, contracts for
//! inverse ones.
//!
//! # Run-time changes
//! The live engine's `set` command (`ferrotrade ctl set STRATEGY KEY VALUE`) reaches
//! [`Strategy::set_parameter`](crate::Strategy::set_parameter). The value is written as in TOML; the
//! changed configuration is validated and resolved exactly as at the start before it replaces the old one,
//! so a refused change (the message names the key and why) leaves the strategy as it was.
//!
//! | strategy | can change | stays as started |
//! |---|---|---|
//! | [`MarketMaker`] | every size, spread, skew, threshold and interval key | `instrument` |
//! | [`Trend`] | `order_size`, `allow_short`, `max_volatility` (with a filter), `reject_backoff_ms`; the target follows at once | the windows, `source`, `order_type`, `instrument` (its subscriptions and averages are built for them) |
//! | [`ModelSignal`] | the four thresholds, `order_size` (resizes the target at once), `offset_bps`, `order_timeout_ms`, `reject_backoff_ms` | the model or bridge, `clock`, `features`, `order_type`, `instrument` |
//! | [`Execution`] | nothing: its parent orders are fixed at the start | everything |
//!
//! The small streaming indicators used here live in a private module; the shared indicator library is
//! `ferrotrade-features`' job.

use std::cmp::Ordering;
use std::fmt;

use ferrotrade_model::{Decimal, Instrument, InstrumentIndex, Quantity};

use crate::context::Context;
use crate::traits::StrategyError;

mod execution;
mod indicators;
mod market_maker;
mod model_signal;
mod params;
mod trend;

pub use execution::{Execution, ExecutionConfig};
pub use market_maker::{MarketMaker, MarketMakerConfig};
pub use model_signal::{BridgeSettings, ModelSignal, ModelSignalConfig, SignalCounters, SignalOrderType, SignalSource};
pub use trend::{Trend, TrendConfig, TrendOrderType, TrendSource};

/// A configuration value is invalid: which key, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration key at fault (`"order_size"`).
    pub key: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    /// An error about `key`.
    #[must_use]
    pub fn new(key: &'static str, message: impl Into<String>) -> ConfigError {
        ConfigError { key, message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid `{}`: {}", self.key, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for StrategyError {
    fn from(error: ConfigError) -> StrategyError {
        StrategyError::new(error.to_string())
    }
}

/// Exact order of two decimals.
pub(crate) fn decimal_cmp(a: Decimal, b: Decimal) -> Ordering {
    let scale = a.scale.max(b.scale);
    let widen = |value: Decimal| i128::from(value.mantissa) * 10i128.pow(u32::from(scale - value.scale));
    widen(a).cmp(&widen(b))
}

/// `value > 0`, or an error naming `key`.
pub(crate) fn require_positive(key: &'static str, value: Decimal) -> Result<(), ConfigError> {
    if value.mantissa > 0 { Ok(()) } else { Err(ConfigError::new(key, format!("must be positive, got {value}"))) }
}

/// `value >= 0`, or an error naming `key`.
pub(crate) fn require_non_negative(key: &'static str, value: Decimal) -> Result<(), ConfigError> {
    if value.mantissa >= 0 { Ok(()) } else { Err(ConfigError::new(key, format!("must not be negative, got {value}"))) }
}

/// The instrument named by the `instrument` key, as the engine knows it.
pub(crate) fn resolve_instrument(ctx: &dyn Context, name: &str) -> Result<(InstrumentIndex, Instrument), ConfigError> {
    let index = ctx
        .instrument_index(name)
        .ok_or_else(|| ConfigError::new("instrument", format!("`{name}` is not an instrument of this run")))?;
    let instrument =
        ctx.instruments().get(index.get()).cloned().ok_or_else(|| {
            ConfigError::new("instrument", format!("`{name}` has index {} outside the table", index.0))
        })?;
    Ok((index, instrument))
}

/// `value` as a quantity of `instrument`: exact at its size precision and a whole number of lots.
pub(crate) fn to_quantity(key: &'static str, value: Decimal, instrument: &Instrument) -> Result<Quantity, ConfigError> {
    let mantissa = value.to_fixed(instrument.size_precision).map_err(|_| {
        ConfigError::new(
            key,
            format!("{value} has more decimals than {} allows ({} decimals)", instrument.id, instrument.size_precision),
        )
    })?;
    let lot = instrument.lot_size.0;
    if lot > 0 && mantissa % lot != 0 {
        return Err(ConfigError::new(
            key,
            format!(
                "{value} is not a multiple of the lot size {} of {}",
                instrument.lot_size.display(instrument.size_precision),
                instrument.id
            ),
        ));
    }
    Ok(Quantity(mantissa))
}
