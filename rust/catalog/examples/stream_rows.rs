//! Throughput of the catalog reader: streams the book (or every kind) of the test catalog in a loop and
//! prints rows per second as the consumer sees them (decode on the reader thread, a checksum on this one).
//!
//! ```text
//! cargo run --release -p ferrotrade-catalog --example stream_rows -- [CATALOG] [SECONDS] [book|all] [CHUNK_ROWS]
//! ```
#![allow(clippy::disallowed_methods, reason = "a benchmark measures wall time")]

use std::path::PathBuf;
use std::time::Instant;

use ferrotrade_catalog::{Catalog, CatalogError, EventStream, StreamSpec, TableKind};
use ferrotrade_model::{InstrumentIndex, Venue};

fn main() -> Result<(), CatalogError> {
    let mut args = std::env::args().skip(1);
    let root = args
        .next()
        .map_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/catalog")), PathBuf::from);
    let seconds: f64 = args.next().and_then(|text| text.parse().ok()).unwrap_or(5.0);
    let all = args.next().is_some_and(|mode| mode == "all");
    let chunk_rows: usize = args.next().and_then(|text| text.parse().ok()).unwrap_or(16_384);
    let catalog = Catalog::open(&root)?;
    let spec = |kind, venue, index| StreamSpec {
        kind,
        venue,
        symbol: "BTCUSDT".into(),
        instrument: InstrumentIndex(index),
        start: None,
        end: None,
    };
    let mut specs = vec![spec(TableKind::Book, Venue::BinanceUsdm, 0)];
    if all {
        specs.push(spec(TableKind::Trades, Venue::BinanceUsdm, 0));
        specs.push(spec(TableKind::Bars, Venue::BinanceSpot, 1));
    }
    let started = Instant::now();
    let (mut rows, mut passes, mut checksum) = (0u64, 0u64, 0u64);
    let mut open_time = 0.0;
    while started.elapsed().as_secs_f64() < seconds {
        let opening = Instant::now();
        let mut stream = EventStream::open(&catalog, &specs, chunk_rows)?;
        open_time += opening.elapsed().as_secs_f64();
        while let Some(chunk) = stream.next() {
            let chunk = chunk?;
            rows += chunk.rows.len() as u64;
            // Touch every row, as an engine would, so the figure is rows delivered *and* read.
            checksum = chunk.rows.iter().fold(checksum, |acc, row| acc.wrapping_add(row.price.0 as u64 ^ row.aux));
            stream.recycle(chunk);
        }
        passes += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{} rows in {passes} passes over {} in {elapsed:.2} s, chunks of {chunk_rows}: {:.1} M rows/s (open/footers {:.1} ms per pass, checksum {checksum:x})",
        rows,
        root.display(),
        rows as f64 / elapsed / 1e6,
        open_time / passes as f64 * 1e3,
    );
    Ok(())
}
