//! The sampling clocks' rules on hand-made events: an interval sample at `T` holds every event with
//! `ts_recv <= T`, is emitted by the first later event (or `advance`), repeats the price with zero volume
//! over quiet intervals, and reads the book as it was at the last message before `T`; the book clock samples
//! every message; nothing is sampled before the first two-sided book.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferrotrade_book::OrderBook;
use ferrotrade_features::{Clock, FeatureConfig, FeatureError, FeatureSet};
use ferrotrade_model::{AggressorSide, BookSide, Price, Quantity, Trade, UnixNanos};

const SECOND: u64 = 1_000_000_000;

fn set(clock: Clock, features: &[&str]) -> FeatureSet {
    let config = FeatureConfig { clock, features: features.iter().map(|name| (*name).to_owned()).collect() };
    // Prices with one decimal, sizes with three.
    FeatureSet::new(&config, 1, 3).unwrap()
}

fn book(bid: i64, bid_size: i64, ask: i64, ask_size: i64) -> OrderBook {
    let mut book = OrderBook::with_window(1 << 12);
    book.apply_level(BookSide::Bid, Price(bid), Quantity(bid_size)).unwrap();
    book.apply_level(BookSide::Ask, Price(ask), Quantity(ask_size)).unwrap();
    book
}

fn trade(ts: u64, price: i64, size: i64, aggressor: AggressorSide) -> Trade {
    Trade {
        ts_event: UnixNanos(ts),
        ts_recv: UnixNanos(ts),
        trade_id: None,
        price: Price(price),
        size: Quantity(size),
        aggressor,
    }
}

type Samples = Vec<(u64, f64, Vec<f64>)>;

fn recorder(out: &mut Samples) -> impl FnMut(&ferrotrade_features::Sample<'_>) + '_ {
    |sample| out.push((sample.ts.0, sample.price, sample.values.to_vec()))
}

#[test]
fn interval_samples_close_at_the_boundary_with_the_book_before_it() {
    let mut features =
        set(Clock::Interval { interval_ms: 1_000 }, &["trade_imbalance_1", "book_imbalance_1", "return_1"]);
    let mut out = Samples::new();
    // A trade before any book: no price yet, nothing sampled.
    features.on_trade(&trade(SECOND / 2, 1_000, 1_000, AggressorSide::Buyer), &mut recorder(&mut out));
    // t = 1.2 s: book 100.0 / 100.2 (mid 100.1), bid-heavy.
    features.on_book(UnixNanos(SECOND + SECOND / 5), &book(1_000, 3_000, 1_002, 1_000), &mut recorder(&mut out));
    // t = 2.0 s exactly: belongs to the interval ending at 2 s.
    features.on_trade(&trade(2 * SECOND, 1_001, 2_000, AggressorSide::Buyer), &mut recorder(&mut out));
    assert!(out.is_empty(), "the sample at 2 s waits for a later event");
    // t = 2.5 s: a new book (ask-heavy) closes the 2 s interval first, then applies.
    features.on_book(UnixNanos(2 * SECOND + SECOND / 2), &book(1_010, 1_000, 1_012, 3_000), &mut recorder(&mut out));
    assert_eq!(out.len(), 1);
    let (ts, price, values) = &out[0];
    assert_eq!(*ts, 2 * SECOND);
    assert!((price - 100.1).abs() < 1e-9);
    assert_eq!(values[0], 1.0, "the trade at exactly 2 s counts, all bought");
    assert_eq!(values[1], 0.5, "the book of 1.2 s, not the one of 2.5 s");
    assert!(values[2].is_nan(), "no previous sample for the return");
    // Nothing until 5.5 s: the 3 s, 4 s and 5 s samples come out at once, the quiet ones flat.
    features.on_trade(&trade(5 * SECOND + SECOND / 2, 1_011, 1_000, AggressorSide::Seller), &mut recorder(&mut out));
    let times: Vec<u64> = out.iter().map(|sample| sample.0).collect();
    assert_eq!(times, [2 * SECOND, 3 * SECOND, 4 * SECOND, 5 * SECOND]);
    assert!((out[1].1 - 101.1).abs() < 1e-9);
    assert!(((out[1].2[2]) - (101.1_f64 / 100.1).ln()).abs() < 1e-12);
    assert_eq!(out[2].2[2], 0.0, "a quiet interval repeats the price");
    assert_eq!(out[2].2[0], 0.0, "and has no flow");
    // A timer may flush the 6 s sample without an event.
    features.advance(UnixNanos(6 * SECOND + 1), &mut recorder(&mut out));
    assert_eq!(out.last().map(|sample| sample.0), Some(6 * SECOND));
    assert_eq!(out.last().unwrap().2[0], -1.0, "the sell at 5.5 s");
    assert_eq!(features.samples(), 5);
}

#[test]
fn the_book_clock_samples_every_message_with_the_trades_since_the_last() {
    let mut features = set(Clock::Book, &["trade_imbalance_2", "spread_bps", "microprice_bps"]);
    let mut out = Samples::new();
    features.on_book(UnixNanos(1), &book(1_000, 1_000, 1_002, 3_000), &mut recorder(&mut out));
    features.on_trade(&trade(2, 1_002, 1_000, AggressorSide::Buyer), &mut recorder(&mut out));
    features.on_trade(&trade(3, 1_000, 3_000, AggressorSide::Seller), &mut recorder(&mut out));
    features.on_book(UnixNanos(4), &book(1_000, 1_000, 1_002, 1_000), &mut recorder(&mut out));
    assert_eq!(out.len(), 2);
    assert!(out[0].2[0].is_nan(), "two samples of flow are needed");
    assert_eq!(out[1].2[0], (1.0 - 3.0) / 4.0);
    // Spread 0.2 on a mid of 100.1.
    assert!((out[1].2[1] - 0.2 / 100.1 * 1e4).abs() < 1e-9);
    // Ask-heavy: the microprice leans towards the bid; equal sizes: it is the mid.
    assert!(out[0].2[2] < 0.0);
    assert!(out[1].2[2].abs() < 1e-12);
}

#[test]
fn a_book_feature_on_a_bar_clock_is_refused() {
    let config = FeatureConfig { clock: Clock::Bars, features: vec!["spread_bps".into()] };
    assert!(matches!(FeatureSet::new(&config, 1, 3), Err(FeatureError::NeedsBook { .. })));
    let empty = FeatureConfig { clock: Clock::Book, features: Vec::new() };
    assert!(matches!(FeatureSet::new(&empty, 1, 3), Err(FeatureError::Empty)));
    let interval = FeatureConfig { clock: Clock::Interval { interval_ms: 0 }, features: vec!["rsi_14".into()] };
    assert!(matches!(FeatureSet::new(&interval, 1, 3), Err(FeatureError::Clock(_))));
}

#[test]
fn the_clock_reads_from_configuration() {
    let parse = |text: &str| serde_json::from_str::<FeatureConfig>(text);
    assert_eq!(parse(r#"{"clock": "bars", "features": ["rsi_14"]}"#).unwrap().clock, Clock::Bars);
    assert_eq!(
        parse(r#"{"clock": {"interval_ms": 250}, "features": []}"#).unwrap().clock,
        Clock::Interval { interval_ms: 250 }
    );
    assert!(parse(r#"{"clock": "weekly", "features": []}"#).unwrap_err().to_string().contains("unknown clock"));
    assert!(parse(r#"{"clock": "book", "features": [], "extra": 1}"#).is_err());
}
