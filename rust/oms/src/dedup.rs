//! [`TradeIds`]: the venue trade ids already applied for one instrument, so a fill delivered twice (a
//! websocket replay, a REST reconciliation overlapping the stream) changes nothing the second time.
//!
//! # Why not a `HashSet`
//! Venues number trades increasingly per instrument (Binance `t`, the simulated venue's counter), so almost
//! every new fill carries an id above all earlier ones. The common case is then a comparison and a `push`
//! onto a sorted `Vec` (8 bytes per fill, no hashing, amortized O(1)); an old id is looked up by binary
//! search. Ids that arrive below the maximum and are new (a venue whose ids are not monotonic, or a late
//! fill) go to a `BTreeSet`, so even an unordered id stream costs O(log n), never a shifting insert.
//! Iteration order never reaches observable state either way, and the structure is exact: no id is ever
//! forgotten, so a duplicate is caught however late it arrives.

use std::collections::BTreeSet;

/// The set of trade ids applied for one instrument.
#[derive(Debug, Clone, Default)]
pub(crate) struct TradeIds {
    /// Strictly increasing ids, in arrival order.
    ascending: Vec<u64>,
    /// New ids that arrived below `ascending.last()`.
    late: BTreeSet<u64>,
}

impl TradeIds {
    /// Whether `trade_id` was inserted before.
    #[inline]
    pub(crate) fn contains(&self, trade_id: u64) -> bool {
        match self.ascending.last() {
            None => false,
            Some(&last) if trade_id > last => false,
            Some(_) => self.ascending.binary_search(&trade_id).is_ok() || self.late.contains(&trade_id),
        }
    }

    /// Records `trade_id` (call only after `contains` returned `false`).
    #[inline]
    pub(crate) fn insert(&mut self, trade_id: u64) {
        match self.ascending.last() {
            Some(&last) if trade_id <= last => {
                self.late.insert(trade_id);
            }
            _ => self.ascending.push(trade_id),
        }
    }

    /// Number of ids recorded.
    pub(crate) fn len(&self) -> usize {
        self.ascending.len() + self.late.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increasing_late_and_repeated_ids() {
        let mut ids = TradeIds::default();
        for id in [10, 20, 30] {
            assert!(!ids.contains(id));
            ids.insert(id);
        }
        assert!(ids.contains(20));
        assert!(!ids.contains(25));
        ids.insert(25);
        assert!(ids.contains(25));
        assert!(ids.contains(10) && ids.contains(30));
        assert!(!ids.contains(0) && !ids.contains(31));
        ids.insert(0);
        assert!(ids.contains(0));
        assert_eq!(ids.len(), 5);
    }
}
