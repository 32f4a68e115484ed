//! Read-only queries that walk the depth: [`OrderBook::depth`], [`OrderBook::imbalance`] and
//! [`OrderBook::fill`] (what a taker of a given size would pay).

use ferrotrade_model::{BookSide, Level, Price, Quantity, pow10};

use crate::book::OrderBook;
use crate::ladder::Levels;

/// Side of a taker order: a buyer takes the asks, a seller the bids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TakerSide {
    /// Buys from the asks.
    Buy,
    /// Sells into the bids.
    Sell,
}

/// What a taker order of `requested` size would get by walking the book (no fees, no slippage model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fill {
    /// The size asked for.
    pub requested: Quantity,
    /// The size the book could fill (less than `requested` when the book is too thin).
    pub filled: Quantity,
    /// Exact `sum(price x size)` over the levels taken, at `price_precision + size_precision` decimals.
    pub notional: i128,
    /// Number of levels touched (the last one possibly in part).
    pub levels: usize,
}

impl Fill {
    /// Whether the whole requested size was filled.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.filled >= self.requested
    }

    /// Volume-weighted average price at `price_precision` decimals as an `f64` (a report figure), or
    /// `None` when nothing was filled.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn average_price_f64(&self, price_precision: u8) -> Option<f64> {
        if self.filled.0 <= 0 {
            return None;
        }
        // notional / filled is the price mantissa: the size scale cancels out.
        let scale = pow10(price_precision)? as f64;
        Some(self.notional as f64 / self.filled.0 as f64 / scale)
    }
}

/// Best-first iterator over one side's levels, from [`OrderBook::depth`].
#[derive(Debug, Clone)]
pub struct Depth<'a> {
    inner: DepthInner<'a>,
    remaining: usize,
}

#[derive(Debug, Clone)]
enum DepthInner<'a> {
    Bids(Levels<'a, true>),
    Asks(Levels<'a, false>),
}

impl Iterator for Depth<'_> {
    type Item = Level;

    #[inline]
    fn next(&mut self) -> Option<Level> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let (price, size) = match &mut self.inner {
            DepthInner::Bids(levels) => levels.next()?,
            DepthInner::Asks(levels) => levels.next()?,
        };
        Some(Level { price: Price(price), size: Quantity(size) })
    }
}

impl OrderBook {
    /// The best `n` levels of `side`, best first. Each step is `O(1)` amortized inside the window (a
    /// bitmap skips 64 empty slots per word) and `O(1)` amortized in the overflow.
    #[must_use]
    pub fn depth(&self, side: BookSide, n: usize) -> Depth<'_> {
        let inner = match side {
            BookSide::Bid => DepthInner::Bids(self.bids.levels()),
            BookSide::Ask => DepthInner::Asks(self.asks.levels()),
        };
        Depth { inner, remaining: n }
    }

    /// Order-flow imbalance of the top `n` levels: `(bid volume - ask volume) / (bid volume + ask volume)`
    /// in `[-1, 1]`; `None` when both sides are empty. `O(n)`.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn imbalance(&self, n: usize) -> Option<f64> {
        let volume = |side| self.depth(side, n).map(|level| i128::from(level.size.0)).sum::<i128>();
        let bids = volume(BookSide::Bid);
        let asks = volume(BookSide::Ask);
        let total = bids + asks;
        if total == 0 {
            return None;
        }
        Some((bids - asks) as f64 / total as f64)
    }

    /// Walks the opposite side for a taker order of `size`: the levels it would take, the size filled and
    /// the exact notional. `O(levels walked)`.
    #[must_use]
    pub fn fill(&self, taker: TakerSide, size: Quantity) -> Fill {
        let side = match taker {
            TakerSide::Buy => BookSide::Ask,
            TakerSide::Sell => BookSide::Bid,
        };
        let mut fill = Fill { requested: size, filled: Quantity::ZERO, notional: 0, levels: 0 };
        if size.0 <= 0 {
            return fill;
        }
        for level in self.depth(side, usize::MAX) {
            let take = level.size.0.min(size.0 - fill.filled.0);
            fill.filled.0 += take;
            fill.notional += level.price.notional(Quantity(take));
            fill.levels += 1;
            if fill.filled.0 >= size.0 {
                break;
            }
        }
        fill
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> OrderBook {
        let mut book = OrderBook::with_window(64);
        for (price, size) in [(100, 1), (99, 2), (10, 4)] {
            book.apply_level(BookSide::Bid, Price(price), Quantity(size)).unwrap();
        }
        for (price, size) in [(101, 3), (102, 1), (500, 5)] {
            book.apply_level(BookSide::Ask, Price(price), Quantity(size)).unwrap();
        }
        book
    }

    #[test]
    fn depth_is_best_first_across_window_and_overflow() {
        let book = book();
        let bids: Vec<_> = book.depth(BookSide::Bid, 10).map(|l| (l.price.0, l.size.0)).collect();
        assert_eq!(bids, [(100, 1), (99, 2), (10, 4)]);
        let asks: Vec<_> = book.depth(BookSide::Ask, 2).map(|l| (l.price.0, l.size.0)).collect();
        assert_eq!(asks, [(101, 3), (102, 1)]);
        assert_eq!(book.depth(BookSide::Ask, 0).count(), 0);
        assert_eq!(OrderBook::with_window(64).depth(BookSide::Bid, 5).count(), 0);
    }

    #[test]
    fn imbalance_over_top_levels() {
        let book = book();
        assert_eq!(book.imbalance(1), Some((1.0 - 3.0) / 4.0));
        assert_eq!(book.imbalance(3), Some((7.0 - 9.0) / 16.0));
        assert_eq!(OrderBook::new().imbalance(5), None);
    }

    #[test]
    fn fill_walks_levels_with_exact_notional() {
        let book = book();
        let fill = book.fill(TakerSide::Buy, Quantity(4));
        assert_eq!(fill, Fill { requested: Quantity(4), filled: Quantity(4), notional: 3 * 101 + 102, levels: 2 });
        assert!(fill.is_complete());
        // (3 x 101 + 102) / 4 = 101.25 mantissa units, at one decimal 10.125.
        assert_eq!(fill.average_price_f64(1), Some(10.125));
        let thin = book.fill(TakerSide::Sell, Quantity(100));
        assert_eq!((thin.filled, thin.levels, thin.notional), (Quantity(7), 3, 100 + 198 + 40));
        assert!(!thin.is_complete());
        assert_eq!(book.fill(TakerSide::Sell, Quantity(0)).average_price_f64(1), None);
    }
}
