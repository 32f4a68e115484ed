//! `MarketFeed` over real sockets against a tiny in-test venue (WebSocket + REST depth on one loopback
//! port) that replays real captures. The local venue (`ferrotrade-localvenue`) will replace this server;
//! until then these tests cover what unit tests cannot: connection tasks, subscription frames, the REST
//! snapshot fetch, the stale watchdog and reconnect, Bybit's ping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrotrade_book::OrderBook;
use ferrotrade_live::endpoints::Endpoints;
use ferrotrade_live::feed::{FeedEvent, FeedInstrument, FeedOptions, MarketFeed, UnsyncReason};
use ferrotrade_model::{BookSide, Instrument, InstrumentIndex, Level, MarketEvent, UnixNanos, Venue};
use ferrotrade_strategy::DataKind;
use ferrotrade_venues::VenueError;
use ferrotrade_venues::decoded::Scratch;
use ferrotrade_venues::normalize::Converter;
use ferrotrade_venues::pipeline::{EventSink, Pipeline, PipelineOptions};
use ferrotrade_venues::source::{Frame, FrameHint, plan_sessions};
use ferrotrade_venues::sync::BookSync;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// Counts heap allocations made on this thread while `COUNTING` is set (around `process` calls).
struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn data(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/")).join(path)
}

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

/// The offline rebuild through the recorded-data pipeline: instrument, final book, trade ids.
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

/// The JSON part of each capture line (collector lines start with a receive timestamp).
fn frames(path: &str) -> Vec<String> {
    let mut text = String::new();
    ferrotrade_venues::lines::open_maybe_gzip(&data(path)).unwrap().read_to_string(&mut text).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| match line.split_once(' ') {
            Some((ts, json)) if ts.bytes().all(|b| b.is_ascii_digit()) => json.to_owned(),
            _ => line.to_owned(),
        })
        .collect()
}

fn fixed(mantissa: i64, scale: u8) -> String {
    ferrotrade_model::Decimal { mantissa, scale }.to_string()
}

/// The venue's REST depth answer for `book` at update id `last`.
fn depth_body(book: &OrderBook, instrument: &Instrument, last: u64) -> String {
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
        r#"{{"lastUpdateId":{last},"E":1,"T":1,"bids":[{}],"asks":[{}]}}"#,
        side(BookSide::Bid),
        side(BookSide::Ask)
    )
}

/// The venue's own book after `frames` (and the snapshot `rest`): `(book, last update id)`.
fn venue_book(instrument: &Instrument, rest: &str, frames: &[String]) -> (OrderBook, u64) {
    let mut sync = BookSync::for_venue(Venue::BinanceUsdm);
    let mut book = OrderBook::new();
    let mut last = 0;
    let mut scratch = Scratch::default();
    let mut converter = Converter::default();
    let origin = ferrotrade_venues::Origin::new(&Arc::new(PathBuf::from("server")), 0);
    let hint = FrameHint { venue: Some(Venue::BinanceUsdm), symbol: Some("BTCUSDT".into()) };
    for frame in std::iter::once(rest).chain(frames.iter().map(String::as_str)) {
        let Ok(Frame::Market(decoded)) =
            ferrotrade_venues::binance::decode_frame(frame.as_bytes(), &hint, &mut scratch)
        else {
            continue;
        };
        if let Ok(MarketEvent::Book(update)) = converter.convert(&origin, instrument, UnixNanos(1), &decoded.payload) {
            sync.on_update::<()>(&update, &mut |u| {
                book.apply_update(u).unwrap();
                last = u.header.sequence;
                Ok(())
            })
            .unwrap();
        }
    }
    (book, last)
}

fn is_depth(frame: &str) -> bool {
    frame.contains("\"e\":\"depthUpdate\"")
}

/// What the loopback venue serves and saw.
struct Venue1 {
    /// Frames per WS connection, in order (a missing entry: send nothing).
    sessions: Vec<Vec<String>>,
    /// REST depth answers, one per request (the last one repeats).
    snapshots: Vec<String>,
    ws_connections: AtomicUsize,
    rest_requests: AtomicUsize,
    /// Text frames the clients sent.
    received: Mutex<Vec<String>>,
    /// Request paths (with query) of WS handshakes.
    paths: Mutex<Vec<String>>,
    done: AtomicBool,
}

async fn serve(listener: TcpListener, venue: Arc<Venue1>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { return };
        tokio::spawn(connection(stream, Arc::clone(&venue)));
    }
}

async fn connection(mut stream: TcpStream, venue: Arc<Venue1>) {
    let mut peek = [0u8; 16];
    let Ok(n) = stream.peek(&mut peek).await else { return };
    if peek[..n].starts_with(b"GET /fapi/") || peek[..n].starts_with(b"GET /api/") {
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let Ok(n) = stream.read(&mut buf).await else { return };
            if n == 0 {
                return;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let number = venue.rest_requests.fetch_add(1, Ordering::SeqCst);
        let body = venue.snapshots[number.min(venue.snapshots.len() - 1)].clone();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-MBX-USED-WEIGHT-1M: 20\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(body.as_bytes()).await;
        let _ = stream.shutdown().await;
        return;
    }
    let paths = Arc::clone(&venue);
    #[allow(clippy::result_large_err)] // tungstenite's callback signature
    let callback = move |request: &Request, response: Response| {
        paths.paths.lock().unwrap().push(request.uri().to_string());
        Ok(response)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else { return };
    let number = venue.ws_connections.fetch_add(1, Ordering::SeqCst);
    let (mut sink, mut source) = ws.split();
    let reader_venue = Arc::clone(&venue);
    let (pong_tx, mut pong_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(Ok(message)) = source.next().await {
            if let Message::Text(text) = message {
                if text.as_str() == r#"{"op":"ping"}"# {
                    let _ = pong_tx.send(r#"{"success":true,"ret_msg":"pong","conn_id":"t","op":"ping"}"#.to_owned());
                }
                reader_venue.received.lock().unwrap().push(text.as_str().to_owned());
            }
        }
    });
    // Bybit clients subscribe after the handshake: wait for the first request before replaying.
    if venue.sessions.get(number).is_some_and(|frames| frames.first().is_some_and(|f| f.contains("\"topic\""))) {
        while venue.received.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    for frame in venue.sessions.get(number).into_iter().flatten() {
        if sink.send(Message::text(frame.as_str())).await.is_err() {
            return;
        }
    }
    if number + 1 >= venue.sessions.len() {
        venue.done.store(true, Ordering::SeqCst);
    }
    // Stay connected (silent) and answer application pings.
    while let Some(pong) = pong_rx.recv().await {
        if sink.send(Message::text(pong)).await.is_err() {
            return;
        }
    }
}

/// Runs the feed until it has routed `messages` market messages (frames and snapshots) and the venue has
/// sent everything, then drains what is already queued. Bounded by inputs, not by time (a silent venue
/// would otherwise make the watchdog reconnect forever).
///
/// Also returns `(calls, allocations)` of the `process` calls made while the book was synced (the steady
/// state; resyncs may allocate).
async fn drive(
    feed: &mut MarketFeed,
    venue: &Venue1,
    book: &mut OrderBook,
    messages: u64,
) -> (Vec<FeedEvent>, (u64, u64)) {
    let books = std::slice::from_mut(book);
    let mut all = Vec::new();
    let mut out = Vec::with_capacity(4096);
    let (mut calls, mut allocations) = (0, 0);
    loop {
        let input = feed.next_input().await;
        out.clear();
        let steady = feed.is_synced(InstrumentIndex(0));
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        COUNTING.with(|counting| counting.set(steady));
        feed.process(input, books, &mut out);
        COUNTING.with(|counting| counting.set(false));
        if steady {
            calls += 1;
            allocations += ALLOCATIONS.load(Ordering::Relaxed) - before;
        }
        all.extend_from_slice(&out);
        if venue.done.load(Ordering::SeqCst) && feed.stats().instruments[0].messages >= messages {
            return (all, (calls, allocations));
        }
    }
}

fn trade_ids(events: &[FeedEvent]) -> Vec<Option<u64>> {
    events
        .iter()
        .filter_map(|e| if let FeedEvent::Trade { trade, .. } = e { Some(trade.trade_id) } else { None })
        .collect()
}

async fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    (listener, base)
}

const USDM: &str = "sessions/binance-usdm/btcusdt_20240808.gz";
const BYBIT: &str = "bybit/2024-12-01_XRPUSDT_ob500.data";

#[tokio::test(flavor = "current_thread")]
async fn binance_feed_survives_a_stale_connection_and_ends_with_the_offline_book() {
    let (instrument, expected, expected_trades) = offline(USDM);
    let all = frames(USDM);
    let rest_at = all.iter().position(|f| f.starts_with("{\"lastUpdateId\"")).unwrap();
    let initial_snapshot = all[rest_at].clone();
    let ws: Vec<String> = all.iter().enumerate().filter(|(n, _)| *n != rest_at).map(|(_, f)| f.clone()).collect();
    // The first connection goes silent after `cut` frames; the second resumes at the last diff before
    // the cut, as a venue whose snapshot id falls inside that diff.
    let cut = ws.len() / 2;
    let resume = (0..cut).rev().find(|&n| is_depth(&ws[n])).unwrap();
    let (server_book, last) = venue_book(&instrument, &initial_snapshot, &ws[..=resume]);
    let venue = Arc::new(Venue1 {
        sessions: vec![ws[..cut].to_vec(), ws[resume..].to_vec()],
        snapshots: vec![initial_snapshot, depth_body(&server_book, &instrument, last)],
        ws_connections: AtomicUsize::new(0),
        rest_requests: AtomicUsize::new(0),
        received: Mutex::new(Vec::new()),
        paths: Mutex::new(Vec::new()),
        done: AtomicBool::new(false),
    });
    let (listener, host) = listen().await;
    tokio::spawn(serve(listener, Arc::clone(&venue)));

    let endpoints =
        Endpoints::local(&format!("http://{host}"), &format!("ws://{host}/binance-usdm"), Venue::BinanceUsdm);
    let instruments = vec![FeedInstrument { index: InstrumentIndex(0), instrument, symbol: "BTCUSDT".into() }];
    let options = FeedOptions {
        stale_after: Duration::from_millis(300),
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
        ..FeedOptions::default()
    };
    let subscriptions = [(InstrumentIndex(0), DataKind::Book), (InstrumentIndex(0), DataKind::Trades)];
    let mut feed = MarketFeed::new(Venue::BinanceUsdm, endpoints, instruments, &subscriptions, options).unwrap();
    let mut book = OrderBook::new();
    let messages = (cut + ws.len() - resume + 2) as u64;
    let (events, (calls, allocations)) = drive(&mut feed, &venue, &mut book, messages).await;

    // Steady state allocates nothing per message: the few allocations are the decoder's and converter's
    // level buffers doubling up to the largest message (about ten growths each). One allocation per
    // message would be over 90 000.
    assert!(calls > 50_000, "{calls}");
    assert!(allocations < 100, "{allocations} allocations in {calls} synced process calls");
    assert_eq!(
        venue.paths.lock().unwrap()[0],
        "/binance-usdm/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade"
    );
    assert_eq!(levels(&book), levels(&expected), "book equals the offline rebuild");
    assert_eq!(trade_ids(&events), expected_trades, "every trade exactly once, in order");
    assert!(feed.is_synced(InstrumentIndex(0)));
    let unsynced: Vec<_> = events.iter().filter(|e| matches!(e, FeedEvent::Unsynced { .. })).collect();
    assert_eq!(unsynced, [&FeedEvent::Unsynced { index: InstrumentIndex(0), reason: UnsyncReason::Stale }]);
    let stats = feed.stats();
    let (connection, instrument) = (stats.connections[0], stats.instruments[0]);
    assert_eq!((connection.reconnects, connection.stale_timeouts, connection.up), (1, 1, true));
    assert_eq!((instrument.snapshot_requests, instrument.resyncs), (2, 1));
    assert!(instrument.duplicates_dropped > 0, "trades resent after the reconnect were dropped");
    assert_eq!(venue.rest_requests.load(Ordering::SeqCst), 2);
    assert_eq!(stats.decode_errors, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn bybit_feed_subscribes_in_batches_pings_and_ends_with_the_offline_book() {
    let (instrument, expected, _) = offline(BYBIT);
    let archive = frames(BYBIT);
    let messages = archive.len() as u64;
    let venue = Arc::new(Venue1 {
        sessions: vec![archive],
        snapshots: vec![String::new()],
        ws_connections: AtomicUsize::new(0),
        rest_requests: AtomicUsize::new(0),
        received: Mutex::new(Vec::new()),
        paths: Mutex::new(Vec::new()),
        done: AtomicBool::new(false),
    });
    let (listener, host) = listen().await;
    tokio::spawn(serve(listener, Arc::clone(&venue)));
    let endpoints =
        Endpoints::local(&format!("http://{host}"), &format!("ws://{host}/v5/public/linear"), Venue::BybitLinear);
    let instruments = vec![FeedInstrument { index: InstrumentIndex(0), instrument, symbol: "XRPUSDT".into() }];
    let options = FeedOptions { ping_every: Duration::from_millis(50), snapshot_depth: 500, ..FeedOptions::default() };
    let subscriptions = [(InstrumentIndex(0), DataKind::Book), (InstrumentIndex(0), DataKind::Trades)];
    let mut feed = MarketFeed::new(Venue::BybitLinear, endpoints, instruments, &subscriptions, options).unwrap();
    let mut book = OrderBook::new();
    let (events, _) = drive(&mut feed, &venue, &mut book, messages).await;

    assert_eq!(levels(&book), levels(&expected));
    assert!(feed.is_synced(InstrumentIndex(0)));
    assert!(events.contains(&FeedEvent::Synced { index: InstrumentIndex(0) }));
    let received = venue.received.lock().unwrap().clone();
    let subscribe: serde_json::Value = serde_json::from_str(&received[0]).unwrap();
    assert_eq!(subscribe["op"], "subscribe");
    assert_eq!(subscribe["args"], serde_json::json!(["orderbook.500.XRPUSDT", "publicTrade.XRPUSDT"]));
    assert_eq!(venue.paths.lock().unwrap()[0], "/v5/public/linear");
    // Keep-alive: the feed pings every `ping_every`; the venue's pong comes back as a control frame.
    let mut out = Vec::new();
    while feed.stats().control_frames == 0 {
        let input = feed.next_input().await;
        feed.process(input, std::slice::from_mut(&mut book), &mut out);
    }
    assert!(venue.received.lock().unwrap().iter().any(|frame| frame == r#"{"op":"ping"}"#), "keep-alive sent");
    assert_eq!(feed.stats().decode_errors, 0);
}
