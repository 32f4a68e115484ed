//! Prints the cost of the feature library per market event on a real stream: the six minutes of Binance
//! USD-M BTCUSDT depth and trades of the test catalog, looped, through an order book alone and through the
//! book plus a 16-feature set on the book clock (every book message is a sample). The difference is what
//! a model-signal strategy adds per event before its prediction.
//!
//! `cargo run --release -p ferrotrade-features --example update_cost [loops]` (`benchmarks/inference.py`
//! runs it).

use std::time::Instant;

use ferrotrade_book::OrderBook;
use ferrotrade_catalog::{Catalog, EventStream, StreamSpec, TableKind};
use ferrotrade_features::batch::trade_of;
use ferrotrade_features::{Clock, FeatureConfig, FeatureSet};
use ferrotrade_model::{EventRow, InstrumentIndex, RowKind, Venue, flags};

const FEATURES: [&str; 16] = [
    "return_10",
    "sma_20",
    "ema_20",
    "wma_20",
    "rsi_14",
    "macd_12_26_9",
    "stoch_d_14_3",
    "atr_14",
    "bb_pctb_20_2",
    "obv_50",
    "vwap_50",
    "realized_vol_50",
    "trade_imbalance_50",
    "book_imbalance_5",
    "microprice_bps",
    "spread_bps",
];

fn rows() -> Vec<EventRow> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/catalog");
    let catalog = Catalog::open(root.as_ref()).expect("the test catalog");
    let specs: Vec<StreamSpec> = [TableKind::Book, TableKind::Trades]
        .into_iter()
        .map(|kind| StreamSpec {
            kind,
            venue: Venue::BinanceUsdm,
            symbol: "BTCUSDT".into(),
            instrument: InstrumentIndex(0),
            start: None,
            end: None,
        })
        .collect();
    let stream = EventStream::open(&catalog, &specs, 1 << 16).expect("stream");
    let mut rows = Vec::new();
    for chunk in stream {
        rows.extend_from_slice(&chunk.expect("chunk").rows);
    }
    rows
}

/// Replays `rows` `loops` times; with `set`, feeds it as the engine feeds a strategy. Returns seconds.
fn replay(rows: &[EventRow], loops: usize, mut set: Option<&mut FeatureSet>) -> (f64, u64) {
    let mut samples = 0_u64;
    let mut checksum = 0.0;
    #[allow(clippy::disallowed_methods, reason = "a benchmark measures wall-clock time")]
    let started = Instant::now();
    for _ in 0..loops {
        let mut book = OrderBook::new();
        for row in rows {
            match row.kind {
                RowKind::Book => {
                    book.apply_row(row.book_side(), row.price, row.size, row.flags).expect("row");
                    if row.flags & flags::LAST != 0
                        && !book.is_crossed()
                        && let Some(set) = set.as_deref_mut()
                    {
                        set.on_book(row.ts_recv, &book, &mut |sample| {
                            samples += 1;
                            checksum += sample.values[0];
                        });
                    }
                }
                RowKind::Trade => {
                    if let Some(set) = set.as_deref_mut() {
                        set.on_trade(&trade_of(row), &mut |sample| checksum += sample.values[0]);
                    }
                }
                _ => {}
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    std::hint::black_box(checksum);
    (seconds, samples)
}

fn main() {
    let loops: usize = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(20);
    let rows = rows();
    let events = rows.len() as f64 * loops as f64;
    let config =
        FeatureConfig { clock: Clock::Book, features: FEATURES.iter().map(|name| (*name).to_owned()).collect() };
    // The stream's time runs backwards at each loop: a new set per pass keeps the clock honest.
    let (book_only, _) = replay(&rows, loops, None);
    let mut total = 0.0;
    let mut samples = 0;
    for _ in 0..loops {
        let mut set = FeatureSet::new(&config, 1, 3).expect("features");
        let (seconds, count) = replay(&rows, 1, Some(&mut set));
        total += seconds;
        samples += count;
    }
    let per_event = (total - book_only) / events * 1e9;
    println!("rows {} x {loops} loops, {samples} samples (book messages)", rows.len());
    println!("book only: {:.1} ns/event", book_only / events * 1e9);
    println!("book + 16 features: {:.1} ns/event", total / events * 1e9);
    println!("features: {per_event:.1} ns/event, {:.1} ns/sample", (total - book_only) / samples as f64 * 1e9);
}
