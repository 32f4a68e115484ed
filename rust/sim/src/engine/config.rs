//! The backtest configuration: the TOML file a user writes (`ferrotrade backtest CONFIG.toml`), handed
//! over as JSON by the Python layer (which parses TOML with `tomllib` and reports syntax errors with their
//! line), and checked here with errors that name the key.
//!
//! ```toml
//! [backtest]
//! catalog = "catalog"                 # relative paths are relative to the config file
//! start = "2024-08-08T00:00:00Z"      # optional; a date or an RFC 3339 UTC time
//! end = "2024-08-09"                  # optional, exclusive
//! initial_equity = 10000              # settlement currency
//! seed = 7                            # random draws (empirical latency, queue models)
//! sample_interval_ms = 1000           # equity curve resolution
//! preload = false                     # true: read the data into memory first (fastest, more memory)
//!
//! [venue]                             # simulated venue: fees, queue model, latency (ferrotrade_sim::VenueConfig)
//! fees = { maker = 0.0002, taker = 0.0005 }
//! queue = { model = "power", exponent = 2 }
//! latency = { model = "constant", entry_ns = 2000000, response_ns = 2000000 }
//!
//! [instruments."binance-usdm.BTCUSDT"]  # optional per-instrument overrides
//! tick_size = 0.1
//! lot_size = 0.001
//! min_notional = 100
//! maker_fee = -0.0001
//!
//! [risk]                              # pre-trade chain (ferrotrade_risk::RiskConfig)
//! max_position = 0.05
//!
//! [[strategy]]
//! kind = "market_maker"               # or "trend", "model_signal", "execution", or "python" with class = "module:Class"
//! name = "mm"
//! instrument = "binance-usdm.BTCUSDT"
//! ```

use std::collections::BTreeMap;

use ferrotrade_model::Decimal;
use ferrotrade_risk::RiskConfig;
use ferrotrade_strategy::builtin::{ExecutionConfig, MarketMakerConfig, ModelSignalConfig, TrendConfig};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::config::VenueConfig;

/// A configuration problem, naming the key (`strategy[0].order_size`) so the user can find it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// Dotted path of the offending key (empty for the whole document).
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    /// An error at `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError { key: key.into(), message: message.into() }
    }
}

/// The whole configuration of one backtest run.
#[derive(Debug, Clone)]
pub struct BacktestConfig {
    /// `[backtest]`: data and account.
    pub backtest: RunSection,
    /// `[venue]`: the simulated venue's fee, queue and latency models.
    pub venue: VenueConfig,
    /// `[instruments."venue.SYMBOL"]`: per-instrument overrides.
    pub instruments: BTreeMap<String, InstrumentOverride>,
    /// `[risk]`: the pre-trade chain.
    pub risk: RiskConfig,
    /// `[[strategy]]`: strategies built from configuration (Python strategies may also be passed in code).
    pub strategies: Vec<StrategyConfig>,
}

/// `[backtest]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// Catalog directory.
    pub catalog: String,
    /// First receive time to replay (a date or an RFC 3339 UTC time).
    #[serde(default)]
    pub start: Option<String>,
    /// Receive time to stop at (exclusive).
    #[serde(default)]
    pub end: Option<String>,
    /// Starting equity in the settlement currency.
    pub initial_equity: Decimal,
    /// Seed of every random draw.
    #[serde(default)]
    pub seed: u64,
    /// Interval of the equity curve, in milliseconds of simulated time.
    #[serde(default = "default_sample_interval_ms")]
    pub sample_interval_ms: u64,
    /// Read the whole time range into memory before the run (the fastest replay, and what hftbacktest
    /// does; memory grows with the data). By default rows stream from the catalog in bounded memory.
    #[serde(default)]
    pub preload: bool,
}

const fn default_sample_interval_ms() -> u64 {
    1_000
}

/// `[instruments."venue.SYMBOL"]`: what the catalog does not record about an instrument, or what a user
/// wants different from the venue defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentOverride {
    /// Price increment.
    #[serde(default)]
    pub tick_size: Option<Decimal>,
    /// Size increment.
    #[serde(default)]
    pub lot_size: Option<Decimal>,
    /// Minimum price x size.
    #[serde(default)]
    pub min_notional: Option<Decimal>,
    /// Contract size (inverse contracts: the USD value of one contract).
    #[serde(default)]
    pub contract_size: Option<Decimal>,
    /// Maker fee fraction (negative: rebate), replacing `[venue.fees].maker`.
    #[serde(default)]
    pub maker_fee: Option<Decimal>,
    /// Taker fee fraction, replacing `[venue.fees].taker`.
    #[serde(default)]
    pub taker_fee: Option<Decimal>,
}

/// One `[[strategy]]` table.
#[derive(Debug, Clone)]
pub enum StrategyConfig {
    /// `kind = "market_maker"`.
    MarketMaker {
        /// Name in reports (default `market_maker`, numbered when repeated).
        name: Option<String>,
        /// The strategy's own keys.
        config: MarketMakerConfig,
    },
    /// `kind = "trend"`.
    Trend {
        /// Name in reports.
        name: Option<String>,
        /// The strategy's own keys.
        config: TrendConfig,
    },
    /// `kind = "model_signal"`: trades an ML model's predictions.
    ModelSignal {
        /// Name in reports.
        name: Option<String>,
        /// The strategy's own keys.
        config: ModelSignalConfig,
    },
    /// `kind = "execution"`: runs configured parent orders through the execution algorithms.
    Execution {
        /// Name in reports.
        name: Option<String>,
        /// The strategy's own keys.
        config: ExecutionConfig,
    },
    /// `kind = "python"`: a Python class `module:Class` built with `params` as keyword arguments.
    Python {
        /// Name in reports.
        name: Option<String>,
        /// `"package.module:ClassName"`.
        class: String,
        /// Keyword arguments for the constructor.
        params: Map<String, Value>,
    },
}

impl StrategyConfig {
    /// The configured name, if any.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        match self {
            StrategyConfig::MarketMaker { name, .. }
            | StrategyConfig::Trend { name, .. }
            | StrategyConfig::ModelSignal { name, .. }
            | StrategyConfig::Execution { name, .. }
            | StrategyConfig::Python { name, .. } => name.as_deref(),
        }
    }
}

/// Deserializes `value` as `T`, reporting the full key path (`strategy[0].order_size`) on failure.
fn typed<T: DeserializeOwned>(value: Value, path: &str) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let inner = error.path().to_string();
        let key = match inner.as_str() {
            "." | "" => path.to_owned(),
            _ => format!("{path}.{inner}"),
        };
        ConfigError::new(key, error.into_inner().to_string())
    })
}

fn take_string(table: &mut Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, ConfigError> {
    match table.remove(key) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(ConfigError::new(format!("{path}.{key}"), format!("expected a string, found {other}"))),
    }
}

impl StrategyConfig {
    fn parse(value: Value, path: &str) -> Result<StrategyConfig, ConfigError> {
        let Value::Object(mut table) = value else {
            return Err(ConfigError::new(path, "expected a table"));
        };
        let kind = take_string(&mut table, "kind", path)?.ok_or_else(|| {
            ConfigError::new(format!("{path}.kind"), "missing (market_maker, trend, model_signal, execution or python)")
        })?;
        let name = take_string(&mut table, "name", path)?;
        match kind.as_str() {
            "market_maker" => Ok(StrategyConfig::MarketMaker { name, config: typed(Value::Object(table), path)? }),
            "trend" => Ok(StrategyConfig::Trend { name, config: typed(Value::Object(table), path)? }),
            "model_signal" => {
                let config: ModelSignalConfig = typed(Value::Object(table), path)?;
                config.validate().map_err(|error| ConfigError::new(format!("{path}.{}", error.key), error.message))?;
                Ok(StrategyConfig::ModelSignal { name, config })
            }
            "execution" => Ok(StrategyConfig::Execution { name, config: typed(Value::Object(table), path)? }),
            "python" => {
                let class = take_string(&mut table, "class", path)?.ok_or_else(|| {
                    ConfigError::new(format!("{path}.class"), "missing (\"package.module:ClassName\")")
                })?;
                let params = match table.remove("params") {
                    None => Map::new(),
                    Some(Value::Object(params)) => params,
                    Some(_) => return Err(ConfigError::new(format!("{path}.params"), "expected a table")),
                };
                if let Some(key) = table.keys().next() {
                    return Err(ConfigError::new(
                        format!("{path}.{key}"),
                        "unknown key (a python strategy takes class, name and params)",
                    ));
                }
                Ok(StrategyConfig::Python { name, class, params })
            }
            other => Err(ConfigError::new(
                format!("{path}.kind"),
                format!(
                    "unknown strategy kind {other:?} (known: market_maker, trend, model_signal, execution, python)"
                ),
            )),
        }
    }
}

impl BacktestConfig {
    /// Parses the configuration from its JSON form and validates every section.
    ///
    /// # Errors
    /// [`ConfigError`] naming the key: an unknown key, a wrong type, a missing required key or an
    /// impossible limit.
    pub fn from_json(text: &str) -> Result<BacktestConfig, ConfigError> {
        let value: Value = serde_json::from_str(text).map_err(|error| ConfigError::new("", error.to_string()))?;
        let Value::Object(mut root) = value else {
            return Err(ConfigError::new("", "the configuration must be a table"));
        };
        let section = |root: &mut Map<String, Value>, key: &str| root.remove(key).unwrap_or(Value::Object(Map::new()));
        let backtest = match root.remove("backtest") {
            Some(value) => typed::<RunSection>(value, "backtest")?,
            None => return Err(ConfigError::new("backtest", "missing table [backtest] (catalog, initial_equity)")),
        };
        let venue: VenueConfig = typed(section(&mut root, "venue"), "venue")?;
        venue.validate().map_err(|error| match error {
            crate::SimError::Config { key, reason } => ConfigError::new(format!("venue.{key}"), reason),
            other => ConfigError::new("venue", other.to_string()),
        })?;
        let instruments: BTreeMap<String, InstrumentOverride> =
            typed(section(&mut root, "instruments"), "instruments")?;
        let risk: RiskConfig = typed(section(&mut root, "risk"), "risk")?;
        risk.validate().map_err(|error| ConfigError::new(error.key(), error.to_string()))?;
        let strategies = match root.remove("strategy") {
            None => Vec::new(),
            Some(Value::Array(tables)) => tables
                .into_iter()
                .enumerate()
                .map(|(index, table)| StrategyConfig::parse(table, &format!("strategy[{index}]")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(ConfigError::new("strategy", "expected an array of tables ([[strategy]])")),
        };
        if let Some(key) = root.keys().next() {
            return Err(ConfigError::new(
                key.clone(),
                "unknown section (known: backtest, venue, instruments, risk, strategy, report)",
            ));
        }
        if backtest.sample_interval_ms == 0 {
            return Err(ConfigError::new("backtest.sample_interval_ms", "must be at least 1"));
        }
        if backtest.initial_equity.mantissa <= 0 {
            return Err(ConfigError::new("backtest.initial_equity", "must be positive"));
        }
        Ok(BacktestConfig { backtest, venue, instruments, risk, strategies })
    }
}

/// Everything the loop needs once the configuration is resolved against the catalog.
#[derive(Debug, Clone)]
pub struct EngineSetup {
    /// Instruments in index order.
    pub instruments: Vec<ferrotrade_model::Instrument>,
    /// Venue configuration per instrument (fees resolved).
    pub venues: Vec<VenueConfig>,
    /// Order entry and response latency of the run.
    pub latency: crate::latency::LatencyConfig,
    /// The risk chain.
    pub risk: RiskConfig,
    /// Starting equity.
    pub initial_equity: ferrotrade_model::Money,
    /// Seed of the latency draws.
    pub seed: u64,
    /// Equity sampling interval in nanoseconds.
    pub sample_interval_ns: u64,
}
