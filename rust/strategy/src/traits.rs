//! The [`Strategy`] trait: the callbacks an engine calls.

use std::fmt;

use ferrotrade_model::{Bar, Fill, InstrumentIndex, MarkPrice, OrderEvent, Trade};

use crate::algo::{AlgoEvent, AlgoRecords};
use crate::context::{Context, TimerId};
use crate::subscription::Subscription;

/// Why a strategy stopped the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyError {
    /// What went wrong, in the strategy's words (for a Python strategy: the exception and its traceback).
    pub message: String,
}

impl StrategyError {
    /// An error with `message`.
    #[must_use]
    pub fn new(message: impl Into<String>) -> StrategyError {
        StrategyError { message: message.into() }
    }
}

impl fmt::Display for StrategyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StrategyError {}

/// What every callback returns: an error stops the run cleanly.
pub type StrategyResult = Result<(), StrategyError>;

/// A trading strategy. Every callback has a default that does nothing; implement what you need.
///
/// All callbacks receive the [`Context`]: the strategy's only way to read the market and its account and to
/// act. See the crate docs for the ordering guarantees.
pub trait Strategy {
    /// A short name for reports and logs (unique within a run).
    fn name(&self) -> &str;

    /// The instruments and data kinds the strategy needs; asked once, before `on_start`.
    fn subscriptions(&self) -> Vec<Subscription>;

    /// Called once before the first event.
    ///
    /// # Errors
    /// An error stops the run.
    fn on_start(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        let _ = ctx;
        Ok(())
    }

    /// A venue message updated the book of `instrument` (`ctx.book(instrument)`).
    ///
    /// # Errors
    /// An error stops the run.
    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        let _ = (ctx, instrument);
        Ok(())
    }

    /// A trade printed on `instrument`.
    ///
    /// # Errors
    /// An error stops the run.
    fn on_trade(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, trade: &Trade) -> StrategyResult {
        let _ = (ctx, instrument, trade);
        Ok(())
    }

    /// A bar of `instrument` closed.
    ///
    /// # Errors
    /// An error stops the run.
    fn on_bar(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, bar: &Bar) -> StrategyResult {
        let _ = (ctx, instrument, bar);
        Ok(())
    }

    /// A mark price, index price or funding update of `instrument`.
    ///
    /// # Errors
    /// An error stops the run.
    fn on_mark(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, mark: &MarkPrice) -> StrategyResult {
        let _ = (ctx, instrument, mark);
        Ok(())
    }

    /// One of the strategy's orders changed (including denials by the risk chain).
    ///
    /// # Errors
    /// An error stops the run.
    fn on_order(&mut self, ctx: &mut dyn Context, event: &OrderEvent) -> StrategyResult {
        let _ = (ctx, event);
        Ok(())
    }

    /// One of the strategy's orders filled (after the matching `on_order`).
    ///
    /// # Errors
    /// An error stops the run.
    fn on_fill(&mut self, ctx: &mut dyn Context, fill: &Fill) -> StrategyResult {
        let _ = (ctx, fill);
        Ok(())
    }

    /// A timer set with [`Context::set_timer`] fired.
    ///
    /// # Errors
    /// An error stops the run.
    fn on_timer(&mut self, ctx: &mut dyn Context, timer: TimerId) -> StrategyResult {
        let _ = (ctx, timer);
        Ok(())
    }

    /// An operator changes a parameter at run time (the live engine's `set` command). `value` is written as
    /// in TOML (`12.5`, `true`, `"text"`). The default knows no parameter.
    ///
    /// # Errors
    /// An unknown parameter or a value it refuses: the change is not made, the operator gets the message and
    /// the run goes on.
    fn set_parameter(&mut self, ctx: &mut dyn Context, name: &str, value: &str) -> StrategyResult {
        let _ = (ctx, value);
        Err(StrategyError::new(format!("{}: no parameter {name:?} can be changed at run time", self.name())))
    }

    /// Whether the strategy uses execution algorithms (`ctx.submit_algo`). Engines wrap such a strategy
    /// with the algorithms' host ([`crate::algo::host`]); the default (false) costs nothing.
    fn uses_algos(&self) -> bool {
        false
    }

    /// One of the strategy's parent orders changed status: paused, resumed, or ended (completed,
    /// canceled, expired or failed, with the reason).
    ///
    /// # Errors
    /// An error stops the run.
    fn on_algo(&mut self, ctx: &mut dyn Context, event: &AlgoEvent) -> StrategyResult {
        let _ = (ctx, event);
        Ok(())
    }

    /// What the strategy's execution algorithms recorded, taken once by the engine after the run (only
    /// the algorithms' host has any).
    fn take_algo_records(&mut self) -> Option<AlgoRecords> {
        None
    }

    /// Called once after the last event (also after an error elsewhere).
    ///
    /// # Errors
    /// The error is reported; the run is over anyway.
    fn on_stop(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        let _ = ctx;
        Ok(())
    }
}
