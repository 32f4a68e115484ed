//! The `[risk]` table as written in a backtest/live TOML file: parsing, unknown keys, wrong types and
//! impossible limits, each error naming the key.
#![allow(clippy::unwrap_used)]

use ferrotrade_model::{Instrument, InstrumentId, Venue};
use ferrotrade_risk::{OnBreach, RiskConfig, RiskConfigError, RiskEngine};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct RunFile {
    risk: RiskConfig,
}

fn parse(text: &str) -> Result<RiskConfig, String> {
    toml::from_str::<RunFile>(text).map(|file| file.risk).map_err(|error| error.to_string())
}

fn instruments() -> Vec<Instrument> {
    vec![
        Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3),
        Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "ETHUSDT"), 2, 3),
    ]
}

/// The key an invalid `[risk]` body is refused for, by `validate` or else by `RiskEngine::new`.
fn refused_key(body: &str) -> String {
    let config = parse(&format!("[risk]\n{body}")).unwrap();
    let error = match config.validate() {
        Err(error) => error,
        Ok(()) => RiskEngine::new(&config, &instruments()).unwrap_err(),
    };
    assert!(error.to_string().starts_with(error.key()), "{error}");
    error.key().to_owned()
}

const FULL: &str = r#"
[risk]
max_order_quantity = 0.5
max_order_notional = 50000
max_position = "2"
max_total_notional = 250000
max_concentration = 0.6
concentration_floor = 20000
price_band_bps = 12.5
orders_per_second = 10
burst = 20
max_drawdown = 0.1
max_daily_loss = 5000
on_breach = "reducing"

[risk.instruments."binance-usdm.BTCUSDT"]
max_position = 1
price_band_bps = 25
"#;

#[test]
fn full_table_parses_exactly() {
    let config = parse(FULL).unwrap();
    assert_eq!(config.max_order_quantity.map(|d| (d.mantissa, d.scale)), Some((5, 1)));
    assert_eq!(config.max_position.map(|d| (d.mantissa, d.scale)), Some((2, 0)));
    assert_eq!(config.price_band_bps.map(|d| (d.mantissa, d.scale)), Some((125, 1)));
    assert_eq!(config.burst, Some(20));
    assert_eq!(config.on_breach, OnBreach::Reducing);
    let btc = &config.instruments["binance-usdm.BTCUSDT"];
    assert_eq!(btc.max_position.map(|d| d.to_string()), Some("1".into()));
    assert_eq!(btc.max_order_quantity, None);
    assert_eq!(config.validate(), Ok(()));
    assert!(RiskEngine::new(&config, &instruments()).is_ok());
    // An empty table is valid: no limits, halted on breach.
    let empty = parse("[risk]\n").unwrap();
    assert_eq!(empty, RiskConfig::default());
    assert_eq!(empty.on_breach, OnBreach::Halted);
}

#[test]
fn unknown_keys_are_named() {
    let error = parse("[risk]\nmax_order_qty = 1\n").unwrap_err();
    assert!(error.contains("max_order_qty"), "{error}");
    let error = parse("[risk.instruments.\"binance-usdm.BTCUSDT\"]\nmax_drawdown = 0.1\n").unwrap_err();
    assert!(error.contains("max_drawdown"), "{error}");
}

#[test]
fn wrong_types_are_refused() {
    for (body, needle) in [
        ("max_position = true", "max_position"),
        ("max_position = \"two\"", "invalid decimal"),
        ("burst = 2.5", "burst"),
        ("burst = -1", "burst"),
        ("on_breach = \"paused\"", "paused"),
        ("instruments = 3", "instruments"),
    ] {
        let error = parse(&format!("[risk]\n{body}\n")).unwrap_err();
        assert!(error.contains(needle), "{body}: {error}");
    }
}

#[test]
fn impossible_limits_name_their_key() {
    for (body, key) in [
        ("max_order_quantity = 0", "risk.max_order_quantity"),
        ("max_order_notional = -50000", "risk.max_order_notional"),
        ("max_position = 0", "risk.max_position"),
        ("max_total_notional = 0", "risk.max_total_notional"),
        ("max_daily_loss = -1", "risk.max_daily_loss"),
        ("price_band_bps = 0", "risk.price_band_bps"),
        ("price_band_bps = -5", "risk.price_band_bps"),
        ("price_band_bps = 0.00001", "risk.price_band_bps"),
        ("max_concentration = 0\nmax_total_notional = 1", "risk.max_concentration"),
        ("max_concentration = 1.5\nmax_total_notional = 1", "risk.max_concentration"),
        ("max_concentration = 0.5", "risk.max_concentration"),
        ("concentration_floor = 100", "risk.concentration_floor"),
        ("orders_per_second = 0", "risk.orders_per_second"),
        ("orders_per_second = 5\nburst = 0", "risk.burst"),
        ("burst = 5", "risk.burst"),
        ("max_drawdown = 0", "risk.max_drawdown"),
        ("max_drawdown = 1", "risk.max_drawdown"),
        ("max_drawdown = 1.5", "risk.max_drawdown"),
        // Below BTCUSDT's 0.001 step: no order could pass.
        ("max_order_quantity = 0.0009", "risk.max_order_quantity"),
        (
            "[risk.instruments.\"binance-usdm.BTCUSDT\"]\nmax_position = 0",
            "risk.instruments.\"binance-usdm.BTCUSDT\".max_position",
        ),
        (
            "[risk.instruments.\"binance-usdm.BTCUSDT\"]\nprice_band_bps = -1",
            "risk.instruments.\"binance-usdm.BTCUSDT\".price_band_bps",
        ),
        (
            "[risk.instruments.\"binance-usdm.ETHUSDT\"]\nmax_order_quantity = 0.0001",
            "risk.instruments.\"binance-usdm.ETHUSDT\".max_order_quantity",
        ),
        ("[risk.instruments.\"BTCUSDT\"]\nmax_position = 1", "risk.instruments.\"BTCUSDT\""),
    ] {
        assert_eq!(refused_key(body), key, "{body}");
    }
}

#[test]
fn override_of_an_instrument_not_traded_is_an_error() {
    let config = parse("[risk.instruments.\"bybit-linear.SOLUSDT\"]\nmax_position = 10\n").unwrap();
    assert_eq!(config.validate(), Ok(()));
    let error = RiskEngine::new(&config, &instruments()).unwrap_err();
    assert_eq!(error, RiskConfigError::UnknownInstrument { key: "risk.instruments.\"bybit-linear.SOLUSDT\"".into() });
    assert_eq!(error.to_string(), "risk.instruments.\"bybit-linear.SOLUSDT\": no such instrument in this run");
}

#[test]
fn two_overrides_of_one_instrument_are_an_error() {
    let config = parse(
        "[risk.instruments.\"binance-usdm.BTCUSDT\"]\nmax_position = 1\n[risk.instruments.\"binance-usdm.btcusdt\"]\nmax_position = 2\n",
    )
    .unwrap();
    let error = RiskEngine::new(&config, &instruments()).unwrap_err();
    assert_eq!(error.key(), "risk.instruments.\"binance-usdm.btcusdt\"", "{error}");
}
