//! [`OrderBook`]: two [`Ladder`] sides and the ways to update them (single levels, venue messages,
//! catalog rows), plus the integrity check.
//!
//! Every update is validated before anything is applied, so a rejected message leaves the book as it was.

use ferrotrade_model::{BookSide, BookUpdate, Level, Price, Quantity, flags};

use crate::error::BookError;
use crate::ladder::Ladder;

/// An L2 (market-by-price) order book of one instrument, keyed by price mantissa.
///
/// Prices and sizes are the instrument's fixed-point mantissas; the book never needs the precision. One
/// window slot covers one mantissa unit, so the instrument's `price_precision` should be the number of
/// decimals of its tick (BTCUSDT with tick 0.1: precision 1): a coarser tick only leaves slots unused.
///
/// See the crate docs for the cost of each operation and the memory bound.
#[derive(Debug, Clone)]
pub struct OrderBook {
    pub(crate) bids: Ladder<true>,
    pub(crate) asks: Ladder<false>,
}

impl Default for OrderBook {
    fn default() -> Self {
        OrderBook::new()
    }
}

impl OrderBook {
    /// Window size per side used by [`OrderBook::new`]: 2^17 slots (1 MiB of sizes per side, mapped lazily).
    pub const DEFAULT_WINDOW: usize = 1 << 17;

    /// An empty book with the default window ([`OrderBook::DEFAULT_WINDOW`] slots per side).
    #[must_use]
    pub fn new() -> Self {
        OrderBook::with_window(OrderBook::DEFAULT_WINDOW)
    }

    /// An empty book whose dense window covers `slots` price mantissas per side. `slots` is rounded up to
    /// a multiple of 64 and clamped to `[64, 2^24]`; each side reserves `slots x 8 + slots / 8` bytes.
    #[must_use]
    pub fn with_window(slots: usize) -> Self {
        OrderBook { bids: Ladder::new(slots), asks: Ladder::new(slots) }
    }

    /// Maps the whole window of both sides into memory now (the levels are unchanged): a book that was
    /// never touched there takes a page fault at its first update in each 4 KiB of prices (512 slots),
    /// which a live engine would pay on the hot path, at the first sync and whenever the market moves
    /// into prices it has not visited (2-4 faults of 8-10 us each per such frame on the 2-core machine).
    /// Costs the window's full memory (see the crate docs) and `O(W)` once.
    pub fn make_resident(&mut self) {
        self.bids.make_resident();
        self.asks.make_resident();
    }

    /// Slots per side of the dense window (after rounding).
    #[must_use]
    pub fn window(&self) -> usize {
        self.bids.slots()
    }

    /// Sets the size of the level at `price` on `side`; size 0 deletes the level (deleting a missing
    /// level is a no-op). Amortized `O(1)`; see the crate docs.
    ///
    /// # Errors
    /// [`BookError::NegativeSize`] for a negative size; the book is unchanged.
    #[inline]
    pub fn apply_level(&mut self, side: BookSide, price: Price, size: Quantity) -> Result<(), BookError> {
        if size.0 < 0 {
            return Err(BookError::NegativeSize { side, price, size });
        }
        match side {
            BookSide::Bid => self.bids.set(price.0, size.0),
            BookSide::Ask => self.asks.set(price.0, size.0),
        }
        Ok(())
    }

    /// Applies one catalog row: with [`flags::CLEAR`] set the book is cleared first (the first row of a
    /// snapshot). Other flags do not change how the row applies.
    ///
    /// # Errors
    /// [`BookError::NegativeSize`] for a negative size; the book is unchanged (not even cleared).
    #[inline]
    pub fn apply_row(&mut self, side: BookSide, price: Price, size: Quantity, row_flags: u8) -> Result<(), BookError> {
        if size.0 < 0 {
            return Err(BookError::NegativeSize { side, price, size });
        }
        if row_flags & flags::CLEAR != 0 {
            self.clear();
        }
        self.apply_level(side, price, size)
    }

    /// Applies a venue message: a snapshot replaces the book, a diff sets or deletes its levels.
    /// `O(levels)` plus the cost of each level.
    ///
    /// # Errors
    /// [`BookError::NegativeSize`] if any level has a negative size; the book is unchanged.
    pub fn apply_update(&mut self, update: &BookUpdate<'_>) -> Result<(), BookError> {
        for (side, levels) in [(BookSide::Bid, update.bids), (BookSide::Ask, update.asks)] {
            if let Some(bad) = levels.iter().find(|level| level.size.0 < 0) {
                return Err(BookError::NegativeSize { side, price: bad.price, size: bad.size });
            }
        }
        if update.is_snapshot {
            self.clear();
            // Placing each window on the snapshot's touch first saves re-centering level by level when the
            // snapshot lists its levels from the far end.
            let live = |level: &&Level| level.size.0 != 0;
            if let Some(best) = update.bids.iter().filter(live).map(|level| level.price.0).max() {
                self.bids.place_window(best);
            }
            if let Some(best) = update.asks.iter().filter(live).map(|level| level.price.0).min() {
                self.asks.place_window(best);
            }
        }
        // A diff's levels are scattered over the window, each on its own cache line, and on a live feed
        // those lines are cold when the message arrives: asking for all of them first lets their misses
        // overlap instead of each store waiting for its own.
        for level in update.bids {
            self.bids.prefetch(level.price.0);
        }
        for level in update.asks {
            self.asks.prefetch(level.price.0);
        }
        for level in update.bids {
            self.bids.set(level.price.0, level.size.0);
        }
        for level in update.asks {
            self.asks.set(level.price.0, level.size.0);
        }
        Ok(())
    }

    /// Removes every level; the windows stay where they are. `O(window / 64 + levels)`.
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    /// The size resting at `price` on `side` (zero when there is no level there).
    #[inline]
    #[must_use]
    pub fn size_at(&self, side: BookSide, price: Price) -> Quantity {
        Quantity(match side {
            BookSide::Bid => self.bids.get(price.0),
            BookSide::Ask => self.asks.get(price.0),
        })
    }

    /// Best bid. `O(1)`.
    #[inline]
    #[must_use]
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best().map(|(price, size)| Level { price: Price(price), size: Quantity(size) })
    }

    /// Best ask. `O(1)`.
    #[inline]
    #[must_use]
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best().map(|(price, size)| Level { price: Price(price), size: Quantity(size) })
    }

    /// Best level of `side`. `O(1)`.
    #[inline]
    #[must_use]
    pub fn best(&self, side: BookSide) -> Option<Level> {
        match side {
            BookSide::Bid => self.best_bid(),
            BookSide::Ask => self.best_ask(),
        }
    }

    /// Best ask minus best bid (negative when crossed), or `None` when a side is empty or the difference
    /// overflows. `O(1)`.
    #[inline]
    #[must_use]
    pub fn spread(&self) -> Option<Price> {
        let (bid, _) = self.bids.best()?;
        let (ask, _) = self.asks.best()?;
        ask.checked_sub(bid).map(Price)
    }

    /// Twice the mid price, `best bid + best ask`, which is exact at the price precision (the mid itself
    /// may fall on half a mantissa unit); `None` when a side is empty or the sum overflows. `O(1)`.
    #[inline]
    #[must_use]
    pub fn mid_x2(&self) -> Option<Price> {
        let (bid, _) = self.bids.best()?;
        let (ask, _) = self.asks.best()?;
        bid.checked_add(ask).map(Price)
    }

    /// Number of levels on `side`. `O(1)`.
    #[inline]
    #[must_use]
    pub fn level_count(&self, side: BookSide) -> usize {
        match side {
            BookSide::Bid => self.bids.len(),
            BookSide::Ask => self.asks.len(),
        }
    }

    /// Whether the best bid is at or above the best ask (crossed or locked). `O(1)`.
    #[inline]
    #[must_use]
    pub fn is_crossed(&self) -> bool {
        match (self.bids.best(), self.asks.best()) {
            (Some((bid, _)), Some((ask, _))) => bid >= ask,
            _ => false,
        }
    }

    /// Checks every invariant: no negative sizes, level counts match the levels held, the tracked best
    /// is really the best, the overflow lies behind each window, and the book is not crossed.
    /// `O(window + levels)`: a test and debugging aid, not for the hot path.
    ///
    /// # Errors
    /// [`BookError::Crossed`] for a crossed or locked book, [`BookError::Inconsistent`] for a broken
    /// internal invariant.
    pub fn check_integrity(&self) -> Result<(), BookError> {
        self.bids.check().map_err(|detail| BookError::Inconsistent { side: BookSide::Bid, detail })?;
        self.asks.check().map_err(|detail| BookError::Inconsistent { side: BookSide::Ask, detail })?;
        if let (Some(bid), Some(ask)) = (self.best_bid(), self.best_ask())
            && bid.price >= ask.price
        {
            return Err(BookError::Crossed { bid: bid.price, ask: ask.price });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotrade_model::UpdateHeader;

    fn level(price: i64, size: i64) -> Level {
        Level { price: Price(price), size: Quantity(size) }
    }

    #[test]
    fn best_levels_follow_inserts_and_deletes() {
        let mut book = OrderBook::with_window(256);
        book.apply_level(BookSide::Bid, Price(100), Quantity(5)).unwrap();
        book.apply_level(BookSide::Bid, Price(98), Quantity(7)).unwrap();
        book.apply_level(BookSide::Ask, Price(103), Quantity(2)).unwrap();
        assert_eq!(book.best_bid(), Some(level(100, 5)));
        assert_eq!(book.spread(), Some(Price(3)));
        assert_eq!(book.mid_x2(), Some(Price(203)));
        book.apply_level(BookSide::Bid, Price(100), Quantity(0)).unwrap();
        assert_eq!(book.best_bid(), Some(level(98, 7)));
        assert_eq!(book.level_count(BookSide::Bid), 1);
        // Deleting a level that is not there changes nothing.
        book.apply_level(BookSide::Ask, Price(150), Quantity(0)).unwrap();
        assert_eq!(book.level_count(BookSide::Ask), 1);
        assert_eq!(book.size_at(BookSide::Bid, Price(98)), Quantity(7));
        assert_eq!(book.size_at(BookSide::Bid, Price(100)), Quantity(0));
        // A far level lives in the overflow and is still found.
        book.apply_level(BookSide::Ask, Price(10_000), Quantity(9)).unwrap();
        assert_eq!(book.size_at(BookSide::Ask, Price(10_000)), Quantity(9));
        assert_eq!(book.size_at(BookSide::Ask, Price(-5)), Quantity(0));
        book.check_integrity().unwrap();
    }

    #[test]
    fn make_resident_maps_the_window_and_keeps_the_levels() {
        let mut book = OrderBook::new();
        book.apply_level(BookSide::Bid, Price(6_180_020), Quantity(14)).unwrap();
        book.apply_level(BookSide::Ask, Price(6_180_030), Quantity(3)).unwrap();
        book.apply_level(BookSide::Ask, Price(9_000_000), Quantity(7)).unwrap();
        let (resident, pages) = book.asks.resident_pages();
        assert!(resident < pages / 2, "a fresh window is mapped lazily ({resident} of {pages} pages)");
        let levels = |book: &OrderBook| {
            (book.depth(BookSide::Bid, 10).collect::<Vec<_>>(), book.depth(BookSide::Ask, 10).collect::<Vec<_>>())
        };
        let before = levels(&book);
        assert_eq!(before.1.len(), 2);
        book.make_resident();
        assert_eq!(book.bids.resident_pages().0, book.bids.resident_pages().1);
        assert_eq!(book.asks.resident_pages().0, pages);
        assert_eq!(levels(&book), before);
        book.check_integrity().unwrap();
    }

    #[test]
    fn negative_size_is_rejected_and_leaves_the_book_alone() {
        let mut book = OrderBook::with_window(64);
        book.apply_level(BookSide::Ask, Price(10), Quantity(1)).unwrap();
        let err = book.apply_row(BookSide::Ask, Price(11), Quantity(-1), flags::CLEAR).unwrap_err();
        assert_eq!(err, BookError::NegativeSize { side: BookSide::Ask, price: Price(11), size: Quantity(-1) });
        assert_eq!(book.best_ask(), Some(level(10, 1)));
        let update = BookUpdate {
            header: UpdateHeader::default(),
            is_snapshot: true,
            bids: &[level(9, 1)],
            asks: &[level(12, -3)],
        };
        assert!(book.apply_update(&update).is_err());
        assert_eq!(book.best_ask(), Some(level(10, 1)));
        assert_eq!(book.level_count(BookSide::Bid), 0);
    }

    #[test]
    fn far_levels_go_to_the_overflow_and_come_back_when_the_touch_moves() {
        let mut book = OrderBook::with_window(64);
        for price in [1_000, 999, 990, 900, 500] {
            book.apply_level(BookSide::Bid, Price(price), Quantity(1)).unwrap();
        }
        book.check_integrity().unwrap();
        assert_eq!(book.level_count(BookSide::Bid), 5);
        for price in [1_000, 999, 990] {
            book.apply_level(BookSide::Bid, Price(price), Quantity(0)).unwrap();
            book.check_integrity().unwrap();
        }
        assert_eq!(book.best_bid(), Some(level(900, 1)));
        book.apply_level(BookSide::Bid, Price(900), Quantity(0)).unwrap();
        assert_eq!(book.best_bid(), Some(level(500, 1)));
        // A new touch far above re-centers upwards and pushes the old levels behind the window.
        book.apply_level(BookSide::Bid, Price(5_000), Quantity(2)).unwrap();
        assert_eq!(book.best_bid(), Some(level(5_000, 2)));
        book.check_integrity().unwrap();
        let asks = [level(7_000, 1), level(5_001, 4)];
        let update = BookUpdate { header: UpdateHeader::default(), is_snapshot: false, bids: &[], asks: &asks };
        book.apply_update(&update).unwrap();
        assert_eq!(book.best_ask(), Some(level(5_001, 4)));
        book.check_integrity().unwrap();
    }

    #[test]
    fn snapshot_replaces_and_clear_row_clears() {
        let mut book = OrderBook::with_window(128);
        book.apply_level(BookSide::Bid, Price(1), Quantity(1)).unwrap();
        let bids = [level(95, 1), level(99, 3), level(20, 1)];
        let asks = [level(400, 1), level(101, 2)];
        let snapshot = BookUpdate { header: UpdateHeader::default(), is_snapshot: true, bids: &bids, asks: &asks };
        book.apply_update(&snapshot).unwrap();
        assert_eq!(book.best_bid(), Some(level(99, 3)));
        assert_eq!(book.best_ask(), Some(level(101, 2)));
        assert_eq!(book.level_count(BookSide::Bid), 3);
        book.check_integrity().unwrap();
        book.apply_row(BookSide::Ask, Price(200), Quantity(9), flags::SNAPSHOT | flags::CLEAR).unwrap();
        assert_eq!(book.best_bid(), None);
        assert_eq!(book.best_ask(), Some(level(200, 9)));
        assert_eq!(book.spread(), None);
    }

    #[test]
    fn crossed_book_is_reported() {
        let mut book = OrderBook::with_window(64);
        book.apply_level(BookSide::Bid, Price(10), Quantity(1)).unwrap();
        book.apply_level(BookSide::Ask, Price(10), Quantity(1)).unwrap();
        assert!(book.is_crossed());
        assert_eq!(book.check_integrity(), Err(BookError::Crossed { bid: Price(10), ask: Price(10) }));
        assert_eq!(book.spread(), Some(Price(0)));
    }

    #[test]
    fn extreme_prices_do_not_overflow() {
        let mut book = OrderBook::with_window(64);
        for price in [i64::MAX, i64::MIN, 0, i64::MAX - 1, i64::MIN + 1] {
            book.apply_level(BookSide::Bid, Price(price), Quantity(1)).unwrap();
            book.apply_level(BookSide::Ask, Price(price), Quantity(1)).unwrap();
            book.bids.check().unwrap();
            book.asks.check().unwrap();
        }
        assert_eq!(book.best_bid().map(|l| l.price), Some(Price(i64::MAX)));
        assert_eq!(book.best_ask().map(|l| l.price), Some(Price(i64::MIN)));
        assert_eq!(book.spread(), None);
        assert_eq!(book.mid_x2(), Some(Price(-1)));
        for price in [i64::MAX, i64::MIN, 0, i64::MAX - 1, i64::MIN + 1] {
            book.apply_level(BookSide::Bid, Price(price), Quantity(0)).unwrap();
            book.apply_level(BookSide::Ask, Price(price), Quantity(0)).unwrap();
            book.bids.check().unwrap();
            book.asks.check().unwrap();
        }
        assert_eq!(book.level_count(BookSide::Bid) + book.level_count(BookSide::Ask), 0);
    }
}
