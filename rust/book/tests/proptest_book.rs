//! Property tests: the ladder book equals a reference `BTreeMap` book after every step of a random valid
//! stream (prices near the touch, far outside the window and at the ends of `i64`, so the overflow and
//! re-centering are exercised), never crosses, and a snapshot followed by diffs gives the same book
//! however the snapshot is delivered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use ferrotrade_book::{OrderBook, TakerSide};
use ferrotrade_model::{BookSide, BookUpdate, Level, Price, Quantity, UpdateHeader, flags};
use proptest::prelude::*;

/// The obviously correct book.
#[derive(Default)]
struct Reference {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
}

impl Reference {
    fn set(&mut self, side: BookSide, price: i64, size: i64) {
        let levels = match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        };
        if size == 0 {
            levels.remove(&price);
        } else {
            levels.insert(price, size);
        }
    }

    fn levels(&self, side: BookSide) -> Vec<(i64, i64)> {
        match side {
            BookSide::Bid => self.bids.iter().rev().map(|(&p, &s)| (p, s)).collect(),
            BookSide::Ask => self.asks.iter().map(|(&p, &s)| (p, s)).collect(),
        }
    }
}

fn levels_of(book: &OrderBook, side: BookSide) -> Vec<(i64, i64)> {
    book.depth(side, usize::MAX).map(|level| (level.price.0, level.size.0)).collect()
}

fn assert_same(book: &OrderBook, reference: &Reference) {
    for side in [BookSide::Bid, BookSide::Ask] {
        let expected = reference.levels(side);
        assert_eq!(levels_of(book, side), expected, "{side:?} levels");
        assert_eq!(book.level_count(side), expected.len());
        let best = expected.first().map(|&(price, size)| Level { price: Price(price), size: Quantity(size) });
        assert_eq!(book.best(side), best);
    }
}

/// How far from the anchor a generated price lies.
#[derive(Debug, Clone, Copy)]
enum Distance {
    Near(i64),
    Far(i64),
    Extreme,
}

fn distance() -> impl Strategy<Value = Distance> {
    prop_oneof![
        6 => (0i64..40).prop_map(Distance::Near),
        3 => (0i64..5_000_000).prop_map(Distance::Far),
        1 => Just(Distance::Extreme),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Op {
    /// Set a level `distance` behind the opposite touch (or behind `center` when that side is empty).
    Set {
        bid: bool,
        distance: Distance,
        size: i64,
    },
    /// Delete the `index`-th level (modulo the count) of a side.
    DeleteExisting {
        bid: bool,
        index: usize,
    },
    /// Move the anchor used while a side is empty.
    Shift(i64),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (any::<bool>(), distance(), 0i64..1_000).prop_map(|(bid, distance, size)| Op::Set { bid, distance, size }),
        5 => (any::<bool>(), any::<usize>()).prop_map(|(bid, index)| Op::DeleteExisting { bid, index }),
        1 => (-100_000i64..100_000).prop_map(Op::Shift),
        1 => Just(Op::Clear),
    ]
}

/// A price for `side` that cannot cross the other side of `reference`.
fn valid_price(reference: &Reference, center: i64, bid: bool, distance: Distance) -> i64 {
    if bid {
        let anchor = reference.asks.keys().next().copied().unwrap_or(center);
        match distance {
            Distance::Near(d) | Distance::Far(d) => anchor.saturating_sub(1 + d),
            Distance::Extreme => i64::MIN,
        }
    } else {
        let anchor = reference.bids.keys().next_back().copied().unwrap_or(center);
        match distance {
            Distance::Near(d) | Distance::Far(d) => anchor.saturating_add(1 + d),
            Distance::Extreme => i64::MAX,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_stream_matches_reference_and_never_crosses(
        window in prop_oneof![Just(64usize), Just(256), Just(4096)],
        start in -1_000_000_000i64..1_000_000_000,
        ops in prop::collection::vec(op(), 1..300),
        taker_size in 1i64..5_000,
    ) {
        let mut book = OrderBook::with_window(window);
        let mut reference = Reference::default();
        let mut center = start;
        for op in ops {
            match op {
                Op::Set { bid, distance, size } => {
                    let price = valid_price(&reference, center, bid, distance);
                    // Both sides at an extreme end would lock the book; the stream stays valid instead.
                    let side = if bid { BookSide::Bid } else { BookSide::Ask };
                    let crosses = match side {
                        BookSide::Bid => reference.asks.keys().next().is_some_and(|&ask| price >= ask),
                        BookSide::Ask => reference.bids.keys().next_back().is_some_and(|&b| price <= b),
                    };
                    if !crosses {
                        book.apply_level(side, Price(price), Quantity(size)).unwrap();
                        reference.set(side, price, size);
                    }
                }
                Op::DeleteExisting { bid, index } => {
                    let side = if bid { BookSide::Bid } else { BookSide::Ask };
                    let levels = reference.levels(side);
                    if !levels.is_empty() {
                        let (price, _) = levels[index % levels.len()];
                        book.apply_level(side, Price(price), Quantity::ZERO).unwrap();
                        reference.set(side, price, 0);
                    }
                }
                Op::Shift(delta) => center = center.saturating_add(delta),
                Op::Clear => {
                    book.apply_row(BookSide::Bid, Price(center), Quantity::ZERO, flags::CLEAR).unwrap();
                    reference = Reference::default();
                }
            }
            prop_assert!(!book.is_crossed());
            book.check_integrity().unwrap();
            assert_same(&book, &reference);
        }
        // Queries agree with the reference too.
        let asks = reference.levels(BookSide::Ask);
        let (mut left, mut notional, mut walked) = (taker_size, 0i128, 0);
        for &(price, size) in &asks {
            if left == 0 { break; }
            let take = size.min(left);
            left -= take;
            notional += i128::from(price) * i128::from(take);
            walked += 1;
        }
        let fill = book.fill(TakerSide::Buy, Quantity(taker_size));
        prop_assert_eq!((fill.filled.0, fill.notional, fill.levels), (taker_size - left, notional, walked));
        let volume = |levels: Vec<(i64, i64)>| levels.iter().take(5).map(|&(_, s)| i128::from(s)).sum::<i128>();
        let (bid_volume, ask_volume) = (volume(reference.levels(BookSide::Bid)), volume(asks));
        let expected = (bid_volume + ask_volume != 0)
            .then(|| (bid_volume - ask_volume) as f64 / (bid_volume + ask_volume) as f64);
        prop_assert_eq!(book.imbalance(5), expected);
    }

    #[test]
    fn snapshot_then_diffs_equals_diffs_on_the_snapshot_book(
        noise in prop::collection::vec((any::<bool>(), -500i64..500, 1i64..100), 0..50),
        snapshot_bids in prop::collection::btree_map(-3_000i64..-1, 1i64..100, 0..60),
        snapshot_asks in prop::collection::btree_map(1i64..3_000, 1i64..100, 0..60),
        diffs in prop::collection::vec((any::<bool>(), 1i64..3_000, 0i64..100), 0..200),
    ) {
        let side_of = |bid: bool| if bid { BookSide::Bid } else { BookSide::Ask };
        let to_levels = |levels: &BTreeMap<i64, i64>| -> Vec<Level> {
            levels.iter().map(|(&p, &s)| Level { price: Price(p), size: Quantity(s) }).collect()
        };
        let (bids, asks) = (to_levels(&snapshot_bids), to_levels(&snapshot_asks));
        // Diffs keep bids below 0 and asks above 0, so the stream is valid.
        let diff_rows: Vec<(BookSide, i64, i64)> = diffs
            .iter()
            .map(|&(bid, distance, size)| (side_of(bid), if bid { -distance } else { distance }, size))
            .collect();

        // A: a book with stale levels, replaced by the snapshot message.
        let mut via_snapshot = OrderBook::with_window(128);
        for &(bid, price, size) in &noise {
            via_snapshot.apply_level(side_of(bid), Price(price), Quantity(size)).unwrap();
        }
        let snapshot = BookUpdate { header: UpdateHeader::default(), is_snapshot: true, bids: &bids, asks: &asks };
        via_snapshot.apply_update(&snapshot).unwrap();
        // B: the snapshot's levels applied one by one to an empty book.
        let mut fresh = OrderBook::with_window(128);
        for level in &bids {
            fresh.apply_level(BookSide::Bid, level.price, level.size).unwrap();
        }
        for level in &asks {
            fresh.apply_level(BookSide::Ask, level.price, level.size).unwrap();
        }
        // C: catalog rows, the first flagged CLEAR, on top of the same stale levels.
        let mut via_rows = via_snapshot.clone();
        via_rows.apply_row(BookSide::Bid, Price(-7), Quantity(3), 0).unwrap();
        let rows = bids.iter().map(|l| (BookSide::Bid, l)).chain(asks.iter().map(|l| (BookSide::Ask, l)));
        let mut first = true;
        for (side, level) in rows {
            let row_flags = if first { flags::CLEAR | flags::SNAPSHOT } else { flags::SNAPSHOT };
            via_rows.apply_row(side, level.price, level.size, row_flags).unwrap();
            first = false;
        }
        if first {
            via_rows.clear();
        }
        for &(side, price, size) in &diff_rows {
            for book in [&mut via_snapshot, &mut fresh, &mut via_rows] {
                book.apply_level(side, Price(price), Quantity(size)).unwrap();
            }
        }
        for side in [BookSide::Bid, BookSide::Ask] {
            prop_assert_eq!(levels_of(&via_snapshot, side), levels_of(&fresh, side));
            prop_assert_eq!(levels_of(&via_rows, side), levels_of(&fresh, side));
        }
        for book in [&via_snapshot, &fresh, &via_rows] {
            book.check_integrity().unwrap();
        }
    }
}
