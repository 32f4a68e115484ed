//! `MarketMaker` against the engine test double: prices hand-computed from the formula in the module docs.
//!
//! Instrument: Binance USD-M BTCUSDT, price precision 1 (tick 0.1), size precision 3 (lot 0.001). A touch of
//! 300000.0 / 300000.1 has mid 300000.05.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Action, TestContext};
use ferrotrade_model::{
    ClientOrderId, InstrumentIndex, OrderEventKind, OrderSide, OrderStatus, OrderType, Price, Quantity, RejectReason,
};
use ferrotrade_strategy::Strategy;
use ferrotrade_strategy::builtin::{MarketMaker, MarketMakerConfig};

const BTC: InstrumentIndex = InstrumentIndex(0);

fn config(extra: &str) -> MarketMakerConfig {
    let text = format!(
        "instrument = \"binance-usdm.BTCUSDT\"\norder_size = 0.002\nhalf_spread_bps = 1\nmax_position = 0.004\n{extra}"
    );
    toml::from_str(&text).unwrap()
}

fn started(config: MarketMakerConfig, ctx: &mut TestContext) -> MarketMaker {
    let mut strategy = MarketMaker::new(config);
    strategy.on_start(ctx).unwrap();
    strategy
}

/// The (side, price, post_only, quantity) of every submit in `actions`.
fn quotes(actions: &[Action]) -> Vec<(OrderSide, i64, bool, i64)> {
    TestContext::submits(actions)
        .into_iter()
        .map(|(_, request)| {
            assert_eq!(request.order_type, OrderType::Limit);
            (request.side, request.price.0, request.post_only, request.quantity.0)
        })
        .collect()
}

#[test]
fn flat_quotes_are_on_tick_around_mid() {
    let mut ctx = TestContext::usdm_btcusdt();
    let mut mm = started(config("requote_threshold_ticks = 2"), &mut ctx);
    ctx.set_touch(3_000_000, 3_000_001);
    mm.on_book(&mut ctx, BTC).unwrap();
    // bid = 300000.05 x (1 - 1e-4) = 299970.049995 -> down to 299970.0
    // ask = 300000.05 x (1 + 1e-4) = 300030.050005 -> up to 300030.1
    assert_eq!(
        quotes(&ctx.take_actions()),
        vec![(OrderSide::Buy, 2_999_700, true, 2), (OrderSide::Sell, 3_000_301, true, 2)]
    );
    // Nothing changed: nothing to do.
    mm.on_book(&mut ctx, BTC).unwrap();
    assert!(ctx.take_actions().is_empty());
}

#[test]
fn quotes_skew_against_inventory() {
    // 100 bps per BTC; long 0.002 BTC is 0.2 bps: both quotes move down by mid x 0.2e-4 = 6.000001.
    for (position, bid, ask) in [
        // bid = 300000.05 x (1 - 1.2e-4) = 299964.049994 -> 299964.0; ask = x (1 + 0.8e-4) = 300024.050004 -> 300024.1
        (2, 2_999_640, 3_000_241),
        // short 0.002: bid = x (1 - 0.8e-4) = 299976.049996 -> 299976.0; ask = x (1 + 1.2e-4) = 300036.050006 -> 300036.1
        (-2, 2_999_760, 3_000_361),
    ] {
        let mut ctx = TestContext::usdm_btcusdt();
        // The position the run starts with (a restart, say); later ones come by fills.
        ctx.set_position(position);
        let mut mm = started(config("skew_bps_per_unit = 100"), &mut ctx);
        ctx.set_touch(3_000_000, 3_000_001);
        mm.on_book(&mut ctx, BTC).unwrap();
        assert_eq!(
            quotes(&ctx.take_actions()),
            vec![(OrderSide::Buy, bid, true, 2), (OrderSide::Sell, ask, true, 2)],
            "position {position}"
        );
    }
}

#[test]
fn quotes_stay_on_a_coarse_tick_and_behind_the_touch() {
    // Tick 0.5 at price precision 1: mantissas must be multiples of 5.
    let touch_at = |bid: i64, spread: i64| (bid, bid + spread);
    let mut ctx = TestContext::new(ferrotrade_model::Venue::BinanceUsdm, "BTCUSDT", 1, 3, 5, 1);
    let mut mm = started(config(""), &mut ctx);
    ctx.set_touch(3_000_000, 3_000_005);
    mm.on_book(&mut ctx, BTC).unwrap();
    // mid 300000.25: bid 299970.249975 -> down to 299970.0, ask 300030.250025 -> up to 300030.5.
    assert_eq!(
        quotes(&ctx.take_actions()),
        vec![(OrderSide::Buy, 2_999_700, true, 2), (OrderSide::Sell, 3_000_305, true, 2)]
    );
    // A sweep of touches, spreads and inventories with a strong skew: always on tick, never at or
    // through the other side, and rounded away from the unrounded price.
    for position in -4..=4 {
        for (bid, ask) in [touch_at(3_000_000, 5), touch_at(2_999_995, 10), touch_at(3_000_100, 50), touch_at(1_000, 5)]
        {
            let mut ctx = TestContext::new(ferrotrade_model::Venue::BinanceUsdm, "BTCUSDT", 1, 3, 5, 1);
            ctx.set_position(position);
            let config = MarketMakerConfig {
                half_spread_bps: ferrotrade_model::Decimal::parse_str("0.3").unwrap(),
                ..config("skew_bps_per_unit = 3000")
            };
            let mut mm = started(config, &mut ctx);
            ctx.set_touch(bid, ask);
            mm.on_book(&mut ctx, BTC).unwrap();
            let mid = (bid + ask) as f64 / 2.0;
            let shift = 3000.0 * position as f64 / 1000.0;
            for (side, price, post_only, _) in quotes(&ctx.take_actions()) {
                assert!(post_only);
                assert_eq!(price % 5, 0, "{side:?} {price} off tick (position {position}, touch {bid}/{ask})");
                match side {
                    OrderSide::Buy => {
                        assert!(price < ask, "bid {price} crosses ask {ask}");
                        let raw = mid * (1.0 - (0.3 + shift) / 1e4);
                        assert!(price as f64 <= raw + 1e-6 || price == ask - 5, "bid {price} above {raw}");
                    }
                    OrderSide::Sell => {
                        assert!(price > bid, "ask {price} crosses bid {bid}");
                        let raw = mid * (1.0 + (0.3 - shift) / 1e4);
                        assert!(price as f64 >= raw - 1e-6 || price == bid + 5, "ask {price} below {raw}");
                    }
                }
            }
        }
    }
}

#[test]
fn quotes_never_cross_the_touch() {
    let mut ctx = TestContext::usdm_btcusdt();
    // 10000 bps per BTC: short 0.002 BTC lifts both quotes by 20 bps, far beyond the 1 bps half spread.
    ctx.set_position(-2);
    let mut mm = started(config("skew_bps_per_unit = 10000"), &mut ctx);
    ctx.set_touch(3_000_000, 3_000_010);
    mm.on_book(&mut ctx, BTC).unwrap();
    // bid = 300000.5 x (1 + 19e-4) would be 300570.50095: pulled back to one tick under the best ask.
    // ask = 300000.5 x (1 + 21e-4) = 300630.501 -> 300630.6
    assert_eq!(
        quotes(&ctx.take_actions()),
        vec![(OrderSide::Buy, 3_000_009, true, 2), (OrderSide::Sell, 3_006_306, true, 2)]
    );

    // Zero half spread on a one-tick market: bid at the best bid, ask at the best ask.
    let mut ctx = TestContext::usdm_btcusdt();
    let config = MarketMakerConfig { half_spread_bps: ferrotrade_model::Decimal::ZERO, ..config("") };
    let mut mm = started(config, &mut ctx);
    ctx.set_touch(3_000_000, 3_000_001);
    mm.on_book(&mut ctx, BTC).unwrap();
    assert_eq!(
        quotes(&ctx.take_actions()),
        vec![(OrderSide::Buy, 3_000_000, true, 2), (OrderSide::Sell, 3_000_001, true, 2)]
    );
}

#[test]
fn no_requote_below_the_threshold() {
    let mut ctx = TestContext::usdm_btcusdt();
    let mut mm = started(config("requote_threshold_ticks = 2"), &mut ctx);
    ctx.set_touch(3_000_000, 3_000_001);
    mm.on_book(&mut ctx, BTC).unwrap();
    let ids: Vec<ClientOrderId> = TestContext::submits(&ctx.take_actions()).into_iter().map(|(id, _)| id).collect();

    // Touch up one tick: mid 300000.15, bid 299970.149985 -> 299970.1, ask 300030.150015 -> 300030.2: one tick.
    ctx.set_touch(3_000_001, 3_000_002);
    mm.on_book(&mut ctx, BTC).unwrap();
    assert!(ctx.take_actions().is_empty());

    // Another tick: bid 299970.2, ask 300030.3, two ticks from the working prices: amend both.
    ctx.set_touch(3_000_002, 3_000_003);
    mm.on_book(&mut ctx, BTC).unwrap();
    assert_eq!(
        ctx.take_actions(),
        vec![
            Action::Amend(ids[0], Price(2_999_702), Quantity(2)),
            Action::Amend(ids[1], Price(3_000_303), Quantity(2))
        ]
    );
    // Until the amends are confirmed, no second amend is sent.
    ctx.set_touch(3_000_010, 3_000_011);
    mm.on_book(&mut ctx, BTC).unwrap();
    assert!(ctx.take_actions().is_empty());
    for (id, price) in [(ids[0], 2_999_702), (ids[1], 3_000_303)] {
        let event = ctx.event(id, OrderEventKind::Replaced { price: Price(price), quantity: Quantity(2) });
        mm.on_order(&mut ctx, &event).unwrap();
    }
    // mid 300001.05: bid 299971.049895 -> 299971.0, ask 300031.050105 -> 300031.1 (8 ticks away each).
    mm.on_book(&mut ctx, BTC).unwrap();
    assert_eq!(
        ctx.take_actions(),
        vec![
            Action::Amend(ids[0], Price(2_999_710), Quantity(2)),
            Action::Amend(ids[1], Price(3_000_311), Quantity(2))
        ]
    );
}

#[test]
fn min_requote_interval_delays_amends() {
    let mut ctx = TestContext::usdm_btcusdt();
    let mut mm = started(config("requote_threshold_ticks = 1\nmin_requote_interval_ms = 100"), &mut ctx);
    ctx.set_touch(3_000_000, 3_000_001);
    mm.on_book(&mut ctx, BTC).unwrap();
    assert_eq!(TestContext::submits(&ctx.take_actions()).len(), 2);
    ctx.advance_ms(99);
    ctx.set_touch(3_000_005, 3_000_006);
    mm.on_book(&mut ctx, BTC).unwrap();
    assert!(ctx.take_actions().is_empty());
    ctx.advance_ms(1);
    mm.on_book(&mut ctx, BTC).unwrap();
    let actions = ctx.take_actions();
    assert_eq!(actions.len(), 2);
    assert!(actions.iter().all(|action| matches!(action, Action::Amend(..))));
}

#[test]
fn stops_the_side_that_would_exceed_max_position() {
    let mut ctx = TestContext::usdm_btcusdt();
    // Long 0.003: a 0.002 bid fill would make 0.005 > 0.004, so only the ask is quoted.
    ctx.set_position(3);
    let mut mm = started(config(""), &mut ctx);
    ctx.set_touch(3_000_000, 3_000_001);
    mm.on_book(&mut ctx, BTC).unwrap();
    assert_eq!(quotes(&ctx.take_actions()), vec![(OrderSide::Sell, 3_000_301, true, 2)]);

    // Short 0.002: both sides (a full ask fill reaches exactly -0.004, which is allowed).
    let mut ctx = TestContext::usdm_btcusdt();
    ctx.set_position(-2);
    let mut mm = started(config(""), &mut ctx);
    ctx.set_touch(3_000_000, 3_000_001);
    mm.on_book(&mut ctx, BTC).unwrap();
    let submits = TestContext::submits(&ctx.take_actions());
    assert_eq!(submits.len(), 2);
    let (bid_id, ask_id) = (submits[0].0, submits[1].0);
    // Half the ask fills: short 0.003, another 0.002 would make -0.005: the rest of the ask is canceled.
    let (event, fill) = ctx.fill(ask_id, 1, Price(3_000_301));
    mm.on_order(&mut ctx, &event).unwrap();
    mm.on_fill(&mut ctx, &fill).unwrap();
    assert_eq!(ctx.take_actions(), vec![Action::Cancel(ask_id)]);
    // The cancel is not repeated while it is pending; after it is confirmed the side stays empty.
    mm.on_book(&mut ctx, BTC).unwrap();
    assert!(ctx.take_actions().is_empty());
    let canceled = ctx.finish(ask_id, OrderStatus::Canceled, OrderEventKind::Canceled);
    mm.on_order(&mut ctx, &canceled).unwrap();
    mm.on_book(&mut ctx, BTC).unwrap();
    assert!(ctx.take_actions().is_empty());
    // The bid fills: short 0.001, back within the limit: both sides are quoted again.
    let (event, fill) = ctx.fill(bid_id, 2, Price(2_999_700));
    mm.on_order(&mut ctx, &event).unwrap();
    mm.on_fill(&mut ctx, &fill).unwrap();
    assert_eq!(ctx.positions[0], Quantity(-1));
    assert_eq!(
        quotes(&ctx.take_actions()),
        vec![(OrderSide::Buy, 2_999_700, true, 2), (OrderSide::Sell, 3_000_301, true, 2)]
    );
}

#[test]
fn a_fill_requotes_with_the_new_inventory() {
    let mut ctx = TestContext::usdm_btcusdt();
    let mut mm = started(config("skew_bps_per_unit = 100"), &mut ctx);
    ctx.set_touch(3_000_000, 3_000_001);
    mm.on_book(&mut ctx, BTC).unwrap();
    let submits = TestContext::submits(&ctx.take_actions());
    let (bid_id, ask_id) = (submits[0].0, submits[1].0);

    // Partial fill of the bid: the order is still working, the skew moves both quotes down
    // by 300000.05 x 0.1e-4 = 3.0: bid 299967.049997 -> 299967.0 (30 ticks), ask 300027.050002 -> 300027.1.
    let (event, fill) = ctx.fill(bid_id, 1, Price(2_999_700));
    mm.on_order(&mut ctx, &event).unwrap();
    mm.on_fill(&mut ctx, &fill).unwrap();
    assert_eq!(
        ctx.take_actions(),
        vec![
            Action::Amend(bid_id, Price(2_999_670), Quantity(2)),
            Action::Amend(ask_id, Price(3_000_271), Quantity(2))
        ]
    );
    for (id, price) in [(bid_id, 2_999_670), (ask_id, 3_000_271)] {
        let event = ctx.event(id, OrderEventKind::Replaced { price: Price(price), quantity: Quantity(2) });
        mm.on_order(&mut ctx, &event).unwrap();
    }
    // The rest fills: position 0.002, bid forgotten and re-sent at the 0.2 bps skew (see
    // quotes_skew_against_inventory); the ask moves to 300024.1.
    let (event, fill) = ctx.fill(bid_id, 1, Price(2_999_670));
    mm.on_order(&mut ctx, &event).unwrap();
    mm.on_fill(&mut ctx, &fill).unwrap();
    let actions = ctx.take_actions();
    assert_eq!(actions.len(), 2);
    assert!(
        matches!(actions[0], Action::Submit(_, request) if request.side == OrderSide::Buy && request.price.0 == 2_999_640)
    );
    assert_eq!(actions[1], Action::Amend(ask_id, Price(3_000_241), Quantity(2)));
}

#[test]
fn a_denied_quote_is_forgotten_and_sent_again_after_the_backoff() {
    let mut ctx = TestContext::usdm_btcusdt();
    let mut mm = started(config(""), &mut ctx);
    ctx.set_touch(3_000_000, 3_000_001);
    mm.on_book(&mut ctx, BTC).unwrap();
    let submits = TestContext::submits(&ctx.take_actions());
    let denied = ctx.finish(submits[0].0, OrderStatus::Denied, OrderEventKind::Denied(RejectReason::RateLimit));
    mm.on_order(&mut ctx, &denied).unwrap();
    let rejected =
        ctx.finish(submits[1].0, OrderStatus::Rejected, OrderEventKind::Rejected(RejectReason::PostOnlyWouldTake));
    mm.on_order(&mut ctx, &rejected).unwrap();
    // Both sides back off for reject_backoff_ms (default 1000).
    ctx.advance_ms(999);
    mm.on_book(&mut ctx, BTC).unwrap();
    assert!(ctx.take_actions().is_empty());
    ctx.advance_ms(1);
    mm.on_book(&mut ctx, BTC).unwrap();
    assert_eq!(
        quotes(&ctx.take_actions()),
        vec![(OrderSide::Buy, 2_999_700, true, 2), (OrderSide::Sell, 3_000_301, true, 2)]
    );
}

#[test]
fn stop_cancels_the_quotes() {
    let mut ctx = TestContext::usdm_btcusdt();
    let mut mm = started(config(""), &mut ctx);
    mm.on_stop(&mut ctx).unwrap();
    assert_eq!(ctx.take_actions(), vec![Action::CancelAll(Some(BTC))]);
}

#[test]
fn one_sided_book_leaves_orders_alone() {
    let mut ctx = TestContext::usdm_btcusdt();
    let mut mm = started(config(""), &mut ctx);
    ctx.books[0].apply_level(ferrotrade_model::BookSide::Bid, Price(3_000_000), Quantity(5)).unwrap();
    mm.on_book(&mut ctx, BTC).unwrap();
    assert!(ctx.take_actions().is_empty());
}

#[test]
fn configuration_errors_name_the_key() {
    let bad = |extra: &str, base: &str| -> String {
        let text = format!("instrument = \"binance-usdm.BTCUSDT\"\n{base}{extra}");
        match toml::from_str::<MarketMakerConfig>(&text) {
            Ok(config) => config.validate().unwrap_err().key.to_owned(),
            Err(error) => error.to_string(),
        }
    };
    let base = "order_size = 0.002\nhalf_spread_bps = 1\nmax_position = 0.004\n";
    assert!(bad("spread = 3\n", base).contains("unknown field `spread`"));
    assert_eq!(bad("", "order_size = 0\nhalf_spread_bps = 1\nmax_position = 0.004\n"), "order_size");
    assert_eq!(bad("", "order_size = 0.002\nhalf_spread_bps = -1\nmax_position = 0.004\n"), "half_spread_bps");
    assert_eq!(bad("", "order_size = 0.002\nhalf_spread_bps = 1\nmax_position = 0.001\n"), "max_position");
    assert_eq!(bad("requote_threshold_ticks = -1\n", base), "requote_threshold_ticks");
    assert_eq!(bad("skew_bps_per_unit = \"-0.5\"\n", base), "skew_bps_per_unit");

    // Sizes finer than the instrument's lot, and unknown instruments, fail in on_start.
    let mut ctx = TestContext::usdm_btcusdt();
    let mut mm = MarketMaker::new(MarketMakerConfig {
        order_size: ferrotrade_model::Decimal::parse_str("0.0025").unwrap(),
        ..config("")
    });
    let error = mm.on_start(&mut ctx).unwrap_err();
    assert!(error.message.contains("`order_size`") && error.message.contains("more decimals"), "{error}");
    let mut mm = MarketMaker::new(MarketMakerConfig { instrument: "binance-usdm.ETHUSDT".into(), ..config("") });
    let error = mm.on_start(&mut ctx).unwrap_err();
    assert!(error.message.contains("`instrument`") && error.message.contains("ETHUSDT"), "{error}");
}

#[test]
fn name_and_subscriptions() {
    let mm = MarketMaker::new(config(""));
    assert_eq!(mm.name(), "market_maker:binance-usdm.BTCUSDT");
    let subscriptions = mm.subscriptions();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0].instrument, "binance-usdm.BTCUSDT");
    assert!(subscriptions[0].wants(ferrotrade_strategy::DataKind::Book));
}

#[test]
fn an_amend_the_venue_cannot_make_is_replaced_by_cancel_and_a_new_quote() {
    // Binance spot re-prices only by cancel and new: the refused amend pulls the order at once (no
    // backoff), and once it is cancelled the side is quoted at the new price.
    let mut ctx = TestContext::usdm_btcusdt();
    let mut mm = started(config(""), &mut ctx);
    ctx.set_touch(3_000_000, 3_000_001);
    mm.on_book(&mut ctx, BTC).unwrap();
    let ids: Vec<ClientOrderId> = TestContext::submits(&ctx.take_actions()).into_iter().map(|(id, _)| id).collect();
    ctx.set_touch(3_000_010, 3_000_011);
    mm.on_book(&mut ctx, BTC).unwrap();
    assert!(matches!(ctx.take_actions()[0], Action::Amend(id, _, _) if id == ids[0]));
    let refused = ctx.event(ids[0], OrderEventKind::ReplaceRejected(RejectReason::InvalidAmend));
    mm.on_order(&mut ctx, &refused).unwrap();
    assert_eq!(ctx.take_actions(), vec![Action::Cancel(ids[0])]);
    let canceled = ctx.finish(ids[0], OrderStatus::Canceled, OrderEventKind::Canceled);
    mm.on_order(&mut ctx, &canceled).unwrap();
    mm.on_book(&mut ctx, BTC).unwrap();
    let requoted = quotes(&ctx.take_actions());
    assert_eq!(requoted.len(), 1, "{requoted:?}");
    assert_eq!((requoted[0].0, requoted[0].1), (OrderSide::Buy, 2_999_710), "the bid at the new price");
}

#[test]
fn a_parameter_set_at_run_time_moves_the_quotes_and_a_bad_one_changes_nothing() {
    let mut ctx = TestContext::usdm_btcusdt();
    let mut mm = started(config("requote_threshold_ticks = 0"), &mut ctx);
    // 2 bps: bid = 300000.05 x (1 - 2e-4) = 299940.04999 -> 299940.0; ask = x (1 + 2e-4) = 300060.05001 -> 300060.1
    mm.set_parameter(&mut ctx, "half_spread_bps", "2").unwrap();
    assert_eq!(mm.config().half_spread_bps.to_string(), "2");
    common::assert_refused(
        &mut mm,
        &mut ctx,
        &[
            ("half_spread_bps", "-1", "half_spread_bps"),
            ("half_spread_bps", "wide", "not a decimal"),
            ("order_size", "0.0005", "order_size"),
            ("min_requote_interval_ms", "-5", "not a count"),
            ("instrument", "\"binance-usdm.ETHUSDT\"", "instrument cannot change at run time"),
            ("spread", "2", "unknown parameter \"spread\""),
        ],
    );
    assert_eq!(mm.config().half_spread_bps.to_string(), "2", "a refused change leaves the configuration");
    ctx.set_touch(3_000_000, 3_000_001);
    mm.on_book(&mut ctx, BTC).unwrap();
    assert_eq!(
        quotes(&ctx.take_actions()),
        vec![(OrderSide::Buy, 2_999_400, true, 2), (OrderSide::Sell, 3_000_601, true, 2)]
    );
}
