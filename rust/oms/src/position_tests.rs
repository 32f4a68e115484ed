//! Unit tests of [`super::Position`] with hand-computed figures, on the real precisions of Binance USD-M
//! BTCUSDT (price 1 decimal, size 3) and COIN-M BTCUSD_PERP (100 USD contracts, price 1 decimal, size 0).

use super::*;
use ferrotrade_model::{ClientOrderId, Decimal, InstrumentId, Liquidity, OrderSide, UnixNanos, Venue, VenueOrderId};

fn btcusdt() -> Instrument {
    Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3)
}

fn btcusd_perp() -> Instrument {
    let mut instrument = Instrument::with_precisions(InstrumentId::new(Venue::BinanceCoinm, "BTCUSD_PERP"), 1, 0);
    instrument.contract_size = Decimal { mantissa: 100, scale: 0 };
    instrument
}

fn money(text: &str) -> Money {
    Money::from_decimal(Decimal::parse_str(text).unwrap())
}

fn fill(side: OrderSide, price: i64, quantity: i64, fee: &str) -> Fill {
    Fill {
        client_id: ClientOrderId(1),
        venue_order_id: VenueOrderId(1),
        trade_id: 1,
        instrument: InstrumentIndex(0),
        side,
        price: Price(price),
        quantity: Quantity(quantity),
        fee: money(fee),
        liquidity: Liquidity::Taker,
        ts_event: UnixNanos(0),
        ts_recv: UnixNanos(0),
    }
}

#[test]
fn linear_partial_close_realizes_the_proportional_entry() {
    let btc = btcusdt();
    let mut position = Position::new(InstrumentIndex(0));
    // Long 0.003 @ 61800.2: entry 185.4006 USDT, taker fee 0.0927003.
    assert_eq!(position.apply_fill(&btc, &fill(OrderSide::Buy, 618_002, 3, "0.0927003")), Money::ZERO);
    assert_eq!(position.entry_value.to_string(), "185.4006");
    // Sell 0.001 @ 61850.0: closes a third (61.8002) at 61.85, realizing exactly 0.0498 USDT.
    let realized = position.apply_fill(&btc, &fill(OrderSide::Sell, 618_500, 1, "-0.006185"));
    assert_eq!(realized.to_string(), "0.0498");
    assert_eq!(position.quantity, Quantity(2));
    assert_eq!(position.entry_value.to_string(), "123.6004");
    assert_eq!(position.fees.to_string(), "0.0865153");
    assert_eq!(position.turnover.to_string(), "247.2506");
    assert_eq!(position.fill_count, 2);
    let avg = position.avg_price_f64(&btc).unwrap();
    assert!((avg - 61_800.2).abs() < 1e-6, "{avg}");
    // Mark at the mid 61850.05 (one more decimal): 0.002 x (61850.05 - 61800.2) = 0.0997.
    assert_eq!(position.unrealized_pnl(&btc, Price(6_185_005), 2).to_string(), "0.0997");
}

#[test]
fn linear_flip_realizes_the_position_and_opens_the_rest_at_the_fill_price() {
    let btc = btcusdt();
    let mut position = Position::new(InstrumentIndex(0));
    position.apply_fill(&btc, &fill(OrderSide::Sell, 618_000, 2, "0"));
    // Buy 0.005 @ 61700.0: the short 0.002 realizes 0.002 x 100 = 0.2; long 0.003 opens at 61700.
    let realized = position.apply_fill(&btc, &fill(OrderSide::Buy, 617_000, 5, "0"));
    assert_eq!(realized.to_string(), "0.2");
    assert_eq!(position.quantity, Quantity(3));
    assert_eq!(position.entry_value.to_string(), "185.1");
    assert_eq!(position.unrealized_pnl(&btc, Price(617_000), 1), Money::ZERO);
    // Close at 61710.0: 0.003 x 10 = 0.03, flat, nothing left in entry.
    assert_eq!(position.apply_fill(&btc, &fill(OrderSide::Sell, 617_100, 3, "0")).to_string(), "0.03");
    assert!(position.is_flat());
    assert_eq!(position.entry_value, Money::ZERO);
    assert_eq!(position.realized_pnl.to_string(), "0.23");
    assert_eq!(position.avg_price_f64(&btc), None);
}

#[test]
fn proportional_entry_rounds_half_away_from_zero_and_telescopes() {
    let btc = btcusdt();
    let mut position = Position::new(InstrumentIndex(0));
    // Three buys of 0.001 at 0.1, 0.2, 0.2: one third of the entry is not a multiple of 10^-18.
    position.apply_fill(&btc, &fill(OrderSide::Buy, 1, 1, "0"));
    position.apply_fill(&btc, &fill(OrderSide::Buy, 2, 1, "0"));
    position.apply_fill(&btc, &fill(OrderSide::Buy, 2, 1, "0"));
    assert_eq!(position.entry_value.to_string(), "0.0005");
    // Closing 0.001 of 0.003 removes 0.0005 / 3 = 0.000166666666666666|67 (rounded up at 10^-18).
    let realized = position.apply_fill(&btc, &fill(OrderSide::Sell, 2, 1, "0"));
    assert_eq!(realized.to_string(), "0.000033333333333333");
    let realized = position.apply_fill(&btc, &fill(OrderSide::Sell, 2, 2, "0"));
    // Flat again: total realized = sells 0.0006 - buys 0.0005, exactly.
    assert_eq!((position.realized_pnl, position.entry_value), (money("0.0001"), Money::ZERO));
    assert_eq!(realized.to_string(), "0.000066666666666667");
    assert_eq!(scale_down(-5, 1, 2), -3);
    assert_eq!(scale_down(5, 1, 3), 2);
    // No overflow where value x part would not fit an i128 (checked against exact rational arithmetic).
    assert_eq!(scale_down(i128::MAX / 2, i64::MAX - 1, i64::MAX), 85_070_591_730_234_615_856_620_279_821_087_277_054);
}

#[test]
fn inverse_long_realizes_in_base_currency() {
    let perp = btcusd_perp();
    let mut position = Position::new(InstrumentIndex(0));
    // Long 10 contracts of 100 USD @ 50000.0: entry 0.02 BTC.
    position.apply_fill(&perp, &fill(OrderSide::Buy, 500_000, 10, "0"));
    assert_eq!(position.entry_value.to_string(), "0.02");
    assert!((position.avg_price_f64(&perp).unwrap() - 50_000.0).abs() < 1e-6);
    // Mark 55000.0: exit value 1000 / 55000 = 0.018181818181818182 (rounded), unrealized 0.001818181818181818.
    assert_eq!(position.unrealized_pnl(&perp, Price(550_000), 1).to_string(), "0.001818181818181818");
    // Closed @ 55000.0: realizes 0.02 - 0.018181818181818182 = 0.001818181818181818 BTC
    // (exact value 0.0018181818...; the exit value is rounded half away from zero at 10^-18).
    let realized = position.apply_fill(&perp, &fill(OrderSide::Sell, 550_000, 10, "0"));
    assert_eq!(realized.to_string(), "0.001818181818181818");
    assert!(position.is_flat());
    assert_eq!(position.turnover.to_string(), "0.038181818181818182");
}

#[test]
fn inverse_short_realizes_exit_minus_entry_in_base_currency() {
    let perp = btcusd_perp();
    let mut position = Position::new(InstrumentIndex(0));
    // Short 4 @ 40000.0 (0.01 BTC), buy back 2 @ 50000.0 (0.004 BTC for 2 contracts):
    // closed entry 0.005, realized = exit - entry = 0.004 - 0.005 = -0.001 BTC.
    position.apply_fill(&perp, &fill(OrderSide::Sell, 400_000, 4, "0.000005"));
    assert_eq!(position.entry_value.to_string(), "-0.01");
    let realized = position.apply_fill(&perp, &fill(OrderSide::Buy, 500_000, 2, "0"));
    assert_eq!(realized.to_string(), "-0.001");
    assert_eq!(position.quantity, Quantity(-2));
    assert_eq!(position.entry_value.to_string(), "-0.005");
    // Remaining short 2 marked at 32000.0: 200 / 32000 = 0.00625, unrealized = 0.00625 - 0.005.
    assert_eq!(position.unrealized_pnl(&perp, Price(320_000), 1).to_string(), "0.00125");
    assert_eq!(position.fees.to_string(), "0.000005");
}

#[test]
fn funding_and_empty_fills() {
    let btc = btcusdt();
    let mut position = Position::new(InstrumentIndex(3));
    position.apply_funding(money("-0.25"));
    position.apply_funding(money("0.05"));
    assert_eq!(position.funding.to_string(), "-0.2");
    assert_eq!(position.apply_fill(&btc, &fill(OrderSide::Buy, 618_002, 0, "0.01")), Money::ZERO);
    assert_eq!((position.quantity, position.fill_count, position.fees), (Quantity(0), 1, money("0.01")));
    assert_eq!(position.unrealized_pnl(&btc, Price(1), 1), Money::ZERO);
}
