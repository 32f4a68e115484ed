//! `serve_blocking`, as the CLI runs the venue: its own runtime on the calling thread, ready callback,
//! cancel flag, report; and `Speed::Realtime` pacing delivering the same frames.
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use ferrotrade_localvenue::{LocalVenue, LocalVenueConfig, Speed, serve_blocking};
use ferrotrade_model::Venue;

#[tokio::test]
async fn serve_blocking_serves_until_cancelled() {
    let cancel = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let flag = Arc::clone(&cancel);
    let server = std::thread::spawn(move || {
        let config = LocalVenueConfig { start_paused: false, ..config(vec![bybit_capture()]) };
        serve_blocking(config, &flag, |addr| ready_tx.send(addr).expect("ready"))
    });
    let addr = tokio::task::spawn_blocking(move || ready_rx.recv().expect("ready")).await.expect("join");
    let body =
        reqwest::get(format!("http://{addr}/v5/market/time")).await.expect("request").text().await.expect("body");
    assert!(body.contains("\"retCode\":0"), "{body}");
    cancel.store(true, Ordering::Relaxed);
    let report =
        tokio::task::spawn_blocking(move || server.join().expect("thread")).await.expect("join").expect("serve");
    assert_eq!(report.addr, addr);
    assert_eq!(report.counters.rest_requests, 1);
}

#[tokio::test]
async fn realtime_pacing_delivers_the_recorded_frames() {
    // The archive spans 4.8 s; at 40x it replays in about 0.12 s.
    let venue = LocalVenue::start(LocalVenueConfig { speed: Speed::Realtime(40.0), ..config(vec![bybit_capture()]) })
        .await
        .expect("start");
    let mut socket = connect(&venue.ws_base(Venue::BybitLinear)).await;
    send(&mut socket, r#"{"op":"subscribe","args":["orderbook.500.XRPUSDT"]}"#).await;
    let _ack = next_text(&mut socket).await.expect("ack");
    let recorded = std::fs::read_to_string(bybit_capture()).expect("archive");
    for expected in recorded.lines() {
        assert_eq!(next_text(&mut socket).await.expect("frame"), expected);
    }
    venue.replay_done().await;
    assert_eq!(venue.state().counters.frames_sent, 50);
    venue.shutdown().await;
}
