//! Drawdown and daily-loss tracking over the equity curve the engine reports.
//!
//! - Drawdown: `(peak - equity) / peak`, with `peak` the highest equity seen since the start (or since the
//!   last re-arm, see [`EquityWatch::rearm`]). Breached when strictly above `max_drawdown`. Undefined, and
//!   not checked, while the peak is not positive.
//! - Daily loss: `day_start - equity`, with `day_start` the first equity reported in the current UTC day
//!   (days are `ts / 86_400 s`, so the boundary is 00:00:00 UTC whatever the local zone). Breached when
//!   strictly above `max_daily_loss`.
//!
//! All arithmetic is on [`Money`] (`i128` at 10^-18): `(peak - equity) x 10^8 > peak x max_drawdown_8` is
//! exact for any equity below 10^12 currency units.

use ferrotrade_model::{Money, RejectReason, UnixNanos};

use crate::limits::FRACTION_ONE;

const DAY_NANOS: u64 = 86_400_000_000_000;

/// Which limit an equity update crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breach {
    /// Drawdown from the peak above `max_drawdown`.
    Drawdown,
    /// Loss since the start of the UTC day above `max_daily_loss`.
    DailyLoss,
}

impl Breach {
    /// The reject-reason code the breach is reported with (`"max_drawdown"`, `"daily_loss"`).
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Breach::Drawdown => RejectReason::MaxDrawdown.code(),
            Breach::DailyLoss => RejectReason::DailyLoss.code(),
        }
    }
}

/// Peak and start-of-day equity, and the two limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquityWatch {
    /// `max_drawdown` in units of 10^-8.
    max_drawdown: Option<i128>,
    max_daily_loss: Option<Money>,
    peak: Option<Money>,
    day: u64,
    day_start: Money,
    last: Option<Money>,
}

impl EquityWatch {
    /// A watch with `max_drawdown` as a fraction in units of 10^-8 and `max_daily_loss` in the settlement
    /// currency; `None` disables a limit.
    #[must_use]
    pub fn new(max_drawdown: Option<i64>, max_daily_loss: Option<Money>) -> EquityWatch {
        EquityWatch {
            max_drawdown: max_drawdown.map(i128::from),
            max_daily_loss,
            peak: None,
            day: 0,
            day_start: Money::ZERO,
            last: None,
        }
    }

    /// Records `equity` at `now`; the first limit it crosses, drawdown first.
    pub fn update(&mut self, now: UnixNanos, equity: Money) -> Option<Breach> {
        let day = now.0 / DAY_NANOS;
        if self.last.is_none() || day > self.day {
            self.day = day;
            self.day_start = equity;
        }
        self.last = Some(equity);
        let peak = match self.peak {
            Some(peak) if peak >= equity => peak,
            _ => {
                self.peak = Some(equity);
                equity
            }
        };
        if let Some(limit) = self.max_drawdown
            && peak.0 > 0
            && peak.0.saturating_sub(equity.0).saturating_mul(FRACTION_ONE) > peak.0.saturating_mul(limit)
        {
            return Some(Breach::Drawdown);
        }
        match self.max_daily_loss {
            Some(limit) if self.day_start.0.saturating_sub(equity.0) > limit.0 => Some(Breach::DailyLoss),
            _ => None,
        }
    }

    /// Restarts the drawdown measurement at the last equity seen (after a manual resume); the day's start
    /// is kept, a daily loss stays a daily loss.
    pub fn rearm(&mut self) {
        self.peak = self.last;
    }

    /// Highest equity seen since the start or the last re-arm.
    #[must_use]
    pub const fn peak(&self) -> Option<Money> {
        self.peak
    }

    /// Equity at the start of the current UTC day (the first one reported in it).
    #[must_use]
    pub const fn day_start(&self) -> Money {
        self.day_start
    }
}
