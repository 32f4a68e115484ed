//! [`VenueConfig`]: everything that shapes a simulated venue, as written in a backtest's TOML/JSON.
//!
//! ```toml
//! seed = 7
//! bar_slippage_bps = 1.5
//! fees = { maker = -0.0001, taker = 0.0005 }
//! queue = { model = "power", exponent = 2 }
//! latency = { model = "empirical", entry_ns = [180000, 250000], response_ns = [200000] }
//! ```
//!
//! Every key is optional (defaults: zero fees, `risk_averse` queue, zero constant latency, no bar
//! slippage, seed 0); an unknown key is an error, so a typo never silently falls back to a default.
//! [`VenueConfig::validate`] checks the values and names the bad key.

use ferrotrade_model::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::fees::FeeConfig;
use crate::latency::LatencyConfig;
use crate::queue::QueueModelConfig;

/// Configuration of one simulated venue.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VenueConfig {
    /// Maker and taker rates.
    pub fees: FeeConfig,
    /// Queue position model of resting orders.
    pub queue: QueueModelConfig,
    /// Order entry and response latency (applied by the engine).
    pub latency: LatencyConfig,
    /// Slippage of market fills against a bar close or a last price (no book), in basis points (`>= 0`).
    pub bar_slippage_bps: Decimal,
    /// Seed of every random draw of the run.
    pub seed: u64,
}

impl VenueConfig {
    /// Checks every value.
    ///
    /// # Errors
    /// [`SimError::Config`] with the dotted key of the first bad value: `fees.maker`, `fees.taker`,
    /// `queue.exponent`, `latency.entry_ns`, `latency.response_ns` or `bar_slippage_bps`.
    pub fn validate(&self) -> Result<(), SimError> {
        self.fees.rates()?;
        self.queue.validate()?;
        self.latency.validate()?;
        let bps = self.bar_slippage_bps;
        if bps.mantissa < 0 || bps.to_fixed(8).is_err() || bps.mantissa / 10i64.pow(u32::from(bps.scale)) >= 10_000 {
            return Err(SimError::config(
                "bar_slippage_bps",
                format!("{bps} is not in [0, 10000) basis points with <= 8 decimals"),
            ));
        }
        Ok(())
    }
}
