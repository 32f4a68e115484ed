//! Bybit v5 trading codecs against the API docs: request signing and every parser on the documentation's
//! own example payloads (tests/data/bybit/private, see tests/data/SOURCES.md).

use ferrotrade_model::{
    ClientOrderId, Decimal, Liquidity, OrderSide, OrderStatus, OrderType, TimeInForce, UnixNanos, Venue,
};
use ferrotrade_venues::auth::{Credentials, hmac_hex};
use ferrotrade_venues::trading::bybit::{
    BybitRequests, Category, OrderIds, WS_PING, parse_cancel_all, parse_error, parse_executions, parse_open_orders,
    parse_order_ids, parse_positions, parse_server_time, parse_user_frame, parse_wallet_balance, ws_subscribe,
};
use ferrotrade_venues::trading::{
    AccountTrade, BalanceReport, FillReport, NewOrder, OrderRef, PositionReport, TradingError, UserEvent,
};

fn data(name: &str) -> String {
    let path = format!("{}/../../tests/data/bybit/private/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dec(text: &str) -> Decimal {
    Decimal::parse_str(text).expect("decimal")
}

fn requests() -> BybitRequests {
    BybitRequests::new(Credentials::hmac("XXXXXXXXXX", "YYYYYYYYYY"))
}

fn events(frame: &str) -> Vec<UserEvent> {
    let mut out = Vec::new();
    parse_user_frame(Venue::BybitLinear, frame, &mut out).expect("private frame");
    out
}

fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> &'a str {
    headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn create_order_body_and_signature_are_exact() {
    let order = NewOrder {
        symbol: "BTCUSDT".into(),
        client_id: ClientOrderId(1_732_250_000_000_001),
        side: OrderSide::Buy,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        price: Some(dec("25000.0")),
        quantity: dec("0.010"),
        stop_price: None,
        post_only: false,
        reduce_only: false,
    };
    let request = requests().create_order(Category::Linear, &order, 1_672_211_928_338).expect("create");
    let body = r#"{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"25000","timeInForce":"GTC","orderLinkId":"ft-1732250000000001"}"#;
    assert_eq!((request.method, request.path, request.query.as_str()), ("POST", "/v5/order/create", ""));
    assert_eq!(request.body.as_deref(), Some(body));
    // The documented rule: HMAC-SHA256 over timestamp + api_key + recv_window + body, lower-case hex.
    let expected = hmac_hex(b"YYYYYYYYYY", format!("1672211928338XXXXXXXXXX5000{body}").as_bytes());
    assert_eq!(header(&request.headers, "X-BAPI-SIGN"), expected);
    assert_eq!(header(&request.headers, "X-BAPI-API-KEY"), "XXXXXXXXXX");
    assert_eq!(header(&request.headers, "X-BAPI-TIMESTAMP"), "1672211928338");
    assert_eq!(header(&request.headers, "X-BAPI-RECV-WINDOW"), "5000");
    assert_eq!(header(&request.headers, "Content-Type"), "application/json");
    assert!(!format!("{request:?}").contains(&expected), "Debug hides the signature");
}

#[test]
fn order_variants() {
    let base = NewOrder {
        symbol: "BTCUSDT".into(),
        client_id: ClientOrderId(3),
        side: OrderSide::Sell,
        order_type: OrderType::StopMarket,
        time_in_force: TimeInForce::Gtc,
        price: None,
        quantity: dec("1"),
        stop_price: Some(dec("20000")),
        post_only: false,
        reduce_only: true,
    };
    let stop = requests().create_order(Category::Linear, &base, 1).expect("stop");
    assert_eq!(
        stop.body.as_deref(),
        Some(
            r#"{"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"1","timeInForce":"IOC","orderLinkId":"ft-3","reduceOnly":true,"triggerPrice":"20000","triggerDirection":2}"#
        )
    );
    assert!(matches!(requests().create_order(Category::Spot, &base, 1), Err(TradingError::InvalidRequest(_))));
    let spot_market = NewOrder {
        order_type: OrderType::Market,
        stop_price: None,
        reduce_only: false,
        side: OrderSide::Buy,
        ..base.clone()
    };
    assert_eq!(
        requests().create_order(Category::Spot, &spot_market, 1).expect("spot").body.as_deref(),
        Some(
            r#"{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"1","timeInForce":"IOC","orderLinkId":"ft-3","marketUnit":"baseCoin"}"#
        )
    );
    let post_only = NewOrder { order_type: OrderType::Limit, price: Some(dec("1.5")), post_only: true, ..spot_market };
    assert!(
        requests()
            .create_order(Category::Spot, &post_only, 1)
            .expect("post-only")
            .body
            .unwrap_or_default()
            .contains(r#""price":"1.5","timeInForce":"PostOnly""#)
    );
}

#[test]
fn cancel_amend_and_queries() {
    let r = requests().with_recv_window(2_000);
    let cancel = r.cancel_order(Category::Linear, "BTCUSDT", &OrderRef::Client(ClientOrderId(11)), 5).expect("cancel");
    assert_eq!(cancel.body.as_deref(), Some(r#"{"category":"linear","symbol":"BTCUSDT","orderLinkId":"ft-11"}"#));
    assert_eq!(header(&cancel.headers, "X-BAPI-RECV-WINDOW"), "2000");
    let amend = r
        .amend_order(Category::Linear, "BTCUSDT", &OrderRef::Venue("abc".into()), Some(dec("0.5")), None, 5)
        .expect("amend");
    assert_eq!(
        (amend.path, amend.body.as_deref()),
        ("/v5/order/amend", Some(r#"{"category":"linear","symbol":"BTCUSDT","orderId":"abc","qty":"0.5"}"#))
    );
    assert!(r.amend_order(Category::Spot, "BTCUSDT", &OrderRef::Venue("abc".into()), None, None, 5).is_err());
    assert_eq!(
        r.cancel_all(Category::Spot, "BTCUSDT", 5).expect("all").body.as_deref(),
        Some(r#"{"category":"spot","symbol":"BTCUSDT"}"#)
    );

    let open = r.open_orders(Category::Linear, None, 1_658_384_314_791).expect("open");
    assert_eq!(
        (open.method, open.path, open.query.as_str(), open.body.as_ref()),
        ("GET", "/v5/order/realtime", "category=linear&settleCoin=USDT", None)
    );
    let expected = hmac_hex(b"YYYYYYYYYY", b"1658384314791XXXXXXXXXX2000category=linear&settleCoin=USDT");
    assert_eq!(header(&open.headers, "X-BAPI-SIGN"), expected, "a GET signs its query string");
    assert!(open.headers.iter().all(|(name, _)| *name != "Content-Type"));
    assert_eq!(r.positions(Some("ETHUSDT"), 1).expect("positions").query, "category=linear&symbol=ETHUSDT");
    // The GET of the docs' authentication guide: param_str "1658384314791XXXXXXXXXX5000category=option&...".
    let docs = requests()
        .signed_get("/v5/order/realtime", "category=option&symbol=BTC-29JUL22-25000-C".into(), 1_658_384_314_791)
        .expect("docs GET");
    assert_eq!(docs.path_and_query(), "/v5/order/realtime?category=option&symbol=BTC-29JUL22-25000-C");
    let param_str = b"1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C";
    assert_eq!(header(&docs.headers, "X-BAPI-SIGN"), hmac_hex(b"YYYYYYYYYY", param_str));
    assert_eq!(r.wallet_balance(1).expect("wallet").path_and_query(), "/v5/account/wallet-balance?accountType=UNIFIED");
}

#[test]
fn websocket_frames() {
    let auth = requests().ws_auth(1_662_350_400_000).expect("auth");
    let signature = hmac_hex(b"YYYYYYYYYY", b"GET/realtime1662350400000");
    assert_eq!(auth, format!(r#"{{"op":"auth","args":["XXXXXXXXXX",1662350400000,"{signature}"]}}"#));
    assert_eq!(
        ws_subscribe("1", &["order", "execution"]),
        r#"{"op":"subscribe","req_id":"1","args":["order","execution"]}"#
    );
    assert_eq!(WS_PING, r#"{"op":"ping"}"#);
    let ed = Credentials::ed25519_pem("k", "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n")
        .expect("key");
    assert!(matches!(BybitRequests::new(ed).ws_auth(1), Err(TradingError::Auth(_))), "Bybit signs with HMAC only");
}

#[test]
fn rest_answers() {
    // The v5 docs' create-order response example (same shape for create, cancel and amend).
    let body = r#"{"retCode":0,"retMsg":"OK","result":{"orderId":"1b00b997-d825-465e-ad1d-80b0eb1955af","orderLinkId":"ft-12"},"retExtInfo":{},"time":1744075839332}"#;
    assert_eq!(
        parse_order_ids(body).expect("ids"),
        OrderIds { venue_order_id: "1b00b997-d825-465e-ad1d-80b0eb1955af".into(), client_id: Some(ClientOrderId(12)) }
    );
    let cancel_all = r#"{"retCode":0,"retMsg":"OK","result":{"list":[{"orderId":"1616024329462743808","orderLinkId":"1616024329462743809"}],"success":"1"},"retExtInfo":{},"time":1707381118116}"#;
    assert_eq!(
        parse_cancel_all(cancel_all).expect("all"),
        vec![OrderIds { venue_order_id: "1616024329462743808".into(), client_id: None }]
    );
    // Get Bybit Server Time, response example.
    let time = r#"{"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403","timeNano":"1688639403423213947"},"retExtInfo":{},"time":1688639403423}"#;
    assert_eq!(parse_server_time(time).expect("time"), UnixNanos(1_688_639_403_423_213_947));

    let error = r#"{"retCode":110001,"retMsg":"order not exists or too late to cancel","result":{},"retExtInfo":{},"time":1672211918471}"#;
    match parse_order_ids(error) {
        Err(TradingError::Api(api)) => assert!(api.is_unknown_order() && api.status == 200, "{api}"),
        other => panic!("{other:?}"),
    }
    let forbidden = parse_error(403, "<html>403 Forbidden</html>");
    assert_eq!((forbidden.code, forbidden.is_auth()), (0, true));
    assert_eq!(parse_error(200, error).code, 110_001);
}

#[test]
fn open_orders_positions_and_wallet() {
    let orders = parse_open_orders(Category::Linear, &data("http_get_orders_realtime.json")).expect("orders");
    assert_eq!(orders.len(), 2);
    let first = &orders[0];
    assert_eq!(
        (first.venue, first.symbol.as_str(), first.venue_order_id.as_str()),
        (Venue::BybitLinear, "ETHUSDT", "open-order-1")
    );
    assert_eq!((first.status, first.side, first.order_type), (OrderStatus::Accepted, OrderSide::Buy, OrderType::Limit));
    assert_eq!(
        (first.price, first.quantity, first.filled, first.avg_price),
        (dec("3930.41"), dec("0.01"), Decimal::ZERO, None)
    );
    assert_eq!(
        (first.client_id, first.reject_reason.as_ref(), first.ts_event),
        (None, None, UnixNanos::from_millis(1_761_355_905_606))
    );
    assert_eq!(orders[1].side, OrderSide::Sell);

    let positions = parse_positions(&data("http_get_positions.json")).expect("positions");
    assert_eq!(
        positions[..2],
        [
            PositionReport {
                venue: Venue::BybitLinear,
                symbol: "BTCUSDT".into(),
                size: dec("0.5"),
                entry_price: dec("50000"),
                unrealized_pnl: dec("250")
            },
            PositionReport {
                venue: Venue::BybitLinear,
                symbol: "ETHUSDT".into(),
                size: dec("-5"),
                entry_price: dec("3000"),
                unrealized_pnl: dec("250")
            },
        ]
    );
    assert_eq!((positions[2].size, positions[2].entry_price), (Decimal::ZERO, Decimal::ZERO), "flat: side \"\"");

    let wallet = parse_wallet_balance(Venue::BybitLinear, &data("http_get_wallet_balance.json")).expect("wallet");
    assert_eq!(wallet.len(), 3);
    assert_eq!(
        wallet[1],
        BalanceReport {
            venue: Venue::BybitLinear,
            asset: "USDT".into(),
            wallet: dec("1000.5"),
            available: dec("1000.5")
        }
    );
}

#[test]
fn order_topic() {
    let canceled = events(&data("ws_account_order.json"));
    let [UserEvent::Order(order)] = canceled.as_slice() else { panic!("{canceled:?}") };
    assert_eq!(
        (order.status, order.venue, order.order_type, order.quantity),
        (OrderStatus::Canceled, Venue::BybitLinear, OrderType::Limit, dec("0.01"))
    );
    assert_eq!((order.client_id, order.ts_event), (None, UnixNanos::from_millis(1_700_000_005_000)));
    let ours = data("ws_account_order.json").replace("client-1", "ft-1732250000000042");
    assert!(
        matches!(events(&ours).as_slice(), [UserEvent::Order(o)] if o.client_id == Some(ClientOrderId(1_732_250_000_000_042)))
    );

    let filled = events(&data("ws_account_order_filled.json"));
    let [UserEvent::Order(filled)] = filled.as_slice() else { panic!("{filled:?}") };
    assert_eq!(
        (filled.status, filled.order_type, filled.filled, filled.avg_price),
        (OrderStatus::Filled, OrderType::StopLimit, dec("0.1"), Some(dec("30000.5")))
    );

    let rejected = events(&data("ws_account_order_partially_filled_rejected.json"));
    let [UserEvent::Order(rejected)] = rejected.as_slice() else { panic!("{rejected:?}") };
    assert_eq!(
        (rejected.venue, rejected.status, rejected.filled),
        (Venue::BybitSpot, OrderStatus::Rejected, dec("50"))
    );
    assert_eq!(rejected.reject_reason.as_deref(), Some("UNKNOWN"));
}

#[test]
fn execution_topic() {
    let executions = events(&data("ws_account_execution.json"));
    let [UserEvent::Order(update)] = executions.as_slice() else { panic!("{executions:?}") };
    assert_eq!(
        (update.status, update.side, update.order_type, update.filled),
        (OrderStatus::Filled, OrderSide::Sell, OrderType::Market, dec("0.5"))
    );
    assert_eq!((update.venue_order_id.as_str(), update.client_id), ("9aac161b-8ed6-450d-9cab-c5cc67c21784", None));
    assert_eq!(
        update.last_fill,
        Some(FillReport {
            trade_id: "0ab1bdf7-4219-438b-b30a-32ec863018f7".into(),
            price: dec("95900.1"),
            quantity: dec("0.5"),
            fee: dec("26.3725275"),
            fee_asset: "USDT".into(),
            liquidity: Liquidity::Taker,
            ts_event: UnixNanos::from_millis(1_746_270_400_353),
        })
    );
    let maker = data("ws_account_execution.json").replace("\"isMaker\": false", "\"isMaker\": true");
    assert!(
        matches!(events(&maker).as_slice(), [UserEvent::Order(o)] if o.last_fill.as_ref().is_some_and(|f| f.liquidity == Liquidity::Maker))
    );
    let funding = data("ws_account_execution.json").replace("\"execType\": \"Trade\"", "\"execType\": \"Funding\"");
    assert_eq!(events(&funding), vec![UserEvent::Other("no traded items")]);
    assert_eq!(events(&data("ws_account_execution_fast.json")), vec![UserEvent::Other("execution.fast")]);
}

#[test]
fn position_and_wallet_topics() {
    assert_eq!(
        events(&data("ws_account_position.json")),
        vec![UserEvent::Positions(vec![PositionReport {
            venue: Venue::BybitLinear,
            symbol: "ETHUSDT".into(),
            size: dec("-0.01"),
            entry_price: dec("3641.075"),
            unrealized_pnl: dec("-0.00255"),
        }])]
    );
    let wallet = events(&data("ws_account_wallet.json"));
    let [UserEvent::Balances(balances)] = wallet.as_slice() else { panic!("{wallet:?}") };
    assert_eq!(
        balances,
        &[
            BalanceReport {
                venue: Venue::BybitLinear,
                asset: "BTC".into(),
                wallet: dec("0.00102964"),
                available: dec("0.00092964")
            },
            BalanceReport {
                venue: Venue::BybitLinear,
                asset: "USDT".into(),
                wallet: dec("9647.75537647"),
                available: dec("9519.89806037")
            },
        ]
    );
    // Newer unified accounts leave availableToWithdraw empty: available is walletBalance - locked.
    let uta2 = data("ws_account_wallet.json").replace(
        "\"availableToWithdraw\": \"9519.89806037\"",
        "\"availableToWithdraw\": \"\", \"locked\": \"47.75537647\"",
    );
    assert!(matches!(events(&uta2).as_slice(), [UserEvent::Balances(b)] if b[1].available == dec("9600")));
}

#[test]
fn acknowledgements() {
    let mut out = Vec::new();
    parse_user_frame(Venue::BybitLinear, &data("ws_subscription_ack.json"), &mut out).expect("ack");
    assert_eq!(out, vec![UserEvent::Other("subscribe")]);
    match parse_user_frame(Venue::BybitLinear, &data("ws_auth_failure.json"), &mut out) {
        Err(TradingError::Api(api)) => {
            assert_eq!((api.code, api.message.as_str(), api.is_auth()), (10003, "Invalid apikey", true))
        }
        other => panic!("{other:?}"),
    }
    match parse_user_frame(Venue::BybitLinear, &data("ws_subscription_failure.json"), &mut out) {
        Err(TradingError::Api(api)) => assert!(api.message.starts_with("Invalid topic"), "{api}"),
        other => panic!("{other:?}"),
    }
    let success = r#"{"success":true,"ret_msg":"","op":"auth","conn_id":"cejreaspqfm9se7usbrg-2xh"}"#;
    parse_user_frame(Venue::BybitLinear, success, &mut out).expect("auth ok");
    assert_eq!(out.last(), Some(&UserEvent::Other("auth")));
    let pong = r#"{"req_id":"","op":"pong","args":["1675418560633"],"conn_id":"cfcb4ocsvfriu23r3er0-1b"}"#;
    parse_user_frame(Venue::BybitLinear, pong, &mut out).expect("pong");
    assert_eq!(out.last(), Some(&UserEvent::Other("pong")));
    let bad = data("ws_account_order.json").replace("\"Cancelled\"", "\"Exploded\"");
    assert!(matches!(
        parse_user_frame(Venue::BybitLinear, &bad, &mut out),
        Err(TradingError::Unknown { field: "orderStatus", .. })
    ));
}

#[test]
fn execution_list_of_one_order() {
    let list = requests()
        .order_executions(Category::Linear, "BTCUSDT", &OrderRef::Client(ClientOrderId(7)), 1_672_282_800_000)
        .expect("request");
    assert_eq!(
        (list.method, list.path_and_query().as_str()),
        ("GET", "/v5/execution/list?category=linear&symbol=BTCUSDT&orderLinkId=ft-7&limit=100")
    );
    let signed = b"1672282800000XXXXXXXXXX5000category=linear&symbol=BTCUSDT&orderLinkId=ft-7&limit=100";
    assert_eq!(header(&list.headers, "X-BAPI-SIGN"), hmac_hex(b"YYYYYYYYYY", signed));
    let by_venue_id = requests()
        .order_executions(Category::Spot, "XRPUSDT", &OrderRef::Venue("8c065341".into()), 1)
        .expect("request");
    assert_eq!(by_venue_id.query, "category=spot&symbol=XRPUSDT&orderId=8c065341&limit=100");

    // The docs' example lists two executions, newest last here (oldest first).
    let trades = parse_executions(Category::Linear, &data("http_get_executions.json")).expect("executions");
    assert_eq!(
        trades[0],
        AccountTrade {
            symbol: "BTCUSDT".into(),
            venue_order_id: "8c065341-7b52-4ca9-ac2c-37e31ac55c94".into(),
            fill: FillReport {
                trade_id: "e0cbe81d-0f18-5866-9415-cf319b5dab3b".into(),
                price: dec("50000.00"),
                quantity: dec("0.100"),
                fee: dec("0.0150"),
                fee_asset: "USDT".into(),
                liquidity: Liquidity::Maker,
                ts_event: UnixNanos::from_millis(1_672_282_722_429),
            },
        }
    );
    assert_eq!(trades.len(), 2);
    assert_eq!((trades[1].symbol.as_str(), trades[1].fill.liquidity), ("ETHUSDT", Liquidity::Taker));
    assert_eq!(trades[1].fill.quantity, dec("0.500"));

    // Funding items are not fills of an order; a refusal is the venue's error.
    let funding = r#"{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"BTCUSDT",
        "orderId":"1","orderLinkId":"","side":"Buy","orderPrice":"0","orderQty":"0","leavesQty":"0",
        "orderType":"UNKNOWN","stopOrderType":"","execFee":"0.01","execId":"f","execPrice":"1","execQty":"1",
        "execType":"Funding","execTime":"1","isMaker":false}],"nextPageCursor":""},"time":1}"#;
    assert!(parse_executions(Category::Linear, funding).expect("funding").is_empty());
    let refused = r#"{"retCode":10002,"retMsg":"invalid request, please check your server timestamp","result":{}}"#;
    assert!(matches!(parse_executions(Category::Linear, refused), Err(TradingError::Api(e)) if e.code == 10002));
}
