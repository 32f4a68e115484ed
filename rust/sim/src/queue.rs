//! Queue position models: where a resting order stands in the queue of its price level, when the data is
//! market-by-price (L2) and only shows the total size of the level.
//!
//! A resting order joins the back of its level: its *queue ahead* starts at the recorded size at its
//! price. Two things move it forward:
//! - **Trades at its price** (handled by the venue for every model): the queue ahead shrinks by the trade
//!   size, and what exceeds it fills the order.
//! - **Depth decreases without a trade** (cancels), which the models below attribute differently.
//!
//! | model | a depth decrease of `d` at the order's price |
//! |---|---|
//! | `risk_averse` | never advances the order: cancels are assumed behind it; the queue ahead is only capped at the new level size |
//! | `power` (`exponent = n`) | advances it by `d x f(front) / (f(front) + f(back))`, `f(x) = x^n` |
//! | `log` | the same with `f(x) = ln(1 + x)` |
//!
//! `front` is the queue ahead and `back` the rest of the level (`level size - front`). This is
//! hftbacktest's `RiskAdverseQueueModel` and `ProbQueueModel` with `PowerProbQueueFunc` /
//! `LogProbQueueFunc` (<https://hftbacktest.readthedocs.io/en/v1.8.4/reference/queue_models.html>, and
//! the estimator it cites, <https://quant.stackexchange.com/questions/3782>), including two of its
//! details: the trade quantity seen at the level since its last depth change is subtracted from the
//! decrease (the trade already advanced the order; counting it again would double it), and a part
//! attributed to the back that exceeds the back spills onto the front. A larger `n` pushes more of a
//! decrease to the back of the queue when the order is near the front, so it is more pessimistic.
//!
//! The probabilistic split is an estimate of a count of other people's lots, not money: it is computed in
//! `f64` over sizes in base units (so `ln(1 + x)` sees `0.5` BTC, not 500 lots) and rounded back to the
//! nearest lot mantissa, then clamped to `[0, new level size]`.

use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// Which queue model a venue uses.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", try_from = "RawQueueModelConfig")]
pub enum QueueModelConfig {
    /// Only trades at the order's price advance it.
    #[default]
    RiskAverse,
    /// Probabilistic, `f(x) = x^exponent`.
    Power {
        /// The power `n` (> 0); 2 or 3 are common choices.
        exponent: f64,
    },
    /// Probabilistic, `f(x) = ln(1 + x)`.
    Log,
}

/// The serde form of [`QueueModelConfig`], read through one flat struct: serde's internally tagged
/// enums accept unknown keys on unit variants (`{ model = "log", exponent = 2 }`), which would hide a typo.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueueModelConfig {
    model: String,
    exponent: Option<f64>,
}

impl TryFrom<RawQueueModelConfig> for QueueModelConfig {
    type Error = String;

    fn try_from(raw: RawQueueModelConfig) -> Result<Self, Self::Error> {
        match (raw.model.as_str(), raw.exponent) {
            ("risk_averse", None) => Ok(QueueModelConfig::RiskAverse),
            ("log", None) => Ok(QueueModelConfig::Log),
            ("power", Some(exponent)) => Ok(QueueModelConfig::Power { exponent }),
            ("power", None) => Err("queue model `power` needs `exponent`".to_owned()),
            ("risk_averse" | "log", Some(_)) => Err(format!("queue model `{}` takes no `exponent`", raw.model)),
            (other, _) => Err(format!("unknown queue model `{other}`: expected risk_averse, power or log")),
        }
    }
}

impl QueueModelConfig {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`SimError::Config`] naming `queue.exponent` when the power is not a finite positive number.
    pub fn validate(&self) -> Result<(), SimError> {
        if let QueueModelConfig::Power { exponent } = self
            && !(exponent.is_finite() && *exponent > 0.0)
        {
            return Err(SimError::config("queue.exponent", format!("{exponent} is not a finite number > 0")));
        }
        Ok(())
    }
}

/// A queue model bound to an instrument's size precision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueModel {
    config: QueueModelConfig,
    /// Lot mantissas per base unit (`10^size_precision`).
    unit: f64,
}

impl QueueModel {
    /// The model of `config` for sizes at `size_precision` decimals.
    ///
    /// # Errors
    /// As [`QueueModelConfig::validate`].
    pub fn new(config: &QueueModelConfig, size_precision: u8) -> Result<QueueModel, SimError> {
        config.validate()?;
        Ok(QueueModel { config: *config, unit: 10f64.powi(i32::from(size_precision)) })
    }

    /// The queue ahead after the recorded level at the order's price went from `prev` to `new` (size
    /// mantissas), where `traded` is the trade quantity printed at that price since the level's previous
    /// change (already taken off `queue_ahead`). `O(1)`.
    #[must_use]
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    pub fn on_depth_change(&self, queue_ahead: i64, prev: i64, new: i64, traded: i64) -> i64 {
        let capped = queue_ahead.min(new).max(0);
        let decrease = prev - new - traded;
        let f: fn(f64, f64) -> f64 = match self.config {
            QueueModelConfig::RiskAverse => return capped,
            QueueModelConfig::Power { .. } => |x, n| x.powf(n),
            QueueModelConfig::Log => |x, _| x.ln_1p(),
        };
        if decrease <= 0 {
            return capped;
        }
        let n = match self.config {
            QueueModelConfig::Power { exponent } => exponent,
            _ => 1.0,
        };
        let front = queue_ahead.max(0) as f64 / self.unit;
        let back = (prev - queue_ahead).max(0) as f64 / self.unit;
        let change = decrease as f64 / self.unit;
        let (f_front, f_back) = (f(front, n), f(back, n));
        let total = f_front + f_back;
        let front_share = if total > 0.0 { f_front / total } else { 0.0 };
        let estimate = front - front_share * change + (back - (1.0 - front_share) * change).min(0.0);
        let lots = (estimate * self.unit).round();
        if !lots.is_finite() {
            return capped;
        }
        (lots as i64).clamp(0, new.max(0))
    }
}
