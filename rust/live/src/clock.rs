//! [`WallClock`]: the engine's one source of time, monotonic and in Unix nanoseconds.
//!
//! The wall clock is read once at start; after that, time is the start time plus the monotonic
//! [`Instant`] elapsed, so `now()` never runs backwards when NTP steps the system clock (the strategy
//! contract promises a monotonic `ctx.now()`), and an `Instant` taken at a frame read converts exactly to
//! the `UnixNanos` the strategy sees.
//!
//! This module is the only place of the live engine that reads the system clocks (the workspace's clippy
//! configuration forbids `Instant::now`/`SystemTime::now` elsewhere, so backtests stay deterministic);
//! everything else calls [`now_instant`] or a [`WallClock`].

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ferrotrade_model::UnixNanos;

/// The monotonic clock, now.
#[must_use]
#[inline]
#[allow(clippy::disallowed_methods)] // the live engine is the wall-clock edge of the system
pub fn now_instant() -> Instant {
    Instant::now()
}

/// Monotonic Unix time anchored at construction.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    base_ns: u64,
    start: Instant,
}

impl WallClock {
    /// A clock anchored at the current system time.
    #[must_use]
    #[allow(clippy::disallowed_methods)] // the one read of the system clock
    pub fn start() -> WallClock {
        let base_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        WallClock { base_ns, start: now_instant() }
    }

    /// The current time.
    #[must_use]
    pub fn now(&self) -> UnixNanos {
        self.at(now_instant())
    }

    /// The Unix time of `instant` (instants before the anchor map to the anchor).
    #[must_use]
    pub fn at(&self, instant: Instant) -> UnixNanos {
        let elapsed = instant.saturating_duration_since(self.start).as_nanos();
        UnixNanos(self.base_ns.saturating_add(u64::try_from(elapsed).unwrap_or(u64::MAX)))
    }

    /// The instant of Unix time `ts` (times before the anchor map to the anchor).
    #[must_use]
    pub fn instant_of(&self, ts: UnixNanos) -> Instant {
        self.start + std::time::Duration::from_nanos(ts.0.saturating_sub(self.base_ns))
    }

    /// Milliseconds since the Unix epoch (what venues sign requests with).
    #[must_use]
    pub fn unix_ms(&self) -> u64 {
        self.now().0 / 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn instants_and_unix_times_convert_both_ways() {
        let clock = WallClock::start();
        let later = clock.start + Duration::from_millis(1500);
        let ts = clock.at(later);
        assert_eq!(ts.0 - clock.base_ns, 1_500_000_000);
        assert_eq!(clock.instant_of(ts), later);
        assert!(clock.now().0 >= clock.base_ns);
    }
}
