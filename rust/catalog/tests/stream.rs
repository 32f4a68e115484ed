//! The stream over the real test catalog (`tests/data/catalog`, built by `make_catalog.sh` from the bundled
//! Binance USD-M session and Binance Vision klines).

mod common;

use std::sync::atomic::Ordering;

use common::*;
use ferrotrade_catalog::{CHANNEL_CHUNKS, EventStream, TableKind};
use ferrotrade_model::{Bar, EventRow, InstrumentIndex, Price, Quantity, RowKind, UnixNanos, Venue, flags};

#[test]
fn book_stream_is_sorted_complete_and_mapped() {
    let catalog = catalog();
    let rows = rows(&catalog, &[book()]);
    assert_eq!(rows.len() as u64, parquet_rows("book", "binance-usdm", "BTCUSDT"));
    assert!(rows.len() > 400_000, "the bundled session holds ~445k book rows");
    assert!(is_sorted(&rows));
    assert!(rows.iter().all(|row| row.kind == RowKind::Book && row.instrument == InstrumentIndex(0)));
    assert!(rows.iter().all(|row| row.side <= 1 && row.price.0 > 0 && row.reserved == 0));
    // The stream starts with the snapshot: CLEAR on the first row, and every message ends with LAST.
    assert_eq!(rows[0].flags & (flags::SNAPSHOT | flags::CLEAR), flags::SNAPSHOT | flags::CLEAR);
    assert_ne!(rows.last().unwrap().flags & flags::LAST, 0);
    // aux is the venue sequence (`u`), which never decreases in a synced stream.
    assert!(rows.windows(2).all(|pair| pair[0].aux <= pair[1].aux));
    assert!(rows[0].aux > 0);
}

#[test]
fn every_kind_merges_into_one_sorted_stream_with_parquet_counts() {
    let catalog = catalog();
    let chunks = chunks(&catalog, &[book(), trades(), bars()], 50_000);
    let all: Vec<EventRow> = chunks.iter().flat_map(|chunk| chunk.rows.iter().copied()).collect();
    assert!(is_sorted(&all));
    let count = |kind: RowKind| all.iter().filter(|row| row.kind == kind).count() as u64;
    assert_eq!(count(RowKind::Book), parquet_rows("book", "binance-usdm", "BTCUSDT"));
    assert_eq!(count(RowKind::Trade), parquet_rows("trades", "binance-usdm", "BTCUSDT"));
    assert_eq!(count(RowKind::Bar), parquet_rows("bars", "binance-spot", "BTCUSDT"));
    assert_eq!(count(RowKind::Bar), 1416);
    // Bar rows point into their own chunk's table.
    for chunk in &chunks {
        let bar_rows: Vec<&EventRow> = chunk.rows.iter().filter(|row| row.kind == RowKind::Bar).collect();
        assert_eq!(bar_rows.len(), chunk.bars.len());
        for (position, row) in bar_rows.iter().enumerate() {
            let bar = chunk.bars[usize::try_from(row.aux).unwrap()];
            assert_eq!(row.aux, position as u64);
            assert_eq!((row.price, row.size, row.ts_recv), (bar.close, bar.volume, bar.ts_recv));
            assert_eq!(row.instrument, InstrumentIndex(1));
        }
    }
    // Trades: aggressor in `side`, numeric trade ids in `aux`.
    let trades: Vec<&EventRow> = all.iter().filter(|row| row.kind == RowKind::Trade).collect();
    assert!(trades.iter().all(|row| (1..=2).contains(&row.side) && row.aux != EventRow::NO_TRADE_ID));
}

#[test]
fn first_bar_matches_the_kline_csv() {
    // BTCUSDT-1h-2023-01.csv, first line:
    // 1672531200000,16541.77000000,16545.70000000,16508.39000000,16529.67000000,4364.83570000,
    // 1672534799999,72146293.58672290,149854,2179.94772000,...   (spot BTCUSDT: prices 2 dp, sizes 5 dp)
    let catalog = catalog();
    let info = catalog.instrument(Venue::BinanceSpot, "BTCUSDT").unwrap();
    assert_eq!((info.price_precision, info.size_precision), (2, 5));
    let chunk = chunks(&catalog, &[bars()], 10).remove(0);
    let close = UnixNanos::from_millis(1_672_534_799_999);
    let expected = Bar {
        ts_event: close,
        ts_recv: close,
        open_time: UnixNanos::from_millis(1_672_531_200_000),
        interval_ns: 3_600_000_000_000,
        open: Price(1_654_177),
        high: Price(1_654_570),
        low: Price(1_650_839),
        close: Price(1_652_967),
        volume: Quantity(436_483_570),
        quote_volume: 72_146_293.586_722_9,
        trade_count: 149_854,
        taker_buy_volume: Quantity(217_994_772),
    };
    assert_eq!(chunk.bars[0], expected);
    let row = chunk.rows[0];
    assert_eq!(
        (row.kind, row.price, row.size, row.aux, row.ts_event),
        (RowKind::Bar, expected.close, expected.volume, 0, close)
    );
}

#[test]
fn bars_alone_decode_straight_into_chunks_with_valid_side_tables() {
    // One spec with one part per date: batches go straight into the chunk (no merge copy).
    let catalog = catalog();
    let chunks = chunks(&catalog, &[bars()], 100_000);
    let rows: usize = chunks.iter().map(|chunk| chunk.len()).sum();
    assert_eq!(rows, 1416);
    for chunk in &chunks {
        assert_eq!(chunk.rows.len(), chunk.bars.len());
        for (position, row) in chunk.rows.iter().enumerate() {
            assert_eq!(row.aux, position as u64);
            assert_eq!((row.price, row.ts_recv), (chunk.bars[position].close, chunk.bars[position].ts_recv));
        }
    }
    let first = &chunks[0].bars[0];
    assert_eq!((first.open.0, first.trade_count), (1_654_177, 149_854));
}

#[test]
fn start_end_window_keeps_exactly_the_rows_inside() {
    let catalog = catalog();
    let everything = rows(&catalog, &[book()]);
    let (start, end) = (everything[100_000].ts_recv, everything[300_000].ts_recv);
    let mut windowed = book();
    windowed.start = Some(start);
    windowed.end = Some(end);
    let inside = rows(&catalog, &[windowed]);
    let expected: Vec<EventRow> =
        everything.iter().copied().filter(|row| row.ts_recv >= start && row.ts_recv < end).collect();
    assert!(!expected.is_empty());
    assert_eq!(inside, expected);

    // A window over February skips the January date partitions without reading them.
    let mut february = bars();
    february.start = Some(UnixNanos::from_millis(1_675_209_600_000)); // 2023-02-01T00:00Z
    february.end = Some(UnixNanos::from_millis(1_675_296_000_000)); // 2023-02-02T00:00Z
    let stream = EventStream::open(&catalog, std::slice::from_ref(&february), 100).unwrap();
    assert_eq!(stream.total_rows(), 24, "only the 2023-02-01 partition is counted");
    let bars: Vec<EventRow> = stream.flat_map(|chunk| chunk.unwrap().rows).collect();
    // Bars close at hh:59:59.999: 24 of them that day.
    assert_eq!(bars.len(), 24);
    assert!(bars.iter().all(|row| row.ts_recv >= february.start.unwrap() && row.ts_recv < february.end.unwrap()));
}

#[test]
fn two_specs_merge_as_a_stable_sort_of_both() {
    let catalog = catalog();
    let book_rows = rows(&catalog, &[book()]);
    let mut trade_spec = trades();
    trade_spec.instrument = InstrumentIndex(5);
    let trade_rows = rows(&catalog, std::slice::from_ref(&trade_spec));
    let merged = rows(&catalog, &[book(), trade_spec]);
    // Spec order breaks ties: a stable sort of book rows followed by trade rows is the exact expectation.
    let mut expected: Vec<EventRow> = book_rows.iter().chain(&trade_rows).copied().collect();
    expected.sort_by_key(|row| row.ts_recv);
    assert_eq!(merged.len(), expected.len());
    assert!(merged == expected, "merge differs from the stable sort");
    // (Book and trade rows never share a receive time in this capture; tests/parts.rs covers ties.)
}

#[test]
fn chunks_are_full_except_the_last() {
    let catalog = catalog();
    let chunks = chunks(&catalog, &[book(), trades()], 7_777);
    let (last, full) = chunks.split_last().unwrap();
    assert!(full.iter().all(|chunk| chunk.len() == 7_777));
    assert!(!last.is_empty() && last.len() <= 7_777);
}

#[test]
fn recycled_chunks_are_reused() {
    let catalog = catalog();
    let mut stream = EventStream::open(&catalog, &[book(), trades()], 2_000).unwrap();
    let (mut delivered, mut rows) = (0u64, 0u64);
    while let Some(chunk) = stream.next() {
        let chunk = chunk.unwrap();
        delivered += 1;
        rows += chunk.len() as u64;
        stream.recycle(chunk);
    }
    assert!(delivered > 200);
    assert!(
        stream.chunks_allocated() <= (CHANNEL_CHUNKS + 3) as u64,
        "{} chunks allocated for {delivered} delivered",
        stream.chunks_allocated()
    );
    assert_eq!(stream.progress().load(Ordering::Relaxed), rows);

    // Without recycling, every chunk (and the final, empty one) is a new allocation: the counter does
    // measure reuse.
    let mut stream = EventStream::open(&catalog, &[book()], 2_000).unwrap();
    let delivered = stream.by_ref().map(Result::unwrap).count() as u64;
    assert_eq!(stream.chunks_allocated(), delivered + 1);
}

#[test]
fn total_rows_and_progress_agree_without_a_window() {
    let catalog = catalog();
    let specs = [book(), trades(), bars()];
    let mut stream = EventStream::open(&catalog, &specs, 100_000).unwrap();
    let expected = parquet_rows("book", "binance-usdm", "BTCUSDT")
        + parquet_rows("trades", "binance-usdm", "BTCUSDT")
        + parquet_rows("bars", "binance-spot", "BTCUSDT");
    assert_eq!(stream.total_rows(), expected);
    let progress = stream.progress();
    let first = stream.next().unwrap().unwrap();
    assert_eq!(progress.load(Ordering::Relaxed), first.len() as u64);
    let rest: usize = stream.by_ref().map(|chunk| chunk.unwrap().len()).sum();
    assert_eq!(progress.load(Ordering::Relaxed), expected);
    assert_eq!((first.len() + rest) as u64, expected);
    assert!(stream.next().is_none(), "the stream stays ended");
}

#[test]
fn dropping_a_stream_mid_way_stops_the_reader() {
    let catalog = catalog();
    let mut stream = EventStream::open(&catalog, &[book()], 1_000).unwrap();
    assert_eq!(stream.next().unwrap().unwrap().len(), 1_000);
    // The reader is blocked on a full channel; dropping must unblock and join it (the test would hang).
    drop(stream);
}

#[test]
fn catalog_lists_instruments_and_dates() {
    let catalog = catalog();
    let usdm = catalog.instrument(Venue::BinanceUsdm, "BTCUSDT").unwrap();
    assert_eq!((usdm.price_precision, usdm.size_precision, usdm.mark_precision), (1, 3, 1));
    assert_eq!(usdm.contract_type, ferrotrade_model::ContractType::Linear);
    assert_eq!(catalog.instruments().len(), 2);
    assert!(catalog.instrument(Venue::BybitLinear, "BTCUSDT").is_none());
    assert_eq!(catalog.dates(TableKind::Book, Venue::BinanceUsdm, "BTCUSDT"), ["2024-08-08"]);
    assert_eq!(catalog.dates(TableKind::Book, Venue::BinanceUsdm, "btcusdt"), ["2024-08-08"]);
    let bar_dates = catalog.dates(TableKind::Bars, Venue::BinanceSpot, "BTCUSDT");
    assert_eq!((bar_dates.len(), bar_dates[0].as_str(), bar_dates[58].as_str()), (59, "2023-01-01", "2023-02-28"));
    assert!(catalog.dates(TableKind::Mark, Venue::BinanceUsdm, "BTCUSDT").is_empty());
}
