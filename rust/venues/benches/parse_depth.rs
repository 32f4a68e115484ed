//! Throughput of Binance `depthUpdate` JSON to exact decoded levels (the design's >= 500 MB/s budget).
//!
//! Input: 200 consecutive real USD-M BTCUSDT `depthUpdate` frames (hftbacktest recording, see
//! `tests/data/SOURCES.md`), decoded in a loop with one reused [`Scratch`], as a capture reader does.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrotrade_model::Venue;
use ferrotrade_venues::binance::decode_frame;
use ferrotrade_venues::decoded::{Payload, Scratch};
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
    group.finish();
}

criterion_group!(benches, parse_depth);
criterion_main!(benches);
