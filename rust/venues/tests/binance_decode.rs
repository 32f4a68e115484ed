//! Binance frame decoding on real messages: one insta snapshot per message type, and error cases.
//!
//! `tests/data/binance/frames.txt` holds one real frame per line as `<name>\t<json>`, copied from the
//! hftbacktest and cryptofeed recordings (see `tests/data/SOURCES.md`).

use std::fmt::Write as _;

use ferrotrade_model::Venue;
use ferrotrade_venues::binance::decode_frame;
use ferrotrade_venues::decoded::{Payload, RawLevel, Scratch};
use ferrotrade_venues::source::{Frame, FrameHint};

const FRAMES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/binance/frames.txt"));

fn frame(name: &str) -> &'static str {
    FRAMES
        .lines()
        .find_map(|line| line.split_once('\t').filter(|(key, _)| *key == name).map(|(_, json)| json))
        .unwrap_or_else(|| panic!("no frame {name}"))
}

fn levels(out: &mut String, side: &str, levels: &[RawLevel]) {
    let shown: Vec<String> = levels.iter().take(3).map(|l| format!("{} x {}", l.price, l.size)).collect();
    let _ = writeln!(out, "  {side}: {} levels, first {:?}", levels.len(), shown);
}

/// A readable summary: every field, but only the first three levels of a book.
fn summary(result: Result<Frame<'_>, String>) -> String {
    let mut out = String::new();
    match result {
        Ok(Frame::Market(decoded)) => {
            let _ = writeln!(out, "{} {}", decoded.venue, decoded.symbol);
            match decoded.payload {
                Payload::Book(book) => {
                    let _ = writeln!(
                        out,
                        "  book snapshot={} ts={} U={} u={} pu={}",
                        book.is_snapshot, book.ts_event.0, book.first_sequence, book.sequence, book.prev_sequence
                    );
                    levels(&mut out, "bids", book.bids);
                    levels(&mut out, "asks", book.asks);
                }
                other => {
                    let _ = writeln!(out, "  {other:?}");
                }
            }
        }
        Ok(Frame::Instruments(infos)) => {
            let _ = writeln!(out, "{infos:#?}");
        }
        Ok(Frame::Control(what)) => {
            let _ = writeln!(out, "control: {what}");
        }
        Err(reason) => {
            let _ = writeln!(out, "error: {reason}");
        }
    }
    out
}

fn decode(name: &str, hint: &FrameHint) -> String {
    let mut scratch = Scratch::default();
    summary(decode_frame(frame(name).as_bytes(), hint, &mut scratch))
}

#[test]
fn every_real_frame_type_decodes() {
    let no_hint = FrameHint::default();
    let mut all = String::new();
    for line in FRAMES.lines() {
        let (name, _) = line.split_once('\t').unwrap();
        let hint = if name == "spot_rest_snapshot" {
            FrameHint { venue: None, symbol: Some("RUNEEUR".into()) }
        } else {
            no_hint.clone()
        };
        let _ = writeln!(all, "== {name}\n{}", decode(name, &hint));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn venue_is_inferred_without_a_hint() {
    let venue = |name: &str| {
        let mut scratch = Scratch::default();
        match decode_frame(frame(name).as_bytes(), &FrameHint::default(), &mut scratch) {
            Ok(Frame::Market(decoded)) => decoded.venue,
            other => panic!("{name}: {other:?}"),
        }
    };
    for (name, expected) in [
        ("spot_depth_update", Venue::BinanceSpot),
        ("usdm_depth_update", Venue::BinanceUsdm),
        ("coinm_depth_update", Venue::BinanceCoinm),
        ("spot_book_ticker", Venue::BinanceSpot),
        ("usdm_book_ticker", Venue::BinanceUsdm),
        ("coinm_book_ticker", Venue::BinanceCoinm),
        ("spot_trade", Venue::BinanceSpot),
        ("usdm_trade", Venue::BinanceUsdm),
        ("coinm_trade", Venue::BinanceCoinm),
        ("spot_agg_trade", Venue::BinanceSpot),
        ("usdm_agg_trade", Venue::BinanceUsdm),
        ("usdm_mark_price", Venue::BinanceUsdm),
        ("coinm_rest_snapshot", Venue::BinanceCoinm),
    ] {
        assert_eq!(venue(name), expected, "{name}");
    }
    // The hint wins over inference.
    let hint = FrameHint { venue: Some(Venue::BinanceUs), symbol: None };
    let mut scratch = Scratch::default();
    let Ok(Frame::Market(decoded)) = decode_frame(frame("spot_trade").as_bytes(), &hint, &mut scratch) else {
        panic!()
    };
    assert_eq!(decoded.venue, Venue::BinanceUs);
}

#[test]
fn raw_payloads_equal_enveloped_ones() {
    let enveloped = frame("usdm_depth_update");
    let start = enveloped.find("\"data\":").unwrap() + "\"data\":".len();
    let raw = &enveloped[start..enveloped.len() - 1];
    let reordered = format!("{{\"data\":{raw},\"stream\":\"btcusdt@depth@0ms\"}}");
    let spaced = format!("{{ \"stream\" : \"btcusdt@depth@0ms\" , \"data\" : {raw} }}");
    let reference = decode("usdm_depth_update", &FrameHint::default());
    for text in [raw.to_owned(), reordered, spaced] {
        let mut scratch = Scratch::default();
        assert_eq!(summary(decode_frame(text.as_bytes(), &FrameHint::default(), &mut scratch)), reference, "{text}");
    }
}

#[test]
fn snapshot_symbol_comes_from_body_hint_or_fails() {
    let mut scratch = Scratch::default();
    let error = decode_frame(frame("spot_rest_snapshot").as_bytes(), &FrameHint::default(), &mut scratch).unwrap_err();
    assert!(error.contains("without a symbol"), "{error}");
    // COIN-M REST bodies name their symbol; it wins over a (wrong) hint.
    let hint = FrameHint { venue: None, symbol: Some("OTHER".into()) };
    assert!(decode("coinm_rest_snapshot", &hint).starts_with("binance-coinm LINKUSD_PERP"));
}

#[test]
fn control_frames() {
    let mut scratch = Scratch::default();
    let hint = FrameHint::default();
    // Shapes from Binance's WebSocket documentation (no real capture holds them).
    for (text, expected) in [
        (r#"{"result":null,"id":1}"#, "subscription ack"),
        (r#"{"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":1,"s":"BTCUSDT"}}"#, "24hr ticker"),
        (frame("spot_kline_open"), "kline open"),
    ] {
        assert_eq!(decode_frame(text.as_bytes(), &hint, &mut scratch), Ok(Frame::Control(expected)), "{text}");
    }
}

#[test]
fn bad_frames_are_errors_not_panics() {
    let hint = FrameHint::default();
    let depth = frame("usdm_depth_update");
    let bad_decimal = depth.replacen("\"5.2", "\"5.x", 1);
    let cases: Vec<(String, &str)> = vec![
        (depth[..depth.len() / 2].to_owned(), "invalid JSON"),
        (depth[..depth.len() - 1].to_owned(), "invalid JSON"),
        (bad_decimal, "field b"),
        (depth.replace("depthUpdate", "fooUpdate"), "unknown Binance event type \"fooUpdate\""),
        (depth.replace("\"U\":", "\"V\":"), "depthUpdate without field U"),
        (depth.replace("\"b\":[[", "\"b\":[[[").replacen("]],\"a\"", "]]],\"a\"", 1), "field b"),
        (frame("spot_trade").replace("\"q\":\"0.02000000\",", ""), "trade without field q"),
        (frame("spot_book_ticker").replace("\"61837.63000000\"", "61837.63"), "field b"),
        (r#"{"code":-1121,"msg":"Invalid symbol."}"#.to_owned(), "Binance error response -1121: Invalid symbol."),
        ("{}".to_owned(), "unrecognized Binance frame"),
        ("[1,2]".to_owned(), "invalid JSON"),
        (String::new(), "invalid JSON"),
        (frame("usdm_kline_closed").replace("\"i\":\"1m\"", "\"i\":\"1x\""), "kline interval"),
    ];
    for (text, expected) in cases {
        let mut scratch = Scratch::default();
        let error = decode_frame(text.as_bytes(), &hint, &mut scratch).unwrap_err();
        assert!(error.contains(expected), "{error} (wanted {expected}) for {text}");
    }
}

#[test]
fn scratch_is_reused_without_growing() {
    let mut scratch = Scratch::default();
    let hint = FrameHint::default();
    for _ in 0..3 {
        let Ok(Frame::Market(decoded)) = decode_frame(frame("usdm_depth_update").as_bytes(), &hint, &mut scratch)
        else {
            panic!()
        };
        let Payload::Book(book) = decoded.payload else { panic!() };
        assert!(!book.bids.is_empty() && !book.asks.is_empty());
    }
    let capacity = (scratch.bids.capacity(), scratch.asks.capacity());
    let _ = decode_frame(frame("usdm_depth_update").as_bytes(), &hint, &mut scratch).unwrap();
    assert_eq!((scratch.bids.capacity(), scratch.asks.capacity()), capacity);
}

proptest::proptest! {
    /// Any truncation or byte change of a real frame decodes or errs; it never panics.
    #[test]
    fn mutated_frames_never_panic(index in 0usize..64, cut in 0.0f64..1.0, at in 0.0f64..1.0, byte in proptest::num::u8::ANY) {
        let lines: Vec<&str> = FRAMES.lines().collect();
        let frame = lines[index % lines.len()].split_once('\t').unwrap().1.as_bytes();
        let mut changed = frame.to_vec();
        let position = ((changed.len() as f64) * at) as usize % changed.len();
        changed[position] = byte;
        let truncated = &frame[..((frame.len() as f64) * cut) as usize];
        for bytes in [&changed[..], truncated] {
            let mut scratch = Scratch::default();
            let _ = decode_frame(bytes, &FrameHint::default(), &mut scratch);
            let hint = FrameHint { venue: Some(Venue::BinanceUsdm), symbol: Some("X".into()) };
            let _ = decode_frame(bytes, &hint, &mut scratch);
        }
    }
}

#[test]
fn recent_trades_lists_parse_in_id_order_with_the_stream_s_aggressor_rule() {
    use ferrotrade_model::{AggressorSide, Decimal, UnixNanos};
    use ferrotrade_venues::binance::{parse_recent_trades, recent_trades_path, recent_trades_weight};
    let read = |name: &str| {
        std::fs::read(format!("{}/../../tests/data/binance/{name}", env!("CARGO_MANIFEST_DIR"))).expect("data")
    };
    let mut trades = Vec::new();
    parse_recent_trades(&read("spot_market_trades.json"), &mut trades).expect("spot list");
    let ids: Vec<u64> = trades.iter().filter_map(|trade| trade.trade_id).collect();
    assert_eq!(ids, (1_111_468_873..=1_111_468_882).collect::<Vec<_>>());
    let first = &trades[0];
    assert_eq!(
        (first.price, first.size),
        (Decimal::parse_str("60650.00000000").unwrap(), Decimal::parse_str("0.02924000").unwrap())
    );
    assert_eq!(first.ts_event, UnixNanos::from_millis(1_634_942_949_263));
    assert_eq!(first.aggressor, AggressorSide::Seller, "isBuyerMaker: a sell took liquidity");
    assert_eq!(trades[1].aggressor, AggressorSide::Buyer);
    parse_recent_trades(&read("usdm_market_trades.json"), &mut trades).expect("usdm list");
    assert_eq!((trades.len(), trades[0].trade_id), (1, Some(28_457)));
    assert!(parse_recent_trades(b"{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", &mut trades).is_err());
    assert!(trades.is_empty());
    assert_eq!(recent_trades_path(Venue::BinanceUsdm), Some("/fapi/v1/trades"));
    assert_eq!((recent_trades_weight(Venue::BinanceSpot), recent_trades_weight(Venue::BinanceUsdm)), (25, 5));
}
