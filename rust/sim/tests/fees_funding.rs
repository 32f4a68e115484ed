//! Fees (taker, maker rebate, inverse in base currency) and funding payments.

mod common;

use common::*;
use ferrotrade_model::{
    AggressorSide, BookSide, Instrument, InstrumentId, MarkPrice, Money, OrderSide, Price, Quantity, UnixNanos, Venue,
};
use ferrotrade_sim::{FeeConfig, FundingTracker, SimVenue, VenueConfig};

fn fees(maker: &str, taker: &str) -> VenueConfig {
    VenueConfig { fees: FeeConfig { maker: dec(maker), taker: dec(taker) }, ..VenueConfig::default() }
}

#[test]
fn taker_fee_and_maker_rebate_on_linear() {
    let mut venue = venue_with(&fees("-0.0001", "0.0005"));
    seed_book(&mut venue);
    // 0.003 x 61800.3 = 185.4009 USDT; 0.05 % = 0.09270045.
    let events = submit(&mut venue, 1, &market(OrderSide::Buy, 3));
    assert_eq!(fills(&events)[0].fee.to_string(), "0.09270045");
    submit(&mut venue, 2, &limit(OrderSide::Buy, 618_002, 1_000));
    let mut out = Vec::new();
    venue.on_trade(&trade(AggressorSide::Seller, 618_001, 5), &mut out);
    // 1.000 x 61800.2 = 61800.2 USDT; -0.01 % = a rebate of 6.18002.
    assert_eq!(fills(&out)[0].fee, -Money::from_decimal(dec("6.18002")));
}

#[test]
fn inverse_fee_is_in_base_currency() {
    // BTCUSD_PERP: 100 USD contracts, price precision 1, whole contracts.
    let mut instrument = Instrument::with_precisions(InstrumentId::new(Venue::BinanceCoinm, "BTCUSD_PERP"), 1, 0);
    instrument.contract_size = dec("100");
    let mut venue = SimVenue::new(instrument, IX, &fees("0.0002", "0.0005")).unwrap();
    let mut out = Vec::new();
    venue.on_book_row(&level(BookSide::Ask, 500_000, 200, true), &mut out);
    // 10 contracts x 100 USD / 50000.0 = 0.02 BTC; 0.05 % = 0.00001 BTC.
    let events = submit(&mut venue, 1, &market(OrderSide::Buy, 10));
    assert_eq!(fills(&events)[0].fee, Money::from_decimal(dec("0.00001")));
}

fn mark(ts: u64, price: Price, rate: f64, next: u64) -> MarkPrice {
    MarkPrice {
        ts_event: UnixNanos(ts),
        ts_recv: UnixNanos(ts),
        mark_price: price,
        index_price: None,
        funding_rate: Some(rate),
        next_funding_time: Some(UnixNanos(next)),
    }
}

#[test]
fn linear_funding_longs_pay_a_positive_rate_once() {
    let instrument = btcusdt(); // mark precision 8
    let mut tracker = FundingTracker::new();
    tracker.on_mark(&mark(100, Price(6_180_000_000_000), 0.0001, 1_000));
    let long = Quantity(500);
    assert_eq!(tracker.due(UnixNanos(999), long, &instrument), None);
    // 0.5 BTC x 61800 x 0.0001 = 3.09 USDT paid by the long.
    assert_eq!(tracker.due(UnixNanos(1_000), long, &instrument), Some(-Money::from_decimal(dec("3.09"))));
    assert_eq!(tracker.due(UnixNanos(1_001), long, &instrument), None);

    let mut tracker = FundingTracker::new();
    tracker.on_mark(&mark(100, Price(6_180_000_000_000), 0.0001, 1_000));
    assert_eq!(tracker.due(UnixNanos(1_000), Quantity(-500), &instrument), Some(Money::from_decimal(dec("3.09"))));
    // A negative rate: the long receives.
    let mut tracker = FundingTracker::new();
    tracker.on_mark(&mark(100, Price(6_180_000_000_000), -0.0001, 1_000));
    assert_eq!(tracker.due(UnixNanos(1_000), long, &instrument), Some(Money::from_decimal(dec("3.09"))));
}

#[test]
fn funding_settles_with_the_values_before_the_funding_time() {
    let instrument = btcusdt();
    let mut tracker = FundingTracker::new();
    tracker.on_mark(&mark(100, Price(6_180_000_000_000), 0.0001, 1_000));
    // The next update already belongs to the next period (new rate, new time).
    tracker.on_mark(&mark(1_000, Price(6_000_000_000_000), 0.0003, 2_000));
    assert_eq!(tracker.due(UnixNanos(1_000), Quantity(500), &instrument), Some(-Money::from_decimal(dec("3.09"))));
    assert_eq!(tracker.due(UnixNanos(1_500), Quantity(500), &instrument), None);
    // 0.5 x 60000 x 0.0003 = 9.
    assert_eq!(tracker.due(UnixNanos(2_000), Quantity(500), &instrument), Some(Money::from_units(-9)));
}

#[test]
fn inverse_funding_is_contracts_over_mark_in_base_currency() {
    let mut instrument = Instrument::with_precisions(InstrumentId::new(Venue::BinanceCoinm, "BTCUSD_PERP"), 1, 0);
    instrument.contract_size = dec("100");
    let mut tracker = FundingTracker::new();
    tracker.on_mark(&mark(0, Price(500_000), 0.0001, 10));
    // 10 contracts x 100 USD / 50000 = 0.02 BTC x 0.0001 = 0.000002 BTC paid by the long.
    assert_eq!(tracker.due(UnixNanos(10), Quantity(10), &instrument), Some(-Money::from_decimal(dec("0.000002"))));
}
