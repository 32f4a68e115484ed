//! Binance trading codecs against the API docs: request signing and every parser on the documentation's
//! own example payloads (tests/data/binance/private, see tests/data/SOURCES.md).

use ferrotrade_model::{
    ClientOrderId, Decimal, Liquidity, OrderSide, OrderStatus, OrderType, TimeInForce, UnixNanos, Venue,
};
use ferrotrade_venues::auth::{Credentials, verify_binance_ed25519};
use ferrotrade_venues::trading::binance::{
    BinanceRequests, Market, event_time, parse_account, parse_error, parse_listen_key, parse_open_orders, parse_order,
    parse_order_trades, parse_position_risk, parse_server_time, parse_user_frame,
};
use ferrotrade_venues::trading::{
    AccountTrade, BalanceReport, FillReport, NewOrder, OrderRef, PositionReport, TradingError, UserEvent,
    client_id_to_wire,
};

fn data(name: &str) -> String {
    let path = format!("{}/../../tests/data/binance/private/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dec(text: &str) -> Decimal {
    Decimal::parse_str(text).expect("decimal")
}

/// The key pair of the Binance spot API docs' "SIGNED Endpoint Examples for POST /api/v3/order".
fn docs_credentials() -> Credentials {
    Credentials::hmac(
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
    )
}

fn user_events(market: Market, frame: &str) -> Vec<UserEvent> {
    let mut out = Vec::new();
    parse_user_frame(market, frame, &mut out).expect("user frame");
    out
}

fn limit_buy(symbol: &str, client_id: u64) -> NewOrder {
    NewOrder {
        symbol: symbol.into(),
        client_id: ClientOrderId(client_id),
        side: OrderSide::Buy,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        price: Some(dec("0.1")),
        quantity: dec("1"),
        stop_price: None,
        post_only: false,
        reduce_only: false,
    }
}

#[test]
fn signing_reproduces_the_documented_hmac_example() {
    let requests = BinanceRequests::new(Market::Spot, docs_credentials());
    let request = requests.signed(
        "POST",
        "/api/v3/order",
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1",
        1_499_827_319_559,
    );
    assert_eq!(
        request.query,
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559\
         &signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    );
    assert_eq!(request.headers, vec![("X-MBX-APIKEY", docs_credentials().api_key)]);
    assert_eq!(request.body, None);
}

#[test]
fn new_order_spot_limit_query_is_exact() {
    let requests = BinanceRequests::new(Market::Spot, docs_credentials());
    let request = requests.new_order(&limit_buy("LTCBTC", 42), 1_499_827_319_559).expect("order");
    let unsigned = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&newClientOrderId=ft-42\
                    &newOrderRespType=FULL&recvWindow=5000&timestamp=1499827319559";
    let signature = docs_credentials().binance_signature(unsigned);
    assert_eq!((request.method, request.path), ("POST", "/api/v3/order"));
    assert_eq!(request.query, format!("{unsigned}&signature={signature}"));
}

#[test]
fn new_order_variants_per_market() {
    let spot = BinanceRequests::new(Market::Spot, docs_credentials());
    let usdm = BinanceRequests::new(Market::UsdM, docs_credentials()).with_recv_window(1_000);
    let params = |query: &str| query.split("&recvWindow").next().unwrap_or_default().to_owned();

    let post_only = NewOrder { post_only: true, ..limit_buy("BTCUSDT", 7) };
    assert_eq!(
        params(&spot.new_order(&post_only, 1).expect("spot").query),
        "symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=1&price=0.1&newClientOrderId=ft-7&newOrderRespType=FULL"
    );
    let usdm_post_only = usdm.new_order(&post_only, 1).expect("usdm");
    assert_eq!(usdm_post_only.path, "/fapi/v1/order");
    assert_eq!(
        params(&usdm_post_only.query),
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=1&price=0.1&newClientOrderId=ft-7\
         &newOrderRespType=RESULT"
    );
    assert!(usdm_post_only.query.contains("&recvWindow=1000&timestamp=1&signature="));

    let stop = NewOrder {
        side: OrderSide::Sell,
        order_type: OrderType::StopMarket,
        price: None,
        stop_price: Some(dec("25000.5")),
        reduce_only: true,
        quantity: dec("0.010"),
        ..limit_buy("BTCUSDT", 8)
    };
    assert_eq!(
        params(&usdm.new_order(&stop, 1).expect("stop").query),
        "symbol=BTCUSDT&side=SELL&type=STOP_MARKET&quantity=0.01&stopPrice=25000.5&reduceOnly=true\
         &newClientOrderId=ft-8&newOrderRespType=RESULT"
    );
    assert!(matches!(spot.new_order(&stop, 1), Err(TradingError::InvalidRequest(_))), "reduce-only on spot");
    let no_price = NewOrder { price: None, ..limit_buy("BTCUSDT", 9) };
    assert!(matches!(usdm.new_order(&no_price, 1), Err(TradingError::InvalidRequest(_))));
    let market = NewOrder { order_type: OrderType::Market, price: None, ..limit_buy("BTCUSDT", 10) };
    assert_eq!(
        params(&spot.new_order(&market, 1).expect("market").query),
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1&newClientOrderId=ft-10&newOrderRespType=FULL"
    );
}

#[test]
fn cancel_amend_query_and_account_requests() {
    let spot = BinanceRequests::new(Market::Spot, docs_credentials());
    let usdm = BinanceRequests::new(Market::UsdM, docs_credentials());
    let by_client = OrderRef::Client(ClientOrderId(5));
    let cancel = spot.cancel_order("BTCUSDT", &by_client, 2);
    assert_eq!((cancel.method, cancel.path), ("DELETE", "/api/v3/order"));
    assert!(cancel.query.starts_with("symbol=BTCUSDT&origClientOrderId=ft-5&recvWindow=5000&timestamp=2&signature="));
    let query = usdm.query_order("BTCUSDT", &OrderRef::Venue("8886774".into()), 3);
    assert_eq!((query.method, query.path), ("GET", "/fapi/v1/order"));
    assert!(query.query.starts_with("symbol=BTCUSDT&orderId=8886774&recvWindow"));

    let amend_spot = spot.amend_order("BTCUSDT", &by_client, OrderSide::Buy, dec("0.5"), dec("100"), 4);
    assert_eq!((amend_spot.method, amend_spot.path), ("PUT", "/api/v3/order/amend/keepPriority"));
    assert!(
        amend_spot
            .query
            .starts_with("symbol=BTCUSDT&origClientOrderId=ft-5&newQty=0.5&newClientOrderId=ft-5&recvWindow"),
        "the amended order keeps our client id"
    );
    let amend_usdm = usdm.amend_order("BTCUSDT", &by_client, OrderSide::Sell, dec("0.5"), dec("100.10"), 4);
    assert_eq!((amend_usdm.method, amend_usdm.path), ("PUT", "/fapi/v1/order"));
    assert!(amend_usdm.query.starts_with("symbol=BTCUSDT&origClientOrderId=ft-5&side=SELL&quantity=0.5&price=100.1&"));

    assert_eq!(spot.cancel_all("BTCUSDT", 5).path, "/api/v3/openOrders");
    assert_eq!(usdm.cancel_all("BTCUSDT", 5).path, "/fapi/v1/allOpenOrders");
    assert_eq!(spot.open_orders(None, 5).query.split('&').next(), Some("recvWindow=5000"));
    assert_eq!(usdm.account(5).path, "/fapi/v2/account");
    assert_eq!(usdm.position_risk(Some("BTCUSDT"), 5).expect("usdm").path, "/fapi/v2/positionRisk");
    assert!(spot.position_risk(None, 5).is_err());

    let create = spot.create_listen_key();
    assert_eq!((create.method, create.path, create.query.as_str()), ("POST", "/api/v3/userDataStream", ""));
    assert_eq!(spot.keepalive_listen_key("abc").query, "listenKey=abc");
    let close = usdm.close_listen_key("abc");
    assert_eq!((close.method, close.path, close.query.as_str()), ("DELETE", "/fapi/v1/listenKey", ""));
}

/// RFC 8410 section 10.3 example key pair.
const RFC8410_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
const RFC8410_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";

#[test]
fn ed25519_signature_is_percent_encoded_and_verifies() {
    let credentials = Credentials::ed25519_pem("key", RFC8410_PRIVATE).expect("RFC 8410 key");
    let request = BinanceRequests::new(Market::UsdM, credentials).account(1_668_757_000_921);
    let (signed, signature) = request.query.split_once("&signature=").expect("signature");
    assert_eq!(signed, "recvWindow=5000&timestamp=1668757000921");
    assert!(!signature.contains(['+', '/', '=']), "{signature}");
    let decoded = signature.replace("%2B", "+").replace("%2F", "/").replace("%3D", "=");
    assert!(verify_binance_ed25519(RFC8410_PUBLIC, signed, &decoded));
    assert!(!verify_binance_ed25519(RFC8410_PUBLIC, "recvWindow=5000&timestamp=1668757000922", &decoded));
}

#[test]
fn spot_full_order_response_with_fills() {
    let response = parse_order(Market::Spot, &data("spot_new_order_full_response.json")).expect("order");
    let update = &response.update;
    assert_eq!(
        (update.venue, update.symbol.as_str(), update.venue_order_id.as_str()),
        (Venue::BinanceSpot, "BTCUSDT", "28")
    );
    assert_eq!(update.client_id, None, "6gCrw2kRUAF9CvJDGP16IP is not ours");
    assert_eq!(
        (update.status, update.side, update.order_type),
        (OrderStatus::Filled, OrderSide::Sell, OrderType::Market)
    );
    assert_eq!((update.quantity, update.filled, update.avg_price), (dec("10"), dec("10"), None));
    assert_eq!(update.ts_event, UnixNanos::from_millis(1_507_725_176_595));
    assert_eq!(response.fills.len(), 5);
    assert_eq!(
        response.fills[1],
        FillReport {
            trade_id: "57".into(),
            price: dec("3999"),
            quantity: dec("5"),
            fee: dec("19.995"),
            fee_asset: "USDT".into(),
            liquidity: Liquidity::Taker,
            ts_event: UnixNanos::from_millis(1_507_725_176_595),
        }
    );
    let total: i64 = response.fills.iter().map(|f| f.quantity.to_fixed(8).expect("fixed")).sum();
    assert_eq!(Decimal::from_fixed(total, 8), update.filled);
}

#[test]
fn spot_query_cancel_and_open_orders() {
    let query = parse_order(Market::Spot, &data("spot_order_response.json")).expect("query").update;
    assert_eq!(
        (query.status, query.order_type, query.time_in_force),
        (OrderStatus::Accepted, OrderType::Limit, TimeInForce::Gtc)
    );
    assert_eq!((query.price, query.quantity, query.filled), (dec("0.1"), dec("1"), Decimal::ZERO));
    // The client id round-trips when the order is ours.
    let ours =
        data("spot_order_response.json").replace("myOrder1", &client_id_to_wire(ClientOrderId(1_732_250_000_000_123)));
    let ours = parse_order(Market::Spot, &ours).expect("ours").update;
    assert_eq!(ours.client_id, Some(ClientOrderId(1_732_250_000_000_123)));

    // A cancel answer names the order by origClientOrderId, the cancel request by clientOrderId.
    let cancel_body = data("spot_cancel_order_response.json").replace("\"myOrder1\"", "\"ft-77\"");
    let cancel = parse_order(Market::Spot, &cancel_body).expect("cancel").update;
    assert_eq!(
        (cancel.status, cancel.client_id, cancel.venue_order_id.as_str()),
        (OrderStatus::Canceled, Some(ClientOrderId(77)), "4")
    );

    let open = parse_open_orders(Market::Spot, &data("spot_open_orders_response.json")).expect("open");
    assert_eq!(open, vec![query]);
    // The cancel-all answer mixes orders and an OCO list summary; the list entry is skipped.
    let canceled = parse_open_orders(Market::Spot, &data("spot_cancel_open_orders_response.json")).expect("cancel all");
    assert_eq!(canceled.iter().map(|o| o.venue_order_id.as_str()).collect::<Vec<_>>(), ["11", "13"]);
    assert!(canceled.iter().all(|o| o.status == OrderStatus::Canceled));
}

#[test]
fn spot_amend_answer() {
    // Spot REST API docs, "Order Amend Keep Priority" response example, with our client ids.
    let body = r#"{
        "transactTime": 1741926410255,
        "executionId": 75,
        "amendedOrder": {
            "symbol": "BTCUSDT",
            "orderId": 33,
            "orderListId": -1,
            "origClientOrderId": "ft-33",
            "clientOrderId": "ft-33",
            "price": "6.00000000",
            "qty": "5.00000000",
            "executedQty": "0.00000000",
            "preventedQty": "0.00000000",
            "quoteOrderQty": "0.00000000",
            "cumulativeQuoteQty": "0.00000000",
            "status": "NEW",
            "timeInForce": "GTC",
            "type": "LIMIT",
            "side": "SELL",
            "workingTime": 1741926410242,
            "selfTradePreventionMode": "NONE"
        }
    }"#;
    let amended = parse_order(Market::Spot, body).expect("amend").update;
    assert_eq!((amended.client_id, amended.venue_order_id.as_str()), (Some(ClientOrderId(33)), "33"));
    assert_eq!((amended.quantity, amended.price, amended.status), (dec("5"), dec("6"), OrderStatus::Accepted));
    assert_eq!(amended.ts_event, UnixNanos::from_millis(1_741_926_410_255), "the amend's time, not the order's");
}

#[test]
fn usdm_order_positions_and_account() {
    let order = parse_order(Market::UsdM, &data("usdm_order_response.json")).expect("order").update;
    assert_eq!(
        (order.venue, order.status, order.price, order.quantity),
        (Venue::BinanceUsdm, OrderStatus::Accepted, dec("50000"), dec("0.001"))
    );
    assert_eq!((order.avg_price, order.ts_event), (None, UnixNanos::from_millis(1_625_474_304_765)));

    let positions = parse_position_risk(&data("usdm_position_risk.json")).expect("positionRisk");
    assert_eq!(
        positions,
        vec![PositionReport {
            venue: Venue::BinanceUsdm,
            symbol: "BTCUSDT".into(),
            size: dec("0.001"),
            entry_price: dec("50000"),
            unrealized_pnl: dec("1"),
        }]
    );
    let account = parse_account(Market::UsdM, &data("usdm_account_info_v2.json")).expect("account");
    assert_eq!(
        account.balances,
        vec![BalanceReport {
            venue: Venue::BinanceUsdm,
            asset: "USDT".into(),
            wallet: dec("23.72469206"),
            available: dec("23.72469206")
        }]
    );
    assert_eq!((account.positions.len(), account.positions[0].size), (1, Decimal::ZERO));

    let spot = parse_account(Market::Spot, &data("spot_account_response.json")).expect("spot account");
    assert_eq!(
        spot.balances[0],
        BalanceReport {
            venue: Venue::BinanceSpot,
            asset: "BTC".into(),
            wallet: dec("4723846.89208129"),
            available: dec("4723846.89208129")
        }
    );
    assert!(spot.positions.is_empty());
}

#[test]
fn server_time_listen_key_and_errors() {
    assert_eq!(
        parse_server_time(&data("spot_server_time_response.json")).expect("time"),
        UnixNanos::from_millis(1_499_827_319_559)
    );
    // Spot API docs, "Start user data stream" response example.
    assert_eq!(
        parse_listen_key(r#"{"listenKey": "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"}"#)
            .expect("key"),
        "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"
    );
    // Error codes for Binance: "Here is the error JSON payload".
    let error = parse_error(400, r#"{"code": -1121, "msg": "Invalid symbol."}"#);
    assert_eq!((error.status, error.code, error.message.as_str()), (400, -1121, "Invalid symbol."));
    assert!(!error.is_retryable());
    let html = parse_error(502, "<html><body>Bad Gateway</body></html>");
    assert_eq!((html.code, html.is_retryable()), (0, true));
    assert!(parse_order(Market::Spot, r#"{"code": -2013, "msg": "Order does not exist."}"#).is_err());
}

#[test]
fn execution_reports() {
    let new = user_events(Market::Spot, &data("spot_execution_report_new.json"));
    let [UserEvent::Order(new)] = new.as_slice() else { panic!("{new:?}") };
    assert_eq!(
        (new.status, new.last_fill.as_ref(), new.venue_order_id.as_str()),
        (OrderStatus::Accepted, None, "12345678")
    );
    assert_eq!(
        (new.price, new.quantity, new.ts_event),
        (dec("2500"), dec("1"), UnixNanos::from_millis(1_709_654_400_000))
    );

    let trade = user_events(Market::Spot, &data("spot_execution_report_trade.json"));
    let [UserEvent::Order(trade)] = trade.as_slice() else { panic!("{trade:?}") };
    assert_eq!((trade.status, trade.filled), (OrderStatus::Filled, dec("1")));
    assert_eq!(
        trade.last_fill,
        Some(FillReport {
            trade_id: "98765432".into(),
            price: dec("2500"),
            quantity: dec("1"),
            fee: dec("0.001"),
            fee_asset: "ETH".into(),
            liquidity: Liquidity::Maker,
            ts_event: UnixNanos::from_millis(1_709_654_401_000),
        })
    );

    let canceled = user_events(Market::Spot, &data("spot_execution_report_canceled.json"));
    assert!(matches!(canceled.as_slice(), [UserEvent::Order(o)] if o.status == OrderStatus::Canceled));
    let expired = user_events(Market::Spot, &data("spot_execution_report_expired.json"));
    let [UserEvent::Order(expired)] = expired.as_slice() else { panic!("{expired:?}") };
    assert_eq!((expired.status, expired.time_in_force), (OrderStatus::Expired, TimeInForce::Ioc));
    assert_eq!(expired.reject_reason.as_deref(), Some("INSUFFICIENT_LIQUIDITY"));

    // The WebSocket API wraps the same event in {"subscriptionId":..,"event":{..}}.
    let wrapped = user_events(Market::Spot, &data("spot_execution_report_wrapped.json"));
    assert!(matches!(wrapped.as_slice(), [UserEvent::Order(o)] if o.symbol == "ETHBTC" && o.price == dec("0.1026441")));
    // On a cancel, `C` holds the canceled order's own client id.
    let cancel_of_ours = data("spot_execution_report_canceled.json").replace("\"C\": \"\"", "\"C\": \"ft-9\"");
    assert!(
        matches!(user_events(Market::Spot, &cancel_of_ours).as_slice(), [UserEvent::Order(o)] if o.client_id == Some(ClientOrderId(9)))
    );
}

#[test]
fn account_events_and_others() {
    let position = user_events(Market::Spot, &data("spot_account_position.json"));
    assert_eq!(
        position,
        vec![UserEvent::Balances(vec![
            BalanceReport {
                venue: Venue::BinanceSpot,
                asset: "USDT".into(),
                wallet: dec("12500"),
                available: dec("10000")
            },
            BalanceReport { venue: Venue::BinanceSpot, asset: "ETH".into(), wallet: dec("5"), available: dec("5") },
        ])]
    );
    let wrapped = user_events(Market::Spot, &data("spot_account_position_wrapped.json"));
    assert!(matches!(wrapped.as_slice(), [UserEvent::Balances(b)] if b.len() == 1 && b[0].wallet == dec("10000")));
    assert_eq!(user_events(Market::Spot, &data("spot_balance_update.json")), vec![UserEvent::Other("balanceUpdate")]);
    assert_eq!(user_events(Market::UsdM, &data("usdm_trade_lite.json")), vec![UserEvent::Other("TRADE_LITE")]);

    let account = user_events(Market::UsdM, &data("usdm_account_update.json"));
    let [UserEvent::Balances(balances), UserEvent::Positions(positions)] = account.as_slice() else {
        panic!("{account:?}")
    };
    assert_eq!(
        balances,
        &[BalanceReport {
            venue: Venue::BinanceUsdm,
            asset: "USDT".into(),
            wallet: dec("122624.12345678"),
            available: dec("100.12345678")
        }]
    );
    assert_eq!(positions.iter().map(|p| p.size).collect::<Vec<_>>(), [Decimal::ZERO, dec("20"), dec("-10")]);
    assert_eq!((positions[2].entry_price, positions[2].unrealized_pnl), (dec("6563.8"), dec("-1423.156")));

    // Futures docs, "Event: User Data Stream Expired" (E as a string).
    let expired = r#"{"e": "listenKeyExpired", "E": "1736996475556", "listenKey": "WsCMN0a4KHUPTQuX6IUnqEZfB1inxmv1qR4kbf1LuEjur5VdbzqvyxqG9TSjVVxv"}"#;
    assert_eq!(user_events(Market::UsdM, expired), vec![UserEvent::ListenKeyExpired]);
    assert_eq!(event_time(expired), Some(UnixNanos::from_millis(1_736_996_475_556)));
    // A combined-stream envelope is unwrapped too.
    let enveloped = format!(r#"{{"stream":"key","data":{expired}}}"#);
    assert_eq!(user_events(Market::UsdM, &enveloped), vec![UserEvent::ListenKeyExpired]);
}

#[test]
fn order_trade_updates() {
    let new = user_events(Market::UsdM, &data("usdm_order_update_new.json"));
    let [UserEvent::Order(new)] = new.as_slice() else { panic!("{new:?}") };
    assert_eq!(
        (new.order_type, new.status, new.last_fill.as_ref()),
        (OrderType::StopMarket, OrderStatus::Accepted, None)
    );

    let trade = user_events(Market::UsdM, &data("usdm_order_update_trade.json"));
    let [UserEvent::Order(trade)] = trade.as_slice() else { panic!("{trade:?}") };
    assert_eq!(
        (trade.status, trade.avg_price, trade.filled),
        (OrderStatus::PartiallyFilled, Some(dec("7100.5")), dec("0.001"))
    );
    let fill = trade.last_fill.as_ref().expect("fill");
    assert_eq!(
        (fill.trade_id.as_str(), fill.price, fill.fee, fill.fee_asset.as_str()),
        ("12345678", dec("7100.5"), dec("0.01"), "USDT")
    );
    assert_eq!((fill.liquidity, trade.venue), (Liquidity::Maker, Venue::BinanceUsdm));

    // Liquidation and auto-deleveraging executions are fills of orders the venue placed.
    for (name, trade_id) in
        [("usdm_order_update_calculated.json", "12345999"), ("usdm_order_update_adl.json", "12346001")]
    {
        let events = user_events(Market::UsdM, &data(name));
        let [UserEvent::Order(update)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!((update.status, update.client_id), (OrderStatus::Filled, None), "{name}");
        let fill = update.last_fill.as_ref().expect("liquidation fill");
        assert_eq!(
            (fill.trade_id.as_str(), fill.quantity, fill.liquidity),
            (trade_id, update.filled, Liquidity::Taker),
            "{name}"
        );
    }
}

#[test]
fn malformed_and_unknown_frames_are_errors() {
    let mut out = Vec::new();
    assert!(matches!(parse_user_frame(Market::Spot, "not json", &mut out), Err(TradingError::Malformed { .. })));
    let bad_status = data("spot_execution_report_new.json").replace("\"X\": \"NEW\"", "\"X\": \"SOMETHING\"");
    assert!(matches!(
        parse_user_frame(Market::Spot, &bad_status, &mut out),
        Err(TradingError::Unknown { field: "status", .. })
    ));
    let bad_price = data("spot_execution_report_new.json").replace("\"p\": \"2500.00000000\"", "\"p\": 2500.5");
    assert!(
        matches!(parse_user_frame(Market::Spot, &bad_price, &mut out), Err(TradingError::Malformed { .. })),
        "floats are refused"
    );
    assert!(out.is_empty());
}

#[test]
fn order_trades_requests_and_the_docs_answers_of_both_markets() {
    let spot = BinanceRequests::new(Market::Spot, docs_credentials());
    let usdm = BinanceRequests::new(Market::UsdM, docs_credentials());
    let request = spot.order_trades("BNBBTC", "100234", 7);
    assert_eq!((request.method, request.path), ("GET", "/api/v3/myTrades"));
    assert!(
        request.query.starts_with("symbol=BNBBTC&orderId=100234&limit=1000&recvWindow=5000&timestamp=7&signature=")
    );
    assert_eq!(usdm.order_trades("BTCUSDT", "8886774", 7).path, "/fapi/v1/userTrades");

    let spot_trades = parse_order_trades(&data("spot_account_trades_response.json")).expect("spot trades");
    let expected = AccountTrade {
        symbol: "BNBBTC".into(),
        venue_order_id: "100234".into(),
        fill: FillReport {
            trade_id: "28457".into(),
            price: dec("4.00000100"),
            quantity: dec("12.00000000"),
            fee: dec("10.10000000"),
            fee_asset: "BNB".into(),
            liquidity: Liquidity::Taker,
            ts_event: UnixNanos(1_499_865_549_590_000_000),
        },
    };
    assert_eq!(spot_trades, vec![expected]);

    // The sample is one item of the endpoint's list.
    let usdm_trades = parse_order_trades(&format!("[{}]", data("usdm_user_trade.json"))).expect("usdm trades");
    assert_eq!(usdm_trades.len(), 1);
    let trade = &usdm_trades[0];
    assert_eq!((trade.symbol.as_str(), trade.venue_order_id.as_str()), ("BTCUSDT", "8886774"));
    assert_eq!((trade.fill.trade_id.as_str(), trade.fill.liquidity), ("12345678", Liquidity::Maker));
    assert_eq!((trade.fill.price, trade.fill.quantity, trade.fill.fee), (dec("7100.50"), dec("0.001"), dec("0.01")));

    let no_flag = r#"[{"symbol":"BTCUSDT","id":1,"orderId":2,"price":"1","qty":"1","time":1}]"#;
    assert!(matches!(parse_order_trades(no_flag), Err(TradingError::Malformed { .. })));
}
