//! Deny counts per [`RejectReason`]: a fixed array indexed by the reason's discriminant, so counting on
//! the hot path is one indexed increment, and reports iterate in a stable order.

use ferrotrade_model::RejectReason;

/// Number of [`RejectReason`] variants the array covers (discriminants `0..REJECT_REASON_COUNT`).
pub const REJECT_REASON_COUNT: usize = RejectReason::Venue as usize + 1;

/// The reasons the risk chain can deny an order with, in chain order.
pub const RISK_REASONS: [RejectReason; 12] = [
    RejectReason::TradingHalted,
    RejectReason::ReducingOnly,
    RejectReason::RateLimit,
    RejectReason::InvalidLotSize,
    RejectReason::MaxOrderQuantity,
    RejectReason::InvalidPrice,
    RejectReason::MaxOrderNotional,
    RejectReason::NoMarketPrice,
    RejectReason::PriceBand,
    RejectReason::MaxPosition,
    RejectReason::MaxTotalPosition,
    RejectReason::MaxConcentration,
];

/// How many orders the chain passed and denied, per reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyCounters {
    denied: [u64; REJECT_REASON_COUNT],
    passed: u64,
}

impl Default for DenyCounters {
    fn default() -> Self {
        DenyCounters { denied: [0; REJECT_REASON_COUNT], passed: 0 }
    }
}

impl DenyCounters {
    #[inline]
    pub(crate) fn record_denied(&mut self, reason: RejectReason) {
        if let Some(count) = self.denied.get_mut(reason as usize) {
            *count += 1;
        }
    }

    #[inline]
    pub(crate) fn record_passed(&mut self) {
        self.passed += 1;
    }

    /// Orders denied with `reason`.
    #[must_use]
    pub fn get(&self, reason: RejectReason) -> u64 {
        self.denied.get(reason as usize).copied().unwrap_or(0)
    }

    /// The raw array, indexed by `reason as usize`.
    #[must_use]
    pub const fn as_array(&self) -> &[u64; REJECT_REASON_COUNT] {
        &self.denied
    }

    /// Orders that passed the whole chain.
    #[must_use]
    pub const fn passed(&self) -> u64 {
        self.passed
    }

    /// Orders denied, all reasons.
    #[must_use]
    pub fn denied(&self) -> u64 {
        self.denied.iter().sum()
    }

    /// `(reason, count)` for every risk reason, in chain order (zeros included, for stable report rows).
    pub fn iter(&self) -> impl Iterator<Item = (RejectReason, u64)> + '_ {
        RISK_REASONS.iter().map(|reason| (*reason, self.get(*reason)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_reason() {
        let mut counters = DenyCounters::default();
        counters.record_denied(RejectReason::RateLimit);
        counters.record_denied(RejectReason::RateLimit);
        counters.record_denied(RejectReason::PriceBand);
        counters.record_passed();
        assert_eq!(counters.get(RejectReason::RateLimit), 2);
        assert_eq!(counters.as_array()[RejectReason::PriceBand as usize], 1);
        assert_eq!((counters.denied(), counters.passed()), (3, 1));
        let rows: Vec<_> = counters.iter().filter(|(_, count)| *count > 0).collect();
        assert_eq!(rows, [(RejectReason::RateLimit, 2), (RejectReason::PriceBand, 1)]);
    }
}
