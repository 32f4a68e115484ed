//! L2 (market-by-price) order book keyed by fixed-point price mantissas.
//!
//! [`OrderBook`] applies level updates (single levels, venue snapshots and diffs, catalog rows) and answers
//! the queries strategies, features, risk and the simulator need: best levels, spread, mid, depth,
//! imbalance, and the fill a taker of a given size would get.
//!
//! # Design
//! Each side is a *dense ladder*: a `Vec<i64>` of sizes indexed by `price - base` (one slot per price
//! mantissa unit) over a window of `W` slots placed around the touch, plus a bitmap of non-empty slots.
//! Levels outside the window (Binance diffs touch levels 5% away; snapshots hold 1000 levels) live in an
//! ordered sparse overflow (`BTreeMap`). The window always holds the best level: a new touch outside it,
//! or an emptied window with overflow levels left, *re-centers* the window (the touch lands a quarter
//! window from the improving edge) and moves levels between window and overflow. The common update — a
//! level near the touch — is an array store, a bit flip and a compare.
//! [`OrderBook::apply_update`] first prefetches the slots of all of a message's levels, then applies them:
//! on a live feed the ladder is cold when a diff arrives, and the misses then overlap.
//!
//! # Cost of each operation (`W` = window slots, `k` = overflow levels)
//! | operation | cost |
//! |---|---|
//! | [`OrderBook::apply_level`] / [`OrderBook::apply_row`], price inside the window | `O(1)` |
//! | same, deleting the best level | `O(gap / 64)`: bitmap scan to the next level |
//! | same, price outside the window (not a new touch) | `O(log k)` |
//! | re-center (new touch outside the window, or the window emptied) | `O(W / 64 + moved x log k)`, rare |
//! | [`OrderBook::apply_update`] | the sum of its levels; a snapshot adds a [`OrderBook::clear`] |
//! | [`OrderBook::clear`] | `O(W / 64 + levels)` |
//! | [`OrderBook::best_bid`], [`OrderBook::best_ask`], [`OrderBook::spread`], [`OrderBook::mid_x2`], [`OrderBook::level_count`], [`OrderBook::is_crossed`] | `O(1)` |
//! | [`OrderBook::depth`] (`n` levels), [`OrderBook::imbalance`] | `O(n + gaps / 64)` |
//! | [`OrderBook::fill`] | `O(levels walked + gaps / 64)` |
//! | [`OrderBook::check_integrity`] | `O(W + k)`: tests and debugging only |
//!
//! # Memory
//! Per book: `2 x (8 W + W / 8)` bytes for the windows (the default `W = 2^17` reserves 2.03 MiB, which
//! the allocator maps lazily, so only the touched range costs physical memory) plus about 40 bytes per
//! overflow level. Choose a smaller window with [`OrderBook::with_window`] for books of many instruments;
//! [`OrderBook::make_resident`] maps the whole window at once, for a book on a latency path (the live
//! engine's), so no update faults a page in.
//!
//! # Invariants
//! After every call (an update is validated in full before any of it applies, so a rejected one leaves the
//! book unchanged): no level has a negative size, the level counts equal the levels held, and the tracked
//! best of each side is its real best. The book does *not* refuse a crossed state — a venue stream can
//! cross briefly inside a message — it reports it through [`OrderBook::is_crossed`] and
//! [`OrderBook::check_integrity`].
//!
//! # Example
//! ```
//! use ferrotrade_book::{OrderBook, TakerSide};
//! use ferrotrade_model::{BookSide, Price, Quantity};
//!
//! // BTCUSDT with price precision 1 (tick 0.1) and size precision 3.
//! let mut book = OrderBook::new();
//! book.apply_level(BookSide::Bid, Price(618_002), Quantity(2_507)).unwrap(); // 61800.2 x 2.507
//! book.apply_level(BookSide::Ask, Price(618_003), Quantity(3_330)).unwrap();
//! book.apply_level(BookSide::Ask, Price(618_010), Quantity(1_000)).unwrap();
//! assert_eq!(book.spread(), Some(Price(1)));
//! let fill = book.fill(TakerSide::Buy, Quantity(4_000));
//! assert_eq!((fill.filled, fill.levels), (Quantity(4_000), 2));
//! assert_eq!(fill.notional, 618_003 * 3_330 + 618_010 * 670);
//! book.apply_level(BookSide::Ask, Price(618_003), Quantity(0)).unwrap(); // size 0 deletes
//! assert_eq!(book.best_ask().unwrap().price, Price(618_010));
//! assert!(book.check_integrity().is_ok());
//! ```
#![deny(missing_docs)]

mod book;
mod error;
mod ladder;
mod queries;

pub use book::OrderBook;
pub use error::BookError;
pub use queries::{Depth, Fill, TakerSide};
