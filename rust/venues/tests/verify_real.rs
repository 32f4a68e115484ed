//! End-to-end checks of the pipeline and `verify` on real recordings (copies in `tests/data`).
//!
//! Expected figures were computed independently of this code (see `tests/data/SOURCES.md` and the
//! validation section of the data set's own notes): 6,493 diffs applied, 1,072 exact bookTicker matches and
//! 19,904 trades without an id gap for the Binance spot BTCUSDT session of 2024-08-08/09.

// Test helpers outside `#[test]` fns unwrap too: a failure here is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use ferrotrade_model::{Level, Price, Quantity, Venue};
use ferrotrade_venues::source::{Format, plan_sessions};
use ferrotrade_venues::verify::{VerifyReport, verify};

fn data(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/")).join(path)
}

fn verify_paths(paths: &[PathBuf]) -> Vec<VerifyReport> {
    let sessions = plan_sessions(paths).unwrap();
    verify(sessions, &AtomicBool::new(false)).unwrap().books
}

#[test]
fn spot_session_over_two_files_is_one_clean_stream() {
    let paths = [data("sessions/binance-spot/btcusdt_20240809.gz"), data("sessions/binance-spot/btcusdt_20240808.gz")];
    let sessions = plan_sessions(&paths).unwrap();
    assert_eq!(sessions.len(), 1, "the two days are one session");
    assert_eq!(sessions[0].format, Format::Collector);
    assert!(sessions[0].files[0].ends_with("btcusdt_20240808.gz"), "read in date order");

    let books = verify_paths(&paths);
    assert_eq!(books.len(), 1);
    let book = &books[0];
    assert_eq!(book.instrument.id.venue, Venue::BinanceSpot);
    assert_eq!(book.instrument.id.symbol, "BTCUSDT");
    assert_eq!((book.instrument.price_precision, book.instrument.size_precision), (2, 6));
    assert_eq!(book.sync.snapshots, 1);
    assert_eq!(book.sync.diffs_applied, 6_493);
    assert_eq!(book.sync.stale_dropped, 2, "the two diffs recorded before the snapshot and contained in it");
    assert_eq!(book.sync.gaps, 0);
    assert_eq!(book.crossed, 0);
    assert_eq!(book.bbo_checked, 1_072);
    assert_eq!(book.bbo_mismatches, 0);
    assert_eq!(book.trades, 19_904);
    assert_eq!(book.trade_id_gaps, Some(0));
    assert_eq!(book.quotes, 28_040 + 45_134);
    assert!(book.synced && book.is_clean());
    assert_eq!(book.best_bid, Some(Level { price: Price(6_160_201), size: Quantity(1_671_770) }));
    assert_eq!(book.best_ask, Some(Level { price: Price(6_160_202), size: Quantity(2_667_950) }));
    assert_eq!((book.bid_levels, book.ask_levels), (1_971, 2_962));
}

#[test]
fn a_continuation_file_alone_never_syncs_and_says_so() {
    // The second day holds no snapshot: nothing may be trusted, and every diff is reported as unapplied.
    let books = verify_paths(&[data("sessions/binance-spot/btcusdt_20240809.gz")]);
    let book = &books[0];
    assert!(!book.synced);
    assert_eq!(book.sync.snapshots, 0);
    assert_eq!(book.sync.diffs_applied, 0);
    assert_eq!(book.sync.unsynced_dropped, 3_044);
    assert_eq!((book.bid_levels, book.ask_levels, book.bbo_checked), (0, 0, 0));
    assert_eq!(book.trades, 10_147);
}

#[test]
fn binance_depth_csv_pair_with_a_missing_range_reports_a_gap() {
    // nautilus' T_DEPTH snapshot (last_update_id 2098021528332) and the update file starting at
    // 2098041693435: about 20M update ids are missing between them.
    let books = verify_paths(&[data("binance/btcusdt-depth-snap.csv"), data("binance/btcusdt-depth-update.csv")]);
    assert_eq!(books.len(), 1);
    let book = &books[0];
    assert_eq!(book.sync.snapshots, 1);
    assert_eq!(book.sync.gaps, 1);
    assert_eq!(book.sync.diffs_applied, 0);
    assert!(!book.synced);
    assert!(!book.is_clean());
}

#[test]
fn five_months_of_hourly_klines_are_one_series_with_the_real_outage_hour_missing() {
    let paths: Vec<PathBuf> =
        (1..=5).map(|month| data(&format!("binance-vision/BTCUSDT-1h-2023-0{month}.csv"))).collect();
    let sessions = plan_sessions(&paths).unwrap();
    assert_eq!(sessions.len(), 1, "the months of one symbol and interval are one series");
    let books = verify_paths(&paths);
    assert_eq!(books.len(), 1);
    assert_eq!(books[0].bars, 3_623);
    // Binance spot was down on 2023-03-24: the 13:00 bar does not exist.
    assert_eq!(books[0].bar_gaps, 1);
    assert!(!books[0].has_book);
}

#[test]
fn bybit_archive_book_chains_from_its_snapshot() {
    let books = verify_paths(&[data("bybit/2024-12-01_XRPUSDT_ob500.data")]);
    assert_eq!(books.len(), 1);
    let book = &books[0];
    assert_eq!((book.instrument.id.venue, book.instrument.id.symbol.as_str()), (Venue::BybitLinear, "XRPUSDT"));
    assert_eq!((book.sync.snapshots, book.sync.diffs_applied, book.sync.gaps), (1, 49, 0));
    assert_eq!(book.crossed, 0);
    assert!(book.synced && book.is_clean());
    // Independently rebuilt with a dict of Decimals in Python: best 1.9537 x 10605 / 1.9538 x 6702.
    assert_eq!((book.instrument.price_precision, book.instrument.size_precision), (4, 0));
    assert_eq!(book.best_bid, Some(Level { price: Price(19_537), size: Quantity(10_605) }));
    assert_eq!(book.best_ask, Some(Level { price: Price(19_538), size: Quantity(6_702) }));
    assert_eq!((book.bid_levels, book.ask_levels), (500, 500));
}

#[test]
fn usdm_session_follows_the_futures_rule_without_a_gap() {
    // Expected: 6,547 diffs applied, 629 exact bookTicker matches, 21,313 trades without an id gap.
    let books = verify_paths(&[data("sessions/binance-usdm/btcusdt_20240808.gz")]);
    let book = &books[0];
    assert_eq!(book.instrument.id.venue, Venue::BinanceUsdm);
    assert_eq!((book.instrument.price_precision, book.instrument.size_precision), (1, 3));
    assert_eq!((book.sync.snapshots, book.sync.diffs_applied, book.sync.gaps), (1, 6_547, 0));
    assert_eq!((book.bbo_checked, book.bbo_mismatches, book.crossed), (629, 0, 0));
    assert_eq!((book.trades, book.trade_id_gaps), (21_313, Some(0)));
    assert_eq!(book.best_bid, Some(Level { price: Price(616_597), size: Quantity(1_486) }));
    assert_eq!(book.best_ask, Some(Level { price: Price(616_598), size: Quantity(981) }));
}
