//! Order types, validation, partial fills, post-only, reduce-only, cancel and amend on a hand-built
//! BTCUSDT book (see `common::seed_book`).

mod common;

use common::*;
use ferrotrade_model::{
    AggressorSide, BookSide, ClientOrderId, Instrument, InstrumentId, Liquidity, OrderEventKind, OrderSide, Price,
    Quantity, RejectReason, TimeInForce, UnixNanos, Venue,
};
use ferrotrade_sim::{SimVenue, VenueConfig};

const T: Liquidity = Liquidity::Taker;
const M: Liquidity = Liquidity::Maker;

#[test]
fn market_order_walks_levels_with_sequential_trade_ids() {
    let mut venue = venue();
    let events = submit(&mut venue, 1, &market(OrderSide::Buy, 4_000));
    assert_eq!(kinds(&events), ["Accepted", "Filled(3330)", "Filled(150)", "Filled(520)"]);
    assert_eq!(fill_summary(&events), [(618_003, 3_330, T), (618_004, 150, T), (618_005, 520, T)]);
    let ids: Vec<u64> = fills(&events).iter().map(|f| f.trade_id).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert!(events.iter().all(|e| e.ts_event == UnixNanos(1_500) && e.ts_recv == e.ts_event));
    assert_eq!(venue.position(), Quantity(4_000));
    assert_eq!(venue.open_order_count(), 0);
    // The recorded book is the exchange's: our fills never change it.
    assert_eq!(venue.book().size_at(BookSide::Ask, Price(618_003)), Quantity(3_330));
}

#[test]
fn market_order_larger_than_the_book_expires_the_rest() {
    let mut venue = venue();
    let events = submit(&mut venue, 1, &market(OrderSide::Sell, 25_000));
    assert_eq!(kinds(&events), ["Accepted", "Filled(2909)", "Filled(696)", "Filled(20004)", "Expired"]);
    assert_eq!(venue.position(), Quantity(-23_609));
}

#[test]
fn limit_gtc_takes_then_rests() {
    let mut venue = venue();
    let events = submit(&mut venue, 1, &limit(OrderSide::Buy, 618_004, 4_000));
    assert_eq!(kinds(&events), ["Accepted", "Filled(3330)", "Filled(150)"]);
    assert_eq!(venue.open_order_count(), 1);
    assert_eq!(venue.queue_ahead(ClientOrderId(1)), Some(Quantity(0)));
}

#[test]
fn limit_ioc_expires_the_rest() {
    let mut venue = venue();
    let events = submit(&mut venue, 1, &with_tif(limit(OrderSide::Buy, 618_004, 4_000), TimeInForce::Ioc));
    assert_eq!(kinds(&events), ["Accepted", "Filled(3330)", "Filled(150)", "Expired"]);
    assert_eq!(venue.open_order_count(), 0);
}

#[test]
fn fok_fills_completely_or_not_at_all() {
    let mut venue = venue();
    // 3.330 + 0.150 = 3.480 within 61800.4: not enough for 4.000.
    let events = submit(&mut venue, 1, &with_tif(limit(OrderSide::Buy, 618_004, 4_000), TimeInForce::Fok));
    assert_eq!(kinds(&events), ["Accepted", "Expired"]);
    assert_eq!(venue.position(), Quantity(0));
    let events = submit(&mut venue, 2, &with_tif(limit(OrderSide::Buy, 618_004, 3_400), TimeInForce::Fok));
    assert_eq!(kinds(&events), ["Accepted", "Filled(3330)", "Filled(70)"]);
}

#[test]
fn validation_rejects_with_reasons() {
    let mut venue = venue();
    let reject = |events: Vec<ferrotrade_model::OrderEvent>| match events.as_slice() {
        [event] => match event.kind {
            OrderEventKind::Rejected(reason) => reason,
            other => panic!("expected a rejection, got {other:?}"),
        },
        other => panic!("expected one event, got {other:?}"),
    };
    assert_eq!(reject(submit(&mut venue, 1, &limit(OrderSide::Buy, 0, 2_000))), RejectReason::InvalidPrice);
    assert_eq!(reject(submit(&mut venue, 2, &limit(OrderSide::Buy, 618_000, 0))), RejectReason::InvalidLotSize);
    // 0.001 x 61800.0 = 61.8 USDT < 100; 0.002 = 123.6 passes.
    assert_eq!(reject(submit(&mut venue, 3, &limit(OrderSide::Buy, 618_000, 1))), RejectReason::MinNotional);
    assert_eq!(kinds(&submit(&mut venue, 4, &limit(OrderSide::Buy, 618_000, 2))), ["Accepted"]);
    // A market order is valued at the touch (61800.3): 0.001 is below the minimum.
    assert_eq!(reject(submit(&mut venue, 5, &market(OrderSide::Buy, 1))), RejectReason::MinNotional);

    // A book quoted in 0.01 with a 0.10 tick and a 0.001 step at 4 decimals.
    let mut instrument = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 2, 4);
    instrument.tick_size = Price(10);
    instrument.lot_size = Quantity(10);
    let mut fine = SimVenue::new(instrument, IX, &VenueConfig::default()).unwrap();
    assert_eq!(reject(submit(&mut fine, 1, &limit(OrderSide::Buy, 6_180_025, 10))), RejectReason::InvalidTickSize);
    assert_eq!(reject(submit(&mut fine, 2, &limit(OrderSide::Buy, 6_180_020, 15))), RejectReason::InvalidLotSize);
    // No book and no last price: nothing to fill a market order against.
    assert_eq!(reject(submit(&mut fine, 3, &market(OrderSide::Buy, 10))), RejectReason::NoLiquidity);
    assert_eq!(fine.open_order_count(), 0);
}

#[test]
fn post_only_is_rejected_when_it_would_take() {
    let mut venue = venue();
    let mut request = limit(OrderSide::Buy, 618_003, 1_000);
    request.post_only = true;
    let events = submit(&mut venue, 1, &request);
    assert_eq!(events[0].kind, OrderEventKind::Rejected(RejectReason::PostOnlyWouldTake));
    request.price = Price(618_002);
    assert_eq!(kinds(&submit(&mut venue, 2, &request)), ["Accepted"]);
    assert_eq!(venue.queue_ahead(ClientOrderId(2)), Some(Quantity(2_909)));
}

#[test]
fn partial_fills_keep_filled_plus_leaves_equal_to_quantity() {
    let mut venue = venue();
    let quantity = 1_000;
    assert_eq!(kinds(&submit(&mut venue, 1, &limit(OrderSide::Buy, 618_002, quantity))), ["Accepted"]);
    let mut filled = 0;
    // Queue ahead 2.909: 2.000 leaves 0.909 ahead; 1.500 fills 0.591; 0.500 fills the last 0.409.
    for (size, expect_fill, expect_queue) in [(2_000, 0, Some(909)), (1_500, 591, Some(0)), (500, 409, None)] {
        let mut out = Vec::new();
        venue.on_trade(&trade(AggressorSide::Seller, 618_002, size), &mut out);
        let got: i64 = fills(&out).iter().map(|f| f.quantity.0).sum();
        assert_eq!(got, expect_fill);
        assert!(fills(&out).iter().all(|f| f.liquidity == M && f.price == Price(618_002)));
        filled += got;
        let leaves = quantity - filled;
        assert_eq!(filled + leaves, quantity);
        assert_eq!(venue.queue_ahead(ClientOrderId(1)).map(|q| q.0), expect_queue);
    }
    assert_eq!(filled, quantity);
    assert_eq!(venue.open_order_count(), 0);
    // A trade on our side's aggressor (a buyer at our bid price) is not ours to fill.
    submit(&mut venue, 2, &limit(OrderSide::Buy, 618_002, 1_000));
    let mut out = Vec::new();
    venue.on_trade(&trade(AggressorSide::Buyer, 618_002, 9_000), &mut out);
    assert!(out.is_empty());
}

#[test]
fn reduce_only_rejects_increase_and_caps_at_the_position() {
    let mut venue = venue();
    let mut sell = market(OrderSide::Sell, 1_500);
    sell.reduce_only = true;
    assert_eq!(submit(&mut venue, 1, &sell)[0].kind, OrderEventKind::Rejected(RejectReason::ReduceOnlyWouldIncrease));
    submit(&mut venue, 2, &market(OrderSide::Buy, 1_000));
    assert_eq!(venue.position(), Quantity(1_000));
    let mut buy = market(OrderSide::Buy, 500);
    buy.reduce_only = true;
    assert_eq!(submit(&mut venue, 3, &buy)[0].kind, OrderEventKind::Rejected(RejectReason::ReduceOnlyWouldIncrease));
    // Sell 1.500 reduce-only against a 1.000 long: 1.000 fills, the rest expires, no flip.
    let events = submit(&mut venue, 4, &sell);
    assert_eq!(kinds(&events), ["Accepted", "Filled(1000)", "Expired"]);
    assert_eq!(venue.position(), Quantity(0));
}

#[test]
fn resting_reduce_only_expires_when_the_position_closes() {
    let mut venue = venue();
    submit(&mut venue, 1, &market(OrderSide::Buy, 1_000));
    let mut take_profit = limit(OrderSide::Sell, 618_010, 2_000);
    take_profit.reduce_only = true;
    assert_eq!(kinds(&submit(&mut venue, 2, &take_profit)), ["Accepted"]);
    // A buyer trades through 61801.0: the order would fill 2.000 but only 1.000 reduces.
    let mut out = Vec::new();
    venue.on_trade(&trade(AggressorSide::Buyer, 618_011, 5), &mut out);
    assert_eq!(kinds(&out), ["Filled(1000)", "Expired"]);
    assert_eq!(fill_summary(&out), [(618_010, 1_000, M)]);
    assert_eq!((venue.position(), venue.open_order_count()), (Quantity(0), 0));
}

#[test]
fn cancel_known_and_unknown() {
    let mut venue = venue();
    submit(&mut venue, 1, &limit(OrderSide::Buy, 618_000, 2_000));
    let mut out = Vec::new();
    venue.cancel(UnixNanos(3_000), ClientOrderId(1), &mut out);
    assert_eq!(out[0].kind, OrderEventKind::Canceled);
    assert_eq!(venue.open_order_count(), 0);
    venue.cancel(UnixNanos(3_000), ClientOrderId(1), &mut out);
    assert_eq!(out[1].kind, OrderEventKind::CancelRejected(RejectReason::UnknownOrder));
    venue.cancel(UnixNanos(3_000), ClientOrderId(99), &mut out);
    assert_eq!(out[2].kind, OrderEventKind::CancelRejected(RejectReason::UnknownOrder));
}

#[test]
fn amend_keeps_priority_on_decrease_and_loses_it_otherwise() {
    let mut venue = venue();
    let id = ClientOrderId(1);
    submit(&mut venue, 1, &limit(OrderSide::Buy, 618_002, 1_000));
    let mut out = Vec::new();
    // 1.000 trades ahead of us (2.909 -> 1.909 ahead), then the level is recorded at 2.500.
    venue.on_trade(&trade(AggressorSide::Seller, 618_002, 1_000), &mut out);
    venue.on_book_row(&level(BookSide::Bid, 618_002, 2_500, true), &mut out);
    assert_eq!(venue.queue_ahead(id), Some(Quantity(1_909)));
    let now = UnixNanos(5_000);
    // Pure decrease: priority kept.
    venue.amend(now, id, Price(618_002), Quantity(800), &mut out);
    assert_eq!(out.last().unwrap().kind, OrderEventKind::Replaced { price: Price(618_002), quantity: Quantity(800) });
    assert_eq!(venue.queue_ahead(id), Some(Quantity(1_909)));
    // Increase: back of the queue, behind the whole recorded level.
    venue.amend(now, id, Price(618_002), Quantity(1_200), &mut out);
    assert_eq!(venue.queue_ahead(id), Some(Quantity(2_500)));
    // New price: the queue of the new level.
    venue.amend(now, id, Price(618_001), Quantity(1_200), &mut out);
    assert_eq!(venue.queue_ahead(id), Some(Quantity(696)));
    // Unchanged, unknown.
    venue.amend(now, id, Price(618_001), Quantity(1_200), &mut out);
    assert_eq!(out.last().unwrap().kind, OrderEventKind::ReplaceRejected(RejectReason::InvalidAmend));
    venue.amend(now, ClientOrderId(7), Price(618_001), Quantity(1_200), &mut out);
    assert_eq!(out.last().unwrap().kind, OrderEventKind::ReplaceRejected(RejectReason::UnknownOrder));
    assert!(out.iter().all(|e| !matches!(e.kind, OrderEventKind::Filled(_))));
}

#[test]
fn amend_below_filled_is_invalid_and_a_crossing_amend_takes() {
    let mut venue = venue();
    let id = ClientOrderId(1);
    submit(&mut venue, 1, &limit(OrderSide::Buy, 618_002, 1_000));
    let mut out = Vec::new();
    // 3.209 sold at our price: 2.909 ahead, 0.300 fills us.
    venue.on_trade(&trade(AggressorSide::Seller, 618_002, 3_209), &mut out);
    assert_eq!(fill_summary(&out), [(618_002, 300, M)]);
    venue.amend(UnixNanos(5_000), id, Price(618_002), Quantity(300), &mut out);
    assert_eq!(out.last().unwrap().kind, OrderEventKind::ReplaceRejected(RejectReason::InvalidAmend));
    out.clear();
    // Re-priced to 61800.3: takes 0.700 of the ask as taker and is done.
    venue.amend(UnixNanos(5_000), id, Price(618_003), Quantity(1_000), &mut out);
    assert_eq!(kinds(&out), ["Replaced { price: Price(618003), quantity: Quantity(1000) }", "Filled(700)"]);
    assert_eq!(fill_summary(&out), [(618_003, 700, T)]);
    assert_eq!(venue.open_order_count(), 0);
}

#[test]
fn the_same_script_gives_the_same_events() {
    let run = || {
        let mut venue = venue();
        let mut out = Vec::new();
        submit(&mut venue, 1, &limit(OrderSide::Buy, 618_002, 1_000));
        submit(&mut venue, 2, &limit(OrderSide::Sell, 618_004, 500));
        out.extend(submit(&mut venue, 3, &market(OrderSide::Buy, 3_500)));
        venue.on_trade(&trade(AggressorSide::Seller, 618_002, 3_500), &mut out);
        venue.on_book_row(&level(BookSide::Bid, 618_004, 100, true), &mut out);
        out
    };
    let first = run();
    assert_eq!(first.len(), 6);
    assert_eq!(first, run());
}
