//! Bybit v5 against the replayed XRPUSDT archive: public snapshot then recorded deltas, REST
//! orderbook, private auth, signed order entry, the execution topic and the execution list.
mod common;

use common::*;
use ferrotrade_localvenue::{LocalVenue, LocalVenueConfig};
use ferrotrade_model::{Decimal, Venue};
use ferrotrade_venues::auth::{bybit_rest_signature, bybit_ws_signature};
use ferrotrade_venues::trading::bybit::{Category, parse_executions};
use serde_json::{Value, json};

/// An unsigned `GET` answered with JSON.
async fn get_json(url: &str) -> Value {
    let text = reqwest::get(url).await.expect("request").text().await.expect("body");
    serde_json::from_str(&text).expect("json")
}

/// A signed `GET path?query`, answered as JSON text.
async fn bybit_get(client: &reqwest::Client, base: &str, path: &str, query: &str) -> String {
    let timestamp = now_ms();
    client
        .get(format!("{base}{path}?{query}"))
        .header("X-BAPI-API-KEY", KEY)
        .header("X-BAPI-TIMESTAMP", timestamp.to_string())
        .header("X-BAPI-RECV-WINDOW", "5000")
        .header("X-BAPI-SIGN", bybit_rest_signature(SECRET, timestamp, KEY, 5000, query))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body")
}

async fn bybit_post(client: &reqwest::Client, base: &str, path: &str, body: &Value) -> Value {
    let body = body.to_string();
    let timestamp = now_ms();
    let signature = bybit_rest_signature(SECRET, timestamp, KEY, 5000, &body);
    let response = client
        .post(format!("{base}{path}"))
        .header("X-BAPI-API-KEY", KEY)
        .header("X-BAPI-TIMESTAMP", timestamp.to_string())
        .header("X-BAPI-RECV-WINDOW", "5000")
        .header("X-BAPI-SIGN", signature)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    serde_json::from_str(&response.text().await.expect("body")).expect("json")
}

/// cryptofeed's JSONL capture of Bybit linear and spot connections: every frame is served on the endpoint
/// of its connection's market, byte for byte and in recorded order.
#[tokio::test]
async fn spot_frames_of_a_cryptofeed_capture_are_served_on_the_spot_endpoint_as_recorded() {
    let capture = data("cryptofeed/BYBIT.pr1085.jsonl");
    let topic = "orderbook.1.ARBUSDC";
    let (mut records, mut frame) = (ferrotrade_venues::source::cryptofeed_jsonl::RecordReader::default(), Vec::new());
    let mut recorded = Vec::new();
    for line in std::fs::read_to_string(&capture).expect("capture").lines() {
        if let Some(read) = records.read(line.as_bytes(), &mut frame).expect("record")
            && read.hint.venue == Some(Venue::BybitSpot)
        {
            let text = String::from_utf8(frame.clone()).expect("utf8");
            if text.contains(&format!("\"topic\":\"{topic}\"")) {
                recorded.push(text);
            }
        }
    }
    assert_eq!(recorded.len(), 54, "ARBUSDC's orderbook.1 snapshots in the capture");
    let venue = LocalVenue::start(config(vec![capture])).await.expect("start");
    let mut socket = connect(&venue.ws_base(Venue::BybitSpot)).await;
    send(&mut socket, &format!(r#"{{"op":"subscribe","args":["{topic}"],"req_id":"s1"}}"#)).await;
    let ack: Value = serde_json::from_str(&next_text(&mut socket).await.expect("ack")).expect("json");
    assert_eq!(ack["success"].as_bool(), Some(true), "{ack}");
    for expected in &recorded {
        assert_eq!(&next_text(&mut socket).await.expect("frame"), expected);
    }
    venue.replay_done().await;
    // The venue's spot book is the last snapshot's, and REST answers it on the spot category.
    let rest =
        get_json(&format!("{}/v5/market/orderbook?category=spot&symbol=ARBUSDC&limit=1", venue.rest_base())).await;
    let last: Value = serde_json::from_str(recorded.last().expect("frames")).expect("json");
    // The same numbers (the venue writes them at the instrument's precision: "0.3450" for "0.345").
    let level = |value: &Value| -> Vec<f64> {
        value.as_array().expect("level").iter().map(|v| v.as_str().expect("string").parse().expect("number")).collect()
    };
    assert_eq!(level(&rest["result"]["b"][0]), level(&last["data"]["b"][0]), "{rest}");
    assert_eq!(level(&rest["result"]["a"][0]), level(&last["data"]["a"][0]), "{rest}");
    venue.shutdown().await;
}

#[tokio::test]
async fn public_subscription_gets_a_snapshot_then_the_recorded_deltas() {
    let venue = LocalVenue::start(config(vec![bybit_capture()])).await.expect("start");
    let mut socket = connect(&venue.ws_base(Venue::BybitLinear)).await;
    send(&mut socket, r#"{"op":"subscribe","args":["orderbook.500.XRPUSDT"],"req_id":"r1"}"#).await;
    let ack: Value = serde_json::from_str(&next_text(&mut socket).await.expect("ack")).expect("json");
    assert_eq!(
        (ack["success"].as_bool(), ack["req_id"].as_str(), ack["op"].as_str()),
        (Some(true), Some("r1"), Some("subscribe"))
    );
    // The replay starts with this subscription: the archive's own snapshot, then its 49 deltas, in order.
    let recorded: Vec<String> =
        std::fs::read_to_string(bybit_capture()).expect("archive").lines().map(str::to_owned).collect();
    for expected in &recorded {
        assert_eq!(&next_text(&mut socket).await.expect("frame"), expected);
    }
    venue.replay_done().await;
    send(&mut socket, r#"{"op":"ping","req_id":"p"}"#).await;
    let pong: Value = serde_json::from_str(&next_text(&mut socket).await.expect("pong")).expect("json");
    assert_eq!(pong["ret_msg"], "pong");

    // A late subscriber gets the current book as a snapshot whose `u` is the last delta's.
    let mut late = connect(&venue.ws_base(Venue::BybitLinear)).await;
    send(&mut late, r#"{"op":"subscribe","args":["orderbook.50.XRPUSDT"]}"#).await;
    let _ack = next_text(&mut late).await.expect("ack");
    let snapshot: Value = serde_json::from_str(&next_text(&mut late).await.expect("snapshot")).expect("json");
    assert_eq!((snapshot["type"].as_str(), snapshot["data"]["u"].as_u64()), (Some("snapshot"), Some(20_254_918)));
    assert_eq!(snapshot["data"]["b"].as_array().map(Vec::len), Some(50));
    let best_bid = &snapshot["data"]["b"][0][0];
    let rest =
        get_json(&format!("{}/v5/market/orderbook?category=linear&symbol=XRPUSDT&limit=5", venue.rest_base())).await;
    assert_eq!(rest["retCode"], 0);
    assert_eq!((&rest["result"]["b"][0][0], rest["result"]["u"].as_u64()), (best_bid, Some(20_254_918)));
    venue.shutdown().await;
}

#[tokio::test]
async fn private_stream_reports_the_execution_of_a_signed_order() {
    let config = LocalVenueConfig {
        start_paused: false,
        balances: vec![("USDT".into(), Decimal::parse_str("1000").expect("decimal"))],
        ..config(vec![bybit_capture()])
    };
    let venue = LocalVenue::start(config).await.expect("start");
    venue.replay_done().await;
    let mut private = connect(&venue.bybit_private_url()).await;
    let expires = now_ms() + 10_000;
    send(&mut private, &json!({"op": "auth", "args": [KEY, expires, "0".repeat(64)]}).to_string()).await;
    let refused: Value = serde_json::from_str(&next_text(&mut private).await.expect("auth")).expect("json");
    assert_eq!(refused["success"], false);
    send(&mut private, r#"{"op":"subscribe","args":["execution"]}"#).await;
    let refused: Value = serde_json::from_str(&next_text(&mut private).await.expect("sub")).expect("json");
    assert_eq!(refused["success"], false, "no subscription before auth");
    let signature = bybit_ws_signature(SECRET, expires);
    send(&mut private, &json!({"op": "auth", "args": [KEY, expires, signature], "req_id": "a"}).to_string()).await;
    let auth: Value = serde_json::from_str(&next_text(&mut private).await.expect("auth")).expect("json");
    assert_eq!((auth["success"].as_bool(), auth["op"].as_str()), (Some(true), Some("auth")), "{auth}");
    send(&mut private, r#"{"op":"subscribe","args":["order","execution","position","wallet"]}"#).await;
    let ack: Value = serde_json::from_str(&next_text(&mut private).await.expect("sub")).expect("json");
    assert_eq!(ack["success"], true);

    let client = reqwest::Client::new();
    let base = venue.rest_base();
    let order = json!({"category": "linear", "symbol": "XRPUSDT", "side": "Buy", "orderType": "Market", "qty": "100",
                       "orderLinkId": "ft-42"});
    let created = bybit_post(&client, &base, "/v5/order/create", &order).await;
    assert_eq!(
        (created["retCode"].as_i64(), created["result"]["orderLinkId"].as_str()),
        (Some(0), Some("ft-42")),
        "{created}"
    );
    let market_order_id = created["result"]["orderId"].as_str().expect("orderId").to_owned();
    let mut topics = Vec::new();
    let execution = loop {
        let message: Value = serde_json::from_str(&next_text(&mut private).await.expect("push")).expect("json");
        topics.push(message["topic"].as_str().unwrap_or_default().to_owned());
        if message["topic"] == "execution" {
            break message;
        }
    };
    assert_eq!(topics[0], "order");
    let fill = &execution["data"][0];
    assert_eq!(
        (fill["orderLinkId"].as_str(), fill["side"].as_str(), fill["execType"].as_str()),
        (Some("ft-42"), Some("Buy"), Some("Trade"))
    );
    let position: Value = serde_json::from_str(&next_text(&mut private).await.expect("position")).expect("json");
    assert_eq!((position["topic"].as_str(), position["data"][0]["size"].as_str()), (Some("position"), Some("100")));

    // A PostOnly buy above the best ask is created, then cancelled by the venue.
    let post_only = json!({"category": "linear", "symbol": "XRPUSDT", "side": "Buy", "orderType": "Limit",
                           "qty": "10", "price": "3.0000", "timeInForce": "PostOnly", "orderLinkId": "ft-43"});
    let created = bybit_post(&client, &base, "/v5/order/create", &post_only).await;
    assert_eq!(created["retCode"], 0, "{created}");
    let cancelled = loop {
        let message: Value = serde_json::from_str(&next_text(&mut private).await.expect("push")).expect("json");
        if message["topic"] == "order" && message["data"][0]["orderLinkId"] == "ft-43" {
            break message;
        }
    };
    assert_eq!(cancelled["data"][0]["orderStatus"], "Cancelled");
    assert_eq!(cancelled["data"][0]["rejectReason"], "EC_PostOnlyWillTakeLiquidity");

    // A bad signature and an unknown order.
    let forged = client
        .post(format!("{base}/v5/order/create"))
        .header("X-BAPI-API-KEY", KEY)
        .header("X-BAPI-TIMESTAMP", now_ms().to_string())
        .header("X-BAPI-SIGN", "00")
        .body(order.to_string())
        .send()
        .await
        .expect("request");
    let forged: Value = serde_json::from_str(&forged.text().await.expect("body")).expect("json");
    assert_eq!(forged["retCode"], 10004);
    let cancel = json!({"category": "linear", "symbol": "XRPUSDT", "orderLinkId": "ft-42"});
    let cancelled = bybit_post(&client, &base, "/v5/order/cancel", &cancel).await;
    assert_eq!(cancelled["retCode"], 110001, "a filled order cannot be cancelled");
    // Asked for by its link id, the filled order is still found (the list of open orders is empty).
    let query = "category=linear&symbol=XRPUSDT&orderLinkId=ft-42";
    let found: Value =
        serde_json::from_str(&bybit_get(&client, &base, "/v5/order/realtime", query).await).expect("json");
    let list = &found["result"]["list"];
    assert_eq!((list[0]["orderLinkId"].as_str(), list[0]["orderStatus"].as_str()), (Some("ft-42"), Some("Filled")));
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{found}");
    // Its executions, read by the engine's own codec: the pushed execution, with its id, size and fee.
    let listed = bybit_get(&client, &base, "/v5/execution/list", query).await;
    let trades = parse_executions(Category::Linear, &listed).expect("execution list");
    let pushed = fill["execId"].as_str().expect("execId");
    assert!(trades.iter().any(|trade| trade.fill.trade_id == pushed), "{listed}");
    let total = trades.iter().map(|trade| trade.fill.quantity.to_fixed(0).expect("lots")).sum::<i64>();
    assert_eq!(total, 100, "the market order's executions add up to its size: {listed}");
    assert!(trades.iter().all(|trade| trade.venue_order_id == market_order_id), "{listed}");
    let unknown = bybit_get(&client, &base, "/v5/execution/list", "category=linear&orderLinkId=ft-999").await;
    assert_eq!(parse_executions(Category::Linear, &unknown).expect("empty list"), []);
    venue.shutdown().await;
}
