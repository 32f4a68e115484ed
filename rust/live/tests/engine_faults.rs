//! Live mode against a faulty local venue (Binance USD-M, replaying a real capture): REST 5xx answers
//! (an order whose fate is unknown is queried, never resent), a short listenKey lifetime (the gateway
//! re-creates the key, reconnects and catches up), lost user-data pushes (recovered from order states and
//! trade lists), and a lossy market-data stream with disconnects.
//! In every case no order reaches the venue twice, no fill counts twice, and the engine's final view of
//! its orders agrees with the venue's.

mod engine_support;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use engine_support::{
    StopWhenQuiet, TradeTape, VenueThread, at_8_decimals, data, live_config, market_makers, offline_market,
};
use ferrotrade_live::{LiveReport, REPORT_BOOK_DEPTH, run};
use ferrotrade_localvenue::{ApiAccount, FaultConfig, LocalVenueConfig, SessionLimits, Speed, VenueState};
use ferrotrade_model::{Decimal, Venue};
use ferrotrade_venues::auth::Secret;

const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

fn venue(faults: FaultConfig, sessions: SessionLimits, seed: u64, speed: Speed) -> VenueThread {
    let config = LocalVenueConfig {
        replay: vec![data("sessions/binance-usdm/btcusdt_20240808.gz")],
        accounts: vec![ApiAccount { api_key: KEY.into(), secret: Secret::new(SECRET), ed25519_public_pem: None }],
        balances: vec![("USDT".into(), Decimal::parse_str("100000").expect("decimal"))],
        start_paused: true,
        faults,
        sessions,
        seed,
        speed,
        ..LocalVenueConfig::default()
    };
    VenueThread::start_with(config, Venue::BinanceUsdm)
}

fn scratch(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("ft-engine-faults-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(dir.join("keys")).expect("dir");
    let keys = dir.join("keys/keys.toml");
    std::fs::write(&keys, format!("api_key = \"{KEY}\"\napi_secret = \"{SECRET}\"\n")).expect("write");
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    (dir, keys)
}

/// Runs the engine to the end of the replay; returns its report, the venue's state and the journal text.
fn run_against(venue: VenueThread, name: &str) -> (LiveReport, VenueState, String) {
    let (report, state, journal, _) = run_taped(venue, name);
    (report, state, journal)
}

/// As [`run_against`], with a second strategy recording every trade id it is given, in order.
fn run_taped(venue: VenueThread, name: &str) -> (LiveReport, VenueState, String, Vec<u64>) {
    let (dir, keys) = scratch(name);
    let config =
        live_config(&venue, &dir.join("run"), &keys, "requote_threshold_ticks = 1\nmin_requote_interval_ms = 0\n");
    let tape = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut strategies = market_makers(&config);
    strategies.push(Box::new(TradeTape { instrument: "binance-usdm.BTCUSDT".into(), ids: std::rc::Rc::clone(&tape) }));
    let mut hooks = StopWhenQuiet::after_replay(&venue);
    let report = run(config, strategies, &mut hooks).expect("run succeeds");
    let state = venue.finish();
    let journal = std::fs::read_to_string(dir.join("run").join(ferrotrade_live::journal::JOURNAL_FILE))
        .or_else(|_| find_journal(&dir.join("run")))
        .expect("journal");
    std::fs::remove_dir_all(&dir).ok();
    let taped = tape.borrow().clone();
    (report, state, journal, taped)
}

/// The journal may sit in a per-run subdirectory.
fn find_journal(dir: &Path) -> std::io::Result<String> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if let Ok(text) = find_journal(&path) {
                return Ok(text);
            }
        } else if path.file_name().is_some_and(|name| name == ferrotrade_live::journal::JOURNAL_FILE) {
            return std::fs::read_to_string(path);
        }
    }
    Err(std::io::Error::other("no journal"))
}

/// Trade ids of the journal's fills, in order (one per fill record).
fn journal_trade_ids(journal: &str) -> Vec<u64> {
    journal
        .lines()
        .filter_map(|line| line.split_once("\"trade_id\":").map(|(_, rest)| rest))
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("trade id"))
        .collect()
}

/// Per client id, from the journal: the last order event's kind (`k`) and the filled quantity mantissa.
fn journal_orders(journal: &str) -> BTreeMap<u64, (String, i64)> {
    let mut orders: BTreeMap<u64, (String, i64)> = BTreeMap::new();
    for line in journal.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("journal line is JSON");
        let (Some(id), Some(kind)) = (record["id"].as_u64(), record["kind"]["k"].as_str()) else { continue };
        let entry = orders.entry(id).or_default();
        if kind == "filled" {
            entry.1 += record["kind"]["qty"].as_i64().expect("qty");
        }
        entry.0 = kind.to_owned();
    }
    orders
}

/// Every order's final state agrees: the venue's status and filled quantity against the journal's last
/// event and fills; an order the venue never saw ended rejected or denied in the engine.
fn assert_states_agree(state: &VenueState, journal: &str) {
    let engine = journal_orders(journal);
    let mut seen = BTreeSet::new();
    for order in &state.orders {
        let id: u64 = order.client_order_id.strip_prefix("ft-").expect("ft- id").parse().expect("numeric id");
        seen.insert(id);
        let (last, filled) =
            engine.get(&id).cloned().unwrap_or_else(|| panic!("venue order {id} unknown to the engine"));
        assert_eq!(Decimal::from_fixed(filled, 3), order.filled, "filled quantity of {id}: {order:?}");
        let agrees = match order.status {
            "FILLED" => last == "filled",
            "CANCELED" => last == "canceled",
            "EXPIRED" => last == "expired",
            _ => false,
        };
        assert!(agrees, "order {id}: venue {} vs engine {last}", order.status);
    }
    for (id, (last, _)) in &engine {
        if !seen.contains(id) {
            assert!(
                matches!(last.as_str(), "rejected" | "denied"),
                "order {id} never reached the venue but ended {last}"
            );
        }
    }
}

/// The invariants every faulty run keeps.
fn assert_exactly_once(report: &LiveReport, state: &VenueState, journal: &str) {
    let ids: Vec<&str> = state.orders.iter().map(|order| order.client_order_id.as_str()).collect();
    let distinct: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), distinct.len(), "an order reached the venue twice: {ids:?}");
    let trades = journal_trade_ids(journal);
    assert!(
        trades.iter().all(|id| id & SYNTHETIC_TRADE_BIT == 0),
        "every fill is the venue's own trade, none inferred at an average price: {trades:?}"
    );
    let distinct_trades: BTreeSet<u64> = trades.iter().copied().collect();
    assert_eq!(trades.len(), distinct_trades.len(), "a fill was journaled twice: {trades:?}");
    assert_eq!(report.fills as usize, trades.len(), "{report:#?}");
    let open_at_venue = state.orders.iter().filter(|order| matches!(order.status, "NEW" | "PARTIALLY_FILLED")).count();
    assert_eq!(
        open_at_venue, 0,
        "cancel on stop left orders working: {:?}\nnotices: {:?}",
        state.orders, report.notices
    );
    assert_eq!(report.open_orders, 0, "{report:#?}");
    let venue_size = state
        .positions
        .iter()
        .find(|position| position.symbol == "BTCUSDT")
        .map_or(Decimal::ZERO, |position| position.size);
    assert_eq!(Decimal::from_fixed(report.positions[0].quantity, 3), venue_size, "{report:#?}");
    assert_states_agree(state, journal);
}

#[test]
fn rest_5xx_answers_never_duplicate_an_order_and_states_agree() {
    let faults = FaultConfig { rest_5xx: 0.2, ..FaultConfig::default() };
    let (report, state, journal) =
        run_against(venue(faults, SessionLimits::default(), 7, Speed::Realtime(30.0)), "5xx");
    assert!(state.counters.rest_5xx > 0, "the fault fired: {:?}", state.counters);
    assert!(report.orders > 0 && report.fills > 0, "{report:#?}");
    eprintln!(
        "orders {} cancels {} amends {} denied {} 5xx {} {:?}",
        report.orders, report.cancels, report.amends, report.denied, state.counters.rest_5xx, report.denials
    );
    let unknown = report.notices.iter().filter(|notice| notice.contains("querying its state")).count();
    assert!(unknown > 0, "some new order's answer was a 5xx: {:?}", report.notices);
    eprintln!("orders {} fills {} unknown-fate orders {unknown}", report.orders, report.fills);
    assert_exactly_once(&report, &state, &journal);
}

#[test]
fn an_expiring_listen_key_is_recreated_and_orders_are_caught_up() {
    // The replay paced at 100 times the recorded six minutes (3.6 s): the key expires several times.
    let sessions = SessionLimits { listen_key_ttl: Duration::from_millis(500), ..SessionLimits::default() };
    let (report, state, journal) =
        run_against(venue(FaultConfig::default(), sessions, 11, Speed::Realtime(100.0)), "listenkey");
    assert!(report.orders > 0 && report.fills > 0, "{report:#?}");
    let reconnected = report.notices.iter().filter(|notice| notice.contains("user stream reconnected")).count();
    assert!(reconnected > 0, "the listen key expired and was re-created: {:?}", report.notices);
    assert_exactly_once(&report, &state, &journal);
}

/// Set in the trade id of a fill the gateway could only infer at the average price.
const SYNTHETIC_TRADE_BIT: u64 = 1 << 62;

#[test]
fn lost_user_data_pushes_are_booked_from_trade_lists_as_the_venue_executed_them() {
    // Three pushes in ten never arrive: fills, cancels and acks the engine learns of only by asking.
    let faults = FaultConfig { user_drop: 0.3, ..FaultConfig::default() };
    let (report, state, journal) =
        run_against(venue(faults, SessionLimits::default(), 5, Speed::Realtime(30.0)), "userdrop");
    assert!(state.counters.user_dropped > 0, "the fault fired: {:?}", state.counters);
    assert!(report.orders > 0 && report.fills > 0, "{report:#?}");
    assert_exactly_once(&report, &state, &journal);
    let booked = report.notices.iter().filter(|notice| notice.contains("booked from the trade list")).count();
    assert!(booked > 0, "lost fill reports were recovered from the trade list: {:?}", report.notices);
    assert!(!report.notices.iter().any(|notice| notice.contains("average price")), "{:?}", report.notices);
    let trades = journal_trade_ids(&journal);
    assert!(trades.iter().all(|id| id & SYNTHETIC_TRADE_BIT == 0), "every fill is the venue's own trade: {trades:?}");
    assert_exactly_once(&report, &state, &journal);
}

#[test]
fn lossy_market_data_resyncs_and_orders_stay_exactly_once() {
    let faults = FaultConfig {
        drop: 0.01,
        duplicate: 0.02,
        reorder: 0.02,
        disconnect_every: Some(Duration::from_millis(250)),
        ..FaultConfig::default()
    };
    let (report, state, journal, taped) = run_taped(venue(faults, SessionLimits::default(), 3, Speed::Max), "lossy");
    assert!(state.counters.dropped + state.counters.duplicated + state.counters.reordered > 0, "{:?}", state.counters);
    assert!(state.counters.fault_disconnects > 0, "{:?}", state.counters);
    assert!(report.resyncs > 0 && report.reconnects > 0, "{report:#?}");
    assert_exactly_once(&report, &state, &journal);
    // The book the engine ends with is the venue's at the same update id: the offline rebuild of the
    // recording up to it, level for level (it may be unsynced at the very end, when the last fault
    // disconnect came after the last recorded diff: its content is still the book at that id).
    let market = &report.markets[0];
    assert!(market.update_id > 0, "{market:?}");
    let capture = data("sessions/binance-usdm/btcusdt_20240808.gz");
    let ([bids, asks], trades) = offline_market(&capture, market.update_id, REPORT_BOOK_DEPTH);
    let (price, size) = (market.price_precision, market.size_precision);
    assert_eq!(at_8_decimals(&market.bids, price, size), bids, "bids at update {}", market.update_id);
    assert_eq!(at_8_decimals(&market.asks, price, size), asks, "asks at update {}", market.update_id);
    // Every recorded trade up to the last one the engine saw reached the strategies, once: what the faults
    // took from the stream came back from the venue's trade lists. (The replay runs on while the engine
    // reconnects, so its tail can end before a later trade reveals the last gap: nothing after the last
    // trade seen can be known, on a real venue as here.)
    assert!(report.trade_gaps > 0 && report.trades_backfilled > 0, "{report:#?}");
    assert_eq!(report.trades_lost, 0, "{report:#?}");
    let mut sorted = taped.clone();
    sorted.sort_unstable();
    let last = sorted.last().copied().expect("trades were delivered");
    let seen = trades.iter().position(|id| *id == last).expect("a recorded trade") + 1;
    assert!(sorted == trades[..seen], "each recorded trade once ({} taped, {seen} recorded up to {last})", taped.len());
    assert_eq!((market.trades as usize, market.last_trade_id), (taped.len(), taped.last().copied()), "{report:#?}");
    let out_of_order = taped.windows(2).filter(|pair| pair[1] < pair[0]).count();
    assert!(out_of_order <= 1, "trades reach the strategy in id order (only a swapped first pair cannot be)");
}
