//! Stop-market and stop-limit orders: trigger on the last trade price, WouldTriggerImmediately.

mod common;

use common::*;
use ferrotrade_model::{
    AggressorSide, BookSide, ClientOrderId, Liquidity, OrderEventKind, OrderSide, Quantity, RejectReason,
};

#[test]
fn buy_stop_market_triggers_when_a_trade_reaches_the_trigger() {
    let mut venue = venue();
    assert_eq!(kinds(&submit(&mut venue, 1, &stop(OrderSide::Buy, 618_010, 1_000, None))), ["Accepted"]);
    assert_eq!(venue.open_order_count(), 1);
    let mut out = Vec::new();
    venue.on_trade(&trade(AggressorSide::Buyer, 618_009, 10), &mut out);
    assert!(out.is_empty());
    venue.on_trade(&trade(AggressorSide::Buyer, 618_010, 10), &mut out);
    assert_eq!(kinds(&out), ["Triggered", "Filled(1000)"]);
    assert_eq!(fill_summary(&out), [(618_003, 1_000, Liquidity::Taker)]);
    assert_eq!((venue.position(), venue.open_order_count()), (Quantity(1_000), 0));
}

#[test]
fn sell_stop_market_triggers_at_or_below() {
    let mut venue = venue();
    submit(&mut venue, 1, &stop(OrderSide::Sell, 617_990, 3_000, None));
    let mut out = Vec::new();
    venue.on_trade(&trade(AggressorSide::Seller, 617_991, 10), &mut out);
    assert!(out.is_empty());
    venue.on_trade(&trade(AggressorSide::Seller, 617_985, 10), &mut out);
    assert_eq!(kinds(&out), ["Triggered", "Filled(2909)", "Filled(91)"]);
    assert_eq!(venue.position(), Quantity(-3_000));
}

#[test]
fn stops_already_through_the_last_price_are_rejected() {
    let mut venue = venue();
    let mut out = Vec::new();
    venue.on_trade(&trade(AggressorSide::Buyer, 618_003, 10), &mut out);
    let rejected = OrderEventKind::Rejected(RejectReason::WouldTriggerImmediately);
    assert_eq!(submit(&mut venue, 1, &stop(OrderSide::Buy, 618_003, 1_000, None))[0].kind, rejected);
    assert_eq!(submit(&mut venue, 2, &stop(OrderSide::Buy, 618_000, 1_000, Some(618_010)))[0].kind, rejected);
    assert_eq!(submit(&mut venue, 3, &stop(OrderSide::Sell, 618_003, 1_000, None))[0].kind, rejected);
    assert_eq!(kinds(&submit(&mut venue, 4, &stop(OrderSide::Buy, 618_004, 1_000, None))), ["Accepted"]);
    assert_eq!(kinds(&submit(&mut venue, 5, &stop(OrderSide::Sell, 618_002, 1_000, None))), ["Accepted"]);
    assert_eq!(venue.open_order_count(), 2);
}

#[test]
fn triggered_stop_limit_rests_at_its_limit_with_the_recorded_queue() {
    let mut venue = venue();
    // Sell stop at 61800.0 with a limit at 61800.4: above the best bid, so it rests behind 0.150.
    submit(&mut venue, 1, &stop(OrderSide::Sell, 618_000, 1_000, Some(618_004)));
    let mut out = Vec::new();
    venue.on_trade(&trade(AggressorSide::Seller, 618_000, 10), &mut out);
    assert_eq!(kinds(&out), ["Triggered"]);
    assert_eq!(venue.queue_ahead(ClientOrderId(1)), Some(Quantity(150)));
    // A stop-limit whose limit is marketable at trigger takes within its limit and rests the rest.
    submit(&mut venue, 2, &stop(OrderSide::Buy, 618_001, 4_000, Some(618_004)));
    out.clear();
    venue.on_trade(&trade(AggressorSide::Buyer, 618_001, 10), &mut out);
    assert_eq!(kinds(&out), ["Triggered", "Filled(3330)", "Filled(150)"]);
    assert_eq!(venue.queue_ahead(ClientOrderId(2)), Some(Quantity(0)));
    // Cancel works on untriggered stops too.
    submit(&mut venue, 3, &stop(OrderSide::Buy, 618_100, 1_000, None));
    venue.cancel(ferrotrade_model::UnixNanos(9), ClientOrderId(3), &mut out);
    assert_eq!(out.last().unwrap().kind, OrderEventKind::Canceled);
    assert_eq!(venue.book().size_at(BookSide::Ask, ferrotrade_model::Price(618_004)), Quantity(150));
}
