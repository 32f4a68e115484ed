//! [`Execution`]: runs a list of parent orders from configuration, so an execution algorithm can be
//! backtested, paper traded or run live without writing a strategy.
//!
//! ```toml
//! [[strategy]]
//! kind = "execution"
//! name = "buy_twap"
//!
//! [[strategy.orders]]
//! algo = "twap"
//! instrument = "binance-usdm.BTCUSDT"
//! side = "buy"
//! quantity = 0.05
//! delay_s = 60          # after the first synced book of every instrument the order trades
//! duration_s = 600
//! slices = 10
//! ```
//!
//! Each order is an [`AlgoOrder`] table; it is submitted when the books of all its instruments have
//! been synced once (plus its `delay_s`, counted from then). An order the algorithms refuse stops the run
//! with the refusal, naming the order: a configuration that cannot be executed is an error, not a
//! silently skipped order. The strategy subscribes to the book and trades of every instrument its orders
//! name (trades give the quality report its market volume and VWAP).

use ferrotrade_model::InstrumentIndex;
use serde::Deserialize;

use crate::algo::{AlgoKind, AlgoOrder};
use crate::context::Context;
use crate::subscription::{DataKind, Subscription};
use crate::traits::{Strategy, StrategyError, StrategyResult};

/// Configuration of an [`Execution`] strategy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionConfig {
    /// The parent orders, in submission order.
    pub orders: Vec<AlgoOrder>,
}

/// Submits its configured parent orders and lets the algorithms work them.
#[derive(Debug)]
pub struct Execution {
    name: String,
    config: ExecutionConfig,
    /// Per order: its instruments (resolved on start) and whether it was submitted.
    pending: Vec<(Vec<InstrumentIndex>, bool)>,
}

fn instruments_of(order: &AlgoOrder) -> Vec<String> {
    let mut names = vec![order.instrument.clone()];
    if order.algo == AlgoKind::Route {
        for venue in order.venues.iter().flatten() {
            if !names.iter().any(|name| name.eq_ignore_ascii_case(venue)) {
                names.push(venue.clone());
            }
        }
    }
    names
}

impl Execution {
    /// The strategy of `config`.
    ///
    /// # Errors
    /// A configuration without orders.
    pub fn new(config: ExecutionConfig) -> Result<Execution, super::ConfigError> {
        if config.orders.is_empty() {
            return Err(super::ConfigError::new("orders", "needs at least one [[strategy.orders]] table"));
        }
        Ok(Execution { name: "execution".to_owned(), config, pending: Vec::new() })
    }

    /// Renames the strategy (names are unique within a run).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Execution {
        self.name = name.into();
        self
    }
}

impl Strategy for Execution {
    fn name(&self) -> &str {
        &self.name
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        let mut subscriptions: Vec<Subscription> = Vec::new();
        for name in self.config.orders.iter().flat_map(instruments_of) {
            if !subscriptions.iter().any(|known| known.instrument.eq_ignore_ascii_case(&name)) {
                subscriptions.push(Subscription::new(&name, &[DataKind::Book, DataKind::Trades]));
            }
        }
        subscriptions
    }

    fn uses_algos(&self) -> bool {
        true
    }

    fn on_start(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        self.pending.clear();
        for (number, order) in self.config.orders.iter().enumerate() {
            let mut indices = Vec::new();
            for name in instruments_of(order) {
                let index = ctx.instrument_index(&name).ok_or_else(|| {
                    StrategyError::new(format!("orders[{number}]: `{name}` is not an instrument of this run"))
                })?;
                indices.push(index);
            }
            self.pending.push((indices, false));
        }
        Ok(())
    }

    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        for (number, (indices, submitted)) in self.pending.iter_mut().enumerate() {
            if *submitted
                || !indices.contains(&instrument)
                || !indices.iter().all(|index| ctx.is_synced(*index) && ctx.book(*index).mid_x2().is_some())
            {
                continue;
            }
            *submitted = true;
            ctx.submit_algo(&self.config.orders[number])
                .map_err(|refusal| StrategyError::new(format!("orders[{number}] refused: {refusal}")))?;
        }
        Ok(())
    }
}
