//! Merging and error handling on small synthetic catalogs: several parts in one date, ties, dates in order,
//! and every way a catalog can be broken (missing folder, missing instruments.json, unknown symbol,
//! missing column, corrupt or truncated file, unsorted rows).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use ferrotrade_catalog::{Catalog, CatalogError, EventStream, TableKind};
use ferrotrade_model::{EventRow, Venue};

/// `(ts_recv offset, price, sequence tag)` of the stream's rows.
fn triples(rows: &[EventRow]) -> Vec<(u64, i64, u64)> {
    rows.iter().map(|row| (row.ts_recv.0 - day(0), row.price.0, row.aux)).collect()
}

#[test]
fn parts_of_one_date_merge_by_time_then_part_name() {
    let root = scratch_catalog("parts");
    let folder = book_date_folder(&root, "2024-08-08");
    write_book_part(
        &folder.join("part-a-000000.parquet"),
        &[(day(10), 1), (day(20), 2), (day(20), 3), (day(40), 4)],
        1,
        None,
    );
    write_book_part(&folder.join("part-b-000000.parquet"), &[(day(5), 5), (day(20), 6), (day(30), 7)], 2, None);
    let next_day = book_date_folder(&root, "2024-08-09");
    write_book_part(&next_day.join("part-a-000000.parquet"), &[(day(86_400_000_000_000), 8)], 3, None);
    let catalog = Catalog::open(&root).unwrap();
    let rows = rows(&catalog, &[book()]);
    assert_eq!(
        triples(&rows),
        [(5, 5, 2), (10, 1, 1), (20, 2, 1), (20, 3, 1), (20, 6, 2), (30, 7, 2), (40, 4, 1), (86_400_000_000_000, 8, 3)]
    );
    // One-row chunks exercise every run boundary of the merge.
    let single: Vec<EventRow> = chunks(&catalog, &[book()], 1).into_iter().flat_map(|chunk| chunk.rows).collect();
    assert_eq!(single, rows);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn ties_between_specs_follow_spec_order() {
    let root = scratch_catalog("ties");
    write_book_part(
        &book_date_folder(&root, "2024-08-08").join("part-x-000000.parquet"),
        &[(day(1), 1), (day(2), 2)],
        1,
        None,
    );
    let eth = root.join("book/venue=binance-usdm/symbol=ETHUSDT/date=2024-08-08");
    std::fs::create_dir_all(&eth).unwrap();
    write_book_part(&eth.join("part-x-000000.parquet"), &[(day(1), 10), (day(2), 20)], 2, None);
    let catalog = Catalog::open(&root).unwrap();
    let eth_spec = spec(TableKind::Book, Venue::BinanceUsdm, "ETHUSDT", 1);
    let btc_first = rows(&catalog, &[book(), eth_spec.clone()]);
    assert_eq!(btc_first.iter().map(|row| row.price.0).collect::<Vec<_>>(), [1, 10, 2, 20]);
    let eth_first = rows(&catalog, &[eth_spec, book()]);
    assert_eq!(eth_first.iter().map(|row| row.price.0).collect::<Vec<_>>(), [10, 1, 20, 2]);
    assert_eq!(eth_first[0].instrument.0, 1);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn missing_catalog_and_instruments_name_the_path() {
    let error = Catalog::open(Path::new("/nonexistent/ferrotrade-catalog")).unwrap_err();
    assert!(matches!(error, CatalogError::NoCatalog { .. }));
    assert_eq!(error.to_string(), "no catalog at /nonexistent/ferrotrade-catalog: the folder does not exist");

    let root = scratch("no-instruments");
    let error = Catalog::open(&root).unwrap_err().to_string();
    assert!(error.contains(&root.join("instruments.json").display().to_string()), "{error}");
    assert!(error.contains("instruments.json is missing"), "{error}");

    std::fs::write(
        root.join("instruments.json"),
        r#"[{"venue": "kraken", "symbol": "X", "price_precision": 1, "size_precision": 1}]"#,
    )
    .unwrap();
    let error = Catalog::open(&root).unwrap_err().to_string();
    assert!(error.contains("entry 0") && error.contains("kraken"), "{error}");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn unknown_symbol_names_kind_venue_symbol_and_catalog() {
    let catalog = catalog();
    let error = EventStream::open(&catalog, &[book(), spec(TableKind::Book, Venue::BinanceUsdm, "ETHUSDT", 1)], 10)
        .unwrap_err();
    assert!(matches!(error, CatalogError::NoData { .. }));
    let message = error.to_string();
    assert!(message.starts_with("no book data for binance-usdm/ETHUSDT in the catalog at "), "{message}");
    assert!(message.contains(CATALOG), "{message}");
    let error =
        EventStream::open(&catalog, &[spec(TableKind::Mark, Venue::BinanceUsdm, "BTCUSDT", 0)], 10).unwrap_err();
    assert!(error.to_string().starts_with("no mark data for binance-usdm/BTCUSDT"), "{error}");

    let mut before = book();
    before.end = Some(nanos(day(0)));
    let message = EventStream::open(&catalog, &[before], 10).unwrap_err().to_string();
    assert!(message.contains("excludes every date it holds (2024-08-08 .. 2024-08-08)"), "{message}");
    assert!(matches!(EventStream::open(&catalog, &[], 10), Err(CatalogError::Arguments(_))));
    assert!(matches!(EventStream::open(&catalog, &[book()], 0), Err(CatalogError::Arguments(_))));
}

#[test]
fn missing_column_names_file_and_column() {
    let root = scratch_catalog("missing-column");
    let part = book_date_folder(&root, "2024-08-08").join("part-a-000000.parquet");
    write_book_part(&part, &[(day(1), 1)], 1, Some("flags"));
    let error = EventStream::open(&Catalog::open(&root).unwrap(), &[book()], 10).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, CatalogError::Schema { column: "flags", .. }), "{message}");
    assert!(message.starts_with(&format!("{}: column \"flags\": missing", part.display())), "{message}");
    std::fs::remove_dir_all(root).unwrap();
}

/// A copy of the real book part under a scratch catalog.
fn copy_real_book(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let root = scratch_catalog(name);
    let source = part_files(Path::new(CATALOG), "book", "binance-usdm", "BTCUSDT").remove(0);
    let target = book_date_folder(&root, "2024-08-08").join("part-a-000000.parquet");
    std::fs::copy(source, &target).unwrap();
    (root, target)
}

#[test]
fn truncated_file_fails_at_open_naming_it() {
    let (root, part) = copy_real_book("truncated");
    let bytes = std::fs::read(&part).unwrap();
    std::fs::write(&part, &bytes[..bytes.len() / 2]).unwrap();
    let error = EventStream::open(&Catalog::open(&root).unwrap(), &[book()], 10).unwrap_err();
    assert!(matches!(error, CatalogError::Parquet { .. }));
    assert!(error.to_string().starts_with(&format!("{}: not a readable Parquet file", part.display())), "{error}");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn corrupt_pages_fail_through_the_iterator_naming_the_file() {
    let (root, part) = copy_real_book("corrupt");
    let mut bytes = std::fs::read(&part).unwrap();
    // Keep the footer (last 64 KiB hold it and its length) so the file opens; garble the pages before it.
    let end = bytes.len() - 64 * 1024;
    for (index, byte) in bytes[4..end].iter_mut().enumerate() {
        *byte = (index as u8).wrapping_mul(31) ^ 0x5a;
    }
    std::fs::write(&part, &bytes).unwrap();
    let stream = EventStream::open(&Catalog::open(&root).unwrap(), &[book()], 1_000).unwrap();
    let results: Vec<_> = stream.collect();
    let error = results.last().unwrap().as_ref().unwrap_err();
    assert!(results[..results.len() - 1].iter().all(Result::is_ok));
    assert!(matches!(error, CatalogError::Parquet { .. }), "{error}");
    assert!(error.to_string().starts_with(&format!("{}: decoding failed", part.display())), "{error}");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn unsorted_part_is_an_error_not_a_silent_misorder() {
    let root = scratch_catalog("unsorted");
    let part = book_date_folder(&root, "2024-08-08").join("part-a-000000.parquet");
    write_book_part(&part, &[(day(10), 1), (day(5), 2)], 1, None);
    let mut stream = EventStream::open(&Catalog::open(&root).unwrap(), &[book()], 10).unwrap();
    let error = stream.next().unwrap().unwrap_err();
    assert!(error.to_string().contains("ts_recv decreases"), "{error}");
    assert!(error.to_string().starts_with(&part.display().to_string()), "{error}");
    assert!(stream.next().is_none());
    std::fs::remove_dir_all(root).unwrap();
}
