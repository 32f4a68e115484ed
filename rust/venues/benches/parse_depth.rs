//! Throughput of Binance `depthUpdate` JSON to decoded levels (the design's >= 500 MB/s budget): exact
//! levels (`depthUpdate_to_levels`, what a capture reader takes) and the instrument's fixed point
//! (`depthUpdate_to_fixed`, [`decode_book`], what the live feed takes on the tick-to-trade path).
//!
//! Input: 200 consecutive real USD-M BTCUSDT `depthUpdate` frames (hftbacktest recording, see
//! `tests/data/SOURCES.md`), decoded in a loop with one reused [`Scratch`] or [`Converter`].

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrotrade_model::{UnixNanos, Venue};
use ferrotrade_venues::binance::{decode_book, decode_frame};
use ferrotrade_venues::decoded::{Payload, Scratch};
use ferrotrade_venues::normalize::Converter;
use ferrotrade_venues::source::{Frame, FrameHint};

const FRAMES: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/binance/usdm_btcusdt_depth_200.jsonl"));

fn parse_depth(c: &mut Criterion) {
    let frames: Vec<&[u8]> = FRAMES.lines().map(str::as_bytes).collect();
    let bytes: usize = frames.iter().map(|frame| frame.len()).sum();
    let hint = FrameHint { venue: Some(Venue::BinanceUsdm), symbol: None };
    let mut scratch = Scratch::default();
    let mut group = c.benchmark_group("binance");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("depthUpdate_to_levels", |b| {
        b.iter(|| {
            let mut levels = 0usize;
            for frame in &frames {
                match decode_frame(black_box(frame), &hint, &mut scratch) {
                    Ok(Frame::Market(decoded)) => {
                        if let Payload::Book(book) = decoded.payload {
                            levels += book.bids.len() + book.asks.len();
                        }
                    }
                    other => panic!("not a depth update: {other:?}"),
                }
            }
            levels
        });
    });
    // BTCUSDT's precisions on USD-M: tick 0.1, lot 0.001.
    let mut converter = Converter::default();
    group.bench_function("depthUpdate_to_fixed", |b| {
        b.iter(|| {
            let mut levels = 0usize;
            for frame in &frames {
                let update = decode_book(black_box(frame), &hint, UnixNanos(0), |_| Some((1, 3)), &mut converter)
                    .expect("a compact depthUpdate of a known symbol");
                levels += update.bids.len() + update.asks.len();
            }
            levels
        });
    });
    group.finish();
}

criterion_group!(benches, parse_depth);
criterion_main!(benches);
