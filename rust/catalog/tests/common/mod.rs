//! Helpers shared by the catalog tests: the bundled test catalog, scratch catalogs, synthetic parts and
//! row counts read straight from Parquet footers (independently of the crate's file listing).
#![allow(dead_code, clippy::unwrap_used, reason = "test helpers fail the test on any error")]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, TimestampNanosecondArray, UInt8Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use ferrotrade_catalog::{Catalog, Chunk, EventStream, StreamSpec, TableKind};
use ferrotrade_model::{EventRow, InstrumentIndex, UnixNanos, Venue};
use parquet::arrow::ArrowWriter;
use parquet::file::reader::{FileReader, SerializedFileReader};

/// The catalog built by `tests/make_catalog.sh`.
pub const CATALOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/catalog");

pub fn catalog() -> Catalog {
    Catalog::open(Path::new(CATALOG)).expect("test catalog (run rust/catalog/tests/make_catalog.sh)")
}

pub fn spec(kind: TableKind, venue: Venue, symbol: &str, instrument: u32) -> StreamSpec {
    StreamSpec { kind, venue, symbol: symbol.into(), instrument: InstrumentIndex(instrument), start: None, end: None }
}

pub fn book() -> StreamSpec {
    spec(TableKind::Book, Venue::BinanceUsdm, "BTCUSDT", 0)
}

pub fn trades() -> StreamSpec {
    spec(TableKind::Trades, Venue::BinanceUsdm, "BTCUSDT", 0)
}

pub fn bars() -> StreamSpec {
    spec(TableKind::Bars, Venue::BinanceSpot, "BTCUSDT", 1)
}

/// Every chunk of a stream over `specs`, bar/mark side tables included.
pub fn chunks(catalog: &Catalog, specs: &[StreamSpec], chunk_rows: usize) -> Vec<Chunk> {
    EventStream::open(catalog, specs, chunk_rows).unwrap().map(Result::unwrap).collect()
}

/// Every row of a stream over `specs`.
pub fn rows(catalog: &Catalog, specs: &[StreamSpec]) -> Vec<EventRow> {
    chunks(catalog, specs, 10_000).into_iter().flat_map(|chunk| chunk.rows).collect()
}

/// Part files under `root/kind/venue=<venue>/symbol=<symbol>`, found by walking the folders.
pub fn part_files(root: &Path, kind: &str, venue: &str, symbol: &str) -> Vec<PathBuf> {
    let folder = root.join(kind).join(format!("venue={venue}")).join(format!("symbol={symbol}"));
    let mut files = Vec::new();
    for date in std::fs::read_dir(folder).unwrap() {
        for part in std::fs::read_dir(date.unwrap().path()).unwrap() {
            let path = part.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "parquet") {
                files.push(path);
            }
        }
    }
    files
}

/// Rows of `kind` for the instrument, summed from the Parquet footers.
pub fn parquet_rows(kind: &str, venue: &str, symbol: &str) -> u64 {
    part_files(Path::new(CATALOG), kind, venue, symbol)
        .iter()
        .map(|path| {
            let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
            u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap()
        })
        .sum()
}

/// A fresh empty folder under the system temp dir.
pub fn scratch(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ferrotrade-catalog-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    path
}

/// A scratch catalog holding only the test catalog's `instruments.json`.
pub fn scratch_catalog(name: &str) -> PathBuf {
    let root = scratch(name);
    std::fs::copy(Path::new(CATALOG).join("instruments.json"), root.join("instruments.json")).unwrap();
    root
}

/// The folder of one book date partition of binance-usdm/BTCUSDT in `root`.
pub fn book_date_folder(root: &Path, date: &str) -> PathBuf {
    let folder = root.join(format!("book/venue=binance-usdm/symbol=BTCUSDT/date={date}"));
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

/// Writes a book part with one row per `(ts_recv, price)`; `sequence` carries `tag` so tests can tell
/// parts apart. `drop_column` leaves a column out.
pub fn write_book_part(path: &Path, rows: &[(u64, i64)], tag: u64, drop_column: Option<&str>) {
    let ts = || DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
    let times: Vec<i64> = rows.iter().map(|(t, _)| i64::try_from(*t).unwrap()).collect();
    let n = rows.len();
    let time_array = || -> ArrayRef { Arc::new(TimestampNanosecondArray::from(times.clone()).with_timezone("UTC")) };
    let columns: Vec<(&str, DataType, ArrayRef)> = vec![
        ("ts_event", ts(), time_array()),
        ("ts_recv", ts(), time_array()),
        ("sequence", DataType::UInt64, Arc::new(UInt64Array::from(vec![tag; n]))),
        ("first_sequence", DataType::UInt64, Arc::new(UInt64Array::from(vec![tag; n]))),
        ("prev_sequence", DataType::UInt64, Arc::new(UInt64Array::from(vec![0; n]))),
        ("side", DataType::UInt8, Arc::new(UInt8Array::from(vec![1; n]))),
        ("price", DataType::Int64, Arc::new(Int64Array::from(rows.iter().map(|(_, p)| *p).collect::<Vec<_>>()))),
        ("size", DataType::Int64, Arc::new(Int64Array::from(vec![7; n]))),
        ("flags", DataType::UInt8, Arc::new(UInt8Array::from(vec![2; n]))),
    ];
    let columns: Vec<_> = columns.into_iter().filter(|(name, ..)| Some(*name) != drop_column).collect();
    let schema = Arc::new(Schema::new(
        columns.iter().map(|(name, data_type, _)| Field::new(*name, data_type.clone(), false)).collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|(.., array)| array).collect()).unwrap();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// Nanoseconds of `2024-08-08T00:00:00Z` plus `offset`.
pub fn day(offset: u64) -> u64 {
    1_723_075_200_000_000_000 + offset
}

pub fn is_sorted(rows: &[EventRow]) -> bool {
    rows.windows(2).all(|pair| pair[0].ts_recv <= pair[1].ts_recv)
}

pub fn nanos(value: u64) -> UnixNanos {
    UnixNanos(value)
}
