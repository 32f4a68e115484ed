//! Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and Jitter").
//!
//! The `n`-th consecutive failure waits a uniformly random time in `[0, min(max, min_delay * 2^n)]`. Full
//! jitter spreads the reconnects of many clients after a venue outage instead of having them retry in
//! lock step, and the seeded RNG keeps a run reproducible.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Retry delays of one thing (a connection, a snapshot fetch).
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    failures: u32,
    rng: Xoshiro256PlusPlus,
}

impl Backoff {
    /// Delays between `0` and `max`, the ceiling starting at `min` and doubling per failure.
    pub(crate) fn new(min: Duration, max: Duration, seed: u64) -> Backoff {
        Backoff { min, max: max.max(min), failures: 0, rng: Xoshiro256PlusPlus::seed_from_u64(seed) }
    }

    /// The ceiling of the next delay: `min(max, min * 2^failures)`.
    pub(crate) fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX);
        self.min.saturating_mul(factor).min(self.max)
    }

    /// The delay before the next attempt, counting one more failure.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.rng.random_range(0..=nanos))
    }

    /// Consecutive failures so far.
    #[cfg(test)]
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Back to the smallest ceiling, after a success.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_up_to_max_and_delays_stay_below_it() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 7);
        let mut ceilings = Vec::new();
        for _ in 0..6 {
            let ceiling = backoff.ceiling();
            let delay = backoff.next_delay();
            assert!(delay <= ceiling, "{delay:?} > {ceiling:?}");
            ceilings.push(ceiling.as_millis());
        }
        assert_eq!(ceilings, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff.failures(), 6);
        backoff.reset();
        assert_eq!(backoff.ceiling(), Duration::from_millis(100));
    }

    #[test]
    fn jitter_is_seeded_and_spread() {
        let delays = |seed| {
            let mut backoff = Backoff::new(Duration::from_secs(10), Duration::from_secs(10), seed);
            (0..64).map(|_| backoff.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(delays(1), delays(1));
        assert_ne!(delays(1), delays(2));
        let spread = delays(3);
        // Full jitter: delays cover the range, not a band near the ceiling.
        assert!(spread.iter().any(|d| *d < Duration::from_secs(3)));
        assert!(spread.iter().any(|d| *d > Duration::from_secs(7)));
    }

    #[test]
    fn huge_failure_counts_saturate() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), 0);
        for _ in 0..100 {
            assert!(backoff.next_delay() <= Duration::from_secs(60));
        }
        assert_eq!(backoff.ceiling(), Duration::from_secs(60));
    }
}
