//! Order latency models: how long an order takes to reach the venue (`entry`) and how long the venue's
//! answer takes to come back (`response`).
//!
//! The venue itself works at exchange time and never waits; the engine adds `entry` to the strategy's
//! send time to find when [`crate::SimVenue::submit`] runs, and `response` to an event's `ts_event` to
//! find when the strategy sees it (`ts_recv`). This mirrors hftbacktest's split into order entry and
//! order response latency (its `ConstantLatency` and the measured `IntpOrderLatency`).
//!
//! | model | config | draw |
//! |---|---|---|
//! | constant | `{ model = "constant", entry_ns = 250000, response_ns = 250000 }` | the same value every time |
//! | empirical | `{ model = "empirical", entry_ns = [..], response_ns = [..] }` | one sample, uniformly, per call |
//!
//! Empirical draws come from a [`Xoshiro256PlusPlus`] seeded with the run's seed, one stream each for
//! entry and response, so the same seed gives the same latencies whatever the order of calls between them.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// Which latency model, with its parameters (nanoseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencyConfig {
    /// Fixed latencies.
    Constant {
        /// Strategy -> venue, nanoseconds.
        entry_ns: u64,
        /// Venue -> strategy, nanoseconds.
        response_ns: u64,
    },
    /// Measured latencies, drawn uniformly from the samples.
    Empirical {
        /// Strategy -> venue samples, nanoseconds (at least one).
        entry_ns: Vec<u64>,
        /// Venue -> strategy samples, nanoseconds (at least one).
        response_ns: Vec<u64>,
    },
}

impl Default for LatencyConfig {
    /// Zero latency: orders arrive and answers return at once.
    fn default() -> Self {
        LatencyConfig::Constant { entry_ns: 0, response_ns: 0 }
    }
}

impl LatencyConfig {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`SimError::Config`] naming `latency.entry_ns` or `latency.response_ns` when an empirical sample
    /// list is empty.
    pub fn validate(&self) -> Result<(), SimError> {
        if let LatencyConfig::Empirical { entry_ns, response_ns } = self {
            if entry_ns.is_empty() {
                return Err(SimError::config("latency.entry_ns", "needs at least one sample"));
            }
            if response_ns.is_empty() {
                return Err(SimError::config("latency.response_ns", "needs at least one sample"));
            }
        }
        Ok(())
    }
}

/// A latency model ready to draw; deterministic for a given config and seed.
#[derive(Debug, Clone)]
pub struct LatencyModel {
    config: LatencyConfig,
    entry_rng: Xoshiro256PlusPlus,
    response_rng: Xoshiro256PlusPlus,
}

impl LatencyModel {
    /// A model drawing from `config`, seeded with `seed`.
    ///
    /// # Errors
    /// As [`LatencyConfig::validate`].
    pub fn new(config: &LatencyConfig, seed: u64) -> Result<LatencyModel, SimError> {
        config.validate()?;
        Ok(LatencyModel {
            config: config.clone(),
            entry_rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            // A second, independent stream: response draws do not shift when entry draws are added.
            response_rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15),
        })
    }

    /// Strategy -> venue latency of the next order, nanoseconds.
    pub fn entry(&mut self) -> u64 {
        match &self.config {
            LatencyConfig::Constant { entry_ns, .. } => *entry_ns,
            LatencyConfig::Empirical { entry_ns, .. } => draw(&mut self.entry_rng, entry_ns),
        }
    }

    /// Venue -> strategy latency of the next answer, nanoseconds.
    pub fn response(&mut self) -> u64 {
        match &self.config {
            LatencyConfig::Constant { response_ns, .. } => *response_ns,
            LatencyConfig::Empirical { response_ns, .. } => draw(&mut self.response_rng, response_ns),
        }
    }
}

/// One sample, uniformly; 0 for an empty list (which [`LatencyConfig::validate`] refuses).
fn draw(rng: &mut Xoshiro256PlusPlus, samples: &[u64]) -> u64 {
    if samples.is_empty() {
        return 0;
    }
    // A u64 range keeps the draw identical on 32- and 64-bit targets.
    let index = rng.random_range(0..samples.len() as u64);
    usize::try_from(index).ok().and_then(|i| samples.get(i)).copied().unwrap_or(0)
}
