//! The trading state and its recorded transitions.
//!
//! | state | orders that pass the state check |
//! |---|---|
//! | [`TradingState::Active`] | all (the rest of the chain still applies) |
//! | [`TradingState::Reducing`] | only those that cannot increase the absolute position |
//! | [`TradingState::Halted`] | none |
//!
//! The engine moves to `Reducing` or `Halted` on its own when a drawdown or daily-loss limit is crossed, and
//! never back: only a manual [`crate::RiskEngine::set_state`] leaves a breach state. Every change is a
//! [`RiskEvent`] the engine can report (journal, monitoring bus).

use std::fmt;

use ferrotrade_model::UnixNanos;

/// Whether and how the engine may trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum TradingState {
    /// Normal trading.
    #[default]
    Active = 0,
    /// Only position-reducing orders pass.
    Reducing = 1,
    /// Every order is refused.
    Halted = 2,
}

impl TradingState {
    /// `"active"`, `"reducing"` or `"halted"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            TradingState::Active => "active",
            TradingState::Reducing => "reducing",
            TradingState::Halted => "halted",
        }
    }

    /// Whether `self` restricts trading at least as much as `other` (`Halted` > `Reducing` > `Active`).
    #[must_use]
    pub const fn at_least(self, other: TradingState) -> bool {
        self as u8 >= other as u8
    }
}

impl fmt::Display for TradingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change of trading state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RiskEvent {
    /// When it happened (the clock value the engine was given).
    pub ts: UnixNanos,
    /// State before.
    pub from: TradingState,
    /// State after.
    pub to: TradingState,
    /// Why: `"max_drawdown"`, `"daily_loss"` (the [`ferrotrade_model::RejectReason`] codes) or the reason
    /// given to [`crate::RiskEngine::set_state`].
    pub reason: &'static str,
}

impl fmt::Display for RiskEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} trading {} -> {} ({})", self.ts, self.from, self.to, self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_order_and_names() {
        assert!(TradingState::Halted.at_least(TradingState::Reducing));
        assert!(TradingState::Reducing.at_least(TradingState::Reducing));
        assert!(!TradingState::Active.at_least(TradingState::Reducing));
        let event = RiskEvent {
            ts: UnixNanos(0),
            from: TradingState::Active,
            to: TradingState::Halted,
            reason: "max_drawdown",
        };
        assert_eq!(event.to_string(), "1970-01-01T00:00:00.000000000Z trading active -> halted (max_drawdown)");
    }
}
