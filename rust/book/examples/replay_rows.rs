//! Replays a stream of book rows through [`OrderBook::apply_row`] and prints the time per level update.
//!
//! Used by `benchmarks/book_replay.py` to measure the book from Rust on exactly the stream the Python
//! benchmark builds. The stream is four raw little-endian files in one directory: `side.u8` (0 bid, 1 ask),
//! `price.i64`, `size.i64` (mantissas) and `flags.u8`.
//!
//! ```text
//! cargo run --release -p ferrotrade-book --example replay_rows -- <dir> [runs]
//! ```
//! Prints one line per run and a final `median_ns_per_update=<x>`.
#![allow(clippy::disallowed_methods)] // a benchmark reads the wall clock by design

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use ferrotrade_book::OrderBook;
use ferrotrade_model::{BookSide, Price, Quantity};

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, String> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|error| format!("{}: {error}", path.display()))
}

fn i64s(bytes: &[u8], name: &str) -> Result<Vec<i64>, String> {
    if !bytes.len().is_multiple_of(8) {
        return Err(format!("{name}: length {} is not a multiple of 8", bytes.len()));
    }
    Ok(bytes.chunks_exact(8).map(|chunk| i64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]))).collect())
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: replay_rows <dir> [runs]")?;
    let runs: usize = args.next().map_or(Ok(5), |text| text.parse().map_err(|_| format!("bad run count {text:?}")))?;
    let dir = Path::new(&dir);
    let sides = read(dir, "side.u8")?;
    let flags = read(dir, "flags.u8")?;
    let prices = i64s(&read(dir, "price.i64")?, "price.i64")?;
    let sizes = i64s(&read(dir, "size.i64")?, "size.i64")?;
    let rows = sides.len();
    if flags.len() != rows || prices.len() != rows || sizes.len() != rows {
        return Err(format!(
            "column lengths differ: side {rows}, flags {}, price {}, size {}",
            flags.len(),
            prices.len(),
            sizes.len()
        ));
    }
    let mut book = OrderBook::new();
    let mut timings = Vec::with_capacity(runs);
    for run in 0..runs.max(1) {
        let start = Instant::now();
        for index in 0..rows {
            let side = if sides[index] == 0 { BookSide::Bid } else { BookSide::Ask };
            book.apply_row(side, Price(prices[index]), Quantity(sizes[index]), flags[index])
                .map_err(|error| format!("row {index}: {error}"))?;
        }
        let elapsed = start.elapsed().as_secs_f64();
        let ns = elapsed * 1e9 / rows.max(1) as f64;
        println!("run={run} rows={rows} seconds={elapsed:.4} ns_per_update={ns:.3}");
        timings.push(ns);
    }
    book.check_integrity().map_err(|error| format!("book after replay: {error}"))?;
    timings.sort_by(f64::total_cmp);
    println!("median_ns_per_update={:.3}", timings[timings.len() / 2]);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("replay_rows: {message}");
            ExitCode::FAILURE
        }
    }
}
