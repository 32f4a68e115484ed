//! Live mode end to end against the local venue on Bybit linear: signed v5 REST order entry and the
//! private WebSocket (`order`, `execution`), the venue replaying a real XRPUSDT capture and matching our
//! orders. Positions must agree with the venue's own state, fills must count once although Bybit reports
//! each on two topics (the order state first, the execution after), a private stream cut mid-run must
//! be caught up, and lost pushes must be recovered from the execution list.

mod engine_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use engine_support::{
    LiveMarket, StopWhenQuiet, VenueThread, assert_lifecycle, data, live_config_for, market_makers, run_lifecycle,
    standard_fees, venue_cash_flow,
};
use ferrotrade_live::{LiveReport, run};
use ferrotrade_localvenue::{ApiAccount, FaultConfig, LocalVenueConfig, RateLimits, Speed, VenueState};
use ferrotrade_model::{Decimal, Venue};
use ferrotrade_venues::auth::Secret;

const KEY: &str = "XK4AjwWqGaNnY6LkB2";
const SECRET: &str = "zT9pQmR3vLxC8sWd2fHj6KbN4yGe1aUo7iPZ";

/// XRPUSDT as the capture and the local venue's instruments-info give it (tick 0.0001, lot 1). Quoting
/// at the touch (no half spread) with a small size: the 4.8 s capture moves the book through the
/// quotes a few times.
const XRPUSDT: LiveMarket<'static> = LiveMarket {
    venue: "bybit-linear",
    symbol: "XRPUSDT",
    tick_size: "0.0001",
    lot_size: "1",
    risk_max_position: "2000",
    order_size: "100",
    half_spread_bps: "0",
    max_position: "1000",
    // The capture holds `orderbook.500` deltas; the local venue sends other depths a snapshot only.
    venue_extra: "book_depth = 500",
};

fn venue(faults: FaultConfig) -> VenueThread {
    venue_with(faults, RateLimits::default())
}

fn venue_with(faults: FaultConfig, limits: RateLimits) -> VenueThread {
    let config = LocalVenueConfig {
        replay: vec![data("bybit/2024-12-01_XRPUSDT_ob500.data")],
        // Recorded spacing: the engine quotes while the book moves, as it would live.
        speed: Speed::Realtime(1.0),
        accounts: vec![ApiAccount { api_key: KEY.into(), secret: Secret::new(SECRET), ed25519_public_pem: None }],
        balances: vec![("USDT".into(), Decimal::parse_str("100000").expect("decimal"))],
        faults,
        limits,
        start_paused: true,
        sim: standard_fees(),
        ..LocalVenueConfig::default()
    };
    VenueThread::start_with(config, Venue::BybitLinear)
}

fn key_file(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).expect("dir");
    let path = dir.join("keys.toml");
    std::fs::write(&path, format!("api_key = \"{KEY}\"\napi_secret = \"{SECRET}\"\n")).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

/// Runs the market maker in live mode against `venue` until the replay is over and the engine quiet.
fn trade(venue: VenueThread, name: &str) -> (LiveReport, VenueState) {
    let dir = std::env::temp_dir().join(format!("ft-engine-live-bybit-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let keys = key_file(&dir.join("keys"));
    let config = live_config_for(&venue, &dir.join("run"), &keys, &XRPUSDT, "");
    let strategies = market_makers(&config);
    let mut hooks = StopWhenQuiet::after_replay(&venue);
    let report = run(config, strategies, &mut hooks).expect("run succeeds");
    let state = venue.finish();
    std::fs::remove_dir_all(&dir).ok();
    (report, state)
}

/// What every run must end with: nothing working at the venue, the engine's position equal to the
/// venue's, each fill counted once.
fn assert_consistent(report: &LiveReport, state: &VenueState) {
    let open_at_venue = state.orders.iter().filter(|order| matches!(order.status, "NEW" | "PARTIALLY_FILLED")).count();
    assert_eq!(open_at_venue, 0, "cancel on stop left nothing working at the venue: {:?}", state.orders);
    assert_eq!(report.open_orders, 0, "{report:#?}");
    let venue_size: Decimal = state
        .positions
        .iter()
        .find(|position| position.symbol == "XRPUSDT")
        .map_or(Decimal::ZERO, |position| position.size);
    assert_eq!(Decimal::from_fixed(report.positions[0].quantity, 0), venue_size, "{report:#?}");
    assert_eq!(report.duplicate_fills, 0, "order states and executions of one fill count once");
    assert_eq!(report.cash_flow, venue_cash_flow(state, "USDT", "100000"), "the wallet moved by what was booked");
    // Whatever a gap cost, the execution list booked it: no fill at an average price.
    assert!(!report.notices.iter().any(|notice| notice.contains("average price")), "{:?}", report.notices);
}

#[test]
fn live_bybit_linear_orders_fill_at_the_local_venue_and_positions_agree() {
    let (report, state) = trade(venue(FaultConfig::default()), "plain");
    assert!(report.orders > 0 && report.fills > 0, "{report:#?}");
    let ours = state.orders.iter().filter(|order| order.client_order_id.starts_with("ft-")).count();
    assert!(ours > 0, "the orders reached the venue with our link ids: {:?}", state.orders);
    // The venue pushes each fill's order state before its execution: the fills still come from the
    // executions as they arrive, none from a trade list or the average price.
    assert!(!report.notices.iter().any(|notice| notice.contains("booked")), "{report:#?}");
    assert_consistent(&report, &state);
}

#[test]
fn a_private_stream_cut_mid_run_is_caught_up_and_positions_still_agree() {
    // Every connection (the private stream included) is closed after 700 ms: several cuts in the run.
    let faults = FaultConfig { disconnect_every: Some(Duration::from_millis(700)), ..FaultConfig::default() };
    let (report, state) = trade(venue(faults), "cut");
    assert!(state.counters.fault_disconnects > 0, "{:?}", state.counters);
    assert!(report.orders > 0 && report.fills > 0, "{report:#?}");
    assert!(report.notices.iter().any(|notice| notice.contains("catching up")), "{report:#?}");
    assert_consistent(&report, &state);
}

#[test]
fn rate_limits_and_lost_answers_are_waited_out_and_queried_never_resent() {
    // Two requests per second per key, and one REST answer in ten replaced by a 502 (the request was
    // not processed): the gateway paces and retries, queries what it cannot know, and still agrees.
    let faults = FaultConfig { rest_5xx: 0.1, ..FaultConfig::default() };
    let limits = RateLimits { bybit_requests_per_second: 2, ..RateLimits::default() };
    let (report, state) = trade(venue_with(faults, limits), "limits");
    assert!(state.counters.rest_5xx > 0, "{:?}", state.counters);
    assert!(report.notices.iter().any(|notice| notice.contains("rate limit")), "{report:#?}");
    assert!(report.orders > 0, "{report:#?}");
    let link_ids: std::collections::BTreeSet<&str> =
        state.orders.iter().map(|order| order.client_order_id.as_str()).collect();
    assert_eq!(link_ids.len(), state.orders.len(), "no order was sent twice: {:?}", state.orders);
    assert_consistent(&report, &state);
}

#[test]
fn lost_private_pushes_are_booked_from_the_execution_list() {
    // Four pushes in ten never arrive: an order's end without its execution is settled by a query and
    // the execution list, never by a fill at the average price.
    let faults = FaultConfig { user_drop: 0.4, ..FaultConfig::default() };
    let (report, state) = trade(venue(faults), "userdrop");
    assert!(state.counters.user_dropped > 0, "{:?}", state.counters);
    assert!(report.orders > 0 && report.fills > 0, "{report:#?}");
    let booked = report.notices.iter().filter(|notice| notice.contains("booked from the trade list")).count();
    assert!(booked > 0, "lost executions were recovered from the execution list: {:?}", report.notices);
    assert_consistent(&report, &state);
}

#[test]
fn every_order_life_on_bybit_linear_agrees_with_the_venue() {
    let market = LiveMarket { risk_max_position: "10000000", ..XRPUSDT };
    let run = run_lifecycle(venue(FaultConfig::default()), &market, (3, true, true), KEY, SECRET);
    assert_lifecycle(&run, 0);
}
