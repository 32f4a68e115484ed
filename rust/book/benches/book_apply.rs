//! Level-update throughput of [`OrderBook`] against a plain sorted-`Vec` book.
//!
//! Two streams, reported per level update (criterion's throughput is set to the number of rows):
//! - `real`: the Binance USD-M BTCUSDT extract in `tests/data/book` (REST snapshot flagged CLEAR, then the
//!   depthUpdate diffs), flattened into rows and replayed as a loop;
//! - `walk`: a seeded random walk of the touch with updates spread geometrically behind it, 15% deletes.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrotrade_book::OrderBook;
use ferrotrade_model::{BookSide, Decimal, Price, Quantity, flags};
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

const CAPTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/book/usdm_btcusdt_head.jsonl");

#[derive(Clone, Copy)]
struct Row {
    side: BookSide,
    price: i64,
    size: i64,
    flags: u8,
}

fn fixed(value: &Value, precision: u8) -> i64 {
    Decimal::parse_str(value.as_str().unwrap()).unwrap().to_fixed(precision).unwrap()
}

fn push_levels(rows: &mut Vec<Row>, side: BookSide, levels: &Value, first_flags: u8) {
    for (index, pair) in levels.as_array().unwrap().iter().enumerate() {
        let flags = if index == 0 { first_flags } else { 0 };
        rows.push(Row { side, price: fixed(&pair[0], 1), size: fixed(&pair[1], 3), flags });
    }
}

/// Snapshot rows (the first flagged CLEAR) followed by every diff's rows.
fn real_rows() -> Vec<Row> {
    let text = std::fs::read_to_string(CAPTURE).unwrap();
    let mut rows = Vec::new();
    for line in text.lines() {
        let message: Value = sonic_rs::from_str(line).unwrap();
        if message.get("lastUpdateId").is_some() {
            push_levels(&mut rows, BookSide::Bid, &message["bids"], flags::CLEAR | flags::SNAPSHOT);
            push_levels(&mut rows, BookSide::Ask, &message["asks"], flags::SNAPSHOT);
        } else if message["data"]["e"].as_str() == Some("depthUpdate") {
            push_levels(&mut rows, BookSide::Bid, &message["data"]["b"], 0);
            push_levels(&mut rows, BookSide::Ask, &message["data"]["a"], 0);
        }
    }
    rows
}

/// A random walk of the touch around 618000 (BTC at precision 1) with updates 0–~200 ticks behind it.
fn walk_rows(count: usize) -> Vec<Row> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut mid: i64 = 618_000;
    (0..count)
        .map(|_| {
            let roll = next();
            if roll % 16 == 0 {
                mid += if roll & 32 == 0 { 1 } else { -1 };
            }
            let side = if roll & 64 == 0 { BookSide::Bid } else { BookSide::Ask };
            // Geometric-ish distance: most updates near the touch, a tail to ~200 ticks.
            let distance = i64::from((roll >> 8).trailing_zeros().min(8)) * 24 + ((roll >> 16) % 24) as i64;
            let price = match side {
                BookSide::Bid => mid - 1 - distance,
                BookSide::Ask => mid + 1 + distance,
            };
            let size = if (roll >> 40) % 100 < 15 { 0 } else { ((roll >> 48) % 5_000) as i64 + 1 };
            Row { side, price, size, flags: 0 }
        })
        .collect()
}

/// The baseline: each side a `Vec<(price, size)>` sorted best-first, binary search per update.
#[derive(Default)]
struct SortedVecBook {
    bids: Vec<(i64, i64)>,
    asks: Vec<(i64, i64)>,
}

impl SortedVecBook {
    fn apply(&mut self, row: Row) {
        if row.flags & flags::CLEAR != 0 {
            self.bids.clear();
            self.asks.clear();
        }
        let (levels, key) = match row.side {
            BookSide::Bid => (&mut self.bids, -row.price),
            BookSide::Ask => (&mut self.asks, row.price),
        };
        let found =
            levels.binary_search_by_key(&key, |&(price, _)| if row.side == BookSide::Bid { -price } else { price });
        match (found, row.size) {
            (Ok(index), 0) => {
                levels.remove(index);
            }
            (Ok(index), size) => levels[index].1 = size,
            (Err(_), 0) => {}
            (Err(index), size) => levels.insert(index, (row.price, size)),
        }
    }
}

fn bench_stream(c: &mut Criterion, name: &str, rows: &[Row]) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(rows.len() as u64));
    group.bench_function("ladder", |b| {
        let mut book = OrderBook::new();
        b.iter(|| {
            for row in rows {
                book.apply_row(row.side, Price(row.price), Quantity(row.size), row.flags).unwrap();
            }
            black_box(book.best_bid())
        });
    });
    group.bench_function("sorted_vec", |b| {
        let mut book = SortedVecBook::default();
        b.iter(|| {
            for row in rows {
                book.apply(*row);
            }
            black_box(book.bids.first().copied())
        });
    });
    group.finish();
}

fn book_apply(c: &mut Criterion) {
    let real = real_rows();
    bench_stream(c, "real_usdm_btcusdt", &real);
    let walk = walk_rows(1 << 16);
    bench_stream(c, "random_walk", &walk);
}

criterion_group!(benches, book_apply);
criterion_main!(benches);
