//! Cost of one [`RiskEngine::check`] with every limit configured (budget: <= 100 ns per order).
//!
//! - `pass`: four orders cycled (limit buy, limit sell, market buy, reduce-only sell) on Binance USD-M
//!   BTCUSDT and ETHUSDT that pass every rule, so the whole chain runs and the token is taken; the clock
//!   advances 1 us per order against a 10^7 orders/s bucket so the rate limit never denies.
//! - `baseline_loop`: the same loop without the check, to tell the harness's share;
//! - `deny_last_rule`: an order refused by the last rule (concentration), the longest denial path.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrotrade_model::{
    Decimal, Instrument, InstrumentId, InstrumentIndex, Money, OrderRequest, OrderSide, Price, Quantity, UnixNanos,
    Venue,
};
use ferrotrade_risk::{InstrumentLimits, OrderCheck, RiskConfig, RiskEngine};

fn dec(text: &str) -> Decimal {
    Decimal::parse_str(text).unwrap()
}

fn engine() -> RiskEngine {
    let btc = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3);
    let eth = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "ETHUSDT"), 2, 3);
    let mut config = RiskConfig {
        max_order_quantity: Some(dec("5")),
        max_order_notional: Some(dec("100000")),
        max_position: Some(dec("10")),
        max_total_notional: Some(dec("1000000")),
        max_concentration: Some(dec("0.8")),
        concentration_floor: Some(dec("50000")),
        price_band_bps: Some(dec("50")),
        orders_per_second: Some(dec("10000000")),
        burst: Some(100),
        max_drawdown: Some(dec("0.1")),
        max_daily_loss: Some(dec("5000")),
        ..RiskConfig::default()
    };
    config
        .instruments
        .insert("binance-usdm.BTCUSDT".into(), InstrumentLimits { max_position: Some(dec("2")), ..Default::default() });
    RiskEngine::new(&config, &[btc, eth]).unwrap()
}

fn base(request: OrderRequest) -> OrderCheck {
    OrderCheck {
        now: UnixNanos(0),
        request,
        mid_x2: Some(Price(1_236_001)), // mid 61800.05
        position: Quantity(500),        // long 0.5 BTC
        open_buy: Quantity(100),
        open_sell: Quantity(0),
        total_notional: Money::from_units(60_000),
        instrument_notional: Money::from_units(30_900),
    }
}

fn orders() -> [OrderCheck; 4] {
    let btc = InstrumentIndex(0);
    let mut reduce = OrderRequest::limit(btc, OrderSide::Sell, Price(618_100), Quantity(200));
    reduce.reduce_only = true;
    [
        base(OrderRequest::limit(btc, OrderSide::Buy, Price(617_990), Quantity(100))),
        base(OrderRequest::limit(btc, OrderSide::Sell, Price(618_020), Quantity(300))),
        base(OrderRequest::market(btc, OrderSide::Buy, Quantity(50))),
        base(reduce),
    ]
}

fn bench_chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("risk_chain");
    group.throughput(Throughput::Elements(1));

    let mut risk = engine();
    let orders = orders();
    for order in &orders {
        assert_eq!(risk.check(order), Ok(()), "{order:?}");
    }
    let mut clock = 1_700_000_000_000_000_000u64;
    let mut index = 0usize;
    group.bench_function("pass", |b| {
        b.iter(|| {
            clock += 1_000;
            index = (index + 1) & 3;
            let mut order = orders[index];
            order.now = UnixNanos(clock);
            black_box(risk.check(black_box(&order)))
        });
    });
    assert_eq!(risk.counters().denied(), 0);

    // The loop without the check (clock, order copy, black_box): the harness share of `pass`.
    group.bench_function("baseline_loop", |b| {
        b.iter(|| {
            clock += 1_000;
            index = (index + 1) & 3;
            let mut order = orders[index];
            order.now = UnixNanos(clock);
            black_box(black_box(&order).request.quantity)
        });
    });

    // 0.3 BTC at 61800.0 more on a 0.5 BTC long (30 900 USDT) with 35 000 USDT total: BTC would be
    // 49 440 of 53 540 USDT = 92.3 % > 80 %, and 53 540 is above the 50 000 floor.
    let mut risk = engine();
    let mut deny = base(OrderRequest::limit(InstrumentIndex(0), OrderSide::Buy, Price(618_000), Quantity(300)));
    deny.total_notional = Money::from_units(35_000);
    assert_eq!(risk.check(&deny), Err(ferrotrade_model::RejectReason::MaxConcentration));
    group.bench_function("deny_last_rule", |b| {
        b.iter(|| {
            clock += 1_000;
            deny.now = UnixNanos(clock);
            black_box(risk.check(black_box(&deny)))
        });
    });
    group.finish();
}

criterion_group!(benches, bench_chain);
criterion_main!(benches);
