//! Prints the cost of the feature library per market event on a real stream: the six minutes of Binance
//! USD-M BTCUSDT depth and trades of the test catalog, replayed several times, through an order book alone and through the
//! book plus a 16-feature set on the book clock (every book message is a sample). The difference is what
//! a model-signal strategy adds per event before its prediction.
//!
//! `cargo run --release -p ferrotrade-features --example update_cost [passes]` (`benchmarks/inference.py`
//! runs it).

use std::time::Instant;

use ferrotrade_book::OrderBook;
use ferrotrade_catalog::{Catalog, EventStream, StreamSpec, TableKind};
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

/// Time spent in the feature set itself during one replay, measured around each call.
#[derive(Default)]
struct Direct {
    book_ns: u64,
    book_calls: u64,
    trade_ns: u64,
    trade_calls: u64,
}

/// Replays `rows` once through `book`; with `set`, feeds it as the engine feeds a strategy (and, with
/// `direct`, times each feature call). Returns the seconds taken.
#[allow(clippy::disallowed_methods, reason = "a benchmark measures wall-clock time")]
fn replay(
    rows: &[EventRow],
    book: &mut OrderBook,
    mut set: Option<&mut FeatureSet>,
    mut direct: Option<&mut Direct>,
) -> f64 {
    book.clear();
    let mut checksum = 0.0;
    let started = Instant::now();
    for row in rows {
        match row.kind {
            RowKind::Book => {
                book.apply_row(row.book_side(), row.price, row.size, row.flags).expect("row");
                if row.flags & flags::LAST != 0
                    && !book.is_crossed()
                    && let Some(set) = set.as_deref_mut()
                {
                    let call = direct.is_some().then(Instant::now);
                    set.on_book(row.ts_recv, book, &mut |sample| checksum += sample.values[0]);
                    if let (Some(call), Some(direct)) = (call, direct.as_deref_mut()) {
                        direct.book_ns += u64::try_from(call.elapsed().as_nanos()).unwrap_or(u64::MAX);
                        direct.book_calls += 1;
                    }
                }
            }
            RowKind::Trade => {
                if let Some(set) = set.as_deref_mut() {
                    let call = direct.is_some().then(Instant::now);
                    set.on_trade(&row.trade(), &mut |sample| checksum += sample.values[0]);
                    if let (Some(call), Some(direct)) = (call, direct.as_deref_mut()) {
                        direct.trade_ns += u64::try_from(call.elapsed().as_nanos()).unwrap_or(u64::MAX);
                        direct.trade_calls += 1;
                    }
                }
            }
            _ => {}
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    std::hint::black_box(checksum);
    seconds
}

#[allow(clippy::cast_precision_loss)]
fn main() {
    let repeats: usize = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(7);
    let rows = rows();
    let config =
        FeatureConfig { clock: Clock::Book, features: FEATURES.iter().map(|name| (*name).to_owned()).collect() };
    let mut book = OrderBook::new();
    // Best of `repeats` passes each (the stream's time restarts at each pass: a fresh feature set per pass).
    let mut book_only = f64::INFINITY;
    let mut with_features = f64::INFINITY;
    for _ in 0..repeats {
        book_only = book_only.min(replay(&rows, &mut book, None, None));
        let mut set = FeatureSet::new(&config, 1, 3).expect("features");
        with_features = with_features.min(replay(&rows, &mut book, Some(&mut set), None));
    }
    let mut direct = Direct::default();
    let mut set = FeatureSet::new(&config, 1, 3).expect("features");
    replay(&rows, &mut book, Some(&mut set), Some(&mut direct));
    let events = rows.len() as f64;
    println!(
        "{} events (book rows and trades), {} samples (book messages), best of {repeats} passes",
        rows.len(),
        set.samples()
    );
    println!("book only: {:.1} ns/event", book_only / events * 1e9);
    println!(
        "book + 16 features: {:.1} ns/event (+{:.1} ns/event)",
        with_features / events * 1e9,
        (with_features - book_only) / events * 1e9
    );
    println!(
        "feature calls timed one by one: on_book (a sample, 16 features) {:.0} ns, on_trade {:.0} ns",
        direct.book_ns as f64 / direct.book_calls.max(1) as f64,
        direct.trade_ns as f64 / direct.trade_calls.max(1) as f64
    );
}
