//! One test per rule of the chain, with hand-computed numbers on Binance USD-M BTCUSDT (price precision 1,
//! size precision 3: `Price(618_000)` is 61800.0 USDT, `Quantity(500)` is 0.500 BTC), mid around 61800.0.
#![allow(clippy::unwrap_used)]

use ferrotrade_model::{
    Decimal, Instrument, InstrumentId, InstrumentIndex, Money, OrderRequest, OrderSide, Price, Quantity, RejectReason,
    UnixNanos, Venue,
};
use ferrotrade_risk::{InstrumentLimits, OrderCheck, RiskConfig, RiskEngine, TradingState};

const BTC: InstrumentIndex = InstrumentIndex(0);
/// 2024-03-01T00:00:00Z.
const T0: u64 = 1_709_251_200_000_000_000;
/// Mid 61800.0, times two.
const MID_X2: Price = Price(1_236_000);

fn dec(text: &str) -> Decimal {
    Decimal::parse_str(text).unwrap()
}

fn usdt(text: &str) -> Money {
    Money::from_decimal(dec(text))
}

/// Binance USD-M BTCUSDT as the exchange lists it: tick 0.1, step 0.001, min notional 100 USDT.
fn btcusdt() -> Instrument {
    let mut instrument = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3);
    instrument.min_notional = Some(dec("100"));
    instrument
}

fn ethusdt() -> Instrument {
    Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "ETHUSDT"), 2, 3)
}

fn engine(config: &RiskConfig) -> RiskEngine {
    RiskEngine::new(config, &[btcusdt(), ethusdt()]).unwrap()
}

/// A flat account, mid 61800.0.
fn order(request: OrderRequest) -> OrderCheck {
    OrderCheck {
        now: UnixNanos(T0),
        request,
        mid_x2: Some(MID_X2),
        position: Quantity(0),
        open_buy: Quantity(0),
        open_sell: Quantity(0),
        total_notional: Money::ZERO,
        instrument_notional: Money::ZERO,
    }
}

fn limit(side: OrderSide, price: i64, quantity: i64) -> OrderCheck {
    order(OrderRequest::limit(BTC, side, Price(price), Quantity(quantity)))
}

fn market(side: OrderSide, quantity: i64) -> OrderCheck {
    order(OrderRequest::market(BTC, side, Quantity(quantity)))
}

fn reduce_only(mut check: OrderCheck) -> OrderCheck {
    check.request.reduce_only = true;
    check
}

fn long(mut check: OrderCheck, position: i64) -> OrderCheck {
    check.position = Quantity(position);
    check
}

#[test]
fn halted_refuses_every_order() {
    let mut risk = engine(&RiskConfig::default());
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_000, 1)), Ok(()));
    let event = risk.set_state(UnixNanos(T0), TradingState::Halted, "operator").unwrap();
    assert_eq!((event.from, event.to, event.reason), (TradingState::Active, TradingState::Halted, "operator"));
    assert_eq!(risk.set_state(UnixNanos(T0), TradingState::Halted, "again"), None);
    // Even an order that would reduce a long 0.5 BTC.
    let reducing = long(reduce_only(limit(OrderSide::Sell, 618_000, 100)), 500);
    assert_eq!(risk.check(&reducing), Err(RejectReason::TradingHalted));
    assert_eq!(risk.check(&market(OrderSide::Buy, 1)), Err(RejectReason::TradingHalted));
    assert_eq!(risk.counters().get(RejectReason::TradingHalted), 2);
    assert_eq!(risk.counters().passed(), 1);
    // An instrument the engine has no limits for is not traded either.
    let mut risk = engine(&RiskConfig::default());
    let unknown = order(OrderRequest::limit(InstrumentIndex(7), OrderSide::Buy, Price(1), Quantity(1)));
    assert_eq!(risk.check(&unknown), Err(RejectReason::TradingHalted));
}

#[test]
fn reducing_passes_only_orders_that_cannot_grow_the_position() {
    let mut risk = engine(&RiskConfig::default());
    risk.set_state(UnixNanos(T0), TradingState::Reducing, "operator").unwrap();
    // Long 0.500 BTC: selling 0.300 reduces.
    assert_eq!(risk.check(&long(limit(OrderSide::Sell, 618_000, 300), 500)), Ok(()));
    // Selling 0.300 more with 0.300 already offered could take the position to -0.100.
    let mut with_open = long(limit(OrderSide::Sell, 618_000, 300), 500);
    with_open.open_sell = Quantity(300);
    assert_eq!(risk.check(&with_open), Err(RejectReason::ReducingOnly));
    // 0.200 with 0.300 offered closes exactly: allowed.
    with_open.request.quantity = Quantity(200);
    assert_eq!(risk.check(&with_open), Ok(()));
    // Buying on a long, or anything when flat, increases.
    assert_eq!(risk.check(&long(limit(OrderSide::Buy, 617_000, 1), 500)), Err(RejectReason::ReducingOnly));
    assert_eq!(risk.check(&limit(OrderSide::Sell, 618_000, 1)), Err(RejectReason::ReducingOnly));
    // Selling 0.501 on a 0.500 long flips it, unless reduce-only (the venue cuts it to 0.500).
    assert_eq!(risk.check(&long(limit(OrderSide::Sell, 618_000, 501), 500)), Err(RejectReason::ReducingOnly));
    assert_eq!(risk.check(&long(reduce_only(limit(OrderSide::Sell, 618_000, 501)), 500)), Ok(()));
    // A short -0.2: buying 0.2 reduces.
    assert_eq!(risk.check(&long(market(OrderSide::Buy, 200), -200)), Ok(()));
    assert_eq!(risk.counters().get(RejectReason::ReducingOnly), 4);
}

#[test]
fn rate_limit_spends_tokens_only_on_orders_that_pass() {
    // 2 orders/s, burst 2, and a 0.5 BTC order limit to deny orders after the rate rule.
    let config = RiskConfig {
        orders_per_second: Some(dec("2")),
        burst: Some(2),
        max_order_quantity: Some(dec("0.5")),
        ..RiskConfig::default()
    };
    let mut risk = engine(&config);
    let good = limit(OrderSide::Buy, 618_000, 100);
    let too_big = limit(OrderSide::Buy, 618_000, 600);
    // Denied orders (too big) do not spend tokens: the two good ones still pass.
    assert_eq!(risk.check(&too_big), Err(RejectReason::MaxOrderQuantity));
    assert_eq!(risk.check(&too_big), Err(RejectReason::MaxOrderQuantity));
    assert_eq!(risk.check(&good), Ok(()));
    assert_eq!(risk.check(&good), Ok(()));
    assert_eq!(risk.tokens(), Some(0));
    // Empty: the rate rule comes before the quantity rule.
    assert_eq!(risk.check(&good), Err(RejectReason::RateLimit));
    assert_eq!(risk.check(&too_big), Err(RejectReason::RateLimit));
    // One token every 500 ms.
    let mut later = good;
    later.now = UnixNanos(T0 + 499_999_999);
    assert_eq!(risk.check(&later), Err(RejectReason::RateLimit));
    later.now = UnixNanos(T0 + 500_000_000);
    assert_eq!(risk.check(&later), Ok(()));
    assert_eq!(risk.check(&later), Err(RejectReason::RateLimit));
    assert_eq!(risk.counters().get(RejectReason::RateLimit), 4);
    assert_eq!(risk.counters().passed(), 3);
}

#[test]
fn max_order_quantity_per_instrument() {
    let mut config = RiskConfig { max_order_quantity: Some(dec("0.5")), ..RiskConfig::default() };
    config.instruments.insert(
        "binance-usdm.ETHUSDT".into(),
        InstrumentLimits { max_order_quantity: Some(dec("10")), ..InstrumentLimits::default() },
    );
    let mut risk = engine(&config);
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_000, 500)), Ok(()));
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_000, 501)), Err(RejectReason::MaxOrderQuantity));
    assert_eq!(risk.check(&market(OrderSide::Sell, 501)), Err(RejectReason::MaxOrderQuantity));
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_000, 0)), Err(RejectReason::InvalidLotSize));
    // ETHUSDT (size precision 3) has its own 10 ETH limit.
    let eth =
        |quantity| order(OrderRequest::limit(InstrumentIndex(1), OrderSide::Buy, Price(340_000), Quantity(quantity)));
    assert_eq!(risk.check(&eth(10_000)), Ok(()));
    assert_eq!(risk.check(&eth(10_001)), Err(RejectReason::MaxOrderQuantity));
}

#[test]
fn max_order_notional_at_limit_price_or_mid() {
    let config = RiskConfig { max_order_notional: Some(dec("50000")), ..RiskConfig::default() };
    let mut risk = engine(&config);
    // 0.809 x 61800.0 = 49 996.2 USDT; 0.810 x 61800.0 = 50 058.0 USDT.
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_000, 809)), Ok(()));
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_000, 810)), Err(RejectReason::MaxOrderNotional));
    // The limit price counts, not mid: 0.810 at 61700.0 = 49 977.0.
    assert_eq!(risk.check(&limit(OrderSide::Sell, 617_000, 810)), Ok(()));
    // Market orders at mid 61800.0.
    assert_eq!(risk.check(&market(OrderSide::Buy, 809)), Ok(()));
    assert_eq!(risk.check(&market(OrderSide::Sell, 810)), Err(RejectReason::MaxOrderNotional));
    // Mid 61800.05 is valued at 61800.1 (not understated): 0.809 x 61800.1 = 49 996.2809.
    let mut half_tick = market(OrderSide::Buy, 809);
    half_tick.mid_x2 = Some(Price(1_236_001));
    assert_eq!(risk.check(&half_tick), Ok(()));
    // Exactly 50 000.0: 0.800 BTC at 62500.0 passes (the limit is "not more than").
    assert_eq!(risk.check(&limit(OrderSide::Buy, 625_000, 800)), Ok(()));
    // No book: a market order cannot be valued, a limit order still can.
    let mut no_book = market(OrderSide::Buy, 1);
    no_book.mid_x2 = None;
    assert_eq!(risk.check(&no_book), Err(RejectReason::NoMarketPrice));
    let mut no_book = limit(OrderSide::Buy, 618_000, 1);
    no_book.mid_x2 = None;
    assert_eq!(risk.check(&no_book), Ok(()));
    assert_eq!(risk.check(&limit(OrderSide::Buy, 0, 1)), Err(RejectReason::InvalidPrice));
    assert_eq!(risk.counters().get(RejectReason::MaxOrderNotional), 2);
}

#[test]
fn price_band_refuses_fat_fingers_on_the_aggressive_side() {
    let config = RiskConfig { price_band_bps: Some(dec("10")), ..RiskConfig::default() };
    let mut risk = engine(&config);
    // 10 bps of 61800.0 = 61.8: buys up to 61861.8, sells down to 61738.2.
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_618, 1)), Ok(()));
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_619, 1)), Err(RejectReason::PriceBand));
    assert_eq!(risk.check(&limit(OrderSide::Sell, 617_382, 1)), Ok(()));
    assert_eq!(risk.check(&limit(OrderSide::Sell, 617_381, 1)), Err(RejectReason::PriceBand));
    // Passive side: far from mid is not a fat finger.
    assert_eq!(risk.check(&limit(OrderSide::Buy, 500_000, 1)), Ok(()));
    assert_eq!(risk.check(&limit(OrderSide::Sell, 700_000, 1)), Ok(()));
    // Mid 61800.05: the upper bound is 61861.85005, so 61861.8 passes and 61861.9 does not.
    let mut buy = limit(OrderSide::Buy, 618_618, 1);
    buy.mid_x2 = Some(Price(1_236_001));
    assert_eq!(risk.check(&buy), Ok(()));
    buy.request.price = Price(618_619);
    assert_eq!(risk.check(&buy), Err(RejectReason::PriceBand));
    // Market orders have no price to band; a limit order without a book cannot be checked.
    assert_eq!(risk.check(&market(OrderSide::Buy, 1)), Ok(()));
    buy.mid_x2 = None;
    assert_eq!(risk.check(&buy), Err(RejectReason::NoMarketPrice));
    assert_eq!(risk.counters().get(RejectReason::PriceBand), 3);
}

#[test]
fn max_position_worst_case_with_open_orders() {
    let mut config = RiskConfig { max_position: Some(dec("5")), ..RiskConfig::default() };
    config.instruments.insert(
        "binance-usdm.BTCUSDT".into(),
        InstrumentLimits { max_position: Some(dec("1")), ..InstrumentLimits::default() },
    );
    let mut risk = engine(&config);
    // Long 0.600 with 0.300 bid: buying 0.100 reaches 1.000 at worst, 0.101 exceeds.
    let mut buy = long(limit(OrderSide::Buy, 618_000, 100), 600);
    buy.open_buy = Quantity(300);
    assert_eq!(risk.check(&buy), Ok(()));
    buy.request.quantity = Quantity(101);
    assert_eq!(risk.check(&buy), Err(RejectReason::MaxPosition));
    // Selling from long 0.600: -0.600 + 1.600 = short 1.000 at worst; 1.601 exceeds.
    assert_eq!(risk.check(&long(limit(OrderSide::Sell, 618_000, 1_600), 600)), Ok(()));
    assert_eq!(risk.check(&long(limit(OrderSide::Sell, 618_000, 1_601), 600)), Err(RejectReason::MaxPosition));
    // Short 0.900 with 0.050 offered: selling 0.050 reaches 1.000, 0.051 exceeds.
    let mut sell = long(limit(OrderSide::Sell, 618_000, 50), -900);
    sell.open_sell = Quantity(50);
    assert_eq!(risk.check(&sell), Ok(()));
    sell.request.quantity = Quantity(51);
    assert_eq!(risk.check(&sell), Err(RejectReason::MaxPosition));
    // Reduce-only orders always pass this rule.
    assert_eq!(risk.check(&long(reduce_only(limit(OrderSide::Sell, 618_000, 3_000)), 600)), Ok(()));
    // ETHUSDT keeps the 5 ETH of the [risk] table.
    let eth =
        |quantity| order(OrderRequest::limit(InstrumentIndex(1), OrderSide::Buy, Price(340_000), Quantity(quantity)));
    assert_eq!(risk.check(&eth(5_000)), Ok(()));
    assert_eq!(risk.check(&eth(5_001)), Err(RejectReason::MaxPosition));
}

#[test]
fn max_total_notional_after_the_order() {
    let config = RiskConfig { max_total_notional: Some(dec("100000")), ..RiskConfig::default() };
    let mut risk = engine(&config);
    // Long 0.500 BTC (30 900 USDT at mark 61800.0) and 49 100 USDT elsewhere: 80 000 in total.
    let with_book = |mut check: OrderCheck, total: &str| {
        check.position = Quantity(500);
        check.instrument_notional = usdt("30900");
        check.total_notional = usdt(total);
        check
    };
    // +0.300 x 61800.0 = 18 540 -> 98 540; +0.360 = 22 248 -> 102 248.
    assert_eq!(risk.check(&with_book(limit(OrderSide::Buy, 618_000, 300), "80000")), Ok(()));
    assert_eq!(
        risk.check(&with_book(limit(OrderSide::Buy, 618_000, 360), "80000")),
        Err(RejectReason::MaxTotalPosition)
    );
    // Market orders at mid: 0.360 x 61800.0 likewise.
    assert_eq!(risk.check(&with_book(market(OrderSide::Buy, 360), "80000")), Err(RejectReason::MaxTotalPosition));
    // Reducing passes even above the limit (120 000).
    assert_eq!(risk.check(&with_book(limit(OrderSide::Sell, 618_000, 300), "120000")), Ok(()));
    // Flipping: selling 1.200 closes 30 900 and opens short 0.700 = 43 260 -> 92 360 in total; 1.400 opens
    // 0.900 = 55 620 -> 104 720.
    assert_eq!(risk.check(&with_book(limit(OrderSide::Sell, 618_000, 1_200), "80000")), Ok(()));
    assert_eq!(
        risk.check(&with_book(limit(OrderSide::Sell, 618_000, 1_400), "80000")),
        Err(RejectReason::MaxTotalPosition)
    );
    // Without a book, a market order that adds exposure cannot be valued; one that reduces needs no value.
    let mut blind = with_book(market(OrderSide::Buy, 100), "80000");
    blind.mid_x2 = None;
    assert_eq!(risk.check(&blind), Err(RejectReason::NoMarketPrice));
    blind.request.side = OrderSide::Sell;
    assert_eq!(risk.check(&blind), Ok(()));
}

#[test]
fn max_concentration_above_the_floor() {
    let config = RiskConfig {
        max_concentration: Some(dec("0.5")),
        concentration_floor: Some(dec("20000")),
        ..RiskConfig::default()
    };
    let mut risk = engine(&config);
    // Flat account: 0.300 x 61800.0 = 18 540 <= 20 000 floor, so 100 % of it is fine.
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_000, 300)), Ok(()));
    // 0.400 = 24 720 > floor and 100 % > 50 %.
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_000, 400)), Err(RejectReason::MaxConcentration));
    // With 30 900 USDT in other instruments: 0.500 = 30 900 of 61 800 = exactly 50 %, 0.501 is above.
    let mut diversified = limit(OrderSide::Buy, 618_000, 500);
    diversified.total_notional = usdt("30900");
    assert_eq!(risk.check(&diversified), Ok(()));
    diversified.request.quantity = Quantity(501);
    assert_eq!(risk.check(&diversified), Err(RejectReason::MaxConcentration));
    // Selling down a concentrated long is always allowed.
    let mut concentrated = long(limit(OrderSide::Sell, 618_000, 100), 1_000);
    concentrated.instrument_notional = usdt("61800");
    concentrated.total_notional = usdt("61800");
    assert_eq!(risk.check(&concentrated), Ok(()));

    // Default floor: 0.5 x max_total_notional 100 000 = 50 000; 0.800 = 49 440 passes, 0.810 = 50 058 not.
    let config = RiskConfig {
        max_concentration: Some(dec("0.5")),
        max_total_notional: Some(dec("100000")),
        ..RiskConfig::default()
    };
    let mut risk = engine(&config);
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_000, 800)), Ok(()));
    assert_eq!(risk.check(&limit(OrderSide::Buy, 618_000, 810)), Err(RejectReason::MaxConcentration));
}

#[test]
fn first_failing_rule_wins_in_chain_order() {
    let config = RiskConfig {
        max_order_quantity: Some(dec("0.5")),
        max_order_notional: Some(dec("10000")),
        price_band_bps: Some(dec("10")),
        max_position: Some(dec("0.1")),
        ..RiskConfig::default()
    };
    let mut risk = engine(&config);
    // 1.000 BTC at 70000.0 breaks quantity, notional, band and position: quantity is reported.
    assert_eq!(risk.check(&limit(OrderSide::Buy, 700_000, 1_000)), Err(RejectReason::MaxOrderQuantity));
    // 0.500 at 70000.0: notional (35 000) before band and position.
    assert_eq!(risk.check(&limit(OrderSide::Buy, 700_000, 500)), Err(RejectReason::MaxOrderNotional));
    // 0.100 at 70000.0: band before position.
    assert_eq!(risk.check(&limit(OrderSide::Buy, 700_000, 100)), Err(RejectReason::PriceBand));
    assert_eq!(risk.check(&long(limit(OrderSide::Buy, 618_000, 100), 1)), Err(RejectReason::MaxPosition));
    let counts: Vec<_> = risk.counters().iter().filter(|(_, count)| *count > 0).collect();
    assert_eq!(
        counts,
        [
            (RejectReason::MaxOrderQuantity, 1),
            (RejectReason::MaxOrderNotional, 1),
            (RejectReason::PriceBand, 1),
            (RejectReason::MaxPosition, 1)
        ]
    );
}

#[test]
fn default_burst_is_one_second_of_orders() {
    // 2.5 orders/s without a burst: 3 at once (ceil 2.5), then one every 400 ms.
    let mut risk = engine(&RiskConfig { orders_per_second: Some(dec("2.5")), ..RiskConfig::default() });
    let mut check = limit(OrderSide::Buy, 618_000, 1);
    for _ in 0..3 {
        assert_eq!(risk.check(&check), Ok(()));
    }
    assert_eq!(risk.check(&check), Err(RejectReason::RateLimit));
    check.now = UnixNanos(T0 + 400_000_000);
    assert_eq!(risk.check(&check), Ok(()));
    assert_eq!(risk.check(&check), Err(RejectReason::RateLimit));
}
