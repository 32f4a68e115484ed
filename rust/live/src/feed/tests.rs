//! `MarketFeed::process` against real captures, input by input, without sockets: the book must end equal
//! to the offline rebuild (`venues::pipeline` over the same file), every trade must arrive exactly once,
//! and duplicates, overlaps, gaps, crossed books and reconnects must be handled as the module docs say.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use ferrotrade_book::OrderBook;
use ferrotrade_model::{BookSide, Instrument, InstrumentIndex, Level, MarketEvent, Price, Quantity, UnixNanos, Venue};
use ferrotrade_strategy::DataKind;
use ferrotrade_venues::VenueError;
use ferrotrade_venues::pipeline::{EventSink, Pipeline, PipelineOptions};
use ferrotrade_venues::source::plan_sessions;
use tokio_tungstenite::tungstenite::Bytes;

use super::types::{InputKind, LinkEvent};
use super::{FeedEvent, FeedInput, FeedInstrument, FeedOptions, MarketFeed, UnsyncReason};
use crate::endpoints::Endpoints;

fn data(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/")).join(path)
}

/// The offline rebuild: final book levels and every trade id, via the recorded-data pipeline.
struct Rebuild {
    book: OrderBook,
    trades: Vec<Option<u64>>,
}

impl EventSink for Rebuild {
    fn event(&mut self, _instrument: usize, event: &MarketEvent<'_>) -> Result<(), VenueError> {
        match event {
            MarketEvent::Book(update) => self.book.apply_update(update).unwrap(),
            MarketEvent::Trade(trade) => self.trades.push(trade.trade_id),
            _ => {}
        }
        Ok(())
    }
}

fn offline(path: &str) -> (Instrument, OrderBook, Vec<Option<u64>>) {
    let cancel = AtomicBool::new(false);
    let pipeline = Pipeline::scan(plan_sessions(&[data(path)]).unwrap(), PipelineOptions::default(), &cancel).unwrap();
    let mut sink = Rebuild { book: OrderBook::new(), trades: Vec::new() };
    pipeline.run(&mut sink, &cancel).unwrap();
    (pipeline.instruments()[0].clone(), sink.book, sink.trades)
}

fn levels(book: &OrderBook) -> (Vec<Level>, Vec<Level>) {
    (book.depth(BookSide::Bid, usize::MAX).collect(), book.depth(BookSide::Ask, usize::MAX).collect())
}

/// Lines of a capture: `(ts_recv, json)`; collector lines carry a timestamp, archive lines do not.
fn lines(path: &str) -> Vec<(u64, String)> {
    let mut text = String::new();
    ferrotrade_venues::lines::open_maybe_gzip(&data(path)).unwrap().read_to_string(&mut text).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(n, line)| match line.split_once(' ') {
            Some((ts, json)) if ts.bytes().all(|b| b.is_ascii_digit()) => (ts.parse().unwrap(), json.to_owned()),
            _ => (1_733_011_200_000_000_000 + n as u64, line.to_owned()),
        })
        .collect()
}

fn feed(venue: Venue, instrument: &Instrument, kinds: &[DataKind], emit_levels: bool) -> MarketFeed {
    let symbol = instrument.id.symbol.clone();
    let instruments = vec![FeedInstrument { index: InstrumentIndex(0), instrument: instrument.clone(), symbol }];
    let subscriptions: Vec<_> = kinds.iter().map(|kind| (InstrumentIndex(0), *kind)).collect();
    let options = FeedOptions { emit_levels, snapshot_depth: 500, ..FeedOptions::default() };
    let endpoints = Endpoints::local("http://127.0.0.1:9", "ws://127.0.0.1:9/x", venue);
    MarketFeed::new(venue, endpoints, instruments, &subscriptions, options).unwrap()
}

fn input(ts: u64, json: &str) -> FeedInput {
    let kind = if json.starts_with("{\"lastUpdateId\"") {
        InputKind::Snapshot { slot: 0, body: Bytes::from(json.to_owned()), used_weight: Some(20) }
    } else {
        InputKind::Frame { connection: 0, bytes: Bytes::from(json.to_owned()) }
    };
    FeedInput { received_at: super::clock::monotonic(), ts_recv: UnixNanos(ts), kind }
}

fn link(event: LinkEvent) -> FeedInput {
    FeedInput {
        received_at: super::clock::monotonic(),
        ts_recv: UnixNanos(0),
        kind: InputKind::Link { connection: 0, event },
    }
}

/// Runs inputs through a feed with one book; returns every event.
fn run(feed: &mut MarketFeed, book: &mut OrderBook, inputs: impl IntoIterator<Item = FeedInput>) -> Vec<FeedEvent> {
    let books = std::slice::from_mut(book);
    let mut all = Vec::new();
    let mut out = Vec::new();
    for item in inputs {
        out.clear();
        feed.process(item, books, &mut out);
        all.extend_from_slice(&out);
    }
    all
}

fn trade_ids(events: &[FeedEvent]) -> Vec<Option<u64>> {
    events
        .iter()
        .filter_map(|e| if let FeedEvent::Trade { trade, .. } = e { Some(trade.trade_id) } else { None })
        .collect()
}

const USDM: &str = "sessions/binance-usdm/btcusdt_20240808.gz";
const BYBIT: &str = "bybit/2024-12-01_XRPUSDT_ob500.data";

#[test]
fn binance_usdm_capture_rebuilds_the_offline_book_and_delivers_each_trade_once() {
    let (instrument, expected, expected_trades) = offline(USDM);
    let mut feed = feed(Venue::BinanceUsdm, &instrument, &[DataKind::Book, DataKind::Trades], false);
    let mut book = OrderBook::new();
    let events = run(&mut feed, &mut book, lines(USDM).iter().map(|(ts, json)| input(*ts, json)));
    assert_eq!(levels(&book), levels(&expected));
    assert_eq!(trade_ids(&events), expected_trades);
    assert!(feed.is_synced(InstrumentIndex(0)));
    // Synced once, never unsynced, and no book event before the snapshot made the book good.
    let first_synced = events.iter().position(|e| matches!(e, FeedEvent::Synced { .. })).unwrap();
    assert!(!events[..first_synced].iter().any(|e| matches!(e, FeedEvent::Book { .. })));
    assert!(!events.iter().any(|e| matches!(e, FeedEvent::Unsynced { .. })));
    let stats = feed.stats();
    assert_eq!((stats.decode_errors, stats.unknown_symbols), (0, 0));
    let instrument = stats.instruments[0];
    assert_eq!(
        (instrument.gaps, instrument.resyncs, instrument.snapshots, instrument.duplicates_dropped),
        (0, 0, 1, 0)
    );
    assert!(instrument.synced);
    // The first diff asked for a snapshot (the capture's own REST line answered it).
    assert_eq!(stats.connections[0].messages as usize, lines(USDM).len() - 1);
}

#[test]
fn duplicated_and_overlapping_frames_change_nothing() {
    let (instrument, expected, expected_trades) = offline(USDM);
    let all = lines(USDM);
    let mut inputs = Vec::new();
    for (n, (ts, json)) in all.iter().enumerate() {
        inputs.push(input(*ts, json));
        if n % 7 == 0 && !json.starts_with("{\"lastUpdateId\"") {
            inputs.push(input(*ts, json));
        }
        if n == 40_000 {
            // A rollover: the new connection's first second repeats the last 300 frames.
            inputs.push(link(LinkEvent::RolledOver));
            for (ts, json) in &all[n - 300..=n] {
                inputs.push(input(*ts, json));
            }
        }
    }
    let mut feed = feed(Venue::BinanceUsdm, &instrument, &[DataKind::Book, DataKind::Trades], false);
    let mut book = OrderBook::new();
    let events = run(&mut feed, &mut book, inputs);
    assert_eq!(levels(&book), levels(&expected));
    assert_eq!(trade_ids(&events), expected_trades, "every trade exactly once, in order");
    assert!(!events.iter().any(|e| matches!(e, FeedEvent::Unsynced { .. })));
    let stats = feed.stats();
    assert!(stats.instruments[0].duplicates_dropped > 0);
    assert!(stats.instruments[0].sync.stale_dropped > 300, "repeated diffs dropped by update id");
    assert_eq!(stats.connections[0].rollovers, 1);
}

#[test]
fn reordered_trades_are_still_delivered_once() {
    let all = lines(USDM);
    let (instrument, _, expected_trades) = offline(USDM);
    let trades: Vec<_> = all.iter().filter(|(_, json)| json.contains("@trade")).collect();
    let mut inputs = Vec::new();
    for pair in trades.chunks(2) {
        for (ts, json) in pair.iter().rev() {
            inputs.push(input(*ts, json));
        }
    }
    let mut feed = feed(Venue::BinanceUsdm, &instrument, &[DataKind::Trades], false);
    let mut book = OrderBook::new();
    let got = trade_ids(&run(&mut feed, &mut book, inputs));
    assert_eq!(got.len(), expected_trades.len());
    // Every swapped pair is put back in id order on the spot (no list is asked for); only the very first
    // pair cannot be, as nothing came before it.
    assert_eq!(got[2..], expected_trades[2..]);
    let stats = feed.stats().instruments[0];
    assert_eq!((stats.trades_late, stats.trades_lost, stats.trades_backfilled), (1, 0, 0));
    assert_eq!(stats.trade_gaps as usize, expected_trades.len() / 2 - 1);
    assert_eq!(feed.router.slots[0].sequence.backfill, super::trades::Backfill::Idle);
}

/// A Binance recent-trades body: the last `limit` trades of `lines` with ids up to `newest`.
fn recent_trades_body(lines: &[(u64, String)], newest: u64, limit: usize) -> String {
    let trades: Vec<serde_json::Value> = lines
        .iter()
        .filter(|(_, json)| json.contains("@trade"))
        .map(|(_, json)| serde_json::from_str::<serde_json::Value>(json).unwrap()["data"].clone())
        .filter(|data| data["t"].as_u64().unwrap() <= newest)
        .collect();
    let items: Vec<String> = trades[trades.len().saturating_sub(limit)..]
        .iter()
        .map(|data| {
            format!(
                r#"{{"id":{},"price":"{}","qty":"{}","quoteQty":"0","time":{},"isBuyerMaker":{}}}"#,
                data["t"],
                data["p"].as_str().unwrap(),
                data["q"].as_str().unwrap(),
                data["T"],
                data["m"]
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

#[test]
fn lost_trades_are_filled_from_the_recent_trades_list_in_id_order() {
    let all = lines(USDM);
    let (instrument, _, expected_trades) = offline(USDM);
    let trade_lines: Vec<usize> = (0..all.len()).filter(|n| all[*n].1.contains("@trade")).collect();
    // Three trades never arrive on the stream; one gap is older than the list can reach (limit 3 below).
    let lost: Vec<usize> = vec![trade_lines[100], trade_lines[5000], trade_lines[5001], trade_lines[9000]];
    let mut feed = feed(Venue::BinanceUsdm, &instrument, &[DataKind::Trades], false);
    let mut books = vec![OrderBook::new()];
    let (mut events, mut out) = (Vec::new(), Vec::new());
    let mut newest = 0;
    for (n, (ts, json)) in all.iter().enumerate() {
        if lost.contains(&n) {
            continue;
        }
        if let Some(id) = json
            .contains("@trade")
            .then(|| serde_json::from_str::<serde_json::Value>(json).unwrap()["data"]["t"].as_u64().unwrap())
        {
            newest = newest.max(id);
        }
        out.clear();
        feed.process(input(*ts, json), &mut books, &mut out);
        events.extend_from_slice(&out);
        // The venue answers at once with what it has traded so far; the gap at trade 9000 is asked for
        // only after 1200 more trades, too late for the list.
        if let super::trades::Backfill::Wanted(_) = feed.router.slots[0].sequence.backfill {
            let limit = if n > trade_lines[9000] && n < trade_lines[9000 + 1200] { continue } else { 1000 };
            feed.router.slots[0].sequence.backfill = super::trades::Backfill::InFlight;
            let body = recent_trades_body(&all, newest, limit);
            let answer = FeedInput {
                received_at: super::clock::monotonic(),
                ts_recv: UnixNanos(*ts),
                kind: InputKind::Trades { slot: 0, body: Bytes::from(body), used_weight: Some(5) },
            };
            out.clear();
            feed.process(answer, &mut books, &mut out);
            events.extend_from_slice(&out);
        }
    }
    let got = trade_ids(&events);
    let stats = feed.stats().instruments[0];
    // Trades 100, 5000 and 5001 come back from the list in their place; 9000 is older than the list
    // reached by the time it was asked: lost, counted, and the stream goes on.
    let mut expected: Vec<Option<u64>> = expected_trades.clone();
    expected.remove(9000);
    assert_eq!(got, expected);
    assert_eq!((stats.trade_gaps, stats.trades_backfilled, stats.trades_lost, stats.trades_late), (3, 3, 1, 0));
}

/// A Binance REST depth body of `book` at update id `last`.
fn depth_body(book: &OrderBook, instrument: &Instrument, last: u64) -> String {
    let side = |side| {
        book.depth(side, usize::MAX)
            .map(|level: Level| {
                format!(
                    r#"["{}","{}"]"#,
                    fixed(level.price.0, instrument.price_precision),
                    fixed(level.size.0, instrument.size_precision)
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"lastUpdateId":{last},"E":1,"T":1,"bids":[{}],"asks":[{}]}}"#,
        side(BookSide::Bid),
        side(BookSide::Ask)
    )
}

fn fixed(mantissa: i64, scale: u8) -> String {
    ferrotrade_model::Decimal { mantissa, scale }.to_string()
}

fn last_u(json: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    value["data"]["u"].as_u64().filter(|_| value["data"]["e"] == "depthUpdate")
}

#[test]
fn a_lost_diff_unsyncs_fetches_a_snapshot_and_resyncs_to_the_same_book() {
    let (instrument, expected, _) = offline(USDM);
    let all = lines(USDM);
    // The reference feed sees everything; its book at any point is what the venue's REST snapshot returns.
    let mut reference = feed(Venue::BinanceUsdm, &instrument, &[DataKind::Book], false);
    let mut reference_book = OrderBook::new();
    let mut lossy = feed(Venue::BinanceUsdm, &instrument, &[DataKind::Book], false);
    let mut lossy_book = OrderBook::new();
    let depth_lines: Vec<usize> = (0..all.len()).filter(|&n| last_u(&all[n].1).is_some()).collect();
    let (drop_at, snapshot_at) = (depth_lines[3000], depth_lines[3100]);
    let mut events = Vec::new();
    for (n, (ts, json)) in all.iter().enumerate() {
        run(&mut reference, &mut reference_book, [input(*ts, json)]);
        if n == drop_at {
            continue;
        }
        events.extend(run(&mut lossy, &mut lossy_book, [input(*ts, json)]));
        if n == depth_lines[3001] {
            assert!(!lossy.is_synced(InstrumentIndex(0)));
            assert!(lossy.router.slots[0].want_snapshot, "a snapshot fetch is due");
        }
        if n == snapshot_at {
            let body = depth_body(&reference_book, &instrument, last_u(json).unwrap());
            events.extend(run(&mut lossy, &mut lossy_book, [input(*ts, &body)]));
            assert!(lossy.is_synced(InstrumentIndex(0)));
        }
    }
    assert_eq!(levels(&lossy_book), levels(&expected));
    let unsynced: Vec<_> = events.iter().filter(|e| matches!(e, FeedEvent::Unsynced { .. })).collect();
    assert_eq!(unsynced, [&FeedEvent::Unsynced { index: InstrumentIndex(0), reason: UnsyncReason::Gap }]);
    let stats = lossy.stats().instruments[0];
    assert_eq!((stats.gaps, stats.resyncs, stats.snapshots), (1, 1, 2));
    // While unsynced, no Book event.
    let gap = events.iter().position(|e| matches!(e, FeedEvent::Unsynced { .. })).unwrap();
    let back = events.iter().rposition(|e| matches!(e, FeedEvent::Synced { .. })).unwrap();
    assert!(gap < back && !events[gap..back].iter().any(|e| matches!(e, FeedEvent::Book { .. })));
}

#[test]
fn a_crossed_book_is_unsynced_and_waits_for_a_snapshot() {
    let (instrument, _, _) = offline(USDM);
    let all = lines(USDM);
    let mut feed = feed(Venue::BinanceUsdm, &instrument, &[DataKind::Book], false);
    let mut book = OrderBook::new();
    let cut = 20_000;
    run(&mut feed, &mut book, all[..cut].iter().map(|(ts, json)| input(*ts, json)));
    assert!(feed.is_synced(InstrumentIndex(0)));
    let last = feed.router.slots[0].last_sequence;
    let ask = book.best_ask().unwrap();
    let crossing = format!(
        r#"{{"stream":"btcusdt@depth@0ms","data":{{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":{},"u":{},"pu":{last},"b":[["{}","1.000"]],"a":[]}}}}"#,
        last + 1,
        last + 1,
        fixed(ask.price.0 + 10, instrument.price_precision)
    );
    let events = run(&mut feed, &mut book, [input(1, &crossing)]);
    assert_eq!(events, [FeedEvent::Unsynced { index: InstrumentIndex(0), reason: UnsyncReason::Crossed }]);
    assert!(!feed.is_synced(InstrumentIndex(0)));
    // The next diff is buffered and asks for a snapshot.
    let next = all[cut..].iter().find(|(_, json)| last_u(json).is_some()).unwrap();
    let events = run(&mut feed, &mut book, [input(next.0, &next.1)]);
    assert!(events.is_empty());
    assert!(feed.router.slots[0].want_snapshot && feed.router.actions_pending);
}

#[test]
fn a_reconnect_unsyncs_the_books_of_that_connection() {
    let (instrument, _, _) = offline(USDM);
    let all = lines(USDM);
    let mut feed = feed(Venue::BinanceUsdm, &instrument, &[DataKind::Book], false);
    let mut book = OrderBook::new();
    let mut inputs = vec![link(LinkEvent::Up)];
    inputs.extend(all[..5000].iter().map(|(ts, json)| input(*ts, json)));
    inputs.push(link(LinkEvent::Stale));
    inputs.push(link(LinkEvent::Up));
    let events = run(&mut feed, &mut book, inputs);
    let tail: Vec<_> =
        events.iter().filter(|e| matches!(e, FeedEvent::Connection { .. } | FeedEvent::Unsynced { .. })).collect();
    assert_eq!(
        tail,
        [
            &FeedEvent::Connection { venue: Venue::BinanceUsdm, up: true },
            &FeedEvent::Connection { venue: Venue::BinanceUsdm, up: false },
            &FeedEvent::Unsynced { index: InstrumentIndex(0), reason: UnsyncReason::Stale },
            &FeedEvent::Connection { venue: Venue::BinanceUsdm, up: true },
        ]
    );
    let connection = feed.stats().connections[0];
    assert_eq!((connection.reconnects, connection.stale_timeouts, connection.up), (1, 1, true));
    assert!(!feed.is_synced(InstrumentIndex(0)));
}

#[test]
fn emit_levels_reports_every_diff_level() {
    let (instrument, _, _) = offline(USDM);
    let all = lines(USDM);
    let mut feed = feed(Venue::BinanceUsdm, &instrument, &[DataKind::Book], true);
    let mut book = OrderBook::new();
    let events = run(&mut feed, &mut book, all[..3000].iter().map(|(ts, json)| input(*ts, json)));
    // Mirror: rebuild from the book at Synced, then apply levels; equals the book.
    let mut mirror = OrderBook::new();
    for event in &events {
        if let FeedEvent::Level { side, price, size, .. } = *event {
            mirror.apply_level(side, price, size).unwrap();
        }
    }
    let levels_seen = events.iter().filter(|e| matches!(e, FeedEvent::Level { .. })).count();
    assert!(levels_seen > 1000);
    // Every level the diffs set is in the book with the last size they gave it.
    for level in mirror.depth(BookSide::Bid, usize::MAX) {
        assert_eq!(book.size_at(BookSide::Bid, level.price), level.size);
    }
}

#[test]
fn bybit_archive_rebuilds_the_offline_book() {
    let (instrument, expected, _) = offline(BYBIT);
    let mut feed = feed(Venue::BybitLinear, &instrument, &[DataKind::Book], false);
    let mut book = OrderBook::new();
    let events = run(&mut feed, &mut book, lines(BYBIT).iter().map(|(ts, json)| input(*ts, json)));
    assert_eq!(levels(&book), levels(&expected));
    assert!(feed.is_synced(InstrumentIndex(0)));
    assert_eq!(events.iter().filter(|e| matches!(e, FeedEvent::Synced { .. })).count(), 1);
    assert_eq!(feed.stats().decode_errors, 0);
}

/// A Bybit snapshot frame of `book` at update id `u`.
fn bybit_snapshot(book: &OrderBook, instrument: &Instrument, u: u64) -> String {
    let side = |side| {
        book.depth(side, usize::MAX)
            .map(|l: Level| {
                format!(
                    r#"["{}","{}"]"#,
                    fixed(l.price.0, instrument.price_precision),
                    fixed(l.size.0, instrument.size_precision)
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"topic":"orderbook.500.XRPUSDT","type":"snapshot","ts":1733011200691,"data":{{"s":"XRPUSDT","b":[{}],"a":[{}],"u":{u},"seq":1}},"cts":1733011200690}}"#,
        side(BookSide::Bid),
        side(BookSide::Ask)
    )
}

fn bybit_u(json: &str) -> u64 {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    value["data"]["u"].as_u64().unwrap()
}

#[test]
fn bybit_gap_resubscribes_and_a_rollover_snapshot_is_not_news() {
    let (instrument, expected, _) = offline(BYBIT);
    let all = lines(BYBIT);
    let mut reference = feed(Venue::BybitLinear, &instrument, &[DataKind::Book], false);
    let mut reference_book = OrderBook::new();
    let mut lossy = feed(Venue::BybitLinear, &instrument, &[DataKind::Book], false);
    let mut lossy_book = OrderBook::new();
    let mut events = Vec::new();
    for (n, (ts, json)) in all.iter().enumerate() {
        run(&mut reference, &mut reference_book, [input(*ts, json)]);
        if n == 20 {
            continue;
        }
        events.extend(run(&mut lossy, &mut lossy_book, [input(*ts, json)]));
        if n == 21 {
            assert!(lossy.router.slots[0].want_resubscribe && lossy.router.actions_pending);
        }
        if n == 30 {
            // The venue answers the resubscription with a snapshot of its current book.
            let snapshot = bybit_snapshot(&reference_book, &instrument, bybit_u(json));
            events.extend(run(&mut lossy, &mut lossy_book, [input(*ts, &snapshot)]));
        }
        if n == 40 {
            // A rollover's new connection starts with a snapshot the book has moved past: dropped.
            let stale = bybit_snapshot(&reference_book, &instrument, bybit_u(json) - 1);
            let before = levels(&lossy_book);
            let got = run(&mut lossy, &mut lossy_book, [link(LinkEvent::RolledOver), input(*ts, &stale)]);
            assert!(got.is_empty(), "{got:?}");
            assert_eq!(levels(&lossy_book), before);
        }
    }
    assert_eq!(levels(&lossy_book), levels(&expected));
    assert_eq!(levels(&reference_book), levels(&expected));
    let reasons: Vec<_> = events
        .iter()
        .filter_map(|e| if let FeedEvent::Unsynced { reason, .. } = e { Some(*reason) } else { None })
        .collect();
    assert_eq!(reasons, [UnsyncReason::Gap]);
    let stats = lossy.stats().instruments[0];
    assert_eq!((stats.gaps, stats.resyncs, stats.duplicates_dropped), (1, 1, 1));
}

#[test]
fn configuration_errors_name_the_problem() {
    let (instrument, _, _) = offline(BYBIT);
    let endpoints = Endpoints::mainnet(Venue::BybitSpot);
    let one = |index| vec![FeedInstrument { index, instrument: instrument.clone(), symbol: "XRPUSDT".into() }];
    let err = |result: Result<MarketFeed, crate::LiveError>| result.expect_err("refused").to_string();
    let other_venue =
        MarketFeed::new(Venue::BybitSpot, endpoints.clone(), one(InstrumentIndex(0)), &[], FeedOptions::default());
    assert!(err(other_venue).contains("another venue"));
    let coinm = MarketFeed::new(Venue::BinanceCoinm, endpoints.clone(), Vec::new(), &[], FeedOptions::default());
    assert!(err(coinm).contains("no live market-data feed"));
    let unknown = MarketFeed::new(
        Venue::BybitLinear,
        Endpoints::mainnet(Venue::BybitLinear),
        one(InstrumentIndex(0)),
        &[(InstrumentIndex(5), DataKind::Book)],
        FeedOptions::default(),
    );
    assert!(err(unknown).contains("unknown instrument index 5"));
    let _ = Quantity(0);
    let _ = Price(0);
}
