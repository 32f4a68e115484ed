//! The venues' rules for chaining a snapshot and diffs into a book that can be trusted.
//!
//! | rule | venues | first diff after a snapshot with id `S` | then |
//! |---|---|---|---|
//! | [`SyncRule::Contiguous`] | Binance spot, Binance.US, Bybit v5 (where `U == u`) | drop `u <= S`; first kept needs `U <= S + 1 <= u` | `U == previous u + 1` |
//! | [`SyncRule::BinanceFutures`] | Binance USD-M, COIN-M | drop `u < S`; first kept needs `U <= S <= u` | `pu == previous u` |
//! | [`SyncRule::Unsequenced`] | sources without update ids (tardis CSV) | every diff after a snapshot | every diff |
//!
//! Diffs that arrive before their snapshot (a recorder fetches the REST snapshot after subscribing) are
//! buffered and replayed when it arrives; they are emitted with the snapshot's `ts_recv`, because that is
//! when a live engine could first apply them. A diff that breaks the chain is a **gap**: the book becomes
//! unsynced, only this instrument waits for its next snapshot, and nothing is emitted until then — a
//! consumer never sees an unsynced book as if it were good.
//!
//! On Bybit a snapshot always resets the book (the venue's rule). On Binance a snapshot that arrives while
//! synced resets the book only if it is newer than the last applied diff; an older one is ignored.
//!
//! Buffering while unsynced is bounded ([`BookSync::with_buffer_limit`]); the oldest diffs are dropped
//! and counted first. Buffered diffs are the only allocation, and only while unsynced.

use std::collections::VecDeque;

use ferrotrade_model::{BookUpdate, Level, UpdateHeader, Venue};

/// How a venue chains update ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncRule {
    /// `U == previous u + 1` (Binance spot; Bybit, whose diffs have `U == u`).
    Contiguous,
    /// `pu == previous u` (Binance USD-M and COIN-M futures).
    BinanceFutures,
    /// No update ids: every diff after a snapshot applies.
    Unsequenced,
}

impl SyncRule {
    /// The rule of a venue's sequenced depth stream.
    #[must_use]
    pub const fn for_venue(venue: Venue) -> SyncRule {
        match venue {
            Venue::BinanceUsdm | Venue::BinanceCoinm => SyncRule::BinanceFutures,
            Venue::BinanceSpot | Venue::BinanceUs | Venue::BybitSpot | Venue::BybitLinear | Venue::BybitInverse => {
                SyncRule::Contiguous
            }
        }
    }
}

/// Counters of one book's sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Snapshots applied (books reset).
    pub snapshots: u64,
    /// Snapshots ignored because they were older than the synced book.
    pub snapshots_ignored: u64,
    /// Diffs applied.
    pub diffs_applied: u64,
    /// Diffs dropped because the snapshot already contained them.
    pub stale_dropped: u64,
    /// Breaks in the update-id chain (each unsyncs the book until the next snapshot).
    pub gaps: u64,
    /// Diffs that arrived while unsynced and could never be applied (buffer overflow or end of stream).
    pub unsynced_dropped: u64,
}

#[derive(Debug)]
struct OwnedUpdate {
    header: UpdateHeader,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl OwnedUpdate {
    fn borrow(&self) -> BookUpdate<'_> {
        BookUpdate { header: self.header, is_snapshot: false, bids: &self.bids, asks: &self.asks }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No usable snapshot: diffs are buffered.
    Unsynced,
    /// A snapshot with this id was applied; the next diff must bracket it.
    AfterSnapshot(u64),
    /// Diffs chain; this is the last applied id.
    Synced(u64),
}

/// The sync state machine of one instrument's book.
#[derive(Debug)]
pub struct BookSync {
    rule: SyncRule,
    resets_on_snapshot: bool,
    state: State,
    buffer: VecDeque<OwnedUpdate>,
    buffer_limit: usize,
    stats: SyncStats,
}

impl BookSync {
    /// The sync of a venue's book (its rule; Bybit resets on every snapshot), buffering at most 100 000
    /// diffs while unsynced.
    #[must_use]
    pub fn for_venue(venue: Venue) -> BookSync {
        let mut sync = BookSync::new(SyncRule::for_venue(venue));
        sync.resets_on_snapshot = !venue.is_binance();
        sync
    }

    /// A book with `rule`, waiting for its first snapshot, buffering at most 100 000 diffs meanwhile.
    #[must_use]
    pub fn new(rule: SyncRule) -> BookSync {
        BookSync::with_buffer_limit(rule, 100_000)
    }

    /// As [`BookSync::new`], buffering at most `limit` diffs while unsynced.
    #[must_use]
    pub fn with_buffer_limit(rule: SyncRule, limit: usize) -> BookSync {
        BookSync {
            rule,
            resets_on_snapshot: rule == SyncRule::Unsequenced,
            state: State::Unsynced,
            buffer: VecDeque::new(),
            buffer_limit: limit.max(1),
            stats: SyncStats::default(),
        }
    }

    /// The rule.
    #[must_use]
    pub fn rule(&self) -> SyncRule {
        self.rule
    }

    /// Whether the book is synced (a snapshot applied and no gap since).
    #[must_use]
    pub fn is_synced(&self) -> bool {
        self.state != State::Unsynced
    }

    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> SyncStats {
        self.stats
    }

    /// Feeds one snapshot or diff; every update that is good to apply is passed to `emit`, in order.
    ///
    /// # Errors
    /// Whatever `emit` returns; the state machine stays consistent (the failed update counts as applied).
    pub fn on_update<E>(
        &mut self,
        update: &BookUpdate<'_>,
        emit: &mut dyn FnMut(&BookUpdate<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        if update.is_snapshot {
            return self.on_snapshot(update, emit);
        }
        match self.classify(&update.header) {
            Verdict::Apply => self.apply(update, emit),
            Verdict::Stale => {
                self.stats.stale_dropped += 1;
                Ok(())
            }
            Verdict::Gap => {
                self.stats.gaps += 1;
                self.state = State::Unsynced;
                self.buffer_diff(update);
                Ok(())
            }
            Verdict::Buffer => {
                self.buffer_diff(update);
                Ok(())
            }
        }
    }

    /// Ends the stream: diffs still buffered are counted as never applied.
    pub fn finish(&mut self) {
        self.stats.unsynced_dropped += self.buffer.len() as u64;
        self.buffer.clear();
    }

    fn classify(&self, header: &UpdateHeader) -> Verdict {
        match self.state {
            State::Unsynced => Verdict::Buffer,
            State::AfterSnapshot(id) => {
                if self.is_stale(id, header) {
                    Verdict::Stale
                } else if self.brackets(id, header) {
                    Verdict::Apply
                } else {
                    Verdict::Gap
                }
            }
            State::Synced(last) => {
                if self.chains(last, header) {
                    Verdict::Apply
                } else if self.rule != SyncRule::Unsequenced && header.sequence <= last {
                    // A duplicate or an older diff: the book already holds it.
                    Verdict::Stale
                } else {
                    Verdict::Gap
                }
            }
        }
    }

    fn on_snapshot<E>(
        &mut self,
        snapshot: &BookUpdate<'_>,
        emit: &mut dyn FnMut(&BookUpdate<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let id = snapshot.header.sequence;
        let current = match self.state {
            State::Unsynced => None,
            State::AfterSnapshot(last) | State::Synced(last) => Some(last),
        };
        if !self.resets_on_snapshot && current.is_some_and(|last| id <= last) {
            self.stats.snapshots_ignored += 1;
            return Ok(());
        }
        self.stats.snapshots += 1;
        self.state = State::AfterSnapshot(id);
        emit(snapshot)?;
        let ts_recv = snapshot.header.ts_recv;
        for pending in std::mem::take(&mut self.buffer) {
            match self.classify(&pending.header) {
                Verdict::Apply => {
                    let mut replay = pending.borrow();
                    replay.header.ts_recv = replay.header.ts_recv.max(ts_recv);
                    self.apply(&replay, emit)?;
                }
                Verdict::Stale => self.stats.stale_dropped += 1,
                Verdict::Gap => {
                    self.stats.gaps += 1;
                    self.state = State::Unsynced;
                    self.buffer_diff(&pending.borrow());
                }
                Verdict::Buffer => self.buffer_diff(&pending.borrow()),
            }
        }
        Ok(())
    }

    fn apply<E>(
        &mut self,
        update: &BookUpdate<'_>,
        emit: &mut dyn FnMut(&BookUpdate<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.state = State::Synced(update.header.sequence);
        self.stats.diffs_applied += 1;
        emit(update)
    }

    fn buffer_diff(&mut self, update: &BookUpdate<'_>) {
        if self.buffer.len() == self.buffer_limit {
            self.buffer.pop_front();
            self.stats.unsynced_dropped += 1;
        }
        self.buffer.push_back(OwnedUpdate {
            header: update.header,
            bids: update.bids.to_vec(),
            asks: update.asks.to_vec(),
        });
    }

    /// Whether a diff is already contained in snapshot `id`.
    fn is_stale(&self, id: u64, header: &UpdateHeader) -> bool {
        match self.rule {
            SyncRule::Contiguous => header.sequence <= id,
            SyncRule::BinanceFutures => header.sequence < id,
            SyncRule::Unsequenced => false,
        }
    }

    /// Whether the first diff after snapshot `id` continues it.
    fn brackets(&self, id: u64, header: &UpdateHeader) -> bool {
        match self.rule {
            SyncRule::Contiguous => header.first_sequence <= id + 1 && id < header.sequence,
            SyncRule::BinanceFutures => header.first_sequence <= id && id <= header.sequence,
            SyncRule::Unsequenced => true,
        }
    }

    /// Whether a diff continues the chain whose last applied id is `last`.
    fn chains(&self, last: u64, header: &UpdateHeader) -> bool {
        match self.rule {
            SyncRule::Contiguous => header.first_sequence == last + 1,
            SyncRule::BinanceFutures => header.prev_sequence == last,
            SyncRule::Unsequenced => true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Apply,
    Stale,
    Gap,
    Buffer,
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::{Price, Quantity, UnixNanos};

    use super::*;

    fn header(first: u64, last: u64, prev: u64, ts: u64) -> UpdateHeader {
        UpdateHeader {
            ts_event: UnixNanos(ts),
            ts_recv: UnixNanos(ts),
            first_sequence: first,
            sequence: last,
            prev_sequence: prev,
        }
    }

    const LEVEL: [Level; 1] = [Level { price: Price(100), size: Quantity(1) }];

    fn diff(first: u64, last: u64, prev: u64, ts: u64) -> BookUpdate<'static> {
        BookUpdate { header: header(first, last, prev, ts), is_snapshot: false, bids: &LEVEL, asks: &[] }
    }

    fn snapshot(id: u64, ts: u64) -> BookUpdate<'static> {
        BookUpdate { header: header(id, id, 0, ts), is_snapshot: true, bids: &LEVEL, asks: &[] }
    }

    /// Runs updates through a sync and returns (emitted (first, last, ts_recv), stats).
    fn run(sync: &mut BookSync, updates: &[BookUpdate<'_>]) -> Vec<(u64, u64, u64)> {
        let mut out = Vec::new();
        for update in updates {
            sync.on_update::<()>(update, &mut |u| {
                out.push((u.header.first_sequence, u.header.sequence, u.header.ts_recv.0));
                Ok(())
            })
            .unwrap();
        }
        sync.finish();
        out
    }

    #[test]
    fn spot_buffers_until_snapshot_then_drops_stale_and_chains() {
        // The shape of hftbacktest's spot capture: diffs, then the REST snapshot (id 218) among them.
        let mut sync = BookSync::for_venue(Venue::BinanceSpot);
        let out = run(
            &mut sync,
            &[diff(189, 202, 0, 1), diff(203, 207, 0, 2), diff(208, 224, 0, 3), snapshot(218, 4), diff(225, 230, 0, 5)],
        );
        assert_eq!(out, vec![(218, 218, 4), (208, 224, 4), (225, 230, 5)]);
        let stats = sync.stats();
        assert_eq!((stats.snapshots, stats.stale_dropped, stats.diffs_applied, stats.gaps), (1, 2, 2, 0));
        assert!(sync.is_synced());
    }

    #[test]
    fn futures_rule_uses_pu_and_brackets_inclusively() {
        let mut sync = BookSync::for_venue(Venue::BinanceUsdm);
        let out =
            run(&mut sync, &[snapshot(100, 1), diff(90, 99, 80, 2), diff(95, 100, 99, 3), diff(101, 105, 100, 4)]);
        assert_eq!(out, vec![(100, 100, 1), (95, 100, 3), (101, 105, 4)]);
        assert_eq!(sync.stats().stale_dropped, 1);
    }

    #[test]
    fn a_gap_unsyncs_until_the_next_snapshot() {
        let mut sync = BookSync::for_venue(Venue::BinanceUsdm);
        let out = run(
            &mut sync,
            &[
                snapshot(100, 1),
                diff(100, 105, 99, 2),
                diff(110, 115, 108, 3),
                diff(116, 120, 115, 4),
                snapshot(118, 5),
                diff(121, 125, 120, 6),
            ],
        );
        // 110..115 breaks the chain (pu 108 != 105); 116..120 waits; snapshot 118 makes 116..120 applicable.
        assert_eq!(out, vec![(100, 100, 1), (100, 105, 2), (118, 118, 5), (116, 120, 5), (121, 125, 6)]);
        let stats = sync.stats();
        assert_eq!((stats.gaps, stats.stale_dropped, stats.snapshots), (1, 1, 2));
    }

    #[test]
    fn snapshot_not_bracketed_by_the_next_diff_is_a_gap() {
        let mut sync = BookSync::for_venue(Venue::BinanceSpot);
        let out = run(&mut sync, &[snapshot(100, 1), diff(150, 160, 0, 2), diff(161, 170, 0, 3)]);
        assert_eq!(out, vec![(100, 100, 1)]);
        let stats = sync.stats();
        assert_eq!((stats.gaps, stats.unsynced_dropped), (1, 2));
        assert!(!sync.is_synced());
    }

    #[test]
    fn bybit_resets_on_every_snapshot_and_needs_u_plus_one() {
        let mut sync = BookSync::for_venue(Venue::BybitLinear);
        let bybit = |u: u64, ts: u64| diff(u, u, 0, ts);
        let out =
            run(&mut sync, &[snapshot(10, 1), bybit(11, 2), bybit(12, 3), snapshot(5, 4), bybit(6, 5), bybit(8, 6)]);
        assert_eq!(out, vec![(10, 10, 1), (11, 11, 2), (12, 12, 3), (5, 5, 4), (6, 6, 5)]);
        assert_eq!(sync.stats().gaps, 1);
    }

    #[test]
    fn binance_ignores_an_older_snapshot_while_synced() {
        let mut sync = BookSync::for_venue(Venue::BinanceUsdm);
        let out = run(&mut sync, &[snapshot(100, 1), diff(99, 105, 98, 2), snapshot(103, 3), diff(106, 110, 105, 4)]);
        assert_eq!(out, vec![(100, 100, 1), (99, 105, 2), (106, 110, 4)]);
        assert_eq!(sync.stats().snapshots_ignored, 1);
    }

    #[test]
    fn buffer_is_bounded() {
        let mut sync = BookSync::with_buffer_limit(SyncRule::Contiguous, 2);
        let out = run(&mut sync, &[diff(1, 1, 0, 1), diff(2, 2, 0, 2), diff(3, 3, 0, 3), snapshot(2, 4)]);
        assert_eq!(out, vec![(2, 2, 4), (3, 3, 4)]);
        let stats = sync.stats();
        assert_eq!((stats.unsynced_dropped, stats.stale_dropped), (1, 1));
    }
}
