//! Drawdown and daily-loss transitions of the trading state, with the UTC day boundary.
#![allow(clippy::unwrap_used)]

use ferrotrade_model::{
    Decimal, Instrument, InstrumentId, InstrumentIndex, Money, OrderRequest, OrderSide, Price, Quantity, RejectReason,
    UnixNanos, Venue,
};
use ferrotrade_risk::{OnBreach, OrderCheck, RiskConfig, RiskEngine, RiskEvent, TradingState};

/// 2024-03-01T00:00:00Z (the day after a leap day).
const MARCH_1: u64 = 1_709_251_200_000_000_000;
const HOUR: u64 = 3_600_000_000_000;

fn dec(text: &str) -> Decimal {
    Decimal::parse_str(text).unwrap()
}

fn usdt(text: &str) -> Money {
    Money::from_decimal(dec(text))
}

fn engine(config: &RiskConfig) -> RiskEngine {
    let btcusdt = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3);
    RiskEngine::new(config, &[btcusdt]).unwrap()
}

fn sell(position: i64) -> OrderCheck {
    OrderCheck {
        now: UnixNanos(MARCH_1),
        request: OrderRequest::limit(InstrumentIndex(0), OrderSide::Sell, Price(618_000), Quantity(100)),
        mid_x2: Some(Price(1_236_000)),
        position: Quantity(position),
        open_buy: Quantity(0),
        open_sell: Quantity(0),
        total_notional: Money::ZERO,
        instrument_notional: Money::ZERO,
    }
}

#[test]
fn drawdown_halts_and_never_resumes_by_itself() {
    let mut risk = engine(&RiskConfig { max_drawdown: Some(dec("0.1")), ..RiskConfig::default() });
    let at = |hours| UnixNanos(MARCH_1 + hours * HOUR);
    assert_eq!(risk.on_equity(at(0), usdt("10000")), None);
    assert_eq!(risk.on_equity(at(1), usdt("11000")), None);
    // Peak 11 000: 9 900 is exactly 10 % down, not more.
    assert_eq!(risk.on_equity(at(2), usdt("9900")), None);
    assert_eq!(risk.equity().peak(), Some(usdt("11000")));
    let event = risk.on_equity(at(3), usdt("9899.99")).unwrap();
    assert_eq!(
        event,
        RiskEvent { ts: at(3), from: TradingState::Active, to: TradingState::Halted, reason: "max_drawdown" }
    );
    assert_eq!(risk.state(), TradingState::Halted);
    assert_eq!(risk.check(&sell(500)), Err(RejectReason::TradingHalted));
    // Further losses or a full recovery change nothing.
    assert_eq!(risk.on_equity(at(4), usdt("5000")), None);
    assert_eq!(risk.on_equity(at(5), usdt("12000")), None);
    assert_eq!(risk.state(), TradingState::Halted);
    // A manual resume re-arms the drawdown from the last equity (12 000): 11 000 is 8.3 % down, fine;
    // 10 799.99 is more than 10 % down and halts again.
    let event = risk.set_state(at(6), TradingState::Active, "operator resume").unwrap();
    assert_eq!((event.from, event.to), (TradingState::Halted, TradingState::Active));
    assert_eq!(risk.on_equity(at(7), usdt("11000")), None);
    assert_eq!(risk.check(&sell(500)), Ok(()));
    assert_eq!(risk.on_equity(at(8), usdt("10799.99")).map(|event| event.reason), Some("max_drawdown"));
}

#[test]
fn breach_to_reducing_lets_positions_shrink() {
    let config = RiskConfig { max_drawdown: Some(dec("0.05")), on_breach: OnBreach::Reducing, ..RiskConfig::default() };
    let mut risk = engine(&config);
    risk.on_equity(UnixNanos(MARCH_1), usdt("20000"));
    // 5 % of 20 000 = 1 000: 18 999 is 5.005 % down.
    let event = risk.on_equity(UnixNanos(MARCH_1 + HOUR), usdt("18999")).unwrap();
    assert_eq!((event.to, event.reason), (TradingState::Reducing, "max_drawdown"));
    assert_eq!(risk.check(&sell(500)), Ok(()));
    assert_eq!(risk.check(&sell(0)), Err(RejectReason::ReducingOnly));
    // A halt set by hand is not softened by a later breach.
    risk.set_state(UnixNanos(MARCH_1 + 2 * HOUR), TradingState::Halted, "operator").unwrap();
    assert_eq!(risk.on_equity(UnixNanos(MARCH_1 + 3 * HOUR), usdt("10000")), None);
    assert_eq!(risk.state(), TradingState::Halted);
}

#[test]
fn daily_loss_counts_from_the_first_equity_of_the_utc_day() {
    let config = RiskConfig { max_daily_loss: Some(dec("500")), ..RiskConfig::default() };
    let mut risk = engine(&config);
    let feb_29_23h = MARCH_1 - HOUR;
    assert_eq!(risk.on_equity(UnixNanos(feb_29_23h), usdt("10000")), None);
    // 23:59:59.999999999 on Feb 29: down 400 on the day.
    assert_eq!(risk.on_equity(UnixNanos(MARCH_1 - 1), usdt("9600")), None);
    assert_eq!(risk.equity().day_start(), usdt("10000"));
    // 00:00:00 on March 1 starts a new day at 9 550, although 450 below yesterday's start.
    assert_eq!(risk.on_equity(UnixNanos(MARCH_1), usdt("9550")), None);
    assert_eq!(risk.equity().day_start(), usdt("9550"));
    // Down exactly 500 is not more than 500; 500.01 is.
    assert_eq!(risk.on_equity(UnixNanos(MARCH_1 + HOUR), usdt("9050")), None);
    let event = risk.on_equity(UnixNanos(MARCH_1 + 2 * HOUR), usdt("9049.99")).unwrap();
    assert_eq!(
        (event.ts, event.from, event.to, event.reason),
        (UnixNanos(MARCH_1 + 2 * HOUR), TradingState::Active, TradingState::Halted, "daily_loss")
    );
}

#[test]
fn daily_loss_within_one_day_and_not_across_two() {
    let config = RiskConfig { max_daily_loss: Some(dec("500")), ..RiskConfig::default() };
    // The same 600 loss inside one day breaches...
    let mut risk = engine(&config);
    risk.on_equity(UnixNanos(MARCH_1 + HOUR), usdt("10000"));
    let event = risk.on_equity(UnixNanos(MARCH_1 + 23 * HOUR), usdt("9400"));
    assert_eq!(event.map(|event| event.reason), Some("daily_loss"));
    // ...spread over two days (300 before midnight, 300 after) it does not.
    let mut risk = engine(&config);
    risk.on_equity(UnixNanos(MARCH_1 - HOUR), usdt("10000"));
    assert_eq!(risk.on_equity(UnixNanos(MARCH_1 - 1), usdt("9700")), None);
    assert_eq!(risk.on_equity(UnixNanos(MARCH_1), usdt("9700")), None);
    assert_eq!(risk.on_equity(UnixNanos(MARCH_1 + HOUR), usdt("9400")), None);
    assert_eq!(risk.state(), TradingState::Active);
}

#[test]
fn no_limits_no_transitions() {
    let mut risk = engine(&RiskConfig::default());
    assert_eq!(risk.on_equity(UnixNanos(MARCH_1), usdt("10000")), None);
    assert_eq!(risk.on_equity(UnixNanos(MARCH_1 + 1), usdt("1")), None);
    assert_eq!(risk.state(), TradingState::Active);
}
