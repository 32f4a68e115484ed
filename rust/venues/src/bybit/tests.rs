//! Decoding of real Bybit v5 frames (history archive, cryptofeed pr1085 captures) and of the API-docs
//! fixtures of nautilus_trader for the shapes no permissive real capture holds (trades, tickers,
//! klines, REST instruments-info). See `tests/data/SOURCES.md`.

use ferrotrade_model::{AggressorSide, Decimal, UnixNanos, Venue};

use super::*;
use crate::decoded::Payload;

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/../../tests/data/bybit/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hint(venue: Venue) -> FrameHint {
    FrameHint { venue: Some(venue), symbol: None }
}

/// Every message of a frame, as debug text (the frames borrow the scratch, so they can't be kept).
fn decode_all(frame: &[u8], venue: Venue) -> Result<Vec<String>, MultiError<()>> {
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    decode_frame_multi(frame, &hint(venue), &mut scratch, &mut |frame: Frame<'_>| {
        out.push(format!("{frame:#?}"));
        Ok::<(), ()>(())
    })?;
    Ok(out)
}

#[test]
fn archive_delta_line_decodes_exactly() {
    let archive = data("2024-12-01_XRPUSDT_ob500.data");
    let second_line = archive.split(|b| *b == b'\n').nth(1).unwrap();
    let mut scratch = Scratch::default();
    let frame = decode_frame(second_line, &FrameHint::default(), &mut scratch).unwrap();
    insta::assert_debug_snapshot!("archive_delta", frame);
}

#[test]
fn archive_snapshot_has_500_levels_each_side() {
    let archive = data("2024-12-01_XRPUSDT_ob500.data");
    let first_line = archive.split(|b| *b == b'\n').next().unwrap();
    let mut scratch = Scratch::default();
    let Frame::Market(decoded) = decode_frame(first_line, &FrameHint::default(), &mut scratch).unwrap() else {
        panic!("not a market frame")
    };
    let Payload::Book(book) = decoded.payload else { panic!("not a book") };
    assert_eq!((decoded.venue, decoded.symbol), (Venue::BybitLinear, "XRPUSDT"));
    assert!(book.is_snapshot);
    assert_eq!((book.bids.len(), book.asks.len()), (500, 500));
    assert_eq!((book.first_sequence, book.sequence, book.prev_sequence), (20_254_869, 20_254_869, 0));
    assert_eq!(book.ts_event, UnixNanos::from_millis(1_733_011_200_691));
    assert_eq!(book.bids[0].price, Decimal::parse_str("1.9531").unwrap());
    assert_eq!(book.bids[0].size, Decimal::parse_str("6203").unwrap());
}

/// Real frames from cryptofeed's pr1085 `BYBIT.ws.1.0` (linear) and `BYBIT.ws.2.0` (spot).
const LINEAR_L1: &str = r#"{"topic":"orderbook.1.BANDUSDT","type":"snapshot","ts":1749833474773,"data":{"s":"BANDUSDT","b":[["0.6131","17.9"]],"a":[["0.6134","35.4"]],"u":24042997,"seq":209972815373},"cts":1749833474768}"#;
const SPOT_L1: &str = r#"{"topic":"orderbook.1.ARBUSDC","ts":1749833503984,"type":"snapshot","data":{"s":"ARBUSDC","b":[["0.3448","5475.77"]],"a":[["0.345","405"]],"u":1909221,"seq":70732586266},"cts":1749833501662}"#;
const ACK: &str =
    r#"{"success":true,"ret_msg":"","conn_id":"a38867ec-70b5-4044-a765-54b36bdd6fd9","req_id":"","op":"subscribe"}"#;

#[test]
fn cryptofeed_l1_frames_take_the_containers_venue() {
    let linear = decode_all(LINEAR_L1.as_bytes(), Venue::BybitLinear).unwrap();
    insta::assert_snapshot!("linear_l1", linear.join("\n"));
    let spot = decode_all(SPOT_L1.as_bytes(), Venue::BybitSpot).unwrap();
    assert!(spot[0].contains("BybitSpot") && spot[0].contains("ARBUSDC"), "{}", spot[0]);
    let mut scratch = Scratch::default();
    assert_eq!(
        decode_frame(ACK.as_bytes(), &FrameHint::default(), &mut scratch).unwrap(),
        Frame::Control("bybit subscribe ack")
    );
}

#[test]
fn control_frames_are_named() {
    let mut scratch = Scratch::default();
    let mut control = |frame: &[u8]| match decode_frame(frame, &FrameHint::default(), &mut scratch) {
        Ok(Frame::Control(what)) => what,
        other => panic!("{other:?}"),
    };
    assert_eq!(control(&data("ws_subscription_ack.json")), "bybit subscribe ack");
    assert_eq!(control(&data("ws_auth_success.json")), "bybit auth");
    assert_eq!(control(br#"{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}"#), "bybit pong");
    assert_eq!(
        control(br#"{"success":false,"ret_msg":"error:handler not found","op":"subscribe"}"#),
        "bybit subscribe failed"
    );
}

#[test]
fn public_trade_fixture() {
    // The docs-derived fixture names its topic `trade.linear.BTCUSDT`; live v5 streams (cryptofeed's
    // captures) use `publicTrade.SYMBOL`, which is what the decoder accepts.
    let fixture = String::from_utf8(data("ws_public_trade.json")).unwrap();
    let frame = fixture.replace("trade.linear.BTCUSDT", "publicTrade.BTCUSDT");
    assert_ne!(frame, fixture);
    let frames = decode_all(frame.as_bytes(), Venue::BybitLinear).unwrap();
    assert_eq!(frames.len(), 1);
    assert!(frames[0].contains("trade_id: None"), "a UUID id is opaque: {}", frames[0]);
    insta::assert_snapshot!("public_trade", frames.join("\n"));
}

#[test]
fn several_trades_in_one_frame() {
    // Hand-written in the shape of real spot `publicTrade` frames (numeric ids).
    let frame = br#"{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1700000000001,"data":[
        {"T":1700000000000,"s":"BTCUSDT","S":"Buy","v":"0.010","p":"37000.10","i":"2290000000001","BT":false},
        {"T":1700000000000,"s":"BTCUSDT","S":"Sell","v":"0.5","p":"37000.00","i":"2290000000002","BT":false}]}"#;
    let mut scratch = Scratch::default();
    let mut trades = Vec::new();
    decode_frame_multi(frame, &hint(Venue::BybitSpot), &mut scratch, &mut |frame: Frame<'_>| {
        let Frame::Market(Decoded { venue, symbol, payload: Payload::Trade(trade) }) = frame else {
            panic!("{frame:?}")
        };
        trades.push((venue, symbol.to_owned(), trade));
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!(trades.len(), 2);
    assert_eq!(trades[0].0, Venue::BybitSpot);
    assert_eq!(trades[0].2.trade_id, Some(2_290_000_000_001));
    assert_eq!(trades[0].2.aggressor, AggressorSide::Buyer);
    assert_eq!(trades[1].2.aggressor, AggressorSide::Seller);
    assert_eq!(trades[1].2.size, Decimal::parse_str("0.5").unwrap());
    // The single-message entry point refuses rather than dropping the second trade.
    let error = decode_frame(frame, &FrameHint::default(), &mut scratch).unwrap_err();
    assert!(error.contains("decode_frame_multi"), "{error}");
    // A bad second element: nothing of the frame is handed on.
    let broken = String::from_utf8_lossy(frame).replace(r#""p":"37000.00""#, r#""p":"37k""#);
    let mut delivered = 0;
    let result = decode_frame_multi(broken.as_bytes(), &FrameHint::default(), &mut scratch, &mut |_: Frame<'_>| {
        delivered += 1;
        Ok::<(), ()>(())
    });
    assert!(matches!(result, Err(MultiError::Decode(ref reason)) if reason.contains("37k")), "{result:?}");
    assert_eq!(delivered, 0);
}

#[test]
fn linear_ticker_gives_quote_and_mark() {
    let frames = decode_all(&data("ws_ticker_linear.json"), Venue::BybitLinear).unwrap();
    assert_eq!(frames.len(), 2);
    insta::assert_snapshot!("ticker_linear", frames.join("\n"));
    let mut scratch = Scratch::default();
    assert!(decode_frame(&data("ws_ticker_linear.json"), &FrameHint::default(), &mut scratch).is_err());
}

#[test]
fn ticker_deltas_emit_only_complete_parts() {
    let quote_only = br#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"65114.20","bid1Size":"6.054","ask1Price":"65114.30","ask1Size":"10.486"},"cs":753843907770,"ts":1786310817883}"#;
    let mut scratch = Scratch::default();
    let Frame::Market(decoded) = decode_frame(quote_only, &FrameHint::default(), &mut scratch).unwrap() else {
        panic!("not market")
    };
    let Payload::Quote(quote) = decoded.payload else { panic!("not a quote") };
    assert_eq!(quote.bid.price, Decimal::parse_str("65114.2").unwrap());
    assert_eq!(quote.ask.size, Decimal::parse_str("10.486").unwrap());
    assert_eq!(quote.ts_event, UnixNanos::from_millis(1_786_310_817_883));
    let partial = br#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Size":"6.1"},"cs":1,"ts":1786310817884}"#;
    assert_eq!(
        decode_frame(partial, &FrameHint::default(), &mut scratch).unwrap(),
        Frame::Control("bybit ticker without quote or mark")
    );
}

#[test]
fn only_confirmed_klines_are_bars() {
    let open = data("ws_kline.json");
    assert_eq!(
        decode_all(&open, Venue::BybitLinear).unwrap(),
        vec![format!("{:#?}", Frame::Control("bybit kline (unconfirmed)"))]
    );
    let closed = String::from_utf8(open).unwrap().replace("\"confirm\": false", "\"confirm\": true");
    let frames = decode_all(closed.as_bytes(), Venue::BybitLinear).unwrap();
    insta::assert_snapshot!("kline_confirmed", frames.join("\n"));
}

#[test]
fn instruments_info_linear_and_spot() {
    let instruments = |name: &str, hint: &FrameHint| match decode_frame(&data(name), hint, &mut Scratch::default()) {
        Ok(Frame::Instruments(infos)) => infos,
        other => panic!("{other:?}"),
    };
    let linear = instruments("http_get_instruments_linear.json", &FrameHint::default());
    let spot = instruments("http_get_instruments_spot.json", &hint(Venue::BybitSpot));
    assert_eq!(linear.len(), 2);
    assert!(linear.iter().all(|info| info.venue == Venue::BybitLinear));
    assert_eq!(spot.len(), 2);
    assert!(spot.iter().all(|info| info.venue == Venue::BybitSpot));
    // Real responses name their `category`, which wins over the container's hint.
    let with_category = br#"{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol":"ETHUSDT","lotSizeFilter":{"basePrecision":"0.00001","minOrderAmt":"5"},"priceFilter":{"tickSize":"0.01"}},{"symbol":"NEWUSDT","lotSizeFilter":{"basePrecision":""},"priceFilter":{"tickSize":""}}]}}"#;
    let infos = match decode_frame(with_category, &hint(Venue::BybitLinear), &mut Scratch::default()) {
        Ok(Frame::Instruments(infos)) => infos,
        other => panic!("{other:?}"),
    };
    assert_eq!(infos.len(), 1, "the entry without filters is skipped");
    assert_eq!(infos[0].venue, Venue::BybitSpot);
    assert_eq!(infos[0].lot_size, Decimal::parse_str("0.00001").unwrap());
    assert_eq!(infos[0].min_notional, Some(Decimal::parse_str("5").unwrap()));
    insta::assert_debug_snapshot!("instruments", (linear, spot));
}

#[test]
fn bad_frames_are_errors_not_panics() {
    let mut scratch = Scratch::default();
    let cases: [&[u8]; 8] = [
        b"",
        b"not json",
        br#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1}"#,
        br#"{"topic":"orderbook.50.BTCUSDT","type":"weird","ts":1,"data":{"s":"X","b":[],"a":[],"u":1}}"#,
        br#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"X","b":[["1.0"]],"a":[],"u":1}}"#,
        br#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"X","b":[["abc","1"]],"a":[],"u":1}}"#,
        br#"{"retCode":10001,"retMsg":"params error","result":{}}"#,
        br#"{"hello":"world"}"#,
    ];
    for case in cases {
        let result = decode_frame(case, &FrameHint::default(), &mut scratch);
        assert!(result.is_err(), "{} -> {result:?}", String::from_utf8_lossy(case));
    }
}

#[test]
fn urls_tell_the_market() {
    assert_eq!(venue_from_url("wss://stream.bybit.com/v5/public/spot"), Some(Venue::BybitSpot));
    assert_eq!(venue_from_url("wss://stream.bybit.com/v5/public/linear"), Some(Venue::BybitLinear));
    assert_eq!(
        venue_from_url("https://api.bybit.com/v5/market/instruments-info?&category=inverse"),
        Some(Venue::BybitInverse)
    );
    assert_eq!(venue_from_url("wss://stream.binance.com:9443/stream"), None);
}
