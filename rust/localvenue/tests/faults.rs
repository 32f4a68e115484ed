//! Seeded faults: what a subscriber observes matches the venue's fault counters and the configured
//! probabilities; REST 5xx; listenKey expiry.
mod common;

use std::time::Duration;

use common::*;
use ferrotrade_localvenue::{FaultConfig, LocalVenue, LocalVenueConfig, SessionLimits};
use ferrotrade_model::Venue;
use reqwest::Method;

/// Aligns `received` with `expected`: `(dropped, duplicated)` as a subscriber can tell them apart.
fn align(expected: &[String], received: &[String]) -> (u64, u64) {
    let (mut i, mut dropped, mut duplicated) = (0, 0, 0);
    for (j, frame) in received.iter().enumerate() {
        if j > 0 && *frame == received[j - 1] && expected.get(i) != Some(frame) {
            duplicated += 1;
            continue;
        }
        while expected.get(i).is_some_and(|e| e != frame) {
            dropped += 1;
            i += 1;
        }
        assert!(i < expected.len(), "frame {j} is not in the recording");
        i += 1;
    }
    (dropped + (expected.len() - i) as u64, duplicated)
}

#[tokio::test]
async fn dropped_and_duplicated_frames_match_the_seeded_config() {
    let expected = recorded_stream_frames(&usdm_capture());
    let faults = FaultConfig { drop: 0.05, duplicate: 0.02, ..FaultConfig::default() };
    let venue =
        LocalVenue::start(LocalVenueConfig { faults, seed: 7, ..config(vec![usdm_capture()]) }).await.expect("start");
    let url = format!(
        "{}/stream?streams=btcusdt@depth@0ms/btcusdt@trade/btcusdt@bookTicker",
        venue.ws_base(Venue::BinanceUsdm)
    );
    let mut socket = connect(&url).await;
    let mut received = Vec::new();
    loop {
        tokio::select! {
            text = next_text(&mut socket) => received.push(text.expect("open")),
            () = venue.replay_done() => break,
        }
    }
    let sent = venue.state().counters.frames_sent as usize;
    while received.len() < sent {
        received.push(next_text(&mut socket).await.expect("open"));
    }
    let counters = venue.state().counters;
    let (dropped, duplicated) = align(&expected, &received);
    assert_eq!((dropped, duplicated), (counters.dropped, counters.duplicated));
    assert_eq!(received.len() as u64, expected.len() as u64 - counters.dropped + counters.duplicated);
    // Binomial: n = 93 952, p = 0.05 and 0.02; bounds at more than 6 standard deviations.
    let n = expected.len() as f64;
    assert!((counters.dropped as f64 - 0.05 * n).abs() < 6.0 * (n * 0.05 * 0.95).sqrt(), "{counters:?}");
    assert!((counters.duplicated as f64 - 0.02 * n).abs() < 6.0 * (n * 0.02 * 0.98).sqrt(), "{counters:?}");
    venue.shutdown().await;
}

#[tokio::test]
async fn rest_faults_answer_503_and_are_counted() {
    let faults = FaultConfig { rest_5xx: 0.5, ..FaultConfig::default() };
    let venue =
        LocalVenue::start(LocalVenueConfig { faults, seed: 3, ..config(vec![usdm_capture()]) }).await.expect("start");
    let client = reqwest::Client::new();
    let mut failed = 0;
    for _ in 0..40 {
        let (status, body, _) = binance(&client, Method::GET, &format!("{}/fapi/v1/time", venue.rest_base())).await;
        if status == 503 {
            assert_eq!(body["code"].as_i64(), Some(-1001));
            failed += 1;
        } else {
            assert_eq!(status, 200);
        }
    }
    let counters = venue.state().counters;
    assert_eq!((counters.rest_5xx, counters.rest_requests), (failed, 40));
    assert!((5..=35).contains(&failed), "{failed} of 40");
    venue.shutdown().await;
}

#[tokio::test]
async fn an_expired_listen_key_says_so_and_closes_its_stream() {
    let sessions = SessionLimits { listen_key_ttl: Duration::from_millis(300), ..SessionLimits::default() };
    let venue = LocalVenue::start(LocalVenueConfig { sessions, ..config(vec![usdm_capture()]) }).await.expect("start");
    let client = reqwest::Client::new();
    let (_, key, _) = binance(&client, Method::POST, &format!("{}/fapi/v1/listenKey", venue.rest_base())).await;
    let key = key["listenKey"].as_str().expect("key").to_owned();
    let mut user = connect(&format!("{}/ws/{key}", venue.ws_base(Venue::BinanceUsdm))).await;
    let event: serde_json::Value = serde_json::from_str(&next_text(&mut user).await.expect("event")).expect("json");
    assert_eq!((event["e"].as_str(), event["listenKey"].as_str()), (Some("listenKeyExpired"), Some(key.as_str())));
    assert!(next_text(&mut user).await.is_none(), "closed after the event");
    let (status, body, _) = binance(&client, Method::PUT, &format!("{}/fapi/v1/listenKey", venue.rest_base())).await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(-1125)));
    venue.shutdown().await;
}

#[tokio::test]
async fn reordered_frames_all_arrive_and_are_counted() {
    let expected = recorded_stream_frames(&usdm_capture());
    let faults = FaultConfig { reorder: 0.01, ..FaultConfig::default() };
    let venue =
        LocalVenue::start(LocalVenueConfig { faults, seed: 11, ..config(vec![usdm_capture()]) }).await.expect("start");
    let url = format!(
        "{}/stream?streams=btcusdt@depth@0ms/btcusdt@trade/btcusdt@bookTicker",
        venue.ws_base(Venue::BinanceUsdm)
    );
    let mut socket = connect(&url).await;
    let mut received = Vec::with_capacity(expected.len());
    while received.len() < expected.len() {
        received.push(next_text(&mut socket).await.expect("open"));
    }
    let reordered = venue.state().counters.reordered;
    let n = expected.len() as f64;
    assert!((reordered as f64 - 0.01 * n).abs() < 6.0 * (n * 0.01 * 0.99).sqrt(), "{reordered}");
    // Each held frame arrives right after the next one: exactly `reordered` adjacent swaps.
    let out_of_place = received.iter().zip(&expected).filter(|(r, e)| r != e).count() as u64;
    assert_eq!(out_of_place, 2 * reordered);
    let (mut sorted_received, mut sorted_expected) = (received, expected);
    sorted_received.sort_unstable();
    sorted_expected.sort_unstable();
    assert!(sorted_received == sorted_expected, "nothing lost, nothing added");
    venue.shutdown().await;
}

#[tokio::test]
async fn connections_are_closed_by_the_disconnect_fault() {
    let faults = FaultConfig { disconnect_every: Some(Duration::from_millis(200)), ..FaultConfig::default() };
    let venue = LocalVenue::start(LocalVenueConfig { faults, ..config(vec![bybit_capture()]) }).await.expect("start");
    let mut socket = connect(&venue.ws_base(Venue::BybitLinear)).await;
    send(&mut socket, r#"{"op":"subscribe","args":["orderbook.500.XRPUSDT"]}"#).await;
    let mut frames = 0;
    while next_text(&mut socket).await.is_some() {
        frames += 1;
    }
    assert!(frames >= 1, "the ack arrives before the disconnect");
    assert_eq!(venue.state().counters.fault_disconnects, 1);
    venue.shutdown().await;
}
