//! Binance control frames on market-data connections: SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS
//! acks, the stream limit and the message-rate limit.
mod common;

use common::*;
use ferrotrade_localvenue::{LocalVenue, LocalVenueConfig, RateLimits};
use ferrotrade_model::Venue;
use serde_json::Value;

#[tokio::test]
async fn control_frames_are_acknowledged_and_limited() {
    let limits =
        RateLimits { binance_streams_per_connection: 3, binance_messages_per_second: 5, ..RateLimits::default() };
    let venue = LocalVenue::start(LocalVenueConfig { limits, ..config(vec![usdm_capture()]) }).await.expect("start");
    let mut socket = connect(&format!("{}/ws", venue.ws_base(Venue::BinanceUsdm))).await;
    send(&mut socket, r#"{"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@aggTrade"],"id":1}"#).await;
    // The subscription starts the replay: skip raw trade payloads until the ack of the next request.
    let ack: Value = serde_json::from_str(&next_text(&mut socket).await.expect("ack")).expect("json");
    assert_eq!((ack["result"].clone(), ack["id"].as_u64()), (Value::Null, Some(1)));
    send(&mut socket, r#"{"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":2}"#).await;
    send(&mut socket, r#"{"method":"LIST_SUBSCRIPTIONS","id":3}"#).await;
    send(&mut socket, r#"{"method":"SUBSCRIBE","params":["a@trade","b@trade","c@trade"],"id":4}"#).await;
    let mut answers = Vec::new();
    while answers.len() < 3 {
        let message: Value = serde_json::from_str(&next_text(&mut socket).await.expect("frame")).expect("json");
        if message.get("id").is_some() {
            answers.push(message);
        } else {
            assert_eq!(message["e"], "trade", "raw payloads on /ws: {message}");
        }
    }
    assert_eq!(answers[0]["id"], 2);
    assert_eq!(answers[1]["result"], serde_json::json!(["btcusdt@aggTrade"]));
    assert_eq!((answers[2]["code"].as_i64(), answers[2]["id"].as_u64()), (Some(2), Some(4)), "{}", answers[2]);
    // Five messages in this second already: the next closes the connection.
    send(&mut socket, r#"{"method":"LIST_SUBSCRIPTIONS","id":5}"#).await;
    send(&mut socket, r#"{"method":"LIST_SUBSCRIPTIONS","id":6}"#).await;
    let mut closed = false;
    for _ in 0..100_000 {
        if next_text(&mut socket).await.is_none() {
            closed = true;
            break;
        }
    }
    assert!(closed, "the connection is closed after too many messages");
    venue.shutdown().await;
}
