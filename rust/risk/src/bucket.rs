//! An order-rate token bucket with exact integer arithmetic and an injected clock.
//!
//! The bucket holds credit in units of 10^-18 token. A rate of `r` orders per second is kept as
//! `r x 10^9` (at most 9 decimals), so `dt` elapsed nanoseconds add exactly `r x 10^9 x dt` units: no
//! division, no rounding, no drift however often it is refilled. `u128` holds the largest product
//! (`< 2^63 x 2^64`) and any `u32` burst (`< 2^32 x 10^18`).
//!
//! Time comes from the caller (`now`), never from the wall clock, so a backtest is deterministic. A clock
//! that steps back adds nothing and does not move the bucket's time back either.

use ferrotrade_model::{Decimal, UnixNanos};

use crate::config::RATE_DECIMALS;

/// Credit units of one token.
const TOKEN: u128 = 1_000_000_000_000_000_000;

/// A token bucket: `burst` tokens at most, refilled at a fixed rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBucket {
    /// Units (10^-18 token) added per elapsed nanosecond; `u64`, so `rate x elapsed` is one widening
    /// multiply that cannot overflow `u128`.
    rate: u64,
    /// Capacity in units.
    capacity: u128,
    /// Current credit in units, `<= capacity`.
    credit: u128,
    /// Clock value of the last refill.
    last: u64,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens refilled at `orders_per_second`; `None` when the rate is not positive
    /// or has more than 9 decimals, or `burst` is zero.
    #[must_use]
    pub fn new(orders_per_second: Decimal, burst: u32) -> Option<TokenBucket> {
        let rate = u64::try_from(orders_per_second.to_fixed(RATE_DECIMALS).ok()?).ok().filter(|rate| *rate > 0)?;
        let capacity = u128::from(burst) * TOKEN;
        // Starting at clock 0 with full credit: the first refill, whatever `now`, leaves it full.
        (burst > 0).then_some(TokenBucket { rate, capacity, credit: capacity, last: 0 })
    }

    /// Adds the credit earned since the last refill.
    #[inline]
    pub fn refill(&mut self, now: UnixNanos) {
        let elapsed = now.0.saturating_sub(self.last);
        if elapsed > 0 {
            self.last = now.0;
            // < 2^64 x 2^64 = 2^128: exact; credit < 2^93, so the sum saturates only in theory.
            let earned = u128::from(self.rate) * u128::from(elapsed);
            self.credit = self.credit.saturating_add(earned).min(self.capacity);
        }
    }

    /// Refills, then tells whether a whole token is available (without taking it).
    #[inline]
    pub fn has_token(&mut self, now: UnixNanos) -> bool {
        self.refill(now);
        self.credit >= TOKEN
    }

    /// Takes one token if available; the caller checked [`TokenBucket::has_token`] at the same clock value.
    #[inline]
    pub fn consume(&mut self) {
        self.credit = self.credit.saturating_sub(TOKEN);
    }

    /// Refills and takes one token; `false` (and nothing taken) when the bucket is empty.
    #[inline]
    pub fn try_take(&mut self, now: UnixNanos) -> bool {
        let available = self.has_token(now);
        if available {
            self.consume();
        }
        available
    }

    /// Whole tokens available at the last refill.
    #[must_use]
    pub fn tokens(&self) -> u64 {
        u64::try_from(self.credit / TOKEN).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::parse_str(text).unwrap()
    }

    const SECOND: u64 = 1_000_000_000;

    #[test]
    fn burst_then_refill_at_the_rate() {
        // 10 orders/s, burst 3: three at once, the fourth waits 100 ms.
        let mut bucket = TokenBucket::new(dec("10"), 3).unwrap();
        let start = 1_700_000_000 * SECOND;
        for _ in 0..3 {
            assert!(bucket.try_take(UnixNanos(start)));
        }
        assert!(!bucket.try_take(UnixNanos(start)));
        assert!(!bucket.try_take(UnixNanos(start + 99_999_999)));
        assert!(bucket.try_take(UnixNanos(start + 100_000_000)));
        assert_eq!(bucket.tokens(), 0);
        // A long pause refills to the burst, never beyond.
        bucket.refill(UnixNanos(start + 3600 * SECOND));
        assert_eq!(bucket.tokens(), 3);
    }

    #[test]
    fn fractional_rate_is_exact_over_many_refills() {
        // 0.3 orders/s: one token every 3.333... s. Refilled every nanosecond-ish step of 1 ms, the 1st
        // token is back after exactly ceil(10^18 / (0.3 x 10^9)) ns = 3_333_333_334 ns, with no drift.
        let mut bucket = TokenBucket::new(dec("0.3"), 1).unwrap();
        assert!(bucket.try_take(UnixNanos(SECOND)));
        let mut now = SECOND;
        while now < SECOND + 3_333_000_000 {
            now += 1_000_000;
            assert!(!bucket.has_token(UnixNanos(now)), "token too early at {now}");
        }
        assert!(!bucket.has_token(UnixNanos(SECOND + 3_333_333_333)));
        assert!(bucket.has_token(UnixNanos(SECOND + 3_333_333_334)));
    }

    #[test]
    fn clock_stepping_back_adds_nothing() {
        let mut bucket = TokenBucket::new(dec("1"), 1).unwrap();
        assert!(bucket.try_take(UnixNanos(10 * SECOND)));
        assert!(!bucket.try_take(UnixNanos(5 * SECOND)));
        // The bucket's time stayed at 10 s: 0.5 s later is still half a token.
        assert!(!bucket.try_take(UnixNanos(10 * SECOND + SECOND / 2)));
        assert!(bucket.try_take(UnixNanos(11 * SECOND)));
    }

    #[test]
    fn impossible_parameters_are_refused() {
        assert!(TokenBucket::new(dec("0"), 1).is_none());
        assert!(TokenBucket::new(dec("-1"), 1).is_none());
        assert!(TokenBucket::new(dec("1"), 0).is_none());
        assert!(TokenBucket::new(dec("0.0000000001"), 1).is_none());
    }
}
