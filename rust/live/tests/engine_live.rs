//! Live mode end to end against the local venue: real signed REST order entry and the user-data stream of
//! Binance USD-M, the venue replaying a real capture and matching our orders; positions must agree with
//! the venue's own state, and an API key file readable by others is refused before anything is sent.

mod engine_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use engine_support::{
    BINANCE_USDM_BTCUSDT, LiveMarket, StopWhenQuiet, VenueThread, assert_lifecycle, data, live_config, market_makers,
    run_lifecycle, standard_fees, venue_cash_flow,
};
use ferrotrade_live::{LiveError, run};
use ferrotrade_localvenue::{ApiAccount, LocalVenueConfig, Speed};
use ferrotrade_model::{Decimal, Venue};
use ferrotrade_venues::auth::Secret;

const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

fn venue() -> VenueThread {
    venue_at(Speed::Max)
}

fn venue_at(speed: Speed) -> VenueThread {
    VenueThread::start_with(venue_config(speed), Venue::BinanceUsdm)
}

/// The USD-M capture replayed at `speed` to one account of 100 000 USDT, charging VIP 0 fees.
fn venue_config(speed: Speed) -> LocalVenueConfig {
    LocalVenueConfig {
        replay: vec![data("sessions/binance-usdm/btcusdt_20240808.gz")],
        accounts: vec![ApiAccount { api_key: KEY.into(), secret: Secret::new(SECRET), ed25519_public_pem: None }],
        balances: vec![("USDT".into(), Decimal::parse_str("100000").expect("decimal"))],
        start_paused: true,
        sim: standard_fees(),
        speed,
        ..LocalVenueConfig::default()
    }
}

fn key_file(dir: &Path, mode: u32) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).expect("dir");
    let path = dir.join("keys.toml");
    std::fs::write(&path, format!("api_key = \"{KEY}\"\napi_secret = \"{SECRET}\"\n")).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

#[test]
fn live_binance_usdm_orders_fill_at_the_local_venue_and_positions_agree() {
    let dir = std::env::temp_dir().join(format!("ft-engine-live-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let keys = key_file(&dir.join("keys"), 0o600);
    // Paced, not as fast as the venue can send: at full speed a loaded machine lets the replay run ahead of
    // the engine, and its post-only quotes may never rest long enough to fill.
    let venue = venue_at(Speed::Realtime(100.0));
    let config = live_config(&venue, &dir.join("run"), &keys, "");
    let strategies = market_makers(&config);
    let mut hooks = StopWhenQuiet::after_replay(&venue);
    let report = run(config, strategies, &mut hooks).expect("run succeeds");
    let state = venue.finish();
    let open_at_venue = state.orders.iter().filter(|order| matches!(order.status, "NEW" | "PARTIALLY_FILLED")).count();
    assert_eq!(open_at_venue, 0, "cancel on stop left nothing working at the venue: {:?}", state.orders);
    assert!(report.orders > 0 && report.fills > 0, "{report:#?}");
    assert_eq!(report.open_orders, 0, "{report:#?}");
    let venue_size: Decimal = state
        .positions
        .iter()
        .find(|position| position.symbol == "BTCUSDT")
        .map_or(Decimal::ZERO, |position| position.size);
    assert_eq!(Decimal::from_fixed(report.positions[0].quantity, 3), venue_size, "{report:#?}");
    assert_eq!(report.duplicate_fills, 0, "REST answers and stream updates of one fill count once");
    // The balance moved by what the engine booked: realized PnL less fees, to the last digit.
    assert!(report.fees > 0.0, "the venue charged fees: {report:#?}");
    assert_eq!(report.cash_flow, venue_cash_flow(&state, "USDT", "100000"), "{report:#?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_key_file_readable_by_others_stops_the_run_before_anything_is_sent() {
    let dir = std::env::temp_dir().join(format!("ft-engine-keyperm-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let keys = key_file(&dir.join("keys"), 0o644);
    let venue = venue();
    let config = live_config(&venue, &dir.join("run"), &keys, "");
    let strategies = market_makers(&config);
    let mut hooks = StopWhenQuiet { stop: true, ..StopWhenQuiet::after_replay(&venue) };
    let error = run(config, strategies, &mut hooks).expect_err("refused");
    assert!(matches!(error, LiveError::Credentials { .. }), "{error}");
    assert!(error.to_string().contains("mode 644"), "{error}");
    assert!(!error.to_string().contains(SECRET));
    let state = venue.finish();
    assert!(state.orders.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_order_life_on_binance_usdm_agrees_with_the_venue() {
    // Limits wide enough for a market order larger than the best ask (several BTC on this capture).
    let market = LiveMarket { risk_max_position: "1000", ..BINANCE_USDM_BTCUSDT };
    let run = run_lifecycle(venue_at(Speed::Realtime(1.0)), &market, (2, true, true), KEY, SECRET);
    assert_lifecycle(&run, 3);
}

/// `[live] busy_poll` against a busy-polling venue: the run trades and ends as a sleeping engine's does,
/// the order path's warm-up (a signed and encoded order at one tick, about once a millisecond) never
/// reaches the venue, and every order written at once has its write system call timed.
#[test]
fn a_busy_polling_engine_trades_and_its_warm_up_never_reaches_the_venue() {
    let dir = std::env::temp_dir().join(format!("ft-engine-busy-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let keys = key_file(&dir.join("keys"), 0o600);
    let venue = VenueThread::start_with(
        LocalVenueConfig { busy_poll: true, ..venue_config(Speed::Realtime(100.0)) },
        Venue::BinanceUsdm,
    );
    let mut config = live_config(&venue, &dir.join("run"), &keys, "");
    config.live.busy_poll = true;
    let strategies = market_makers(&config);
    let mut hooks = StopWhenQuiet::after_replay(&venue);
    let report = run(config, strategies, &mut hooks).expect("run succeeds");
    let state = venue.finish();
    assert!(report.orders > 0 && report.fills > 0, "{report:#?}");
    assert_eq!(report.open_orders, 0, "{report:#?}");
    let one_tick = Decimal::parse_str("0.1").expect("decimal");
    assert!(state.orders.iter().all(|order| order.price != one_tick), "a warm-up order reached the venue");
    assert!(state.orders.len() as u64 <= report.orders, "{} venue orders, {report:#?}", state.orders.len());
    let venue_size: Decimal = state
        .positions
        .iter()
        .find(|position| position.symbol == "BTCUSDT")
        .map_or(Decimal::ZERO, |position| position.size);
    assert_eq!(Decimal::from_fixed(report.positions[0].quantity, 3), venue_size, "{report:#?}");
    let stage = |name: &str| report.latency.iter().find(|stage| stage.stage == name).expect("stage").clone();
    let (wire, write) = (stage("risk_to_wire"), stage("write_call"));
    assert!(wire.count > 0 && write.count == wire.count, "every order written at once is timed: {wire:?} {write:?}");
    assert!(write.p50_ns <= wire.p50_ns, "the write is part of risk_to_wire: {wire:?} {write:?}");
    let (whole, own) = (stage("frame_to_wire"), stage("frame_to_write"));
    assert!(own.count == whole.count && own.p50_ns <= whole.p50_ns, "{whole:?} {own:?}");
    // One first order per frame that triggered any (a second quote on the same frame is timed only whole).
    let first = stage("first_to_wire");
    assert!(first.count > 0 && first.count <= whole.count, "{whole:?} {first:?}");
    std::fs::remove_dir_all(&dir).ok();
}
