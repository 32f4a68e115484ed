//! Cost of the live feed's synchronous half, `MarketFeed::process`: a WebSocket frame (decode, venue sync
//! rule, fixed-point conversion, dedup, book apply, events) as the engine runs it for every frame, without
//! sockets. This is the `frame_to_book` stage of the live latency path minus the wait for the frame.
//!
//! Input: the bundled real Binance USD-M BTCUSDT session (`tests/data/sessions/binance-usdm`, six minutes:
//! depth diffs at 0 ms, bookTicker, trades, and the REST snapshot), replayed whole per iteration into a
//! fresh feed and book. Printed as frames per second and MB/s of JSON; `depth_frames` replays only the
//! depth diffs (and the snapshot), the frames that move the book and wake a market maker;
//! `snapshot_sync` times the REST snapshot's input alone (the book built and the buffered diffs replayed).

use std::hint::black_box;
use std::io::Read;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ferrotrade_book::OrderBook;
use ferrotrade_live::endpoints::Endpoints;
use ferrotrade_live::feed::{FeedEvent, FeedInput, FeedInstrument, FeedOptions, MarketFeed};
use ferrotrade_model::{Instrument, InstrumentId, InstrumentIndex, UnixNanos, Venue};
use ferrotrade_strategy::DataKind;
use tokio_tungstenite::tungstenite::Bytes;

const CAPTURE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/sessions/binance-usdm/btcusdt_20240808.gz");

/// `(ts_recv, json)` of every line of the capture.
#[allow(clippy::expect_used)]
fn capture() -> Vec<(u64, Bytes)> {
    let mut text = String::new();
    ferrotrade_venues::lines::open_maybe_gzip(std::path::Path::new(CAPTURE))
        .expect("capture")
        .read_to_string(&mut text)
        .expect("read");
    text.lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(ts, json)| (ts.parse().unwrap_or(0), Bytes::from(json.to_owned())))
        .collect()
}

fn inputs(lines: &[(u64, Bytes)]) -> Vec<FeedInput> {
    lines
        .iter()
        .map(|(ts, json)| {
            if json.starts_with(b"{\"lastUpdateId\"") {
                FeedInput::recorded_snapshot(0, json.clone(), UnixNanos(*ts))
            } else {
                FeedInput::recorded_frame(0, json.clone(), UnixNanos(*ts))
            }
        })
        .collect()
}

#[allow(clippy::expect_used)]
fn feed() -> MarketFeed {
    let instrument = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3);
    let instruments = vec![FeedInstrument { index: InstrumentIndex(0), instrument, symbol: "BTCUSDT".into() }];
    let subscriptions = [(InstrumentIndex(0), DataKind::Book), (InstrumentIndex(0), DataKind::Trades)];
    let endpoints = Endpoints::local("http://127.0.0.1:9", "ws://127.0.0.1:9/stream", Venue::BinanceUsdm);
    let options = FeedOptions { snapshot_depth: 1000, ..FeedOptions::default() };
    MarketFeed::new(Venue::BinanceUsdm, endpoints, instruments, &subscriptions, options).expect("feed")
}

/// Feeds `inputs` in order, as the engine does.
fn process_all(feed: &mut MarketFeed, books: &mut [OrderBook], inputs: Vec<FeedInput>, events: &mut Vec<FeedEvent>) {
    for input in inputs {
        events.clear();
        feed.process(input, books, events);
    }
}

fn bench(c: &mut Criterion, name: &str, lines: &[(u64, Bytes)]) {
    let bytes: usize = lines.iter().map(|(_, json)| json.len()).sum();
    let mut group = c.benchmark_group("feed_process");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(format!("{name} ({} frames, MB/s of JSON)", lines.len()), |b| {
        b.iter_batched(
            || (feed(), vec![OrderBook::new()], inputs(lines), Vec::<FeedEvent>::with_capacity(4096)),
            |(mut feed, mut books, inputs, mut events)| {
                process_all(&mut feed, &mut books, inputs, &mut events);
                black_box(books[0].best_bid())
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn feed_process(c: &mut Criterion) {
    let lines = capture();
    bench(c, "whole_session", &lines);
    let depth: Vec<(u64, Bytes)> = lines
        .iter()
        .filter(|(_, json)| json.starts_with(b"{\"lastUpdateId\"") || json.windows(11).any(|w| w == b"depthUpdate"))
        .cloned()
        .collect();
    bench(c, "depth_frames", &depth);
    snapshot_sync(c, &lines);
}

/// The snapshot's input alone: the frames before it (the diffs it finds buffered) are processed in the
/// untimed set-up, so the time is decoding the 1000 levels a side, building the book and replaying the
/// buffered diffs over it: what the first quotes of a run wait for.
#[allow(clippy::expect_used)]
fn snapshot_sync(c: &mut Criterion, lines: &[(u64, Bytes)]) {
    let at = lines.iter().position(|(_, json)| json.starts_with(b"{\"lastUpdateId\"")).expect("a snapshot");
    let mut group = c.benchmark_group("feed_process");
    group.bench_function(format!("snapshot_sync ({} bytes of JSON)", lines[at].1.len()), |b| {
        b.iter_batched(
            || {
                let (mut feed, mut books) = (feed(), vec![OrderBook::new()]);
                let mut events = Vec::<FeedEvent>::with_capacity(4096);
                process_all(&mut feed, &mut books, inputs(&lines[..at]), &mut events);
                (feed, books, inputs(&lines[at..=at]), events)
            },
            |(mut feed, mut books, inputs, mut events)| {
                process_all(&mut feed, &mut books, inputs, &mut events);
                black_box(books[0].best_bid())
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, feed_process);
criterion_main!(benches);
