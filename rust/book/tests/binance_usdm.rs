//! The book on real data: a Binance USD-M BTCUSDT capture (REST snapshot, the depthUpdate diffs that follow
//! it, and the bookTicker messages whose update id `u` equals a diff's `u`), synced by the Binance futures
//! rule. After syncing the book must never cross, and after the diff with id `u` its best bid and ask must
//! equal the bookTicker with the same `u`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use ferrotrade_book::OrderBook;
use ferrotrade_model::{BookSide, BookUpdate, Decimal, Level, Price, Quantity, UpdateHeader};
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

const CAPTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/book/usdm_btcusdt_head.jsonl");
/// BTCUSDT futures: tick 0.1, lot 0.001.
const PRICE_PRECISION: u8 = 1;
const SIZE_PRECISION: u8 = 3;

fn fixed(value: &Value, precision: u8) -> i64 {
    Decimal::parse_str(value.as_str().expect("decimal string")).unwrap().to_fixed(precision).unwrap()
}

fn levels(array: &Value) -> Vec<Level> {
    array
        .as_array()
        .expect("level array")
        .iter()
        .map(|pair| Level {
            price: Price(fixed(&pair[0], PRICE_PRECISION)),
            size: Quantity(fixed(&pair[1], SIZE_PRECISION)),
        })
        .collect()
}

type Touch = (Level, Level);

#[test]
fn synced_book_never_crosses_and_matches_book_ticker() {
    let text = std::fs::read_to_string(CAPTURE).unwrap();
    let mut lines = text.lines();
    let snapshot: Value = sonic_rs::from_str(lines.next().unwrap()).unwrap();
    let last_update_id = snapshot["lastUpdateId"].as_u64().unwrap();
    let (bids, asks) = (levels(&snapshot["bids"]), levels(&snapshot["asks"]));
    assert_eq!((bids.len(), asks.len()), (1000, 1000));

    // The default window holds every level; the small one pushes the snapshot's far levels (about 5% away)
    // into the overflow, so the real stream also exercises overflow and re-centering.
    let mut books = [OrderBook::new(), OrderBook::with_window(4096)];
    let header = UpdateHeader { sequence: last_update_id, ..UpdateHeader::default() };
    for book in &mut books {
        book.apply_update(&BookUpdate { header, is_snapshot: true, bids: &bids, asks: &asks }).unwrap();
        book.check_integrity().unwrap();
        assert_eq!(book.level_count(BookSide::Bid), 1000);
    }

    let mut previous_u: Option<u64> = None;
    let (mut dropped, mut applied) = (0, 0);
    let mut touch_after: HashMap<u64, Touch> = HashMap::new();
    let mut tickers: Vec<(u64, Touch)> = Vec::new();
    for line in lines {
        let message: Value = sonic_rs::from_str(line).unwrap();
        let data = &message["data"];
        match data["e"].as_str().unwrap() {
            "bookTicker" => {
                let level = |price: &str, size: &str| Level {
                    price: Price(fixed(&data[price], PRICE_PRECISION)),
                    size: Quantity(fixed(&data[size], SIZE_PRECISION)),
                };
                tickers.push((data["u"].as_u64().unwrap(), (level("b", "B"), level("a", "A"))));
            }
            "depthUpdate" => {
                let (first, last, prev) =
                    (data["U"].as_u64().unwrap(), data["u"].as_u64().unwrap(), data["pu"].as_u64().unwrap());
                // Binance futures: drop diffs older than the snapshot; the first one kept must straddle
                // `lastUpdateId`; each later one must chain (`pu` = the previous `u`).
                if last < last_update_id {
                    dropped += 1;
                    continue;
                }
                match previous_u {
                    None => assert!(first <= last_update_id, "first diff {first}..{last} starts after the snapshot"),
                    Some(previous) => assert_eq!(prev, previous, "gap before diff {last}"),
                }
                previous_u = Some(last);
                let (bids, asks) = (levels(&data["b"]), levels(&data["a"]));
                let update = BookUpdate {
                    header: UpdateHeader { first_sequence: first, sequence: last, prev_sequence: prev, ..header },
                    is_snapshot: false,
                    bids: &bids,
                    asks: &asks,
                };
                for book in &mut books {
                    book.apply_update(&update).unwrap();
                    assert!(!book.is_crossed(), "crossed after diff {last}");
                }
                books[1].check_integrity().unwrap();
                assert_eq!(books[0].best_bid(), books[1].best_bid());
                assert_eq!(books[0].best_ask(), books[1].best_ask());
                let depth = |book: &OrderBook| book.depth(BookSide::Ask, 50).collect::<Vec<_>>();
                assert_eq!(depth(&books[0]), depth(&books[1]));
                touch_after.insert(last, (books[0].best_bid().unwrap(), books[0].best_ask().unwrap()));
                applied += 1;
            }
            other => panic!("unexpected event {other}"),
        }
    }
    books[0].check_integrity().unwrap();
    assert_eq!((dropped, applied), (4, 250));
    assert_eq!(tickers.len(), 24);
    for (u, ticker) in tickers {
        assert_eq!(touch_after.get(&u), Some(&ticker), "bookTicker u={u}");
    }
}
