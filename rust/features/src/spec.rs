//! Feature names: the one spelling of every feature, in configurations, model cards and column names.
//!
//! A feature is named by its pattern and its integer parameters joined by `_` (`rsi_14`, `macd_12_26_9`,
//! `book_imbalance_5`); the Bollinger deviation multiplier may be a decimal (`bb_pctb_20_2.5`). The name *is*
//! the definition: the same name always computes the same value (for a given [`crate::FEATURE_CODE_VERSION`]),
//! which is what lets a model card list its inputs by name and an engine refuse a model whose inputs it does
//! not compute.
//!
//! | pattern | value at each sample (`p` = the sample's reference price) |
//! |---|---|
//! | `return_{h}` | `ln(p / p[h samples ago])` |
//! | `sma_{n}`, `ema_{n}`, `wma_{n}` | `p / MA(n) - 1` |
//! | `rsi_{n}` | Wilder RSI, `[0, 100]` |
//! | `macd_{fast}_{slow}_{signal}` | MACD histogram `/ p` |
//! | `stoch_k_{k}`, `stoch_d_{k}_{d}` | stochastic `%K`, `%D`, `[0, 100]` |
//! | `atr_{n}` | Wilder ATR `/ p` |
//! | `bb_pctb_{n}_{k}`, `bb_width_{n}_{k}` | Bollinger `%B`; `(upper - lower) / middle` |
//! | `obv_{n}` | `(OBV - OBV[n ago]) / volume over n`, `[-1, 1]` |
//! | `vwap_{n}` | `p / VWAP(n) - 1` |
//! | `realized_vol_{n}` | `sqrt(sum of squared log returns over n samples)` |
//! | `trade_imbalance_{n}` | `(buy - sell) / (buy + sell)` taker volume over `n` samples, `[-1, 1]` (0 without trades) |
//! | `book_imbalance_{levels}` | `(bid - ask) / (bid + ask)` volume over the top `levels` levels (book clocks) |
//! | `microprice_bps` | `(microprice - mid) / mid x 1e4`, microprice `= (bid x ask size + ask x bid size) / (bid size + ask size)` (book clocks) |
//! | `spread_bps` | `(ask - bid) / mid x 1e4` (book clocks) |
//! | `hour_sin`, `hour_cos` | time of day (UTC) on the unit circle |
//! | `dow_sin`, `dow_cos` | time of week (UTC, Monday 00:00 = 0) on the unit circle |
//!
//! Moving averages, MACD, ATR and VWAP are relative to the price so that a model trained at one price level
//! applies at another; the indicators themselves ([`crate::indicators`]) give the raw values.

use std::fmt;

use crate::error::FeatureError;

/// Largest window of any feature (samples are kept in memory: 8 bytes each).
pub const MAX_WINDOW: usize = 100_000;

/// Largest number of book levels of `book_imbalance_{levels}`.
pub const MAX_LEVELS: usize = 1_000;

/// What a feature computes; see the module docs for the values.
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(missing_docs)]
pub enum FeatureKind {
    Return { horizon: usize },
    Sma { n: usize },
    Ema { n: usize },
    Wma { n: usize },
    Rsi { n: usize },
    Macd { fast: usize, slow: usize, signal: usize },
    StochasticK { k: usize },
    StochasticD { k: usize, d: usize },
    Atr { n: usize },
    BollingerPercentB { n: usize, k: f64 },
    BollingerWidth { n: usize, k: f64 },
    Obv { n: usize },
    Vwap { n: usize },
    RealizedVolatility { n: usize },
    TradeImbalance { n: usize },
    BookImbalance { levels: usize },
    MicropriceBps,
    SpreadBps,
    HourSin,
    HourCos,
    DayOfWeekSin,
    DayOfWeekCos,
}

/// The patterns and their parameter counts, longest prefix first where two share one.
const PATTERNS: [(&str, usize); 22] = [
    ("return", 1),
    ("sma", 1),
    ("ema", 1),
    ("wma", 1),
    ("rsi", 1),
    ("macd", 3),
    ("stoch_k", 1),
    ("stoch_d", 2),
    ("atr", 1),
    ("bb_pctb", 2),
    ("bb_width", 2),
    ("obv", 1),
    ("vwap", 1),
    ("realized_vol", 1),
    ("trade_imbalance", 1),
    ("book_imbalance", 1),
    ("microprice_bps", 0),
    ("spread_bps", 0),
    ("hour_sin", 0),
    ("hour_cos", 0),
    ("dow_sin", 0),
    ("dow_cos", 0),
];

fn known() -> String {
    PATTERNS
        .iter()
        .map(|(pattern, count)| {
            let params: String = ["_{a}", "_{b}", "_{c}"].iter().take(*count).copied().collect();
            format!("{pattern}{params}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One named feature.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSpec {
    kind: FeatureKind,
}

impl FeatureSpec {
    /// Parses a feature name (`rsi_14`).
    ///
    /// # Errors
    /// [`FeatureError::Unknown`] for a name that matches no pattern, [`FeatureError::Parameter`] for a
    /// parameter out of range (a window of 0 or above [`MAX_WINDOW`], `fast >= slow`, ...).
    pub fn parse(name: &str) -> Result<FeatureSpec, FeatureError> {
        let unknown = || FeatureError::Unknown { name: name.to_owned(), known: known() };
        let (pattern, params) = PATTERNS
            .iter()
            .filter_map(|(pattern, count)| {
                let rest = name.strip_prefix(pattern)?;
                let params: Vec<&str> =
                    if rest.is_empty() { Vec::new() } else { rest.strip_prefix('_')?.split('_').collect() };
                (params.len() == *count).then_some((*pattern, params))
            })
            .next()
            .ok_or_else(unknown)?;
        let bad = |reason: String| FeatureError::Parameter { name: name.to_owned(), reason };
        let window = |index: usize| -> Result<usize, FeatureError> {
            let text = params[index];
            let value: usize = text.parse().map_err(|_| bad(format!("{text:?} is not a whole number")))?;
            if value == 0 || value > MAX_WINDOW {
                return Err(bad(format!("{value} is outside 1..={MAX_WINDOW}")));
            }
            Ok(value)
        };
        let multiplier = |index: usize| -> Result<f64, FeatureError> {
            let text = params[index];
            match text.parse::<f64>() {
                Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
                _ => Err(bad(format!("deviation multiplier {text:?} is not a positive number"))),
            }
        };
        let kind = match pattern {
            "return" => FeatureKind::Return { horizon: window(0)? },
            "sma" => FeatureKind::Sma { n: window(0)? },
            "ema" => FeatureKind::Ema { n: window(0)? },
            "wma" => FeatureKind::Wma { n: window(0)? },
            "rsi" => FeatureKind::Rsi { n: window(0)? },
            "macd" => {
                let (fast, slow, signal) = (window(0)?, window(1)?, window(2)?);
                if fast >= slow {
                    return Err(bad(format!("the fast period {fast} must be shorter than the slow {slow}")));
                }
                FeatureKind::Macd { fast, slow, signal }
            }
            "stoch_k" => FeatureKind::StochasticK { k: window(0)? },
            "stoch_d" => FeatureKind::StochasticD { k: window(0)?, d: window(1)? },
            "atr" => FeatureKind::Atr { n: window(0)? },
            "bb_pctb" => FeatureKind::BollingerPercentB { n: window(0)?, k: multiplier(1)? },
            "bb_width" => FeatureKind::BollingerWidth { n: window(0)?, k: multiplier(1)? },
            "obv" => FeatureKind::Obv { n: window(0)? },
            "vwap" => FeatureKind::Vwap { n: window(0)? },
            "realized_vol" => FeatureKind::RealizedVolatility { n: window(0)? },
            "trade_imbalance" => FeatureKind::TradeImbalance { n: window(0)? },
            "book_imbalance" => {
                let levels = window(0)?;
                if levels > MAX_LEVELS {
                    return Err(bad(format!("{levels} levels is more than {MAX_LEVELS}")));
                }
                FeatureKind::BookImbalance { levels }
            }
            "microprice_bps" => FeatureKind::MicropriceBps,
            "spread_bps" => FeatureKind::SpreadBps,
            "hour_sin" => FeatureKind::HourSin,
            "hour_cos" => FeatureKind::HourCos,
            "dow_sin" => FeatureKind::DayOfWeekSin,
            "dow_cos" => FeatureKind::DayOfWeekCos,
            _ => return Err(unknown()),
        };
        let spec = FeatureSpec { kind };
        // One spelling per feature: `rsi_014` or `bb_pctb_20_2.0` would be a second name for a known one.
        if spec.to_string() != name {
            return Err(bad(format!("write it as {:?}", spec.to_string())));
        }
        Ok(spec)
    }

    /// What the feature computes.
    #[must_use]
    pub fn kind(&self) -> FeatureKind {
        self.kind
    }

    /// Whether the feature reads the order book (and so needs a book clock).
    #[must_use]
    pub fn needs_book(&self) -> bool {
        matches!(self.kind, FeatureKind::BookImbalance { .. } | FeatureKind::MicropriceBps | FeatureKind::SpreadBps)
    }
}

impl fmt::Display for FeatureSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FeatureKind::Return { horizon } => write!(f, "return_{horizon}"),
            FeatureKind::Sma { n } => write!(f, "sma_{n}"),
            FeatureKind::Ema { n } => write!(f, "ema_{n}"),
            FeatureKind::Wma { n } => write!(f, "wma_{n}"),
            FeatureKind::Rsi { n } => write!(f, "rsi_{n}"),
            FeatureKind::Macd { fast, slow, signal } => write!(f, "macd_{fast}_{slow}_{signal}"),
            FeatureKind::StochasticK { k } => write!(f, "stoch_k_{k}"),
            FeatureKind::StochasticD { k, d } => write!(f, "stoch_d_{k}_{d}"),
            FeatureKind::Atr { n } => write!(f, "atr_{n}"),
            FeatureKind::BollingerPercentB { n, k } => write!(f, "bb_pctb_{n}_{k}"),
            FeatureKind::BollingerWidth { n, k } => write!(f, "bb_width_{n}_{k}"),
            FeatureKind::Obv { n } => write!(f, "obv_{n}"),
            FeatureKind::Vwap { n } => write!(f, "vwap_{n}"),
            FeatureKind::RealizedVolatility { n } => write!(f, "realized_vol_{n}"),
            FeatureKind::TradeImbalance { n } => write!(f, "trade_imbalance_{n}"),
            FeatureKind::BookImbalance { levels } => write!(f, "book_imbalance_{levels}"),
            FeatureKind::MicropriceBps => f.write_str("microprice_bps"),
            FeatureKind::SpreadBps => f.write_str("spread_bps"),
            FeatureKind::HourSin => f.write_str("hour_sin"),
            FeatureKind::HourCos => f.write_str("hour_cos"),
            FeatureKind::DayOfWeekSin => f.write_str("dow_sin"),
            FeatureKind::DayOfWeekCos => f.write_str("dow_cos"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in [
            "rsi_14",
            "macd_12_26_9",
            "stoch_d_14_3",
            "bb_pctb_20_2",
            "bb_width_20_2.5",
            "book_imbalance_5",
            "hour_sin",
            "spread_bps",
            "realized_vol_30",
        ] {
            assert_eq!(FeatureSpec::parse(name).unwrap().to_string(), name);
        }
        assert!(FeatureSpec::parse("book_imbalance_5").unwrap().needs_book());
        assert!(!FeatureSpec::parse("rsi_14").unwrap().needs_book());
    }

    #[test]
    fn bad_names_say_why() {
        assert!(matches!(FeatureSpec::parse("rsx_14"), Err(FeatureError::Unknown { .. })));
        assert!(matches!(FeatureSpec::parse("rsi"), Err(FeatureError::Unknown { .. })));
        let error = FeatureSpec::parse("macd_26_12_9").unwrap_err().to_string();
        assert!(error.contains("shorter"), "{error}");
        assert!(FeatureSpec::parse("sma_0").unwrap_err().to_string().contains("outside"));
        assert!(FeatureSpec::parse("rsi_014").unwrap_err().to_string().contains("\"rsi_14\""));
        assert!(FeatureSpec::parse("bb_pctb_20_-1").is_err());
    }
}
