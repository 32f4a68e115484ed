//! Signed Binance order entry against the replayed USD-M and spot captures: authentication errors,
//! rate limits, fills, the user-data events they push and the trade lists that repeat them.
mod common;

use common::*;
use ferrotrade_localvenue::{LocalVenue, LocalVenueConfig, RateLimits};
use ferrotrade_model::Venue;
use ferrotrade_venues::trading::AccountTrade;
use ferrotrade_venues::trading::binance::parse_order_trades;
use reqwest::Method;
use serde_json::Value;

async fn started(config: LocalVenueConfig) -> LocalVenue {
    let venue = LocalVenue::start(LocalVenueConfig { start_paused: false, ..config }).await.expect("start");
    venue.replay_done().await;
    venue
}

#[tokio::test]
async fn signed_orders_are_verified_like_the_venue() {
    let venue = started(config(vec![usdm_capture()])).await;
    let client = reqwest::Client::new();
    let base = venue.rest_base();
    let order =
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000.00&newClientOrderId=ft-1";

    let url = format!("{base}/fapi/v1/order?{}", binance_signed(order, now_ms()));
    let (status, body, _) = binance(&client, Method::POST, &url).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["status"].as_str(), body["clientOrderId"].as_str()), (Some("NEW"), Some("ft-1")));
    assert_eq!((body["price"].as_str(), body["origQty"].as_str()), (Some("50000.0"), Some("0.001")));

    let (status, open, _) = binance(
        &client,
        Method::GET,
        &format!("{base}/fapi/v1/openOrders?{}", binance_signed("symbol=BTCUSDT", now_ms())),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");

    // A signature of other parameters.
    let mut forged = binance_signed(order, now_ms());
    forged = forged.replace("quantity=0.001", "quantity=0.002");
    let (status, body, _) = binance(&client, Method::POST, &format!("{base}/fapi/v1/order?{forged}")).await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(-1022)), "{body}");

    // Validly signed, but 10 s old with the default 5 s recvWindow.
    let stale = binance_signed(order, now_ms() - 10_000);
    let (status, body, _) = binance(&client, Method::POST, &format!("{base}/fapi/v1/order?{stale}")).await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(-1021)), "{body}");

    // Unknown key.
    let response = client
        .post(format!("{base}/fapi/v1/order?{}", binance_signed(order, now_ms())))
        .header("X-MBX-APIKEY", "nobody")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = serde_json::from_str(&response.text().await.expect("body")).expect("json");
    assert_eq!(body["code"].as_i64(), Some(-2015));

    // Cancel, then cancel again.
    let cancel = binance_signed("symbol=BTCUSDT&origClientOrderId=ft-1", now_ms());
    let (status, body, _) = binance(&client, Method::DELETE, &format!("{base}/fapi/v1/order?{cancel}")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("CANCELED")), "{body}");
    let cancel = binance_signed("symbol=BTCUSDT&origClientOrderId=ft-1", now_ms());
    let (status, body, _) = binance(&client, Method::DELETE, &format!("{base}/fapi/v1/order?{cancel}")).await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(-2011)), "{body}");
    venue.shutdown().await;
}

#[tokio::test]
async fn request_weight_over_budget_is_refused_with_429() {
    let limits = RateLimits { binance_weight_per_minute: 50, ..RateLimits::default() };
    let venue = started(LocalVenueConfig { limits, ..config(vec![usdm_capture()]) }).await;
    let client = reqwest::Client::new();
    let url = format!("{}/fapi/v1/depth?symbol=BTCUSDT&limit=1000", venue.rest_base());
    for used in ["20", "40"] {
        let (status, _, weight) = binance(&client, Method::GET, &url).await;
        assert_eq!((status, weight.as_deref()), (200, Some(used)));
    }
    let response = client.get(&url).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().expect("header").parse().expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = serde_json::from_str(&response.text().await.expect("body")).expect("json");
    assert_eq!(body["code"].as_i64(), Some(-1003));
    assert_eq!(venue.state().counters.rate_limited, 1);
    venue.shutdown().await;
}

/// Reads the user stream until an event of type `event` with execution type `x`.
async fn user_event(socket: &mut Socket, matches: impl Fn(&Value) -> bool) -> Value {
    loop {
        let text = next_text(socket).await.expect("user stream open");
        let event: Value = serde_json::from_str(&text).expect("json");
        if matches(&event) {
            return event;
        }
    }
}

/// A signed trade-list answer, parsed as the live gateway parses it.
async fn account_trades(client: &reqwest::Client, url: &str) -> Vec<AccountTrade> {
    let (status, body, _) = binance(client, Method::GET, url).await;
    assert_eq!(status, 200, "{body}");
    parse_order_trades(&body.to_string()).expect("trade list")
}

#[tokio::test]
async fn marketable_orders_fill_and_push_user_data() {
    let spot = data("sessions/binance-spot/btcusdt_20240808.gz");
    let venue = started(config(vec![usdm_capture(), spot])).await;
    let client = reqwest::Client::new();
    let base = venue.rest_base();

    // USD-M: listenKey, user stream, market buy.
    let (status, key, _) = binance(&client, Method::POST, &format!("{base}/fapi/v1/listenKey")).await;
    assert_eq!(status, 200, "{key}");
    let key = key["listenKey"].as_str().expect("listenKey").to_owned();
    let mut user = connect(&format!("{}/ws/{key}", venue.ws_base(Venue::BinanceUsdm))).await;
    let order = binance_signed("symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010&newClientOrderId=ft-7", now_ms());
    let (status, body, _) = binance(&client, Method::POST, &format!("{base}/fapi/v1/order?{order}")).await;
    assert_eq!(
        (status, body["status"].as_str(), body["executedQty"].as_str()),
        (200, Some("FILLED"), Some("0.010")),
        "{body}"
    );
    let trade = user_event(&mut user, |e| e["e"] == "ORDER_TRADE_UPDATE" && e["o"]["x"] == "TRADE").await;
    assert_eq!(trade["o"]["c"], "ft-7");
    assert_eq!(trade["o"]["S"], "BUY");
    let account = user_event(&mut user, |e| e["e"] == "ACCOUNT_UPDATE").await;
    assert_eq!(account["a"]["P"][0]["pa"], "0.010");
    // The trade list agrees with the stream, read with the engine's own parser.
    let order_id = body["orderId"].as_u64().expect("orderId");
    let query = binance_signed(&format!("symbol=BTCUSDT&orderId={order_id}"), now_ms());
    let trades = account_trades(&client, &format!("{base}/fapi/v1/userTrades?{query}")).await;
    let trade_id = trade["o"]["t"].as_u64().expect("trade id").to_string();
    assert!(trades.iter().any(|t| t.fill.trade_id == trade_id), "{trades:?}");
    assert!(trades.iter().all(|t| t.venue_order_id == order_id.to_string()), "{trades:?}");
    let total: i64 = trades.iter().map(|t| t.fill.quantity.to_fixed(3).expect("qty")).sum();
    assert_eq!(total, 10, "the executions add up to the order's 0.010");
    let state = venue.state();
    let position = state.positions.iter().find(|p| p.symbol == "BTCUSDT").expect("position");
    assert_eq!(position.size.to_string(), "0.01");

    // Spot: executionReport and outboundAccountPosition.
    let (status, key, _) = binance(&client, Method::POST, &format!("{base}/api/v3/userDataStream")).await;
    assert_eq!(status, 200, "{key}");
    let key = key["listenKey"].as_str().expect("listenKey").to_owned();
    let mut user = connect(&format!("{}/ws/{key}", venue.ws_base(Venue::BinanceSpot))).await;
    let order =
        binance_signed("symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.01000000&newClientOrderId=ft-8", now_ms());
    let (status, body, _) = binance(&client, Method::POST, &format!("{base}/api/v3/order?{order}")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("FILLED")), "{body}");
    assert!(!body["fills"].as_array().expect("FULL response has fills").is_empty());
    let report = user_event(&mut user, |e| e["e"] == "executionReport" && e["x"] == "TRADE").await;
    assert_eq!((report["c"].as_str(), report["S"].as_str()), (Some("ft-8"), Some("SELL")));
    let query = binance_signed(&format!("symbol=BTCUSDT&orderId={}", body["orderId"]), now_ms());
    let trades = account_trades(&client, &format!("{base}/api/v3/myTrades?{query}")).await;
    let trade_id = report["t"].as_u64().expect("trade id").to_string();
    assert!(trades.iter().any(|t| t.fill.trade_id == trade_id), "{trades:?}");
    assert!(
        trades.iter().all(|t| t.fill.liquidity == ferrotrade_model::Liquidity::Taker && t.fill.fee_asset == "USDT")
    );
    let balances = user_event(&mut user, |e| e["e"] == "outboundAccountPosition").await;
    let btc = balances["B"].as_array().expect("B").iter().find(|b| b["a"] == "BTC").expect("BTC").clone();
    assert_eq!(btc["f"], "9.99");
    venue.shutdown().await;
}

#[tokio::test]
async fn exchange_info_and_amends_speak_the_venue_formats() {
    use ferrotrade_venues::decoded::Scratch;
    use ferrotrade_venues::source::{Frame, FrameHint};
    let venue = started(config(vec![usdm_capture()])).await;
    let client = reqwest::Client::new();
    let base = venue.rest_base();
    let body =
        client.get(format!("{base}/fapi/v1/exchangeInfo")).send().await.expect("get").text().await.expect("body");
    let hint = FrameHint { venue: Some(Venue::BinanceUsdm), symbol: None };
    let mut scratch = Scratch::default();
    let Ok(Frame::Instruments(infos)) = ferrotrade_venues::binance::decode_frame(body.as_bytes(), &hint, &mut scratch)
    else {
        panic!("exchangeInfo does not decode: {body}");
    };
    let instrument = &venue.state().instruments[0];
    assert_eq!(infos.len(), 1);
    assert_eq!(infos[0].tick_size.to_fixed(instrument.price_precision).ok(), Some(instrument.tick_size.0));
    assert_eq!(infos[0].lot_size.to_fixed(instrument.size_precision).ok(), Some(instrument.lot_size.0));

    // USD-M amend (PUT /fapi/v1/order): new price and quantity; the order keeps its ids.
    let order =
        "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.002&price=90000.0&newClientOrderId=ft-9";
    let (status, placed, _) =
        binance(&client, Method::POST, &format!("{base}/fapi/v1/order?{}", binance_signed(order, now_ms()))).await;
    assert_eq!(status, 200, "{placed}");
    let amend =
        binance_signed("symbol=BTCUSDT&origClientOrderId=ft-9&side=SELL&quantity=0.001&price=90001.0", now_ms());
    let (status, amended, _) = binance(&client, Method::PUT, &format!("{base}/fapi/v1/order?{amend}")).await;
    assert_eq!(status, 200, "{amended}");
    assert_eq!(
        (amended["orderId"].clone(), amended["price"].as_str(), amended["origQty"].as_str()),
        (placed["orderId"].clone(), Some("90001.0"), Some("0.001"))
    );
    let (status, risk, _) =
        binance(&client, Method::GET, &format!("{base}/fapi/v2/positionRisk?{}", binance_signed("", now_ms()))).await;
    assert_eq!((status, risk[0]["positionAmt"].as_str()), (200, Some("0.000")), "{risk}");
    let (status, account, _) =
        binance(&client, Method::GET, &format!("{base}/fapi/v2/account?{}", binance_signed("", now_ms()))).await;
    assert_eq!((status, account["assets"].as_array().map(Vec::len)), (200, Some(2)), "{account}");
    venue.shutdown().await;
}

#[tokio::test]
async fn spot_orders_lock_balances_and_cannot_overspend() {
    let spot = data("sessions/binance-spot/btcusdt_20240808.gz");
    let venue = started(config(vec![spot])).await;
    let client = reqwest::Client::new();
    let base = venue.rest_base();
    // A resting sell of 6 BTC locks 6 of the 10 held; a second one of 6 exceeds the 4 left free.
    let sell = |id: &str| {
        format!(
            "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=6.00000000&price=90000.00000000&newClientOrderId={id}"
        )
    };
    let (status, body, _) =
        binance(&client, Method::POST, &format!("{base}/api/v3/order?{}", binance_signed(&sell("a"), now_ms()))).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("NEW")), "{body}");
    let (status, body, _) =
        binance(&client, Method::POST, &format!("{base}/api/v3/order?{}", binance_signed(&sell("b"), now_ms()))).await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(-2010)), "{body}");
    let (status, account, _) =
        binance(&client, Method::GET, &format!("{base}/api/v3/account?{}", binance_signed("", now_ms()))).await;
    assert_eq!(status, 200, "{account}");
    let btc =
        account["balances"].as_array().expect("balances").iter().find(|b| b["asset"] == "BTC").expect("BTC").clone();
    assert_eq!((btc["free"].as_str(), btc["locked"].as_str()), (Some("4"), Some("6")), "{btc}");
    venue.shutdown().await;
}
