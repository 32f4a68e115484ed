//! Replays the head of a real Binance USD-M BTCUSDT depth capture (REST snapshot + 250 applicable
//! `depthUpdate` diffs, hftbacktest's example data; see tests/data/SOURCES.md) through the venue with
//! resting post-only orders, and checks the invariants that must hold on real data. In this stretch the
//! price climbs from 61800 to 61814: the orders at the touch are traded through, the bid at 61800.0 (behind
//! 20.004 BTC) never is, so its queue only moves with the depth.

mod common;

use common::*;
use ferrotrade_book::TakerSide;
use ferrotrade_model::{
    BookSide, ClientOrderId, Decimal, EventRow, Liquidity, OrderEvent, OrderSide, Price, Quantity, RowKind, UnixNanos,
    flags,
};
use ferrotrade_sim::{QueueModelConfig, SimVenue, VenueConfig};
use serde_json::Value;

const CAPTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/book/usdm_btcusdt_head.jsonl");

fn fixed(value: &Value, precision: u8) -> i64 {
    let text = value.as_str().expect("a decimal string");
    Decimal::parse_str(text).and_then(|d| d.to_fixed(precision)).expect("a price or size at the precision")
}

/// The capture as messages of book rows, snapshot first; diffs older than the snapshot are dropped.
fn messages() -> Vec<Vec<EventRow>> {
    let text = std::fs::read_to_string(CAPTURE).expect("the capture is in tests/data");
    let mut lines = text.lines();
    let snapshot: Value = serde_json::from_str(lines.next().expect("a snapshot line")).expect("json");
    let last_update_id = snapshot["lastUpdateId"].as_u64().expect("lastUpdateId");
    let to_rows = |ts_ms: u64, bids: &Value, asks: &Value, snapshot: bool| {
        let mut rows = Vec::new();
        for (side, levels) in [(BookSide::Bid, bids), (BookSide::Ask, asks)] {
            for level in levels.as_array().expect("levels") {
                rows.push(EventRow {
                    ts_event: UnixNanos::from_millis(ts_ms),
                    ts_recv: UnixNanos::from_millis(ts_ms),
                    kind: RowKind::Book,
                    side: side as u8,
                    price: Price(fixed(&level[0], 1)),
                    size: Quantity(fixed(&level[1], 3)),
                    flags: if snapshot { flags::SNAPSHOT } else { 0 },
                    ..EventRow::default()
                });
            }
        }
        if snapshot && let Some(first) = rows.first_mut() {
            first.flags |= flags::CLEAR;
        }
        if let Some(last) = rows.last_mut() {
            last.flags |= flags::LAST;
        }
        rows
    };
    let mut messages = vec![to_rows(snapshot["E"].as_u64().expect("E"), &snapshot["bids"], &snapshot["asks"], true)];
    for line in lines {
        let value: Value = serde_json::from_str(line).expect("json");
        let data = &value["data"];
        if data["e"] == "depthUpdate" && data["u"].as_u64().expect("u") >= last_update_id {
            messages.push(to_rows(data["E"].as_u64().expect("E"), &data["b"], &data["a"], false));
        }
    }
    messages
}

/// Replays the capture with post-only orders of 0.5 BTC: a bid and an ask at the touch (ids 1, 2) and a
/// bid at 61800.0 (id 3); returns the venue and every event, after checking the per-message invariants.
fn replay(config: &VenueConfig) -> (SimVenue, Vec<OrderEvent>) {
    let messages = messages();
    assert_eq!(messages.len(), 251);
    let mut venue = venue_with(config);
    let mut events = Vec::new();
    for row in &messages[0] {
        venue.on_book_row(row, &mut events);
    }
    let bid = venue.book().best_bid().expect("a bid");
    let ask = venue.book().best_ask().expect("an ask");
    assert_eq!((bid.price, bid.size), (Price(618_002), Quantity(2_909)));
    let orders = [(1, OrderSide::Buy, bid.price), (2, OrderSide::Sell, ask.price), (3, OrderSide::Buy, Price(618_000))];
    for (id, side, price) in orders {
        let mut request = limit(side, price.0, 500);
        request.post_only = true;
        venue.submit(UnixNanos(0), ClientOrderId(id), &request, &mut events);
    }
    assert_eq!(venue.queue_ahead(ClientOrderId(1)), Some(bid.size));
    assert_eq!(venue.queue_ahead(ClientOrderId(3)), Some(Quantity(20_004)));
    for message in &messages[1..] {
        for row in message {
            venue.on_book_row(row, &mut events);
        }
        for (id, side, price) in orders {
            let book_side = if side == OrderSide::Buy { BookSide::Bid } else { BookSide::Ask };
            if let Some(queue) = venue.queue_ahead(ClientOrderId(id)) {
                assert!(queue <= venue.book().size_at(book_side, price), "queue ahead above the level size");
            }
        }
    }
    assert_eq!(venue.bad_rows(), 0);
    (venue, events)
}

#[test]
fn real_capture_keeps_queue_and_fill_invariants() {
    let mut deep_queues = Vec::new();
    for queue in [QueueModelConfig::RiskAverse, QueueModelConfig::Power { exponent: 2.0 }, QueueModelConfig::Log] {
        let config = VenueConfig { queue, ..VenueConfig::default() };
        let (venue, events) = replay(&config);
        let by_order =
            |id| fills(&events).iter().filter(|f| f.client_id == ClientOrderId(id)).map(|f| f.quantity.0).sum::<i64>();
        // Both touch orders were traded through (in full, at their price, as maker); the deep bid was not.
        assert_eq!([by_order(1), by_order(2), by_order(3)], [500i64, 500, 0], "{queue:?}");
        assert!(fills(&events).iter().all(|f| f.liquidity == Liquidity::Maker));
        assert_eq!(venue.open_order_count(), 1);
        let deep = venue.queue_ahead(ClientOrderId(3)).expect("the deep bid rests");
        deep_queues.push(deep);
        // The same data and config give the same events.
        assert_eq!(replay(&config).1, events);
    }
    // Cancels at the level can only move the probabilistic models forward, never behind risk-averse.
    // On this stretch: risk-averse 14.476, power 2 14.150, log 14.239 ahead of a 14.668 level.
    assert!(deep_queues[1] < deep_queues[0] && deep_queues[2] < deep_queues[0], "{deep_queues:?}");
}

#[test]
fn market_order_on_the_real_book_matches_the_book_walk() {
    let (mut venue, _) = replay(&VenueConfig::default());
    let size = Quantity(12_000);
    let expected = venue.book().fill(TakerSide::Buy, size);
    let events = submit(&mut venue, 9, &market(OrderSide::Buy, size.0));
    let got = fills(&events);
    assert_eq!(got.len(), expected.levels);
    assert_eq!(got.iter().map(|f| f.quantity.0).sum::<i64>(), expected.filled.0);
    assert_eq!(got.iter().map(|f| f.price.notional(f.quantity)).sum::<i128>(), expected.notional);
}
