//! Pacing against Binance's rate-limit budgets, from the usage headers each answer carries
//! (`X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S`).
//!
//! The venue counts in fixed windows whose start the client does not know; a window is taken to start
//! when the count is first seen or falls. Above [`PACE_FROM`] of the budget, each request reserves a
//! slot so that what is left of the budget is spread over the rest of the window; with nothing left it
//! waits for the reset. Estimating the window late only makes the pacing more careful.

use super::PACE_FROM;

/// One rate-limit budget as the venue's headers report it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    pub(super) limit: u32,
    window_ms: u64,
    pub(super) used: u32,
    /// Estimated start of the venue's current window (local ms): when the count was first seen or fell.
    window_start: u64,
    /// Earliest local ms the next request may leave at (pacing reservations).
    next_slot: u64,
    /// Window (by start) in which pacing was last announced.
    announced: u64,
}

impl Budget {
    pub(super) const fn new(limit: u32, window_ms: u64) -> Budget {
        Budget { limit, window_ms, used: 0, window_start: 0, next_slot: 0, announced: u64::MAX }
    }

    /// Records a header value read at local `now`.
    pub(super) fn observe(&mut self, used: u32, now: u64) {
        if used < self.used || self.window_start == 0 || now >= self.window_start + self.window_ms {
            self.window_start = now;
        }
        self.used = used;
    }

    /// Whether a request may leave at `now` without a reservation (below the pacing threshold, or the
    /// window over): what [`Budget::reserve`] would answer with `(now, false)` and no change.
    pub(super) fn free_now(&self, now: u64) -> bool {
        now >= self.window_start + self.window_ms || f64::from(self.used) < PACE_FROM * f64::from(self.limit)
    }

    /// When a request may leave (local ms), reserving its slot; `Some(true)` when pacing starts in a new window.
    pub(super) fn reserve(&mut self, now: u64) -> (u64, bool) {
        let reset = self.window_start + self.window_ms;
        if now >= reset || f64::from(self.used) < PACE_FROM * f64::from(self.limit) {
            return (now, false);
        }
        let remaining = u64::from(self.limit.saturating_sub(self.used));
        // Spread what is left over the rest of the window; nothing left: wait for the reset.
        let spacing = if remaining <= 1 { reset - now } else { (reset - now) / remaining };
        let slot = self.next_slot.max(now);
        self.next_slot = slot + spacing;
        let first = self.announced != self.window_start;
        self.announced = self.window_start;
        (slot, first)
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;

    #[test]
    fn below_the_threshold_requests_leave_at_once() {
        let mut budget = Budget::new(100, 60_000);
        budget.observe(79, 1_000);
        assert_eq!(budget.reserve(1_000), (1_000, false));
    }

    #[test]
    fn above_the_threshold_the_rest_is_spread_over_the_window() {
        let mut budget = Budget::new(100, 60_000);
        budget.observe(90, 1_000);
        // 10 left for the 60 s until the window resets: one per 6 s, announced once.
        assert_eq!(budget.reserve(1_000), (1_000, true));
        assert_eq!(budget.reserve(1_000), (7_000, false));
        assert_eq!(budget.reserve(2_000), (13_000, false));
    }

    #[test]
    fn an_exhausted_budget_waits_for_the_reset_and_a_falling_count_starts_a_window() {
        let mut budget = Budget::new(100, 60_000);
        budget.observe(100, 1_000);
        let (first, _) = budget.reserve(31_000);
        assert_eq!(budget.reserve(31_000).0, first + 30_000, "the second waits past the reset");
        budget.observe(3, 61_500);
        assert_eq!(budget.reserve(61_500), (61_500, false));
    }
}
