//! Trade continuity on Binance: `@trade` ids of one symbol are consecutive, so a lost or late message is a
//! jump in the id, and the venue's public list of its most recent trades (`GET /api/v3/trades`,
//! `/fapi/v1/trades`, up to 1000) holds the missing ones. [`TradeSequence`] delivers each trade once and in
//! id order, holding the trades after a gap until the list fills it.
//!
//! # Rules
//! - A trade whose id is the next expected one is delivered at once, and with it every held trade that now
//!   follows without a hole. A trade beyond the next id is held and the gap opens: after [`GAP_GRACE`]
//!   (a reordered frame arrives within it, and closes the gap without a request) the feed asks for the
//!   recent-trades list, within its REST weight budget.
//! - The list's answer fills the gap: its trades at or after the next id join the held ones, everything
//!   up to the list's newest id is released in id order, and an id the list cannot account for (older
//!   than the list reaches back) is counted lost ([`TradeSequence::lost`]) and skipped. Trades held beyond
//!   the list's newest id that still follow a hole open the next gap (the next page of an old-trades
//!   lookup, which starts at the missing id and so leaves nothing unaccounted for).
//! - A failed request is retried with the snapshot backoff; trades held longer than [`HOLD_LIMIT`] are
//!   released anyway (their holes counted lost), so a strategy never waits indefinitely on REST.
//! - A trade whose id was already skipped as lost arrives late: it is delivered (it is news to the
//!   strategy) and counted ([`TradeSequence::late`]).
//! - The sequence survives reconnects: the first trade on a new connection after a gap opens it.
//!
//! Duplicates never reach here: the feed's id window drops them first. Backfilled trades carry the time
//! the list arrived as `ts_recv` (when the engine could act on them), their venue time as `ts_event`.

use std::time::{Duration, Instant};

use ferrotrade_model::Trade;

/// Wait after a gap opens before asking for the list: a frame swapped with its neighbour closes it first.
pub(crate) const GAP_GRACE: Duration = Duration::from_millis(100);
/// Longest time trades are held for a backfill.
pub(crate) const HOLD_LIMIT: Duration = Duration::from_secs(5);

/// The backfill of one instrument's gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backfill {
    /// No gap.
    Idle,
    /// Ask for the list at this time.
    Wanted(Instant),
    /// A request is on its way.
    InFlight,
}

/// One instrument's trade ids (see the module docs).
#[derive(Debug)]
pub(crate) struct TradeSequence {
    next: Option<u64>,
    /// Trades after the gap, in arrival order.
    held: Vec<Trade>,
    held_since: Option<Instant>,
    pub(crate) backfill: Backfill,
    /// Gaps opened.
    pub(crate) gaps: u64,
    /// Trades delivered from the recent-trades list.
    pub(crate) backfilled: u64,
    /// Ids skipped because no list held them.
    pub(crate) lost: u64,
    /// Trades that arrived after their id had been skipped as lost.
    pub(crate) late: u64,
}

impl Default for TradeSequence {
    fn default() -> Self {
        TradeSequence {
            next: None,
            held: Vec::new(),
            held_since: None,
            backfill: Backfill::Idle,
            gaps: 0,
            backfilled: 0,
            lost: 0,
            late: 0,
        }
    }
}

impl TradeSequence {
    /// A fresh trade from the stream (`id` its trade id): delivered through `deliver` now, or held.
    pub(crate) fn on_trade(&mut self, trade: Trade, id: u64, now: Instant, deliver: &mut impl FnMut(Trade)) {
        let Some(next) = self.next else {
            self.next = Some(id + 1);
            deliver(trade);
            return;
        };
        if id < next {
            self.late += 1;
            deliver(trade);
        } else if id == next {
            self.next = Some(id + 1);
            deliver(trade);
            self.release_contiguous(deliver);
        } else {
            if self.held.is_empty() {
                self.gaps += 1;
                self.held_since = Some(now);
            }
            self.held.push(trade);
            if self.backfill == Backfill::Idle {
                self.backfill = Backfill::Wanted(now + GAP_GRACE);
            }
        }
    }

    /// Whether trades wait for a backfill.
    pub(crate) fn holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// The id expected next (where a backfill starts), once a trade was seen.
    pub(crate) fn next_id(&self) -> Option<u64> {
        self.next
    }

    /// The list's answer (`listed`: its trades, any order): fills the gap as the module docs say.
    pub(crate) fn on_list(&mut self, listed: &[Trade], now: Instant, deliver: &mut impl FnMut(Trade)) {
        self.backfill = Backfill::Idle;
        let Some(mut expected) = self.next else { return };
        // Ids below `reach` are decided by the list: held, listed, or lost.
        let reach = listed.iter().filter_map(|trade| trade.trade_id).max().map_or(expected, |newest| newest + 1);
        let mut merged: Vec<(u64, Trade, bool)> = listed
            .iter()
            .filter_map(|trade| trade.trade_id.filter(|id| *id >= expected).map(|id| (id, *trade, true)))
            .chain(self.held.drain(..).filter_map(|trade| trade.trade_id.map(|id| (id, trade, false))))
            .collect();
        // A held copy sorts before the listed one of the same id and is the one kept: the stream saw it.
        merged.sort_by_key(|(id, _, listed)| (*id, *listed));
        merged.dedup_by_key(|(id, _, _)| *id);
        let mut rest = Vec::new();
        for (position, &(id, trade, from_list)) in merged.iter().enumerate() {
            if id > expected && expected < reach {
                let skipped_to = id.min(reach);
                self.lost += skipped_to - expected;
                expected = skipped_to;
            }
            if id > expected {
                // A hole after the list's newest trade: those trades may still come on the stream.
                rest.extend(merged[position..].iter().map(|(_, trade, _)| *trade));
                break;
            }
            if from_list {
                self.backfilled += 1;
            }
            expected = id + 1;
            deliver(trade);
        }
        self.next = Some(expected);
        self.held = rest;
        if self.held.is_empty() {
            self.held_since = None;
        } else {
            self.held_since.get_or_insert(now);
            self.backfill = Backfill::Wanted(now);
        }
    }

    /// The request failed: ask again at `retry_at` (or give up, when held too long).
    pub(crate) fn on_list_failed(&mut self, retry_at: Instant) {
        if self.held.is_empty() {
            self.backfill = Backfill::Idle;
        } else {
            self.backfill = Backfill::Wanted(retry_at);
        }
    }

    /// Releases held trades after [`HOLD_LIMIT`]: their holes are counted lost.
    pub(crate) fn expire(&mut self, now: Instant, deliver: &mut impl FnMut(Trade)) {
        let Some(since) = self.held_since else { return };
        if now.saturating_duration_since(since) >= HOLD_LIMIT {
            self.release_all(deliver);
        }
    }

    /// Releases every held trade now, in id order, counting the holes before them lost.
    pub(crate) fn release_all(&mut self, deliver: &mut impl FnMut(Trade)) {
        if self.held.is_empty() {
            return;
        }
        let mut held = std::mem::take(&mut self.held);
        held.sort_by_key(|trade| trade.trade_id);
        let mut expected = self.next.unwrap_or(0);
        for trade in held {
            let id = trade.trade_id.unwrap_or(expected);
            if id < expected {
                continue;
            }
            self.lost += id - expected;
            expected = id + 1;
            deliver(trade);
        }
        self.next = Some(expected);
        self.held_since = None;
        self.backfill = Backfill::Idle;
    }

    /// Delivers held trades that follow `next` without a hole.
    fn release_contiguous(&mut self, deliver: &mut impl FnMut(Trade)) {
        if self.held.is_empty() {
            return;
        }
        self.held.sort_by_key(|trade| trade.trade_id);
        let Some(mut next) = self.next else { return };
        let mut taken = 0;
        for trade in &self.held {
            match trade.trade_id {
                Some(id) if id < next => {}
                Some(id) if id == next => {
                    next += 1;
                    deliver(*trade);
                }
                _ => break,
            }
            taken += 1;
        }
        self.held.drain(..taken);
        self.next = Some(next);
        if self.held.is_empty() {
            self.held_since = None;
            self.backfill = Backfill::Idle;
        }
    }
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::{AggressorSide, Price, Quantity, UnixNanos};

    use super::*;

    fn trade(id: u64) -> Trade {
        Trade {
            ts_event: UnixNanos(id),
            ts_recv: UnixNanos(id),
            trade_id: Some(id),
            price: Price(100),
            size: Quantity(1),
            aggressor: AggressorSide::Buyer,
        }
    }

    fn push(out: &mut Vec<Trade>) -> impl FnMut(Trade) + '_ {
        move |trade| out.push(trade)
    }

    fn ids(out: &[Trade]) -> Vec<u64> {
        out.iter().filter_map(|trade| trade.trade_id).collect()
    }

    #[test]
    fn a_swapped_pair_is_delivered_in_order_without_a_request() {
        let now = super::super::clock::monotonic();
        let (mut sequence, mut out) = (TradeSequence::default(), Vec::new());
        sequence.on_trade(trade(10), 10, now, &mut push(&mut out));
        sequence.on_trade(trade(12), 12, now, &mut push(&mut out));
        assert_eq!(sequence.backfill, Backfill::Wanted(now + GAP_GRACE));
        sequence.on_trade(trade(11), 11, now, &mut push(&mut out));
        assert_eq!(sequence.backfill, Backfill::Idle, "the gap closed before the request");
        assert_eq!(ids(&out), [10, 11, 12]);
        assert_eq!((sequence.gaps, sequence.lost, sequence.backfilled), (1, 0, 0));
    }

    #[test]
    fn the_list_fills_a_gap_and_what_it_cannot_reach_is_lost() {
        let now = super::super::clock::monotonic();
        let (mut sequence, mut out) = (TradeSequence::default(), Vec::new());
        sequence.on_trade(trade(10), 10, now, &mut push(&mut out));
        sequence.on_trade(trade(15), 15, now, &mut push(&mut out));
        sequence.on_trade(trade(16), 16, now, &mut push(&mut out));
        sequence.backfill = Backfill::InFlight;
        // The list reaches back to 13 only (11 and 12 are older than it), up to 17.
        let listed: Vec<Trade> = (13..=17).map(trade).collect();
        sequence.on_list(&listed, now, &mut push(&mut out));
        assert_eq!(ids(&out), [10, 13, 14, 15, 16, 17]);
        assert_eq!((sequence.lost, sequence.backfilled), (2, 3), "11 and 12 lost; 13, 14, 17 from the list");
        assert!(!sequence.holding() && sequence.backfill == Backfill::Idle);
        sequence.on_trade(trade(18), 18, now, &mut push(&mut out));
        sequence.on_trade(trade(12), 12, now, &mut push(&mut out));
        assert_eq!(ids(&out)[6..], [18, 12]);
        assert_eq!(sequence.late, 1);
    }

    #[test]
    fn trades_beyond_the_list_after_a_new_hole_wait_for_the_next_request() {
        let now = super::super::clock::monotonic();
        let (mut sequence, mut out) = (TradeSequence::default(), Vec::new());
        sequence.on_trade(trade(1), 1, now, &mut push(&mut out));
        sequence.on_trade(trade(3), 3, now, &mut push(&mut out));
        sequence.on_trade(trade(6), 6, now, &mut push(&mut out));
        // Asked when 3 had arrived: the list ends at 3.
        sequence.on_list(&[trade(2), trade(3)], now, &mut push(&mut out));
        assert_eq!(ids(&out), [1, 2, 3]);
        assert!(sequence.holding(), "6 waits: 4 and 5 may be on their way");
        assert_eq!(sequence.backfill, Backfill::Wanted(now));
        sequence.on_list(&(2..=6).map(trade).collect::<Vec<_>>(), now, &mut push(&mut out));
        assert_eq!(ids(&out), [1, 2, 3, 4, 5, 6]);
        assert_eq!(sequence.lost, 0);
    }

    #[test]
    fn held_trades_are_released_after_the_hold_limit() {
        let now = super::super::clock::monotonic();
        let (mut sequence, mut out) = (TradeSequence::default(), Vec::new());
        sequence.on_trade(trade(1), 1, now, &mut push(&mut out));
        sequence.on_trade(trade(4), 4, now, &mut push(&mut out));
        sequence.on_list_failed(now + Duration::from_secs(1));
        sequence.expire(now + Duration::from_secs(1), &mut push(&mut out));
        assert_eq!(ids(&out), [1]);
        sequence.expire(now + HOLD_LIMIT, &mut push(&mut out));
        assert_eq!(ids(&out), [1, 4]);
        assert_eq!((sequence.lost, sequence.backfill), (2, Backfill::Idle));
        sequence.on_trade(trade(5), 5, now, &mut push(&mut out));
        assert_eq!(ids(&out), [1, 4, 5]);
    }
}
