//! Market replay of the bundled USD-M capture: exact frames in order, and a REST snapshot plus the
//! received diffs rebuild the same book as the offline pipeline.
mod common;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use common::*;
use ferrotrade_book::OrderBook;
use ferrotrade_localvenue::LocalVenue;
use ferrotrade_model::{BookSide, Decimal, MarketEvent, Venue};
use ferrotrade_venues::VenueError;
use ferrotrade_venues::pipeline::{EventSink, Pipeline, PipelineOptions};
use ferrotrade_venues::source::plan_sessions;
use serde_json::Value;

/// The book of the capture after its last message, rebuilt offline by the venues pipeline.
fn offline_book() -> (BTreeMap<i64, i64>, BTreeMap<i64, i64>, u8, u8) {
    struct Sink(OrderBook);
    impl EventSink for Sink {
        fn event(&mut self, _instrument: usize, event: &MarketEvent<'_>) -> Result<(), VenueError> {
            if let MarketEvent::Book(update) = event {
                self.0.apply_update(update).expect("valid update");
            }
            Ok(())
        }
    }
    let cancel = AtomicBool::new(false);
    let pipeline = Pipeline::scan(plan_sessions(&[usdm_capture()]).expect("plan"), PipelineOptions::default(), &cancel)
        .expect("scan");
    let instrument = pipeline.instruments()[0].clone();
    let mut sink = Sink(OrderBook::new());
    pipeline.run(&mut sink, &cancel).expect("run");
    let side = |side| sink.0.depth(side, usize::MAX).map(|l| (l.price.0, l.size.0)).collect::<BTreeMap<_, _>>();
    (side(BookSide::Bid), side(BookSide::Ask), instrument.price_precision, instrument.size_precision)
}

fn fixed(value: &Value, precision: u8) -> i64 {
    Decimal::parse_str(value.as_str().expect("string")).expect("decimal").to_fixed(precision).expect("precision")
}

fn apply(book: &mut BTreeMap<i64, i64>, levels: &Value, price_p: u8, size_p: u8) {
    for level in levels.as_array().expect("levels") {
        let (price, size) = (fixed(&level[0], price_p), fixed(&level[1], size_p));
        if size == 0 {
            book.remove(&price);
        } else {
            book.insert(price, size);
        }
    }
}

#[tokio::test]
async fn usdm_subscriber_gets_the_recorded_frames_and_rebuilds_the_offline_book() {
    let expected = recorded_stream_frames(&usdm_capture());
    assert!(expected.len() > 90_000, "{}", expected.len());
    let venue = LocalVenue::start(config(vec![usdm_capture()])).await.expect("start");
    let url = format!(
        "{}/stream?streams=btcusdt@depth@0ms/btcusdt@trade/btcusdt@bookTicker",
        venue.ws_base(Venue::BinanceUsdm)
    );
    let mut socket = connect(&url).await;
    let reader = tokio::spawn(async move {
        let mut received = Vec::with_capacity(expected.len());
        while received.len() < expected.len() {
            received.push(next_text(&mut socket).await.expect("connection open until the last frame"));
        }
        (received, expected)
    });
    // The snapshot request waits until the replayed book holds the capture's snapshot.
    let client = reqwest::Client::new();
    let depth_url = format!("{}/fapi/v1/depth?symbol=BTCUSDT&limit=1000", venue.rest_base());
    let (status, snapshot, weight) = binance(&client, reqwest::Method::GET, &depth_url).await;
    assert_eq!(status, 200, "{snapshot}");
    assert_eq!(weight.as_deref(), Some("20"));
    let (received, expected) = reader.await.expect("reader");
    assert!(received == expected, "the frames differ from the recording");

    let (offline_bids, offline_asks, price_p, size_p) = offline_book();
    let last_update_id = snapshot["lastUpdateId"].as_u64().expect("lastUpdateId");
    let (mut bids, mut asks) = (BTreeMap::new(), BTreeMap::new());
    apply(&mut bids, &snapshot["bids"], price_p, size_p);
    apply(&mut asks, &snapshot["asks"], price_p, size_p);
    // Binance's procedure: drop u < lastUpdateId; the first diff brackets it; then pu chains.
    let mut previous: Option<u64> = None;
    let mut applied = 0;
    for frame in &received {
        let frame: Value = serde_json::from_str(frame).expect("json");
        if frame["stream"] != "btcusdt@depth@0ms" {
            continue;
        }
        let data = &frame["data"];
        let (first, last, prev) =
            (data["U"].as_u64().unwrap(), data["u"].as_u64().unwrap(), data["pu"].as_u64().unwrap());
        match previous {
            None if last < last_update_id => continue,
            None => assert!(first <= last_update_id && last_update_id <= last, "first diff brackets the snapshot"),
            Some(previous) => assert_eq!(prev, previous, "diffs chain"),
        }
        apply(&mut bids, &data["b"], price_p, size_p);
        apply(&mut asks, &data["a"], price_p, size_p);
        previous = Some(last);
        applied += 1;
    }
    assert!(applied > 1000, "{applied} diffs applied");
    // A 1000-level snapshot cannot show levels beyond its worst price that no diff touched since (the
    // venue's own limit): the books must agree on every price up to the snapshot's depth.
    let worst_bid = fixed(&snapshot["bids"].as_array().unwrap().last().unwrap()[0], price_p);
    let worst_ask = fixed(&snapshot["asks"].as_array().unwrap().last().unwrap()[0], price_p);
    let within = |book: &BTreeMap<i64, i64>, keep: &dyn Fn(i64) -> bool| -> BTreeMap<i64, i64> {
        book.iter().filter(|(price, _)| keep(**price)).map(|(p, s)| (*p, *s)).collect()
    };
    let (bids, offline_bids) = (within(&bids, &|p| p >= worst_bid), within(&offline_bids, &|p| p >= worst_bid));
    let (asks, offline_asks) = (within(&asks, &|p| p <= worst_ask), within(&offline_asks, &|p| p <= worst_ask));
    assert!(!bids.is_empty() && bids.len() + asks.len() > 1000, "{} bids, {} asks compared", bids.len(), asks.len());
    assert!(bids == offline_bids, "bids differ from the offline rebuild");
    assert!(asks == offline_asks, "asks differ from the offline rebuild");

    venue.replay_done().await;
    // The recent-trades list ends with the last trades streamed, read with the engine's own parser.
    let streamed: Vec<u64> = received
        .iter()
        .filter_map(|frame| serde_json::from_str::<Value>(frame).ok())
        .filter(|frame| frame["stream"] == "btcusdt@trade")
        .filter_map(|frame| frame["data"]["t"].as_u64())
        .collect();
    let trades_url = format!("{}/fapi/v1/trades?symbol=BTCUSDT&limit=1000", venue.rest_base());
    let body = client.get(&trades_url).send().await.expect("trades").bytes().await.expect("body");
    let mut listed = Vec::new();
    ferrotrade_venues::binance::parse_recent_trades(&body, &mut listed).expect("recent trades");
    let listed_ids: Vec<u64> = listed.iter().filter_map(|trade| trade.trade_id).collect();
    assert_eq!(listed_ids, streamed[streamed.len() - 1000..], "the last 1000 trades, oldest first");
    // The old trades lookup reaches back to any replayed id, with the account's key and no signature.
    let from = streamed[5000];
    let lookup_url = format!("{}/fapi/v1/historicalTrades?symbol=BTCUSDT&fromId={from}&limit=1000", venue.rest_base());
    let keyed = client.get(&lookup_url).header("X-MBX-APIKEY", KEY).send().await.expect("lookup");
    ferrotrade_venues::binance::parse_recent_trades(&keyed.bytes().await.expect("body"), &mut listed).expect("lookup");
    let looked_up: Vec<u64> = listed.iter().filter_map(|trade| trade.trade_id).collect();
    assert_eq!(looked_up, streamed[5000..6000]);
    let anonymous = client.get(&lookup_url).send().await.expect("lookup");
    assert_eq!(anonymous.status().as_u16(), 401, "the lookup wants an API key");
    let state = venue.state();
    assert_eq!(state.counters.frames_sent, received.len() as u64);
    assert_eq!(state.counters.slow_disconnects, 0);
    assert!(state.books[0].synced);
    venue.shutdown().await;
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_disconnected_and_counted() {
    use ferrotrade_localvenue::{LocalVenueConfig, SessionLimits};
    use std::time::Duration;
    let sessions = SessionLimits {
        queue_capacity: 16,
        slow_subscriber_timeout: Duration::from_millis(100),
        ..SessionLimits::default()
    };
    let venue = LocalVenue::start(LocalVenueConfig { sessions, ..config(vec![usdm_capture()]) }).await.expect("start");
    let url = format!("{}/stream?streams=btcusdt@depth@0ms", venue.ws_base(Venue::BinanceUsdm));
    let stalled = connect(&url).await;
    // Never read: the socket buffers fill, then the queue, then the replay gives up on this subscriber.
    venue.replay_done().await;
    let counters = venue.state().counters;
    assert_eq!(counters.slow_disconnects, 1);
    assert!(counters.frames_sent < counters.frames_read, "{counters:?}");
    drop(stalled);
    venue.shutdown().await;
}
