//! Live mode end to end against the local venue on Binance spot: signed REST order entry and the
//! `executionReport` user stream, the venue replaying a real BTCUSDT spot capture and matching our orders.
//! Spot has no position at the venue, only balances: the base balance must have moved by exactly the
//! engine's position, the quote balance by exactly the notional and fees of the engine's journaled fills.

mod engine_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use engine_support::{
    LiveMarket, StopWhenQuiet, VenueThread, assert_lifecycle, data, live_config_for, market_makers, run_lifecycle,
    standard_fees,
};
use ferrotrade_live::run;
use ferrotrade_localvenue::{ApiAccount, LocalVenueConfig, Speed};
use ferrotrade_model::{Decimal, Instrument, InstrumentId, Money, Price, Quantity, Venue};
use ferrotrade_venues::auth::Secret;

const KEY: &str = "spotTestKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
const SECRET: &str = "spotTestSecret0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM";
/// Replay pace of the balance test (times the recorded pace).
const SPEED: f64 = 100.0;

/// BTCUSDT spot as the capture quotes it (0.01 tick, 0.00001 lot), quoting 0.0002 BTC (about 12 USDT).
const BTCUSDT: LiveMarket<'static> = LiveMarket {
    venue: "binance-spot",
    symbol: "BTCUSDT",
    tick_size: "0.01",
    lot_size: "0.00001",
    risk_max_position: "0.01",
    order_size: "0.0002",
    half_spread_bps: "0.5",
    max_position: "0.001",
    venue_extra: "",
};

fn key_file(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("dir");
    let path = dir.join("keys.toml");
    std::fs::write(&path, format!("api_key = \"{KEY}\"\napi_secret = \"{SECRET}\"\n")).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

#[test]
fn live_binance_spot_orders_fill_and_balances_move_by_the_engine_s_fills() {
    let venue = VenueThread::start_with(
        LocalVenueConfig {
            replay: vec![data("sessions/binance-spot/btcusdt_20240808.gz")],
            accounts: vec![ApiAccount { api_key: KEY.into(), secret: Secret::new(SECRET), ed25519_public_pem: None }],
            balances: vec![
                ("USDT".into(), Decimal::parse_str("100000").expect("decimal")),
                ("BTC".into(), Decimal::parse_str("1").expect("decimal")),
            ],
            start_paused: true,
            sim: standard_fees(),
            // Paced, not as fast as the venue can send: at full speed a loaded machine lets the replay run
            // ahead of the engine, and its post-only quotes may never rest long enough to fill.
            speed: Speed::Realtime(SPEED),
            ..LocalVenueConfig::default()
        },
        Venue::BinanceSpot,
    );
    let dir = std::env::temp_dir().join(format!("ft-engine-live-spot-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let keys = key_file(&dir.join("keys"));
    let config = live_config_for(&venue, &dir.join("run"), &keys, &BTCUSDT, "");
    let strategies = market_makers(&config);
    let mut hooks = StopWhenQuiet::after_replay(&venue);
    let report = run(config, strategies, &mut hooks).expect("run succeeds");
    let state = venue.finish();
    let journal =
        std::fs::read_to_string(dir.join("run").join(ferrotrade_live::journal::JOURNAL_FILE)).expect("journal");
    std::fs::remove_dir_all(&dir).ok();

    assert!(report.orders > 0 && report.fills > 0, "{report:#?}");
    assert_eq!(report.duplicate_fills, 0);
    let open_at_venue = state.orders.iter().filter(|order| matches!(order.status, "NEW" | "PARTIALLY_FILLED")).count();
    assert_eq!((open_at_venue, report.open_orders), (0, 0), "{:?}", state.orders);
    let wallet = |asset: &str| state.balances.iter().find(|b| b.asset == asset).map_or(Money::ZERO, |b| b.wallet);
    // Base: exactly the engine's position.
    let position = Decimal::from_fixed(report.positions[0].quantity, 5);
    assert_eq!(
        wallet("BTC") - Money::from_decimal(Decimal::parse_str("1").expect("decimal")),
        Money::from_decimal(position)
    );
    // Quote: minus what was bought, plus what was sold, minus every fee, fill by fill from the journal.
    let spec = Instrument::with_precisions(InstrumentId::new(Venue::BinanceSpot, "BTCUSDT"), 2, 5);
    let mut cash = Money::ZERO;
    let mut fills = 0;
    for line in journal.trim_end_matches('\0').lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("journal line");
        let kind = &record["kind"];
        if kind["k"] != "filled" {
            continue;
        }
        fills += 1;
        let (price, quantity) =
            (Price(kind["price"].as_i64().expect("price")), Quantity(kind["qty"].as_i64().expect("qty")));
        let notional = ferrotrade_oms::contract_value(&spec, price, 2, quantity);
        cash += if kind["side"] == "buy" { Money::ZERO - notional } else { notional };
        // The journal holds the fee exactly, as the `Money` mantissa (10^-18 of the quote currency).
        cash -= Money(kind["fee"].as_str().expect("fee").parse().expect("fee mantissa"));
    }
    assert_eq!(fills, report.fills);
    assert!(report.fees > 0.0, "the venue charged fees: {report:#?}");
    assert_eq!(wallet("USDT") - Money::from_decimal(Decimal::parse_str("100000").expect("decimal")), cash);
}

#[test]
fn every_order_life_on_binance_spot_agrees_with_the_venue() {
    let venue = VenueThread::start_with(
        LocalVenueConfig {
            replay: vec![data("sessions/binance-spot/btcusdt_20240808.gz")],
            accounts: vec![ApiAccount { api_key: KEY.into(), secret: Secret::new(SECRET), ed25519_public_pem: None }],
            // Enough quote for a market order larger than the best ask.
            balances: vec![("USDT".into(), Decimal::parse_str("10000000").expect("decimal"))],
            start_paused: true,
            speed: Speed::Realtime(1.0),
            ..LocalVenueConfig::default()
        },
        Venue::BinanceSpot,
    );
    let market = LiveMarket { risk_max_position: "1000", ..BTCUSDT };
    // Spot amends only reduce the quantity in place (keepPriority).
    let run = run_lifecycle(venue, &market, (20, false, true), KEY, SECRET);
    assert_lifecycle(&run, 5);
}
