//! Bar-only data: market fills at the last close (with slippage), touch fills of resting limits, stops on
//! the bar's range.

mod common;

use common::*;
use ferrotrade_model::{Bar, ClientOrderId, Liquidity, OrderEventKind, OrderSide, Price, Quantity, UnixNanos};
use ferrotrade_sim::VenueConfig;

fn bar(open: i64, high: i64, low: i64, close: i64) -> Bar {
    Bar {
        ts_event: UnixNanos(60_000),
        ts_recv: UnixNanos(60_000),
        open_time: UnixNanos(0),
        interval_ns: 60_000,
        open: Price(open),
        high: Price(high),
        low: Price(low),
        close: Price(close),
        volume: Quantity(100_000),
        quote_volume: 0.0,
        trade_count: 1_000,
        taker_buy_volume: Quantity(50_000),
    }
}

#[test]
fn market_orders_fill_at_the_last_close_with_slippage() {
    let mut venue = venue_with(&VenueConfig::default());
    let mut out = Vec::new();
    venue.on_bar(&bar(617_900, 618_100, 617_800, 618_000), &mut out);
    assert_eq!(
        fill_summary(&submit(&mut venue, 1, &market(OrderSide::Buy, 1_000))),
        [(618_000, 1_000, Liquidity::Taker)]
    );

    let mut venue = venue_with(&VenueConfig { bar_slippage_bps: dec("2"), ..VenueConfig::default() });
    venue.on_bar(&bar(617_900, 618_100, 617_800, 618_000), &mut out);
    // 61800 x 1.0002 = 61812.36 -> up to the tick 61812.4; 61800 x 0.9998 = 61787.64 -> down to 61787.6.
    assert_eq!(fill_summary(&submit(&mut venue, 1, &market(OrderSide::Buy, 1_000)))[0].0, 618_124);
    assert_eq!(fill_summary(&submit(&mut venue, 2, &market(OrderSide::Sell, 1_000)))[0].0, 617_876);
}

#[test]
fn resting_limits_fill_when_the_range_touches_them() {
    let mut venue = venue_with(&VenueConfig::default());
    let mut out = Vec::new();
    venue.on_bar(&bar(617_900, 618_100, 617_800, 618_000), &mut out);
    assert_eq!(kinds(&submit(&mut venue, 1, &limit(OrderSide::Buy, 617_900, 1_000))), ["Accepted"]);
    assert_eq!(kinds(&submit(&mut venue, 2, &limit(OrderSide::Sell, 618_200, 1_000))), ["Accepted"]);
    venue.on_bar(&bar(618_000, 618_100, 617_950, 618_050), &mut out);
    assert!(out.is_empty());
    venue.on_bar(&bar(618_050, 618_200, 617_900, 618_000), &mut out);
    let mut got = fill_summary(&out);
    got.sort_unstable_by_key(|f| f.0);
    assert_eq!(got, [(617_900, 1_000, Liquidity::Maker), (618_200, 1_000, Liquidity::Maker)]);
    // A limit through the last close is marketable and trades at the close.
    let events = submit(&mut venue, 3, &limit(OrderSide::Buy, 618_100, 1_000));
    assert_eq!(fill_summary(&events), [(618_000, 1_000, Liquidity::Taker)]);
}

#[test]
fn stops_trigger_on_the_range_and_fill_at_the_trigger_or_the_gap() {
    let mut venue = venue_with(&VenueConfig::default());
    let mut out = Vec::new();
    venue.on_bar(&bar(617_900, 618_100, 617_800, 618_000), &mut out);
    submit(&mut venue, 1, &stop(OrderSide::Sell, 617_800, 1_000, None));
    submit(&mut venue, 2, &stop(OrderSide::Buy, 618_300, 1_000, None));
    venue.on_bar(&bar(618_000, 618_200, 617_700, 617_900), &mut out);
    assert_eq!(kinds(&out), ["Triggered", "Filled(1000)"]);
    assert_eq!(out[0].client_id, ClientOrderId(1));
    assert_eq!(fill_summary(&out), [(617_800, 1_000, Liquidity::Taker)]);
    out.clear();
    // The next bar opens at 61840.0, through the buy trigger: the fill is at the open.
    venue.on_bar(&bar(618_400, 618_500, 618_350, 618_450), &mut out);
    assert_eq!(out[0].kind, OrderEventKind::Triggered);
    assert_eq!(fill_summary(&out), [(618_400, 1_000, Liquidity::Taker)]);
    assert_eq!(venue.open_order_count(), 0);
    assert_eq!(venue.last_price(), Some(Price(618_450)));
}
