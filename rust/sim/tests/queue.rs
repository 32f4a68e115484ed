//! Queue position: the three models' arithmetic (hand-computed), and the venue's queue advance on trades
//! and depth changes.

mod common;

use common::*;
use ferrotrade_model::{AggressorSide, BookSide, ClientOrderId, Liquidity, OrderSide, Quantity};
use ferrotrade_sim::{QueueModel, QueueModelConfig, VenueConfig};

fn model(config: QueueModelConfig) -> QueueModel {
    QueueModel::new(&config, 3).expect("a valid queue model")
}

#[test]
fn risk_averse_only_caps_at_the_level() {
    let risk = model(QueueModelConfig::RiskAverse);
    assert_eq!(risk.on_depth_change(1_500, 2_909, 2_000, 0), 1_500);
    assert_eq!(risk.on_depth_change(1_500, 2_909, 1_000, 0), 1_000);
    assert_eq!(risk.on_depth_change(1_500, 2_909, 4_000, 0), 1_500);
}

#[test]
fn power_splits_a_decrease_by_x_to_the_n() {
    let square = model(QueueModelConfig::Power { exponent: 2.0 });
    // front 1.0, back 2.0, decrease 1.0: front share 1/(1+4) = 0.2 -> 1.0 - 0.2 = 0.800.
    assert_eq!(square.on_depth_change(1_000, 3_000, 2_000, 0), 800);
    // 0.400 of the decrease were trades already counted: only 0.6 is split -> 1.0 - 0.12 = 0.880.
    assert_eq!(square.on_depth_change(1_000, 3_000, 2_000, 400), 880);
    // front 2.0, back 0.5, decrease 1.0: share 4/4.25 -> 2.0 - 0.941176 = 1.058824 -> 1.059.
    assert_eq!(square.on_depth_change(2_000, 2_500, 1_500, 0), 1_059);
    // An increase (orders joining behind) changes nothing.
    assert_eq!(square.on_depth_change(1_000, 3_000, 3_500, 0), 1_000);
    let cube = model(QueueModelConfig::Power { exponent: 3.0 });
    // share 1/(1+8) -> 1.0 - 0.111111 = 0.888889 -> 0.889.
    assert_eq!(cube.on_depth_change(1_000, 3_000, 2_000, 0), 889);
}

#[test]
fn log_splits_by_ln_1_plus_x_in_base_units() {
    let log = model(QueueModelConfig::Log);
    // ln 2 / (ln 2 + ln 3) = 0.386853 -> 1.0 - 0.386853 = 0.613147 -> 0.613.
    assert_eq!(log.on_depth_change(1_000, 3_000, 2_000, 0), 613);
    // front 2.0, back 0.5, decrease 2.0: the back's part (0.539) exceeds the back (0.5) and spills onto
    // the front, which lands exactly on the new level size 0.5.
    assert_eq!(log.on_depth_change(2_000, 2_500, 500, 0), 500);
}

/// A venue with our bid of 1.000 at 61800.2 behind 2.909, after 1.000 joined behind us (level 3.909).
fn queued(config: QueueModelConfig) -> ferrotrade_sim::SimVenue {
    let mut venue = venue_with(&VenueConfig { queue: config, ..VenueConfig::default() });
    seed_book(&mut venue);
    submit(&mut venue, 1, &limit(OrderSide::Buy, 618_002, 1_000));
    let mut out = Vec::new();
    venue.on_book_row(&level(BookSide::Bid, 618_002, 3_909, true), &mut out);
    assert!(out.is_empty());
    assert_eq!(venue.queue_ahead(ClientOrderId(1)), Some(Quantity(2_909)));
    venue
}

#[test]
fn depth_decrease_advances_per_model_in_the_venue() {
    // The level drops by 1.000 without a trade: front 2.909, back 1.000.
    let decrease = level(BookSide::Bid, 618_002, 2_909, true);
    // risk_averse: min(2.909, 2.909); power 2: 2.909 - 8.462281 / 9.462281 = 2.014694; log: 2.909 -
    // ln 3.909 / (ln 3.909 + ln 2) = 2.246065.
    for (config, expected) in [
        (QueueModelConfig::RiskAverse, 2_909),
        (QueueModelConfig::Power { exponent: 2.0 }, 2_015),
        (QueueModelConfig::Log, 2_246),
    ] {
        let mut venue = queued(config);
        let mut out = Vec::new();
        venue.on_book_row(&decrease, &mut out);
        assert_eq!(venue.queue_ahead(ClientOrderId(1)), Some(Quantity(expected)), "{config:?}");
        assert!(out.is_empty());
    }
}

#[test]
fn trades_advance_the_queue_once_even_when_the_depth_follows() {
    let mut venue = queued(QueueModelConfig::Power { exponent: 2.0 });
    let mut out = Vec::new();
    venue.on_trade(&trade(AggressorSide::Seller, 618_002, 1_000), &mut out);
    assert_eq!(venue.queue_ahead(ClientOrderId(1)), Some(Quantity(1_909)));
    // The level's drop of 1.000 is that trade: not counted a second time.
    venue.on_book_row(&level(BookSide::Bid, 618_002, 2_909, true), &mut out);
    assert_eq!(venue.queue_ahead(ClientOrderId(1)), Some(Quantity(1_909)));
    assert!(out.is_empty());
}

#[test]
fn one_trade_fills_our_orders_at_a_price_in_time_priority_once() {
    let mut venue = venue();
    submit(&mut venue, 1, &limit(OrderSide::Buy, 618_002, 500));
    submit(&mut venue, 2, &limit(OrderSide::Buy, 618_002, 500));
    let mut out = Vec::new();
    // 3.209 sold: 2.909 ahead of both, 0.300 fills the first; the second sees 2.909 pass, no fill.
    venue.on_trade(&trade(AggressorSide::Seller, 618_002, 3_209), &mut out);
    let by_order: Vec<(u64, i64)> = fills(&out).iter().map(|f| (f.client_id.0, f.quantity.0)).collect();
    assert_eq!(by_order, [(1, 300)]);
    assert_eq!(venue.queue_ahead(ClientOrderId(2)), Some(Quantity(0)));
    out.clear();
    // 0.400 more: 0.200 completes the first, the other 0.200 goes to the second.
    venue.on_trade(&trade(AggressorSide::Seller, 618_002, 400), &mut out);
    let by_order: Vec<(u64, i64)> = fills(&out).iter().map(|f| (f.client_id.0, f.quantity.0)).collect();
    assert_eq!(by_order, [(1, 200), (2, 200)]);
}

#[test]
fn trade_through_and_book_through_fill_completely_at_our_price() {
    let mut venue = venue();
    submit(&mut venue, 1, &limit(OrderSide::Buy, 618_002, 1_000));
    let mut out = Vec::new();
    // A 0.001 sale at 61800.1 went through our bid: the whole 1.000 fills at 61800.2 as maker.
    venue.on_trade(&trade(AggressorSide::Seller, 618_001, 1), &mut out);
    assert_eq!(fill_summary(&out), [(618_002, 1_000, Liquidity::Maker)]);
    out.clear();
    submit(&mut venue, 2, &limit(OrderSide::Sell, 618_004, 800));
    // The best bid moves up to our ask: filled only once the message is complete (flags & LAST).
    venue.on_book_row(&level(BookSide::Bid, 618_004, 100, false), &mut out);
    assert!(out.is_empty());
    venue.on_book_row(&level(BookSide::Ask, 618_003, 0, true), &mut out);
    assert_eq!(fill_summary(&out), [(618_004, 800, Liquidity::Maker)]);
    assert_eq!(venue.open_order_count(), 0);
}
